//! nix-repart's own ext4 writer (`"extWriter": "nix-repart"`): every test
//! tree passes `e2fsck -fn`, and `debugfs rdump` gives back every byte,
//! mode, owner, mtime and symlink target; for the same tree, mke2fs -d's
//! filesystem (the reference) gives the same listing and the same
//! `dumpe2fs -h` counts and journal, the same `debugfs ls -l` entries and
//! link counts; a closure of real files comes back whole; the bytes do not depend on
//! `--jobs`, creation order or hard links.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::listing::{listing, Fields};
use common::{build, extract, partitions, require_tools, run_ok, set_mtime, set_mtimes_below};
use serde_json::json;

const TOOLS: &[&str] = &["mke2fs", "e2fsck", "debugfs", "dumpe2fs"];

fn write(path: &Path, data: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, data).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Every kind of entry the issue names, small enough for CI: an empty
/// and a one-block file, a sparse file large enough for more than four
/// extents (an extent leaf block), long and non-UTF-8 names, symlinks of
/// 59, 60 and 200 bytes, hard links, setuid and sticky modes, 3000 files
/// in one directory, a tree as deep as a path may go. The sparse file
/// (`large`) only where its extents are what is tested.
fn every_kind(root: &Path, reverse: bool, hard_links: bool, large: bool) {
    let mut rng = common::Rng(5);
    let mut files: Vec<(PathBuf, Vec<u8>, u32)> = vec![
        (root.join("empty-file"), Vec::new(), 0o644),
        (root.join("one-block"), rng.bytes(4096), 0o600),
        (root.join("bin/su"), b"#!/bin/sh\n".to_vec(), 0o4755),
        (root.join("n").join("x".repeat(255)), b"long name\n".to_vec(), 0o644),
        (root.join("n").join(std::ffi::OsStr::from_bytes(b"caf\xe9-latin1")), b"not utf-8\n".to_vec(), 0o644),
    ];
    files.extend((0..3000).map(|i| (root.join(format!("many/f{i:05}")), rng.bytes(i % 300), 0o644)));
    if reverse {
        files.reverse();
    }
    for (path, data, mode) in &files {
        write(path, data, *mode);
    }
    if large {
        let sparse = std::fs::File::create(root.join("sparse")).expect("sparse");
        sparse.set_len(700 << 20).expect("set_len");
        std::os::unix::fs::FileExt::write_all_at(&sparse, b"start", 0).expect("write");
        std::os::unix::fs::FileExt::write_all_at(&sparse, b"middle", 333 << 20).expect("write");
    }
    std::fs::create_dir_all(root.join("tmp")).expect("tmp");
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).expect("sticky");
    for (name, len) in [("l59", 59), ("l60", 60), ("l200", 200)] {
        std::os::unix::fs::symlink("t".repeat(len), root.join(name)).expect("symlink");
    }
    let link = root.join("bin/su-again");
    if hard_links {
        std::fs::hard_link(root.join("bin/su"), &link).expect("link");
    } else {
        std::fs::copy(root.join("bin/su"), &link).expect("copy");
    }
    let mut deep = root.join("deep");
    for _ in 0..900 {
        deep.push("d");
    }
    write(&deep.join("bottom"), b"bottom\n", 0o644);
    // Old mtimes, below SOURCE_DATE_EPOCH, are kept as they are; one time
    // for all, since hard links share theirs.
    set_mtimes_below(root, 1_000_000);
}

fn spec(dir: &Path, name: &str, writer: &str, source: &Path, size: Option<&str>) -> PathBuf {
    let mut config = json!({ "Type": "linux-generic", "Format": "ext4", "Label": "root" });
    match size {
        Some(size) => {
            config["SizeMinBytes"] = size.into();
            config["SizeMaxBytes"] = size.into();
        }
        None => config["Minimize"] = "guess".into(),
    }
    let spec = json!({ "version": 1, "name": name, "extWriter": writer,
        "partitions": [{ "id": "10-root", "repartConfig": config, "contents": { "/": { "source": source } } }] });
    let path = dir.join(format!("{name}-{writer}.json"));
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

/// Builds and returns the filesystem, extracted.
fn built(dir: &Path, spec: &Path, out: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(out);
    let output = build(spec, &out, extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}", stderr.chars().take(2000).collect::<String>());
    let (offset, size) = partitions(&out)[0];
    let image = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "raw"))
        .expect("image");
    let fs = out.with_extension("fs");
    extract(&image, offset, size, &fs);
    fs
}

