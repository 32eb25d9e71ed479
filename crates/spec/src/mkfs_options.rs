//! `mkfsOptions`: the extra arguments nixpkgs passes to each mkfs tool
//! (`SYSTEMD_REPART_MKFS_OPTIONS_<FS>`), checked against an allowlist per
//! filesystem. nix-repart hands these words to mke2fs and mkfs.erofs, so
//! an option that writes or reads a file of its own (`mke2fs -z`, `-l`,
//! `mkfs.erofs --blobdev=`), moves the filesystem (`-E offset=`), makes no
//! filesystem (`-n`, `-S`) or overrides what nix-repart derives from the
//! seed (`-U`, `-T`) is refused here, naming the option; docs/spec.md lists
//! what passes. squashfs options are mapped onto nix-repart's own writer
//! here (`-comp`, `-Xcompression-level`, `-b`; the flags that say what it
//! always does are accepted, any other is refused); vfat and swap take none, since nix-repart
//! writes both itself. Options for a filesystem that no partition has are
//! refused, as they would do nothing.

use std::collections::BTreeMap;

use crate::compression::{At, SquashfsMkfs};
use crate::error::ProblemKind;
use crate::format::Format;
use crate::model::Partition;
use crate::raw::pointer_token;
use crate::validate::Checker;

/// An option's name and whether it takes a value.
type Allowed = (&'static str, bool);

/// mke2fs (e2fsprogs 1.47) options that only shape the filesystem.
const MKE2FS: &[Allowed] = &[
    ("-C", true),
    ("-D", false),
    ("-e", true),
    ("-E", true),
    ("-F", false),
    ("-g", true),
    ("-G", true),
    ("-i", true),
    ("-I", true),
    ("-j", false),
    ("-J", true),
    ("-K", false),
    ("-L", true),
    ("-m", true),
    ("-M", true),
    ("-N", true),
    ("-o", true),
    ("-O", true),
    ("-q", false),
    ("-r", true),
    ("-v", false),
];

/// `mke2fs -E` sub-options that only shape the filesystem.
const MKE2FS_EXTENDED: &[&str] = &[
    "stride",
    "stripe_width",
    "stripe-width",
    "resize",
    "lazy_itable_init",
    "lazy_journal_init",
    "packed_meta_blocks",
    "num_backup_sb",
    "root_owner",
    "test_fs",
    "discard",
    "nodiscard",
    "quotatype",
    "encoding",
    "encoding_flags",
    "orphan_file_size",
    "assume_storage_prezeroed",
    "no_copy_xattrs",
    "hash_seed",
    "mmp_update_interval",
];

/// `mke2fs -J` sub-options (not `device=`: an external journal).
const MKE2FS_JOURNAL: &[&str] = &["size", "fast_commit_size", "location"];

/// mkfs.erofs (erofs-utils 1.5 to 1.8) options that only shape the
/// filesystem; short options may carry their value attached (`-zlz4`).
const MKFS_EROFS: &[Allowed] = &[
    ("-z", true),
    ("-C", true),
    ("-E", true),
    ("-x", true),
    ("-b", true),
    ("-d", true),
    ("--max-extent-bytes", true),
    ("--chunksize", true),
    ("--ignore-mtime", false),
    ("--preserve-mtime", false),
    ("--all-root", false),
    ("--force-uid", true),
    ("--force-gid", true),
    ("--uid-offset", true),
    ("--gid-offset", true),
    ("--quiet", false),
];

fn why_refused(tool: &str, option: &str) -> &'static str {
    match (tool, option) {
        ("mke2fs", "-z") => "it writes an undo file outside the image",
        ("mke2fs", "-l" | "-c") => "it reads a bad-blocks list or device instead of the image",
        ("mke2fs", "-n" | "-S" | "-V") => "mke2fs would not make the filesystem",
        ("mke2fs", "-d" | "-t" | "-T" | "-b" | "-U") => "nix-repart sets it itself",
        ("mkfs.erofs", "--blobdev" | "--compress-hints" | "--file-contexts") => {
            "it reads or writes a file outside the image"
        }
        ("mkfs.erofs", "-T") => "times come from the files, clamped to SOURCE_DATE_EPOCH",
        ("mkfs.erofs", "-U" | "--tar" | "--aufs") => "nix-repart sets it itself",
        _ => "it is not on nix-repart's list of options known to be safe",
    }
}

