//! Linear directory blocks (Documentation/filesystems/ext4/directory.rst):
//! `.` and `..` first, then the entries in name order, packed into 4 KiB
//! blocks; each block ends with the 12-byte tail that holds its checksum
//! (`metadata_csum`), the last entry of a block reaching up to the tail.

use std::os::unix::ffi::OsStrExt;

use crate::bytes::{put16, put32};
use crate::csum;
use crate::layout::BLOCK;
use crate::nodes::FT_DIR;

const TAIL: usize = 12;
pub const USABLE: usize = BLOCK as usize - TAIL;

pub fn entry_len(name_len: usize) -> usize {
    (8 + name_len).div_ceil(4) * 4
}

/// The blocks of a linear directory (checksums not yet set): `.`, `..`,
/// then the entries, as many to a block as fit.
pub fn blocks(ino: u32, parent: u32, entries: &[(std::ffi::OsString, u32, u8)]) -> Vec<Vec<u8>> {
    let mut all: Vec<(&[u8], u32, u8)> = vec![(b".", ino, FT_DIR), (b"..", parent, FT_DIR)];
    all.extend(entries.iter().map(|(name, child, ft)| (name.as_bytes(), *child, *ft)));
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < all.len() {
        let mut used = 0;
        let mut end = start;
        while end < all.len() && used + entry_len(all[end].0.len()) <= USABLE {
            used += entry_len(all[end].0.len());
            end += 1;
        }
        blocks.push(leaf(&all[start..end]));
        start = end;
    }
    blocks
}

/// One block holding `entries` (which must fit), checksum not yet set.
pub fn leaf(entries: &[(&[u8], u32, u8)]) -> Vec<u8> {
    let mut block = vec![0u8; BLOCK as usize];
    let mut used = 0;
    let mut last = None;
    for (name, child, file_type) in entries {
        let len = entry_len(name.len());
        put32(&mut block, used, *child);
        put16(&mut block, used + 4, len as u16);
        block[used + 6] = name.len() as u8;
        block[used + 7] = *file_type;
        block[used + 8..used + 8 + name.len()].copy_from_slice(name);
        last = Some(used);
        used += len;
    }
    finish(&mut block, last);
    block
}

/// An empty directory block: one unused entry up to the tail.
pub fn empty_block() -> Vec<u8> {
    let mut block = vec![0u8; BLOCK as usize];
    put16(&mut block, 4, USABLE as u16);
    finish(&mut block, None);
    block
}

/// Stretches the last entry to the tail and writes the tail's header.
fn finish(block: &mut [u8], last: Option<usize>) {
    if let Some(at) = last {
        put16(block, at + 4, (USABLE - at) as u16);
    }
    put16(block, USABLE + 4, TAIL as u16);
    block[USABLE + 7] = 0xDE;
}

/// Sets a directory block's checksum.
pub fn seal(block: &mut [u8], inode_seed: u32) {
    let crc = csum::raw(inode_seed, &block[..USABLE]);
    put32(block, USABLE + 8, crc);
}
