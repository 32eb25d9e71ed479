//! A tree as the tests compare it: one line per entry below a root, in
//! path order, with the fields a filesystem can hold: type, permission
//! bits, owner, mtime, size and a digest of the data (a file's bytes, a
//! symlink's target). Formats that hold less are compared on less
//! ([`Fields`]).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Which fields a comparison looks at.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub mode: bool,
    pub owner: bool,
    pub mtime: bool,
    /// Symlink mtimes (extractors that cannot set them say false).
    pub symlink_mtime: bool,
}

impl Fields {
    pub const ALL: Fields = Fields { mode: true, owner: true, mtime: true, symlink_mtime: true };
}

/// `(path, line)` for every entry below `root`, sorted; `skip` names
/// top-level entries left out (`lost+found`).
pub fn listing(root: &Path, fields: Fields, skip: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    walk(root, root, fields, skip, &mut lines);
    lines.sort();
    lines
}

fn walk(root: &Path, dir: &Path, fields: Fields, skip: &[&str], lines: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read_dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        let rel = path.strip_prefix(root).expect("below root").to_string_lossy().into_owned();
        if skip.contains(&rel.as_str()) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        let kind = meta.file_type();
        let (tag, data) = if kind.is_symlink() {
            ('l', std::fs::read_link(&path).expect("readlink").to_string_lossy().into_owned())
        } else if kind.is_dir() {
            ('d', String::new())
        } else {
            let bytes = std::fs::read(&path).expect("read");
            ('f', format!("{} {}", bytes.len(), hex(&Sha256::digest(&bytes))))
        };
        let mut line = format!("{rel} {tag}");
        if fields.mode && tag != 'l' {
            line.push_str(&format!(" {:04o}", meta.mode() & 0o7777));
        }
        if fields.owner {
            line.push_str(&format!(" {}:{}", meta.uid(), meta.gid()));
        }
        if fields.mtime && (tag != 'l' || fields.symlink_mtime) {
            line.push_str(&format!(" t={}", meta.mtime()));
        }
        line.push(' ');
        line.push_str(&data);
        lines.push(line.trim_end().to_string());
        if tag == 'd' {
            walk(root, &path, fields, skip, lines);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