/// Asserts two listings are equal, showing only the lines that differ.
fn assert_same(left: &[String], right: &[String], what: &str) {
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|l| !b.contains(l)).take(5).map(|l| l.chars().take(200).collect()).collect()
    };
    assert!(
        left == right,
        "{what}: {} and {} entries; only left: {:?}; only right: {:?}",
        left.len(),
        right.len(),
        only(left, right),
        only(right, left)
    );
}

fn rdump(fs: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    run_ok(Command::new("debugfs").arg("-R").arg(format!("rdump / {}", to.display())).arg(fs));
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn every_kind_of_entry_passes_e2fsck_and_comes_back_whole() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    every_kind(&src, false, true, true);
    let fs = built(tmp.path(), &spec(tmp.path(), "kinds", "nix-repart", &src, None), "own", &[]);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    let dump = tmp.path().join("dump");
    rdump(&fs, &dump);
    let fields = Fields { symlink_mtime: false, ..Fields::ALL };
    // rdump sets the owner after the mode, which clears setuid and sticky
    // bits on the copy: those two are read with debugfs stat instead.
    let unspecial = |lines: Vec<String>| -> Vec<String> {
        lines.into_iter().map(|l| l.replace(" 4755 ", " 0755 ").replace(" 1777 ", " 0777 ")).collect()
    };
    let from_image = unspecial(listing(&dump, fields, &["lost+found"]));
    assert_same(&from_image, &unspecial(listing(&src, fields, &[])), "rdump vs source");
    for (path, mode) in [("/bin/su", "Mode:  04755"), ("/bin/su-again", "Mode:  04755"), ("/tmp", "Mode:  01777")] {
        let stat = run_ok(Command::new("debugfs").arg("-R").arg(format!("stat {path}")).arg(&fs));
        assert!(stat.contains(mode), "{path}: {stat}");
    }
    let stat = run_ok(Command::new("debugfs").arg("-R").arg("stat /sparse").arg(&fs));
    assert!(stat.contains("EXTENTS:\n(ETB0)"), "700 MiB in more than four extents needs a leaf block: {stat}");
    let htree = run_ok(Command::new("debugfs").arg("-R").arg("htree /many").arg(&fs));
    assert!(htree.contains("Indirect levels: 0"), "3000 entries make a hashed directory: {htree}");
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn empty_and_one_file_trees_pass_e2fsck() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (empty, one) = (tmp.path().join("empty"), tmp.path().join("one"));
    std::fs::create_dir_all(&empty).expect("mkdir");
    write(&one.join("file"), b"one\n", 0o644);
    set_mtime(&one.join("file"), 1_000_000);
    set_mtime(&one, 1_000_000);
    set_mtime(&empty, 1_000_000);
    for (name, src, size) in [("empty", &empty, None), ("one", &one, None), ("fixed", &one, Some("300M"))] {
        let fs = built(tmp.path(), &spec(tmp.path(), name, "nix-repart", src, size), &format!("out-{name}"), &[]);
        run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
        let dump = tmp.path().join(format!("dump-{name}"));
        rdump(&fs, &dump);
        assert_same(&listing(&dump, Fields::ALL, &["lost+found"]), &listing(src, Fields::ALL, &[]), name);
    }
}

