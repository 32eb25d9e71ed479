//! `partitionTable`: gpt (the default, checked everywhere else), hybrid
//! (GPT and an MBR listing a 0xEE entry and the first partitions), mbr
//! (an MSDOS table alone) and none (the image is its one filesystem),
//! each read back by sfdisk, fdisk and the filesystem's own tool.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn spec(dir: &Path, table: &str, parts: &[&str]) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("hello"), "hello\n").expect("write");
    let partitions: Vec<serde_json::Value> = parts
        .iter()
        .map(|kind| match *kind {
            "esp" => serde_json::json!({ "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" }, "contents": { "/": { "source": src } } }),
            "root" => serde_json::json!({ "id": "20-root", "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" }, "contents": { "/": { "source": src } } }),
            other => serde_json::json!({ "id": format!("30-{other}"), "repartConfig": { "Type": other } }),
        })
        .collect();
    let spec = serde_json::json!({ "version": 1, "name": "t", "partitionTable": table, "partitions": partitions });
    let path = dir.join(format!("{table}.json"));
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

#[cfg_attr(
    any(lacks = "gpt-tools", lacks = "dosfstools", lacks = "e2fsprogs"),
    ignore = "needs fdisk, gdisk, dosfstools and e2fsprogs; .ci/run installs them"
)]
#[test]
fn mbr_lists_the_partitions_with_their_types() {
    require_tools(&["sfdisk", "fdisk", "fsck.vfat"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    build_ok(&spec(dir.path(), "mbr", &["esp", "root", "swap"]), &out, &[]);
    let image = out.join("t.raw");
    let dump = sfdisk_dump(&image.to_string_lossy());
    assert!(dump.contains("label: dos"), "{dump}");
    let parts: Vec<&str> = dump.lines().filter(|l| l.starts_with("PART")).collect();
    let regions = partitions(&out);
    assert_eq!(parts.len(), 3, "{dump}");
    for ((line, kind), (offset, size)) in parts.iter().zip(["type=ef, bootable", "type=83", "type=82"]).zip(&regions) {
        assert!(line.ends_with(kind), "{line}");
        assert!(
            line.contains(&format!("start= {:>11}", offset / 512))
                || line.contains(&format!("start={:>12}", offset / 512)),
            "{line}"
        );
        assert!(line.contains(&format!("size={:>12}", size / 512)), "{line}");
    }
    let listing = run_ok(Command::new("fdisk").arg("-l").arg(&image));
    assert!(listing.contains("Disklabel type: dos"), "{listing}");
    let esp = dir.path().join("esp.img");
    extract(&image, regions[0].0, regions[0].1, &esp);
    run_ok(Command::new("fsck.vfat").arg("-n").arg(&esp));
}

#[cfg_attr(
    any(lacks = "gpt-tools", lacks = "dosfstools"),
    ignore = "needs fdisk, gdisk and dosfstools; .ci/run installs them"
)]
#[test]
fn hybrid_keeps_the_gpt_and_mirrors_the_first_partitions() {
    require_tools(&["sfdisk", "fdisk", "sgdisk"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    build_ok(&spec(dir.path(), "hybrid", &["esp", "root", "home", "var"]), &out, &[]);
    let image = out.join("t.raw");
    assert_sgdisk_clean(&image.to_string_lossy());
    let gpt = sfdisk_dump(&image.to_string_lossy());
    assert!(gpt.contains("label: gpt") && gpt.lines().filter(|l| l.starts_with("PART")).count() == 4, "{gpt}");
    let dos = run_ok(Command::new("fdisk").args(["-l", "-t", "dos"]).arg(&image));
    let rows: Vec<&str> = dos.lines().filter(|l| l.contains("t.raw")).skip(1).collect();
    assert_eq!(rows.len(), 4, "0xEE and three partitions:\n{dos}");
    assert!(rows[0].contains(" ee "), "{dos}");
    assert!(rows[1].contains(" ef ") && rows[1].contains('*'), "{dos}");
    let first = partitions(&out)[0].0 / 512;
    assert!(rows[0].contains(&format!("{}", first - 1)), "the 0xEE entry ends before the first partition:\n{dos}");
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs it")]
#[test]
fn none_is_the_filesystem_alone() {
    require_tools(&["e2fsck", "debugfs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    build_ok(&spec(dir.path(), "none", &["root"]), &out, &[]);
    let image = out.join("t.raw");
    run_ok(Command::new("e2fsck").arg("-fn").arg(&image));
    let cat = run_ok(Command::new("debugfs").arg("-R").arg("cat /hello").arg(&image));
    assert_eq!(cat, "hello\n");
    assert_eq!(std::fs::metadata(&image).expect("image").len(), partitions(&out)[0].1, "the file is the partition");
}

#[test]
fn tables_that_cannot_hold_the_partitions_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "mbr",
            &["esp", "root", "home", "var", "srv"][..],
            "error: /partitionTable: partitionTable mbr holds at most 4 partition(s), the spec has 5",
        ),
        (
            "none",
            &["esp", "root"][..],
            "error: /partitionTable: partitionTable none holds at most 1 partition(s), the spec has 2",
        ),
        (
            "apm",
            &["esp"][..],
            r#"error: /partitionTable: "apm" is not a partition table nix-repart writes (gpt, hybrid, mbr, none)"#,
        ),
    ];
    for (table, parts, expected) in cases {
        let out = build(&spec(dir.path(), table, parts), &dir.path().join("out"), &[]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().next(), Some(expected), "{stderr}");
    }
}
