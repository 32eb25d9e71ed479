//! Boot tests: the appliance image from `examples/appliance` must boot
//! under UEFI firmware (QEMU q35 + OVMF, TCG) to the line its initrd prints
//! after mounting the squashfs store partition by label; broken images
//! must fail, for the right reason; and after systemd-repart grows the
//! image at "first boot" (home and var added, as the appliance's initrd
//! would), it must verify and boot again with all four partitions. The
//! same appliance boots with an ext4 root, an lz4hc erofs store, and an
//! erofs store behind dm-verity (root hash on the kernel command line),
//! which a flipped byte or a wrong root hash stops.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
const OK: &str = "NIX-REPART-BOOT-OK: ";
const FAIL: &str = "NIX-REPART-BOOT-FAIL: ";
/// Whether OVMF said the virtio disk holds nothing it can boot:
/// `BdsDxe: failed to load Boot0002 "UEFI Misc Device" from ...: Not Found`.
fn not_bootable(log: &str) -> bool {
    log.lines().any(|l| l.contains("failed to load") && l.contains("\"UEFI Misc Device\"") && l.contains("Not Found"))
}

fn require_boot_tools() {
    require_tools(&[OVMF_CODE, OVMF_VARS, "/usr/lib/systemd/boot/efi/systemd-bootx64.efi", "/bin/busybox"]);
    require_tools(&["qemu-system-x86_64", "cpio", "systemd-repart", "sgdisk", "sfdisk", "losetup", "mkfs.ext4"]);
}

fn build_appliance(dir: &Path, marker: &str, store_marker: &str) -> PathBuf {
    build_appliance_with(dir, marker, store_marker, "squashfs")
}

/// `root_format`: `squashfs` (the appliance: store partition), `ext4`
/// (nixpkgs' layout: an ext4 root with Minimize=guess) or `erofs` (the
/// store compressed with lz4hc).
fn build_appliance_with(dir: &Path, marker: &str, store_marker: &str, root_format: &str) -> PathBuf {
    build_appliance_env(dir, marker, store_marker, root_format, &[])
}

/// [`build_appliance_with`] with more variables for build.sh (`GROW`).
fn build_appliance_env(
    dir: &Path,
    marker: &str,
    store_marker: &str,
    root_format: &str,
    env: &[(&str, &str)],
) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/appliance/build.sh");
    let out = dir.join(format!("appliance-{root_format}"));
    let _ = fs::remove_dir_all(&out);
    run_ok(
        Command::new("bash")
            .arg(script)
            .arg(&out)
            .arg(marker)
            .arg(store_marker)
            .env("NIX_REPART", bin())
            .env("ROOT_FORMAT", root_format)
            .envs(env.iter().copied()),
    );
    out.join("appliance.raw")
}

/// Boots `image` (read-only: a snapshot) and returns the serial log once
/// one of the initrd's lines or OVMF's "not bootable" line appears, or
/// after the time limit.
fn boot(image: &Path, work: &Path) -> String {
    boot_as(image, work, "raw")
}

/// [`boot`] for a disk in `format` (QEMU's driver of that name reads it).
fn boot_as(image: &Path, work: &Path, format: &str) -> String {
    boot_with(image, work, format, true)
}

