//! A staging copy of a tree on disk, for filesystems made by external mkfs
//! tools (`mkfs.ext4 -d`, `mkfs.erofs`), which read a directory.
//!
//! Directories and symlinks are created first, in one sorted walk; file
//! data is then copied in parallel (rayon) with a reflink (`FICLONE`) where
//! the filesystem has them, else `copy_file_range` (what `std::io::copy`
//! uses between files on Linux), which stays in the kernel. Every path is
//! its own file, so hard links in the sources never show. Modes are set
//! explicitly (the umask does not matter) and every atime and mtime is the
//! source's mtime clamped to `SOURCE_DATE_EPOCH` (see
//! [`crate::image_mtime`]), directories last, once their entries exist. The
//! staging directory is removed when [`Staged`] is dropped, also on error.
//! Inode change times cannot be set from user space: the mkfs drivers deal
//! with them.

use nix_repart_progress::Counter;
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::{Directory, Node};

/// Why a tree could not be staged.
#[derive(Debug, thiserror::Error)]
#[error("cannot stage {path} (from {from})")]
pub struct StageError {
    pub path: PathBuf,
    pub from: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// A staged tree; the directory goes away on drop.
pub struct Staged {
    dir: tempfile::TempDir,
}

impl Staged {
    /// The root of the staged tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

struct FileCopy<'t> {
    from: &'t Path,
    to: PathBuf,
    mode: u32,
    size: u64,
    /// The mtime to give the copy.
    mtime: i64,
}

/// Stages `root` in a new directory under `parent` (best next to the
/// output, on the filesystem of the store, where reflinks can work).
/// Each file copied is counted on `counter`, with its size.
pub fn stage(root: &Directory, parent: &Path, epoch: i64, counter: &Counter) -> Result<Staged, StageError> {
    let err = |path: &Path, from: &Path| {
        let (path, from) = (path.to_path_buf(), from.to_path_buf());
        move |source| StageError { path, from, source }
    };
    let dir = tempfile::Builder::new().prefix(".nix-repart-stage.").tempdir_in(parent).map_err(err(parent, parent))?;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    layout(root, dir.path(), epoch, &mut files, &mut dirs)?;
    files.par_iter().try_for_each(|f| {
        copy_file(f).map_err(err(&f.to, f.from))?;
        counter.add_bytes(f.size);
        counter.add_files(1);
        Ok(())
    })?;
    // Deepest first: setting a directory's times after its entries exist.
    for (path, mode, mtime) in dirs.iter().rev() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode)).map_err(err(path, path))?;
        set_times(path, *mtime).map_err(err(path, path))?;
    }
    Ok(Staged { dir })
}

/// Creates directories and symlinks; collects the files to copy.
fn layout<'t>(
    dir: &'t Directory,
    at: &Path,
    epoch: i64,
    files: &mut Vec<FileCopy<'t>>,
    dirs: &mut Vec<(PathBuf, u32, i64)>,
) -> Result<(), StageError> {
    dirs.push((at.to_path_buf(), dir.mode, time(dir.mtime, epoch)));
    for (name, node) in &dir.entries {
        let path = at.join(name);
        match node {
            Node::Directory(sub) => {
                let from = sub.source.clone().unwrap_or_default();
                std::fs::create_dir(&path).map_err(|source| StageError {
                    path: path.clone(),
                    from: from.clone(),
                    source,
                })?;
                layout(sub, &path, epoch, files, dirs)?;
            }
            Node::File(file) => {
                let mtime = time(Some(file.mtime), epoch);
                files.push(FileCopy { from: &file.source, to: path, mode: file.mode, size: file.size, mtime });
            }
            Node::Symlink(link) => {
                let fail = |source| StageError { path: path.clone(), from: link.source.clone(), source };
                symlink(&link.target, &path).map_err(fail)?;
                set_times(&path, time(Some(link.mtime), epoch)).map_err(fail)?;
            }
        }
    }
    Ok(())
}

fn copy_file(copy: &FileCopy) -> std::io::Result<()> {
    let mut source = File::open(copy.from)?;
    let mut dest = OpenOptions::new().write(true).create_new(true).open(&copy.to)?;
    if !reflink(&source, &dest) {
        std::io::copy(&mut source, &mut dest)?;
    }
    dest.set_permissions(std::fs::Permissions::from_mode(copy.mode))?;
    drop(dest);
    set_times(&copy.to, copy.mtime)
}

/// `ioctl(FICLONE)`: shares the source's blocks (btrfs, XFS, bcachefs);
/// false where the filesystem cannot.
fn reflink(source: &File, dest: &File) -> bool {
    use std::os::fd::AsRawFd;
    // FICLONE = _IOW(0x94, 9, int), from linux/fs.h.
    const FICLONE: libc::c_ulong = 0x4004_9409;
    // SAFETY: both descriptors are open for the duration of the call; the
    // ioctl takes the source descriptor by value and touches no memory.
    unsafe { libc::ioctl(dest.as_raw_fd(), FICLONE as _, source.as_raw_fd()) == 0 }
}

/// The staged copy's time: see [`crate::image_mtime`].
fn time(mtime: Option<i64>, epoch: i64) -> i64 {
    let epoch = u64::try_from(epoch.max(0)).unwrap_or(0);
    i64::try_from(crate::image_mtime(mtime, epoch)).unwrap_or(i64::MAX)
}

/// Sets atime and mtime (to the second) without following a symlink.
fn set_times(path: &Path, epoch: i64) -> std::io::Result<()> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    let time = libc::timespec { tv_sec: epoch as libc::time_t, tv_nsec: 0 };
    let times = [time, time];
    // SAFETY: `c_path` is a NUL-terminated string and `times` two valid
    // timespecs, both alive for the call.
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c_path.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
