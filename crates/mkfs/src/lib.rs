//! Filesystems nix-repart does not write itself: ext2/3/4 and erofs, made
//! by their mkfs tools from a staging tree (see `nix_repart_tree::stage`)
//! and made reproducible, plus swap headers, written here. Sizing for
//! `Minimize=` is computed from the tree ([`ext_size`]); this crate does
//! not plan or place partitions.

pub mod erofs;
mod error;
pub mod ext;
mod ext_fixup;
pub mod ext_size;
pub mod swap;
mod tool;

pub use error::MkfsError;
pub use ext_fixup::ExtReport;

/// The ext variants mke2fs makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtKind {
    Ext2,
    Ext3,
    Ext4,
}

impl ExtKind {
    pub fn from_format(format: &str) -> Option<ExtKind> {
        match format {
            "ext2" => Some(ExtKind::Ext2),
            "ext3" => Some(ExtKind::Ext3),
            "ext4" => Some(ExtKind::Ext4),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ExtKind::Ext2 => "ext2",
            ExtKind::Ext3 => "ext3",
            ExtKind::Ext4 => "ext4",
        }
    }
}
