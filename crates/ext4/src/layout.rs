//! Where everything goes: the block groups (32768 blocks of 4 KiB each),
//! the superblock and descriptor copies of `sparse_super` (groups 0, 1 and
//! powers of 3, 5 and 7), and one allocator that hands out blocks in
//! order, stepping over those copies. With `flex_bg` the bitmaps and
//! inode tables of all groups may sit anywhere, so they are packed at the
//! start as mke2fs packs a flex group's; the journal follows, then every
//! inode's blocks in inode order. The layout is a function of the tree's
//! shape and the sizes alone.

use crate::Ext4Error;

pub const BLOCK: u64 = 4096;
pub const BLOCKS_PER_GROUP: u64 = 32768;
pub const INODE_SIZE: u64 = 256;
pub const DESC_SIZE: u64 = 64;
/// The longest extent ext4 stores initialized.
pub const MAX_EXTENT: u64 = 32768;

/// The group structure of a filesystem of `blocks` blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    pub blocks: u64,
    pub groups: u64,
    pub inodes_per_group: u64,
    pub gdt_blocks: u64,
    /// Descriptor blocks reserved for online growth (`resize_inode`),
    /// after the descriptors in every copy.
    pub reserved_gdt_blocks: u64,
}

impl Geometry {
    /// `inodes` is rounded up to fill whole inode table blocks per group.
    pub fn new(blocks: u64, inodes: u64) -> Result<Geometry, Ext4Error> {
        let min = 64;
        let mut groups = blocks.div_ceil(BLOCKS_PER_GROUP);
        let mut blocks = blocks;
        let gdt_blocks = |groups: u64| (groups * DESC_SIZE).div_ceil(BLOCK);
        // A last group too short for its superblock copy and a little data
        // is dropped, as mke2fs drops it.
        let last = blocks - (groups - 1) * BLOCKS_PER_GROUP;
        if groups > 1 && has_super(groups - 1) && last < 1 + gdt_blocks(groups) + reserved_gdt(blocks, groups) + 50 {
            groups -= 1;
            blocks = groups * BLOCKS_PER_GROUP;
        }
        if blocks < min {
            return Err(Ext4Error::TooSmallForExt4 { blocks, min });
        }
        let per_block = BLOCK / INODE_SIZE;
        let inodes_per_group = inodes.div_ceil(groups).div_ceil(per_block).max(1) * per_block;
        let inodes_per_group = inodes_per_group.min(BLOCKS_PER_GROUP);
        let reserved_gdt_blocks = reserved_gdt(blocks, groups);
        Ok(Geometry { blocks, groups, inodes_per_group, gdt_blocks: gdt_blocks(groups), reserved_gdt_blocks })
    }

    pub fn inodes(&self) -> u64 {
        self.groups * self.inodes_per_group
    }

    pub fn inode_table_blocks(&self) -> u64 {
        self.inodes_per_group * INODE_SIZE / BLOCK
    }

    /// The blocks of a group's superblock and descriptor copy, if it has one.
    pub fn super_copy(&self, group: u64) -> Option<std::ops::Range<u64>> {
        let start = group * BLOCKS_PER_GROUP;
        has_super(group).then(|| start..start + 1 + self.gdt_blocks + self.reserved_gdt_blocks)
    }

    /// Blocks in `group` (the last one may be short).
    pub fn group_blocks(&self, group: u64) -> u64 {
        (self.blocks - group * BLOCKS_PER_GROUP).min(BLOCKS_PER_GROUP)
    }
}

/// mke2fs's reserve of descriptor blocks (`calc_reserved_gdt_blocks()`):
/// enough to grow to 1024 times the size, or to 2^32 blocks, at most one
/// indirect block's worth (1024).
pub fn reserved_gdt(blocks: u64, groups: u64) -> u64 {
    let max_blocks = if blocks < 0xFFFF_FFFF / 1024 { blocks * 1024 } else { 0xFFFF_FFFF };
    let per_block = BLOCK / DESC_SIZE;
    let reserve = max_blocks.div_ceil(BLOCKS_PER_GROUP).div_ceil(per_block).saturating_sub(groups.div_ceil(per_block));
    reserve.min(BLOCK / 4)
}

/// Whether `group` holds a superblock copy under `sparse_super`.
pub fn has_super(group: u64) -> bool {
    let power_of = |base: u64| {
        let mut n = base;
        while n < group {
            n *= base;
        }
        n == group
    };
    group <= 1 || power_of(3) || power_of(5) || power_of(7)
}

