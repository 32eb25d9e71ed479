//! `nixDatabase` and `nixProfiles`: a partition whose store is registered
//! in a Nix database inside it (`/nix/var/nix/db`), and the profiles that
//! point into it (`/nix/var/nix/profiles/<name>` -> `<name>-1-link` ->
//! the store path), as make-disk-image installs a NixOS system. The
//! registrations come from the `exportReferencesGraph` array of the
//! partition's `closure` (narHash, narSize, references, deriver, ca); the
//! database itself is written by the build (crate nixdb).

use crate::error::ProblemKind;
use crate::model::Partition;
use crate::nix32::nix32_to_hex;
use crate::raw::{RawClosure, RawPartition};
use crate::validate::Checker;

/// One registered store path, as the database stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRegistration {
    pub path: String,
    /// `sha256:<base16>`.
    pub hash: String,
    pub nar_size: u64,
    pub references: Vec<String>,
    pub deriver: Option<String>,
    pub ca: Option<String>,
}

/// What a partition's Nix database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixDatabase {
    /// Every path of the closure, in byte order of the paths.
    pub registrations: Vec<StoreRegistration>,
    /// `(name, store path)`.
    pub profiles: Vec<(String, String)>,
}

pub(crate) fn check(c: &mut Checker, pointer: &str, raw: &RawPartition, p: &mut Partition) {
    let wanted = raw.nix_database == Some(true);
    if !wanted {
        if !raw.nix_profiles.is_empty() {
            c.problem(
                format!("{pointer}/nixProfiles"),
                ProblemKind::ProfilesWithoutDatabase { partition: p.id.clone() },
            );
        }
        return;
    }
    let here = format!("{pointer}/nixDatabase");
    if p.nix_store_prefix != "/nix/store" {
        let kind = ProblemKind::NixDatabasePrefix { partition: p.id.clone(), prefix: p.nix_store_prefix.clone() };
        c.problem(&here, kind);
        return;
    }
    if !p
        .format
        .is_some_and(|f| matches!(f, crate::Format::Ext(_) | crate::Format::Squashfs(_) | crate::Format::Erofs(_)))
    {
        c.problem(&here, ProblemKind::NixDatabaseFormat { partition: p.id.clone() });
        return;
    }
    let Some(RawClosure::Paths(entries)) = &raw.closure else {
        c.problem(&here, ProblemKind::ClosureWithoutRegistration { partition: p.id.clone(), path: None });
        return;
    };
    let mut registrations = Vec::with_capacity(entries.len());
    for e in entries {
        let hash = e.nar_hash.as_deref().and_then(nix32_to_hex);
        let (Some(hash), Some(nar_size), Some(references)) = (hash, e.nar_size, e.references.clone()) else {
            let kind = ProblemKind::ClosureWithoutRegistration { partition: p.id.clone(), path: Some(e.path.clone()) };
            c.problem(format!("{pointer}/closure"), kind);
            return;
        };
        registrations.push(StoreRegistration {
            path: e.path.clone(),
            hash,
            nar_size,
            references,
            deriver: e.deriver.clone(),
            ca: e.ca.clone(),
        });
    }
    registrations.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    registrations.dedup_by(|a, b| a.path == b.path);
    let mut profiles = Vec::new();
    for (name, target) in &raw.nix_profiles {
        let at = format!("{pointer}/nixProfiles/{name}");
        // Names may nest (`per-user/root/channels`), never climb out.
        let valid_name = !name.is_empty()
            && name.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        match target {
            Some(t) if valid_name && registrations.iter().any(|r| &r.path == t) => {
                profiles.push((name.clone(), t.clone()))
            }
            Some(t) if valid_name => {
                c.problem(at, ProblemKind::ProfileOutsideClosure { partition: p.id.clone(), path: t.clone() });
            }
            _ => c.problem(at, ProblemKind::BadProfileName { name: name.clone() }),
        }
    }
    p.nix_database = Some(NixDatabase { registrations, profiles });
}
