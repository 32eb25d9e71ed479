//! The staging copy the mkfs tools read (`nix_repart_tree::stage`), made
//! in the work directory with every time at `SOURCE_DATE_EPOCH`, as its
//! step.

use nix_repart_mkfs::MkfsError;
use nix_repart_progress::Totals;
use nix_repart_tree::{Directory, Staged};

use crate::context::Build;
use crate::error::ImageError;

pub fn stage(b: &Build, partition: &str, tree: &Directory, tool: &'static str) -> Result<Staged, ImageError> {
    let label = format!("{partition}: staging for {tool}");
    let totals = tree.totals();
    let totals = Totals { bytes: Some(totals.file_bytes), files: Some(totals.files) };
    let epoch = i64::try_from(b.options.source_date_epoch).unwrap_or(i64::MAX);
    b.progress.run(label, totals, |counter| {
        nix_repart_tree::stage(tree, b.work, epoch, counter).map_err(|source| ImageError::Mkfs {
            partition: partition.to_string(),
            source: MkfsError::Stage { tool, source },
        })
    })
}
