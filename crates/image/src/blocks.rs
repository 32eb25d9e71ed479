//! Raw byte copies into and out of the image: `CopyBlocks=` sources copied
//! to a partition's offset, and partitions copied out to split files.
//! Chunks that are all zeros are skipped, so they stay holes in the sparse
//! outputs (a fresh file reads as zeros there anyway).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::ImageError;

const CHUNK: usize = 1 << 20;

/// Copies `expected` bytes of `source` to `offset` in `image`.
pub fn copy_blocks(
    image: &File,
    image_path: &Path,
    offset: u64,
    source: &Path,
    expected: u64,
    partition: &str,
) -> Result<(), ImageError> {
    let source_error =
        |e| ImageError::CopyBlocksSource { partition: partition.to_string(), path: source.to_path_buf(), source: e };
    let changed = || ImageError::CopyBlocksChanged { partition: partition.to_string(), path: source.to_path_buf() };
    let mut input = File::open(source).map_err(source_error)?;
    let mut buffer = vec![0u8; CHUNK];
    let mut copied = 0u64;
    loop {
        let n = nix_repart_tree::read_full(&mut input, &mut buffer).map_err(source_error)?;
        if n == 0 {
            break;
        }
        if copied + n as u64 > expected {
            return Err(changed());
        }
        write_unless_zero(image, &buffer[..n], offset + copied)
            .map_err(|e| ImageError::Write { path: image_path.to_path_buf(), source: e })?;
        copied += n as u64;
    }
    if copied != expected {
        return Err(changed());
    }
    Ok(())
}

/// Copies `len` bytes at `from_offset` of `from` to `to_offset` of `to`,
/// skipping zero chunks (the destination must read as zeros there).
pub fn copy_range(from: &File, from_offset: u64, len: u64, to: &File, to_offset: u64) -> std::io::Result<()> {
    let mut buffer = vec![0u8; CHUNK];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        from.read_exact_at(&mut buffer[..n], from_offset + done)?;
        write_unless_zero(to, &buffer[..n], to_offset + done)?;
        done += n as u64;
    }
    Ok(())
}

/// Writes `chunk` at `at` unless it is all zeros.
fn write_unless_zero(file: &File, chunk: &[u8], at: u64) -> std::io::Result<()> {
    if chunk.iter().any(|b| *b != 0) {
        file.write_all_at(chunk, at)?;
    }
    Ok(())
}
