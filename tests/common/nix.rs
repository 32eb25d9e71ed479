//! Nix commands for the tests, with the settings a new machine needs, and
//! the nixpkgs the module tests evaluate against: `../shared/nixpkgs`, else
//! `<nixpkgs>` from NIX_PATH, else flake.lock's pin fetched with
//! `builtins.fetchTarball`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::run;

/// The settings every Nix command here runs with: no daemon, substituters
/// or sandbox, and no build users. A new Debian machine has no `nixbld`
/// group (nix-bin installed without recommends creates none) and no
/// /etc/nix/nix.conf, so the tests never rely on either.
pub const NIX_CONFIG: &str = "substituters =\nsandbox = false\nbuild-users-group =";

/// A Nix command with [`NIX_CONFIG`]. The first one in this process
/// initialises the Nix state once: on a new machine, Nix commands started
/// in parallel race to create /nix/var/nix and fail with "File exists".
pub fn nix(tool: &str) -> Command {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let out = run(Command::new("nix-store").arg("--init").env("NIX_CONFIG", NIX_CONFIG));
        assert!(out.status.success(), "nix-store --init: {}", String::from_utf8_lossy(&out.stderr));
    });
    let mut cmd = Command::new(tool);
    cmd.env("NIX_CONFIG", NIX_CONFIG).current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// nixpkgs' lib and image modules, or `None` (the test is then skipped
/// with the reason, and fails under CI).
fn find_nixpkgs() -> Option<PathBuf> {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/nixpkgs");
    let usable = |p: &PathBuf| p.join("lib/default.nix").exists() && p.join("nixos/modules/image/repart.nix").exists();
    if usable(&shared) {
        return Some(shared);
    }
    let out = nix("nix-instantiate").args(["--find-file", "nixpkgs"]).output().ok()?;
    let found = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if usable(&found) {
        return Some(found);
    }
    fetch_pinned().filter(usable)
}

/// The flake.lock pin, with `builtins.fetchTarball` (on a machine with
/// network; `None` without).
fn fetch_pinned() -> Option<PathBuf> {
    let lock: Value = serde_json::from_slice(&std::fs::read("flake.lock").ok()?).ok()?;
    let locked = &lock["nodes"]["nixpkgs"]["locked"];
    let (rev, hash) = (locked["rev"].as_str()?, locked["narHash"].as_str()?);
    let expr = format!(
        r#"builtins.fetchTarball {{ url = "https://github.com/NixOS/nixpkgs/archive/{rev}.tar.gz"; sha256 = "{hash}"; }}"#
    );
    let out = nix("nix-instantiate").args(["--eval", "--json", "-E", &expr]).output().ok()?;
    let path: String = serde_json::from_slice(&out.stdout).ok()?;
    Some(PathBuf::from(path))
}

/// nixpkgs for the module tests, or `None` outside CI (the test then
/// says so and checks nothing; under `CI=true` it fails).
pub fn require_nixpkgs() -> Option<PathBuf> {
    super::require_tool("nix-instantiate");
    let found = find_nixpkgs();
    if found.is_none() {
        assert!(
            !super::in_ci(),
            "no nixpkgs: not ../shared/nixpkgs, not <nixpkgs> in NIX_PATH, and flake.lock's pin cannot be fetched"
        );
        eprintln!("no nixpkgs (../shared/nixpkgs or <nixpkgs>): not evaluated");
    }
    found
}
