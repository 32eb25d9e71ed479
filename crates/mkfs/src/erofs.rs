//! erofs with `mkfs.erofs` from a staged tree into a file of its own
//! (erofs-utils 1.5 cannot write at an offset; the build copies the file
//! into the image with its holes kept). Inode times are the staging
//! tree's (source mtimes clamped to `SOURCE_DATE_EPOCH`), which is also
//! the build time; `-U` pins the UUID, `--all-root` the owners; mkfs.erofs sorts
//! directory entries itself, so the result does not depend on the
//! staging filesystem. A run that exits 0 must leave an erofs superblock.

use std::path::Path;

use nix_repart_spec::ErofsCompression;
use uuid::Uuid;

use crate::tool::{self, Outcome, MKFS_EROFS};
use crate::MkfsError;

/// One erofs filesystem to make.
pub struct ErofsJob<'a> {
    pub staged: &'a Path,
    pub output: &'a Path,
    pub uuid: Uuid,
    pub epoch: u64,
    pub compression: ErofsCompression,
    pub extra: &'a [String],
}

pub fn make(job: &ErofsJob) -> Result<(), MkfsError> {
    // No -T: with SOURCE_DATE_EPOCH in its environment mkfs.erofs keeps
    // each inode's mtime from the staging tree (already clamped there) and
    // clamps anything newer, and takes it as the build time.
    let mut args = vec![format!("-U{}", job.uuid.hyphenated()), "--all-root".into()];
    args.push("--quiet".into());
    if let Some(z) = job.compression.mkfs_argument() {
        args.push(format!("-z{z}"));
    }
    args.extend(job.extra.iter().cloned());
    args.push(job.output.display().to_string());
    args.push(job.staged.display().to_string());
    match tool::run(MKFS_EROFS, &args, job.epoch, &[])? {
        Outcome::Success => check_superblock(job.output),
        Outcome::Failed(failure) => Err(MkfsError::ToolFailed { tool: MKFS_EROFS.name, failure }),
    }
}

/// The erofs superblock magic (`EROFS_SUPER_MAGIC_V1`), at byte 1024.
const EROFS_MAGIC: u32 = 0xE0F5_E1E2;

/// A tool that exits 0 must still have made a filesystem: an empty or
/// foreign file would become a silently broken partition.
fn check_superblock(path: &Path) -> Result<(), MkfsError> {
    use std::os::unix::fs::FileExt;
    let fail = |what| MkfsError::NoFilesystem { tool: MKFS_EROFS.name, path: path.to_path_buf(), what };
    let file = std::fs::File::open(path).map_err(|source| MkfsError::Run { tool: MKFS_EROFS.name, source })?;
    let mut magic = [0u8; 4];
    match file.read_exact_at(&mut magic, 1024) {
        Ok(()) if u32::from_le_bytes(magic) == EROFS_MAGIC => Ok(()),
        Ok(()) => Err(fail("no erofs superblock at byte 1024")),
        Err(_) => Err(fail("the file is shorter than an erofs superblock")),
    }
}
