//! dm-verity pairs (`Verity=data` + `Verity=hash`): every image nix-repart
//! writes passes `veritysetup verify DATA HASH ROOTHASH` with the root
//! hash of its `repart-output.json`, and fails once one byte of the data
//! is flipped; the partition UUIDs are the root hash's halves; the bytes
//! do not depend on `--jobs`; `nix-repart plan` shows the pairs. (The
//! bytes are compared with systemd-repart 257's in tests/conformance_257.)

mod common;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// Files that do not compress (so squashfs keeps them large): a tree of
/// about 3 MB, enough for four tree levels with 512-byte blocks.
fn source(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..12 {
        let sub = src.join(format!("d{}", i % 3));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let bytes: Vec<u8> = (0..250_000 + i * 1000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        std::fs::write(sub.join(format!("f{i}")), bytes).expect("write");
    }
    src
}

/// A spec with one verity pair per `(data format, key)`, ESP-less.
fn spec(dir: &Path, sector_size: u32, image_size: &str, pairs: &[(&str, &str)], split: bool) -> PathBuf {
    let src = source(dir);
    let mut partitions = Vec::new();
    for (i, (format, key)) in pairs.iter().enumerate() {
        let (data_type, hash_type) = if i == 0 { ("usr", "usr-verity") } else { ("root", "root-verity") };
        partitions.push(json!({ "id": format!("{}0-{key}", i * 2 + 1),
            "repartConfig": { "Type": data_type, "Format": format, "Verity": "data", "VerityMatchKey": key, "Minimize": "best" },
            "contents": { "/": { "source": src } } }));
        partitions.push(json!({ "id": format!("{}0-{key}-verity", i * 2 + 2),
            "repartConfig": { "Type": hash_type, "Verity": "hash", "VerityMatchKey": key, "Minimize": "best" } }));
    }
    let spec = json!({ "version": 1, "name": "v", "seed": "0867da16-f251-457d-a9e8-c31f9a3c220b",
        "architecture": "x86-64", "sectorSize": sector_size, "imageSize": image_size, "split": split,
        "partitions": partitions });
    let path = dir.join("spec.json");
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

fn report(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("repart-output.json")).expect("report");
    serde_json::from_str::<Value>(&text).expect("json").as_array().expect("array").clone()
}

fn veritysetup_verify(data: &Path, hash: &Path, root: &str) -> bool {
    Command::new("veritysetup")
        .arg("verify")
        .arg(data)
        .arg(hash)
        .arg(root)
        .output()
        .expect("veritysetup")
        .status
        .success()
}

/// Builds, then checks each pair with veritysetup, flipped and unflipped.
fn check_pairs(name: &str, sector_size: u32, image_size: &str, pairs: &[(&str, &str)], split: bool) {
    require_tools(&["veritysetup", "mkfs.erofs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), sector_size, image_size, pairs, split);
    let out = dir.path().join("out");
    build_ok(&spec, &out, &[]);
    let image = out.join("v.raw");
    assert_sgdisk_clean(&image.to_string_lossy());
    let entries = report(&out);
    assert_eq!(entries.len(), pairs.len() * 2, "{name}");
    for pair in entries.chunks(2) {
        let (data, hash) = (&pair[0], &pair[1]);
        let root = data["roothash"].as_str().unwrap_or_else(|| panic!("{name}: no roothash in {data}"));
        assert_eq!(hash["roothash"].as_str(), Some(root), "{name}: both partitions carry the root hash");
        assert_eq!(root.len(), 64, "{name}");
        // The partition UUIDs are the root hash's halves, as they are.
        let hex = |v: &Value| v["uuid"].as_str().expect("uuid").replace('-', "");
        assert_eq!(format!("{}{}", hex(data), hex(hash)), root, "{name}: UUIDs from the root hash");
        let region = |e: &Value, to: &Path| {
            extract(&image, e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("size"), to);
        };
        let (data_file, hash_file) = (dir.path().join("data.img"), dir.path().join("hash.img"));
        region(data, &data_file);
        region(hash, &hash_file);
        assert!(veritysetup_verify(&data_file, &hash_file, root), "{name}: veritysetup verify failed");
        // One byte flipped in the middle of the filesystem: detected.
        let file = std::fs::OpenOptions::new().write(true).read(true).open(&data_file).expect("open");
        let at = 1_500_000;
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, at).expect("read");
        file.write_all_at(&[byte[0] ^ 0x20], at).expect("write");
        assert!(!veritysetup_verify(&data_file, &hash_file, root), "{name}: a flipped byte passed verify");
        if split {
            let split_name = hash["split_path"].as_str().expect("split_path");
            assert_eq!(std::fs::read(out.join(split_name)).expect("split"), std::fs::read(&hash_file).expect("hash"));
        }
    }
}

#[cfg_attr(lacks = "verity-tools", ignore = "needs veritysetup (cryptsetup-bin) and mkfs.erofs; .ci/run installs them")]
#[test]
fn erofs_store_on_512_byte_sectors_verifies() {
    check_pairs("erofs-512", 512, "auto", &[("erofs", "usr")], false);
}

#[cfg_attr(lacks = "verity-tools", ignore = "needs veritysetup (cryptsetup-bin) and mkfs.erofs; .ci/run installs them")]
#[test]
fn squashfs_store_on_4096_byte_sectors_verifies() {
    check_pairs("squashfs-4096", 4096, "auto", &[("squashfs", "usr")], false);
}

#[cfg_attr(lacks = "verity-tools", ignore = "needs veritysetup (cryptsetup-bin) and mkfs.erofs; .ci/run installs them")]
#[test]
fn two_pairs_in_a_fixed_size_image_with_split_files_verify() {
    check_pairs("two-pairs", 512, "64M", &[("erofs", "usr"), ("squashfs", "root")], true);
}

#[test]
fn jobs_do_not_change_the_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), 512, "auto", &[("squashfs", "usr")], false);
    let (one, four) = (dir.path().join("one"), dir.path().join("four"));
    build_ok(&spec, &one, &["--jobs", "1"]);
    build_ok(&spec, &four, &["--jobs", "4"]);
    assert!(std::fs::read(one.join("v.raw")).expect("one") == std::fs::read(four.join("v.raw")).expect("four"));
    assert_eq!(report(&one), report(&four));
}

