//! Hostile inputs and faults, one test per class of defect found against
//! earlier builds: reading outside a source, writing outside the image,
//! panics and stack overflows, wrong images built silently, exit codes and
//! messages, hangs, and an image that depends on the caller's environment.
//! Every bad input must give one `error:` line, exit 1 and leave nothing
//! behind. (Spec values that were silently accepted are in
//! `malformed_specs.rs`, table-driven; interrupts in `interrupt.rs`.)

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn write_spec(dir: &Path, name: &str, spec: &serde_json::Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, spec.to_string()).expect("write spec");
    path
}

/// Asserts exit 1 and exactly one `error:` line containing every needle.
fn assert_input_error(output: &Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "exit code; stderr:\n{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{needle:?} missing from {:?}", errors[0]);
    }
    stderr
}

#[test]
fn a_symlinked_store_path_is_never_followed_out_of_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("shadow");
    fs::write(&secret, b"root:SECRET-HASH:19000::::::\n").expect("write");
    let store = dir.path().join("store");
    fs::create_dir(&store).expect("mkdir");
    let link = store.join("0c0yi1s1ggk6xl9pvnjv0a1ghiv3r2k5-evil");
    symlink(&secret, &link).expect("symlink");
    let spec = serde_json::json!({ "version": 1, "name": "esp", "partitions": [{
        "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" }, "storePaths": [link] }] });
    let out = dir.path().join("out");
    let output = build(&write_spec(dir.path(), "esp", &spec), &out, &[]);
    assert_input_error(&output, &["partition 10-esp", "-evil is a symlink", "vfat cannot store symlinks"]);
    assert!(!out.exists(), "a refused build left {out:?}");
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn a_symlinked_store_path_stays_a_symlink_in_squashfs() {
    require_tool("unsquashfs");
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("shadow");
    fs::write(&secret, b"SECRET").expect("write");
    let link = dir.path().join("0c0yi1s1ggk6xl9pvnjv0a1ghiv3r2k5-evil");
    symlink(&secret, &link).expect("symlink");
    let spec = serde_json::json!({ "version": 1, "name": "store", "partitions": [{
        "id": "10-store", "repartConfig": { "Type": "linux-generic", "Format": "squashfs", "Minimize": "best" },
        "storePaths": [link], "nixStorePrefix": "/" }] });
    let out = dir.path().join("out");
    build_ok(&write_spec(dir.path(), "store", &spec), &out, &[]);
    let (offset, size) = partitions(&out)[0];
    let part = dir.path().join("part");
    extract(&out.join("store.raw"), offset, size, &part);
    let listing = run_ok(Command::new("unsquashfs").arg("-lln").arg(&part));
    let line = listing.lines().find(|l| l.contains("-evil")).expect("the link is listed");
    assert!(line.starts_with('l') && line.ends_with(&format!("-> {}", secret.display())), "{line}");
}