/// A run of blocks: `start`, `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: u64,
    pub len: u64,
}

/// Hands out blocks in order, never a superblock copy's; records every
/// block it gives (and the copies) in the block bitmap.
pub struct Allocator<'g> {
    geometry: &'g Geometry,
    next: u64,
    pub used: Vec<u64>,
}

impl<'g> Allocator<'g> {
    pub fn new(geometry: &'g Geometry) -> Allocator<'g> {
        let mut allocator = Allocator { geometry, next: 0, used: vec![0; geometry.blocks.div_ceil(64) as usize] };
        for group in 0..geometry.groups {
            if let Some(copy) = geometry.super_copy(group) {
                allocator.mark(copy.start, copy.end - copy.start);
            }
        }
        allocator
    }

    fn mark(&mut self, start: u64, len: u64) {
        for block in start..start + len {
            self.used[(block / 64) as usize] |= 1 << (block % 64);
        }
    }

    /// The first block at or after `block` that no copy holds, and how many
    /// free blocks follow it before the next copy.
    fn free_from(&self, block: u64) -> (u64, u64) {
        let group = block / BLOCKS_PER_GROUP;
        let mut at = block;
        if let Some(copy) = self.geometry.super_copy(group) {
            at = at.max(copy.end);
        }
        // Up to the start of the next group with a copy.
        let mut next = at / BLOCKS_PER_GROUP + 1;
        while next < self.geometry.groups && !has_super(next) {
            next += 1;
        }
        (at, (next * BLOCKS_PER_GROUP).min(self.geometry.blocks).saturating_sub(at))
    }

    /// `len` contiguous blocks (inode tables must be).
    pub fn contiguous(&mut self, len: u64) -> Result<u64, Ext4Error> {
        loop {
            let (at, room) = self.free_from(self.next);
            if at >= self.geometry.blocks {
                return Err(self.too_small(at + len));
            }
            if room >= len {
                self.mark(at, len);
                self.next = at + len;
                return Ok(at);
            }
            self.next = at + room;
        }
    }

    /// `len` blocks in as few runs as the copies allow, each at most
    /// [`MAX_EXTENT`] long.
    pub fn runs(&mut self, mut len: u64) -> Result<Vec<Run>, Ext4Error> {
        let mut runs = Vec::new();
        while len > 0 {
            let (at, room) = self.free_from(self.next);
            if at >= self.geometry.blocks || room == 0 {
                return Err(self.too_small(at + len));
            }
            let take = len.min(room).min(MAX_EXTENT);
            self.mark(at, take);
            runs.push(Run { start: at, len: take });
            self.next = at + take;
            len -= take;
        }
        Ok(runs)
    }

    fn too_small(&self, needed: u64) -> Ext4Error {
        Ext4Error::TooSmall { needed, blocks: self.geometry.blocks }
    }

    pub fn used_blocks(&self) -> u64 {
        self.used.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mke2fs 1.47.0 (`-t ext4 -b 4096 -O 64bit`, dumpe2fs -h): 47 reserved
    /// descriptor blocks at 98304 blocks, 1024 (the cap) at 10485760.
    #[test]
    fn the_descriptor_reserve_is_mke2fs_s() {
        assert_eq!(reserved_gdt(98_304, 3), 47);
        assert_eq!(reserved_gdt(10_485_760, 320), 1024);
    }

    #[test]
    fn sparse_super_groups_are_0_1_and_powers_of_3_5_7() {
        let groups: Vec<u64> = (0..100).filter(|g| has_super(*g)).collect();
        assert_eq!(groups, [0, 1, 3, 5, 7, 9, 25, 27, 49, 81]);
    }

    #[test]
    fn runs_step_over_superblock_copies() {
        let geometry = Geometry::new(3 * BLOCKS_PER_GROUP, 1024).expect("geometry");
        let mut allocator = Allocator::new(&geometry);
        // The superblock, one descriptor block and the reserve.
        let copy_len = 2 + geometry.reserved_gdt_blocks;
        assert_eq!(allocator.contiguous(10).expect("first"), copy_len);
        let runs = allocator.runs(BLOCKS_PER_GROUP).expect("runs");
        let copy = geometry.super_copy(1).expect("group 1 has a copy");
        assert_eq!(runs[0], Run { start: copy_len + 10, len: BLOCKS_PER_GROUP - copy_len - 10 });
        assert_eq!(runs[1].start, copy.end);
        assert_eq!(runs.iter().map(|r| r.len).sum::<u64>(), BLOCKS_PER_GROUP);
    }
}
