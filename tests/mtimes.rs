//! mtimes as systemd-repart 257 stores them: each file's, directory's and
//! symlink's own mtime, clamped to SOURCE_DATE_EPOCH when newer. A Nix
//! store (mtime 1 everywhere) keeps its 1 in squashfs, erofs and ext4, as
//! every NixOS system's /nix/store shows it; vfat stores files' times
//! from FAT's earliest date, 1980-01-01, on, and gives every directory
//! SOURCE_DATE_EPOCH, as systemd-repart 262 does. Directories no source
//! provides (/nix, /nix/store) and the ext root get SOURCE_DATE_EPOCH.
//! Each filesystem is read back by its own tool: unsquashfs, fsck.erofs
//! --extract, debugfs, and the fatfs crate for vfat.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build_at, extract, partitions, run_ok, set_mtime};

const EPOCH: u64 = 1_700_000_000;
const STORE: &str = "0c0yi1s1ggk6xl9pvnjv0a1ghiv3r2k5-hello-2.12.1";

/// The expected mtime of each path inside the filesystem.
struct Tree {
    store_path: PathBuf,
    etc: PathBuf,
    expected: Vec<(&'static str, u64)>,
}

/// A store path with mtime 1 everywhere (a symlink too), and an /etc with
/// one file older than the epoch and one newer (2033).
fn tree(dir: &Path) -> Tree {
    let store_path = dir.join("nix/store").join(STORE);
    std::fs::create_dir_all(store_path.join("bin")).expect("mkdir");
    std::fs::write(store_path.join("bin/hello"), b"#!/bin/sh\necho hello\n").expect("write");
    std::os::unix::fs::symlink("hello", store_path.join("bin/hi")).expect("symlink");
    for p in ["bin/hello", "bin/hi", "bin", ""] {
        set_mtime(&store_path.join(p), 1);
    }
    let etc = dir.join("etc");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(etc.join("old"), b"old\n").expect("write");
    std::fs::write(etc.join("new"), b"new\n").expect("write");
    set_mtime(&etc.join("old"), 1_000_000_000);
    set_mtime(&etc.join("new"), 2_000_000_000);
    set_mtime(&etc, 1_500_000_000);
    let expected = vec![
        ("nix/store/STORE", 1),
        ("nix/store/STORE/bin", 1),
        ("nix/store/STORE/bin/hello", 1),
        ("nix/store/STORE/bin/hi", 1),
        ("nix", EPOCH),
        ("nix/store", EPOCH),
        ("etc", 1_500_000_000),
        ("etc/old", 1_000_000_000),
        ("etc/new", EPOCH),
    ];
    Tree { store_path, etc, expected }
}

fn path_of(inner: &str) -> String {
    inner.replace("STORE", STORE)
}

fn build(dir: &Path, t: &Tree, format: &str) -> PathBuf {
    let spec = serde_json::json!({ "version": 1, "name": format, "partitions": [{
        "id": "10-data",
        "repartConfig": { "Type": "linux-generic", "Format": format, "Minimize": "guess" },
        "contents": { "/etc": { "source": t.etc } },
        "storePaths": [t.store_path] }] });
    let spec_path = dir.join(format!("{format}.json"));
    std::fs::write(&spec_path, spec.to_string()).expect("spec");
    let out = dir.join(format!("out-{format}"));
    build_at(&spec_path, &out, EPOCH, &[]);
    let (offset, size) = partitions(&out)[0];
    let fs = dir.join(format!("{format}.img"));
    extract(&out.join(format!("{format}.raw")), offset, size, &fs);
    fs
}

/// Checks the lstat mtimes of an extracted tree.
fn check_extracted(root: &Path, t: &Tree, what: &str) {
    for (inner, expected) in &t.expected {
        let meta = std::fs::symlink_metadata(root.join(path_of(inner))).expect(inner);
        assert_eq!(meta.mtime() as u64, *expected, "{what}: /{}", path_of(inner));
    }
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn squashfs_keeps_store_mtimes() {
    common::require_tool("unsquashfs");
    let dir = tempfile::tempdir().expect("tempdir");
    let t = tree(dir.path());
    let fs = build(dir.path(), &t, "squashfs");
    let root = dir.path().join("x");
    run_ok(Command::new("unsquashfs").arg("-q").arg("-d").arg(&root).arg(&fs));
    check_extracted(&root, &t, "squashfs");
}

#[cfg_attr(lacks = "erofs-utils", ignore = "needs erofs-utils; .ci/run installs them")]
#[test]
fn erofs_keeps_store_mtimes() {
    common::require_tool("fsck.erofs");
    let dir = tempfile::tempdir().expect("tempdir");
    let t = tree(dir.path());
    let fs = build(dir.path(), &t, "erofs");
    let root = dir.path().join("x");
    run_ok(Command::new("fsck.erofs").arg(format!("--extract={}", root.display())).arg("--preserve").arg(&fs));
    check_extracted(&root, &t, "erofs");
}

/// The system's debugfs, by the mtime of `/inner`.
fn debugfs_mtime(fs: &Path, inner: &str) -> u64 {
    common::debugfs_mtime(Path::new("debugfs"), fs, inner)
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn ext4_keeps_store_mtimes() {
    common::require_tools(&["mke2fs", "debugfs", "e2fsck"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let t = tree(dir.path());
    let fs = build(dir.path(), &t, "ext4");
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    for (inner, expected) in &t.expected {
        assert_eq!(debugfs_mtime(&fs, &path_of(inner)), *expected, "ext4: /{}", path_of(inner));
    }
    // The root directory and lost+found are mke2fs's own: the build's time.
    assert_eq!(debugfs_mtime(&fs, ""), EPOCH);
    assert_eq!(debugfs_mtime(&fs, "lost+found"), EPOCH);
}

#[test]
fn vfat_keeps_file_mtimes_from_1980_on_and_dates_directories_at_the_epoch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = tree(dir.path());
    // FAT holds no symlinks: only the regular files and directories.
    std::fs::remove_file(t.store_path.join("bin/hi")).expect("rm");
    let fs = build(dir.path(), &t, "vfat");
    let volume =
        fatfs::FileSystem::new(std::fs::File::open(&fs).expect("open"), fatfs::FsOptions::new()).expect("fatfs");
    let root = volume.root_dir();
    let fat_epoch = 315_532_800; // 1980-01-01
    for (inner, expected) in t.expected.iter().filter(|(p, _)| !p.ends_with("/hi")) {
        let path = path_of(inner);
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let parent_dir = if parent.is_empty() { root.clone() } else { root.open_dir(parent).expect("dir") };
        let entry = parent_dir.iter().map(|e| e.expect("entry")).find(|e| e.file_name() == name).expect(name);
        let modified = entry.modified();
        let (date, time) = (modified.date, modified.time);
        let days = days_from_civil(i64::from(date.year), u32::from(date.month), u32::from(date.day));
        let seconds =
            days as u64 * 86_400 + u64::from(time.hour) * 3600 + u64::from(time.min) * 60 + u64::from(time.sec);
        // Directories get SOURCE_DATE_EPOCH, as systemd-repart 262 writes
        // them; files their own mtime, FAT's 1980 floor aside.
        let want = if entry.is_dir() { EPOCH } else { (*expected).max(fat_epoch) };
        assert_eq!(seconds, want, "vfat: /{path}");
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
