//! squashfs partitions end to end: `unsquashfs -lln` must list exactly the
//! expected tree, `unsquashfs -d` must give back the source closure (bytes,
//! symlinks, modes), and images must be byte-identical across thread
//! counts, closure order and hard links.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const EPOCH: u64 = 1_700_000_000; // 2023-11-14 22:13:20 UTC

/// A fake closure: store paths with binaries (some larger than a block,
/// one with a zero block), libraries, symlinks within and across paths,
/// empty files and directories. Identical files in different store paths
/// are hard links when `hard_links` is set.
fn make_store(store: &Path, hard_links: bool) -> Vec<PathBuf> {
    let mut rng = Rng(42);
    let names = [
        "0c0yi1s1ggk6xl9pvnjv0a1ghiv3r2k5-hello-2.12.1",
        "3p4kk4p9xyf5v2gwz0g8pn6x6i1lbbvd-glibc-2.39",
        "9wb7g7lq4c5c0hj5j3w0mqy3yn1z8a2j-bash-5.2",
    ];
    let shared = rng.bytes(3000);
    let mut paths = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let root = store.join(name);
        fs::create_dir_all(root.join("bin")).expect("mkdir");
        fs::create_dir_all(root.join("share/doc/empty")).expect("mkdir");
        let mut big = rng.bytes(300_000 + i * 12345);
        big[131_072..262_144].fill(0);
        fs::write(root.join("bin/prog"), &big).expect("write");
        fs::set_permissions(root.join("bin/prog"), fs::Permissions::from_mode(0o555)).expect("chmod");
        fs::write(root.join("share/doc/README"), rng.bytes(500 + i)).expect("write");
        fs::write(root.join("share/doc/empty-file"), b"").expect("write");
        let common = root.join("share/common.txt");
        if hard_links && i > 0 {
            fs::hard_link(store.join(names[0]).join("share/common.txt"), &common).expect("hard link");
        } else {
            fs::write(&common, &shared).expect("write");
        }
        fs::set_permissions(root.join("share/doc/README"), fs::Permissions::from_mode(0o444)).expect("chmod");
        symlink("prog", root.join("bin/alias")).expect("symlink");
        let other = format!("../../{}/bin/prog", names[(i + 1) % names.len()]);
        symlink(other, root.join("bin/other")).expect("symlink");
        paths.push(root);
    }
    paths
}

fn spec(dir: &Path, paths: &[PathBuf], prefix: &str, config: &str, extra_top: &str) -> PathBuf {
    let list: Vec<String> = paths.iter().map(|p| format!("\"{}\"", p.display())).collect();
    let text = format!(
        r#"{{"version": 1, "name": "store" {extra_top}, "partitions": [
            {{"id": "10-store", "repartConfig": {{"Type": "linux-generic", "Label": "nix-store", "Format": "squashfs",
              "Minimize": "best", "ReadOnly": "yes" {config}}},
              "storePaths": [{}], "nixStorePrefix": "{prefix}"}}]}}"#,
        list.join(", ")
    );
    let path = dir.join("spec.json");
    fs::write(&path, text).expect("write spec");
    path
}

fn partition(out: &Path, work: &Path) -> PathBuf {
    let (offset, size) = partitions(out)[0];
    let part = work.join("store.squashfs");
    extract(&out.join("store.raw"), offset, size, &part);
    part
}

const DATE: &str = "2023-11-14 22:13";

/// One `unsquashfs -lln` line for a file or symlink.
fn entry_line(mode: &str, size: u64, path: &Path, link: Option<String>) -> String {
    let target = link.map(|l| format!(" -> {l}")).unwrap_or_default();
    format!("{mode} 0/0 {size} {DATE} {}{target}", path.display())
}

/// Records `src` (a file, symlink or directory tree) at `dst`; directories
/// as `dir <mode>`, turned into lines at the end.
fn walk_source(src: &Path, dst: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let meta = fs::symlink_metadata(src).expect("meta");
    let mode = meta.permissions().mode();
    if meta.file_type().is_symlink() {
        let target = fs::read_link(src).expect("readlink").display().to_string();
        out.insert(dst.to_path_buf(), entry_line("lrwxrwxrwx", target.len() as u64, dst, Some(target)));
    } else if meta.is_dir() {
        out.insert(dst.to_path_buf(), format!("dir {mode:o}"));
        for entry in fs::read_dir(src).expect("ls") {
            let entry = entry.expect("entry");
            walk_source(&entry.path(), &dst.join(entry.file_name()), out);
        }
    } else {
        out.insert(dst.to_path_buf(), entry_line(&mode_string(mode, '-'), meta.len(), dst, None));
    }
}

