//! Reading sources into nodes, in parallel, and placing nodes at their
//! targets. Symlinks are followed only in [`Symlinks::Follow`] mode and
//! only when they resolve inside the source they were found in; a link back
//! to one of its own parents is refused rather than copied forever. Paths
//! longer than [`MAX_PATH_BYTES`] are refused, which bounds the depth.

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::{Directory, File, Node, Owner, Symlink, Symlinks, TreeError};

pub use nix_repart_spec::MAX_PATH_BYTES;

pub struct Walker<'a> {
    symlinks: Symlinks,
    exclude_files: &'a [PathBuf],
    exclude_files_target: &'a [String],
    /// Directories taken without their contents.
    copied_empty: &'a [String],
}

/// Where a walk is: the canonical root of the source (links must stay in
/// it) and the canonical directories from the root down (for loops).
#[derive(Clone)]
struct Context {
    root: PathBuf,
    chain: Vec<PathBuf>,
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> TreeError + '_ {
    move |source| TreeError::Read { path: path.to_path_buf(), source }
}

fn mode_of(meta: &Metadata) -> u32 {
    meta.permissions().mode() & 0o7777
}

impl<'a> Walker<'a> {
    pub fn new(
        symlinks: Symlinks,
        exclude_files: &'a [PathBuf],
        exclude_files_target: &'a [String],
        copied_empty: &'a [String],
    ) -> Self {
        Walker { symlinks, exclude_files, exclude_files_target, copied_empty }
    }

    pub fn target_excluded(&self, target: &str) -> bool {
        self.exclude_files_target.iter().any(|t| Path::new(target).starts_with(t))
    }

    fn excluded(&self, source: &Path, target: &str) -> bool {
        self.exclude_files.iter().any(|e| source.starts_with(e)) || self.target_excluded(target)
    }

    /// The node of a top-level source; `follow` resolves the source itself
    /// when it is a symlink (a `contents` source, named by the user).
    /// Otherwise a symlink is kept as one, or refused where symlinks cannot
    /// be stored: its target is outside the source by definition. `None`
    /// when excluded.
    pub fn top_level(&self, source: &Path, target: &str, follow: bool) -> Result<Option<Node>, TreeError> {
        if self.excluded(source, target) {
            return Ok(None);
        }
        let meta = fs::symlink_metadata(source).map_err(read_error(source))?;
        if meta.file_type().is_symlink() && !follow {
            if self.symlinks == Symlinks::Follow {
                let target = fs::read_link(source).map_err(read_error(source))?;
                return Err(TreeError::SymlinkNotStorable { link: source.to_path_buf(), target });
            }
            return self.symlink(source).map(Some);
        }
        let real = if meta.file_type().is_symlink() {
            fs::canonicalize(source).map_err(|_| TreeError::Dangling { link: source.to_path_buf() })?
        } else {
            source.to_path_buf()
        };
        let meta = fs::metadata(&real).map_err(read_error(&real))?;
        if meta.is_dir() {
            let root = fs::canonicalize(&real).map_err(read_error(&real))?;
            let context = Context { root: root.clone(), chain: vec![root] };
            return self.directory(&real, &meta, target, &context).map(|d| Some(Node::Directory(d)));
        }
        self.plain(&real, &meta).map(Some)
    }

    /// A file, or an error for devices, FIFOs and sockets.
    fn plain(&self, path: &Path, meta: &Metadata) -> Result<Node, TreeError> {
        if meta.is_file() {
            let (size, mode, mtime) = (meta.len(), mode_of(meta), meta.mtime());
            Ok(Node::File(File { source: path.to_path_buf(), size, mode, owner: Owner::default(), mtime }))
        } else {
            Err(TreeError::Special { path: path.to_path_buf() })
        }
    }

    fn symlink(&self, path: &Path) -> Result<Node, TreeError> {
        let target = fs::read_link(path).map_err(read_error(path))?;
        let mtime = fs::symlink_metadata(path).map_err(read_error(path))?.mtime();
        let (target, source, owner) = (target.into_os_string(), path.to_path_buf(), Owner::default());
        Ok(Node::Symlink(Symlink { target, source, owner, mtime }))
    }

    fn directory(&self, path: &Path, meta: &Metadata, target: &str, cx: &Context) -> Result<Directory, TreeError> {
        if self.copied_empty.iter().any(|d| d == target) {
            return Ok(Directory {
                mode: mode_of(meta),
                owner: Owner::default(),
                entries: Default::default(),
                source: Some(path.to_path_buf()),
                mtime: Some(meta.mtime()),
            });
        }
        let mut children: Vec<(OsString, PathBuf)> = fs::read_dir(path)
            .map_err(read_error(path))?
            .map(|entry| entry.map(|e| (e.file_name(), e.path())))
            .collect::<Result<_, _>>()
            .map_err(read_error(path))?;
        children.sort();
        // Errors are taken in name order, so the one reported never depends
        // on which thread got there first.
        let nodes: Vec<Result<Option<Node>, TreeError>> = children
            .par_iter()
            .map(|(name, child)| {
                let child_target = crate::join_target(target, &name.to_string_lossy());
                if child_target.len() > MAX_PATH_BYTES {
                    return Err(TreeError::PathTooLong {
                        bytes: child_target.len(),
                        target: child_target,
                        source_path: child.clone(),
                        max: MAX_PATH_BYTES,
                    });
                }
                self.child(child, &child_target, name, cx)
            })
            .collect();
        let mut dir = Directory {
            mode: mode_of(meta),
            owner: Owner::default(),
            entries: Default::default(),
            source: Some(path.to_path_buf()),
            mtime: Some(meta.mtime()),
        };
        for ((name, _), node) in children.into_iter().zip(nodes) {
            if let Some(node) = node? {
                dir.entries.insert(name, node);
            }
        }
        Ok(dir)
    }

