//! Images with 1024- and 2048-byte sectors (nixpkgs' `sectorSize` is any
//! power of two from 512 to 4096): the GPT is read back through a loop
//! device of that sector size (`sgdisk -v`, `sfdisk -d`), and each
//! filesystem by its own tool (fsck.vfat, e2fsck, unsquashfs).

mod common;

use std::process::Command;

use common::*;

fn check(sector_size: u32) {
    require_tools(&["losetup", "sgdisk", "sfdisk", "fsck.vfat", "e2fsck", "unsquashfs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("etc")).expect("mkdir");
    std::fs::write(src.join("etc/hostname"), "nixos\n").expect("write");
    let spec = serde_json::json!({ "version": 1, "name": "disk", "sectorSize": sector_size, "partitions": [
        { "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" }, "contents": { "/": { "source": src } } },
        { "id": "20-usr", "repartConfig": { "Type": "usr", "Format": "squashfs", "Minimize": "best" }, "contents": { "/": { "source": src } } },
        { "id": "30-root", "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" }, "contents": { "/": { "source": src } } } ] });
    let path = dir.path().join("spec.json");
    std::fs::write(&path, spec.to_string()).expect("spec");
    let out = dir.path().join("out");
    build_ok(&path, &out, &[]);
    let image = out.join("disk.raw");
    let device = Loop::attach(&image, sector_size);
    assert_sgdisk_clean(&device.device);
    let dump = sfdisk_dump(&device.device);
    assert!(dump.contains(&format!("sector-size: {sector_size}")), "{dump}");
    let regions = partitions(&out);
    let starts: Vec<u64> = dump
        .lines()
        .filter_map(|l| l.split("start=").nth(1))
        .map(|s| s.split(',').next().unwrap_or("").trim().parse::<u64>().expect("start") * u64::from(sector_size))
        .collect();
    assert_eq!(starts, regions.iter().map(|(o, _)| *o).collect::<Vec<_>>(), "sfdisk's starts are the report's offsets");
    let part = |i: usize, name: &str| {
        let to = dir.path().join(name);
        extract(&image, regions[i].0, regions[i].1, &to);
        to
    };
    run_ok(Command::new("fsck.vfat").arg("-n").arg(part(0, "esp.img")));
    let listing = run_ok(Command::new("unsquashfs").arg("-l").arg(part(1, "usr.img")));
    assert!(listing.contains("squashfs-root/etc/hostname"), "{listing}");
    run_ok(Command::new("e2fsck").arg("-fn").arg(part(2, "root.img")));
}

/// One test per sector size, each needing the same tools.
macro_rules! sector_size_tests {
    ($($test:ident => $size:literal,)*) => {
        $(
            #[cfg_attr(
                any(
                    lacks = "loop-devices",
                    lacks = "gpt-tools",
                    lacks = "dosfstools",
                    lacks = "e2fsprogs",
                    lacks = "squashfs-tools"
                ),
                ignore = "needs loop devices, gdisk, fdisk, dosfstools, e2fsprogs and squashfs-tools; .ci/run installs them"
            )]
            #[test]
            fn $test() {
                check($size);
            }
        )*
    };
}

sector_size_tests! {
    sectors_of_1024_bytes => 1024,
    sectors_of_2048_bytes => 2048,
}
