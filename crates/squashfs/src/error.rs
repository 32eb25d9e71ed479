//! Why a squashfs filesystem could not be made.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SquashfsError {
    #[error("mkfsOptions.squashfs: {option:?} is not an option nix-repart maps onto its squashfs writer (see docs/squashfs.md)")]
    UnknownMkfsOption { option: String },
    #[error("mkfsOptions.squashfs: {option} needs a value")]
    MissingMkfsValue { option: String },
    #[error("squashfs block size {value:?} is not a power of two from 4K to 1M")]
    BadBlockSize { value: String },
    #[error("compression level {level} is out of range for {algorithm} ({range})")]
    BadLevel { algorithm: &'static str, level: u32, range: &'static str },
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
