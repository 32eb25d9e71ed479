//! The command line end to end: reproducible builds, `plan` and `inspect`,
//! exit codes, and outputs that appear whole or not at all.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

fn write_blocks(path: &Path, bytes: usize) {
    let data: Vec<u8> = (0..bytes).map(|i| (i % 253) as u8 ^ 0x5a).collect();
    fs::write(path, data).expect("write blocks");
}

/// A spec with several partition kinds and a `CopyBlocks=` source.
fn sample_spec(dir: &Path, extra_top: &str) -> std::path::PathBuf {
    let blocks = dir.join("blocks.img");
    write_blocks(&blocks, 5 << 20);
    let spec = dir.join("spec.json");
    let text = format!(
        r#"{{"version": 1, "name": "appliance", "imageVersion": "1.2", "seed": "750b6cd5-c4ae-4012-a15e-7be3c29e6a47" {extra_top},
        "partitions": [
          {{"id": "20-root", "repartConfig": {{"Type": "root", "SizeMinBytes": "32M"}}}},
          {{"id": "10-esp", "repartConfig": {{"Type": "esp", "Label": "boot", "SizeMinBytes": "64M", "SizeMaxBytes": "64M"}}}},
          {{"id": "15-blob", "repartConfig": {{"Type": "usr", "CopyBlocks": "{}", "ReadOnly": "yes"}}}}
        ]}}"#,
        blocks.display()
    );
    fs::write(&spec, text).expect("write spec");
    spec
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn builds_are_byte_identical_whatever_the_jobs_tmpdir_and_umask() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sample_spec(dir.path(), "");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    build_ok(&spec, &a, &["--jobs", "1"]);
    let other_tmp = dir.path().join("tmp");
    fs::create_dir(&other_tmp).expect("mkdir");
    let output = run(Command::new("sh")
        .arg("-c")
        .arg("umask 077; exec \"$0\" build \"$1\" -o \"$2\" --jobs 4")
        .arg(bin())
        .arg(&spec)
        .arg(&b)
        .env("TMPDIR", &other_tmp));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for name in ["appliance_1.2.raw", "repart-output.json"] {
        assert_eq!(read(&a.join(name)), read(&b.join(name)), "{name} differs between builds");
    }
    let meta = fs::metadata(b.join("appliance_1.2.raw")).expect("meta");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777, 0o644);
    // Sparse: only the GPT and the 5 MiB CopyBlocks source are allocated.
    let allocated = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
    assert!(allocated < 8 << 20, "{allocated} bytes allocated of {}", meta.len());
}

#[test]
fn copy_blocks_content_lands_at_the_partition_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sample_spec(dir.path(), "");
    let out = dir.path().join("out");
    build_ok(&spec, &out, &[]);
    let report: Value = serde_json::from_slice(&read(&out.join("repart-output.json"))).expect("json");
    let blob = report.as_array().expect("array").iter().find(|e| e["file"] == "15-blob.conf").expect("blob entry");
    let (offset, size) =
        (blob["offset"].as_u64().expect("offset") as usize, blob["raw_size"].as_u64().expect("size") as usize);
    let image = read(&out.join("appliance_1.2.raw"));
    let source = read(&dir.path().join("blocks.img"));
    assert_eq!(&image[offset..offset + source.len()], &source[..]);
    assert!(image[offset + source.len()..offset + size].iter().all(|b| *b == 0), "rest of the partition is zero");
    // Partitions are in id order: esp, blob, root.
    let files: Vec<&str> =
        report.as_array().expect("array").iter().map(|e| e["file"].as_str().expect("file")).collect();
    assert_eq!(files, ["10-esp.conf", "15-blob.conf", "20-root.conf"]);
}

#[test]
fn plan_prints_the_layout_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sample_spec(dir.path(), "");
    let before: Vec<_> = fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    let plan: Value = serde_json::from_str(&run_ok(Command::new(bin()).arg("plan").arg(&spec))).expect("plan JSON");
    let after: Vec<_> = fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(before, after, "plan wrote files");
    assert_eq!(plan["image"]["fileName"], "appliance_1.2.raw");
    assert_eq!(plan["image"]["diskUuid"], "1d2ce291-7cce-4f7d-bc83-fdb49ad74ebd", "TEST-58 seed vector");
    let out = dir.path().join("out");
    build_ok(&spec, &out, &[]);
    let report: Value = serde_json::from_slice(&read(&out.join("repart-output.json"))).expect("json");
    for (planned, written) in
        plan["partitions"].as_array().expect("array").iter().zip(report.as_array().expect("array"))
    {
        assert_eq!(planned["offset"], written["offset"]);
        assert_eq!(planned["size"], written["raw_size"]);
        assert_eq!(planned["uuid"], written["uuid"]);
    }
}

#[cfg_attr(
    any(lacks = "gpt-tools", lacks = "loop-devices"),
    ignore = "needs sfdisk and sgdisk, losetup and /dev/loop-control; .ci/run installs them"
)]
#[test]
fn inspect_reads_back_what_build_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sample_spec(dir.path(), r#", "sectorSize": 4096"#);
    let out = dir.path().join("out");
    build_ok(&spec, &out, &[]);
    let image = out.join("appliance_1.2.raw");
    let disk: Value =
        serde_json::from_str(&run_ok(Command::new(bin()).arg("inspect").arg("--json").arg(&image))).expect("json");
    assert_eq!(disk["sectorSize"], 4096);
    let report: Value = serde_json::from_slice(&read(&out.join("repart-output.json"))).expect("json");
    for (seen, written) in disk["partitions"].as_array().expect("array").iter().zip(report.as_array().expect("array")) {
        for (a, b) in
            [("typeName", "type"), ("label", "label"), ("uuid", "uuid"), ("offset", "offset"), ("size", "raw_size")]
        {
            assert_eq!(seen[a], written[b], "{a}");
        }
    }
    let table = run_ok(Command::new(bin()).arg("inspect").arg(&image));
    assert!(
        table.contains("boot") && table.contains("read-only(60)") && table.contains("grow-file-system(59)"),
        "{table}"
    );
    common::require_tools(&["sgdisk", "losetup"]);
    let device = Loop::attach(&image, 4096);
    assert_sgdisk_clean(&device.device);
}

