//! ext2/3/4 with `mke2fs -d`, written straight into the partition's region
//! of the image (`-E offset=`), then made reproducible by `ext_fixup`.
//!
//! The flags are systemd-repart's reproducible set (filesystem UUID and
//! hash seed from the seed, root owned by 0:0, fake time, 256-byte inodes,
//! no reserved blocks, 4 KiB blocks, itables zeroed) plus our own
//! `MKE2FS_CONFIG`, so the features do not depend on the build machine's
//! /etc/mke2fs.conf. e2fsprogs 1.47.0 copies each staged inode's ctime,
//! which user space cannot set; `ext_fixup` rewrites the times and owners
//! afterwards.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use uuid::Uuid;

use nix_repart_tree::Directory;

use crate::ext_fixup::{self, ExtReport};
use crate::tool::{self, Outcome, ToolFailure, MKE2FS};
use crate::{ExtKind, MkfsError};

/// mke2fs.conf for every build: the features of Debian's and nixpkgs'
/// e2fsprogs 1.47 defaults, with nothing left to the machine.
const MKE2FS_CONF: &str = "[defaults]
\tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
\tdefault_mntopts = acl,user_xattr
\tenable_periodic_fsck = 0
\tblocksize = 4096
\tinode_size = 256
\tinode_ratio = 16384

[fs_types]
\text3 = {
\t\tfeatures = has_journal
\t}
\text4 = {
\t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
\t}
\tdefault = {
\t}
";

/// One ext filesystem to make.
pub struct ExtJob<'a> {
    pub kind: ExtKind,
    /// The staged tree (`-d`).
    pub staged: &'a Path,
    /// Where mke2fs.conf is written (a temporary directory).
    pub scratch: &'a Path,
    pub image: &'a Path,
    pub offset: u64,
    pub size: u64,
    pub uuid: Uuid,
    pub label: &'a str,
    pub epoch: u64,
    /// `-N`, for minimized filesystems.
    pub inodes: Option<u64>,
    /// `mkfsOptions.ext4` (or ext2/ext3), appended.
    pub extra: &'a [String],
    /// Paths whose owner is not root (`ext_owners::not_root`).
    pub owners: &'a [(String, nix_repart_tree::Owner)],
}

/// Makes the filesystem and returns its free space.
pub fn make(job: &ExtJob) -> Result<ExtReport, MkfsError> {
    let conf = job.scratch.join("mke2fs.conf");
    std::fs::File::create(&conf)
        .and_then(|mut f| f.write_all(MKE2FS_CONF.as_bytes()))
        .map_err(|source| MkfsError::Run { tool: MKE2FS.name, source })?;
    let uuid = job.uuid.hyphenated().to_string();
    let (extended, extra) = split_extended(job.extra);
    let mut args: Vec<String> = vec![
        "-t".into(),
        job.kind.name().into(),
        "-q".into(),
        "-F".into(),
        "-U".into(),
        uuid.clone(),
        "-E".into(),
        format!("hash_seed={uuid},root_owner=0:0,lazy_itable_init=0,nodiscard,{extended}offset={}", job.offset),
        "-T".into(),
        "default".into(),
        "-I".into(),
        "256".into(),
        "-m".into(),
        "0".into(),
        "-b".into(),
        "4096".into(),
        "-L".into(),
        ext_label(job.label),
    ];
    if let Some(inodes) = job.inodes {
        args.extend(["-N".into(), inodes.to_string()]);
    }
    args.extend(extra);
    args.extend(["-d".into(), job.staged.display().to_string(), job.image.display().to_string()]);
    args.push((job.size / 4096).to_string());
    let epoch = job.epoch.to_string();
    let env: [(&str, &OsStr); 2] = [("E2FSPROGS_FAKE_TIME", epoch.as_ref()), ("MKE2FS_CONFIG", conf.as_os_str())];
    match tool::run(MKE2FS, &args, job.epoch, &env)? {
        Outcome::Success => {}
        Outcome::Failed(failure) if out_of_space(&failure) => {
            return Err(MkfsError::TooSmall { tool: MKE2FS.name, size: job.size, failure })
        }
        Outcome::Failed(failure) => return Err(MkfsError::ToolFailed { tool: MKE2FS.name, failure }),
    }
    let report = ext_fixup::pin_times_and_owners(job.image, job.offset, job.epoch)?;
    crate::ext_owners::apply(job.image, job.offset, job.owners, job.scratch, job.epoch)?;
    Ok(report)
}

/// The most entries one directory may have in an ext filesystem made by
/// `mke2fs -d`, whose population is quadratic in a directory's size
/// (measured with e2fsprogs 1.47.0 here: 10 000 entries 7 s, 20 000 24 s,
/// 40 000 93 s, so 100 000 would take about ten minutes).
pub const MAX_DIRECTORY_ENTRIES: usize = 32_768;

/// Refuses trees that mke2fs would take too long to populate.
pub fn check_directories(tree: &Directory) -> Result<(), MkfsError> {
    match tree.directories().into_iter().find(|(_, dir)| dir.entries.len() > MAX_DIRECTORY_ENTRIES) {
        Some((path, dir)) => {
            Err(MkfsError::DirectoryTooLarge { path, entries: dir.entries.len(), max: MAX_DIRECTORY_ENTRIES })
        }
        None => Ok(()),
    }
}

/// Takes the `-E` sub-options out of `mkfsOptions`: mke2fs keeps only the
/// last `-E`, so they join nix-repart's own, with `offset=` last (it
/// places the filesystem in its region). Returns them, each followed by a
/// comma, and the other arguments.
fn split_extended(extra: &[String]) -> (String, Vec<String>) {
    let mut extended = String::new();
    let mut rest = Vec::new();
    let mut words = extra.iter();
    while let Some(word) = words.next() {
        let value = match word.strip_prefix("-E") {
            Some("") => words.next().map(String::as_str),
            Some(attached) => Some(attached),
            None => {
                rest.push(word.clone());
                continue;
            }
        };
        for sub in value.unwrap_or_default().split(',').filter(|s| !s.is_empty()) {
            extended.push_str(sub);
            extended.push(',');
        }
    }
    (extended, rest)
}

fn out_of_space(failure: &ToolFailure) -> bool {
    ["Could not allocate", "No space left", "too small", "Not enough space"].iter().any(|s| failure.says(s))
}

/// ext labels hold 16 bytes: cut at a character boundary.
pub fn ext_label(label: &str) -> String {
    nix_repart_spec::values::prefix_within(label, 16).to_string()
}
