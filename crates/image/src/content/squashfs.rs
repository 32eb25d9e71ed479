//! squashfs: compressed straight into the image at the partition's
//! streaming offset while it is measured (its size is only known once it
//! is written), or only measured, or estimated, for `nix-repart plan`.

use nix_repart_progress::Totals;
use nix_repart_spec::{Bytes, Partition, SquashfsSettings};
use nix_repart_squashfs::Target;
use nix_repart_tree::Symlinks;

use super::measured::{Content, Estimate, Facts, Measured};
use super::tree;
use crate::context::{Build, Sink};
use crate::error::ImageError;

pub fn measure(b: &Build, p: &Partition, settings: &SquashfsSettings, sink: Sink) -> Result<Measured, ImageError> {
    let tree = tree::read(b, p, Symlinks::Keep)?;
    let mut facts = Facts::of_tree(&tree);
    let error = |source| ImageError::Squashfs { partition: p.id.clone(), source };
    // squashfs times are 32-bit; SOURCE_DATE_EPOCH past 2106 is clamped.
    let mtime = u32::try_from(b.options.source_date_epoch).unwrap_or(u32::MAX);
    let jobs = b.options.jobs;
    let totals = Totals { bytes: Some(facts.content_bytes), files: Some(tree.totals().files) };
    let (target, at) = match sink {
        Sink::Image { image, at } => (Target::Region { file: image.file, offset: at, limit: u64::MAX }, Some(at)),
        Sink::Measure { exact: true } => (Target::Measure, None),
        Sink::Measure { exact: false } => {
            let label = format!("{}: estimating squashfs", p.id);
            let estimate = b
                .progress
                .run(label, totals, |counter| nix_repart_squashfs::estimate(&tree, settings, counter).map_err(error))?;
            facts.estimate = Some(Estimate { upper_bound: estimate.upper_bound, method: estimate.method });
            return Ok(Measured { content: Content::Nothing, size: Some(Bytes(estimate.bytes)), facts });
        }
    };
    let label = format!("{}: writing squashfs ({})", p.id, settings.compression.name());
    let size = b.progress.run(label, totals, |counter| {
        nix_repart_squashfs::write(&tree, settings, mtime, jobs, target, counter).map_err(error)
    })?;
    facts.filesystem_bytes = Some(size);
    let content = at.map_or(Content::Nothing, |at| Content::Streamed { at });
    Ok(Measured { content, size: Some(Bytes(size)), facts })
}
