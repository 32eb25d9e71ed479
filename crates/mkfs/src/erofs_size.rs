//! How large an erofs filesystem made by mkfs.erofs from a tree can be,
//! computed from the tree alone, for `nix-repart plan` (which does not
//! run mkfs.erofs unless asked to with `--exact`).
//!
//! The bound: mkfs.erofs (erofs-utils 1.5, 4 KiB blocks) writes a
//! superblock block, inodes of at most 64 bytes (extended form), each
//! file's data in whole blocks (its tail either inline in the inode area
//! or in a block of its own), directories as blocks of 12-byte entries
//! plus names, and symlink targets inline or in a block. Compression only
//! makes a file smaller: erofs stores a cluster uncompressed when
//! compressing it saves no block. So the uncompressed layout, with every
//! tail and directory in blocks of their own, bounds every erofs.
//! The estimate is that layout with tails and small directories packed
//! with the inodes, as mkfs.erofs packs them.

use nix_repart_tree::{Directory, Node};

const BLOCK: u64 = 4096;
const INODE: u64 = 64;
const DIRENT: u64 = 12;

/// The estimated size and the size the filesystem cannot exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErofsSize {
    pub estimate: u64,
    pub upper_bound: u64,
}

#[derive(Default)]
struct Sum {
    full_blocks: u64,
    packed: u64,
    bound: u64,
}

impl Sum {
    /// `bytes` of data: whole blocks, and a tail packed with the inodes.
    fn data(&mut self, bytes: u64) {
        self.full_blocks += bytes / BLOCK;
        self.packed += INODE + bytes % BLOCK;
        self.bound += INODE + bytes.div_ceil(BLOCK) * BLOCK;
    }

    fn directory(&mut self, dir: &Directory) {
        let names: u64 = dir.entries.keys().map(|n| DIRENT + n.len() as u64).sum::<u64>() + 2 * DIRENT + 3;
        self.data(names);
        for node in dir.entries.values() {
            match node {
                Node::Directory(sub) => self.directory(sub),
                Node::File(file) => self.data(file.size),
                Node::Symlink(link) => self.data(link.target.len() as u64),
            }
        }
    }
}

pub fn estimate(tree: &Directory) -> ErofsSize {
    let mut sum = Sum::default();
    sum.directory(tree);
    let superblock = 2 * BLOCK;
    ErofsSize {
        estimate: superblock + sum.full_blocks * BLOCK + sum.packed.div_ceil(BLOCK) * BLOCK,
        upper_bound: superblock + sum.bound.div_ceil(BLOCK) * BLOCK,
    }
}
