//! Everything that goes into the output files besides the filesystems:
//! pending files renamed into place at the end ([`pending`]), raw byte
//! copies ([`blocks`]), dm-verity hash trees ([`verity`]), split files ([`split`]), the partition table
//! ([`gpt`]), `repart-output.json` ([`report`]) and `.raw.zst`/`.raw.xz`
//! ([`compress`]). Nothing here reads a partition's sources.

pub mod blocks;
pub mod compress;
pub mod disk;
pub mod gpt;
pub mod mbr;
pub mod pending;
pub mod report;
pub mod seekable;
pub mod split;
pub mod verity;

pub use pending::PendingFile;

use std::path::PathBuf;

/// What a build wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub image: PathBuf,
    pub report: PathBuf,
    pub split_files: Vec<PathBuf>,
    /// What the build measured on the way (free space of ext filesystems,
    /// a retried estimate).
    pub notes: Vec<String>,
    /// The table of partitions, for the end of the log.
    pub summary: String,
}
