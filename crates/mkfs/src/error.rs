//! Why a filesystem could not be made.

use std::path::PathBuf;

pub use crate::tool::ToolFailure;

#[derive(Debug, thiserror::Error)]
pub enum MkfsError {
    #[error("{tool} is not on PATH; install it (Debian: apt-get install {debian}; nixpkgs: {nixpkgs})")]
    ToolMissing { tool: &'static str, debian: &'static str, nixpkgs: &'static str },
    #[error("cannot run {tool}")]
    Run {
        tool: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The command and its stderr lines are in `failure`; the one-line
    /// message has the status only (see [`MkfsError::tool_failure`]).
    #[error("{tool} failed ({})", failure.status)]
    ToolFailed { tool: &'static str, failure: ToolFailure },
    #[error("the files do not fit into {size} bytes ({tool}: {})", failure.stderr.join(" / "))]
    TooSmall { tool: &'static str, size: u64, failure: ToolFailure },
    #[error("cannot stage the files for {tool}")]
    Stage {
        tool: &'static str,
        #[source]
        source: nix_repart_tree::StageError,
    },
    #[error("cannot fix up the ext4 filesystem in {path} at offset {offset}")]
    Fixup {
        path: PathBuf,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} at offset {offset} is not the ext2/3/4 filesystem just made ({what})")]
    NotExt { path: PathBuf, offset: u64, what: &'static str },
    #[error("{tool} exited successfully but {path} holds no filesystem ({what})")]
    NoFilesystem { tool: &'static str, path: PathBuf, what: &'static str },
    #[error("{path:?} holds a quote, backslash or newline, which debugfs cannot be given; nix-repart sets the owners of mke2fs-made filesystems with debugfs")]
    OwnerPathUnquotable { path: String },
    #[error("directory {path} has {entries} entries; mke2fs -d needs time quadratic in a directory's size and would run for many minutes, so nix-repart takes at most {max} (put large directories on squashfs or erofs)")]
    DirectoryTooLarge { path: String, entries: usize, max: usize },
    #[error("a swap area needs at least 40960 bytes (10 pages), the partition has {size}")]
    SwapTooSmall { size: u64 },
    #[error("cannot write the swap header into {path}")]
    Swap {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MkfsError {
    /// Whether the user's input (content, sizes, settings) is at fault.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            MkfsError::TooSmall { .. }
                | MkfsError::SwapTooSmall { .. }
                | MkfsError::ToolMissing { .. }
                | MkfsError::DirectoryTooLarge { .. }
        )
    }
}

impl MkfsError {
    /// The failed tool run behind this error, to be shown whole.
    pub fn tool_failure(&self) -> Option<(&'static str, &ToolFailure)> {
        match self {
            MkfsError::ToolFailed { tool, failure } | MkfsError::TooSmall { tool, failure, .. } => {
                Some((tool, failure))
            }
            _ => None,
        }
    }
}