#[test]
fn mkfs_options_that_write_outside_the_image_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    let undo = dir.path().join("undo").display().to_string();
    let blob = format!("--blobdev={}", dir.path().join("blob").display());
    let escapes = [
        (
            "ext4",
            vec!["-z", undo.as_str()],
            "\"-z\" is not an option nix-repart passes to mke2fs (it writes an undo file",
        ),
        ("ext4", vec!["-E offset=0"], "\"-E offset=0\" is not an option nix-repart passes to mke2fs"),
        ("ext4", vec!["-l", "/etc/passwd"], "\"-l\" is not an option"),
        ("ext4", vec!["-J", "device=/dev/sda"], "\"-J device=/dev/sda\" is not an option"),
        (
            "erofs",
            vec![blob.as_str()],
            "is not an option nix-repart passes to mkfs.erofs (it reads or writes a file outside the image)",
        ),
        ("erofs", vec!["--compress-hints=/etc/hints"], "mkfs.erofs (it reads or writes a file outside the image)"),
        ("vfat", vec!["-S 4096"], "\"-S\" is not an option nix-repart passes to its FAT writer"),
    ];
    for (i, (format, options, message)) in escapes.iter().enumerate() {
        let spec = serde_json::json!({ "version": 1, "name": "x", "mkfsOptions": { *format: options },
            "partitions": [{ "id": "10-data", "repartConfig": { "Type": "linux-generic", "Format": format },
                "contents": { "/": { "source": &src } } }] });
        let out = dir.path().join(format!("out{i}"));
        let output = build(&write_spec(dir.path(), &format!("s{i}"), &spec), &out, &[]);
        assert_input_error(&output, &[&format!("/mkfsOptions/{format}/0: "), message]);
        assert!(!out.exists());
    }
    assert!(
        !dir.path().join("undo").exists() && !dir.path().join("blob").exists(),
        "an option wrote outside the image"
    );
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn mkfs_options_on_the_allowlist_reach_mke2fs() {
    require_tools(&["mke2fs", "dumpe2fs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    fs::write(src.join("f"), b"data").expect("write");
    let spec = serde_json::json!({ "version": 1, "name": "x", "mkfsOptions": { "ext4": ["-O ^has_journal", "-E", "stride=4"] },
        "partitions": [{ "id": "10-data", "repartConfig": { "Type": "linux-generic", "Format": "ext4" },
            "contents": { "/": { "source": &src } } }] });
    let out = dir.path().join("out");
    build_ok(&write_spec(dir.path(), "s", &spec), &out, &[]);
    let (offset, size) = partitions(&out)[0];
    let part = dir.path().join("part");
    extract(&out.join("x.raw"), offset, size, &part);
    let info = run_ok(Command::new("dumpe2fs").arg("-h").arg(&part));
    let features = info.lines().find(|l| l.starts_with("Filesystem features:")).expect("features");
    assert!(!features.contains("has_journal"), "{features}");
    assert!(info.contains("RAID stride:              4"), "{info}");
}

/// Makes `levels` nested directories `d` below `root` with a file at the
/// bottom, by relative `mkdirat`/`openat` steps: the full path may be
/// longer than PATH_MAX.
fn deep_tree(root: &Path, levels: usize) {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    fs::create_dir_all(root).expect("mkdir");
    let mut dir: OwnedFd = fs::File::open(root).expect("open root").into();
    for _ in 0..levels {
        // SAFETY: mkdirat/openat with a valid directory descriptor and a
        // NUL-terminated name; the new descriptor is owned right away.
        dir = unsafe {
            assert_eq!(libc::mkdirat(dir.as_raw_fd(), c"d".as_ptr(), 0o755), 0, "mkdirat");
            let fd = libc::openat(dir.as_raw_fd(), c"d".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            assert!(fd >= 0, "openat");
            OwnedFd::from_raw_fd(fd)
        };
    }
    // SAFETY: as above; the file descriptor is closed at once.
    unsafe {
        let fd = libc::openat(dir.as_raw_fd(), c"f".as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o644);
        assert!(fd >= 0, "create f");
        libc::close(fd);
    }
}

/// `rm -rf`, which copes with any depth (a recursive removal may not).
fn remove_deep(path: &Path) {
    run_ok(Command::new("rm").arg("-rf").arg(path));
}

#[test]
fn a_tree_ten_thousand_levels_deep_fails_cleanly_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    deep_tree(&src, 10_000);
    for format in ["vfat", "squashfs", "ext4", "erofs"] {
        let out = dir.path().join(format!("out-{format}"));
        let output = build(&tree_spec(dir.path(), format, format, &src), &out, &[]);
        let stderr = assert_input_error(&output, &["partition 10-data", "in the image", "at most 2000 bytes"]);
        assert!(stderr.len() < 600, "the message must not echo the whole path: {} bytes", stderr.len());
        assert!(!out.exists(), "{format}: a failed build left {out:?}");
    }
    remove_deep(&src);
}

#[cfg_attr(
    any(lacks = "e2fsprogs", lacks = "erofs-utils"),
    ignore = "needs e2fsprogs, erofs-utils; .ci/run installs them"
)]
#[test]
fn a_tree_as_deep_as_paths_allow_builds_in_every_format() {
    require_tools(&["mke2fs", "mkfs.erofs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    // "/d" 995 times and "/f": 1992 bytes, just under the limit.
    deep_tree(&src, 995);
    for format in ["vfat", "squashfs", "ext4", "erofs"] {
        let out = dir.path().join(format!("out-{format}"));
        build_ok(&tree_spec(dir.path(), format, format, &src), &out, &[]);
        assert!(out.join(format!("{format}.raw")).exists());
    }
    remove_deep(&src);
}

/// Patches the primary GPT header of `image` (512-byte sectors) with `edit`
/// and recomputes its CRC, so the header itself looks valid.
fn patch_primary_header(image: &Path, edit: impl FnOnce(&mut [u8])) {
    let mut bytes = fs::read(image).expect("read image");
    let header = &mut bytes[512..1024];
    edit(header);
    let size = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes")) as usize;
    header[16..20].fill(0);
    let crc = crc32(&header[..size]);
    header[16..20].copy_from_slice(&crc.to_le_bytes());
    fs::write(image, bytes).expect("write image");
}

/// CRC-32 (IEEE 802.3, as GPT uses it), written out for the test.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn small_image(dir: &Path, partitions: serde_json::Value) -> PathBuf {
    let spec = serde_json::json!({ "version": 1, "name": "g", "partitions": partitions });
    let out = dir.join("out");
    build_ok(&write_spec(dir, "g", &spec), &out, &[]);
    out.join("g.raw")
}

fn inspect(image: &Path) -> Output {
    run(Command::new(bin()).arg("inspect").arg(image))
}

#[test]
fn inspect_never_panics_and_says_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parts = serde_json::json!([
        { "id": "10-a", "repartConfig": { "Type": "linux-generic", "SizeMinBytes": "1M" } },
        { "id": "20-b", "repartConfig": { "Type": "linux-generic", "SizeMinBytes": "1M" } }]);
    let image = small_image(dir.path(), parts);
    let clean = inspect(&image);
    assert!(clean.status.success() && clean.stderr.is_empty(), "{}", String::from_utf8_lossy(&clean.stderr));
    // Entry size 256 with a valid header CRC: the old reader panicked.
    patch_primary_header(&image, |h| h[84..88].copy_from_slice(&256u32.to_le_bytes()));
    let out = inspect(&image);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let backup_lba = fs::metadata(&image).expect("stat").len() / 512 - 1;
    assert_eq!(
        stderr.trim(),
        format!("warning: the primary GPT header is unusable (entry array CRC mismatch); read the backup at LBA {backup_lba}")
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("10-a") || table.lines().count() == 4, "{table}");
    // Both headers gone: an error naming the image and each reason.
    let mut bytes = fs::read(&image).expect("read");
    let last = bytes.len() - 512;
    bytes[last..].fill(0);
    fs::write(&image, &bytes).expect("write");
    let out = inspect(&image);
    let reason = format!("512-byte sectors: primary header: entry array CRC mismatch; backup header at LBA {backup_lba}: no \"EFI PART\" signature");
    let stderr = assert_input_error(&out, &["has no usable GPT", &reason]);
    assert_eq!(stderr.lines().count(), 1);
}

