//! Store paths named by a spec, made real under a temporary root, so that
//! specs produced by the Nix side (whose store paths do not exist here)
//! can be planned and built: every path becomes a directory with a README,
//! or a 4 KiB file where a file is expected.

use serde_json::Value;
use std::path::Path;

pub const STORE: &str = "/nix/store/";

/// Every store path string in the spec, and whether it must be a directory.
pub fn store_paths(spec: &Value) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for partition in spec["partitions"].as_array().unwrap() {
        for (target, entry) in partition["contents"].as_object().unwrap() {
            found.push((entry["source"].as_str().unwrap().to_string(), target.ends_with('/')));
        }
        for path in partition["storePaths"].as_array().unwrap() {
            found.push((path.as_str().unwrap().to_string(), true));
        }
        let copy_files = &partition["repartConfig"]["CopyFiles"];
        let lines: Vec<&str> = match copy_files {
            Value::String(line) => vec![line],
            Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        for line in lines {
            found.push((line.split(':').next().unwrap().to_string(), true));
        }
    }
    // A path that another lies under is a directory too.
    let all: Vec<String> = found.iter().map(|(p, _)| p.clone()).collect();
    found
        .into_iter()
        .map(|(p, dir)| {
            let parent = all.iter().any(|other| other.starts_with(&format!("{p}/")));
            (p, dir || parent)
        })
        .collect()
}

pub fn materialize(root: &Path, paths: &[(String, bool)]) {
    for (path, dir) in paths.iter().filter(|(_, dir)| *dir) {
        let at = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join("README"), format!("made for {path}\n")).unwrap();
        let _ = dir;
    }
    for (path, _) in paths.iter().filter(|(_, dir)| !*dir) {
        let at = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, vec![0x5a; 4096]).unwrap();
    }
}

/// `spec` (JSON text) with every store path moved under `root`, which gets
/// them made; returns the new text.
pub fn onto_temp_store(spec: &str, root: &Path) -> String {
    let value: Value = serde_json::from_str(spec).expect("spec json");
    materialize(root, &store_paths(&value));
    spec.replace(STORE, &format!("{}{STORE}", root.display()))
}