/// [`boot_as`]; `snapshot` false lets the guest write to the image.
fn boot_with(image: &Path, work: &Path, format: &str, snapshot: bool) -> String {
    let vars = work.join("vars.fd");
    fs::copy(OVMF_VARS, &vars).expect("copy OVMF vars");
    let log = work.join("serial.log");
    let _ = fs::remove_file(&log);
    let mut qemu = Command::new("qemu-system-x86_64")
        .args(["-machine", "q35", "-m", "512", "-accel", "tcg", "-display", "none", "-monitor", "none"])
        .args(["-nic", "none", "-no-reboot"])
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}"))
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,unit=1,file={}", vars.display()))
        .arg("-drive")
        .arg(format!(
            "file={},if=virtio,format={format},snapshot={}",
            image.display(),
            if snapshot { "on" } else { "off" }
        ))
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu");
    let started = Instant::now();
    let text = loop {
        std::thread::sleep(Duration::from_millis(500));
        let text = String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).into_owned();
        let done = text.contains(OK) || text.contains(FAIL) || not_bootable(&text);
        if done || started.elapsed() > Duration::from_secs(240) || qemu.try_wait().ok().flatten().is_some() {
            break text;
        }
    };
    let _ = qemu.kill();
    let _ = qemu.wait();
    // Let the last line finish before reading it once more.
    let tail = String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).into_owned();
    if tail.len() > text.len() {
        tail
    } else {
        text
    }
}

fn result_line(log: &str) -> String {
    log.lines().find(|l| l.contains(OK) || l.contains(FAIL)).unwrap_or("").trim().to_string()
}

/// The partitions of an image, from sfdisk's JSON: (start, size) in bytes.
fn table(image: &Path) -> Vec<(String, u64, u64)> {
    let out = run_ok(Command::new("sfdisk").arg("--json").arg(image));
    let json: serde_json::Value = serde_json::from_str(&out).expect("sfdisk json");
    json["partitiontable"]["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or("").to_string();
            (name, p["start"].as_u64().expect("start") * 512, p["size"].as_u64().expect("size") * 512)
        })
        .collect()
}

/// systemd-repart adds home (Weight=2000) and var (Weight=1000), both
/// ext4, as the appliance's initrd does at first boot. Returns how the
/// filesystems were made.
fn grow(image: &Path, work: &Path) -> &'static str {
    let definitions = work.join("grow.d");
    fs::create_dir_all(&definitions).expect("mkdir");
    let define = |format: bool| {
        let fs_line = if format { "Format=ext4\n" } else { "" };
        fs::write(definitions.join("30-home.conf"), format!("[Partition]\nType=home\nWeight=2000\n{fs_line}"))
            .expect("w");
        fs::write(definitions.join("40-var.conf"), format!("[Partition]\nType=var\nWeight=1000\n{fs_line}"))
            .expect("w");
    };
    define(true);
    let file = fs::OpenOptions::new().write(true).open(image).expect("open");
    file.set_len(file.metadata().expect("meta").len() + (2 << 30)).expect("grow file");
    drop(file);
    let repart = |definitions: &Path| {
        run(Command::new("systemd-repart")
            .args(["--dry-run=no", "--no-pager", "--json=off"])
            .arg(format!("--definitions={}", definitions.display()))
            .arg(image))
    };
    if repart(&definitions).status.success() {
        return "systemd-repart formatted home and var (through loop devices)";
    }
    // No loop devices: create the partitions, then format them in place.
    define(false);
    let created = repart(&definitions);
    assert!(created.status.success(), "systemd-repart: {}", String::from_utf8_lossy(&created.stderr));
    for (name, start, size) in table(image).into_iter().skip(2) {
        run_ok(
            Command::new("mkfs.ext4")
                .args(["-q", "-F", "-L", &name, "-E"])
                .arg(format!("offset={start}"))
                .arg(image)
                .arg(format!("{}k", size / 1024)),
        );
    }
    "systemd-repart created home and var; mkfs.ext4 -E offset= formatted them"
}

