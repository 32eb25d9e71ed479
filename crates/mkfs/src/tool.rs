//! Running an mkfs tool: a missing tool names its Debian and nixpkgs
//! package; a failure shows the tool's stderr. The environment is pinned
//! (`LC_ALL=C`) so that messages and behaviour do not depend on locale.

use std::ffi::OsStr;
use std::process::Command;

use crate::MkfsError;

/// A tool and the packages that provide it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub name: &'static str,
    pub debian: &'static str,
    pub nixpkgs: &'static str,
}

pub const MKE2FS: Tool = Tool { name: "mke2fs", debian: "e2fsprogs", nixpkgs: "e2fsprogs" };
pub const MKFS_EROFS: Tool = Tool { name: "mkfs.erofs", debian: "erofs-utils", nixpkgs: "erofs-utils" };

/// What a finished tool run left: its stderr, when it failed.
pub enum Outcome {
    Success,
    Failed { status: String, stderr: String },
}

/// Runs `tool` with `args` and extra environment.
pub fn run<I, S>(tool: Tool, args: I, env: &[(&str, &OsStr)]) -> Result<Outcome, MkfsError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(tool.name);
    cmd.args(args).env("LC_ALL", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => {
            MkfsError::ToolMissing { tool: tool.name, debian: tool.debian, nixpkgs: tool.nixpkgs }
        }
        _ => MkfsError::Run { tool: tool.name, source },
    })?;
    if output.status.success() {
        return Ok(Outcome::Success);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = if stderr.trim().is_empty() { stdout } else { stderr };
    let stderr = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" / ");
    Ok(Outcome::Failed { status: output.status.to_string(), stderr })
}
