//! nix-repart's image writer: turns a [`Plan`] into `<name>.raw`,
//! `repart-output.json` and, with split output, one file per partition, in
//! an output directory.
//!
//! The image is created sparse at its final size; partitions without a
//! filesystem stay holes (zeros), `CopyBlocks=` sources are copied to their
//! offsets, filesystems are written into their regions, then the GPT and
//! protective MBR. Every file appears by rename only when all are complete.

mod blocks;
pub mod content;
mod error;
pub mod inspect;
pub mod output;
pub mod report;
mod table;

use std::fs::File;
use std::path::{Path, PathBuf};

use nix_repart_plan::Plan;
use nix_repart_spec::Spec;

pub use error::ImageError;
use output::PendingFile;

/// The name of the JSON report, as nixpkgs' module names it.
pub const REPORT_FILE: &str = "repart-output.json";

/// Settings every writer receives; none of them depends on the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOptions {
    /// Every timestamp written into an image (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: u64,
    /// Worker threads for reading and compressing; never changes the bytes.
    pub jobs: usize,
}

/// What a build wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub image: PathBuf,
    pub report: PathBuf,
    pub split_files: Vec<PathBuf>,
}

/// Writes the image, its report and split files into `out_dir` (created
/// if missing).
pub fn write_image(
    spec: &Spec,
    plan: &Plan,
    contents: &[Option<content::Content>],
    out_dir: &Path,
    options: &BuildOptions,
) -> Result<Written, ImageError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ImageError::CreateDir { path: out_dir.to_path_buf(), source })?;
    let image_path = out_dir.join(&plan.image.file_name);
    let mut image = PendingFile::create(&image_path)?;
    let write_error = |source| ImageError::Write { path: image_path.clone(), source };
    image.file().set_len(plan.image.size.0).map_err(write_error)?;
    for (p, planned) in spec.partitions.iter().zip(&plan.partitions) {
        if let Some(copy) = &p.copy_blocks {
            blocks::copy_blocks(image.file(), &image_path, planned.offset.0, &copy.source, copy.size.0, &p.id)?;
        }
    }
    for (content, planned) in contents.iter().zip(&plan.partitions) {
        if let Some(content) = content {
            content::write(content, image.file(), planned, spec, options.source_date_epoch)?;
        }
    }
    table::write_table(image.file(), plan).map_err(|source| ImageError::Gpt { path: image_path.clone(), source })?;
    let mut splits = Vec::new();
    for planned in &plan.partitions {
        if let Some(name) = &planned.split_file {
            splits.push(write_split(image.file(), planned.offset.0, planned.size.0, &out_dir.join(name))?);
        }
    }
    let report_path = out_dir.join(REPORT_FILE);
    let report = write_report(plan, &report_path)?;
    let split_files = splits.iter().map(|f| f.target().to_path_buf()).collect();
    let mut files = vec![image, report];
    files.append(&mut splits);
    commit_all(files)?;
    Ok(Written { image: image_path, report: report_path, split_files })
}

fn write_report(plan: &Plan, path: &Path) -> Result<PendingFile, ImageError> {
    let mut report = PendingFile::create(path)?;
    let text = report::render(plan).map_err(ImageError::Report)?;
    std::io::Write::write_all(report.file(), text.as_bytes())
        .map_err(|source| ImageError::Write { path: path.to_path_buf(), source })?;
    Ok(report)
}

/// One partition's bytes, copied out of the finished image.
fn write_split(image: &File, offset: u64, size: u64, path: &Path) -> Result<PendingFile, ImageError> {
    let mut split = PendingFile::create(path)?;
    let write_error = |source| ImageError::Write { path: path.to_path_buf(), source };
    split.file().set_len(size).map_err(write_error)?;
    blocks::copy_range(image, offset, size, split.file()).map_err(write_error)?;
    Ok(split)
}

/// Renames every file into place. Renames cannot be one atomic step, so if
/// one fails the files already renamed are removed again: a failed build
/// never leaves outputs behind.
fn commit_all(files: Vec<PendingFile>) -> Result<(), ImageError> {
    let mut done: Vec<PathBuf> = Vec::new();
    for file in files {
        let target = file.target().to_path_buf();
        if let Err(e) = file.commit() {
            for path in &done {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        done.push(target);
    }
    Ok(())
}
