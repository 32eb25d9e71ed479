//! The hash tree: its size ([`tree_size`], systemd-repart's
//! `calculate_verity_hash_size()`), and [`write`], which reads the data
//! region in 1 MiB pieces in parallel, writes the level over the data as
//! it goes, hashes the levels above in parallel and writes them with
//! positioned writes. Pieces and blocks
//! are put together in their order, so the bytes never depend on the
//! number of threads.

use std::fs::File;
use std::os::unix::fs::FileExt;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{Superblock, VerityError, DIGEST};

/// A byte range of the image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub offset: u64,
    pub len: u64,
}

/// Bytes of data read and hashed by one task.
const PIECE: u64 = 1 << 20;

/// The bytes the hash area needs for `data_bytes` of data: the superblock's
/// block, the top block, and every level below it. (For a single data
/// block the kernel compares its digest with the root hash directly and
/// the top block stays unused; the size is systemd-repart's either way.)
pub fn tree_size(data_bytes: u64, data_block: u32, hash_block: u32) -> u64 {
    let per_block = u64::from(hash_block) / DIGEST as u64;
    let mut remaining = data_bytes.div_ceil(u64::from(data_block));
    let mut blocks = 2;
    while remaining > per_block {
        remaining = remaining.div_ceil(per_block);
        blocks += remaining;
    }
    blocks * u64::from(hash_block)
}

fn digest(salt: &[u8], block: &[u8]) -> [u8; DIGEST] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(block);
    h.finalize().into()
}

fn check_block(what: &'static str, size: u32) -> Result<(), VerityError> {
    if size.is_power_of_two() && (512..=4096).contains(&size) {
        Ok(())
    } else {
        Err(VerityError::BlockSize { what, size })
    }
}

/// Hashes `data` of `image`, writes the superblock (`sb.data_blocks` is
/// set here) and the tree at the start of `hash`, and returns the root
/// hash. The rest of `hash` is left as it is (zero in a new image).
/// `counter` is told each piece of data read, in bytes.
///
/// Memory stays small: the level over the data, by far the largest, is
/// written piece by piece where it belongs (each 1 MiB piece of data gives
/// whole hash blocks); only the digests of its blocks, 1/16 of it or less,
/// are kept for the levels above.
pub fn write(
    image: &File,
    data: Region,
    hash: Region,
    mut sb: Superblock,
    counter: &(dyn Fn(u64) + Sync),
) -> Result<[u8; DIGEST], VerityError> {
    check_block("data", sb.data_block_size)?;
    check_block("hash", sb.hash_block_size)?;
    if data.len == 0 {
        return Err(VerityError::NoData);
    }
    let needed = tree_size(data.len, sb.data_block_size, sb.hash_block_size);
    if needed > hash.len {
        return Err(VerityError::TooSmall { needed, capacity: hash.len });
    }
    let hash_block = u64::from(sb.hash_block_size);
    sb.data_blocks = data.len.div_ceil(u64::from(sb.data_block_size));
    let mut first = vec![0u8; hash_block as usize];
    first[..Superblock::SIZE].copy_from_slice(&sb.to_bytes());
    put(image, hash.offset, &first)?;
    let counts = level_counts(sb.data_blocks, hash_block / DIGEST as u64);
    let top = hash.offset + hash_block;
    let bottom = Bottom { at: top + counts[1..].iter().sum::<u64>() * hash_block, hash_block: hash_block as usize };
    let above = bottom_level(image, data, &sb, bottom, counter)?;
    if sb.data_blocks == 1 || counts.len() == 1 {
        // One data block: the kernel checks it against the root directly
        // (no levels; the block written stays unused). One bottom block:
        // it is the top, and the root is its digest.
        return Ok(above[..DIGEST].try_into().unwrap_or([0; DIGEST]));
    }
    let (levels, root) = levels(above, hash_block as usize, &sb.salt);
    let mut at = top;
    for level in levels.iter().rev() {
        put(image, at, level)?;
        at += level.len() as u64;
    }
    Ok(root)
}

fn put(image: &File, at: u64, bytes: &[u8]) -> Result<(), VerityError> {
    image.write_all_at(bytes, at).map_err(|source| VerityError::Write { offset: at, source })
}

