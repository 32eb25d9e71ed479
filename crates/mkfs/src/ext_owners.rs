//! Owners other than root in an ext filesystem made by `mke2fs -d`: the
//! staging copy belongs to the build user, and nix-repart cannot `chown`
//! it (a Nix build is no root), so `ext_fixup` makes every inode root's
//! and this step then gives the `contents` entries with a `user`/`group`
//! theirs, with `debugfs -w` (`set_inode_field`, which rewrites the inode
//! checksum). debugfs exits 0 on failed commands, so any stderr line but
//! its banner is a failure.
//!
//! Paths are passed double-quoted; debugfs' command parser has no escape
//! for a quote, so a path holding `"`, `\` or a newline is refused.

use std::io::Write;
use std::path::Path;

use nix_repart_tree::{Directory, Node, Owner};

use crate::tool::{self, Outcome, DEBUGFS};
use crate::MkfsError;

/// Every node of `tree` whose owner is not root, by image path.
pub fn not_root(tree: &Directory) -> Vec<(String, Owner)> {
    let mut found = Vec::new();
    if tree.owner != Owner::default() {
        found.push(("/".to_string(), tree.owner));
    }
    for (path, dir) in tree.directories() {
        for (name, node) in &dir.entries {
            let owner = match node {
                Node::Directory(sub) => sub.owner,
                Node::File(file) => file.owner,
                Node::Symlink(link) => link.owner,
            };
            if owner != Owner::default() {
                found.push((nix_repart_tree::join_target(&path, &name.to_string_lossy()), owner));
            }
        }
    }
    found.sort();
    found
}

/// Sets the owners with debugfs on the filesystem at `offset` of `image`;
/// the command file goes to `scratch`.
pub fn apply(
    image: &Path,
    offset: u64,
    owners: &[(String, Owner)],
    scratch: &Path,
    epoch: u64,
) -> Result<(), MkfsError> {
    if owners.is_empty() {
        return Ok(());
    }
    let mut commands = String::new();
    for (path, owner) in owners {
        if path.contains(['"', '\\', '\n']) {
            return Err(MkfsError::OwnerPathUnquotable { path: path.clone() });
        }
        commands.push_str(&format!("sif \"{path}\" uid {}\nsif \"{path}\" gid {}\n", owner.uid, owner.gid));
    }
    let file = scratch.join("debugfs-owners");
    std::fs::File::create(&file)
        .and_then(|mut f| f.write_all(commands.as_bytes()))
        .map_err(|source| MkfsError::Run { tool: DEBUGFS.name, source })?;
    let device = format!("{}?offset={offset}", image.display());
    let args = ["-w".to_string(), "-f".to_string(), file.display().to_string(), device];
    match tool::run_quiet(DEBUGFS, &args, epoch, &[], |line| line.starts_with("debugfs "))? {
        Outcome::Success => Ok(()),
        Outcome::Failed(failure) => Err(MkfsError::ToolFailed { tool: DEBUGFS.name, failure }),
    }
}