/// What `unsquashfs -lln` should print for the source tree.
fn expected_listing(paths: &[PathBuf], prefix: &str) -> Vec<String> {
    let mut entries: BTreeMap<PathBuf, String> = BTreeMap::new();
    let root = PathBuf::from("squashfs-root");
    let mut prefix_dirs = PathBuf::new();
    for part in Path::new(prefix).components().skip(1) {
        prefix_dirs.push(part);
        entries.insert(root.join(&prefix_dirs), String::from("dir 755"));
    }
    for p in paths {
        let name = p.file_name().expect("name");
        walk_source(p, &root.join(prefix.trim_start_matches('/')).join(name), &mut entries);
    }
    entries.insert(root.clone(), String::from("dir 755"));
    entries
        .into_iter()
        .map(|(path, kind)| if kind.starts_with("dir") { dir_line(&path, &kind) } else { kind })
        .collect()
}

fn mode_string(mode: u32, kind: char) -> String {
    let mut s = String::from(kind);
    for (bit, c) in [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o40, 'r'),
        (0o20, 'w'),
        (0o10, 'x'),
        (0o4, 'r'),
        (0o2, 'w'),
        (0o1, 'x'),
    ] {
        s.push(if mode & bit != 0 { c } else { '-' });
    }
    s
}

/// Directory sizes are squashfs-internal; only mode, owner and time are compared.
fn dir_line(path: &Path, kind: &str) -> String {
    let mode = u32::from_str_radix(kind.trim_start_matches("dir").trim(), 8).unwrap_or(0o755);
    format!("{} 0/0 * {DATE} {}", mode_string(mode, 'd'), path.display())
}

/// `unsquashfs -lln`, with directory sizes replaced by `*`.
fn listing(part: &Path) -> Vec<String> {
    let out = run_ok(Command::new("unsquashfs").arg("-lln").arg(part).env("TZ", "UTC"));
    out.lines()
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let size = if l.starts_with('d') { "*" } else { fields[2] };
            format!("{} {} {} {}", fields[0], fields[1], size, fields[3..].join(" "))
        })
        .collect()
}

fn round_trip(prefix: &str, config: &str) {
    require_tool("unsquashfs");
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = make_store(&dir.path().join("nix/store"), false);
    let out = dir.path().join("out");
    build_at(&spec(dir.path(), &paths, prefix, config, ""), &out, EPOCH, &[]);
    let part = partition(&out, dir.path());
    let mut expected = expected_listing(&paths, prefix);
    expected.sort();
    let mut got = listing(&part);
    got.sort();
    assert_eq!(got, expected, "unsquashfs -lln");
    let extracted = dir.path().join("extracted");
    run_ok(Command::new("unsquashfs").arg("-d").arg(&extracted).arg(&part));
    for p in &paths {
        let inside = extracted.join(prefix.trim_start_matches('/')).join(p.file_name().expect("name"));
        assert_trees_equal(p, &inside);
    }
}