/// The number of blocks of each level, from the one over the data up.
fn level_counts(data_blocks: u64, per_block: u64) -> Vec<u64> {
    let mut counts = vec![data_blocks.div_ceil(per_block)];
    while let Some(&last) = counts.last().filter(|&&c| c > 1) {
        counts.push(last.div_ceil(per_block));
    }
    counts
}

/// Where the level over the data starts, and its block size.
#[derive(Clone, Copy)]
struct Bottom {
    at: u64,
    hash_block: usize,
}

/// Reads the data in 1 MiB pieces in parallel; each piece's digests (a
/// short last block hashed zero-padded, as the kernel reads the zeros
/// after it) are written as whole hash blocks at their place in the
/// bottom level. Returns the digest of every bottom block, in order; for
/// a single data block, that block's own digest.
fn bottom_level(
    image: &File,
    data: Region,
    sb: &Superblock,
    bottom: Bottom,
    counter: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u8>, VerityError> {
    let data_block = u64::from(sb.data_block_size);
    let salt = &sb.salt;
    // Digests per piece: whole hash blocks (PIECE / 512 * 32 = 64 KiB).
    let piece_digests = PIECE / data_block * DIGEST as u64;
    let parts = (0..data.len.div_ceil(PIECE))
        .into_par_iter()
        .map(|i| {
            let start = i * PIECE;
            let len = PIECE.min(data.len - start);
            let mut buf = vec![0u8; len.div_ceil(data_block) as usize * data_block as usize];
            let offset = data.offset + start;
            image
                .read_exact_at(&mut buf[..len as usize], offset)
                .map_err(|source| VerityError::Read { offset, source })?;
            counter(len);
            let mut digests: Vec<u8> = buf.chunks(data_block as usize).flat_map(|block| digest(salt, block)).collect();
            if sb.data_blocks == 1 {
                return Ok(digests);
            }
            digests.resize(digests.len().div_ceil(bottom.hash_block) * bottom.hash_block, 0);
            put(image, bottom.at + i * piece_digests, &digests)?;
            Ok(digests.chunks(bottom.hash_block).flat_map(|block| digest(salt, block)).collect::<Vec<u8>>())
        })
        .collect::<Result<Vec<_>, VerityError>>()?;
    Ok(parts.concat())
}

/// The levels above `digests` (the digests of the level below) up to the
/// top (one block), each as whole hash blocks, bottom first, and the root
/// hash.
fn levels(mut digests: Vec<u8>, hash_block: usize, salt: &[u8]) -> (Vec<Vec<u8>>, [u8; DIGEST]) {
    let mut levels = Vec::new();
    loop {
        let mut blocks = digests;
        blocks.resize(blocks.len().div_ceil(hash_block) * hash_block, 0);
        if blocks.len() == hash_block {
            let root = digest(salt, &blocks);
            levels.push(blocks);
            return (levels, root);
        }
        digests = blocks.par_chunks(hash_block).flat_map_iter(|block| digest(salt, block)).collect();
        levels.push(blocks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_size_counts_superblock_top_and_levels() {
        // 8 blocks of 512 fit one 512-byte hash block (16 digests).
        assert_eq!(tree_size(4096, 512, 512), 2 * 512);
        // 1008 blocks: 63 blocks, then 4, then the top: 2 + 63 + 4.
        assert_eq!(tree_size(1008 * 512, 512, 512), 69 * 512);
        // 1 GiB of 4 KiB blocks, 128 digests per block: 2048 + 16 + top + sb.
        assert_eq!(tree_size(1 << 30, 4096, 4096), (2 + 2048 + 16) * 4096);
    }

    #[test]
    fn level_counts_go_up_to_one_block() {
        assert_eq!(level_counts(1008, 16), vec![63, 4, 1]);
        assert_eq!(level_counts(8, 16), vec![1]);
        assert_eq!(level_counts(262_144, 128), vec![2048, 16, 1]);
    }

    #[test]
    fn levels_end_in_one_block_and_the_root_hashes_it() {
        let salt = [7u8; 32];
        let (levels, root) = levels(vec![1u8; 17 * DIGEST], 512, &salt);
        assert_eq!(levels.iter().map(Vec::len).collect::<Vec<_>>(), vec![1024, 512]);
        assert_eq!(root, digest(&salt, &levels[1]));
        assert_eq!(&levels[1][..DIGEST], &digest(&salt, &levels[0][..512]));
    }
}
