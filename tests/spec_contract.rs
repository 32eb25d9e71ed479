//! The other side of the spec contract: the specs under `tests/specs`,
//! which `nix/lib/spec.nix` produces from the fixtures of
//! `tests/nix/fixtures` (checked in `tests/nix.rs`), are specs nix-repart
//! accepts and plans. Their store paths do not exist here, so each spec is
//! rewritten onto a temporary store in which every path it names is made.

mod common;

use std::path::Path;
use std::process::Command;

use common::run;
use serde_json::Value;

use common::store::{materialize, store_paths, STORE};

#[test]
fn golden_specs_are_specs_nix_repart_plans() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let spec: Value = serde_json::from_str(&text).unwrap();
        assert!(!store_paths(&spec).is_empty() || name == "none", "{name} names no store paths");
        let tmp = tempfile::tempdir().unwrap();
        let store = format!("{}{STORE}", tmp.path().display());
        let moved: Value = serde_json::from_str(&text.replace(STORE, &store)).unwrap();
        materialize(tmp.path(), &store_paths(&spec));
        let spec_file = tmp.path().join("spec.json");
        std::fs::write(&spec_file, moved.to_string()).unwrap();
        let out = run(Command::new(common::bin()).arg("plan").arg(&spec_file));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ids: Vec<&str> = spec["partitions"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        let planned: Vec<&str> =
            plan["partitions"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        assert_eq!(planned, ids, "{name}: partitions planned in id order");
        seen += 1;
    }
    assert!(seen >= 3, "the fixtures of tests/nix/fixtures give at least three specs");
}
