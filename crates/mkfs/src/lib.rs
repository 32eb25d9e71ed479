//! Filesystems nix-repart does not write itself: ext2/3/4 and erofs, made
//! by their mkfs tools from a staging tree (see `nix_repart_tree::stage`)
//! and made reproducible, plus swap headers, written here. Sizing for
//! `Minimize=` is computed from the tree ([`ext_size`]); this crate does
//! not plan or place partitions.

pub mod erofs;
pub mod erofs_size;
mod error;
pub mod ext;
mod ext_fixup;
pub mod ext_owners;
pub mod ext_size;
pub mod swap;
mod tool;

pub use error::{MkfsError, ToolFailure};
pub use ext_fixup::ExtReport;

/// The ext variants mke2fs makes, as the spec names them.
pub use nix_repart_spec::ExtKind;
