//! `nixDatabase`: the Nix database nix-repart writes into a partition,
//! read back by Debian's Nix 2.8 with `--store local?root=` pointed at the
//! partition's files (debugfs rdump): it lists exactly the closure with
//! its references, `--verify --check-contents` passes, and it holds the
//! same rows and schema as a database `nix-store --load-db` makes from the
//! same paths. The file is byte-identical across builds, `--jobs` and the
//! closure's order; the profile links point at the system.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::nix::nix;
use common::{build_ok, extract, require_tools, run, run_ok};
use serde_json::{json, Value};

/// The test closure (tests/nix/database/closure.nix): top's store path and
/// the exportReferencesGraph array of its closure.
fn closure() -> (String, Vec<Value>) {
    let built = |attr: &str| {
        let out = run_ok(nix("nix-build").args(["tests/nix/database/closure.nix", "-A", attr, "--no-out-link"]));
        out.trim().to_string()
    };
    let top = built("top");
    let attrs: Value = serde_json::from_slice(&std::fs::read(built("attrs")).expect("attrs")).expect("json");
    (top, attrs["closure"].as_array().expect("closure").clone())
}

fn build(dir: &Path, name: &str, top: &str, closure: &[Value], jobs: &str) -> PathBuf {
    let spec = json!({ "version": 1, "name": "sys", "partitions": [{ "id": "10-root",
        "repartConfig": { "Type": "root", "Format": "ext4", "Minimize": "guess" },
        "closure": closure, "nixDatabase": true, "nixProfiles": { "system": top } }] });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, spec.to_string()).expect("spec");
    let out = dir.join(name);
    build_ok(&path, &out, &["--jobs", jobs]);
    out
}

/// The root partition's files, by debugfs rdump.
fn root_files(out: &Path, to: &Path) -> PathBuf {
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("repart-output.json")).expect("report")).expect("json");
    let e = &report[0];
    let fs = to.with_extension("img");
    extract(&out.join("sys.raw"), e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("size"), &fs);
    std::fs::create_dir_all(to).expect("mkdir");
    run_ok(Command::new("debugfs").arg("-R").arg(format!("rdump / {}", to.display())).arg(&fs));
    to.to_path_buf()
}

fn store(root: &Path) -> String {
    format!("local?root={}", root.display())
}

/// Rows of a database, as text: paths with hash and size; references by
/// path; and the schema. (Not the deriver and content address: the dump
/// `--load-db` reads has no content address, and Nix 2.8's
/// exportReferencesGraph no deriver; checked on their own below.)
fn rows(db: &Path) -> Vec<String> {
    let query = |sql: &str| run_ok(Command::new("sqlite3").arg(db).arg(sql));
    vec![
        query("select path, hash, narSize from ValidPaths order by path"),
        query(
            "select a.path, b.path from Refs join ValidPaths a on a.id = referrer join ValidPaths b on b.id = reference order by 1, 2",
        ),
        query("select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by name"),
    ]
}

#[cfg_attr(
    any(lacks = "nix", lacks = "e2fsprogs", lacks = "sqlite3"),
    ignore = "needs Nix (nix-bin), e2fsprogs and sqlite3; .ci/run installs them"
)]
#[test]
fn the_database_registers_the_closure_for_nix() {
    require_tools(&["nix-build", "nix-store", "debugfs", "sqlite3"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (top, closure) = closure();
    let out = build(dir.path(), "one", &top, &closure, "1");
    let root = root_files(&out, &dir.path().join("root-one"));
    // Nix sees exactly the closure, with its references.
    let listed = |args: &[&str]| -> Vec<String> {
        let text = run_ok(nix("nix-store").arg("--store").arg(store(&root)).args(args).arg(&top));
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let mut expected: Vec<String> = closure.iter().map(|e| e["path"].as_str().expect("path").to_string()).collect();
    expected.sort();
    assert_eq!(listed(&["--query", "--requisites"]), expected);
    let references: Vec<String> = closure.iter().find(|e| e["path"] == top.as_str()).expect("top")["references"]
        .as_array()
        .expect("refs")
        .iter()
        .map(|r| r.as_str().expect("ref").to_string())
        .collect();
    assert_eq!(listed(&["--query", "--references"]), references);
    let verify = run(nix("nix-store").arg("--store").arg(store(&root)).args(["--verify", "--check-contents"]));
    let said = String::from_utf8_lossy(&verify.stderr).into_owned();
    assert!(verify.status.success() && !said.contains("modified") && !said.contains("error"), "{said}");
    // The profile: system -> system-1-link -> top.
    let profiles = root.join("nix/var/nix/profiles");
    assert_eq!(std::fs::read_link(profiles.join("system")).expect("link"), Path::new("system-1-link"));
    assert_eq!(std::fs::read_link(profiles.join("system-1-link")).expect("link"), Path::new(&top));
    // The same rows and schema as nix-store --load-db gives.
    let loaded = dir.path().join("loaded");
    let dump = run_ok(nix("nix-store").arg("--dump-db").args(&expected));
    let dump_file = dir.path().join("dump");
    std::fs::write(&dump_file, dump).expect("dump");
    let load = run(nix("nix-store")
        .arg("--store")
        .arg(store(&loaded))
        .arg("--load-db")
        .stdin(std::fs::File::open(&dump_file).expect("dump")));
    assert!(load.status.success(), "--load-db: {}", String::from_utf8_lossy(&load.stderr));
    assert_eq!(rows(&root.join("nix/var/nix/db/db.sqlite")), rows(&loaded.join("nix/var/nix/db/db.sqlite")));
    assert_eq!(std::fs::read_to_string(root.join("nix/var/nix/db/schema")).expect("schema"), "10");
    // Content addresses as exportReferencesGraph gives them, and every
    // registration at SOURCE_DATE_EPOCH (the build's default here).
    let db = root.join("nix/var/nix/db/db.sqlite");
    for entry in &closure {
        let path = entry["path"].as_str().expect("path");
        let got = run_ok(
            Command::new("sqlite3")
                .arg(&db)
                .arg(format!("select coalesce(ca, '') from ValidPaths where path = '{path}'")),
        );
        assert_eq!(got.trim(), entry["ca"].as_str().unwrap_or(""), "ca of {path}");
    }
    let times = run_ok(Command::new("sqlite3").arg(&db).arg("select distinct registrationTime from ValidPaths"));
    assert_eq!(times.lines().count(), 1, "one registration time: {times}");
}

#[cfg_attr(
    any(lacks = "nix", lacks = "e2fsprogs"),
    ignore = "needs Nix (nix-bin) and e2fsprogs; .ci/run installs them"
)]
#[test]
fn the_database_is_the_same_across_builds_jobs_and_closure_order() {
    require_tools(&["nix-build", "debugfs"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (top, closure) = closure();
    let mut reversed = closure.clone();
    reversed.reverse();
    let dbs: Vec<Vec<u8>> = [("a", &closure, "1"), ("b", &reversed, "4"), ("c", &closure, "2")]
        .iter()
        .map(|(name, closure, jobs)| {
            let out = build(dir.path(), name, &top, closure, jobs);
            let root = root_files(&out, &dir.path().join(format!("root-{name}")));
            std::fs::read(root.join("nix/var/nix/db/db.sqlite")).expect("db")
        })
        .collect();
    assert!(dbs[0] == dbs[1] && dbs[0] == dbs[2], "the database differs between builds");
}
