//! Files nix-repart makes for a partition (its Nix database, systemd-boot's
//! loader files): a directory for them in the work directory, and their
//! mtime set to `SOURCE_DATE_EPOCH` once written, as every file in an
//! image gets it.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::context::Build;

/// `work/<what>-<partition id>`, made.
pub fn dir(b: &Build, what: &str, id: &str) -> std::io::Result<PathBuf> {
    let dir = b.work.join(format!("{what}-{id}"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Dates a written file at `SOURCE_DATE_EPOCH`.
pub fn stamp(b: &Build, path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::options().write(true).open(path)?;
    let when = UNIX_EPOCH + Duration::from_secs(b.options.source_date_epoch);
    file.set_times(std::fs::FileTimes::new().set_modified(when))
}
