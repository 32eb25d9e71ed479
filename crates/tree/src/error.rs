//! Why a partition's source tree could not be read.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "symlink {link} points outside its source {root}; nix-repart only follows symlinks that stay inside the source"
    )]
    Escapes { link: PathBuf, root: PathBuf },
    #[error("symlink {link} is dangling (its target does not exist)")]
    Dangling { link: PathBuf },
    #[error("symlink {link} leads back to its own parent directory {target}")]
    Loop { link: PathBuf, target: PathBuf },
    #[error("{path} is a device, FIFO or socket; only files, directories and symlinks can be copied")]
    Special { path: PathBuf },
    #[error("{target} is given twice: by {first} and by {second}")]
    Conflict { target: String, first: PathBuf, second: PathBuf },
    #[error("{target} would have to be a directory, but {source_path} puts a file or symlink there")]
    NotADirectory { target: String, source_path: PathBuf },
}