#[cfg_attr(lacks = "gpt-tools", ignore = "needs sfdisk and sgdisk; .ci/run installs them")]
#[test]
fn huge_sparse_image_caps_the_protective_mbr() {
    require_tool("sgdisk");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("spec.json");
    fs::write(&spec, r#"{"version": 1, "name": "big", "imageSize": "3T", "partitions": [{"id": "10-root", "repartConfig": {"Type": "root"}}]}"#)
        .expect("write");
    let out = dir.path().join("out");
    build_ok(&spec, &out, &[]);
    let image = out.join("big.raw");
    assert_sgdisk_clean(&image.to_string_lossy());
    let mbr = read_region(&image, 0, 512);
    assert_eq!(&mbr[458..462], &u32::MAX.to_le_bytes(), "protective MBR size is capped at 0xFFFFFFFF");
    assert_eq!(mbr[450], 0xee);
}

#[test]
fn internal_failures_exit_2_and_leave_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sample_spec(dir.path(), "");
    let out = dir.path().join("out");
    // The report's name is taken by a non-empty directory: the rename of
    // the report fails after the image was renamed into place.
    fs::create_dir_all(out.join("repart-output.json/keep")).expect("mkdir");
    let output = build(&spec, &out, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].starts_with("error: cannot move "), "{stderr}");
    assert!(errors[0].ends_with("/repart-output.json: Is a directory (os error 21)"), "{stderr}");
    let left = common::file_names(&out);
    assert_eq!(left, ["repart-output.json"], "no image or temporary file may remain");
}

#[test]
fn version_and_help_say_what_the_tool_is() {
    let version = run_ok(Command::new(bin()).arg("--version"));
    assert_eq!(version.trim(), format!("nix-repart {}", env!("CARGO_PKG_VERSION")));
    let help = run_ok(Command::new(bin()).arg("--help"));
    for needle in ["build", "plan", "inspect", "SOURCE_DATE_EPOCH", "315532800"] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn interrupt_removes_temporary_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An 8 GiB sparse CopyBlocks source: reading it takes seconds, long
    // enough to interrupt the build while the image is being written.
    let blocks = dir.path().join("sparse.img");
    fs::File::create(&blocks).expect("create").set_len(8 << 30).expect("set_len");
    let spec = dir.path().join("spec.json");
    let text = format!(
        r#"{{"version": 1, "name": "slow", "partitions": [{{"id": "10-p", "repartConfig": {{"Type": "linux-generic", "CopyBlocks": "{}"}}}}]}}"#,
        blocks.display()
    );
    fs::write(&spec, text).expect("write");
    let out = dir.path().join("out");
    let mut child = Command::new(bin()).arg("build").arg(&spec).arg("-o").arg(&out).spawn().expect("spawn");
    let started = std::time::Instant::now();
    let temp_seen = loop {
        let seen = fs::read_dir(&out).map(|d| d.count() > 0).unwrap_or(false);
        if seen || started.elapsed().as_secs() > 20 {
            break seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(temp_seen, "the build never created its temporary image");
    send_signal(child.id(), libc::SIGINT);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "interrupted build exits 130");
    assert!(!out.exists(), "the interrupted build left its output directory: {:?}", common::file_names(&out));
}

#[test]
fn derivation_outside_nix_says_what_it_needs() {
    let out = common::run(
        std::process::Command::new(common::bin())
            .arg("derivation")
            .env_remove("NIX_ATTRS_JSON_FILE")
            .env_remove("NIX_BUILD_TOP"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: neither NIX_ATTRS_JSON_FILE nor NIX_BUILD_TOP is set: `derivation` runs as the builder of a Nix derivation with __structuredAttrs = true (or give --attrs FILE)\n"
    );
}

#[test]
fn derivation_reads_attrs_from_nix_build_top() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(".attrs.json"), r#"{"outputs": {"out": "/nonexistent/out"}}"#).unwrap();
    let out = common::run(
        std::process::Command::new(common::bin())
            .arg("derivation")
            .env_remove("NIX_ATTRS_JSON_FILE")
            .env("NIX_BUILD_TOP", tmp.path()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}/.attrs.json: no nixRepartSpec attribute; build the image with nix/lib/image.nix (or pass the spec under that name)\n",
            tmp.path().display()
        )
    );
}

/// `"seed": "random"` (nixpkgs' `seed = null` or `"random"`): accepted, a
/// new seed per build (other UUIDs), and the build says so.
#[test]
fn a_random_seed_gives_other_uuids_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sample_spec(dir.path(), "");
    let text = fs::read_to_string(&spec).expect("spec").replace("750b6cd5-c4ae-4012-a15e-7be3c29e6a47", "random");
    fs::write(&spec, text).expect("spec");
    let mut uuids = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        let output = build(&spec, &out, &[]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("seed is random"), "no note about the seed:\n{stderr}");
        let report: Value =
            serde_json::from_slice(&fs::read(out.join("repart-output.json")).expect("report")).expect("json");
        uuids.push(report[0]["uuid"].clone());
    }
    assert_ne!(uuids[0], uuids[1], "two random seeds gave the same partition UUID");
}
