//! Hashed (htree) directories (Documentation/filesystems/ext4/
//! directory.rst, "Hash Tree Directories"), made for every directory that
//! needs more than one block, as the kernel indexes a directory once it
//! outgrows one: the entries sorted by (half-MD4 hash, name) into leaf
//! blocks (ordinary directory blocks), indexed from the root block (logical
//! block 0, with `.` and `..` and up to 507 index entries) and, past 507
//! leaves, one level of index nodes of up to 510 entries each. A leaf that
//! starts inside a run of equal hashes has the collision bit set in its
//! index entry. Every block is checksummed (`dx_tail` in index blocks).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::bytes::{put16, put32};
use crate::csum;
use crate::dir::{self, USABLE};
use crate::layout::BLOCK;
use crate::nodes::FT_DIR;

const ROOT_HEADER: usize = 32;
const NODE_HEADER: usize = 8;
const TAIL: usize = 8;
const ROOT_LIMIT: usize = (BLOCK as usize - ROOT_HEADER - TAIL) / 8;
const NODE_LIMIT: usize = (BLOCK as usize - NODE_HEADER - TAIL) / 8;

/// A directory's blocks, and whether they are indexed; checksummed.
pub fn directory(
    ino: u32,
    parent: u32,
    entries: &[(OsString, u32, u8)],
    hash_seed: [u32; 4],
    inode_seed: u32,
) -> (Vec<Vec<u8>>, bool) {
    let mut linear = dir::blocks(ino, parent, entries);
    if linear.len() > 1 {
        if let Some(blocks) = indexed(ino, parent, entries, hash_seed, inode_seed) {
            return (blocks, true);
        }
    }
    linear.iter_mut().for_each(|b| dir::seal(b, inode_seed));
    (linear, false)
}

fn indexed(
    ino: u32,
    parent: u32,
    entries: &[(OsString, u32, u8)],
    hash_seed: [u32; 4],
    inode_seed: u32,
) -> Option<Vec<Vec<u8>>> {
    let mut hashed: Vec<(u32, &[u8], u32, u8)> = entries
        .iter()
        .map(|(name, child, ft)| (crate::hash::half_md4(name.as_bytes(), hash_seed), name.as_bytes(), *child, *ft))
        .collect();
    hashed.sort();
    // Leaves, each with the hash its index entry carries.
    let mut leaves: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut start = 0;
    while start < hashed.len() {
        let mut used = 0;
        let mut end = start;
        while end < hashed.len() && used + dir::entry_len(hashed[end].1.len()) <= USABLE {
            used += dir::entry_len(hashed[end].1.len());
            end += 1;
        }
        let continues = start > 0 && hashed[start - 1].0 == hashed[start].0;
        let entries: Vec<(&[u8], u32, u8)> = hashed[start..end].iter().map(|e| (e.1, e.2, e.3)).collect();
        let mut block = dir::leaf(&entries);
        dir::seal(&mut block, inode_seed);
        leaves.push((hashed[start].0 | u32::from(continues), block));
        start = end;
    }
    let leaf_count = leaves.len();
    let nodes = if leaf_count <= ROOT_LIMIT { 0 } else { leaf_count.div_ceil(NODE_LIMIT) };
    if nodes > ROOT_LIMIT {
        return None;
    }
    let first_leaf = 1 + nodes as u32;
    let leaf_index: Vec<(u32, u32)> = leaves.iter().enumerate().map(|(i, l)| (l.0, first_leaf + i as u32)).collect();
    let mut out = Vec::with_capacity(1 + nodes + leaf_count);
    if nodes == 0 {
        out.push(root(ino, parent, 0, &leaf_index, inode_seed));
    } else {
        let groups: Vec<&[(u32, u32)]> = leaf_index.chunks(NODE_LIMIT).collect();
        let node_index: Vec<(u32, u32)> = groups.iter().enumerate().map(|(i, g)| (g[0].0, 1 + i as u32)).collect();
        out.push(root(ino, parent, 1, &node_index, inode_seed));
        out.extend(groups.iter().map(|g| node(g, inode_seed)));
    }
    out.extend(leaves.into_iter().map(|(_, block)| block));
    Some(out)
}

/// The root block: `.`, `..` over the rest of the block, the root info and
/// the index entries `(hash, logical block)`, the first one's hash unused.
fn root(ino: u32, parent: u32, levels: u8, index: &[(u32, u32)], inode_seed: u32) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK as usize];
    put32(&mut b, 0, ino);
    put16(&mut b, 4, 12);
    b[6] = 1;
    b[7] = FT_DIR;
    b[8] = b'.';
    put32(&mut b, 12, parent);
    put16(&mut b, 16, (BLOCK - 12) as u16);
    b[18] = 2;
    b[19] = FT_DIR;
    b[20..22].copy_from_slice(b"..");
    b[28] = 1; // half_md4
    b[29] = 8; // info length
    b[30] = levels;
    entries(&mut b, ROOT_HEADER, ROOT_LIMIT, index, inode_seed);
    b
}

/// An index node: an empty entry over the block, then the index.
fn node(index: &[(u32, u32)], inode_seed: u32) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK as usize];
    put16(&mut b, 4, BLOCK as u16);
    entries(&mut b, NODE_HEADER, NODE_LIMIT, index, inode_seed);
    b
}

fn entries(b: &mut [u8], at: usize, limit: usize, index: &[(u32, u32)], inode_seed: u32) {
    put16(b, at, limit as u16);
    put16(b, at + 2, index.len() as u16);
    put32(b, at + 4, index[0].1);
    for (i, (hash, block)) in index.iter().enumerate().skip(1) {
        put32(b, at + 8 * i, *hash);
        put32(b, at + 8 * i + 4, *block);
    }
    let tail = at + 8 * limit;
    let crc = csum::raw(inode_seed, &b[..at + 8 * index.len()]);
    let crc = csum::raw(crc, &b[tail..tail + 4]);
    let crc = csum::raw(crc, &[0; 4]);
    put32(b, tail + 4, crc);
}
