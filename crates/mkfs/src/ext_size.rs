//! How large an ext2/3/4 filesystem must be for a tree, computed from the
//! tree (no trial mkfs): data blocks, directory blocks, long symlinks,
//! extent or indirect blocks, inode tables, bitmaps, group descriptors and
//! their reserve, backup superblocks, and the journal mke2fs would pick.
//! The layout rules are mke2fs's (e2fsprogs 1.47): 4 KiB blocks, 32768
//! blocks and one block of each bitmap per group, 64-byte descriptors,
//! sparse_super backups in groups 0, 1 and powers of 3, 5 and 7, a
//! reserve of descriptor blocks for 1024x online growth, and
//! `ext2fs_default_journal_size()`. The estimate leans high; the build
//! checks the real free space afterwards and remakes the partition once,
//! larger, if it was short.

use nix_repart_tree::{Directory, Node};

use crate::ExtKind;

pub const BLOCK: u64 = 4096;
const BLOCKS_PER_GROUP: u64 = 32768;
const INODE_SIZE: u64 = 256;
/// Inodes 1-10 are reserved, 11 is lost+found.
const RESERVED_INODES: u64 = 11;

/// Blocks and inodes a filesystem needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtSize {
    pub blocks: u64,
    /// The inode count to give mke2fs (`-N`).
    pub inodes: u64,
}

impl ExtSize {
    pub fn bytes(&self) -> u64 {
        self.blocks * BLOCK
    }
}

/// The smallest filesystem for `tree`, with a little room (2 % of the
/// content and 1 MiB, and 5 % more inodes) so that a first boot can write.
pub fn estimate(tree: &Directory, kind: ExtKind) -> ExtSize {
    let mut content = Content::default();
    content.directory(tree, kind);
    // lost+found: 16 KiB.
    content.blocks += 4;
    content.inodes += RESERVED_INODES;
    let inodes = content.inodes + content.inodes / 20 + 32;
    let wanted = content.blocks + content.blocks / 50 + 256;
    let mut blocks = wanted;
    for _ in 0..16 {
        let next = wanted + overhead(blocks, inodes, kind);
        if next <= blocks {
            break;
        }
        blocks = next;
    }
    // A group holds at most 32768 inodes (one bitmap block): many small
    // files need more groups than their bytes do.
    let groups_for_inodes = inodes.div_ceil(BLOCKS_PER_GROUP);
    if groups_for_inodes > 1 {
        blocks = blocks.max(groups_for_inodes * BLOCKS_PER_GROUP);
    }
    ExtSize { blocks: blocks.max(4096), inodes }
}

#[derive(Default)]
struct Content {
    blocks: u64,
    inodes: u64,
}

impl Content {
    fn directory(&mut self, dir: &Directory, kind: ExtKind) {
        self.inodes += 1;
        // `.` and `..`, then 8 bytes plus the name rounded to 4 per entry;
        // 12 bytes of each block go to the checksum tail.
        let bytes: u64 = 24 + dir.entries.keys().map(|n| 8 + (n.len() as u64).div_ceil(4) * 4).sum::<u64>();
        let blocks = bytes.div_ceil(BLOCK - 12);
        // Hashed (htree) directories split leaves half full, plus the root.
        self.blocks += if blocks > 1 { blocks * 2 + 1 } else { 1 };
        for node in dir.entries.values() {
            match node {
                Node::Directory(sub) => self.directory(sub, kind),
                Node::File(file) => {
                    self.inodes += 1;
                    self.blocks += file_blocks(file.size, kind);
                }
                Node::Symlink(link) => {
                    self.inodes += 1;
                    // Targets under 60 bytes live in the inode.
                    if link.target.len() >= 60 {
                        self.blocks += 1;
                    }
                }
            }
        }
    }
}

/// Data blocks plus the blocks that map them.
fn file_blocks(size: u64, kind: ExtKind) -> u64 {
    let data = size.div_ceil(BLOCK);
    let map = match kind {
        // Up to 4 extents of 32768 blocks live in the inode; beyond, one
        // index block per 340 extents.
        ExtKind::Ext4 => {
            let extents = data.div_ceil(32768);
            if extents > 4 {
                extents.div_ceil(340)
            } else {
                0
            }
        }
        // 12 direct blocks, then indirect blocks of 1024 pointers.
        ExtKind::Ext2 | ExtKind::Ext3 => {
            let indirect = data.saturating_sub(12);
            indirect.div_ceil(1024) + indirect.div_ceil(1024 * 1024) + u64::from(indirect > 1024 + 1024 * 1024)
        }
    };
    data + map
}

/// Everything but content in a filesystem of `blocks` with `inodes`.
fn overhead(blocks: u64, inodes: u64, kind: ExtKind) -> u64 {
    let groups = blocks.div_ceil(BLOCKS_PER_GROUP).max(1);
    let per_group = inodes.div_ceil(groups).div_ceil(BLOCK / INODE_SIZE) * (BLOCK / INODE_SIZE);
    let inode_tables = groups * per_group * INODE_SIZE / BLOCK;
    let descriptors_per_block = BLOCK / 64;
    let gdt = groups.div_ceil(descriptors_per_block);
    let reserve_groups = (blocks * 1024).min(u64::from(u32::MAX)).div_ceil(BLOCKS_PER_GROUP);
    let reserved_gdt = reserve_groups.div_ceil(descriptors_per_block).saturating_sub(gdt).min(1024);
    let copies = backup_groups(groups);
    let journal = match kind {
        ExtKind::Ext2 => 0,
        ExtKind::Ext3 | ExtKind::Ext4 => journal_blocks(blocks),
    };
    inode_tables + 2 * groups + copies * (1 + gdt + reserved_gdt) + journal + 64
}

/// Groups that hold a superblock copy: 0, 1 and powers of 3, 5, 7.
fn backup_groups(groups: u64) -> u64 {
    let mut count = 1 + u64::from(groups > 1);
    for base in [3u64, 5, 7] {
        let mut g = base;
        while g < groups {
            count += 1;
            g *= base;
        }
    }
    count
}

/// `ext2fs_default_journal_size()` in blocks.
fn journal_blocks(blocks: u64) -> u64 {
    match blocks {
        b if b < 2048 => 0,
        b if b < 32768 => 1024,
        b if b < 256 * 1024 => 4096,
        b if b < 512 * 1024 => 8192,
        b if b < 4096 * 1024 => 16384,
        b if b < 8192 * 1024 => 32768,
        b if b < 16384 * 1024 => 65536,
        b if b < 32768 * 1024 => 131072,
        _ => 262144,
    }
}
