//! Output files that appear whole or not at all: each is written under a
//! temporary name in the build's work directory (`nix_repart_work`) and
//! renamed into place once complete. Whatever is not renamed goes with the
//! work directory, on success, error or interrupt alike. Files are not
//! fsync'ed: this guards against errors and interrupts, not power loss,
//! which a Nix build survives by building again (and syncing a multi-GiB
//! image would cost more than the rest of the build).

use std::fs::File;
use std::path::{Path, PathBuf};

use nix_repart_work::WorkDir;

use crate::error::ImageError;

/// A file being written in the work directory, for the output `target`.
pub struct PendingFile {
    file: File,
    temp_path: PathBuf,
    target: PathBuf,
}

impl PendingFile {
    pub fn create(work: &WorkDir, target: &Path) -> Result<PendingFile, ImageError> {
        let (file, temp_path) = work.output_file(target).map_err(ImageError::Work)?;
        Ok(PendingFile { file, temp_path, target: target.to_path_buf() })
    }

    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// The temporary file's path, for tools that write into it by name.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the file into place (atomically, in the same filesystem).
    pub fn commit(self, work: &mut WorkDir) -> Result<(), ImageError> {
        work.commit(&self.temp_path, &self.target).map_err(ImageError::Work)
    }
}
