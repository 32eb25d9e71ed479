//! The block walk the fixed-block formats (vdi, vhd) share: which blocks
//! of the raw image hold anything but zeros, read in parallel batches, in
//! order. A block not in the result reads as zeros.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use nix_repart_progress::Counter;
use rayon::prelude::*;

use super::extents::data_extents;

/// Blocks read at once.
const BATCH: usize = 32;

/// Calls `each(index, bytes)` for every block of `block` bytes (the last
/// zero-padded) that is not all zero, in order.
pub fn nonzero_blocks(
    source: &File,
    block: u64,
    counter: &Counter,
    mut each: impl FnMut(u64, &[u8]) -> io::Result<()>,
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
                Ok((!buf.iter().all(|&b| b == 0)).then_some(buf))
            })
            .collect::<io::Result<Vec<_>>>()?;
        for (&index, buf) in batch.iter().zip(read) {
            if let Some(buf) = buf {
                each(index, &buf)?;
            }
        }
    }
    Ok(())
}
