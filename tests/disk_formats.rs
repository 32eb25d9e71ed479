//! VM disk formats (`"format"`: qcow2, qcow2-compressed, vdi, vpc), at a
//! fixed and an auto size: `qemu-img check` finds no errors (QEMU has no
//! check for vpc), `qemu-img compare` finds the same disk as the raw build
//! of the same spec, `qemu-img info` the same virtual size; zero
//! clusters take no space (a 20 GiB disk holding a few MiB is a few MiB,
//! one holding 1 GiB is 1 GiB as a file, on disk and in a NAR);
//! the bytes do not depend on `--jobs` or on the build; bad combinations
//! name the field.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn spec(dir: &Path, format: &str, image_size: &str) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("etc")).expect("mkdir");
    std::fs::write(src.join("etc/hostname"), "vm\n").expect("write");
    let mut rng = Rng(3);
    std::fs::write(src.join("random.bin"), rng.bytes(3 << 20)).expect("write");
    std::fs::write(src.join("text.txt"), "compressible text\n".repeat(100_000)).expect("write");
    let spec = serde_json::json!({ "version": 1, "name": "vm", "format": format, "imageSize": image_size, "partitions": [
        { "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" }, "contents": { "/": { "source": src } } },
        { "id": "20-usr", "repartConfig": { "Type": "usr", "Format": "squashfs", "Minimize": "best" }, "contents": { "/": { "source": src } } },
        { "id": "30-var", "repartConfig": { "Type": "var" } } ] });
    let path = dir.join(format!("{format}.json"));
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

fn qemu_img(args: &[&str], image: &Path) -> String {
    run_ok(Command::new("qemu-img").args(args).arg(image))
}

/// The file a format's build writes, and QEMU's name for the format.
fn output_of(format: &str) -> (&'static str, &'static str) {
    match format {
        "qcow2" | "qcow2-compressed" => ("vm.qcow2", "qcow2"),
        "vdi" => ("vm.vdi", "vdi"),
        _ => ("vm.vhd", "vpc"),
    }
}

fn check(format: &str) {
    for size in ["2G", "auto"] {
        check_size(format, size);
    }
}

