//! Pins the SHA-256 of every output file for a few specs, so that a change
//! inside the build (a refactor, a new stage) cannot change an image's
//! bytes unnoticed. The source tree is generated from a fixed seed with
//! explicit modes, so it is the same on every machine. The pins were taken
//! from the binary before the pipeline was rewritten (issue 12); change
//! them only with a change that means to change the bytes, and say why in
//! its commit.
//!
//! vfat, squashfs, swap and ext4 are written by nix-repart itself; the
//! mke2fs ext4 and erofs pins also depend on Debian 12's e2fsprogs and
//! erofs-utils.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

/// Deterministic bytes: a 64-bit LCG, text-like in its low bits so that
/// every compressor has something to do.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            b"abcdefgh ijklmnop\n"[(state >> 59) as usize % 18]
        })
        .collect()
}

fn write(path: &Path, data: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, data).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A small tree: nested directories, modes, a symlink, a hard link, an
/// empty directory, files below and above one squashfs block.
fn source_tree(root: &Path) {
    write(&root.join("etc/motd"), b"hello\n", 0o644);
    write(&root.join("etc/ssh/sshd_config"), b"Port 22\n", 0o600);
    write(&root.join("bin/tool"), &bytes(1, 300_000), 0o555);
    write(&root.join("lib/libx.so.1"), &bytes(2, 5000), 0o444);
    write(&root.join("share/big"), &bytes(3, 1_100_000), 0o644);
    std::os::unix::fs::symlink("libx.so.1", root.join("lib/libx.so")).expect("symlink");
    std::fs::hard_link(root.join("etc/motd"), root.join("etc/issue")).expect("link");
    std::fs::create_dir_all(root.join("share/doc/empty")).expect("mkdir");
    for dir in ["etc", "etc/ssh", "bin", "lib", "share", "share/doc", "share/doc/empty"] {
        std::fs::set_permissions(root.join(dir), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// Builds a spec with an ESP and one data partition in `format`, split
/// output on, and returns `(file name, sha256)` for every output file.
/// `extra` goes into the data partition's repartConfig, but for keys that
/// start lowercase (`extWriter`): those are the spec's own.
fn build(name: &str, format: &str, extra: serde_json::Value) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    source_tree(&src);
    let mut data = serde_json::json!({ "Type": "linux-generic", "Format": format, "Minimize": "guess" });
    let top_level = |k: &String| k.starts_with(|c: char| c.is_ascii_lowercase());
    for (k, v) in extra.as_object().expect("object").iter().filter(|(k, _)| !top_level(k)) {
        data[k] = v.clone();
    }
    let mut spec = serde_json::json!({ "version": 1, "name": name, "split": true, "partitions": [
        { "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat", "SizeMinBytes": "64M" },
          "contents": { "/EFI/BOOT/BOOTX64.EFI": { "source": src.join("bin/tool") } } },
        { "id": "20-data", "repartConfig": data } ] });
    if format != "swap" {
        spec["partitions"][1]["contents"] = serde_json::json!({ "/": { "source": src } });
    }
    for (k, v) in extra.as_object().expect("object").iter().filter(|(k, _)| top_level(k)) {
        spec[k] = v.clone();
    }
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).expect("spec");
    let out = dir.path().join("out");
    let run = common::run(
        Command::new(common::bin())
            .args(["build", "--jobs", "2"])
            .arg(&spec_path)
            .arg("-o")
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", "1700000000"),
    );
    assert!(run.status.success(), "build failed: {}", String::from_utf8_lossy(&run.stderr));
    common::file_names(&out)
        .into_iter()
        .map(|file| {
            let digest = Sha256::digest(std::fs::read(out.join(&file)).expect("read output"));
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (file, hex)
        })
        .collect()
}

fn check(name: &str, format: &str, extra: serde_json::Value, pinned: &[(&str, &str)]) {
    let got = build(name, format, extra);
    let got_text: Vec<String> = got.iter().map(|(f, h)| format!("(\"{f}\", \"{h}\"),")).collect();
    let pinned: Vec<(String, String)> = pinned.iter().map(|(f, h)| (f.to_string(), h.to_string())).collect();
    assert_eq!(got, pinned, "output hashes changed; now:\n{}", got_text.join("\n"));
}

