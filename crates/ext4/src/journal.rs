//! The internal journal (inode 8): mke2fs's default size for the
//! filesystem's size (`ext2fs_default_journal_size()`, e2fsprogs 1.47),
//! and its superblock (jbd2 v2, big-endian; Documentation/filesystems/ext4/
//! journal.rst): empty, clean (`s_start` 0), first log block 1, sequence 1,
//! one user, the filesystem's UUID. The other journal blocks are zero.

use crate::layout::BLOCK;

/// Journal blocks mke2fs gives a filesystem of `blocks` blocks; none
/// below 2048 blocks.
pub fn default_blocks(blocks: u64) -> Option<u64> {
    Some(match blocks {
        0..=2047 => return None,
        2048..=32767 => 1024,
        32768..=262_143 => 4096,
        262_144..=524_287 => 8192,
        524_288..=4_194_303 => 16384,
        4_194_304..=8_388_607 => 32768,
        8_388_608..=16_777_215 => 65536,
        16_777_216..=33_554_431 => 131_072,
        _ => 262_144,
    })
}

/// The journal's first block.
pub fn superblock(blocks: u64, uuid: &[u8; 16]) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK as usize];
    let mut put = |at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_be_bytes());
    put(0x0, 0xC03B_3998);
    put(0x4, 4); // superblock v2
    put(0xC, BLOCK as u32);
    put(0x10, blocks as u32);
    put(0x14, 1);
    put(0x18, 1);
    put(0x40, 1);
    b[0x30..0x40].copy_from_slice(uuid);
    b
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_follow_mke2fs_defaults() {
        assert_eq!(super::default_blocks(2047), None);
        assert_eq!(super::default_blocks(32767), Some(1024));
        assert_eq!(super::default_blocks(262_144), Some(8192));
        assert_eq!(super::default_blocks(5_242_880), Some(32768));
    }
}
