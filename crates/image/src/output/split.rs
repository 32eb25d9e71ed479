//! Split files: each partition that asks for one gets its bytes copied
//! out of the finished image (zero chunks stay holes).

use std::fs::File;
use std::path::Path;

use nix_repart_plan::Plan;
use nix_repart_work::WorkDir;

use crate::error::ImageError;
use crate::output::blocks::copy_range;
use crate::output::PendingFile;

/// One pending file per partition with a split file, in partition order.
pub fn write_all(work: &WorkDir, image: &File, plan: &Plan, out_dir: &Path) -> Result<Vec<PendingFile>, ImageError> {
    let mut splits = Vec::new();
    for planned in &plan.partitions {
        if let Some(name) = &planned.split_file {
            splits.push(write(work, image, planned.offset.0, planned.size.0, &out_dir.join(name))?);
        }
    }
    Ok(splits)
}

fn write(work: &WorkDir, image: &File, offset: u64, size: u64, path: &Path) -> Result<PendingFile, ImageError> {
    let mut split = PendingFile::create(work, path)?;
    let write_error = |source| ImageError::Write { path: path.to_path_buf(), source };
    split.file().set_len(size).map_err(write_error)?;
    copy_range(image, offset, size, split.file(), 0).map_err(write_error)?;
    Ok(split)
}
