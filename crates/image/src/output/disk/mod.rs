//! Disk formats other than raw, for VMs (issue: make-disk-image's
//! `format`): qcow2, qcow2 with compressed clusters ([`qcow2`]). The raw
//! image is built as always (mke2fs and mkfs.erofs write into it), sparse
//! in the work directory; only its allocated extents are read
//! ([`extents`]), and clusters that are all zero are left out, so a 20 GiB
//! image holding 1 GiB gives a file of about 1 GiB. Nothing in the output
//! depends on time, randomness or the number of threads.

pub mod extents;
pub mod qcow2;

use std::fs::File;
use std::io::{BufWriter, Write};

use nix_repart_progress::Counter;
use nix_repart_spec::DiskFormat;
use nix_repart_work::WorkDir;

use crate::error::ImageError;
use crate::output::PendingFile;

/// Writes `raw` (the finished image) in `format` into a new pending file
/// named with the format's suffix.
pub fn convert(
    work: &WorkDir,
    raw: &mut PendingFile,
    format: DiskFormat,
    counter: &Counter,
) -> Result<PendingFile, ImageError> {
    let target = raw.target().with_extension(format.extension());
    let mut out = PendingFile::create(work, &target)?;
    let source: &File = raw.file();
    let write_error = |source| ImageError::Write { path: target.clone(), source };
    let mut writer = BufWriter::with_capacity(1 << 20, out.file());
    match format {
        DiskFormat::Raw => {}
        DiskFormat::Qcow2 => qcow2::write(source, &mut writer, false, counter).map_err(write_error)?,
        DiskFormat::Qcow2Compressed => qcow2::write(source, &mut writer, true, counter).map_err(write_error)?,
    }
    writer.flush().map_err(write_error)?;
    drop(writer);
    Ok(out)
}
