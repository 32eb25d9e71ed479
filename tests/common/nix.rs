//! Nix commands for the tests, with the settings a new machine needs.

use std::process::Command;

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
