//! Tells the integration tests which external tools this machine lacks, so
//! that a test needing one is reported as *ignored, needs …* by the test
//! runner instead of passing without checking anything. Each group below
//! becomes `cfg(lacks = "<group>")` when one of its tools (a command on
//! PATH, or an absolute path) is missing. Under `CI=true` nothing is
//! marked missing: every test runs, and one whose tool is missing fails
//! (`.ci/run` installs them all). The binary itself does not use these.

use std::path::Path;

/// Groups of tools, by the name the tests use in `cfg(lacks = ...)`.
const GROUPS: &[(&str, &[&str])] = &[
    ("gpt-tools", &["sfdisk", "sgdisk"]),
    ("loop-devices", &["losetup", "/dev/loop-control"]),
    ("dosfstools", &["mkfs.fat", "fsck.vfat", "mcopy", "mtype"]),
    ("systemd-boot-efi", &["/usr/lib/systemd/boot/efi/systemd-bootx64.efi"]),
    ("squashfs-tools", &["unsquashfs"]),
    ("e2fsprogs", &["mke2fs", "e2fsck", "debugfs", "dumpe2fs"]),
    ("erofs-utils", &["mkfs.erofs", "fsck.erofs"]),
    ("swap-tools", &["mkswap", "blkid"]),
    ("verity-tools", &["veritysetup"]),
    ("qemu-img", &["qemu-img"]),
    ("sqlite3", &["sqlite3"]),
    ("systemd-repart", &["systemd-repart"]),
    // systemd-repart 257 and trixie's mkfs tools, fetched by
    // tests/reference/fetch.sh (.ci/run does it).
    ("repart-257", &["/var/cache/nix-repart-reference/trixie/bin/systemd-repart"]),
    ("compressors", &["zstd", "xz"]),
    ("nix", &["nix-instantiate", "nix-build", "nix-store"]),
    // Everything the boot tests use: UEFI firmware, QEMU, an initrd's parts,
    // and systemd-repart growing the image on loop devices.
    (
        "boot",
        &[
            "qemu-system-x86_64",
            "cpio",
            "/usr/share/OVMF/OVMF_CODE_4M.fd",
            "/usr/share/OVMF/OVMF_VARS_4M.fd",
            "/usr/lib/systemd/boot/efi/systemd-bootx64.efi",
            "/bin/busybox",
            "systemd-repart",
            "sfdisk",
            "sgdisk",
            "losetup",
            "/dev/loop-control",
            "mkfs.ext4",
        ],
    ),
];

fn on_path(tool: &str, path: &std::ffi::OsStr) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).exists();
    }
    std::env::split_paths(path).any(|dir| dir.join(tool).is_file())
}

fn main() {
    let names: Vec<String> = GROUPS.iter().map(|(g, _)| format!("\"{g}\"")).collect();
    println!("cargo::rustc-check-cfg=cfg(lacks, values({}))", names.join(", "));
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    let path = std::env::var_os("PATH").unwrap_or_default();
    // Installing a package changes these directories: look again then.
    for dir in std::env::split_paths(&path).filter(|d| d.is_dir()) {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    for file in GROUPS.iter().flat_map(|(_, tools)| tools.iter()).filter(|t| t.starts_with('/')) {
        if let Some(parent) = Path::new(file).parent().filter(|p| p.is_dir() && !p.starts_with("/dev")) {
            println!("cargo::rerun-if-changed={}", parent.display());
        }
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if ci {
        return;
    }
    for (group, tools) in GROUPS {
        if tools.iter().any(|tool| !on_path(tool, &path)) {
            println!("cargo::rustc-cfg=lacks=\"{group}\"");
        }
    }
}
