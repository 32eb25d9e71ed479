//! Running an mkfs tool: a missing tool names its Debian and nixpkgs
//! package; a failure shows the command and the tool's stderr. The tool
//! gets an environment of nix-repart's own, never the caller's: `PATH` (to
//! be found), `LC_ALL=C`, `TZ=UTC`, `SOURCE_DATE_EPOCH` from the build and
//! the variables the caller of [`run`] names; nothing else (no stray
//! `MKE2FS_*`, `E2FSPROGS_*` or locale settings). The child runs through
//! `nix_repart_work::run`, so an interrupt ends it.

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
pub const DEBUGFS: Tool = Tool { name: "debugfs", debian: "e2fsprogs", nixpkgs: "e2fsprogs" };
pub const MKFS_EROFS: Tool = Tool { name: "mkfs.erofs", debian: "erofs-utils", nixpkgs: "erofs-utils" };

/// What a finished tool run left: the whole failure, when it failed.
pub enum Outcome {
    Success,
    Failed(ToolFailure),
}

/// A tool run that failed, everything a user needs to run it again: the
/// command line as a shell takes it, how it ended, and its stderr line by
/// line (its stdout when stderr was empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolFailure {
    pub command: String,
    /// `exit status: 3`, or `signal: 9 (SIGKILL)`.
    pub status: String,
    pub stderr: Vec<String>,
}

impl ToolFailure {
    /// Whether any stderr line contains `needle`.
    pub fn says(&self, needle: &str) -> bool {
        self.stderr.iter().any(|line| line.contains(needle))
    }
}

/// The whole environment of a tool run: see the module documentation.
pub fn environment(epoch: u64, extra: &[(&str, &OsStr)]) -> Vec<(String, std::ffi::OsString)> {
    let mut env = vec![
        ("LC_ALL".to_string(), "C".into()),
        ("TZ".to_string(), "UTC".into()),
        ("SOURCE_DATE_EPOCH".to_string(), epoch.to_string().into()),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        env.push(("PATH".to_string(), path));
    }
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_os_string())));
    env
}

/// Runs `tool` with `args` in the environment of [`environment`].
pub fn run<I, S>(tool: Tool, args: I, epoch: u64, env: &[(&str, &OsStr)]) -> Result<Outcome, MkfsError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_quiet(tool, args, epoch, env, |_| true)
}

/// Like [`run`], for tools that report errors on stderr but still exit 0
/// (debugfs): the run fails as well when a stderr line is not `expected`.
pub fn run_quiet<I, S>(
    tool: Tool,
    args: I,
    epoch: u64,
    env: &[(&str, &OsStr)],
    expected: impl Fn(&str) -> bool,
) -> Result<Outcome, MkfsError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(tool.name);
    cmd.args(args).env_clear().envs(environment(epoch, env));
    let output = nix_repart_work::run(&mut cmd).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => {
            MkfsError::ToolMissing { tool: tool.name, debian: tool.debian, nixpkgs: tool.nixpkgs }
        }
        _ => MkfsError::Run { tool: tool.name, source },
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() && stderr.lines().all(|line| line.trim().is_empty() || expected(line)) {
        return Ok(Outcome::Success);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = if stderr.trim().is_empty() { stdout } else { stderr };
    let stderr = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    Ok(Outcome::Failed(ToolFailure { command: shown_command(&cmd), status: output.status.to_string(), stderr }))
}

/// The command line as a shell would take it, for error messages.
fn shown_command(cmd: &Command) -> String {
    let quote = |word: &OsStr| {
        let text = word.to_string_lossy();
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c)) {
            text.into_owned()
        } else {
            format!("'{}'", text.replace('\'', "'\\''"))
        }
    };
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(quote).collect::<Vec<_>>().join(" ")
}
