//! Partition contents, one module per format: each *measures* its
//! partition before the layout is planned (how many bytes its filesystem
//! needs) and *writes* it into its planned region afterwards. Streaming
//! writers (squashfs, and ext with `Minimize=`) write while they measure,
//! at the offset the planner's rule gives them (see `crate::pipeline`).
//!
//! - [`fat`]: laid out from the tree, written after planning (it needs
//!   the partition's first LBA);
//! - [`squashfs`]: compressed straight into the image while measuring;
//! - [`ext`]: sized from the tree; mke2fs into the image, while measuring
//!   when minimized (retried there, alone, if the estimate was short);
//! - [`erofs`]: made into a scratch file while measuring, copied in after;
//! - [`swap`] and `CopyBlocks=`: written after planning.

pub mod boot_loader;
pub mod erofs;
pub mod ext;
pub mod fat;
mod generated;
mod measured;
pub mod nix_db;
pub mod squashfs;
pub mod staging;
pub mod swap;
pub mod tree;

use nix_repart_plan::PartitionPlan;
use nix_repart_spec::{Format, Partition};

pub use measured::{Content, Facts, Measured};

use crate::context::{Build, ImageFile, Sink};
use crate::error::ImageError;
use crate::output::blocks;

/// Measures partition `i` (and writes it, for a streaming writer with an
/// image sink).
pub fn measure(b: &Build, i: usize, sink: Sink) -> Result<Measured, ImageError> {
    let p = &b.spec.partitions[i];
    let started = std::time::Instant::now();
    let mut measured = match p.format {
        None if p.copy_blocks.is_some() => Measured {
            content: Content::CopyBlocks,
            size: p.copy_blocks.as_ref().map(|c| c.size),
            facts: Facts::default(),
        },
        None => Measured { content: Content::Nothing, size: None, facts: Facts::default() },
        Some(Format::Vfat) => fat::measure(b, i)?,
        Some(Format::Squashfs(settings)) => squashfs::measure(b, p, &settings, sink)?,
        Some(Format::Ext(kind)) => ext::measure(b, i, kind, sink)?,
        Some(Format::Erofs(compression)) => erofs::measure(b, i, compression, sink)?,
        Some(Format::Swap) => Measured { content: Content::Swap, size: None, facts: Facts::default() },
    };
    measured.facts.elapsed += started.elapsed();
    Ok(measured)
}

/// Writes what is left of a partition into its planned region; returns
/// notes on what was written.
pub fn write(
    b: &Build,
    image: ImageFile,
    p: &Partition,
    planned: &PartitionPlan,
    content: &Content,
) -> Result<Vec<String>, ImageError> {
    match content {
        Content::Nothing | Content::Streamed { .. } => Ok(Vec::new()),
        Content::CopyBlocks => {
            let Some(copy) = &p.copy_blocks else { return Ok(Vec::new()) };
            b.progress.run(format!("{}: copying blocks", p.id), Default::default(), |_| {
                if p.from_image.is_some() {
                    blocks::copy_from_image(image, planned.offset.0, copy, &p.id)
                } else {
                    blocks::copy_blocks(image.file, image.shown, planned.offset.0, &copy.source, copy.size.0, &p.id)
                }
            })?;
            Ok(Vec::new())
        }
        Content::Fat(prepared) => fat::write(b, image, prepared, planned).map(|()| Vec::new()),
        Content::Ext(pending) => ext::write(b, image, pending, planned).map(|note| vec![note]),
        Content::Erofs(made) => erofs::write(image, made, planned).map(|()| Vec::new()),
        Content::Swap => swap::write(image, planned).map(|()| Vec::new()),
    }
}
