//! Pins every inode's times and owner in a freshly made ext2/3/4
//! filesystem: atime, ctime and crtime to `SOURCE_DATE_EPOCH` (no
//! nanoseconds), uid and gid to 0, and recomputes the inode checksum
//! (`metadata_csum`). mke2fs 1.47.0 copies the staging tree's ctime (the
//! time of the build) and owners (the build user) into the image. The
//! mtime is left as mke2fs copied it from the staging tree, where it is
//! the source's mtime clamped to `SOURCE_DATE_EPOCH`; the root directory
//! and lost+found have mke2fs's own time, `SOURCE_DATE_EPOCH`.
//!
//! On-disk format (kernel Documentation/filesystems/ext4): superblock at
//! byte 1024; group descriptors in the block after it; inode bitmap and
//! table locations per group; inode fields i_uid 0x02, i_atime 0x08,
//! i_ctime 0x0C, i_mtime 0x10, i_gid 0x18, i_generation 0x64,
//! l_i_uid_high 0x78, l_i_gid_high 0x7A, l_i_checksum_lo 0x7C,
//! i_extra_isize 0x80, i_checksum_hi 0x82, i_{c,m,a}time_extra
//! 0x84/0x88/0x8C, i_crtime 0x90, i_crtime_extra 0x94. The checksum is
//! crc32c(seed, inode number, generation, inode with both checksum fields
//! zero), seed = crc32c(~0, filesystem UUID) unless `metadata_csum_seed`
//! stores it. Only inodes marked in use and with a mode are touched.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::MkfsError;

const SUPERBLOCK: u64 = 1024;
const MAGIC: u16 = 0xEF53;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
const RO_COMPAT_METADATA_CSUM: u32 = 0x400;
const BG_INODE_UNINIT: u16 = 0x1;

/// The free space of a finished filesystem: the margin left by sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtReport {
    pub blocks: u64,
    pub free_blocks: u64,
    pub inodes: u64,
    pub free_inodes: u64,
}