#[cfg_attr(
    lacks = "boot",
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, systemd-repart, gdisk, fdisk, loop devices and e2fsprogs; .ci/run installs them"
)]
#[test]
fn appliance_boots_then_grows_and_boots_again() {
    require_boot_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let image = build_appliance(dir.path(), "appliance-ok", "appliance-ok");
    let log = boot(&image, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: appliance-ok fstype=squashfs partitions=2 labels=boot,nix-store,",
        "serial log:\n{log}"
    );

    let grown = dir.path().join("grown.raw");
    fs::copy(&image, &grown).expect("copy");
    let before = table(&grown);
    let how = grow(&grown, dir.path());
    eprintln!("grow: {how}");
    let after = table(&grown);
    assert_eq!(after.len(), 4, "{after:?}");
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old, new, "existing partitions keep their place");
        assert!(read_region(&image, old.1, old.2) == read_region(&grown, new.1, new.2), "{} changed", old.0);
    }
    let (home, var) = (&after[2], &after[3]);
    assert_eq!((home.0.as_str(), var.0.as_str()), ("home", "var"));
    let grain = 4096;
    assert!(home.2.abs_diff(2 * var.2) <= 2 * grain, "home {} and var {} are not 2:1", home.2, var.2);
    for (name, start, _) in [home, var] {
        let magic = read_region(&grown, start + 1080, 2);
        assert_eq!(magic, [0x53, 0xEF], "{name} has no ext4 superblock");
    }
    assert_sgdisk_clean(&grown.to_string_lossy());
    let log = boot(&grown, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: appliance-ok fstype=squashfs partitions=4 labels=boot,nix-store,home,var,",
        "serial log:\n{log}"
    );
}

/// nixpkgs' layout (its appliance test and example): vfat ESP and an ext4
/// root sized by Minimize=guess, the marker on the ext4 partition, which
/// the kernel mounts.
#[cfg_attr(
    lacks = "boot",
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, systemd-repart, gdisk, fdisk, loop devices and e2fsprogs; .ci/run installs them"
)]
#[test]
fn ext4_root_image_boots() {
    require_boot_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let image = build_appliance_with(dir.path(), "ext4-ok", "ext4-ok", "ext4");
    let log = boot(&image, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: ext4-ok fstype=ext4 partitions=2 labels=esp,root,",
        "serial log:\n{log}"
    );
}

/// The ext4 root written by nix-repart's own writer grows as at first
/// boot: the disk and the root partition enlarged by 9 GiB (sgdisk,
/// sfdisk), `resize2fs` grows a copy of the filesystem offline, and the
/// booted initrd grows the mounted root online (the kernel's resize, as
/// systemd-growfs asks for it) to the whole partition; e2fsck finds both
/// clean and the marker still there.
#[cfg_attr(
    lacks = "boot",
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, systemd-repart, gdisk, fdisk, loop devices and e2fsprogs; .ci/run installs them"
)]
#[test]
fn ext4_root_grows_offline_and_online() {
    require_boot_tools();
    require_tools(&["resize2fs", "e2fsck", "debugfs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = build_appliance_env(dir.path(), "grow-ok", "grow-ok", "ext4", &[("GROW", "1")]);
    let grown = dir.path().join("grown.raw");
    fs::copy(&image, &grown).expect("copy");
    let len = fs::metadata(&grown).expect("image").len();
    // Past 64 groups (8 GiB): the kernel needs the reserved descriptor blocks.
    fs::OpenOptions::new().write(true).open(&grown).expect("open").set_len(len + (9 << 30)).expect("grow");
    run_ok(Command::new("sgdisk").arg("-e").arg(&grown));
    let mut sfdisk = Command::new("sfdisk")
        .args(["--no-reread", "--no-tell-kernel", "-N", "2"])
        .arg(&grown)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sfdisk");
    std::io::Write::write_all(&mut sfdisk.stdin.take().expect("stdin"), b", +\n").expect("write");
    assert!(sfdisk.wait().expect("sfdisk").success(), "sfdisk could not grow the root partition");
    let (name, start, size) = table(&grown)[1].clone();
    assert_eq!(name, "root");
    assert!(size > 9 << 30, "the root partition is {size} bytes");
    // Offline: resize2fs on a (sparse) copy of the grown disk's partition.
    let offline = dir.path().join("offline.raw");
    run_ok(Command::new("cp").arg("--sparse=always").arg(&grown).arg(&offline));
    let at = |image: &Path| format!("{}?offset={start}", image.display());
    run_ok(Command::new("resize2fs").arg(at(&offline)).arg(format!("{}", size / 4096)));
    run_ok(Command::new("e2fsck").arg("-fn").arg(at(&offline)));
    let marker = run_ok(Command::new("debugfs").arg("-R").arg("cat /marker").arg(at(&offline)));
    assert_eq!(marker, "grow-ok");
    let blocks = format!("Block count:              {}\n", size / 4096);
    assert!(run_ok(Command::new("dumpe2fs").arg("-h").arg(at(&offline))).contains(&blocks), "offline: not grown");
    // Online: the booted initrd grows the mounted root.
    let log = boot_with(&grown, dir.path(), "raw", false);
    let line = result_line(&log);
    // blocks= is statfs's count (without the filesystem's own overhead).
    let prefix = "NIX-REPART-BOOT-OK: grow-ok fstype=ext4 partitions=2 labels=esp,root, blocks=";
    assert!(line.starts_with(prefix), "serial log:\n{log}");
    run_ok(Command::new("e2fsck").arg("-fn").arg(at(&grown)));
    let header = run_ok(Command::new("dumpe2fs").arg("-h").arg(at(&grown)));
    assert!(header.contains(&blocks), "online: not grown to the partition: {header}");
    let seen: u64 = line[prefix.len()..].parse().expect("blocks");
    assert!(seen > (size - (64 << 20)) / 4096, "the booted system saw {seen} blocks of {}", size / 4096);
}

/// systemd-boot installed by nix-repart from a toplevel's bootspec
/// (`systemdBoot`): the loader entry it writes is the one that boots.
#[cfg_attr(
    lacks = "boot",
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, systemd-repart, gdisk, fdisk, loop devices and e2fsprogs; .ci/run installs them"
)]
#[test]
fn systemd_boot_installed_from_the_bootspec_boots() {
    require_boot_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let image = build_appliance_with(dir.path(), "bootspec-ok", "bootspec-ok", "bootspec");
    let log = boot(&image, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: bootspec-ok fstype=squashfs partitions=2 labels=boot,nix-store,",
        "serial log:\n{log}"
    );
}

