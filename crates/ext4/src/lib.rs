//! nix-repart's own ext4 writer: a partition's tree written straight into
//! its region of the image, with no staging copy and no mke2fs. File data
//! is copied in parallel (rayon) from the sources; every other block is
//! laid out from the tree's shape alone ([`layout`], [`nodes`]), so the
//! bytes are the same for any thread count, creation order or hard links.
//!
//! What it writes: 4 KiB blocks, 256-byte inodes, the features of
//! systemd-repart's mke2fs invocation (has_journal, ext_attr,
//! resize_inode, dir_index, filetype, extent, 64bit, flex_bg,
//! sparse_super, large_file, huge_file, dir_nlink, extra_isize,
//! metadata_csum), a journal of mke2fs's default size, mke2fs's reserve of
//! descriptor blocks with the resize inode (online growth), hashed
//! directories past one block, lost+found, owners and modes from the tree,
//! every time the build's but the mtimes the tree gives. [`minimal`] sizes
//! a filesystem from the same layout, before writing. Not written:
//! extended attributes, holes (every block of a file is allocated; zero
//! pieces are left as the punched region's zeros).
//! docs/extfs.md has the decisions and their references.

mod bytes;
pub mod csum;
mod dir;
mod error;
mod extent;
mod hash;
mod htree;
mod inode;
pub mod journal;
pub mod layout;
pub mod nodes;
pub mod plan;
mod resize;
mod super_block;
mod write;

pub use error::Ext4Error;
pub use plan::{minimal, Prepared, Sizing};
pub use write::{write, Ext4Job, Written};