/// Checks every `mkfsOptions` entry against the partitions' formats;
/// returns what the squashfs entry says.
pub(crate) fn check(
    c: &mut Checker,
    options: &BTreeMap<String, Vec<String>>,
    partitions: &[Partition],
) -> SquashfsMkfs {
    let mut squashfs = SquashfsMkfs::default();
    for (fs, args) in options {
        let pointer = format!("/mkfsOptions/{}", pointer_token(fs));
        if args.is_empty() {
            continue;
        }
        // Also catches names that are no format (`btrfs`).
        if !partitions.iter().any(|p| p.format.is_some_and(|f| f.name() == fs.as_str())) {
            c.problem(pointer, ProblemKind::MkfsOptionsUnused { fs: fs.clone() });
            continue;
        }
        let words: Vec<(usize, &str)> =
            args.iter().enumerate().flat_map(|(i, a)| a.split_whitespace().map(move |w| (i, w))).collect();
        let Some(format) = Format::from_name(fs) else { continue };
        match format {
            Format::Ext(_) => check_words(c, &pointer, "mke2fs", MKE2FS, &words, check_mke2fs_value),
            Format::Erofs(_) => check_words(c, &pointer, "mkfs.erofs", MKFS_EROFS, &words, check_erofs_value),
            Format::Vfat | Format::Swap => {
                let (i, word) = words[0];
                let why = "nix-repart writes this filesystem itself and takes no options for it";
                let tool = if format == Format::Vfat { "its FAT writer" } else { "its swap writer" };
                c.problem(
                    format!("{pointer}/{i}"),
                    ProblemKind::MkfsOptionRefused { tool, option: word.to_string(), why },
                );
            }
            Format::Squashfs(_) => squashfs = check_squashfs(c, &pointer, &words),
        }
    }
    squashfs
}

/// mksquashfs flags that describe what nix-repart's writer always does.
const MKSQUASHFS_ALWAYS: &[&str] = &[
    "-noappend",
    "-all-root",
    "-no-xattrs",
    "-no-recovery",
    "-quiet",
    "-no-progress",
    "-reproducible",
    "-no-fragments-tail",
];

/// `mkfsOptions.squashfs`: `-comp NAME`, `-Xcompression-level N`, `-b SIZE`
/// and `-processors N` (left to `--jobs`), and the flags above.
fn check_squashfs(c: &mut Checker, pointer: &str, words: &[(usize, &str)]) -> SquashfsMkfs {
    const TOOL: &str = "mksquashfs";
    let mut found = SquashfsMkfs::default();
    let mut at = 0;
    while let Some(&(i, word)) = words.get(at) {
        at += 1;
        let here = format!("{pointer}/{i}");
        if MKSQUASHFS_ALWAYS.contains(&word) {
            continue;
        }
        if !matches!(word, "-comp" | "-Xcompression-level" | "-b" | "-processors") {
            let why = "it is not an option nix-repart's squashfs writer maps";
            c.problem(here, ProblemKind::MkfsOptionRefused { tool: TOOL, option: word.to_string(), why });
            return found;
        }
        let Some(&(_, value)) = words.get(at) else {
            c.problem(here, ProblemKind::MkfsOptionValue { option: word.to_string() });
            return found;
        };
        at += 1;
        match word {
            "-comp" => found.algorithm = Some(At { pointer: here, value: value.to_string() }),
            "-Xcompression-level" => match value.parse::<u32>() {
                Ok(level) => found.level = Some(At { pointer: here, value: level }),
                Err(_) => {
                    let max = u64::from(u32::MAX);
                    c.problem(here, ProblemKind::NotANumber { value: value.to_string(), max });
                }
            },
            "-b" => match parse_block_size(value) {
                Some(size) => found.block_size = Some(size),
                None => c.problem(here, ProblemKind::BadSquashfsBlockSize { value: value.to_string() }),
            },
            _ => {} // -processors: --jobs decides.
        }
    }
    found
}