/// The appliance as a compressed qcow2, booted through QEMU's qcow2 driver.
#[cfg_attr(
    any(lacks = "boot", lacks = "qemu-img"),
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot and qemu-img; .ci/run installs them"
)]
#[test]
fn qcow2_compressed_appliance_boots() {
    require_boot_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/appliance/build.sh");
    let out = dir.path().join("qcow2");
    run_ok(
        Command::new("bash")
            .arg(script)
            .arg(&out)
            .arg("qcow2-ok")
            .env("NIX_REPART", bin())
            .env("FORMAT", "qcow2-compressed"),
    );
    let log = boot_as(&out.join("appliance.qcow2"), dir.path(), "qcow2");
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: qcow2-ok fstype=squashfs partitions=2 labels=boot,nix-store,",
        "serial log:\n{log}"
    );
}

/// The store as erofs compressed with lz4hc: nix-repart keeps mkfs.erofs's
/// 4096-byte blocks (systemd-repart 262 makes 512-byte blocks on 512-byte
/// sectors, whose compressed files Linux 6.1 cannot read), and Debian's
/// 6.1 kernel reads the compressed payload whole.
#[cfg_attr(
    lacks = "boot",
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, systemd-repart, gdisk, fdisk, loop devices and e2fsprogs; .ci/run installs them"
)]
#[test]
fn compressed_erofs_store_boots() {
    require_boot_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let image = build_appliance_with(dir.path(), "erofs-ok", "erofs-ok", "erofs");
    let log = boot(&image, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: erofs-ok fstype=erofs partitions=2 labels=boot,nix-store,",
        "serial log:\n{log}"
    );
}

