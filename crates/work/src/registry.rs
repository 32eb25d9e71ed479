//! What an interrupted process must undo: live work directories, outputs
//! renamed into place by builds that have not finished, output directories
//! they created, and running children. One lock guards it all, so a child
//! cannot start while [`abort`] runs, nor after it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub(crate) struct Registry {
    pub aborting: bool,
    pub work_dirs: Vec<PathBuf>,
    pub outputs: Vec<PathBuf>,
    pub created_dirs: Vec<PathBuf>,
    pub children: Vec<u32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    aborting: false,
    work_dirs: Vec::new(),
    outputs: Vec::new(),
    created_dirs: Vec::new(),
    children: Vec::new(),
});

pub(crate) fn registry() -> MutexGuard<'static, Registry> {
    // A poisoned lock only means a thread panicked while holding it; the
    // lists are still right.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes a work directory that other threads may still be writing into:
/// renamed first, so that no new entry can appear under its old path, then
/// removed. The new name keeps the work prefix, so should removing fail, the
/// next build removes it.
fn remove_while_written(dir: &Path) {
    let moved = dir.with_file_name(format!(
        "{}.removing",
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let target = if std::fs::rename(dir, &moved).is_ok() { moved } else { dir.to_path_buf() };
    for _ in 0..5 {
        if std::fs::remove_dir_all(&target).is_ok() || !target.exists() {
            return;
        }
    }
}

/// Whether [`abort`] has run: what fails after it fails because of it, and
/// the interrupted process must not report that as an error of its own.
pub fn aborting() -> bool {
    registry().aborting
}

/// Ends every child started through [`crate::run`] (SIGKILL, by PID) and
/// removes every live work directory, the outputs of unfinished builds and
/// the output directories they created. No child starts afterwards. For a
/// signal handler: the caller exits right after.
pub fn abort() {
    let mut r = registry();
    r.aborting = true;
    for pid in r.children.drain(..) {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill(2) takes two integers and touches no memory.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    for dir in r.work_dirs.drain(..) {
        remove_while_written(&dir);
    }
    for output in r.outputs.drain(..) {
        let _ = std::fs::remove_file(output);
    }
    for dir in r.created_dirs.drain(..) {
        let _ = std::fs::remove_dir(dir);
    }
}
