//! Reading a partition's sources into a tree, as its step (with the
//! partition's Nix database and systemd-boot's loader files added, if it
//! asks for them).

use nix_repart_progress::Totals;
use nix_repart_spec::Partition;
use nix_repart_tree::{Directory, Symlinks};

use crate::context::Build;
use crate::error::ImageError;

/// The partition's tree; symlinks kept, or followed (FAT has none).
pub fn read(b: &Build, p: &Partition, symlinks: Symlinks) -> Result<Directory, ImageError> {
    let with_db = super::nix_db::with_database(b, p)?;
    let p = with_db.as_ref().unwrap_or(p);
    let with_loader = super::boot_loader::with_loader(b, p)?;
    let p = with_loader.as_ref().unwrap_or(p);
    b.progress.run(format!("{}: reading sources", p.id), Totals::default(), |counter| {
        let tree = nix_repart_tree::build(p, symlinks)
            .map_err(|source| ImageError::Tree { partition: p.id.clone(), source })?;
        counter.add_files(tree.totals().files);
        Ok(tree)
    })
}
