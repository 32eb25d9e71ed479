//! `systemdBoot` on an ESP: systemd-boot installed without running the
//! system, as NixOS's `switch-to-configuration boot` installs it: the EFI
//! binary at `/EFI/systemd/systemd-bootx64.efi` and `/EFI/BOOT/BOOTX64.EFI`,
//! the kernel and initrd of the toplevel's bootspec (`boot.json`,
//! `org.nixos.bootspec.v1`) copied to `/EFI/nixos/<store dir>-<file>.efi`,
//! `loader/loader.conf` and `loader/entries/nixos-generation-1.conf`. The
//! bootspec is read here, at validation; the two text files are written by
//! the build (crate image, content::boot_loader).

use std::path::Path;

use serde_json::Value;

use crate::error::ProblemKind;
use crate::model::{Content, Partition};
use crate::validate::Checker;

/// What the build writes for systemd-boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemdBoot {
    /// `loader/loader.conf`.
    pub loader_conf: String,
    /// `loader/entries/nixos-generation-1.conf`.
    pub entry: String,
}

/// The raw `systemdBoot` object: toplevel, EFI binary, timeout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSystemdBoot {
    pub toplevel: Option<String>,
    pub efi: Option<String>,
    pub timeout: Option<u64>,
}

pub(crate) fn check(c: &mut Checker, pointer: &str, raw: &RawSystemdBoot, p: &mut Partition) {
    let here = format!("{pointer}/systemdBoot");
    if p.partition_type.designator != crate::Designator::Esp || p.format != Some(crate::Format::Vfat) {
        c.problem(&here, ProblemKind::SystemdBootNotOnEsp { partition: p.id.clone() });
        return;
    }
    let (Some(toplevel), Some(efi)) = (&raw.toplevel, &raw.efi) else {
        c.problem(&here, ProblemKind::Missing);
        return;
    };
    let spec = match read_bootspec(Path::new(toplevel)) {
        Ok(spec) => spec,
        Err(reason) => {
            let kind = ProblemKind::Bootspec { partition: p.id.clone(), toplevel: toplevel.clone(), reason };
            c.problem(format!("{here}/toplevel"), kind);
            return;
        }
    };
    let add = |target: String, source: &str| Content::plain(target, source);
    p.contents.push(add("/EFI/systemd/systemd-bootx64.efi".into(), efi));
    p.contents.push(add("/EFI/BOOT/BOOTX64.EFI".into(), efi));
    let kernel = efi_name(&spec.kernel);
    let initrd = efi_name(&spec.initrd);
    p.contents.push(add(format!("/EFI/nixos/{kernel}"), &spec.kernel));
    p.contents.push(add(format!("/EFI/nixos/{initrd}"), &spec.initrd));
    let timeout = raw.timeout.unwrap_or(5);
    let loader_conf = format!("timeout {timeout}\ndefault nixos-generation-1.conf\nconsole-mode keep\neditor 0\n");
    let options =
        std::iter::once(format!("init={}", spec.init)).chain(spec.kernel_params).collect::<Vec<_>>().join(" ");
    let entry = format!(
        "title {label}\nversion Generation 1 {label}\nlinux /EFI/nixos/{kernel}\ninitrd /EFI/nixos/{initrd}\noptions {options}\nsort-key nixos\n",
        label = spec.label
    );
    p.systemd_boot = Some(SystemdBoot { loader_conf, entry });
}

/// `<store dir>-<file name>.efi`, as NixOS's systemd-boot builder names a
/// kernel or initrd on the ESP.
fn efi_name(path: &str) -> String {
    let p = Path::new(path);
    let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = p.parent().and_then(Path::file_name).map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
    format!("{dir}-{file}.efi")
}

struct Bootspec {
    kernel: String,
    initrd: String,
    init: String,
    kernel_params: Vec<String>,
    label: String,
}

fn read_bootspec(toplevel: &Path) -> Result<Bootspec, String> {
    let file = toplevel.join("boot.json");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("boot.json is not JSON: {e}"))?;
    let v1 = doc.get("org.nixos.bootspec.v1").ok_or("boot.json has no org.nixos.bootspec.v1")?;
    let text =
        |key: &str| v1.get(key).and_then(Value::as_str).map(str::to_string).ok_or(format!("boot.json has no {key}"));
    let kernel_params = v1
        .get("kernelParams")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Bootspec {
        kernel: text("kernel")?,
        initrd: text("initrd")?,
        init: text("init")?,
        kernel_params,
        label: text("label")?,
    })
}
