//! Copying one source file into a region of the image: the bytes must be
//! exactly the size measured when the tree was built, or the source
//! changed under us. All-zero chunks are not written, so the destination
//! must read as zeros there (a fresh, sparse image) and they stay holes.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// What went wrong copying a source.
#[derive(Debug)]
pub enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
    /// The source is no longer the size it had when it was measured.
    Changed,
}

const CHUNK: u64 = 1 << 20;

/// Copies `source`, which must hold exactly `expected` bytes, to byte `at`
/// of `dest`, reading at most 1 MiB at a time.
pub fn copy_source(source: &Path, expected: u64, dest: &File, at: u64) -> Result<(), CopyError> {
    let mut input = File::open(source).map_err(CopyError::Read)?;
    let mut buffer = vec![0u8; expected.clamp(1, CHUNK) as usize];
    let mut copied = 0u64;
    loop {
        let n = crate::read_full(&mut input, &mut buffer).map_err(CopyError::Read)?;
        if n == 0 {
            break;
        }
        if copied + n as u64 > expected {
            return Err(CopyError::Changed);
        }
        let chunk = &buffer[..n];
        if chunk.iter().any(|b| *b != 0) {
            dest.write_all_at(chunk, at + copied).map_err(CopyError::Write)?;
        }
        copied += n as u64;
    }
    if copied == expected {
        Ok(())
    } else {
        Err(CopyError::Changed)
    }
}