fn assert_trees_equal(a: &Path, b: &Path) {
    let (ma, mb) = (fs::symlink_metadata(a).expect("a"), fs::symlink_metadata(b).expect("b"));
    assert_eq!(ma.file_type().is_symlink(), mb.file_type().is_symlink(), "{}", b.display());
    if ma.file_type().is_symlink() {
        assert_eq!(fs::read_link(a).expect("a"), fs::read_link(b).expect("b"), "{}", b.display());
        return;
    }
    assert_eq!(ma.permissions().mode() & 0o7777, mb.permissions().mode() & 0o7777, "mode of {}", b.display());
    if ma.is_dir() {
        let names = |d: &Path| {
            let mut v: Vec<_> = fs::read_dir(d).expect("ls").map(|e| e.expect("entry").file_name()).collect();
            v.sort();
            v
        };
        assert_eq!(names(a), names(b), "{}", b.display());
        for name in names(a) {
            assert_trees_equal(&a.join(&name), &b.join(&name));
        }
    } else {
        assert_eq!(fs::read(a).expect("a"), fs::read(b).expect("b"), "{}", b.display());
    }
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn store_at_the_root_gzip() {
    round_trip("/", "");
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn store_under_nix_store_zstd() {
    round_trip("/nix/store", r#", "Compression": "zstd", "CompressionLevel": 19"#);
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn xz_and_lz4() {
    round_trip("/", r#", "Compression": "xz""#);
    round_trip("/", r#", "Compression": "lz4""#);
}

#[test]
fn identical_across_jobs_order_and_hard_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = make_store(&dir.path().join("a/nix/store"), false);
    let linked = make_store(&dir.path().join("b/nix/store"), true);
    let mut reversed = plain.clone();
    reversed.reverse();
    let builds = [("plain-1", &plain, "1"), ("reversed-4", &reversed, "4"), ("hard-links-2", &linked, "2")];
    let mut images = Vec::new();
    for (name, paths, jobs) in builds {
        let work = dir.path().join(name);
        fs::create_dir_all(&work).expect("mkdir");
        let out = work.join("out");
        build_at(&spec(&work, paths, "/", "", ""), &out, EPOCH, &["--jobs", jobs]);
        images.push((name, fs::read(out.join("store.raw")).expect("read")));
    }
    for (name, image) in &images[1..] {
        assert!(image == &images[0].1, "{name} differs from {}", images[0].0);
    }
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn fixed_image_size_moves_the_filesystem_into_place() {
    require_tool("unsquashfs");
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = make_store(&dir.path().join("nix/store"), false);
    let out = dir.path().join("out");
    let text = format!(
        r#"{{"version": 1, "name": "store", "imageSize": "64M", "partitions": [
            {{"id": "05-boot", "repartConfig": {{"Type": "linux-generic", "Format": "vfat", "SizeMinBytes": "20M"}}}},
            {{"id": "10-store", "repartConfig": {{"Type": "linux-generic", "Format": "squashfs"}}, "storePaths": ["{}"]}}]}}"#,
        paths[0].display()
    );
    fs::write(dir.path().join("spec.json"), text).expect("write");
    build_at(&dir.path().join("spec.json"), &out, EPOCH, &[]);
    assert_eq!(fs::metadata(out.join("store.raw")).expect("meta").len(), 64 << 20, "scratch space is cut off");
    let (offset, size) = partitions(&out)[1];
    let part = dir.path().join("part");
    extract(&out.join("store.raw"), offset, size, &part);
    let lines = listing(&part);
    assert!(lines.iter().any(|l| l.ends_with("bin/prog") && l.contains(" 300000 ")), "{lines:?}");
}

#[test]
fn bad_squashfs_settings_are_input_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = make_store(&dir.path().join("nix/store"), false);
    let spec = spec(dir.path(), &paths, "/", r#", "Compression": "lz4", "CompressionLevel": 3"#, "");
    let output = build(&spec, &dir.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: /partitions/0/repartConfig/CompressionLevel: CompressionLevel= does not apply to lz4, which has no levels (partition 10-store)"
    );
    let spec = self::spec(dir.path(), &paths, "/", "", r#", "mkfsOptions": {"squashfs": ["-b", "1M", "-nopad"]}"#);
    let output = build(&spec, &dir.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        r#"error: /mkfsOptions/squashfs/2: "-nopad" is not an option nix-repart passes to mksquashfs (it is not an option nix-repart's squashfs writer maps); the options it passes are listed in docs/spec.md"#
    );
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn make_directories_and_exclusions() {
    require_tool("unsquashfs");
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = make_store(&dir.path().join("nix/store"), false);
    let config = format!(
        r#", "MakeDirectories": "/nix/var/nix /etc", "ExcludeFiles": "{}/share/doc", "ExcludeFilesTarget": "/{}/bin/alias""#,
        paths[0].display(),
        paths[1].file_name().expect("name").to_string_lossy()
    );
    let out = dir.path().join("out");
    build_at(&spec(dir.path(), &paths, "/", &config, ""), &out, EPOCH, &[]);
    let lines = listing(&partition(&out, dir.path()));
    let has = |suffix: &str| lines.iter().any(|l| l.ends_with(suffix));
    let (first, second) = (paths[0].file_name().expect("a"), paths[1].file_name().expect("b"));
    assert!(has("squashfs-root/nix/var/nix") && has("squashfs-root/etc"), "{lines:?}");
    assert!(!has(&format!("{}/share/doc", first.to_string_lossy())), "ExcludeFiles= kept the directory");
    assert!(has(&format!("{}/share/doc", second.to_string_lossy())), "only the first store path's doc is excluded");
    assert!(
        !lines.iter().any(|l| l.contains(&format!("{}/bin/alias", second.to_string_lossy()))),
        "ExcludeFilesTarget="
    );
}

#[test]
fn plan_exact_measures_squashfs_without_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = make_store(&dir.path().join("nix/store"), false);
    let spec = spec(dir.path(), &paths, "/", "", "");
    let before: Vec<_> = fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    let plan =
        run_ok(Command::new(bin()).args(["plan", "--exact"]).arg(&spec).env("SOURCE_DATE_EPOCH", EPOCH.to_string()));
    let after: Vec<_> = fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(before, after, "plan wrote files");
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("plan json");
    let out = dir.path().join("out");
    build_at(&spec, &out, EPOCH, &[]);
    assert_eq!(plan["partitions"][0]["size"].as_u64(), Some(partitions(&out)[0].1), "plan and build agree");
}