/// The appliance with a dm-verity protected erofs store: the initrd opens it
/// with veritysetup from the root hash on the kernel command line.
/// `roothash` replaces the right one there.
fn build_verity(dir: &Path, roothash: Option<&str>) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/appliance/build.sh");
    let out = dir.join(format!("verity-{}", roothash.map_or("right", |_| "wrong")));
    let mut command = Command::new("bash");
    command.arg(script).arg(&out).arg("verity-ok").env("NIX_REPART", bin()).env("ROOT_FORMAT", "verity");
    if let Some(hash) = roothash {
        command.env("VERITY_ROOTHASH", hash);
    }
    run_ok(&mut command);
    out.join("appliance.raw")
}

/// Flips one bit of the first `needle` inside the partition labelled `label`.
fn flip_in_partition(image: &Path, label: &str, needle: &[u8]) {
    use std::os::unix::fs::FileExt;
    let report = image.with_file_name("repart-output.json");
    let entries: serde_json::Value = serde_json::from_slice(&fs::read(report).expect("report")).expect("json");
    let entry = entries.as_array().expect("array").iter().find(|e| e["label"] == label).expect("partition");
    let (offset, size) = (entry["offset"].as_u64().expect("offset"), entry["raw_size"].as_u64().expect("size"));
    let file = fs::OpenOptions::new().read(true).write(true).open(image).expect("open");
    let mut bytes = vec![0u8; size as usize];
    file.read_exact_at(&mut bytes, offset).expect("read");
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("needle in the partition");
    file.write_all_at(&[bytes[at] ^ 1], offset + at as u64).expect("write");
}

#[cfg_attr(
    any(lacks = "boot", lacks = "verity-tools"),
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, veritysetup and dmsetup; .ci/run installs them"
)]
#[test]
fn verity_store_boots_and_a_flipped_byte_or_a_wrong_root_hash_does_not() {
    require_boot_tools();
    require_tools(&["veritysetup"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = build_verity(dir.path(), None);
    let log = boot(&image, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-OK: verity-ok fstype=erofs partitions=3 labels=boot,nix-store,nix-store-verity, verity=store",
        "serial log:\n{log}"
    );
    // One bit of the marker's data: dm-verity refuses the block.
    flip_in_partition(&image, "nix-store", b"verity-ok");
    let log = boot(&image, dir.path());
    let line = result_line(&log);
    assert!(line.starts_with("NIX-REPART-BOOT-FAIL:") && line.contains("is corrupted"), "{line}\n{log}");
    // A root hash that is not the tree's.
    let image = build_verity(dir.path(), Some(&"0".repeat(64)));
    let log = boot(&image, dir.path());
    let line = result_line(&log);
    assert!(line.starts_with("NIX-REPART-BOOT-FAIL:") && line.contains("is corrupted"), "{line}\n{log}");
}

#[cfg_attr(
    lacks = "boot",
    ignore = "needs QEMU, OVMF, busybox, cpio, systemd-boot, systemd-repart, gdisk, fdisk, loop devices and e2fsprogs; .ci/run installs them"
)]
#[test]
fn broken_images_do_not_boot() {
    require_boot_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    // The store holds another marker than the kernel command line expects.
    let image = build_appliance(dir.path(), "appliance-ok", "something-else");
    let log = boot(&image, dir.path());
    assert_eq!(
        result_line(&log),
        "NIX-REPART-BOOT-FAIL: marker is 'something-else', expected 'appliance-ok'",
        "serial log:\n{log}"
    );
    // A zeroed ESP: the firmware finds nothing to boot on the disk.
    let image = build_appliance(dir.path(), "appliance-ok", "appliance-ok");
    let esp = table(&image)[0].clone();
    let file = fs::OpenOptions::new().write(true).open(&image).expect("open");
    std::os::unix::fs::FileExt::write_all_at(&file, &vec![0u8; esp.2 as usize], esp.1).expect("zero the ESP");
    let log = boot(&image, dir.path());
    assert!(not_bootable(&log), "OVMF did not report the disk as unbootable:\n{log}");
    assert!(!log.contains(OK) && !log.contains(FAIL), "something booted:\n{log}");
}
