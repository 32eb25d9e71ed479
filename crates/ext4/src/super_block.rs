//! The superblock and the group descriptors
//! (Documentation/filesystems/ext4/super.rst, group_descr.rst), with the
//! features of systemd-repart's mke2fs (see docs/extfs.md) and their
//! checksums. Backup copies differ only in `s_block_group_nr`.

use crate::bytes::{put16, put32, put64_split};
use crate::csum;
use crate::layout::{Geometry, BLOCKS_PER_GROUP, DESC_SIZE, INODE_SIZE};
use crate::nodes::{FIRST_FREE, JOURNAL};

const COMPAT: u32 = 0x4 /* has_journal */ | 0x8 /* ext_attr */ | 0x20 /* dir_index */;
const INCOMPAT: u32 = 0x2 /* filetype */ | 0x40 /* extent */ | 0x80 /* 64bit */ | 0x200 /* flex_bg */;
const RO_COMPAT: u32 = 0x1 /* sparse_super */ | 0x2 /* large_file */ | 0x8 /* huge_file */
    | 0x20 /* dir_nlink */ | 0x40 /* extra_isize */ | 0x400 /* metadata_csum */;

/// What the superblock says beyond the geometry.
pub struct Identity<'a> {
    pub uuid: [u8; 16],
    pub label: &'a str,
    pub epoch: u64,
    pub free_blocks: u64,
    pub free_inodes: u64,
    /// The journal inode's `i_block` and size, for `s_jnl_blocks`.
    pub journal_i_block: [u8; 60],
    pub journal_size: u64,
    pub has_journal: bool,
}

/// The 1024-byte superblock for the copy in `group`.
pub fn superblock(g: &Geometry, id: &Identity, group: u64) -> [u8; 1024] {
    let mut b = [0u8; 1024];
    put32(&mut b, 0x00, g.inodes() as u32);
    put64_split(&mut b, 0x04, 0x150, g.blocks);
    put64_split(&mut b, 0x0C, 0x158, id.free_blocks);
    put32(&mut b, 0x10, id.free_inodes as u32);
    put32(&mut b, 0x18, 2);
    put32(&mut b, 0x1C, 2);
    put32(&mut b, 0x20, BLOCKS_PER_GROUP as u32);
    put32(&mut b, 0x24, BLOCKS_PER_GROUP as u32);
    put32(&mut b, 0x28, g.inodes_per_group as u32);
    let epoch = id.epoch as u32;
    put32(&mut b, 0x30, epoch);
    put16(&mut b, 0x36, 0xFFFF);
    put16(&mut b, 0x38, 0xEF53);
    put16(&mut b, 0x3A, 1);
    put16(&mut b, 0x3C, 1);
    put32(&mut b, 0x40, epoch);
    put32(&mut b, 0x4C, 1);
    put32(&mut b, 0x54, FIRST_FREE - 1);
    put16(&mut b, 0x58, INODE_SIZE as u16);
    put16(&mut b, 0x5A, group as u16);
    let resize = if g.reserved_gdt_blocks > 0 { 0x10 } else { 0 };
    put32(&mut b, 0x5C, resize | if id.has_journal { COMPAT } else { COMPAT & !0x4 });
    put32(&mut b, 0x60, INCOMPAT);
    put32(&mut b, 0x64, RO_COMPAT);
    b[0x68..0x78].copy_from_slice(&id.uuid);
    let label = id.label.as_bytes();
    let label = &label[..label.len().min(16)];
    b[0x78..0x78 + label.len()].copy_from_slice(label);
    if id.has_journal {
        put32(&mut b, 0xE0, JOURNAL);
    }
    put16(&mut b, 0xCE, g.reserved_gdt_blocks as u16);
    // The directory hash seed is the UUID (mke2fs -E hash_seed=UUID).
    b[0xEC..0xFC].copy_from_slice(&id.uuid);
    b[0xFC] = 1; // half_md4
    b[0xFD] = 1; // s_jnl_blocks holds the journal inode's blocks
    put16(&mut b, 0xFE, DESC_SIZE as u16);
    put32(&mut b, 0x100, 0x0C); // user_xattr, acl
    put32(&mut b, 0x108, epoch);
    b[0x10C..0x10C + 60].copy_from_slice(&id.journal_i_block);
    put32(&mut b, 0x10C + 60, (id.journal_size >> 32) as u32);
    put32(&mut b, 0x10C + 64, id.journal_size as u32);
    put16(&mut b, 0x15C, 32);
    put16(&mut b, 0x15E, 32);
    put32(&mut b, 0x160, 0x1); // signed directory hash, as on x86
    b[0x174] = 4; // 16 groups per flex group
    b[0x175] = 1; // crc32c
    let crc = csum::raw(!0, &b[..0x3FC]);
    put32(&mut b, 0x3FC, crc);
    b
}

/// One group's descriptor.
pub struct Descriptor {
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub free_blocks: u64,
    pub free_inodes: u64,
    pub directories: u64,
    pub itable_unused: u64,
    pub block_bitmap_csum: u32,
    pub inode_bitmap_csum: u32,
}

const INODE_ZEROED: u16 = 0x4;

/// The descriptor table, in whole blocks.
pub fn descriptors(g: &Geometry, descs: &[Descriptor], fs_seed: u32) -> Vec<u8> {
    let mut table = vec![0u8; (g.gdt_blocks * crate::layout::BLOCK) as usize];
    for (group, d) in descs.iter().enumerate() {
        let b = &mut table[group * DESC_SIZE as usize..(group + 1) * DESC_SIZE as usize];
        put64_split(b, 0x00, 0x20, d.block_bitmap);
        put64_split(b, 0x04, 0x24, d.inode_bitmap);
        put64_split(b, 0x08, 0x28, d.inode_table);
        put16(b, 0x0C, d.free_blocks as u16);
        put16(b, 0x2C, (d.free_blocks >> 16) as u16);
        put16(b, 0x0E, d.free_inodes as u16);
        put16(b, 0x2E, (d.free_inodes >> 16) as u16);
        put16(b, 0x10, d.directories as u16);
        put16(b, 0x30, (d.directories >> 16) as u16);
        put16(b, 0x12, INODE_ZEROED);
        put16(b, 0x18, d.block_bitmap_csum as u16);
        put16(b, 0x38, (d.block_bitmap_csum >> 16) as u16);
        put16(b, 0x1A, d.inode_bitmap_csum as u16);
        put16(b, 0x3A, (d.inode_bitmap_csum >> 16) as u16);
        put16(b, 0x1C, d.itable_unused as u16);
        put16(b, 0x32, (d.itable_unused >> 16) as u16);
        let crc = csum::raw(csum::raw(fs_seed, &(group as u32).to_le_bytes()), b);
        put16(b, 0x1E, crc as u16);
    }
    table
}