/// Rewrites entry `index` (0-based) of both GPT copies and fixes every CRC.
fn patch_entry(image: &Path, index: usize, edit: impl Fn(&mut [u8])) {
    let mut bytes = fs::read(image).expect("read image");
    let sectors = bytes.len() / 512;
    for (header_lba, array_lba) in [(1, 2), (sectors - 1, sectors - 33)] {
        let array = &mut bytes[array_lba * 512..array_lba * 512 + 128 * 128];
        edit(&mut array[index * 128..(index + 1) * 128]);
        let array_crc = crc32(array);
        let header = &mut bytes[header_lba * 512..header_lba * 512 + 92];
        header[88..92].copy_from_slice(&array_crc.to_le_bytes());
        header[16..20].fill(0);
        let crc = crc32(header);
        header[16..20].copy_from_slice(&crc.to_le_bytes());
    }
    fs::write(image, bytes).expect("write image");
}

#[test]
fn inspect_warns_about_overlapping_out_of_range_and_duplicate_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parts = serde_json::json!([
        { "id": "10-a", "repartConfig": { "Type": "linux-generic", "SizeMinBytes": "1M" } },
        { "id": "20-b", "repartConfig": { "Type": "linux-generic", "SizeMinBytes": "1M" } },
        { "id": "30-c", "repartConfig": { "Type": "linux-generic", "SizeMinBytes": "1M" } }]);
    let image = small_image(dir.path(), parts);
    let first_of = |entry: &[u8]| u64::from_le_bytes(entry[32..40].try_into().expect("8 bytes"));
    let bytes = fs::read(&image).expect("read");
    let a_start = first_of(&bytes[1024..1152]);
    let a_uuid: [u8; 16] = bytes[1024 + 16..1024 + 32].try_into().expect("16 bytes");
    // b starts inside a; c ends past the disk and shares a's UUID.
    patch_entry(&image, 1, |e| e[32..40].copy_from_slice(&(a_start + 8).to_le_bytes()));
    patch_entry(&image, 2, |e| {
        e[40..48].copy_from_slice(&1_000_000u64.to_le_bytes());
        e[16..32].copy_from_slice(&a_uuid);
    });
    let out = inspect(&image);
    assert_eq!(out.status.code(), Some(0));
    let warnings: Vec<String> = String::from_utf8_lossy(&out.stderr).lines().map(str::to_string).collect();
    let sectors = bytes.len() / 512;
    assert_eq!(
        warnings,
        [
            format!("warning: entry 3: ends at LBA 1000000, past the end of the disk ({sectors} sectors)"),
            format!(
                "warning: entries 1 and 2 overlap (LBAs {a_start}..={} and {}..={})",
                a_start + 2047,
                a_start + 8,
                a_start + 4095
            ),
            format!("warning: entries 1 and 3 have the same partition UUID {}", uuid_le(&a_uuid)),
        ]
    );
    let json = run(Command::new(bin()).args(["inspect", "--json"]).arg(&image));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["warnings"].as_array().map(Vec::len), Some(3));
}

