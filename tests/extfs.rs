//! ext4 (and ext2/ext3), erofs and swap partitions: checked with e2fsck,
//! fsck.erofs and mkswap; contents extracted with debugfs and
//! `fsck.erofs --extract` equal the source, owned by 0:0 with the source's
//! modes; images are byte-identical across runs (new inode change times),
//! `--jobs`, creation order and hard-linked sources.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build, build_ok, extract, partitions, require_tools, run_ok};

/// A source tree: files of several sizes and modes, nested and long
/// names, short and long symlinks, an empty directory. `reverse` creates
/// it in the opposite order; `hard_links` makes duplicates hard links.
fn make_tree(root: &Path, reverse: bool, hard_links: bool) {
    let mut rng = common::Rng(11);
    let mut files: Vec<(String, Vec<u8>, u32)> = (0..60)
        .map(|i| (format!("d{}/sub{}/file-{i:03}.dat", i % 3, i % 5), rng.bytes((i * 977) % 70_000), 0o444))
        .collect();
    files.push(("bin/tool".into(), b"#!/bin/sh\necho tool\n".to_vec(), 0o555));
    files.push(("big.bin".into(), rng.bytes(3 << 20), 0o644));
    files.push((format!("long/{}", "n".repeat(200)), b"long name\n".to_vec(), 0o600));
    if reverse {
        files.reverse();
    }
    for (path, data, mode) in &files {
        let at = root.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, data).unwrap();
        std::fs::set_permissions(&at, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    let dup = root.join("d0/duplicate.dat");
    if hard_links {
        std::fs::hard_link(root.join("bin/tool"), &dup).unwrap();
    } else {
        std::fs::copy(root.join("bin/tool"), &dup).unwrap();
    }
    std::os::unix::fs::symlink("../bin/tool", root.join("d1/short-link")).unwrap();
    std::os::unix::fs::symlink(format!("/nix/store/{}", "x".repeat(90)), root.join("d1/long-link")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
}

/// A one-partition spec; `source` (if any) becomes its root.
fn spec_of(dir: &Path, name: &str, source: Option<&Path>, partition: serde_json::Value) -> PathBuf {
    let mut partition = partition;
    partition["id"] = "10-data".into();
    if let Some(source) = source {
        partition["contents"] = serde_json::json!({ "/": { "source": source } });
    }
    let spec = serde_json::json!({ "version": 1, "name": name, "partitions": [partition] });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

fn spec(dir: &Path, name: &str, source: &Path, partition: serde_json::Value) -> PathBuf {
    spec_of(dir, name, Some(source), partition)
}

/// The spec at `path` with `"extWriter": writer` added.
fn with_writer(path: PathBuf, writer: &str) -> PathBuf {
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["extWriter"] = writer.into();
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

/// Path -> (kind, mode, bytes or link target) of a tree on disk.
fn listing(root: &Path) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == "lost+found" {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.mode() & 0o7777;
            if meta.file_type().is_symlink() {
                out.insert(rel, ('l', 0, std::fs::read_link(&path).unwrap().into_os_string().into_encoded_bytes()));
            } else if meta.is_dir() {
                out.insert(rel, ('d', mode, Vec::new()));
                stack.push(path);
            } else {
                out.insert(rel, ('f', mode, std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// The one partition of a built image, extracted.
fn partition_file(out: &Path, image: &str, to: &Path) {
    let (offset, size) = partitions(out)[0];
    extract(&out.join(image), offset, size, to);
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn ext4_holds_the_tree_and_passes_e2fsck() {
    require_tools(&["mke2fs", "e2fsck", "debugfs"]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src, false, true);
    for (format, minimize) in [("ext4", "guess"), ("ext4", "off"), ("ext3", "guess"), ("ext2", "best")] {
        let out = tmp.path().join(format!("out-{format}-{minimize}"));
        let partition = serde_json::json!({ "repartConfig": { "Type": "linux-generic", "Label": "a-label-longer-than-16", "Format": format, "Minimize": minimize } });
        let output = build(&spec(tmp.path(), "e", &src, partition), &out, &[]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("note: partition 10-data: {format} of ")), "{stderr}");
        let fs = tmp.path().join(format!("{format}-{minimize}.img"));
        partition_file(&out, "e.raw", &fs);
        run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
        let info = run_ok(Command::new("dumpe2fs").arg("-h").arg(&fs));
        assert!(info.contains("Filesystem volume name:   a-label-longer-t\n"), "{info}");
        let dump = tmp.path().join(format!("dump-{format}-{minimize}"));
        std::fs::create_dir(&dump).unwrap();
        run_ok(Command::new("debugfs").arg("-R").arg(format!("rdump / {}", dump.display())).arg(&fs));
        assert_eq!(listing(&dump), listing(&src), "{format} {minimize}: contents differ");
        // Owners are 0:0 and every time is SOURCE_DATE_EPOCH, for every inode.
        let stat = run_ok(Command::new("debugfs").arg("-R").arg("stat /d0/duplicate.dat").arg(&fs));
        assert!(stat.contains("User:     0   Group:     0"), "{stat}");
        if format != "ext2" {
            assert!(info.contains("Journal"), "{format} without a journal: {info}");
        }
    }
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn ext4_minimize_guess_is_tight_and_needs_no_retry() {
    require_tools(&["mke2fs", "e2fsck"]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    // 2000 small files and 40 MiB of data in 100 directories.
    let mut rng = common::Rng(3);
    for i in 0..2000 {
        let at = src.join(format!("dir{:02}/f{i}", i % 100));
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, rng.bytes(if i % 100 == 0 { 2 << 20 } else { 1000 })).unwrap();
    }
    let out = tmp.path().join("out");
    let partition = serde_json::json!({ "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" } });
    let output = build(&spec(tmp.path(), "g", &src, partition), &out, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (_, size) = partitions(&out)[0];
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("was short"), "the estimate needed a retry:\n{stderr}");
    let free: u64 = stderr.split("bytes, ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    // The journal (16 MiB) aside, no more than a fifth of the filesystem is left free.
    assert!(free < size / 5 + (16 << 20), "too loose: {free} of {size} free\n{stderr}");
    let fs = tmp.path().join("g.img");
    partition_file(&out, "g.raw", &fs);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
}

fn image_bytes(out: &Path, name: &str) -> Vec<u8> {
    std::fs::read(out.join(name)).unwrap()
}

#[cfg_attr(
    any(lacks = "e2fsprogs", lacks = "erofs-utils"),
    ignore = "needs e2fsprogs, erofs-utils; .ci/run installs them"
)]
#[test]
fn images_are_identical_across_runs_jobs_order_and_hard_links() {
    require_tools(&["mke2fs", "mkfs.erofs"]);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    make_tree(&a, false, false);
    make_tree(&b, true, true);
    for format in ["ext4", "erofs", "swap"] {
        let repart = match format {
            "swap" => {
                serde_json::json!({ "Type": "swap", "Format": "swap", "SizeMinBytes": "8M", "SizeMaxBytes": "8M" })
            }
            "erofs" => serde_json::json!({ "Type": "usr", "Format": "erofs", "Minimize": "best" }),
            _ => serde_json::json!({ "Type": "root", "Format": "ext4", "Minimize": "guess" }),
        };
        // Swap holds no files.
        let partition = |src: &Path| {
            let source = (format != "swap").then_some(src);
            spec_of(tmp.path(), format, source, serde_json::json!({ "repartConfig": repart.clone() }))
        };
        let name = format!("{format}.raw");
        let first = tmp.path().join(format!("{format}-1"));
        build_ok(&partition(&a), &first, &["--jobs", "1"]);
        // A second second: every staged inode gets a new change time.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = tmp.path().join(format!("{format}-2"));
        build_ok(&partition(&b), &second, &["--jobs", "4"]);
        assert!(image_bytes(&first, &name) == image_bytes(&second, &name), "{format}: images differ");
    }
}

#[cfg_attr(lacks = "erofs-utils", ignore = "needs erofs-utils; .ci/run installs them")]
#[test]
fn erofs_holds_the_tree_and_passes_fsck() {
    require_tools(&["mkfs.erofs", "fsck.erofs"]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src, false, true);
    for compression in [None, Some("lz4")] {
        let mut repart = serde_json::json!({ "Type": "usr", "Format": "erofs", "Minimize": "best" });
        if let Some(c) = compression {
            repart["Compression"] = c.into();
        }
        let out = tmp.path().join(format!("out-{compression:?}"));
        build_ok(&spec(tmp.path(), "r", &src, serde_json::json!({ "repartConfig": repart })), &out, &[]);
        let fs = tmp.path().join("r.img");
        partition_file(&out, "r.raw", &fs);
        let extracted = tmp.path().join(format!("x-{compression:?}"));
        run_ok(Command::new("fsck.erofs").arg(format!("--extract={}", extracted.display())).arg(&fs));
        assert_eq!(listing(&extracted), listing(&src), "erofs {compression:?}: contents differ");
        let meta = std::fs::metadata(extracted.join("bin/tool")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (0, 0));
    }
}

#[cfg_attr(lacks = "swap-tools", ignore = "needs mkswap and blkid; .ci/run installs them")]
#[test]
fn swap_header_equals_mkswap() {
    require_tools(&["mkswap"]);
    let tmp = tempfile::tempdir().unwrap();
    let spec_path = tmp.path().join("s.json");
    let spec = serde_json::json!({ "version": 1, "name": "s", "partitions": [
        { "id": "10-swap", "repartConfig": { "Type": "swap", "Format": "swap", "Label": "my-swap", "SizeMinBytes": "16M", "SizeMaxBytes": "16M" } } ] });
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = tmp.path().join("out");
    build_ok(&spec_path, &out, &[]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("repart-output.json")).unwrap()).unwrap();
    let ours = tmp.path().join("ours.img");
    partition_file(&out, "s.raw", &ours);
    let uuid = run_ok(Command::new("blkid").args(["-o", "value", "-s", "UUID"]).arg(&ours));
    assert_eq!(report[0]["label"], "my-swap");
    let theirs = tmp.path().join("theirs.img");
    std::fs::File::create(&theirs).unwrap().set_len(16 << 20).unwrap();
    run_ok(Command::new("mkswap").args(["-q", "-L", "my-swap", "-U", uuid.trim()]).arg(&theirs));
    assert!(std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(), "swap area differs from mkswap's");
}

#[cfg_attr(
    any(lacks = "e2fsprogs", lacks = "erofs-utils"),
    ignore = "needs e2fsprogs, erofs-utils; .ci/run installs them"
)]
#[test]
fn errors_name_the_partition_and_the_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src, false, false);
    // Content larger than SizeMaxBytes.
    require_tools(&["mke2fs", "mkfs.erofs"]);
    {
        let partition = serde_json::json!({ "repartConfig": { "Type": "root", "Format": "ext4", "SizeMinBytes": "12M", "SizeMaxBytes": "12M" } });
        let out = tmp.path().join("small");
        std::fs::write(src.join("huge.bin"), vec![1u8; 14 << 20]).unwrap();
        let output = build(&spec(tmp.path(), "t", &src, partition), &out, &[]);
        std::fs::remove_file(src.join("huge.bin")).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        // The estimate from the tree already shows it, before any mkfs runs.
        assert!(
            stderr.starts_with("error: planning the layout: partition 10-data: its content needs ")
                && stderr.ends_with("but SizeMaxBytes= allows 12582912 bytes (12.0M); raise or remove SizeMaxBytes=\n"),
            "{stderr}"
        );
        assert!(!out.exists());
    }
    // mke2fs missing from PATH (when it is the writer): the message names the packages.
    let partition = serde_json::json!({ "repartConfig": { "Type": "root", "Format": "ext4" } });
    let out = tmp.path().join("nopath");
    let output = common::run(
        Command::new(common::bin())
            .args(["build", "--quiet"])
            .arg(with_writer(spec(tmp.path(), "p", &src, partition), "mke2fs"))
            .arg("-o")
            .arg(&out)
            .env("PATH", "/nonexistent"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: partition 10-data: cannot make its filesystem: mke2fs is not on PATH; install it (Debian: apt-get install e2fsprogs; nixpkgs: e2fsprogs)\n"
    );
    assert!(!out.exists());
    // A compressor erofs does not have: refused with the spec, naming the key.
    {
        let partition =
            serde_json::json!({ "repartConfig": { "Type": "usr", "Format": "erofs", "Compression": "lzo" } });
        let out = tmp.path().join("zstd");
        let output = build(&spec(tmp.path(), "z", &src, partition), &out, &[]);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "error: /partitions/0/repartConfig/Compression: Compression=lzo is not a compression Format=erofs takes (one of: lz4, lz4hc, zstd, lzma, deflate) (partition 10-data)\n"
        );
    }
}

/// `freeSpace` (make-disk-image's additionalSpace): a minimized ext4 gets
/// that much more room, and e2fsck still finds it clean. With mke2fs it is
/// added to the estimate; nix-repart's own writer leaves exactly that much
/// free instead of its half-again rule (docs/extfs.md).
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs it")]
#[test]
fn free_space_adds_room_to_a_minimized_ext4() {
    require_tools(&["mke2fs", "e2fsck", "dumpe2fs"]);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    make_tree(&src, false, false);
    // Above ext4's 32 MiB floor either way: 40 MiB of data.
    std::fs::write(src.join("filler.bin"), common::Rng(5).bytes(40 << 20)).unwrap();
    // (total blocks, free blocks)
    let blocks = |name: &str, writer: &str, extra: serde_json::Value| {
        let mut partition =
            serde_json::json!({ "repartConfig": { "Type": "linux-generic", "Format": "ext4", "Minimize": "guess" } });
        if !extra.is_null() {
            partition["freeSpace"] = extra;
        }
        let out = dir.path().join(name);
        build_ok(&with_writer(spec(dir.path(), name, &src, partition), writer), &out, &[]);
        let fs = dir.path().join(format!("{name}.img"));
        partition_file(&out, &format!("{name}.raw"), &fs);
        run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
        let info = run_ok(Command::new("dumpe2fs").arg("-h").arg(&fs));
        let field = |key: &str| -> u64 {
            let line = info.lines().find(|l| l.starts_with(key)).unwrap().to_string();
            line.split_whitespace().last().unwrap().parse().unwrap()
        };
        (field("Block count:"), field("Free blocks:"))
    };
    let added = (64u64 << 20) / 4096;
    let ((size, free), (roomy_size, roomy_free)) =
        (blocks("tight", "mke2fs", serde_json::Value::Null), blocks("roomy", "mke2fs", "64M".into()));
    // The filesystem is 64 MiB larger; nearly all of it stays free (the
    // larger filesystem's own metadata takes the rest, under 1 %).
    assert!(roomy_size >= size + added, "blocks: {size} without, {roomy_size} with 64M more");
    assert!(roomy_free >= free + added * 99 / 100, "free blocks: {free} without, {roomy_free} with 64M more");
    let ((own_size, own_free), (_, own_roomy_free)) =
        (blocks("own", "nix-repart", serde_json::Value::Null), blocks("own-roomy", "nix-repart", "64M".into()));
    // Half of what the files take (over 40 MiB: at least 20 MiB) free, but
    // not more than the filesystem uses; with freeSpace, that and no more.
    let used = own_size - own_free;
    assert!(own_free >= (20 << 20) / 4096 && own_free < used, "{own_free} of {own_size} free");
    assert!((added..added + added / 50).contains(&own_roomy_free), "{own_roomy_free} free for 64M asked");
}
