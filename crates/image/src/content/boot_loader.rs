//! systemd-boot's two text files on an ESP (`systemdBoot`):
//! `loader/loader.conf` and `loader/entries/nixos-generation-1.conf`,
//! written into the work directory and added to the ESP's contents (the
//! EFI binary, kernel and initrd are added by the spec crate, which read
//! the bootspec). mtimes `SOURCE_DATE_EPOCH`.

use std::time::{Duration, UNIX_EPOCH};

use nix_repart_spec::{Content, Partition};

use crate::context::Build;
use crate::error::ImageError;

/// `p` with the loader files added, or `None` when it asks for none.
pub fn with_loader(b: &Build, p: &Partition) -> Result<Option<Partition>, ImageError> {
    let Some(boot) = &p.systemd_boot else { return Ok(None) };
    let dir = b.work.join(format!("systemd-boot-{}", p.id));
    let io = |source| ImageError::Write { path: dir.clone(), source };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut with = p.clone();
    for (name, text, target) in [
        ("loader.conf", &boot.loader_conf, "/loader/loader.conf"),
        ("entry.conf", &boot.entry, "/loader/entries/nixos-generation-1.conf"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io)?;
        let file = std::fs::File::options().write(true).open(&path).map_err(io)?;
        let when = UNIX_EPOCH + Duration::from_secs(b.options.source_date_epoch);
        file.set_times(std::fs::FileTimes::new().set_modified(when)).map_err(io)?;
        with.contents.push(Content { target: target.to_string(), source: path });
    }
    Ok(Some(with))
}