/// dumpe2fs -h lines that do not depend on how the blocks were placed
/// (free blocks do: directories of more than one block are hashed here,
/// linear in mke2fs -d's).
fn header(fs: &Path, minimized: bool) -> Vec<String> {
    let text = run_ok(Command::new("dumpe2fs").arg("-h").arg(fs));
    let kept = [
        "Filesystem features:",
        "Block size:",
        "Inode size:",
        "Journal size:",
        "Default mount options:",
        "Filesystem UUID:",
        "Directory Hash Seed:",
        "Default directory hash:",
        "Reserved block count:",
        "Checksum type:",
        "Journal backup:",
        "Filesystem volume name:",
        "Filesystem flags:",
        "Blocks per group:",
        "Block count:",
        "Inodes per group:",
        "Reserved GDT blocks:",
        "Journal features:",
        "Total journal blocks:",
        "Max transaction length:",
        "Journal sequence:",
        "Journal start:",
    ];
    // Minimized, the inodes follow each writer's room rule (docs/extfs.md).
    let skipped = if minimized { "Inodes per group:" } else { "" };
    text.lines()
        .filter(|l| kept.iter().any(|k| l.starts_with(k)) && (skipped.is_empty() || !l.starts_with(skipped)))
        .map(str::to_string)
        .collect()
}

/// What debugfs shows of some directories' entries: `ls -l` (mode, owner,
/// size but for directories, whose size depends on hashing, time, name;
/// not the inode number) and each entry's link count (`stat`).
fn debugfs_entries(fs: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["/", "/bin", "/n", "/tmp"] {
        let listing = run_ok(Command::new("debugfs").arg("-R").arg(format!("ls -l {dir}")).arg(fs));
        for line in listing.lines().filter(|l| !l.trim().is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(name) = words.last() else { continue };
            if *name == "lost+found" || words.len() < 8 {
                continue;
            }
            let size = if words[1].starts_with('4') { "dir" } else { words[5] };
            let path = format!("{}/{name}", dir.trim_end_matches('/'));
            let stat = run_ok(Command::new("debugfs").arg("-R").arg(format!("stat \"{path}\"")).arg(fs));
            let links = stat.split("Links: ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("?");
            out.push(format!(
                "{dir} {} {} {} {size} {} {} {name} links={links}",
                words[1], words[3], words[4], words[6], words[7]
            ));
        }
    }
    out
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn the_same_tree_gives_what_mke2fs_gives() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    every_kind(&src, false, false, false);
    std::fs::remove_dir_all(src.join("deep")).expect("mke2fs -d cannot take the deepest tree");
    for size in [None, Some("3G")] {
        let mut dumps = Vec::new();
        let mut headers = Vec::new();
        let mut entries = Vec::new();
        for writer in ["nix-repart", "mke2fs"] {
            let name = format!("same-{}", size.unwrap_or("min"));
            let fs = built(tmp.path(), &spec(tmp.path(), &name, writer, &src, size), &format!("{name}-{writer}"), &[]);
            run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
            let dump = tmp.path().join(format!("dump-{name}-{writer}"));
            rdump(&fs, &dump);
            dumps.push(listing(&dump, Fields { symlink_mtime: false, ..Fields::ALL }, &[]));
            headers.push(header(&fs, size.is_none()));
            entries.push(debugfs_entries(&fs));
        }
        // debugfs prints non-UTF-8 bytes escaped (\xe9) and cannot stat them back.
        let counted = entries[0].iter().filter(|e| !e.contains("\\x")).all(|e| !e.contains("links=?"));
        assert!(entries[0].len() > 12 && counted, "{:?}", entries[0]);
        assert_same(&entries[0], &entries[1], &format!("{size:?}: debugfs ls -l and link counts"));
        assert_same(&dumps[0], &dumps[1], &format!("{size:?}: nix-repart vs mke2fs"));
        assert_eq!(headers[0], headers[1], "{size:?}: dumpe2fs -h differs");
    }
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn bytes_do_not_depend_on_jobs_order_or_hard_links() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    every_kind(&a, false, true, false);
    every_kind(&b, true, false, false);
    let one = built(tmp.path(), &spec(tmp.path(), "x", "nix-repart", &a, None), "one", &["--jobs", "1"]);
    let four = built(tmp.path(), &spec(tmp.path(), "x", "nix-repart", &a, None), "four", &["--jobs", "4"]);
    let std_read = |p: &Path| std::fs::read(p).expect("read");
    assert!(std_read(&one) == std_read(&four), "--jobs 1 and 4 differ");
    // The same tree at another path, made in reverse order with copies for links.
    let moved = tmp.path().join("m");
    std::fs::rename(&b, &moved).expect("rename");
    std::fs::rename(&a, tmp.path().join("a-old")).expect("rename");
    std::fs::rename(&moved, &a).expect("rename");
    let other = built(tmp.path(), &spec(tmp.path(), "x", "nix-repart", &a, None), "other", &[]);
    assert!(std_read(&one) == std_read(&other), "creation order or hard links changed the bytes");
}

#[test]
fn writer_settings_that_cannot_work_name_the_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let cases = [
        (
            json!({ "extWriter": "genext2fs" }),
            "/extWriter: \"genext2fs\" is not an ext writer: expected nix-repart or mke2fs",
        ),
        (
            json!({ "extWriter": "nix-repart", "mkfsOptions": { "ext4": ["-O", "^has_journal"] } }),
            "/mkfsOptions/ext4: mkfsOptions.ext4 are mke2fs options",
        ),
    ];
    for (i, (extra, message)) in cases.into_iter().enumerate() {
        let mut spec: serde_json::Value = serde_json::from_slice(
            &std::fs::read(spec(tmp.path(), &format!("bad{i}"), "mke2fs", &src, None)).expect("spec"),
        )
        .expect("json");
        for (key, value) in extra.as_object().expect("object") {
            spec[key] = value.clone();
        }
        let path = tmp.path().join(format!("bad{i}.json"));
        std::fs::write(&path, spec.to_string()).expect("write");
        let out = tmp.path().join(format!("out{i}"));
        let output = build(&path, &out, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "expected {message:?} in {stderr}");
        assert!(!out.exists());
    }
}

