//! Why an ext4 filesystem could not be written.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Ext4Error {
    #[error("the files need {needed} blocks of 4 KiB, the filesystem has {blocks}")]
    TooSmall { needed: u64, blocks: u64 },
    #[error("{inodes_needed} inodes are needed, the filesystem has {inodes}")]
    TooFewInodes { inodes_needed: u64, inodes: u64 },
    #[error("{blocks} blocks of 4 KiB is too small for an ext4 filesystem (at least {min})")]
    TooSmallForExt4 { blocks: u64, min: u64 },
    #[error("{path} is too fragmented for nix-repart's ext4 writer ({extents} extents, at most {max})")]
    TooManyExtents { path: String, extents: usize, max: usize },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} changed while the image was written ({expected} bytes expected)")]
    SourceChanged { path: PathBuf, expected: u64 },
    #[error("cannot write the filesystem")]
    Write(#[source] std::io::Error),
}

impl Ext4Error {
    /// Whether the user's input is at fault (a source that cannot be read
    /// or changed while it was copied), not nix-repart or the machine.
    pub fn is_input_error(&self) -> bool {
        matches!(self, Ext4Error::Read { .. } | Ext4Error::SourceChanged { .. } | Ext4Error::TooManyExtents { .. })
    }
}
