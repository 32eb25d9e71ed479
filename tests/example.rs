//! The bundled example (`examples/layout`) builds, and its ESP holds what
//! a UEFI machine looks for: `EFI/BOOT/BOOTX64.EFI` (systemd-boot) and the
//! loader configuration and entries.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use common::*;

const SYSTEMD_BOOT: &str = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";

fn read_file<T: fatfs::ReadWriteSeek>(fs: &fatfs::FileSystem<T>, path: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    fs.root_dir().open_file(path).unwrap_or_else(|e| panic!("{path}: {e}")).read_to_end(&mut bytes).expect("read");
    bytes
}

#[cfg_attr(
    any(lacks = "dosfstools", lacks = "gpt-tools", lacks = "systemd-boot-efi"),
    ignore = "needs dosfstools and mtools, sfdisk and sgdisk, systemd-boot-efi; .ci/run installs them"
)]
#[test]
fn bundled_example_has_a_bootable_esp_layout() {
    require_tools(&[SYSTEMD_BOOT, "fsck.vfat", "sgdisk"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/layout/spec.json");
    let out = dir.path().join("out");
    build_ok(&spec, &out, &[]);
    let image = out.join("layout_1.raw");
    assert_sgdisk_clean(&image.to_string_lossy());
    let (offset, size) = partitions(&out)[0];
    let esp = dir.path().join("esp.img");
    extract(&image, offset, size, &esp);
    run_ok(Command::new("fsck.vfat").arg("-n").arg(&esp));
    let file = fs::OpenOptions::new().read(true).write(true).open(&esp).expect("open");
    let fs = fatfs::FileSystem::new(file, fatfs::FsOptions::new()).expect("fatfs");
    assert_eq!(fs.volume_label(), "BOOT");
    assert_eq!(read_file(&fs, "EFI/BOOT/BOOTX64.EFI"), fs::read(SYSTEMD_BOOT).expect("systemd-boot"));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/layout/esp");
    for path in ["loader/loader.conf", "loader/entries/example.conf"] {
        assert_eq!(read_file(&fs, path), fs::read(examples.join(path)).expect("example file"), "{path}");
    }
}
