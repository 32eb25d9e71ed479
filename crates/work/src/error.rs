//! Why a work directory could not be made or an output committed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("{path} exists and is not a directory; give a directory (or a path that does not exist) as the output")]
    NotADirectory { path: PathBuf },
    #[error("cannot create the output directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make a work directory in {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove {path}, left by an earlier build that was killed")]
    RemoveStale {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot move {from} into place as {to}")]
    Commit {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl WorkError {
    /// Whether the user's input is at fault (an output path that cannot
    /// be a directory) rather than the machine.
    pub fn is_input_error(&self) -> bool {
        matches!(self, WorkError::NotADirectory { .. })
    }
}