#[test]
fn squashfs_gzip() {
    check(
        "sq-gzip",
        "squashfs",
        serde_json::json!({}),
        &[
            ("repart-output.json", "01e9ddcace890838b2bb15f5aa115db96f8d9b2c0400f8a24fb2a4371c20eead"),
            ("sq-gzip.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("sq-gzip.linux-generic.raw", "f3a1b56ac0f7ddf28f9fb5cf6bcd569eb77edf038eda101935cc4dd1fc47f396"),
            ("sq-gzip.raw", "94ee99c52d21fd806f22065fe6ee4b85b7d4054da7d22fffce552e2b4990fd06"),
        ],
    );
}

#[test]
fn squashfs_zstd() {
    check(
        "sq-zstd",
        "squashfs",
        serde_json::json!({ "Compression": "zstd", "CompressionLevel": 9 }),
        &[
            ("repart-output.json", "3ddd7079221f8604cef14cd64fb797c2451895acb2a6382d29e830fd19d62fde"),
            ("sq-zstd.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("sq-zstd.linux-generic.raw", "cb3f8c0d3046f6b7d74138c72e5ad98c377efd6435a63cfb1f28f90e2e7cbc4a"),
            ("sq-zstd.raw", "37eb5adc71e949aed5289709be96541bfa15b81af5580cbefff6ff1785ccb323"),
        ],
    );
}

#[test]
fn squashfs_xz_lz4() {
    check(
        "sq-xz",
        "squashfs",
        serde_json::json!({ "Compression": "xz" }),
        &[
            ("repart-output.json", "452ddda67d3e52caf3375868a4e084396ee0102bb62c8132ddae6523b293790f"),
            ("sq-xz.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("sq-xz.linux-generic.raw", "a46621d0ebfeebfd0e2101ff6436d6b11197ada762b7f1cd6d104bc04cc8ae94"),
            ("sq-xz.raw", "a68b3650019ee65ca7389759e887c789b90fb096d7a3fb8cd4ef44b509ac7b4d"),
        ],
    );
    check(
        "sq-lz4",
        "squashfs",
        serde_json::json!({ "Compression": "lz4" }),
        &[
            ("repart-output.json", "f9e07b24a13e5ca579b08f5a18bb1cfea618c927794675c3aa37b7cbdee4fd5b"),
            ("sq-lz4.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("sq-lz4.linux-generic.raw", "4c0a8c7a0400f2f1cba87b7980cf1cc962f3e6dbf8c80f583bf5b2673ca85b09"),
            ("sq-lz4.raw", "7b5a708dd92f0dfb0cd2a8fe0813899e6a4196ddd289be283fa1084b1f041ca7"),
        ],
    );
}

#[test]
fn swap_without_minimize() {
    check(
        "swap",
        "swap",
        serde_json::json!({ "Minimize": "off", "SizeMinBytes": "64M" }),
        &[
            ("repart-output.json", "8820ec2a029b1a359956566ccbdd45891e557ad0a6673b2cb60e42d68954c126"),
            ("swap.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("swap.linux-generic.raw", "86caabd551a10c3306169201e2330e5e04f223a07a57ce85a0e40ec7c854bb1f"),
            ("swap.raw", "5048110f2ca63e8877117987fc1637de7ba85476fe12a7fe95bdfd5311f43fa5"),
        ],
    );
}

/// ext4 by nix-repart's own writer: no tool's version in these bytes.
#[test]
fn ext4() {
    check(
        "ext4",
        "ext4",
        serde_json::json!({}),
        &[
            ("ext4.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("ext4.linux-generic.raw", "fbe11562d16f1755393baa7c03963c0df92cdb80fb2bed2452e4ad6d10a99f8c"),
            ("ext4.raw", "b7bf104ded3bd4a24f51acd771f7302155c6f43e7c2845b6a92f52ecf0b6f5be"),
            ("repart-output.json", "887a5aa3c445959c078ea13439ca9bba63c7edfa27188cf3b0ce1ce7ea153a86"),
        ],
    );
}

/// ext4 by mke2fs (`"extWriter": "mke2fs"`), the pin from before the own writer.
#[test]
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs mke2fs (e2fsprogs)")]
fn ext4_by_mke2fs() {
    common::require_tool("mke2fs");
    check(
        "ext4",
        "ext4",
        serde_json::json!({ "extWriter": "mke2fs" }),
        &[
            ("ext4.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("ext4.linux-generic.raw", "dc4f542c94a050b1fdbadf4c3166611dccad9342f58cf00d7c8b5ffdeabd94b1"),
            ("ext4.raw", "d2a925dad621856593d51e5a43f7e5689b121425b404eee3bd4df36767ede32b"),
            ("repart-output.json", "887a5aa3c445959c078ea13439ca9bba63c7edfa27188cf3b0ce1ce7ea153a86"),
        ],
    );
}

#[test]
#[cfg_attr(lacks = "erofs-utils", ignore = "needs mkfs.erofs (erofs-utils)")]
fn erofs() {
    common::require_tool("mkfs.erofs");
    check(
        "erofs",
        "erofs",
        serde_json::json!({}),
        &[
            ("erofs.esp.raw", "7422ea576e28f2d2fd55dedaa8242f4988b039c3f6a8264855f51754b48d83e7"),
            ("erofs.linux-generic.raw", "ed3475074242372154a727f8f7771661187598e5607bb008d23c3d7c1e52b911"),
            ("erofs.raw", "8f4f6bd50f775a3dc18e8cc135b6a1d37eaa372f6ba161d658e6910409413ae8"),
            ("repart-output.json", "f8bff02c9178caadcc7c8174461802b997a670305d0b347d034bd1c1f9b41bcd"),
        ],
    );
}
