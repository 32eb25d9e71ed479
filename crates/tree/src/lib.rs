//! What goes into a partition's filesystem, before any filesystem is
//! written: one sorted tree built from the partition's `contents`,
//! `CopyFiles=`, store paths (under `nixStorePrefix`) and
//! `MakeDirectories=`, minus `ExcludeFiles=`/`ExcludeFilesTarget=`.
//!
//! Directories are read in parallel (rayon); entries are kept in byte
//! order of their names, so the tree never depends on readdir order, thread
//! count or hard links (every path is its own file). Only metadata is read
//! here: file contents are read later by the filesystem writers, from the
//! recorded source paths, with [`copy_source`] or [`read_full`]. Nothing is
//! ever written to a source.

mod copy;
mod error;
pub mod stage;
mod walk;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

pub use copy::{copy_source, CopyError};
pub use error::TreeError;
pub use nix_repart_spec::model::Owner;
use nix_repart_spec::Partition;
pub use stage::{stage, StageError, Staged};
pub use walk::MAX_PATH_BYTES;

/// How symlinks inside a source are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symlinks {
    /// Copied as symlinks (squashfs, ext4, erofs).
    Keep,
    /// Replaced by what they point to (FAT has no symlinks); only targets
    /// inside the same source are allowed.
    Follow,
}

/// A directory: entries sorted by the bytes of their names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub mode: u32,
    /// Root's (0:0) unless a `contents` entry gives another.
    pub owner: Owner,
    pub entries: BTreeMap<OsString, Node>,
    /// Where it came from, for error messages (`None` when synthesized).
    pub source: Option<PathBuf>,
    /// The source directory's mtime; `None` when synthesized.
    pub mtime: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Directory(Directory),
    File(File),
    Symlink(Symlink),
}

/// A regular file, read from `source` when the filesystem is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub source: PathBuf,
    pub size: u64,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    pub owner: Owner,
    /// The source's mtime, in seconds.
    pub mtime: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symlink {
    pub target: OsString,
    pub source: PathBuf,
    pub owner: Owner,
    /// The link's own mtime (`lstat`), in seconds.
    pub mtime: i64,
}

/// The mtime an image stores for a source time, as systemd-repart stores
/// it: the source's, clamped to `epoch` (`SOURCE_DATE_EPOCH`) when newer,
/// and never before 1970; `epoch` for what no source provides (parents
/// of targets, `MakeDirectories=`). A NixOS store keeps its mtime of 1.
pub fn image_mtime(mtime: Option<i64>, epoch: u64) -> u64 {
    match mtime {
        None => epoch,
        Some(seconds) => u64::try_from(seconds.max(0)).unwrap_or(0).min(epoch),
    }
}

/// Mode of directories that no source provides (parents of targets).
pub const SYNTHESIZED_DIR_MODE: u32 = 0o755;

/// Totals over a tree, for sizing filesystems.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub file_bytes: u64,
}

impl Directory {
    pub fn synthesized() -> Directory {
        Directory {
            mode: SYNTHESIZED_DIR_MODE,
            owner: Owner::default(),
            entries: BTreeMap::new(),
            source: None,
            mtime: None,
        }
    }

    /// This directory (as `/`) and every directory below it, with their
    /// image paths: depth first, the last name of a directory first.
    pub fn directories(&self) -> Vec<(String, &Directory)> {
        let mut found = Vec::new();
        let mut stack: Vec<(String, &Directory)> = vec![("/".to_string(), self)];
        while let Some((path, dir)) = stack.pop() {
            for (name, node) in &dir.entries {
                if let Node::Directory(sub) = node {
                    stack.push((join_target(&path, &name.to_string_lossy()), sub));
                }
            }
            found.push((path, dir));
        }
        found
    }

    /// Counts everything below this directory (not the directory itself).
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for node in self.entries.values() {
            match node {
                Node::Directory(dir) => {
                    let below = dir.totals();
                    totals.files += below.files;
                    totals.directories += below.directories + 1;
                    totals.symlinks += below.symlinks;
                    totals.file_bytes += below.file_bytes;
                }
                Node::File(file) => {
                    totals.files += 1;
                    totals.file_bytes += file.size;
                }
                Node::Symlink(_) => totals.symlinks += 1,
            }
        }
        totals
    }
}

