//! The tree as a list of inodes: the root is inode 2, lost+found 11 (made
//! when the tree has none), the rest numbered from 12 in depth-first
//! order of the sorted names, so numbers follow from the tree alone. Every
//! path is its own inode (the tree has no hard links), which is what makes
//! hard-linked and copied sources give the same image.

use std::ffi::OsString;
use std::path::PathBuf;

use nix_repart_tree::{image_mtime, Directory, Node, Owner};

pub const ROOT: u32 = 2;
pub const RESIZE: u32 = 7;
pub const JOURNAL: u32 = 8;
pub const LOST_FOUND: u32 = 11;
pub const FIRST_FREE: u32 = 12;

/// What an inode holds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Entries `(name, inode, dirent file type)`, in name order.
    Directory {
        parent: u32,
        entries: Vec<(OsString, u32, u8)>,
        subdirectories: u32,
    },
    /// lost+found: an empty directory of 4 blocks, as mke2fs makes it.
    LostFound,
    File {
        source: PathBuf,
        size: u64,
    },
    Symlink {
        target: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub struct Inode {
    pub ino: u32,
    pub kind: Kind,
    pub mode: u16,
    pub owner: Owner,
    pub mtime: u64,
}

pub const FT_FILE: u8 = 1;
pub const FT_DIR: u8 = 2;
pub const FT_SYMLINK: u8 = 7;

/// The inodes of `tree`, in inode order (2, 11, 12, 13, ...).
pub fn number(tree: &Directory, epoch: u64) -> Vec<Inode> {
    let mut out = Vec::new();
    let mut next = FIRST_FREE;
    let has_lost_found = tree.entries.contains_key(std::ffi::OsStr::new("lost+found"));
    directory(tree, ROOT, ROOT, epoch, &mut next, &mut out, !has_lost_found);
    out.sort_by_key(|inode| inode.ino);
    out
}

fn directory(
    dir: &Directory,
    ino: u32,
    parent: u32,
    epoch: u64,
    next: &mut u32,
    out: &mut Vec<Inode>,
    add_lost_found: bool,
) {
    let mut entries = Vec::with_capacity(dir.entries.len() + 1);
    let mut children = Vec::new();
    let mut subdirectories = 0;
    if add_lost_found {
        entries.push((OsString::from("lost+found"), LOST_FOUND, FT_DIR));
        subdirectories += 1;
        let mode = 0o040700;
        out.push(Inode { ino: LOST_FOUND, kind: Kind::LostFound, mode, owner: Owner::default(), mtime: epoch });
    }
    for (name, node) in &dir.entries {
        let child = *next;
        *next += 1;
        let file_type = match node {
            Node::Directory(_) => {
                subdirectories += 1;
                FT_DIR
            }
            Node::File(_) => FT_FILE,
            Node::Symlink(_) => FT_SYMLINK,
        };
        entries.push((name.clone(), child, file_type));
        children.push((child, node));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mtime = image_mtime(dir.mtime, epoch);
    let mode = 0o040000 | (dir.mode & 0o7777) as u16;
    let kind = Kind::Directory { parent, entries, subdirectories };
    out.push(Inode { ino, kind, mode, owner: dir.owner, mtime });
    // Depth first: a directory's children get their numbers before what
    // they hold, so a subdirectory's contents follow it.
    for (child, node) in children {
        match node {
            Node::Directory(sub) => directory(sub, child, ino, epoch, next, out, false),
            Node::File(file) => out.push(Inode {
                ino: child,
                kind: Kind::File { source: file.source.clone(), size: file.size },
                mode: 0o100000 | (file.mode & 0o7777) as u16,
                owner: file.owner,
                mtime: image_mtime(Some(file.mtime), epoch),
            }),
            Node::Symlink(link) => out.push(Inode {
                ino: child,
                kind: Kind::Symlink {
                    target: std::os::unix::ffi::OsStrExt::as_bytes(link.target.as_os_str()).to_vec(),
                },
                mode: 0o120777,
                owner: link.owner,
                mtime: image_mtime(Some(link.mtime), epoch),
            }),
        }
    }
}
