//! `CopyBlocks=`: a file's bytes copied verbatim to a partition's offset.
//! Blocks that are all zeros are skipped, so they stay holes in the sparse
//! image (a fresh image reads as zeros there anyway).

use std::fs::File;
use std::io::Read;
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
    let source_error = |e| ImageError::CopyBlocksSource {
        partition: partition.to_string(),
        path: source.to_path_buf(),
        source: e,
    };
    let mut input = File::open(source).map_err(source_error)?;
    let mut buffer = vec![0u8; CHUNK];
    let mut copied = 0u64;
    loop {
        let n = read_full(&mut input, &mut buffer).map_err(source_error)?;
        if n == 0 {
            break;
        }
        if copied + n as u64 > expected {
            return Err(ImageError::CopyBlocksChanged {
                partition: partition.to_string(),
                path: source.to_path_buf(),
            });
        }
        let chunk = &buffer[..n];
        if chunk.iter().any(|b| *b != 0) {
            image
                .write_all_at(chunk, offset + copied)
                .map_err(|e| ImageError::Write {
                    path: image_path.to_path_buf(),
                    source: e,
                })?;
        }
        copied += n as u64;
    }
    if copied != expected {
        return Err(ImageError::CopyBlocksChanged {
            partition: partition.to_string(),
            path: source.to_path_buf(),
        });
    }
    Ok(())
}

/// Reads until `buffer` is full or the input ends.
fn read_full(input: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
