//! Reading a partition's sources into a tree, as its step.

use nix_repart_progress::Totals;
use nix_repart_spec::Partition;
use nix_repart_tree::{Directory, Symlinks};

use crate::context::Build;
use crate::ImageError;

/// The partition's tree; symlinks kept, or followed (FAT has none).
pub fn read(b: &Build, p: &Partition, symlinks: Symlinks) -> Result<Directory, ImageError> {
    let step = b.progress.step(format!("{}: reading sources", p.id), Totals::default());
    let tree =
        nix_repart_tree::build(p, symlinks).map_err(|source| ImageError::Tree { partition: p.id.clone(), source })?;
    let totals = tree.totals();
    step.counter().add_files(totals.files + totals.directories + totals.symlinks);
    step.counter().add_bytes(totals.file_bytes);
    Ok(tree)
}
