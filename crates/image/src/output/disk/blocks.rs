//! The block walk every disk format shares: which blocks of the raw image
//! hold anything but zeros, read (and, for compressed qcow2, compressed)
//! in parallel batches, handed on in order. A block not handed on reads
//! as zeros.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use nix_repart_progress::Counter;
use rayon::prelude::*;

use super::extents::data_extents;

/// Blocks read at once (at most 64 MiB of 2 MiB blocks).
const BATCH: usize = 32;

/// Calls `each(index, bytes)` for every block of `block` bytes (the last
/// zero-padded) that is not all zero, in order.
pub fn nonzero_blocks(
    source: &File,
    block: u64,
    counter: &Counter,
    mut each: impl FnMut(u64, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    nonzero_blocks_with(source, block, counter, Ok, |index, bytes| each(index, &bytes))
}

/// [`nonzero_blocks`] with `transform` applied to each block in parallel
/// (a compressor), its results handed to `each` in order.
pub fn nonzero_blocks_with<T: Send>(
    source: &File,
    block: u64,
    counter: &Counter,
    transform: impl Fn(Vec<u8>) -> io::Result<T> + Sync,
    mut each: impl FnMut(u64, T) -> io::Result<()>,
) -> io::Result<()> {
    let size = source.metadata()?.len();
    let mut candidates: Vec<u64> = Vec::new();
    for (offset, len) in data_extents(source)? {
        for b in offset / block..(offset + len).min(size).div_ceil(block) {
            if candidates.last() != Some(&b) {
                candidates.push(b);
            }
        }
    }
    for batch in candidates.chunks(BATCH) {
        let read = batch
            .par_iter()
            .map(|&index| {
                let mut buf = vec![0u8; block as usize];
                let offset = index * block;
                let len = block.min(size - offset) as usize;
                source.read_exact_at(&mut buf[..len], offset)?;
                counter.add_bytes(len as u64);
                if buf.iter().all(|&b| b == 0) {
                    return Ok(None);
                }
                transform(buf).map(Some)
            })
            .collect::<io::Result<Vec<_>>>()?;
        for (&index, item) in batch.iter().zip(read) {
            if let Some(item) = item {
                each(index, item)?;
            }
        }
    }
    Ok(())
}
