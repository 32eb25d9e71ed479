//! `systemdBoot`: systemd-boot installed on the ESP from a toplevel's
//! bootspec, as NixOS's switch-to-configuration does: the files it writes,
//! read back with mtools (the boot test boots such an ESP), and the errors.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn toplevel(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("store/abc-linux-6.6");
    std::fs::create_dir_all(&store).expect("mkdir");
    std::fs::write(store.join("bzImage"), b"a kernel").expect("kernel");
    let initrd = dir.join("store/def-initrd-linux-6.6");
    std::fs::create_dir_all(&initrd).expect("mkdir");
    std::fs::write(initrd.join("initrd"), b"an initrd").expect("initrd");
    let top = dir.join("toplevel");
    std::fs::create_dir_all(&top).expect("mkdir");
    let spec = serde_json::json!({ "org.nixos.bootspec.v1": {
        "kernel": store.join("bzImage"), "initrd": initrd.join("initrd"), "init": "/nix/store/xyz-nixos-system/init",
        "kernelParams": ["console=ttyS0", "quiet"], "label": "NixOS 26.11 (Linux 6.6)", "system": "x86_64-linux" } });
    std::fs::write(top.join("boot.json"), spec.to_string()).expect("bootspec");
    std::fs::write(dir.join("systemd-bootx64.efi"), b"MZ systemd-boot").expect("efi");
    top
}

fn spec(dir: &Path, esp: serde_json::Value) -> std::path::PathBuf {
    let spec = serde_json::json!({ "version": 1, "name": "b", "partitions": [esp] });
    let path = dir.join("spec.json");
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn the_esp_holds_what_switch_to_configuration_would_write() {
    require_tools(&["mtype"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let top = toplevel(dir.path());
    let esp = serde_json::json!({ "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" },
        "systemdBoot": { "toplevel": top, "efi": dir.path().join("systemd-bootx64.efi") } });
    let out = dir.path().join("out");
    build_ok(&spec(dir.path(), esp), &out, &[]);
    let (offset, size) = partitions(&out)[0];
    let part = dir.path().join("esp.img");
    extract(&out.join("b.raw"), offset, size, &part);
    let read = |file: &str| run_ok(Command::new("mtype").arg("-i").arg(&part).arg(format!("::{file}")));
    assert_eq!(
        read("/loader/loader.conf"),
        "timeout 5\ndefault nixos-generation-1.conf\nconsole-mode keep\neditor 0\n"
    );
    assert_eq!(
        read("/loader/entries/nixos-generation-1.conf"),
        "title NixOS 26.11 (Linux 6.6)\nversion Generation 1 NixOS 26.11 (Linux 6.6)\n\
         linux /EFI/nixos/abc-linux-6.6-bzImage.efi\ninitrd /EFI/nixos/def-initrd-linux-6.6-initrd.efi\n\
         options init=/nix/store/xyz-nixos-system/init console=ttyS0 quiet\nsort-key nixos\n"
    );
    assert_eq!(read("/EFI/nixos/abc-linux-6.6-bzImage.efi"), "a kernel");
    assert_eq!(read("/EFI/nixos/def-initrd-linux-6.6-initrd.efi"), "an initrd");
    assert_eq!(read("/EFI/BOOT/BOOTX64.EFI"), "MZ systemd-boot");
    assert_eq!(read("/EFI/systemd/systemd-bootx64.efi"), "MZ systemd-boot");
}

#[test]
fn systemd_boot_errors_name_the_partition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let top = toplevel(dir.path());
    let cases = [
        (
            serde_json::json!({ "id": "20-root", "repartConfig": { "Type": "root", "Format": "ext4" },
                "systemdBoot": { "toplevel": top, "efi": "/x.efi" } }),
            "error: /partitions/0/systemdBoot: partition 20-root: systemdBoot goes on the ESP (Type=esp, Format=vfat)".to_string(),
        ),
        (
            serde_json::json!({ "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" },
                "systemdBoot": { "toplevel": dir.path(), "efi": "/x.efi" } }),
            format!(
                "error: /partitions/0/systemdBoot/toplevel: partition 10-esp: the bootspec of {0}: cannot read {0}/boot.json: No such file or directory (os error 2)",
                dir.path().display()
            ),
        ),
    ];
    for (esp, expected) in cases {
        let out = build(&spec(dir.path(), esp), &dir.path().join("out"), &[]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().next(), Some(expected.as_str()), "{stderr}");
    }
}
