//! What measuring a partition leaves for the later stages: what is still
//! to be written ([`Content`]), the size its content needs, and the facts
//! the summary table shows.

use std::time::Duration;

use nix_repart_fat::Prepared;
use nix_repart_mkfs::ext_size::ExtSize;
use nix_repart_mkfs::ExtKind;
use nix_repart_spec::Bytes;
use nix_repart_tree::Directory;
use tempfile::NamedTempFile;

/// What is left to do for a partition once it is measured.
pub enum Content {
    /// No filesystem (and no `CopyBlocks=`), or nothing left to write.
    Nothing,
    /// Already written, at `at` in the image file (a streaming writer).
    Streamed {
        at: u64,
    },
    CopyBlocks,
    Fat(Box<Prepared>),
    Ext(Box<ExtPending>),
    Erofs(ErofsMade),
    Swap,
}

/// One partition, measured.
pub struct Measured {
    pub content: Content,
    /// What the partition must hold at least; `None` when nothing.
    pub size: Option<Bytes>,
    pub facts: Facts,
}

/// What the summary table shows of a partition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Bytes of file data in its tree.
    pub content_bytes: u64,
    /// Files, directories and symlinks in its tree.
    pub entries: u64,
    /// The filesystem's size, where it is known exactly.
    pub filesystem_bytes: Option<u64>,
    /// When the size is an estimate: the bound it is sure of.
    pub estimate: Option<Estimate>,
    pub elapsed: Duration,
    /// What the writer measured (free space of an ext filesystem, a retry).
    pub notes: Vec<String>,
}

/// A size that was estimated, not computed (`nix-repart plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The size can be no larger than this.
    pub upper_bound: u64,
    /// How it was estimated.
    pub method: &'static str,
}

impl Facts {
    pub fn of_tree(tree: &nix_repart_tree::Directory) -> Facts {
        let totals = tree.totals();
        let entries = totals.files + totals.directories + totals.symlinks;
        Facts { content_bytes: totals.file_bytes, entries, ..Facts::default() }
    }
}

/// An ext filesystem to make after planning (see `ext`).
pub struct ExtPending {
    pub tree: Directory,
    pub kind: ExtKind,
    pub size: ExtSize,
    pub minimized: bool,
}

/// A finished erofs filesystem in a scratch file of `size` bytes.
pub struct ErofsMade {
    pub file: NamedTempFile,
    pub size: u64,
}
