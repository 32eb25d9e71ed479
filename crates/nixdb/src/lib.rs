//! The Nix database of a store in an image: `/nix/var/nix/db/db.sqlite`
//! with every path of a closure registered (hash, NAR size, references,
//! deriver, content address), in Nix's schema (version 10, as Nix 2.x
//! creates it; the `schema` file holds the version), and every
//! registration time the same, so that `nix-store` and `nixos-rebuild` on
//! the running system know the store. Rows go in in the byte order of
//! their paths, in one transaction, with SQLite bundled at a fixed
//! version: the file is the same on every rebuild.
//!
//! Not here: reading a database, signatures, derivation outputs.

use std::path::Path;

/// The schema version Nix 2.x writes to `/nix/var/nix/db/schema`.
pub const SCHEMA_VERSION: &str = "10";

/// Nix's schema.sql (tables, indexes, trigger) as Nix 2.x executes it.
const SCHEMA: &str = "
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies \"false\"
    sigs             text, -- space-separated
    ca               text -- if not null, an assertion that the path is content-addressed; see ValidPathInfo
);
create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);
create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;
create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null, -- symbolic output id, usually \"out\"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);
create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
";

pub use nix_repart_spec::nix_database::StoreRegistration as Registration;

#[derive(Debug, thiserror::Error)]
pub enum NixDbError {
    #[error("writing the Nix database {path}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path} refers to {reference}, which the closure does not hold")]
    MissingReference { path: String, reference: String },
}

/// Writes a new database at `db` (which must not exist) registering every
/// path of `closure` at `registration_time`.
pub fn write(db: &Path, closure: &[Registration], registration_time: i64) -> Result<(), NixDbError> {
    let shown = db.display().to_string();
    let sqlite = |source| NixDbError::Sqlite { path: shown.clone(), source };
    let mut sorted: Vec<&Registration> = closure.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    sorted.dedup_by(|a, b| a.path == b.path);
    let id_of =
        |path: &str| sorted.binary_search_by(|r| r.path.as_bytes().cmp(path.as_bytes())).ok().map(|i| i as i64 + 1);
    let mut refs: Vec<(i64, i64)> = Vec::new();
    for (i, r) in sorted.iter().enumerate() {
        for reference in &r.references {
            let Some(to) = id_of(reference) else {
                return Err(NixDbError::MissingReference { path: r.path.clone(), reference: reference.clone() });
            };
            refs.push((i as i64 + 1, to));
        }
    }
    refs.sort_unstable();
    refs.dedup();
    let mut conn = rusqlite::Connection::open(db).map_err(sqlite)?;
    conn.execute_batch("pragma page_size = 4096; pragma journal_mode = delete;").map_err(sqlite)?;
    conn.execute_batch(SCHEMA).map_err(sqlite)?;
    let tx = conn.transaction().map_err(sqlite)?;
    {
        let mut insert = tx
            .prepare(
                "insert into ValidPaths (id, path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, null, null, ?7)",
            )
            .map_err(sqlite)?;
        for (i, r) in sorted.iter().enumerate() {
            let size = i64::try_from(r.nar_size).unwrap_or(i64::MAX);
            insert
                .execute(rusqlite::params![i as i64 + 1, r.path, r.hash, registration_time, r.deriver, size, r.ca])
                .map_err(sqlite)?;
        }
        let mut reference = tx.prepare("insert into Refs (referrer, reference) values (?1, ?2)").map_err(sqlite)?;
        for (from, to) in &refs {
            reference.execute(rusqlite::params![from, to]).map_err(sqlite)?;
        }
    }
    tx.commit().map_err(sqlite)?;
    conn.close().map_err(|(_, source)| sqlite(source))
}
