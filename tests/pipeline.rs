//! The streaming writers (squashfs, and ext with `Minimize=`) write while
//! they measure: in an auto-sized image at their final offset, in a
//! fixed-size image past its end, moved into place once the layout is
//! planned. Both must give the same filesystems, checked by the real tools
//! (sfdisk for the table, e2fsck and debugfs for ext4, unsquashfs for
//! squashfs, each compared with the source tree), and byte for byte
//! between the two builds.

mod common;

use std::path::Path;
use std::process::Command;

use common::listing::Fields;
use common::{build_ok, extract, partitions, read_region, run_ok};

fn source(root: &Path) {
    let mut rng = common::Rng(11);
    for i in 0..300 {
        let at = root.join(format!("d{:02}/f{i}", i % 30));
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        std::fs::write(&at, rng.bytes(if i % 50 == 0 { 1 << 20 } else { 3000 })).expect("write");
    }
}

fn spec(dir: &Path, name: &str, src: &Path, image_size: Option<&str>) -> std::path::PathBuf {
    let mut spec = serde_json::json!({ "version": 1, "name": name, "partitions": [
        { "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat", "SizeMinBytes": "40M" },
          "contents": { "/data": { "source": src.join("d00") } } },
        { "id": "20-root", "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" },
          "contents": { "/": { "source": src } } },
        { "id": "30-store", "repartConfig": { "Type": "usr", "Format": "squashfs", "Minimize": "best" },
          "contents": { "/": { "source": src } } },
        { "id": "40-var", "repartConfig": { "Type": "var", "Format": "ext4" } } ] });
    if let Some(size) = image_size {
        spec["imageSize"] = size.into();
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

/// Paths, types, sizes and data below `root` (lost+found aside); the
/// times and modes are other tests' business.
fn listing(root: &Path) -> Vec<String> {
    let fields = Fields { mode: false, owner: false, mtime: false, symlink_mtime: false };
    common::listing::listing(root, fields, &["lost+found"])
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[cfg_attr(lacks = "gpt-tools", ignore = "needs sfdisk and sgdisk; .ci/run installs them")]
#[test]
fn streamed_filesystems_are_the_same_in_fixed_and_auto_sized_images() {
    common::require_tools(&["mke2fs", "e2fsck", "debugfs", "unsquashfs", "sgdisk"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    source(&src);
    let (auto_out, fixed_out) = (dir.path().join("auto"), dir.path().join("fixed"));
    build_ok(&spec(dir.path(), "img", &src, None), &auto_out, &[]);
    build_ok(&spec(dir.path(), "img", &src, Some("300M")), &fixed_out, &[]);
    let (auto, fixed) = (partitions(&auto_out), partitions(&fixed_out));
    let image = fixed_out.join("img.raw");
    assert_eq!(std::fs::metadata(&image).expect("image").len(), 300 << 20, "the scratch area past the end is cut off");
    common::assert_sgdisk_clean(&image.to_string_lossy());
    // The fixed image shares its free space by weight, so the partitions
    // without Minimize= grow and the later ones move.
    assert_ne!(auto[3].1, fixed[3].1, "40-var did not grow: the layouts are the same, the test shows nothing");
    assert_ne!(auto[2].0, fixed[2].0, "30-store did not move");
    // Minimized partitions grow too, as with systemd-repart 257, but their
    // filesystems keep the size they were made at: the auto-sized image's
    // partition, byte for byte, then zeros.
    for i in [1, 2] {
        assert!(fixed[i].1 > auto[i].1, "partition {i} did not grow in the fixed-size image");
        let a = read_region(&auto_out.join("img.raw"), auto[i].0, auto[i].1);
        let f = read_region(&image, fixed[i].0, fixed[i].1);
        assert!(a[..] == f[..a.len()], "partition {i} differs between the auto-sized and the fixed-size image");
        assert!(f[a.len()..].iter().all(|b| *b == 0), "partition {i}: bytes after its filesystem");
    }
    let root = dir.path().join("root.img");
    extract(&image, fixed[1].0, auto[1].1, &root);
    run_ok(Command::new("e2fsck").arg("-fn").arg(&root));
    let dump = dir.path().join("root-dump");
    std::fs::create_dir(&dump).expect("mkdir");
    run_ok(Command::new("debugfs").arg("-R").arg(format!("rdump / {}", dump.display())).arg(&root));
    assert_eq!(listing(&dump), listing(&src), "ext4 contents");
    let store = dir.path().join("store.img");
    extract(&image, fixed[2].0, auto[2].1, &store);
    let unpacked = dir.path().join("store-dump");
    run_ok(Command::new("unsquashfs").arg("-no-xattrs").arg("-d").arg(&unpacked).arg(&store));
    assert_eq!(listing(&unpacked), listing(&src), "squashfs contents");
    run_ok(Command::new("e2fsck").arg("-fn").arg({
        let var = dir.path().join("var.img");
        extract(&image, fixed[3].0, fixed[3].1, &var);
        var
    }));
}

/// `-I 4096` (16 times the inode size the estimate assumes) makes the
/// `Minimize=guess` estimate short for a tree of many small files (ext2:
/// an ext4 would be made at least 32 MiB, with room to spare).
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn a_short_ext_estimate_remakes_only_that_partition() {
    common::require_tools(&["mke2fs", "e2fsck", "debugfs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    for i in 0..3000 {
        let at = src.join(format!("d{:02}/f{i}", i % 50));
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        std::fs::write(&at, vec![b'x'; i % 700]).expect("write");
    }
    let spec = serde_json::json!({ "version": 1, "name": "r", "mkfsOptions": { "ext2": ["-I 4096"] }, "partitions": [
        { "id": "10-root", "repartConfig": { "Type": "root", "Format": "ext2", "Minimize": "guess" },
          "contents": { "/": { "source": src } } },
        { "id": "20-var", "repartConfig": { "Type": "var", "Format": "ext2", "Minimize": "guess" },
          "contents": { "/": { "source": src.join("d01") } } } ] });
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).expect("spec");
    let mut images = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        let output = common::run(Command::new(common::bin()).arg("build").arg(&spec_path).arg("-o").arg(&out));
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains("note: partition 10-root: the Minimize= estimate of "), "no retry:\n{stderr}");
        let count = |what: &str| stderr.lines().filter(|l| l.contains(what) && l.ends_with(" bytes)")).count();
        assert_eq!(count("10-root: mke2fs (ext2, "), 2, "{stderr}");
        assert_eq!(count("20-var: mke2fs (ext2, "), 1, "{stderr}");
        let reads = stderr.lines().filter(|l| l.ends_with("10-root: reading sources")).count();
        assert_eq!(reads, 1, "the sources were read again:\n{stderr}");
        images.push(std::fs::read(out.join("r.raw")).expect("image"));
        let parts = partitions(&out);
        assert_eq!(parts[1].0, parts[0].0 + parts[0].1, "20-var does not follow the grown 10-root");
        for (i, (offset, size)) in parts.into_iter().enumerate() {
            let fs = dir.path().join(format!("{run}-{i}.img"));
            extract(&out.join("r.raw"), offset, size, &fs);
            run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
            let dump = dir.path().join(format!("{run}-{i}-dump"));
            std::fs::create_dir(&dump).expect("mkdir");
            run_ok(Command::new("debugfs").arg("-R").arg(format!("rdump / {}", dump.display())).arg(&fs));
            let expected = if i == 0 { src.clone() } else { src.join("d01") };
            assert_eq!(listing(&dump), listing(&expected), "partition {i}");
        }
    }
    assert!(images[0] == images[1], "the retried image is not reproducible");
}
