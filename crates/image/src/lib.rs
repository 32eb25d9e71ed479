//! nix-repart's image writer: from a validated spec to `<name>.raw`,
//! `repart-output.json` and, with split output, one file per partition.
//!
//! The order of work: read every partition's sources; make the squashfs
//! filesystems, whose size is only known once they are compressed (with an
//! auto-sized image each goes straight to its final offset, which depends
//! only on the partitions before it; with a fixed size it goes past the end
//! of the image and is moved into place); make erofs filesystems into
//! scratch files; plan the layout; write FAT, ext2/3/4 (mke2fs at the
//! partition's offset), erofs and swap, `CopyBlocks=` data, the GPT and
//! protective MBR into the sparse image; copy split files out; compress if
//! asked; rename everything into place. If an ext filesystem sized by
//! `Minimize=` turns out too small, the build runs once more with room.

mod blocks;
pub mod compress;
pub mod content;
mod error;
mod external;
pub mod gpt_read;
pub mod inspect;
pub mod output;
pub mod report;
mod table;

use std::fs::File;
use std::path::{Path, PathBuf};

use content::{Content, Scratch, SquashfsTarget};
use nix_repart_plan::{ContentSizes, Plan};
use nix_repart_spec::{Bytes, ImageSize, Minimize, Spec};

pub use error::ImageError;
use nix_repart_work::WorkDir;
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
    /// What the build measured on the way (free space of ext filesystems).
    pub notes: Vec<String>,
}

fn plan(spec: &Spec, sizes: &ContentSizes) -> Result<Plan, ImageError> {
    nix_repart_plan::plan(spec, sizes).map_err(ImageError::Plan)
}

/// The plan, without writing anything: squashfs filesystems are compressed
/// only to be measured.
pub fn plan_image(spec: &Spec, options: &BuildOptions) -> Result<Plan, ImageError> {
    let work = WorkDir::create(&std::env::temp_dir()).map_err(ImageError::Work)?;
    let scratch = Scratch { dir: work.path(), epoch: options.source_date_epoch, ext_extra: &[] };
    let mut measured = content::measure(spec, &scratch)?;
    for (i, c) in measured.contents.iter().enumerate() {
        if let Some(Content::Squashfs { tree, config }) = c {
            let id = &spec.partitions[i].id;
            let size =
                content::squashfs(id, tree, config, options.source_date_epoch, options.jobs, SquashfsTarget::Measure)?;
            measured.sizes.0[i] = Some(Bytes(size));
        }
    }
    plan(spec, &measured.sizes)
}

/// Builds the image into `out_dir` (created if missing). Everything else
/// the build makes lives in its work directory there, which goes when the
/// build ends; a failed build leaves nothing (see `nix_repart_work`).
pub fn build_image(spec: &Spec, out_dir: &Path, options: &BuildOptions) -> Result<(Plan, Written), ImageError> {
    let mut work = WorkDir::create(out_dir).map_err(ImageError::Work)?;
    let mut ext_extra = vec![0u64; spec.partitions.len()];
    let mut result = build_into(spec, out_dir, &mut work, options, &ext_extra);
    // One retry when a minimized ext filesystem was estimated too small.
    if let Err(ImageError::Mkfs { partition, source: nix_repart_mkfs::MkfsError::TooSmall { size, .. } }) = &result {
        if let Some(i) = spec.partitions.iter().position(|p| &p.id == partition && p.minimize != Minimize::Off) {
            ext_extra[i] = size / 4 + (16 << 20);
            let note = format!(
                "partition {partition}: the Minimize= estimate of {size} bytes was short; built again with {} bytes more",
                ext_extra[i]
            );
            result = build_into(spec, out_dir, &mut work, options, &ext_extra).map(|(plan, mut written)| {
                written.notes.insert(0, note);
                (plan, written)
            });
        }
    }
    if result.is_ok() {
        work.finish();
    }
    result
}

fn build_into(
    spec: &Spec,
    out_dir: &Path,
    work: &mut WorkDir,
    options: &BuildOptions,
    ext_extra: &[u64],
) -> Result<(Plan, Written), ImageError> {
    let scratch = Scratch { dir: work.path(), epoch: options.source_date_epoch, ext_extra };
    let mut measured = content::measure(spec, &scratch)?;
    let name = format!("{}.raw", spec.base_name());
    let image_path = out_dir.join(&name);
    let mut image = PendingFile::create(work, &image_path)?;
    let written_at = write_squashfs(spec, &mut measured, image.file(), options)?;
    let plan = plan(spec, &measured.sizes)?;
    let write_error = |source| ImageError::Write { path: image_path.clone(), source };
    let file: &File = image.file();
    for (i, at) in written_at.iter().enumerate() {
        let (Some(at), Some(size)) = (at, measured.sizes.0[i]) else { continue };
        let planned = plan.partitions[i].offset.0;
        if *at != planned {
            blocks::copy_range(file, *at, size.0, file, planned).map_err(write_error)?;
        }
    }
    image.file().set_len(plan.image.size.0).map_err(write_error)?;
    let temp_path = image.temp_path().to_path_buf();
    let paths = Paths { image: &image_path, temp: &temp_path, scratch: work.path() };
    let notes = write_rest(spec, &plan, &measured.contents, image.file(), &paths, options)?;
    let mut splits = Vec::new();
    for planned in &plan.partitions {
        if let Some(split_name) = &planned.split_file {
            splits.push(write_split(work, image.file(), planned.offset.0, planned.size.0, &out_dir.join(split_name))?);
        }
    }
    if let Some(how) = spec.compression {
        image = compress::compress(work, &mut image, how, options.jobs)?;
        for split in &mut splits {
            *split = compress::compress(work, split, how, options.jobs)?;
        }
    }
    let report_path = out_dir.join(REPORT_FILE);
    let report = write_report(work, &plan, &report_path)?;
    let split_files = splits.iter().map(|f| f.target().to_path_buf()).collect();
    let image_path = image.target().to_path_buf();
    let mut files = vec![image, report];
    files.append(&mut splits);
    for file in files {
        file.commit(work)?;
    }
    Ok((plan, Written { image: image_path, report: report_path, split_files, notes }))
}