/// mksquashfs's `-b`: bytes, or with a K or M suffix; a power of two from
/// 4 KiB to 1 MiB.
fn parse_block_size(text: &str) -> Option<u32> {
    let (digits, unit) = match text.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1024),
        None => match text.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (text, 1),
        },
    };
    let size = digits.parse::<u32>().ok()?.checked_mul(unit)?;
    (size.is_power_of_two() && (4096..=1 << 20).contains(&size)).then_some(size)
}

/// A value check: `Some(reason)` refuses it.
type ValueCheck = fn(option: &str, value: &str) -> Option<&'static str>;

fn check_words(
    c: &mut Checker,
    pointer: &str,
    tool: &'static str,
    allowed: &[Allowed],
    words: &[(usize, &str)],
    check_value: ValueCheck,
) {
    let mut at = 0;
    while let Some(&(i, word)) = words.get(at) {
        at += 1;
        let here = format!("{pointer}/{i}");
        let (name, attached) = split_option(word, allowed);
        let Some(&(_, takes_value)) = allowed.iter().find(|(n, _)| *n == name) else {
            // What follows may be its value: one problem per list.
            let why = why_refused(tool, name);
            c.problem(here, ProblemKind::MkfsOptionRefused { tool, option: word.to_string(), why });
            return;
        };
        if !takes_value {
            continue;
        }
        let value = match attached {
            Some(value) => value,
            None => match words.get(at) {
                Some(&(_, value)) => {
                    at += 1;
                    value
                }
                None => {
                    c.problem(here, ProblemKind::MkfsOptionValue { option: word.to_string() });
                    return;
                }
            },
        };
        if let Some(why) = check_value(name, value) {
            let option = format!("{name} {value}");
            c.problem(here, ProblemKind::MkfsOptionRefused { tool, option, why });
            return;
        }
    }
}

/// `--name=value` or `-xVALUE` into the name and the attached value.
fn split_option<'w>(word: &'w str, allowed: &[Allowed]) -> (&'w str, Option<&'w str>) {
    if word.starts_with("--") {
        return match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word, None),
        };
    }
    if word.len() > 2 && word.starts_with('-') && word.is_char_boundary(2) {
        let (name, rest) = word.split_at(2);
        if allowed.iter().any(|(n, takes)| *n == name && *takes) {
            return (name, Some(rest));
        }
    }
    (word, None)
}

fn check_mke2fs_value(option: &str, value: &str) -> Option<&'static str> {
    let allowed = match option {
        "-E" => MKE2FS_EXTENDED,
        "-J" => MKE2FS_JOURNAL,
        "-O" => {
            return value
                .split(',')
                .any(|f| f.trim_start_matches('^') == "journal_dev")
                .then_some("journal_dev makes an external journal, not a filesystem")
        }
        _ => return None,
    };
    let refused = value.split(',').any(|sub| !allowed.contains(&sub.split('=').next().unwrap_or(sub)));
    refused.then_some(if option == "-E" {
        "a sub-option that moves or changes the output (offset=, android_sparse, ...) or is not known to be safe"
    } else {
        "an external journal device, or a sub-option not known to be safe"
    })
}

fn check_erofs_value(option: &str, value: &str) -> Option<&'static str> {
    const EXTENDED: &[&str] = &[
        "legacy-compress",
        "force-inode-compact",
        "force-inode-extended",
        "force-inode-blockmap",
        "force-chunk-indexes",
        "nosbcrc",
        "noinline_data",
        "ztailpacking",
        "fragments",
        "dedupe",
        "all-fragments",
        "xattr-name-filter",
    ];
    if option != "-E" {
        return None;
    }
    let refused = value.split(',').any(|sub| {
        let name = sub.trim_start_matches('^');
        !EXTENDED.contains(&name.split('=').next().unwrap_or(name))
    });
    refused.then_some("an extended option not known to be safe")
}
