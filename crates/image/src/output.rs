//! Output files that appear whole or not at all: each is written under a
//! temporary name in the output directory and renamed into place once
//! complete. Files are not fsync'ed: this guards against errors and
//! interrupts, not power loss, which a Nix build survives by building again
//! (and syncing a multi-GiB image would cost more than the rest of the build). An error drops (deletes) the temporary file; an interrupt is
//! handled by [`remove_pending`], which the binary calls from its Ctrl-C
//! handler.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::NamedTempFile;

use crate::ImageError;

/// Temporary files not yet renamed into place.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A poisoned lock only means another thread panicked while holding it;
    // the list itself is still usable.
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Deletes every temporary output file that has not been renamed yet.
/// Safe to call from a signal handler thread (the `ctrlc` crate runs it on
/// a normal thread).
pub fn remove_pending() {
    for path in pending().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// A file being written under a temporary name next to its final path.
pub struct PendingFile {
    /// `None` once committed.
    temp: Option<NamedTempFile>,
    temp_path: PathBuf,
    target: PathBuf,
}

impl PendingFile {
    /// Creates `.<name>.<random>` in the directory of `target`.
    pub fn create(target: &Path) -> Result<PendingFile, ImageError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(dir)
            .map_err(|source| ImageError::Write { path: target.to_path_buf(), source })?;
        let temp_path = temp.path().to_path_buf();
        pending().push(temp_path.clone());
        Ok(PendingFile { temp: Some(temp), temp_path, target: target.to_path_buf() })
    }

    pub fn file(&mut self) -> &mut File {
        // `temp` is only taken by `commit`, which consumes `self`.
        match self.temp.as_mut() {
            Some(temp) => temp.as_file_mut(),
            None => unreachable!("PendingFile used after commit"),
        }
    }

    /// The temporary file's path, for tools that write into it by name.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the file into place (atomically, in the same directory).
    pub fn commit(mut self) -> Result<(), ImageError> {
        let target = self.target.clone();
        let write_error = |source| ImageError::Write { path: target.clone(), source };
        let Some(temp) = self.temp.take() else { return Ok(()) };
        // 0644 whatever the umask: the output must not depend on it.
        temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(write_error)?;
        temp.persist(&target).map_err(|e| write_error(e.error))?;
        Ok(())
    }
}

impl Drop for PendingFile {
    /// Unregisters the temporary file; `NamedTempFile` deletes it unless
    /// it was renamed into place.
    fn drop(&mut self) {
        pending().retain(|p| *p != self.temp_path);
    }
}
