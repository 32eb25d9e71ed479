//! Everything that goes into the output files besides the filesystems:
//! pending files renamed into place at the end ([`pending`]), raw byte
//! copies ([`blocks`]), split files ([`split`]), the partition table
//! ([`gpt`]), `repart-output.json` ([`report`]) and `.raw.zst`/`.raw.xz`
//! ([`compress`]). Nothing here reads a partition's sources.

pub mod blocks;
pub mod compress;
pub mod gpt;
pub mod pending;
pub mod report;
pub mod split;

pub use pending::PendingFile;
