//! A partition's Nix database (`nixDatabase`, `nixProfiles`): written into
//! the work directory before the partition's tree is read, then added to
//! the tree as contents (`/nix/var/nix/db/db.sqlite`, `/nix/var/nix/db/schema`)
//! and symlinks (`/nix/var/nix/profiles/<name>` -> `<name>-1-link` -> the
//! store path), every mtime `SOURCE_DATE_EPOCH`, every registration time
//! too.

use std::path::PathBuf;

use nix_repart_spec::{Content, Partition};

use super::generated;
use crate::context::Build;
use crate::error::ImageError;

/// `p` with its database's files and profile links added, or `p` as it is.
pub fn with_database(b: &Build, p: &Partition) -> Result<Option<Partition>, ImageError> {
    let Some(db) = &p.nix_database else { return Ok(None) };
    let dir = generated::dir(b, "nix-db", &p.id)
        .map_err(|source| ImageError::Write { path: b.work.to_path_buf(), source })?;
    let io = |source| ImageError::Write { path: dir.clone(), source };
    let epoch = i64::try_from(b.options.source_date_epoch).unwrap_or(i64::MAX);
    let sqlite = dir.join("db.sqlite");
    let _ = std::fs::remove_file(&sqlite);
    nix_repart_nixdb::write(&sqlite, &db.registrations, epoch)
        .map_err(|source| ImageError::NixDatabase { partition: p.id.clone(), source })?;
    let schema = dir.join("schema");
    std::fs::write(&schema, nix_repart_nixdb::SCHEMA_VERSION).map_err(io)?;
    for file in [&sqlite, &schema] {
        generated::stamp(b, file).map_err(io)?;
    }
    let mut with = p.clone();
    let add = |target: &str, source: PathBuf| Content::plain(target, source);
    with.contents.push(add("/nix/var/nix/db/db.sqlite", sqlite));
    with.contents.push(add("/nix/var/nix/db/schema", schema));
    for (name, target) in &db.profiles {
        let base = name.rsplit('/').next().unwrap_or(name);
        with.make_symlinks.push((format!("/nix/var/nix/profiles/{name}"), format!("{base}-1-link")));
        with.make_symlinks.push((format!("/nix/var/nix/profiles/{name}-1-link"), target.clone()));
    }
    Ok(Some(with))
}
