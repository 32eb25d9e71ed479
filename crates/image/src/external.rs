//! The filesystems of `nix_repart_mkfs`: erofs made into a scratch file
//! while measuring, then copied into its region (all-zero chunks stay
//! holes); ext2/3/4 made by mke2fs straight into the image file at the
//! partition's offset; swap headers. Both mkfs tools read a staging copy
//! of the tree. Each ext build reports its free space, the
//! margin `Minimize=guess` left.

use std::fs::File;
use std::path::Path;

use nix_repart_mkfs::erofs::{self, ErofsJob};
use nix_repart_mkfs::ext::{self, ExtJob};
use nix_repart_mkfs::ext_size::ExtSize;
use nix_repart_mkfs::{swap, ExtKind, MkfsError};
use nix_repart_plan::PartitionPlan;
use nix_repart_spec::{Partition, Spec};
use nix_repart_tree::{Directory, Staged};
use tempfile::NamedTempFile;

use crate::content::Scratch;
use crate::ImageError;

fn mkfs_error(id: &str) -> impl FnOnce(MkfsError) -> ImageError + '_ {
    move |source| ImageError::Mkfs { partition: id.to_string(), source }
}

/// Stages `tree` for `tool` in `scratch`, every time at `epoch`.
fn stage(tree: &Directory, scratch: &Path, epoch: u64, id: &str, tool: &'static str) -> Result<Staged, ImageError> {
    let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
    nix_repart_tree::stage(tree, scratch, epoch).map_err(|source| mkfs_error(id)(MkfsError::Stage { tool, source }))
}

/// An ext filesystem to write, with what was measured for it.
pub struct ExtContent {
    pub tree: Directory,
    pub kind: ExtKind,
    pub size: ExtSize,
    pub minimized: bool,
}

/// Stages the tree and makes the erofs filesystem into a scratch file;
/// returns the file and its size.
pub fn make_erofs(
    spec: &Spec,
    p: &Partition,
    tree: &Directory,
    uuid: uuid::Uuid,
    scratch: &Scratch,
) -> Result<(NamedTempFile, u64), ImageError> {
    let staged = stage(tree, scratch.dir, scratch.epoch, &p.id, "mkfs.erofs")?;
    let file = tempfile::Builder::new()
        .prefix(".nix-repart-erofs.")
        .tempfile_in(scratch.dir)
        .map_err(|source| ImageError::Write { path: scratch.dir.to_path_buf(), source })?;
    let job = ErofsJob {
        staged: staged.path(),
        output: file.path(),
        uuid,
        epoch: scratch.epoch,
        compression: p.compression.as_deref(),
        level: p.compression_level,
        extra: spec.mkfs_options.get("erofs").map(Vec::as_slice).unwrap_or_default(),
    };
    erofs::make(&job).map_err(mkfs_error(&p.id))?;
    let size =
        file.as_file().metadata().map_err(|source| ImageError::Read { path: file.path().to_path_buf(), source })?.len();
    Ok((file, size))
}

/// Stages the tree next to the output and runs mke2fs into the image.
/// Returns a note on the free space left.
pub fn write_ext(
    content: &ExtContent,
    planned: &PartitionPlan,
    spec: &Spec,
    image_temp: &Path,
    scratch: &Path,
    epoch: u64,
) -> Result<String, ImageError> {
    let id = planned.id.as_str();
    let staged = stage(&content.tree, scratch, epoch, id, "mke2fs")?;
    let conf_dir = tempfile::Builder::new()
        .prefix(".nix-repart-mke2fs.")
        .tempdir_in(scratch)
        .map_err(|source| ImageError::Write { path: scratch.to_path_buf(), source })?;
    let extra = spec.mkfs_options.get(content.kind.name()).map(Vec::as_slice).unwrap_or_default();
    let job = ExtJob {
        kind: content.kind,
        staged: staged.path(),
        scratch: conf_dir.path(),
        image: image_temp,
        offset: planned.offset.0,
        size: planned.size.0,
        uuid: planned.filesystem_uuid.unwrap_or_default(),
        label: &planned.label,
        epoch,
        inodes: content.minimized.then_some(content.size.inodes),
        extra,
    };
    let report = ext::make(&job).map_err(mkfs_error(id))?;
    let free = report.free_blocks * 4096;
    let percent = free as f64 * 100.0 / planned.size.0.max(1) as f64;
    Ok(format!(
        "partition {id}: {} of {} bytes, {free} bytes ({percent:.1}%) and {} of {} inodes free",
        content.kind.name(),
        planned.size.0,
        report.free_inodes,
        report.inodes
    ))
}

/// Copies a finished erofs image into its region.
pub fn write_erofs(
    source: &Path,
    size: u64,
    image: &File,
    image_path: &Path,
    planned: &PartitionPlan,
) -> Result<(), ImageError> {
    let scratch = source.to_path_buf();
    nix_repart_tree::copy_source(source, size, image, planned.offset.0).map_err(|e| match e {
        nix_repart_tree::CopyError::Write(source) => ImageError::Write { path: image_path.to_path_buf(), source },
        nix_repart_tree::CopyError::Read(source) => ImageError::Read { path: scratch, source },
        nix_repart_tree::CopyError::Changed => ImageError::Read {
            path: scratch,
            source: std::io::Error::other("the erofs scratch file changed size while it was copied"),
        },
    })
}

/// Writes a swap header at the start of the partition.
pub fn write_swap(image: &File, image_path: &Path, planned: &PartitionPlan) -> Result<(), ImageError> {
    let uuid = planned.filesystem_uuid.unwrap_or_default();
    swap::write(image, image_path, planned.offset.0, planned.size.0, uuid, &planned.label)
        .map_err(mkfs_error(&planned.id))
}