/// 100 000 entries in one directory (and non-UTF-8 names among them): a
/// hashed directory with a level of index nodes, e2fsck-clean (it checks
/// every hash and range), every name there.
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn a_directory_of_100_000_entries_is_hashed() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = tmp.path().join("src/big");
    std::fs::create_dir_all(&big).expect("mkdir");
    for i in 0..100_000 {
        // Names long enough for more than 507 leaves: a level of index nodes.
        let bytes = if i % 1000 == 0 {
            [b"caf\xe9-".as_slice(), format!("{i}").as_bytes()].concat()
        } else {
            format!("entry-{i:06}-of-a-hundred-thousand").into_bytes()
        };
        std::fs::File::create(big.join(std::ffi::OsStr::from_bytes(&bytes))).expect("create");
    }
    let fs = built(tmp.path(), &spec(tmp.path(), "big", "nix-repart", &tmp.path().join("src"), None), "out", &[]);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    let htree = run_ok(Command::new("debugfs").arg("-R").arg("htree /big").arg(&fs));
    assert!(htree.contains("Indirect levels: 1"), "{}", htree.chars().take(500).collect::<String>());
    let names = run_ok(Command::new("debugfs").arg("-R").arg("ls /big").arg(&fs));
    let count = names.split_whitespace().filter(|w| w.starts_with("entry-") || w.starts_with("caf")).count();
    assert_eq!(count, 100_000, "entries listed by debugfs");
}