/// Makes every squashfs filesystem in the image file and records its size;
/// returns where each was written. With an auto-sized image a partition's
/// offset depends only on the partitions before it, so it is known here;
/// with a fixed size the filesystem goes past the end of the image.
fn write_squashfs(
    spec: &Spec,
    measured: &mut content::Measured,
    file: &File,
    options: &BuildOptions,
) -> Result<Vec<Option<u64>>, ImageError> {
    let mut written_at = vec![None; spec.partitions.len()];
    let mut scratch = match spec.image_size {
        ImageSize::Fixed(size) => size.round_up(Bytes::MIB).0,
        ImageSize::Auto => 0,
    };
    for (i, c) in measured.contents.iter().enumerate() {
        let Some(Content::Squashfs { tree, config }) = c else { continue };
        let offset = match spec.image_size {
            ImageSize::Auto => provisional_offset(spec, &measured.sizes, i)?,
            ImageSize::Fixed(_) => scratch,
        };
        let target = SquashfsTarget::File { file, offset };
        let id = &spec.partitions[i].id;
        let size = content::squashfs(id, tree, config, options.source_date_epoch, options.jobs, target)?;
        measured.sizes.0[i] = Some(Bytes(size));
        written_at[i] = Some(offset);
        scratch = (Bytes(offset + size)).round_up(Bytes::MIB).0;
    }
    Ok(written_at)
}

/// Where partition `i` will start, planned with what is known so far
/// (sizes of later partitions do not move it in an auto-sized image).
fn provisional_offset(spec: &Spec, sizes: &ContentSizes, i: usize) -> Result<u64, ImageError> {
    let mut known = sizes.clone();
    for size in known.0.iter_mut().skip(i) {
        size.get_or_insert(Bytes(0));
    }
    Ok(plan(spec, &known)?.partitions[i].offset.0)
}

/// Where the image is being written.
struct Paths<'a> {
    /// The final name, for messages.
    image: &'a Path,
    /// The temporary file tools write into.
    temp: &'a Path,
    /// Where staging trees go.
    scratch: &'a Path,
}

/// FAT, ext, erofs and swap filesystems, `CopyBlocks=` data, and the
/// partition table. Returns notes on the ext filesystems.
fn write_rest(
    spec: &Spec,
    plan: &Plan,
    contents: &[Option<Content>],
    file: &File,
    paths: &Paths,
    options: &BuildOptions,
) -> Result<Vec<String>, ImageError> {
    let mut notes = Vec::new();
    let epoch = options.source_date_epoch;
    for ((p, planned), c) in spec.partitions.iter().zip(&plan.partitions).zip(contents) {
        if let Some(copy) = &p.copy_blocks {
            blocks::copy_blocks(file, paths.image, planned.offset.0, &copy.source, copy.size.0, &p.id)?;
        }
        match c {
            Some(Content::Fat(prepared)) => content::write_fat(prepared, file, planned, spec, epoch)?,
            Some(Content::Ext(ext)) => {
                notes.push(external::write_ext(ext, planned, spec, paths.temp, paths.scratch, epoch)?);
            }
            Some(Content::Erofs { file: scratch, size }) => {
                external::write_erofs(scratch.path(), *size, file, paths.image, planned)?;
            }
            Some(Content::Swap) => external::write_swap(file, paths.image, planned)?,
            Some(Content::Squashfs { .. }) | None => {}
        }
    }
    table::write_table(file, plan).map_err(|source| ImageError::Gpt { path: paths.image.to_path_buf(), source })?;
    Ok(notes)
}

fn write_report(work: &WorkDir, plan: &Plan, path: &Path) -> Result<PendingFile, ImageError> {
    let mut report = PendingFile::create(work, path)?;
    let text = report::render(plan).map_err(ImageError::Report)?;
    std::io::Write::write_all(report.file(), text.as_bytes())
        .map_err(|source| ImageError::Write { path: path.to_path_buf(), source })?;
    Ok(report)
}

/// One partition's bytes, copied out of the finished image.
fn write_split(work: &WorkDir, image: &File, offset: u64, size: u64, path: &Path) -> Result<PendingFile, ImageError> {
    let mut split = PendingFile::create(work, path)?;
    let write_error = |source| ImageError::Write { path: path.to_path_buf(), source };
    split.file().set_len(size).map_err(write_error)?;
    blocks::copy_range(image, offset, size, split.file(), 0).map_err(write_error)?;
    Ok(split)
}
