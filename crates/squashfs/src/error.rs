//! Why a squashfs filesystem could not be made.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SquashfsError {
    #[error("path {path} cannot be stored in squashfs")]
    BadPath { path: PathBuf },
    #[error("cannot read {path} (did it change during the build?)")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the squashfs writer (backhand) failed")]
    Backhand(#[source] backhand::BackhandError),
    #[error("cannot write the squashfs filesystem")]
    Write(#[source] std::io::Error),
}

impl SquashfsError {
    /// Whether the user's input is at fault (exit code 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, SquashfsError::Write(_) | SquashfsError::Backhand(_))
    }
}
