//! systemd-boot's two text files on an ESP (`systemdBoot`):
//! `loader/loader.conf` and `loader/entries/nixos-generation-1.conf`,
//! written into the work directory and added to the ESP's contents (the
//! EFI binary, kernel and initrd are added by the spec crate, which read
//! the bootspec). mtimes `SOURCE_DATE_EPOCH`.

use nix_repart_spec::{Content, Partition};

use super::generated;
use crate::context::Build;
use crate::error::ImageError;

/// `p` with the loader files added, or `None` when it asks for none.
pub fn with_loader(b: &Build, p: &Partition) -> Result<Option<Partition>, ImageError> {
    let Some(boot) = &p.systemd_boot else { return Ok(None) };
    let dir = generated::dir(b, "systemd-boot", &p.id)
        .map_err(|source| ImageError::Write { path: b.work.to_path_buf(), source })?;
    let io = |source| ImageError::Write { path: dir.clone(), source };
    let mut with = p.clone();
    for (name, text, target) in [
        ("loader.conf", &boot.loader_conf, "/loader/loader.conf"),
        ("entry.conf", &boot.entry, "/loader/entries/nixos-generation-1.conf"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io)?;
        generated::stamp(b, &path).map_err(io)?;
        with.contents.push(Content::plain(target, path));
    }
    Ok(Some(with))
}
