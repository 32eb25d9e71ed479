//! Extent trees (Documentation/filesystems/ext4/ifork.rst): up to four
//! extents in the inode itself (depth 0); more in leaf blocks of 340
//! extents, indexed from the inode (depth 1), each leaf with its checksum
//! tail. Deeper trees are refused: four leaves map 1360 extents of up to
//! 128 MiB, far more than a file the allocator places in few runs needs.

use crate::bytes::{put16, put32};
use crate::csum;
use crate::layout::{Run, BLOCK};

const MAGIC: u16 = 0xF30A;
pub const IN_INODE: usize = 4;
pub const PER_LEAF: usize = (BLOCK as usize - 12) / 12;
pub const MAX_EXTENTS: usize = IN_INODE * PER_LEAF;

fn header(b: &mut [u8], entries: usize, max: usize, depth: u16) {
    put16(b, 0, MAGIC);
    put16(b, 2, entries as u16);
    put16(b, 4, max as u16);
    put16(b, 6, depth);
}

fn extent(b: &mut [u8], at: usize, logical: u64, run: Run) {
    put32(b, at, logical as u32);
    put16(b, at + 4, run.len as u16);
    put16(b, at + 6, (run.start >> 32) as u16);
    put32(b, at + 8, run.start as u32);
}

/// Leaf blocks a file of `runs` needs.
pub fn leaves_for(runs: usize) -> usize {
    if runs <= IN_INODE {
        0
    } else {
        runs.div_ceil(PER_LEAF)
    }
}

/// Fills the inode's 60-byte `i_block` and returns the leaf blocks
/// (placed at `leaf_blocks`), sealed with `inode_seed`.
pub fn encode(i_block: &mut [u8], runs: &[Run], leaf_blocks: &[u64], inode_seed: u32) -> Vec<Vec<u8>> {
    let mut logical = Vec::with_capacity(runs.len());
    let mut at = 0;
    for run in runs {
        logical.push(at);
        at += run.len;
    }
    if leaf_blocks.is_empty() {
        header(i_block, runs.len(), IN_INODE, 0);
        for (i, run) in runs.iter().enumerate() {
            extent(i_block, 12 + 12 * i, logical[i], *run);
        }
        return Vec::new();
    }
    header(i_block, leaf_blocks.len(), IN_INODE, 1);
    let mut leaves = Vec::with_capacity(leaf_blocks.len());
    for (leaf, chunk) in runs.chunks(PER_LEAF).enumerate() {
        let first = leaf * PER_LEAF;
        let at = 12 + 12 * leaf;
        put32(i_block, at, logical[first] as u32);
        put32(i_block, at + 4, leaf_blocks[leaf] as u32);
        put16(i_block, at + 8, (leaf_blocks[leaf] >> 32) as u16);
        let mut block = vec![0u8; BLOCK as usize];
        header(&mut block, chunk.len(), PER_LEAF, 0);
        for (i, run) in chunk.iter().enumerate() {
            extent(&mut block, 12 + 12 * i, logical[first + i], *run);
        }
        let tail = 12 + 12 * PER_LEAF;
        let crc = csum::raw(inode_seed, &block[..tail]);
        put32(&mut block, tail, crc);
        leaves.push(block);
    }
    leaves
}
