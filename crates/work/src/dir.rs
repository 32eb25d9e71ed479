//! The work directory of one build, and the renames that take outputs out
//! of it.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::registry::registry;
use crate::WorkError;

/// The name every work directory starts with.
pub const WORK_DIR_PREFIX: &str = ".nix-repart-work.";

/// A build's work directory; see the crate documentation.
pub struct WorkDir {
    path: PathBuf,
    /// Holds the `flock` that marks the build as alive.
    _lock: File,
    /// Outputs renamed into place so far.
    committed: Vec<PathBuf>,
    /// The output directory, when this build created it.
    created: Option<PathBuf>,
}

/// Opens a directory without following a symlink.
fn open_dir(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW).open(path)
}

/// `flock(2)`, exclusive; `wait` false gives up at once when it is held.
fn lock(file: &File, wait: bool) -> std::io::Result<bool> {
    let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
    // SAFETY: flock(2) on a descriptor owned by `file`, open for the call.
    if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

impl WorkDir {
    /// Creates the output directory if needed and a work directory in it,
    /// after removing the work directories of killed builds there.
    pub fn create(out_dir: &Path) -> Result<WorkDir, WorkError> {
        let created = match std::fs::symlink_metadata(out_dir) {
            Ok(meta) if meta.is_dir() => None,
            Ok(_) if out_dir.is_dir() => None,
            Ok(_) => return Err(WorkError::NotADirectory { path: out_dir.to_path_buf() }),
            Err(_) => {
                // Made and registered under the lock: an interrupt cannot
                // fall between the two.
                let mut r = registry();
                if r.aborting {
                    return Err(interrupted(out_dir));
                }
                std::fs::create_dir_all(out_dir)
                    .map_err(|source| WorkError::CreateDir { path: out_dir.to_path_buf(), source })?;
                r.created_dirs.push(out_dir.to_path_buf());
                Some(out_dir.to_path_buf())
            }
        };
        let made = Self::create_in(out_dir);
        if made.is_err() {
            if let Some(dir) = &created {
                let _ = std::fs::remove_dir(dir);
                registry().created_dirs.retain(|d| d != dir);
            }
        }
        let mut work = made?;
        work.created = created;
        Ok(work)
    }

    fn create_in(parent: &Path) -> Result<WorkDir, WorkError> {
        let fail = |source| WorkError::Create { path: parent.to_path_buf(), source };
        // Holding the parent's lock while looking for stale directories
        // and making ours keeps a concurrent build from taking our new,
        // not yet locked, directory for a stale one.
        // The output directory itself may be a symlink to one (accepted
        // by `create`); only the entries found in it are never followed.
        let parent_lock = std::fs::File::open(parent).map_err(fail)?;
        lock(&parent_lock, true).map_err(fail)?;
        remove_stale(parent)?;
        let mut r = registry();
        if r.aborting {
            return Err(interrupted(parent));
        }
        let dir = tempfile::Builder::new().prefix(WORK_DIR_PREFIX).tempdir_in(parent).map_err(fail)?;
        let path = dir.keep();
        let registered = open_dir(&path).and_then(|own| {
            lock(&own, false)?;
            Ok(own)
        });
        match registered {
            Ok(own) => {
                r.work_dirs.push(path.clone());
                Ok(WorkDir { path, _lock: own, committed: Vec::new(), created: None })
            }
            Err(source) => {
                let _ = std::fs::remove_dir_all(&path);
                Err(fail(source))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new empty file in the work directory for the output `target`.
    pub fn output_file(&self, target: &Path) -> Result<(File, PathBuf), WorkError> {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let fail = |source| WorkError::Create { path: self.path.clone(), source };
        let file = tempfile::Builder::new().prefix(&format!("{name}.")).tempfile_in(&self.path).map_err(fail)?;
        let (file, path) = file.keep().map_err(|e| fail(e.error))?;
        Ok((file, path))
    }

    /// Renames `from` (in the work directory) to `to`, mode 0644 whatever
    /// the umask. Until [`WorkDir::finish`], an error or interrupt removes
    /// it again.
    pub fn commit(&mut self, from: &Path, to: &Path) -> Result<(), WorkError> {
        let fail = |source| WorkError::Commit { from: from.to_path_buf(), to: to.to_path_buf(), source };
        std::fs::set_permissions(from, std::fs::Permissions::from_mode(0o644)).map_err(fail)?;
        let mut r = registry();
        std::fs::rename(from, to).map_err(fail)?;
        r.outputs.push(to.to_path_buf());
        self.committed.push(to.to_path_buf());
        Ok(())
    }

    /// The build succeeded: its outputs stay, the work directory goes.
    pub fn finish(mut self) {
        let mut r = registry();
        r.outputs.retain(|o| !self.committed.contains(o));
        if let Some(dir) = self.created.take() {
            r.created_dirs.retain(|d| *d != dir);
        }
        self.committed.clear();
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        let mut r = registry();
        r.work_dirs.retain(|d| *d != self.path);
        for output in self.committed.drain(..) {
            let _ = std::fs::remove_file(&output);
            r.outputs.retain(|o| *o != output);
        }
        if let Some(dir) = self.created.take() {
            let _ = std::fs::remove_dir(&dir);
            r.created_dirs.retain(|d| *d != dir);
        }
    }
}

fn interrupted(path: &Path) -> WorkError {
    let source = std::io::Error::new(std::io::ErrorKind::Interrupted, "nix-repart is being interrupted");
    WorkError::Create { path: path.to_path_buf(), source }
}

/// Removes the work directories in `parent` that no live build holds.
fn remove_stale(parent: &Path) -> Result<(), WorkError> {
    let Ok(entries) = std::fs::read_dir(parent) else { return Ok(()) };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(WORK_DIR_PREFIX) {
            continue;
        }
        let path = entry.path();
        // A symlink or file with the prefix is not ours: leave it.
        let Ok(dir) = open_dir(&path) else { continue };
        if lock(&dir, false).unwrap_or(false) {
            std::fs::remove_dir_all(&path).map_err(|source| WorkError::RemoveStale { path: path.clone(), source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_builds_directory_is_removed_and_a_live_one_kept() {
        let out = tempfile::tempdir().expect("tempdir");
        let stale = out.path().join(format!("{WORK_DIR_PREFIX}dead"));
        std::fs::create_dir_all(stale.join("stage/a")).expect("mkdir");
        let live = WorkDir::create(out.path()).expect("work dir");
        let second = WorkDir::create(out.path()).expect("second work dir");
        assert!(!stale.exists(), "the unlocked work directory was not removed");
        assert!(live.path().exists(), "a live build's work directory was removed");
        drop(second);
        let path = live.path().to_path_buf();
        live.finish();
        assert!(!path.exists());
    }

    #[test]
    fn an_unfinished_build_removes_its_outputs_and_the_directory_it_made() {
        let top = tempfile::tempdir().expect("tempdir");
        let out = top.path().join("new");
        let mut work = WorkDir::create(&out).expect("work dir");
        let (_, temp) = work.output_file(Path::new("x.raw")).expect("file");
        work.commit(&temp, &out.join("x.raw")).expect("commit");
        assert!(out.join("x.raw").exists());
        drop(work);
        assert!(!out.exists(), "the output directory made by the failed build is still there");
    }

    #[test]
    fn an_output_directory_behind_a_symlink_is_used() {
        let top = tempfile::tempdir().expect("tempdir");
        let real = top.path().join("real");
        std::fs::create_dir(&real).expect("mkdir");
        let link = top.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let work = WorkDir::create(&link).expect("work dir behind a symlink");
        assert!(work.path().starts_with(&link) && work.path().exists());
        work.finish();
        assert!(real.exists() && std::fs::read_dir(&real).expect("ls").next().is_none());
    }

    #[test]
    fn a_file_as_output_directory_is_refused() {
        let top = tempfile::tempdir().expect("tempdir");
        let file = top.path().join("f");
        std::fs::write(&file, b"x").expect("write");
        let err = WorkDir::create(&file).err().expect("refused");
        assert!(matches!(err, WorkError::NotADirectory { .. }), "{err:?}");
        assert!(err.is_input_error());
    }
}