/// A closure made of this machine's real files (bench/closure-from-usr.py:
/// binaries, libraries, symlinks from /usr) as an ext4 root under
/// /nix/store: e2fsck-clean, and rdump gives the store back.
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn a_generated_closure_comes_back_whole() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("nix/store");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/closure-from-usr.py");
    let paths = run_ok(Command::new("python3").arg(script).arg(&store).args(["20000000", "1500"]));
    let paths_file = tmp.path().join("store-paths");
    std::fs::write(&paths_file, &paths).expect("store-paths");
    // As in a real store: every mtime 1.
    set_mtimes_below(&store, 1);
    let spec_json = json!({ "version": 1, "name": "closure", "partitions": [{ "id": "10-root",
        "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" }, "closure": paths_file }] });
    let spec_path = tmp.path().join("closure.json");
    std::fs::write(&spec_path, spec_json.to_string()).expect("spec");
    let fs = built(tmp.path(), &spec_path, "out", &[]);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    let dump = tmp.path().join("dump");
    rdump(&fs, &dump);
    // Mode and mtime: the store's own; owner root, as in the image.
    let fields = Fields { owner: false, symlink_mtime: false, ..Fields::ALL };
    assert_same(&listing(&dump.join("nix/store"), fields, &[]), &listing(&store, fields, &[]), "closure");
}

/// A 5 GiB file (sparse in the source: data at the start, the middle and
/// the end): e2fsck-clean, every byte read back by debugfs equal to the
/// source's, and the image stays sparse where the file is zeros.
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn a_5_gib_file_comes_back_whole() {
    use std::io::Read;
    use std::os::unix::fs::{FileExt, MetadataExt};
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let big = std::fs::File::create(src.join("big")).expect("big");
    let len = 5u64 << 30;
    big.set_len(len).expect("set_len");
    let mut rng = common::Rng(21);
    for at in [0, len / 2 - 3, len - 4096] {
        big.write_all_at(&rng.bytes(4096), at).expect("write");
    }
    drop(big);
    let out = tmp.path().join("out");
    let output = build(&spec(tmp.path(), "five", "nix-repart", &src, None), &out, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let image = out.join("five.raw");
    let fs = format!("{}?offset={}", image.display(), partitions(&out)[0].0);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    let allocated = std::fs::metadata(&image).expect("image").blocks() * 512;
    assert!(allocated < 1 << 30, "a 5 GiB file of zeros made {allocated} bytes of image");
    let mut cat = Command::new("debugfs")
        .arg("-R")
        .arg("cat /big")
        .arg(&fs)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("debugfs");
    let mut from_image = std::io::BufReader::with_capacity(1 << 20, cat.stdout.take().expect("stdout"));
    let mut source = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(src.join("big")).expect("open"));
    let (mut a, mut b) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut compared = 0u64;
    loop {
        let n = common::read_exactly(&mut source, &mut a);
        let m = common::read_exactly(&mut from_image, &mut b[..n.max(1)]);
        assert_eq!(m, n, "lengths differ after {compared} bytes");
        if n == 0 {
            break;
        }
        assert!(a[..n] == b[..n], "bytes differ in the MiB after {compared}");
        compared += n as u64;
    }
    let _ = from_image.read(&mut b);
    assert!(cat.wait().expect("wait").success());
    assert_eq!(compared, len);
}

/// A minimized ext4 behind an ESP in a fixed-size disk: measured at one
/// offset, placed at another; its unwritten blocks must read back as
/// zeros there too (a regression: the image file ended inside it). At
/// ext4's 32 MiB floor it gets mke2fs's one inode per 16 KiB.
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn a_minimized_root_in_a_fixed_size_disk() {
    require_tools(TOOLS);
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    write(&src.join("etc/motd"), b"hello\n", 0o644);
    let spec_json = json!({ "version": 1, "name": "disk", "imageSize": "2G", "partitions": [
        { "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" } },
        { "id": "20-root", "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" },
          "contents": { "/": { "source": src } } }] });
    let path = tmp.path().join("disk.json");
    std::fs::write(&path, spec_json.to_string()).expect("spec");
    let out = tmp.path().join("out");
    let output = build(&path, &out, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let fs = format!("{}?offset={}", out.join("disk.raw").display(), partitions(&out)[1].0);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    let header = run_ok(Command::new("dumpe2fs").arg("-h").arg(&fs));
    assert!(header.contains("Block count:              8192\n"), "{header}");
    assert!(header.contains("Inode count:              2048\n"), "{header}");
}
