//! Disk formats other than raw, for VMs (make-disk-image's `format`):
//! qcow2, qcow2 with compressed clusters ([`qcow2`]), VDI ([`vdi`]) and
//! dynamic VHD ([`vhd`]). The raw
//! image is built as always (mke2fs and mkfs.erofs write into it), sparse
//! in the work directory; only its allocated extents are read
//! ([`extents`]), and clusters that are all zero are left out, so a 20 GiB
//! image holding 1 GiB gives a file of about 1 GiB. Nothing in the output
//! depends on time, randomness or the number of threads.

mod blocks;
pub mod extents;
pub mod qcow2;
pub mod vdi;
pub mod vhd;

use std::fs::File;
use std::io::{BufWriter, Write};

use nix_repart_plan::uuids::output_uuid;
use nix_repart_progress::Counter;
use nix_repart_spec::{DiskFormat, Spec};
use nix_repart_work::WorkDir;

use crate::error::ImageError;
use crate::output::PendingFile;

/// Writes `raw` (the finished image) in the spec's format into a new
/// pending file named with the format's suffix; `epoch` is
/// SOURCE_DATE_EPOCH, for the one format with a timestamp (VHD).
pub fn convert(
    work: &WorkDir,
    raw: &mut PendingFile,
    spec: &Spec,
    epoch: u64,
    counter: &Counter,
) -> Result<PendingFile, ImageError> {
    let format = spec.format;
    let target = raw.target().with_extension(format.extension());
    let mut out = PendingFile::create(work, &target)?;
    let source: &File = raw.file();
    let write_error = |source| ImageError::Write { path: target.clone(), source };
    let mut writer = BufWriter::with_capacity(1 << 20, out.file());
    match format {
        DiskFormat::Raw => {}
        DiskFormat::Qcow2 => qcow2::write(source, &mut writer, false, counter).map_err(write_error)?,
        DiskFormat::Qcow2Compressed => qcow2::write(source, &mut writer, true, counter).map_err(write_error)?,
        DiskFormat::Vdi => {
            let ids = (output_uuid(spec.seed, "vdi-image"), output_uuid(spec.seed, "vdi-snapshot"));
            vdi::write(source, &mut writer, ids, counter).map_err(write_error)?;
        }
        DiskFormat::Vpc => {
            vhd::write(source, &mut writer, output_uuid(spec.seed, "vhd-unique-id"), epoch, counter)
                .map_err(write_error)?;
        }
    }
    writer.flush().map_err(write_error)?;
    drop(writer);
    Ok(out)
}
