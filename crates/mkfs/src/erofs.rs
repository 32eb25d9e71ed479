//! erofs with `mkfs.erofs` from a staged tree into a file of its own
//! (erofs-utils 1.5 cannot write at an offset; the build copies the file
//! into the image with its holes kept). `-T` pins every inode time and the
//! build time, `-U` the UUID, `--all-root` the owners; mkfs.erofs sorts
//! directory entries itself, so the result does not depend on the
//! staging filesystem.

use std::path::Path;

use uuid::Uuid;

use crate::tool::{self, Outcome, MKFS_EROFS};
use crate::MkfsError;

/// One erofs filesystem to make.
pub struct ErofsJob<'a> {
    pub staged: &'a Path,
    pub output: &'a Path,
    pub uuid: Uuid,
    pub epoch: u64,
    /// `Compression=` (only `lz4` here, as `lz4hc` with a level).
    pub compression: Option<&'a str>,
    pub level: Option<u32>,
    pub extra: &'a [String],
}

/// `-z` for `Compression=`/`CompressionLevel=`.
fn compressor(compression: Option<&str>, level: Option<u32>) -> Result<Option<String>, MkfsError> {
    match (compression, level) {
        (None, _) => Ok(None),
        (Some("lz4"), None) => Ok(Some("lz4".to_string())),
        (Some("lz4"), Some(level)) => Ok(Some(format!("lz4hc,{level}"))),
        (Some(other), _) => Err(MkfsError::ErofsCompression { compression: other.to_string() }),
    }
}

pub fn make(job: &ErofsJob) -> Result<(), MkfsError> {
    let mut args = vec![format!("-T{}", job.epoch), format!("-U{}", job.uuid.hyphenated()), "--all-root".into()];
    args.push("--quiet".into());
    if let Some(z) = compressor(job.compression, job.level)? {
        args.push(format!("-z{z}"));
    }
    args.extend(job.extra.iter().cloned());
    args.push(job.output.display().to_string());
    args.push(job.staged.display().to_string());
    match tool::run(MKFS_EROFS, &args, &[])? {
        Outcome::Success => Ok(()),
        Outcome::Failed { status, stderr } => Err(MkfsError::ToolFailed { tool: MKFS_EROFS.name, status, stderr }),
    }
}