struct Super {
    block: u64,
    groups: u64,
    inodes_per_group: u64,
    inode_size: u64,
    desc_size: u64,
    first_data_block: u64,
    csum_seed: Option<u32>,
    report: ExtReport,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn read_super(file: &File, offset: u64, path: &Path) -> Result<Super, MkfsError> {
    let io = |source| MkfsError::Fixup { path: path.to_path_buf(), offset, source };
    let mut sb = [0u8; 1024];
    file.read_exact_at(&mut sb, offset + SUPERBLOCK).map_err(io)?;
    let not_ext = |what| MkfsError::NotExt { path: path.to_path_buf(), offset, what };
    if le16(&sb, 0x38) != MAGIC {
        return Err(not_ext("bad superblock magic"));
    }
    let (incompat, ro_compat) = (le32(&sb, 0x60), le32(&sb, 0x64));
    let block = 1024u64 << le32(&sb, 0x18);
    let blocks = u64::from(le32(&sb, 0x04)) | (u64::from(le32(&sb, 0x150)) << 32);
    let free_blocks = u64::from(le32(&sb, 0x0C)) | (u64::from(le32(&sb, 0x158)) << 32);
    let first_data_block = u64::from(le32(&sb, 0x14));
    let blocks_per_group = u64::from(le32(&sb, 0x20));
    let inodes_per_group = u64::from(le32(&sb, 0x28));
    if blocks_per_group == 0 || inodes_per_group == 0 {
        return Err(not_ext("zero blocks or inodes per group"));
    }
    let desc_size = if incompat & INCOMPAT_64BIT != 0 { u64::from(le16(&sb, 0xFE)) } else { 32 };
    let csum_seed = (ro_compat & RO_COMPAT_METADATA_CSUM != 0).then(|| {
        if incompat & INCOMPAT_CSUM_SEED != 0 {
            le32(&sb, 0x270)
        } else {
            crc32c(!0, &sb[0x68..0x78])
        }
    });
    Ok(Super {
        block,
        groups: (blocks - first_data_block).div_ceil(blocks_per_group),
        inodes_per_group,
        inode_size: u64::from(le16(&sb, 0x58)),
        desc_size,
        first_data_block,
        csum_seed,
        report: ExtReport {
            blocks,
            free_blocks,
            inodes: u64::from(le32(&sb, 0x00)),
            free_inodes: u64::from(le32(&sb, 0x10)),
        },
    })
}

/// Rewrites times and owners of every used inode; returns the free space.
pub fn pin_times_and_owners(path: &Path, offset: u64, epoch: u64) -> Result<ExtReport, MkfsError> {
    let io = |source| MkfsError::Fixup { path: path.to_path_buf(), offset, source };
    let file = File::options().read(true).write(true).open(path).map_err(io)?;
    let sb = read_super(&file, offset, path)?;
    let gdt_at = offset + (sb.first_data_block + 1) * sb.block;
    let mut table = vec![0u8; (sb.groups * sb.desc_size) as usize];
    file.read_exact_at(&mut table, gdt_at).map_err(io)?;
    let (lo, extra) = split_time(epoch);
    for group in 0..sb.groups {
        let desc = &table[(group * sb.desc_size) as usize..((group + 1) * sb.desc_size) as usize];
        if le16(desc, 0x12) & BG_INODE_UNINIT != 0 {
            continue;
        }
        let wide = sb.desc_size >= 64;
        let bitmap_block = u64::from(le32(desc, 0x04)) | if wide { u64::from(le32(desc, 0x24)) << 32 } else { 0 };
        let table_block = u64::from(le32(desc, 0x08)) | if wide { u64::from(le32(desc, 0x28)) << 32 } else { 0 };
        let mut bitmap = vec![0u8; sb.block as usize];
        file.read_exact_at(&mut bitmap, offset + bitmap_block * sb.block).map_err(io)?;
        let mut inodes = vec![0u8; (sb.inodes_per_group * sb.inode_size) as usize];
        let table_at = offset + table_block * sb.block;
        file.read_exact_at(&mut inodes, table_at).map_err(io)?;
        for i in 0..sb.inodes_per_group {
            if bitmap[(i / 8) as usize] & (1 << (i % 8)) == 0 {
                continue;
            }
            let inode = &mut inodes[(i * sb.inode_size) as usize..((i + 1) * sb.inode_size) as usize];
            if le16(inode, 0x00) == 0 {
                continue;
            }
            let number = group * sb.inodes_per_group + i + 1;
            pin_inode(inode, number as u32, lo, extra, sb.csum_seed);
        }
        file.write_all_at(&inodes, table_at).map_err(io)?;
    }
    Ok(sb.report)
}

/// Seconds as ext4 stores them: the low 32 bits (signed), and two epoch
/// bits in the `_extra` field (nanoseconds above them stay 0).
fn split_time(epoch: u64) -> (u32, u32) {
    let signed = i64::try_from(epoch).unwrap_or(i64::MAX);
    let lo = signed as u32;
    let epoch_bits = ((signed - i64::from(lo as i32)) >> 32) as u32 & 3;
    (lo, epoch_bits)
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn pin_inode(inode: &mut [u8], number: u32, lo: u32, extra: u32, seed: Option<u32>) {
    put16(inode, 0x02, 0);
    put16(inode, 0x18, 0);
    put16(inode, 0x78, 0);
    put16(inode, 0x7A, 0);
    // i_atime, i_ctime; i_mtime (0x10) is the tree's.
    for at in [0x08, 0x0C] {
        put32(inode, at, lo);
    }
    let large = inode.len() > 128;
    let extra_size = if large { usize::from(le16(inode, 0x80)) } else { 0 };
    let has = |field_end: usize| large && extra_size >= field_end - 0x80;
    // i_ctime_extra, i_atime_extra, i_crtime_extra; not i_mtime_extra (0x88).
    for at in [0x84, 0x8C, 0x94] {
        if has(at + 4) {
            put32(inode, at, extra);
        }
    }
    if has(0x94) {
        put32(inode, 0x90, lo);
    }
    let Some(seed) = seed else { return };
    let with_hi = has(0x84);
    put16(inode, 0x7C, 0);
    if with_hi {
        put16(inode, 0x82, 0);
    }
    let generation = le32(inode, 0x64);
    let mut crc = crc32c(seed, &number.to_le_bytes());
    crc = crc32c(crc, &generation.to_le_bytes());
    crc = crc32c(crc, inode);
    put16(inode, 0x7C, crc as u16);
    if with_hi {
        put16(inode, 0x82, (crc >> 16) as u16);
    }
}

/// CRC-32C (Castagnoli, reflected 0x82F63B78) without pre- or
/// post-inversion, as ext4's `ext2fs_crc32c_le` computes it.
fn crc32c(mut crc: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { (c >> 1) ^ 0x82F6_3B78 } else { c >> 1 };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3720's CRC-32C check value, with the standard inversions added
    /// around the raw function.
    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(!crc32c(!0, b"123456789"), 0xE306_9283);
    }

    #[test]
    fn times_split_like_ext4() {
        assert_eq!(split_time(315_532_800), (315_532_800, 0));
        assert_eq!(split_time(1 << 31), ((1u64 << 31) as u32, 1));
    }
}
