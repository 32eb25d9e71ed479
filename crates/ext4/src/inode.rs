//! The 256-byte inode (Documentation/filesystems/ext4/inodes.rst): mode,
//! owner (16 bits in the base, 16 in `osd2`), size, times with the
//! 32-byte extra part (`extra_isize`: ctime/mtime/atime extra and crtime),
//! 512-byte block count, flags, `i_block`, and the checksum
//! (`metadata_csum`) split between `l_i_checksum_lo` and `i_checksum_hi`.

use nix_repart_tree::Owner;

use crate::bytes::{put16, put32, put32_split};
use crate::csum;
use crate::layout::INODE_SIZE;

pub const EXTENTS_FL: u32 = 0x80000;
/// A hashed (htree) directory.
pub const INDEX_FL: u32 = 0x1000;
const EXTRA_ISIZE: u16 = 32;

/// What an inode says, before encoding.
pub struct Fields {
    pub mode: u16,
    pub owner: Owner,
    pub size: u64,
    pub links: u16,
    /// Blocks of 4 KiB it owns (data, leaves).
    pub blocks: u64,
    pub flags: u32,
    pub mtime: u64,
    /// atime, ctime, crtime: the build's time.
    pub epoch: u64,
    pub i_block: [u8; 60],
}

/// A time as ext4 stores it: the low 32 bits, and the epoch bits of the
/// extra field (times past 2038).
fn split_time(t: u64) -> (u32, u32) {
    let signed = i64::try_from(t).unwrap_or(i64::MAX);
    let lo = signed as u32;
    let epoch_bits = ((signed - i64::from(lo as i32)) >> 32) as u32 & 3;
    (lo, epoch_bits)
}

/// The inode's bytes, checksummed for inode number `ino`.
pub fn encode(fields: &Fields, ino: u32, fs_seed: u32) -> [u8; INODE_SIZE as usize] {
    let mut b = [0u8; INODE_SIZE as usize];
    put16(&mut b, 0x00, fields.mode);
    put32_split(&mut b, 0x02, 0x78, fields.owner.uid);
    put32_split(&mut b, 0x18, 0x7A, fields.owner.gid);
    put32(&mut b, 0x04, fields.size as u32);
    put32(&mut b, 0x6C, (fields.size >> 32) as u32);
    let (now, now_extra) = split_time(fields.epoch);
    let (mtime, mtime_extra) = split_time(fields.mtime);
    put32(&mut b, 0x08, now);
    put32(&mut b, 0x0C, now);
    put32(&mut b, 0x10, mtime);
    put16(&mut b, 0x1A, fields.links);
    let sectors = fields.blocks * 8;
    put32(&mut b, 0x1C, sectors as u32);
    put16(&mut b, 0x74, (sectors >> 32) as u16);
    put32(&mut b, 0x20, fields.flags);
    b[0x28..0x64].copy_from_slice(&fields.i_block);
    put16(&mut b, 0x80, EXTRA_ISIZE);
    put32(&mut b, 0x84, now_extra);
    put32(&mut b, 0x88, mtime_extra);
    put32(&mut b, 0x8C, now_extra);
    put32(&mut b, 0x90, now);
    put32(&mut b, 0x94, now_extra);
    let crc = csum::raw(csum::inode_seed(fs_seed, ino, 0), &b);
    put16(&mut b, 0x7C, crc as u16);
    put16(&mut b, 0x82, (crc >> 16) as u16);
    b
}
