//! Why a FAT volume could not be made. Paths are paths inside the volume
//! unless they say "source".

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FatError {
    #[error("{path}: {problem}")]
    BadName { path: String, problem: String },
    #[error("{first} and {second} differ only in case; FAT is case-insensitive and cannot hold both")]
    CaseCollision { first: String, second: String },
    #[error("{path} is {size} bytes; a FAT file must be smaller than 4 GiB")]
    FileTooLarge { path: String, size: u64 },
    #[error("{path} is a symlink; FAT has none (the tree must be built with symlinks followed)")]
    Symlink { path: String },
    #[error("directory {path} would hold {entries} entries; FAT allows 65536")]
    TooManyEntries { path: String, entries: u64 },
    #[error("the content needs a FAT volume of at least {needed} bytes, but the partition has {available}; raise SizeMaxBytes= or set Minimize=")]
    DoesNotFit { needed: u64, available: u64 },
    #[error("no FAT volume of up to {limit} bytes can hold the content")]
    TooLarge { limit: u64 },
    #[error("cannot read source {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("source {path} changed size while it was copied")]
    SourceChanged { path: PathBuf },
    #[error("cannot write the FAT volume")]
    Write(#[source] std::io::Error),
}

impl FatError {
    /// Whether the user's input is at fault (exit code 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, FatError::Write(_) | FatError::Symlink { .. })
    }
}
