//! erofs: the tree staged and made by mkfs.erofs into a scratch file while
//! measuring (mkfs.erofs 1.5 cannot write at an offset), copied into its
//! region after planning with its holes kept. `nix-repart plan` estimates
//! it from the tree instead, unless `--exact`.

use std::path::PathBuf;

use nix_repart_mkfs::erofs::ErofsJob;
use nix_repart_mkfs::MkfsError;
use nix_repart_plan::PartitionPlan;
use nix_repart_progress::Totals;
use nix_repart_spec::{Bytes, ErofsCompression, Format};
use nix_repart_tree::Symlinks;

use super::measured::{Content, ErofsMade as Made, Estimate, Facts, Measured};
use super::{staging::stage, tree};
use crate::context::{Build, ImageFile, Sink};
use crate::error::ImageError;

pub fn measure(b: &Build, i: usize, compression: ErofsCompression, sink: Sink) -> Result<Measured, ImageError> {
    let p = &b.spec.partitions[i];
    let tree = tree::read(b, p, Symlinks::Keep)?;
    let mut facts = Facts::of_tree(&tree);
    if let Sink::Measure { exact: false } = sink {
        let size = nix_repart_mkfs::erofs_size::estimate(&tree);
        let method = match compression {
            ErofsCompression::Uncompressed => "the uncompressed layout, computed from the tree",
            ErofsCompression::Lz4
            | ErofsCompression::Lz4hc { .. }
            | ErofsCompression::Zstd { .. }
            | ErofsCompression::Lzma { .. }
            | ErofsCompression::Deflate { .. } => {
                "the uncompressed layout, computed from the tree (an upper bound: --exact compresses)"
            }
        };
        facts.estimate = Some(Estimate { upper_bound: size.upper_bound, method });
        let bytes = match compression {
            ErofsCompression::Uncompressed => size.estimate,
            ErofsCompression::Lz4
            | ErofsCompression::Lz4hc { .. }
            | ErofsCompression::Zstd { .. }
            | ErofsCompression::Lzma { .. }
            | ErofsCompression::Deflate { .. } => size.upper_bound,
        };
        return Ok(Measured { content: Content::Nothing, size: Some(Bytes(bytes)), facts });
    }
    let staged = stage(b, &p.id, &tree, "mkfs.erofs")?;
    let scratch = tempfile::Builder::new()
        .prefix(".nix-repart-erofs.")
        .tempfile_in(b.work)
        .map_err(|source| ImageError::Write { path: b.work.to_path_buf(), source })?;
    let uuid = b.identity.partitions[i].filesystem_uuid.unwrap_or_default();
    let job = ErofsJob {
        staged: staged.path(),
        output: scratch.path(),
        uuid,
        epoch: b.options.source_date_epoch,
        compression,
        extra: b.spec.mkfs_options_for(Format::Erofs(compression)),
    };
    b.progress.run(format!("{}: mkfs.erofs", p.id), Totals::default(), |_| {
        nix_repart_mkfs::erofs::make(&job).map_err(|source| mkfs_error(&p.id, source))
    })?;
    let size = scratch
        .as_file()
        .metadata()
        .map_err(|source| ImageError::Read { path: scratch.path().to_path_buf(), source })?
        .len();
    facts.filesystem_bytes = Some(size);
    let padded = Bytes(size.div_ceil(4096) * 4096);
    Ok(Measured { content: Content::Erofs(Made { file: scratch, size }), size: Some(padded), facts })
}

fn mkfs_error(partition: &str, source: MkfsError) -> ImageError {
    ImageError::Mkfs { partition: partition.to_string(), source }
}

/// Copies the finished filesystem into its region.
pub fn write(image: ImageFile, made: &Made, planned: &PartitionPlan) -> Result<(), ImageError> {
    let scratch: PathBuf = made.file.path().to_path_buf();
    nix_repart_tree::copy_source(&scratch, made.size, image.file, planned.offset.0).map_err(|e| match e {
        nix_repart_tree::CopyError::Write(source) => ImageError::Write { path: image.shown.to_path_buf(), source },
        nix_repart_tree::CopyError::Read(source) => ImageError::Read { path: scratch, source },
        nix_repart_tree::CopyError::Changed => ImageError::Read {
            path: scratch,
            source: std::io::Error::other("the erofs scratch file changed size while it was copied"),
        },
    })
}
