//! Raw byte copies into and out of the image: `CopyBlocks=` sources copied
//! to a partition's offset, and partitions copied out to split files.
//! Chunks that are all zeros are skipped, so they stay holes in the sparse
//! outputs (a fresh file reads as zeros there anyway).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use nix_repart_tree::{copy_source, CopyError};

use crate::error::ImageError;

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
    copy_source(source, expected, image, offset).map_err(|e| match e {
        CopyError::Read(e) => {
            ImageError::CopyBlocksSource { partition: partition.to_string(), path: source.to_path_buf(), source: e }
        }
        CopyError::Write(e) => ImageError::Write { path: image_path.to_path_buf(), source: e },
        CopyError::Changed => {
            ImageError::CopyBlocksChanged { partition: partition.to_string(), path: source.to_path_buf() }
        }
    })
}

/// Copies a partition of an earlier image (`fromImage`: `copy.offset` and
/// `copy.size` in `copy.source`) to `offset` in `image`.
pub fn copy_from_image(
    image: crate::context::ImageFile,
    offset: u64,
    copy: &nix_repart_spec::CopyBlocks,
    partition: &str,
) -> Result<(), ImageError> {
    let source_error =
        |e| ImageError::CopyBlocksSource { partition: partition.to_string(), path: copy.source.clone(), source: e };
    let source = File::open(&copy.source).map_err(source_error)?;
    let len = source.metadata().map_err(source_error)?.len();
    let fits = matches!(copy.offset.0.checked_add(copy.size.0), Some(end) if end <= len);
    if !fits {
        return Err(ImageError::CopyBlocksChanged { partition: partition.to_string(), path: copy.source.clone() });
    }
    copy_range(&source, copy.offset.0, copy.size.0, image.file, offset)
        .map_err(|e| ImageError::Write { path: image.shown.to_path_buf(), source: e })
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

/// Moves `len` bytes at `from` of `file` to `to`. Where the two regions
/// overlap every chunk is written (a zero chunk cannot be left out there),
/// in the order that reads each byte before it is overwritten; the part of
/// the old region the new one does not cover, below `limit`, is zeroed,
/// so the image does not depend on where a filesystem was first written.
pub fn move_range(file: &File, from: u64, len: u64, to: u64, limit: u64) -> std::io::Result<()> {
    if from == to || len == 0 {
        return Ok(());
    }
    let overlap = from < to + len && to < from + len;
    if !overlap {
        copy_range(file, from, len, file, to)?;
    } else {
        let mut buffer = vec![0u8; CHUNK];
        let chunks = len.div_ceil(CHUNK as u64);
        for k in 0..chunks {
            // Forward when moving down, backward when moving up.
            let k = if to < from { k } else { chunks - 1 - k };
            let at = k * CHUNK as u64;
            let n = (len - at).min(CHUNK as u64) as usize;
            file.read_exact_at(&mut buffer[..n], from + at)?;
            file.write_all_at(&buffer[..n], to + at)?;
        }
    }
    // The old region less the new one: what lies before it, and after it.
    for (start, end) in [(from, (from + len).min(to)), (from.max(to + len), from + len)] {
        let end = end.min(limit);
        if start < end {
            zero_range(file, start, end - start)?;
        }
    }
    Ok(())
}

/// Writes `len` zero bytes at `at`.
pub fn zero_range(file: &File, at: u64, len: u64) -> std::io::Result<()> {
    let zeros = vec![0u8; CHUNK.min(usize::try_from(len).unwrap_or(CHUNK))];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], at + done)?;
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