    fn child(&self, path: &Path, target: &str, name: &OsString, cx: &Context) -> Result<Option<Node>, TreeError> {
        if self.excluded(path, target) {
            return Ok(None);
        }
        let meta = fs::symlink_metadata(path).map_err(read_error(path))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            let mut inner = cx.clone();
            if self.symlinks == Symlinks::Follow {
                let here = cx.chain.last().map(|p| p.join(name)).unwrap_or_default();
                inner.chain.push(here);
            }
            return self.directory(path, &meta, target, &inner).map(|d| Some(Node::Directory(d)));
        }
        if kind.is_symlink() {
            return match self.symlinks {
                Symlinks::Keep => self.symlink(path).map(Some),
                Symlinks::Follow => self.follow(path, target, cx).map(Some),
            };
        }
        self.plain(path, &meta).map(Some)
    }

    /// Replaces a symlink by what it points to, inside the source only.
    fn follow(&self, link: &Path, target: &str, cx: &Context) -> Result<Node, TreeError> {
        let resolved = fs::canonicalize(link).map_err(|_| TreeError::Dangling { link: link.to_path_buf() })?;
        if !resolved.starts_with(&cx.root) {
            return Err(TreeError::Escapes { link: link.to_path_buf(), root: cx.root.clone() });
        }
        let meta = fs::metadata(&resolved).map_err(read_error(&resolved))?;
        if !meta.is_dir() {
            return self.plain(&resolved, &meta);
        }
        if cx.chain.contains(&resolved) {
            return Err(TreeError::Loop { link: link.to_path_buf(), target: resolved });
        }
        let mut inner = cx.clone();
        inner.chain.push(resolved.clone());
        self.directory(&resolved, &meta, target, &inner).map(Node::Directory)
    }
}

/// Places `node` at `target` (absolute, normalised) below `root`, creating
/// parent directories and merging directories that meet.
pub fn insert(root: &mut Directory, target: &str, node: Option<Node>, source: &Path) -> Result<(), TreeError> {
    let Some(node) = node else { return Ok(()) };
    let names: Vec<OsString> = Path::new(target)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            _ => None,
        })
        .collect();
    let Some((last, parents)) = names.split_last() else {
        return match node {
            Node::Directory(dir) => merge(root, dir, "", source),
            _ => Err(TreeError::NotADirectory { target: "/".into(), source_path: source.to_path_buf() }),
        };
    };
    let mut dir = root;
    let mut path = String::new();
    for name in parents {
        path = crate::join_target(&path, &name.to_string_lossy());
        let entry = dir.entries.entry(name.clone()).or_insert_with(|| Node::Directory(Directory::synthesized()));
        dir = match entry {
            Node::Directory(d) => d,
            _ => return Err(TreeError::NotADirectory { target: path, source_path: source.to_path_buf() }),
        };
    }
    place(dir, last, node, &crate::join_target(&path, &last.to_string_lossy()), source)
}

fn place(parent: &mut Directory, name: &OsString, node: Node, target: &str, source: &Path) -> Result<(), TreeError> {
    match (parent.entries.get_mut(name), node) {
        (None, node) => {
            parent.entries.insert(name.clone(), node);
            Ok(())
        }
        (Some(Node::Directory(existing)), Node::Directory(new)) => merge(existing, new, target, source),
        (Some(existing), _) => Err(TreeError::Conflict {
            target: target.to_string(),
            first: node_source(existing),
            second: source.to_path_buf(),
        }),
    }
}

/// Merges `new` into `existing`; a real directory's mode wins over a
/// synthesized one's.
fn merge(existing: &mut Directory, new: Directory, target: &str, source: &Path) -> Result<(), TreeError> {
    if existing.source.is_none() && new.source.is_some() {
        existing.mode = new.mode;
        existing.source = new.source;
        existing.mtime = new.mtime;
    }
    for (name, node) in new.entries {
        let child_target = crate::join_target(target, &name.to_string_lossy());
        place(existing, &name, node, &child_target, source)?;
    }
    Ok(())
}

fn node_source(node: &Node) -> PathBuf {
    match node {
        Node::Directory(d) => d.source.clone().unwrap_or_default(),
        Node::File(f) => f.source.clone(),
        Node::Symlink(s) => s.source.clone(),
    }
}
