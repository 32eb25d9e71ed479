//! The resize inode (inode 7, `resize_inode`): how the kernel's online
//! resize (systemd-growfs at first boot) finds the descriptor blocks
//! reserved after the descriptors in every superblock copy. As e2fsprogs'
//! `ext2fs_create_resize_inode()` lays it out (Documentation/filesystems/
//! ext4/special_inodes.rst names it; the layout is e2fsprogs'): a
//! block-mapped file whose double-indirect block lists group 0's reserved
//! blocks, at index `descriptor blocks + i`, and each of those, read as an
//! indirect block, lists the same block of every backup group. Its size
//! covers the whole double-indirect range.

use crate::bytes::put32;
use crate::layout::{has_super, Geometry, BLOCK, BLOCKS_PER_GROUP};

/// The double-indirect block and group 0's reserved blocks (as indirect
/// blocks), each `(block number, bytes)`.
pub fn blocks(g: &Geometry, dind_at: u64) -> Vec<(u64, Vec<u8>)> {
    let per_block = (BLOCK / 4) as usize;
    let backups: Vec<u64> = (1..g.groups).filter(|group| has_super(*group)).collect();
    let mut dind = vec![0u8; BLOCK as usize];
    let mut out = Vec::new();
    for i in 0..g.reserved_gdt_blocks {
        let primary = 1 + g.gdt_blocks + i;
        let slot = ((g.gdt_blocks + i) as usize) % per_block;
        put32(&mut dind, slot * 4, primary as u32);
        let mut ind = vec![0u8; BLOCK as usize];
        for (j, group) in backups.iter().enumerate() {
            put32(&mut ind, j * 4, (primary + group * BLOCKS_PER_GROUP) as u32);
        }
        out.push((primary, ind));
    }
    out.insert(0, (dind_at, dind));
    out
}

/// Blocks the inode owns: the double-indirect block, the reserved blocks
/// of group 0 and their copies.
pub fn owned_blocks(g: &Geometry) -> u64 {
    let backups = (1..g.groups).filter(|group| has_super(*group)).count() as u64;
    1 + g.reserved_gdt_blocks * (1 + backups)
}

/// Its `i_size`: the double-indirect range, in bytes.
pub fn size() -> u64 {
    let per_block = BLOCK / 4;
    (per_block * per_block + per_block + 12) * BLOCK
}
