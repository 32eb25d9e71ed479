//! nix-repart's image writer: turns a [`Plan`] into `<name>.raw` and
//! `repart-output.json` in an output directory.
//!
//! The image is created sparse at its final size; partitions without a
//! filesystem stay holes (zeros), `CopyBlocks=` sources are copied to their
//! offsets, then the GPT and protective MBR are written. Both files appear
//! by rename only when complete. Filesystems are not written here yet.

mod blocks;
mod error;
pub mod inspect;
pub mod output;
pub mod report;
mod table;

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
}

/// Writes the image and its report into `out_dir` (created if missing).
pub fn write_image(spec: &Spec, plan: &Plan, out_dir: &Path, _options: &BuildOptions) -> Result<Written, ImageError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ImageError::CreateDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let image_path = out_dir.join(&plan.image.file_name);
    let mut image = PendingFile::create(&image_path)?;
    let write_error = |source| ImageError::Write {
        path: image_path.clone(),
        source,
    };
    image.file().set_len(plan.image.size.0).map_err(write_error)?;
    for (p, planned) in spec.partitions.iter().zip(&plan.partitions) {
        if let Some(copy) = &p.copy_blocks {
            blocks::copy_blocks(
                image.file(),
                &image_path,
                planned.offset.0,
                &copy.source,
                copy.size.0,
                &p.id,
            )?;
        }
    }
    table::write_table(image.file(), plan).map_err(|source| ImageError::Gpt {
        path: image_path.clone(),
        source,
    })?;
    let report_path = out_dir.join(REPORT_FILE);
    let mut report = PendingFile::create(&report_path)?;
    let text = report::render(plan).map_err(ImageError::Report)?;
    std::io::Write::write_all(report.file(), text.as_bytes()).map_err(|source| ImageError::Write {
        path: report_path.clone(),
        source,
    })?;
    // Two renames cannot be one atomic step: if the second fails, take the
    // first back, so that a failed build never leaves an image behind.
    image.commit()?;
    if let Err(e) = report.commit() {
        let _ = std::fs::remove_file(&image_path);
        return Err(e);
    }
    Ok(Written {
        image: image_path,
        report: report_path,
    })
}