fn check_size(format: &str, size: &str) {
    require_tools(&["qemu-img"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let raw_out = dir.path().join("raw");
    build_ok(&spec(dir.path(), "raw", size), &raw_out, &[]);
    let raw = raw_out.join("vm.raw");
    let (one, four) = (dir.path().join("one"), dir.path().join("four"));
    let path = spec(dir.path(), format, size);
    build_ok(&path, &one, &["--jobs", "1"]);
    build_ok(&path, &four, &["--jobs", "4"]);
    let (name, qemu_format) = output_of(format);
    let image = one.join(name);
    assert_eq!(file_names(&one), ["repart-output.json", name]);
    assert!(std::fs::read(&image).expect("one") == std::fs::read(four.join(name)).expect("four"), "--jobs");
    if qemu_format != "vpc" {
        // QEMU has no check for vpc.
        let report = qemu_img(&["check"], &image);
        assert!(report.contains("No errors were found on the image."), "{report}");
    }
    let same = run(Command::new("qemu-img").args(["compare", "-f", "raw", "-F", qemu_format]).arg(&raw).arg(&image));
    assert!(same.status.success(), "{format} {size}: qemu-img compare: {}", String::from_utf8_lossy(&same.stdout));
    let info = qemu_img(&["info", "--output=json"], &image);
    let info: serde_json::Value = serde_json::from_str(&info).expect("json");
    assert_eq!(info["virtual-size"], std::fs::metadata(&raw).expect("raw").len(), "{format} {size}");
    assert_eq!(info["format"], qemu_format);
    assert_eq!(
        std::fs::read(one.join("repart-output.json")).expect("report"),
        std::fs::read(raw_out.join("repart-output.json")).expect("report"),
        "the report describes the same disk"
    );
}

#[cfg_attr(lacks = "qemu-img", ignore = "needs qemu-img (qemu-utils); .ci/run installs it")]
#[test]
fn qcow2_is_the_raw_disk() {
    check("qcow2");
}

#[cfg_attr(lacks = "qemu-img", ignore = "needs qemu-img (qemu-utils); .ci/run installs it")]
#[test]
fn qcow2_compressed_is_the_raw_disk_and_smaller() {
    check("qcow2-compressed");
    let dir = tempfile::tempdir().expect("tempdir");
    let (plain, packed) = (dir.path().join("plain"), dir.path().join("packed"));
    build_ok(&spec(dir.path(), "qcow2", "2G"), &plain, &[]);
    build_ok(&spec(dir.path(), "qcow2-compressed", "2G"), &packed, &[]);
    let len = |d: &Path| std::fs::metadata(d.join("vm.qcow2")).expect("qcow2").len();
    assert!(len(&packed) < len(&plain), "compressed {} not smaller than {}", len(&packed), len(&plain));
    let info = qemu_img(&["check"], &packed.join("vm.qcow2"));
    assert!(!info.contains(" 0.00% compressed clusters"), "{info}");
}

#[cfg_attr(lacks = "qemu-img", ignore = "needs qemu-img (qemu-utils); .ci/run installs it")]
#[test]
fn vdi_is_the_raw_disk() {
    check("vdi");
}

#[cfg_attr(lacks = "qemu-img", ignore = "needs qemu-img (qemu-utils); .ci/run installs it")]
#[test]
fn vpc_is_the_raw_disk() {
    check("vpc");
}

/// A 20 GiB disk holding a few MiB: the qcow2 file is a few MiB, not a
/// sparse 20 GiB (a NAR has no holes).
#[cfg_attr(lacks = "qemu-img", ignore = "needs qemu-img (qemu-utils); .ci/run installs it")]
#[test]
fn unallocated_clusters_take_no_space() {
    require_tools(&["qemu-img"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    build_ok(&spec(dir.path(), "qcow2", "20G"), &out, &[]);
    let len = std::fs::metadata(out.join("vm.qcow2")).expect("qcow2").len();
    assert!(len < 16 << 20, "a 20 GiB qcow2 holding about 5 MiB is {len} bytes");
    let report = qemu_img(&["check"], &out.join("vm.qcow2"));
    assert!(report.contains("No errors were found on the image."), "{report}");
}

/// The issue's own case: a 20 GiB disk holding 1 GiB (a `CopyBlocks=`
/// partition of non-zero data) costs about 1 GiB as a file, on disk and in
/// a NAR (`nix-store --dump`, what the Nix store keeps).
#[cfg_attr(lacks = "qemu-img", ignore = "needs qemu-img (qemu-utils); .ci/run installs it")]
#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn a_20_gib_qcow2_holding_1_gib_is_1_gib_in_a_nar() {
    use std::io::{Read, Write};
    use std::os::unix::fs::MetadataExt;
    require_tools(&["qemu-img", "nix-store"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = dir.path().join("blob");
    let chunk = Rng(9).bytes(1 << 20);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&blob).expect("blob"));
    for _ in 0..1024 {
        file.write_all(&chunk).expect("write");
    }
    file.flush().expect("flush");
    drop(file);
    let spec = serde_json::json!({ "version": 1, "name": "vm", "format": "qcow2", "imageSize": "20G", "partitions": [
        { "id": "10-blob", "repartConfig": { "Type": "linux-generic", "CopyBlocks": blob } } ] });
    let path = dir.path().join("blob.json");
    std::fs::write(&path, spec.to_string()).expect("spec");
    let out = dir.path().join("out");
    build_ok(&path, &out, &[]);
    let image = out.join("vm.qcow2");
    let info = qemu_img(&["info"], &image);
    assert!(info.contains("virtual size: 20 GiB (21474836480 bytes)"), "{info}");
    let meta = std::fs::metadata(&image).expect("qcow2");
    let mut dump = common::nix::nix("nix-store")
        .arg("--dump")
        .arg(&image)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("nix-store --dump");
    let (mut nar, mut buffer) = (0u64, vec![0u8; 1 << 20]);
    let mut stdout = dump.stdout.take().expect("stdout");
    loop {
        match stdout.read(&mut buffer).expect("read NAR") {
            0 => break,
            n => nar += n as u64,
        }
    }
    assert!(dump.wait().expect("wait").success(), "nix-store --dump failed");
    let (gib, slack) = (1u64 << 30, 16u64 << 20);
    for (what, bytes) in [("file length", meta.len()), ("disk usage", meta.blocks() * 512), ("NAR", nar)] {
        assert!((gib..gib + slack).contains(&bytes), "{what} of a 20 GiB qcow2 holding 1 GiB: {bytes} bytes");
    }
}

#[test]
fn bad_formats_name_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (r#""format": "vmdk""#, r#"error: /format: "vmdk" is not a disk format nix-repart writes (raw, qcow2, qcow2-compressed, vdi, vpc)"#),
        (
            r#""format": "qcow2", "compression": {"enable": true}"#,
            "error: /format: format qcow2 with compression.enable: the disk would be compressed twice; use qcow2-compressed, or turn compression off",
        ),
    ];
    for (fields, expected) in cases {
        let path = dir.path().join("spec.json");
        let text = format!(
            r#"{{"version": 1, "name": "x", {fields}, "partitions": [{{"id": "a", "repartConfig": {{"Type": "esp"}}}}]}}"#
        );
        std::fs::write(&path, text).expect("spec");
        let out = build(&path, &dir.path().join("out"), &[]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().next(), Some(expected), "{stderr}");
        assert!(!dir.path().join("out").exists(), "nothing written");
    }
}
