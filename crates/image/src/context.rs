//! What every stage of a build is given: the spec, its identity, the
//! options, the work directory, the progress reporter, and the image
//! file being written. Read-only; nothing here does any work.

use std::fs::File;
use std::path::Path;

use nix_repart_plan::Identity;
use nix_repart_progress::Progress;
use nix_repart_spec::Spec;

use crate::options::BuildOptions;

/// One build (or plan) of one spec.
pub struct Build<'a> {
    pub spec: &'a Spec,
    pub identity: &'a Identity,
    pub options: &'a BuildOptions,
    /// The work directory: staging trees, scratch files.
    pub work: &'a Path,
    pub progress: &'a Progress,
}

/// The image file while it is written.
#[derive(Clone, Copy)]
pub struct ImageFile<'a> {
    pub file: &'a File,
    /// Its temporary path, for tools that write into it by name.
    pub temp: &'a Path,
    /// Its final path, for messages.
    pub shown: &'a Path,
}

/// Where measuring a partition may write it.
#[derive(Clone, Copy)]
pub enum Sink<'a> {
    /// Into the image file at `at`: a streaming writer (squashfs, a
    /// minimized ext) writes the filesystem there while it learns its size.
    Image { image: ImageFile<'a>, at: u64 },
    /// Nowhere (`nix-repart plan`): sizes only, computed when `exact`,
    /// estimated otherwise where estimating is much cheaper.
    Measure { exact: bool },
}