/// A GUID in GPT's mixed-endian layout, as text.
fn uuid_le(b: &[u8; 16]) -> String {
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

#[test]
fn bad_input_exits_1_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = |name: &str, extra_top: serde_json::Value, config: serde_json::Value| {
        let mut spec =
            serde_json::json!({ "version": 1, "name": "x", "partitions": [{ "id": "10-p", "repartConfig": config }] });
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra_top.as_object()) {
            spec.extend(extra.clone());
        }
        write_spec(dir.path(), name, &spec)
    };
    let generic = serde_json::json!({ "Type": "linux-generic" });
    let cases = [
        (one("long-name", serde_json::json!({ "name": "n".repeat(300) }), generic.clone()), "/name: "),
        (
            one("8e", serde_json::json!({ "imageSize": "8E" }), generic.clone()),
            "/imageSize: \"8E\" is larger than 18014398509481984 bytes (16.0P)",
        ),
        (
            one("100p", serde_json::json!({}), serde_json::json!({ "Type": "linux-generic", "SizeMinBytes": "100P" })),
            "/partitions/0/repartConfig/SizeMinBytes: \"100P\" is larger than",
        ),
        (
            one(
                "huge-value",
                serde_json::json!({}),
                serde_json::json!({ "Type": "linux-generic", "Label": "x".repeat(10 << 20) }),
            ),
            "/partitions/0/repartConfig/Label: 10485760 bytes long; at most 4095 bytes are allowed here",
        ),
    ];
    for (spec, needle) in &cases {
        let out = dir.path().join("out");
        let output = build(spec, &out, &[]);
        let stderr = assert_input_error(&output, &[needle]);
        assert!(stderr.len() < 700, "the message echoes too much: {} bytes", stderr.len());
        assert!(!out.exists());
    }
    // An output path that is a file.
    let file = dir.path().join("a-file");
    fs::write(&file, b"keep").expect("write");
    let ok = one("ok", serde_json::json!({}), generic);
    let output = build(&ok, &file, &[]);
    assert_input_error(&output, &["a-file exists and is not a directory"]);
    assert_eq!(fs::read(&file).expect("read"), b"keep");
    // Usage errors: one line, exit 1, pointing at --help.
    for args in [&["build"][..], &["build", "--bogus"], &["frobnicate"], &["build", "s.json", "-o", "o", "--jobs", "x"]]
    {
        let output = run(Command::new(bin()).args(args));
        let stderr = assert_input_error(&output, &["(see nix-repart --help)"]);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// `nix-repart build SPEC -o OUT`, failing the test after 20 s.
fn build_within(spec: &Path, out: &Path) -> Output {
    run_within(Command::new(bin()).arg("build").arg(spec).arg("-o").arg(out), 20)
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    run_ok(Command::new("mkfifo").arg(&fifo));
    let output = run_within(Command::new(bin()).arg("inspect").arg(&fifo), 20);
    assert_input_error(&output, &["fifo", "not a regular file or block device"]);
    let output = build_within(&fifo, &dir.path().join("out"));
    assert_input_error(&output, &["cannot read spec", "not a regular file"]);
    let output = build_within(Path::new("/dev/zero"), &dir.path().join("out"));
    assert_input_error(&output, &["cannot read spec /dev/zero: not a regular file"]);
    let spec = serde_json::json!({ "version": 1, "name": "x", "partitions": [{
        "id": "10-p", "repartConfig": { "Type": "linux-generic", "Format": "squashfs" }, "closure": "/dev/zero" }] });
    let output = build_within(&write_spec(dir.path(), "closure", &spec), &dir.path().join("out"));
    assert_input_error(&output, &["/partitions/0/closure: ", "/dev/zero", "not a regular file"]);
    let output = run_within(Command::new(bin()).args(["derivation", "--attrs"]).arg(&fifo), 20);
    assert_input_error(&output, &["fifo", "not a regular file"]);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_directory_mke2fs_cannot_populate_in_time_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("many")).expect("mkdir");
    for i in 0..32_769 {
        fs::File::create(src.join(format!("many/{i:05}"))).expect("create");
    }
    let out = dir.path().join("out");
    // ext3 is mke2fs's (nix-repart's own ext4 writer takes such directories).
    let output = build_within(&tree_spec(dir.path(), "big", "ext3", &src), &out);
    assert_input_error(&output, &["partition 10-data", "directory /many has 32769 entries", "at most 32768"]);
    assert!(!out.exists());
}

