//! The hash tree: its size ([`tree_size`], systemd-repart's
//! `calculate_verity_hash_size()`), and [`write`], which reads the data
//! region in 1 MiB pieces in parallel, hashes each level in parallel and
//! writes superblock and levels with positioned writes. Pieces and blocks
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
    let (data_block, hash_block) = (u64::from(sb.data_block_size), sb.hash_block_size as usize);
    sb.data_blocks = data.len.div_ceil(data_block);
    let salt = sb.salt;
    let bottom = data_digests(image, data, data_block, &salt, counter)?;
    let (levels, root) = if sb.data_blocks == 1 {
        // No levels: the kernel checks the one block against the root.
        (Vec::new(), bottom[..DIGEST].try_into().unwrap_or([0; DIGEST]))
    } else {
        levels(bottom, hash_block, &salt)
    };
    let mut first = vec![0u8; hash_block];
    first[..Superblock::SIZE].copy_from_slice(&sb.to_bytes());
    let put = |at: u64, bytes: &[u8]| {
        image.write_all_at(bytes, at).map_err(|source| VerityError::Write { offset: at, source })
    };
    put(hash.offset, &first)?;
    let mut at = hash.offset + hash_block as u64;
    for level in levels.iter().rev() {
        put(at, level)?;
        at += level.len() as u64;
    }
    Ok(root)
}

/// The digest of every data block, in order (a short last block is
/// hashed zero-padded, as the kernel reads the zeros after it).
fn data_digests(
    image: &File,
    data: Region,
    data_block: u64,
    salt: &[u8],
    counter: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u8>, VerityError> {
    let pieces = data.len.div_ceil(PIECE);
    let parts = (0..pieces)
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
            Ok(buf.chunks(data_block as usize).flat_map(|block| digest(salt, block)).collect::<Vec<u8>>())
        })
        .collect::<Result<Vec<_>, VerityError>>()?;
    Ok(parts.concat())
}

/// The levels from the bottom (over the data) to the top (one block), each
/// as whole hash blocks, and the root hash.
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
    fn levels_end_in_one_block_and_the_root_hashes_it() {
        let salt = [7u8; 32];
        let (levels, root) = levels(vec![1u8; 17 * DIGEST], 512, &salt);
        assert_eq!(levels.iter().map(Vec::len).collect::<Vec<_>>(), vec![1024, 512]);
        assert_eq!(root, digest(&salt, &levels[1]));
        assert_eq!(&levels[1][..DIGEST], &digest(&salt, &levels[0][..512]));
    }
}
