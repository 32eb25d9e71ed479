//! dm-verity hash trees as `veritysetup format` writes them with a
//! superblock at hash offset 0 (format 1, sha256), computed here instead
//! of by cryptsetup: [`tree_size`] says how large the hash area is,
//! [`write()`] hashes a data region of an image file and writes the
//! superblock and the tree into the hash region, returning the root hash.
//!
//! The layout (kernel docs, admin-guide/device-mapper/verity.rst, "Hash
//! tree"; cryptsetup's lib/verity): the hash area is a sequence of hash
//! blocks. Block 0 holds the 512-byte superblock. Then come the tree's
//! levels, the top (one block) first and the level over the data blocks
//! last. Each block of a level holds the digests of consecutive blocks of
//! the level below (`sha256(salt || block)`), packed, zero after the last;
//! the root hash is the digest of the top block.
//!
//! Not here: choosing the salt or the superblock UUID (the planner derives
//! them from the seed), FEC, signatures, or any other hash.

mod superblock;
mod tree;

pub use superblock::Superblock;
pub use tree::{tree_size, write, Region};

/// Errors of reading the data region or writing the hash region.
#[derive(Debug, thiserror::Error)]
pub enum VerityError {
    #[error("reading the data at byte {offset}")]
    Read {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the hash tree at byte {offset}")]
    Write {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("the hash tree needs {needed} bytes, the hash partition has {capacity}")]
    TooSmall { needed: u64, capacity: u64 },
    #[error("{what} block size {size} is not a power of two from 512 to 4096")]
    BlockSize { what: &'static str, size: u32 },
    #[error("the data area is empty")]
    NoData,
}

/// Bytes of a sha256 digest.
pub const DIGEST: usize = 32;