/// Builds the tree of a partition.
pub fn build(partition: &Partition, symlinks: Symlinks) -> Result<Directory, TreeError> {
    let walker =
        walk::Walker::new(symlinks, &partition.exclude_files, &partition.exclude_files_target, &partition.copied_empty);
    let mut root = Directory::synthesized();
    for content in &partition.contents {
        let node = walker.top_level(&content.source, &content.target, true)?;
        walk::insert(&mut root, &content.target, node, &content.source)?;
    }
    for store_path in &partition.store_paths {
        let Some(name) = store_path.file_name() else { continue };
        let target = join_target(&partition.nix_store_prefix, &name.to_string_lossy());
        let node = walker.top_level(store_path, &target, false)?;
        walk::insert(&mut root, &target, node, store_path)?;
    }
    for dir in &partition.make_directories {
        if !walker.target_excluded(dir) {
            let new = lookup(&root, dir).is_none();
            walk::insert(&mut root, dir, Some(Node::Directory(Directory::synthesized())), &PathBuf::from(dir))?;
            if new {
                touch_parent(&mut root, dir);
            }
        }
    }
    for (path, target) in &partition.make_symlinks {
        if !walker.target_excluded(path) {
            // Made by the build: its time is the build's (see image_mtime).
            let link = Symlink {
                target: target.into(),
                source: PathBuf::from(path),
                owner: Owner::default(),
                mtime: i64::MAX,
            };
            walk::insert(&mut root, path, Some(Node::Symlink(link)), &PathBuf::from(path))?;
            touch_parent(&mut root, path);
        }
    }
    for content in &partition.contents {
        apply_attributes(&mut root, content)?;
    }
    Ok(root)
}

/// Gives a `contents` target the `mode` and owner its entry asks for,
/// once every entry is in the tree (so a later merge cannot undo it).
fn apply_attributes(root: &mut Directory, content: &nix_repart_spec::model::Content) -> Result<(), TreeError> {
    if content.mode.is_none() && content.owner.is_none() {
        return Ok(());
    }
    let Some(node) = lookup_mut(root, &content.target) else {
        // Excluded by ExcludeFiles=: nothing to give a mode to.
        return Ok(());
    };
    // A `contents` source that is a symlink was followed (`top_level`), so
    // the target is a file or directory, as make-disk-image's chmod sees it.
    let (mode, owner) = match node {
        Node::Directory(dir) => (&mut dir.mode, &mut dir.owner),
        Node::File(file) => (&mut file.mode, &mut file.owner),
        Node::Symlink(_) => return Err(TreeError::ModeOnSymlink { target: content.target.clone() }),
    };
    *mode = content.mode.unwrap_or(*mode);
    *owner = content.owner.unwrap_or(*owner);
    Ok(())
}

fn lookup_mut<'t>(root: &'t mut Directory, target: &str) -> Option<&'t mut Node> {
    let mut names = target.split('/').filter(|n| !n.is_empty());
    let first = root.entries.get_mut(std::ffi::OsStr::new(names.next()?))?;
    names.try_fold(first, |node, name| match node {
        Node::Directory(dir) => dir.entries.get_mut(std::ffi::OsStr::new(name)),
        _ => None,
    })
}

/// The node at `target` (absolute, normalised), if there is one.
fn lookup<'t>(root: &'t Directory, target: &str) -> Option<&'t Node> {
    let mut names = target.split('/').filter(|n| !n.is_empty());
    let first = root.entries.get(std::ffi::OsStr::new(names.next()?))?;
    names.try_fold(first, |node, name| match node {
        Node::Directory(dir) => dir.entries.get(std::ffi::OsStr::new(name)),
        _ => None,
    })
}

/// A directory that gets an entry made by the build (`MakeDirectories=`,
/// `MakeSymlinks=`) changes then, as it does when systemd-repart makes the
/// entry: its mtime becomes the build's.
fn touch_parent(root: &mut Directory, target: &str) {
    let parent = target.rsplit_once('/').map_or("", |(parent, _)| parent);
    let mut dir = root;
    for name in parent.split('/').filter(|n| !n.is_empty()) {
        match dir.entries.get_mut(std::ffi::OsStr::new(name)) {
            Some(Node::Directory(sub)) => dir = sub,
            _ => return,
        }
    }
    dir.mtime = None;
}

/// Reads from a source until `buffer` is full or the source ends; the
/// filesystem writers read files in whole blocks with it.
pub fn read_full(input: &mut impl std::io::Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// `prefix/name`, with `/` as a prefix giving `/name`.
pub fn join_target(prefix: &str, name: &str) -> String {
    format!("{}/{name}", prefix.trim_end_matches('/'))
}
