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
    #[error("{link} is a symlink (to {target}); vfat cannot store symlinks, and nix-repart never follows one out of its source: put a FAT-storable file there, or use a filesystem with symlinks")]
    SymlinkNotStorable { link: PathBuf, target: PathBuf },
    #[error("{} would be a path of {bytes} bytes in the image (from {}); at most {max} bytes are possible (the mkfs tools fail on longer paths)", shorten(target), shorten(&source_path.to_string_lossy()))]
    PathTooLong { target: String, source_path: PathBuf, bytes: usize, max: usize },
    #[error("contents {target}: is a symlink, which has no mode or owner nix-repart can give it")]
    ModeOnSymlink { target: String },
}

/// A long path shown by its first and last 60 bytes.
fn shorten(text: &str) -> String {
    const KEEP: usize = 60;
    if text.len() <= 2 * KEEP + 3 {
        return text.to_string();
    }
    let head = nix_repart_spec::values::prefix_within(text, KEEP);
    let mut tail = text.len() - KEEP;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{head}…{}", &text[tail..])
}