#[test]
fn plan_shows_the_pairs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), 512, "auto", &[("squashfs", "usr")], false);
    let out = run(Command::new(bin()).arg("plan").arg(&spec));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan json");
    let verity = |i: usize| plan["partitions"][i]["verity"].clone();
    assert_eq!(verity(0)["role"], "data");
    assert_eq!(verity(0)["pairedWith"], "20-usr-verity");
    assert_eq!(verity(1)["role"], "hash");
    assert_eq!(verity(1)["pairedWith"], "10-usr");
    assert_eq!(verity(1)["dataBlockSize"], 512);
    assert_eq!(verity(1)["uuidFromRootHash"], true);
    // The hash partition's content is its tree: at least the superblock
    // block and one block of digests.
    assert!(plan["partitions"][1]["contentSize"].as_u64().expect("contentSize") >= 1024);
}

/// nixpkgs' verityStore in two builds: an intermediate image with the pair
/// only, then the final one with an ESP and the pair taken from it by
/// `fromImage`: the same bytes, UUIDs, attributes and root hash, and the
/// pair still verifies.
#[cfg_attr(lacks = "verity-tools", ignore = "needs veritysetup (cryptsetup-bin) and mkfs.erofs; .ci/run installs them")]
#[test]
fn a_final_image_takes_the_pair_from_the_intermediate_one() {
    require_tools(&["veritysetup", "mkfs.erofs", "sfdisk"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = spec(dir.path(), 512, "auto", &[("erofs", "usr")], false);
    let intermediate = dir.path().join("intermediate");
    build_ok(&spec_path, &intermediate, &[]);
    let esp = dir.path().join("esp");
    std::fs::create_dir_all(esp.join("EFI/Linux")).expect("mkdir");
    std::fs::write(esp.join("EFI/Linux/nixos.efi"), "a UKI with usrhash=...").expect("uki");
    let final_spec = json!({ "version": 1, "name": "v", "seed": "0867da16-f251-457d-a9e8-c31f9a3c220b",
        "architecture": "x86-64", "sectorSize": 512, "partitions": [
        { "id": "00-esp", "repartConfig": { "Type": "esp", "Format": "vfat" }, "contents": { "/": { "source": esp } } },
        { "id": "10-usr", "repartConfig": { "Type": "usr", "Verity": "data", "VerityMatchKey": "usr" }, "fromImage": intermediate },
        { "id": "20-usr-verity", "repartConfig": { "Type": "usr-verity", "Verity": "hash", "VerityMatchKey": "usr" }, "fromImage": intermediate } ] });
    let final_path = dir.path().join("final.json");
    std::fs::write(&final_path, final_spec.to_string()).expect("spec");
    let out = dir.path().join("final");
    build_ok(&final_path, &out, &[]);
    let (before, after) = (report(&intermediate), report(&out));
    for (b, a) in before.iter().zip(&after[1..]) {
        for key in ["uuid", "label", "type", "raw_size", "roothash"] {
            assert_eq!(a[key], b[key], "{key} of {}", b["label"]);
        }
        let bytes = |image: &Path, e: &Value| {
            common::read_region(image, e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("size"))
        };
        assert!(bytes(&intermediate.join("v.raw"), b) == bytes(&out.join("v.raw"), a), "{} differs", b["label"]);
    }
    let attrs = |image: &Path| -> Vec<String> {
        sfdisk_dump(&image.to_string_lossy())
            .lines()
            .filter(|l| l.starts_with("PART"))
            .map(|l| {
                l.split(", ")
                    .filter(|f| f.starts_with("attrs=") || f.starts_with("uuid="))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect()
    };
    assert_eq!(attrs(&out.join("v.raw"))[1..], attrs(&intermediate.join("v.raw"))[..], "attributes and UUIDs");
    let root = after[1]["roothash"].as_str().expect("roothash");
    let (data, hash) = (dir.path().join("d.img"), dir.path().join("h.img"));
    for (e, to) in [(&after[1], &data), (&after[2], &hash)] {
        extract(&out.join("v.raw"), e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("size"), to);
    }
    assert!(veritysetup_verify(&data, &hash, root), "the final image's pair does not verify");
}