#[cfg_attr(
    any(lacks = "e2fsprogs", lacks = "erofs-utils"),
    ignore = "needs e2fsprogs, erofs-utils; .ci/run installs them"
)]
#[test]
fn images_do_not_depend_on_the_callers_environment() {
    require_tools(&["mke2fs", "mkfs.erofs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("etc")).expect("mkdir");
    fs::write(src.join("etc/motd"), b"hello\n").expect("write");
    for format in ["erofs", "ext4"] {
        let spec = tree_spec(dir.path(), format, format, &src);
        let mut images = Vec::new();
        let environments: [&[(&str, &str)]; 3] = [
            &[],
            &[("SOURCE_DATE_EPOCH", "315532800")],
            &[
                ("MKE2FS_CONFIG", "/nonexistent"),
                ("E2FSPROGS_FAKE_TIME", "1"),
                ("TZ", "Asia/Tokyo"),
                ("LC_ALL", "de_DE.UTF-8"),
                ("MKE2FS_SYNC", "1"),
            ],
        ];
        for (i, env) in environments.iter().enumerate() {
            let out = dir.path().join(format!("{format}-{i}"));
            let mut cmd = Command::new(bin());
            cmd.arg("build").arg(&spec).arg("-o").arg(&out).env_remove("SOURCE_DATE_EPOCH");
            cmd.envs(env.iter().copied());
            run_ok(&mut cmd);
            images.push(fs::read(out.join(format!("{format}.raw"))).expect("image"));
        }
        assert!(images[0] == images[1], "{format}: SOURCE_DATE_EPOCH unset and 315532800 differ");
        assert!(images[0] == images[2], "{format}: the caller's MKE2FS_*/TZ/LC_ALL changed the image");
    }
}

#[test]
fn a_mkfs_that_exits_0_without_writing_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin_dir = dir.path().join("bin");
    fs::create_dir(&bin_dir).expect("mkdir");
    let fake = bin_dir.join("mkfs.erofs");
    fs::write(&fake, "#!/bin/sh\nexit 0\n").expect("write");
    fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let src = dir.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    fs::write(src.join("f"), b"x").expect("write");
    let out = dir.path().join("out");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let output = run(Command::new(bin())
        .arg("build")
        .arg(tree_spec(dir.path(), "e", "erofs", &src))
        .arg("-o")
        .arg(&out)
        .env("PATH", path));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("mkfs.erofs exited successfully but")
            && stderr.contains("holds no filesystem (the file is shorter than an erofs superblock)"),
        "{stderr}"
    );
    assert!(!out.exists());
}
