//! ext2/3/4: sized from the tree (`nix_repart_mkfs::ext_size`), staged,
//! and made by mke2fs straight into the image file at the partition's
//! offset. With `Minimize=` the partition is exactly its filesystem, so it
//! is made while measuring, at its streaming offset; if the estimate was
//! short (mke2fs runs out of room), this partition alone is made again
//! with more room. Without, it is made in its planned region after
//! planning. Each filesystem reports its free space.

use nix_repart_ext4::{Ext4Error, Ext4Job};
use nix_repart_mkfs::ext::ExtJob;
use nix_repart_mkfs::ext_size;
use nix_repart_mkfs::{ExtKind, MkfsError};
use nix_repart_plan::PartitionPlan;
use nix_repart_progress::Totals;
use nix_repart_spec::{Bytes, ExtWriter, Format, Minimize};
use nix_repart_tree::{Staged, Symlinks};

use super::measured::{Content, ExtPending as Pending, Facts, Measured};
use super::{staging::stage, tree};
use crate::context::{Build, ImageFile, Sink};
use crate::error::ImageError;
use crate::output::blocks;

fn mkfs_error(partition: &str) -> impl Fn(MkfsError) -> ImageError + '_ {
    move |source| ImageError::Mkfs { partition: partition.to_string(), source }
}

pub fn measure(b: &Build, i: usize, kind: ExtKind, sink: Sink) -> Result<Measured, ImageError> {
    let p = &b.spec.partitions[i];
    let tree = tree::read(b, p, Symlinks::Keep)?;
    if !own_writer(b, kind) {
        nix_repart_mkfs::ext::check_directories(&tree).map_err(mkfs_error(&p.id))?;
    }
    let mut facts = Facts::of_tree(&tree);
    let minimized = p.minimize != Minimize::Off;
    let size = if own_writer(b, kind) {
        own_size(b, i, &tree, minimized)?
    } else {
        let mut size = ext_size::estimate(&tree, kind);
        // freeSpace: room the files do not need (make-disk-image's additionalSpace).
        size.blocks += p.free_space.0.div_ceil(ext_size::BLOCK);
        size
    };
    let pending = Pending { tree, kind, size, minimized };
    match sink {
        Sink::Image { image, at } if minimized => {
            let staged = staged(b, &p.id, &pending)?;
            let (size, notes) = make_minimized(b, image, i, &pending, staged.as_ref(), at)?;
            facts.filesystem_bytes = Some(size.0);
            facts.notes = notes;
            Ok(Measured { content: Content::Streamed { at }, size: Some(size), facts })
        }
        _ => {
            let size = (minimized || !pending.tree.entries.is_empty()).then(|| Bytes(size.bytes()));
            Ok(Measured { content: Content::Ext(Box::new(pending)), size, facts })
        }
    }
}

/// Makes a minimized filesystem at `at`, exactly as large as its
/// partition will be; once more, larger, if the estimate was short.
fn make_minimized(
    b: &Build,
    image: ImageFile,
    i: usize,
    pending: &Pending,
    staged: Option<&Staged>,
    at: u64,
) -> Result<(Bytes, Vec<String>), ImageError> {
    let p = &b.spec.partitions[i];
    let label = &b.identity.partitions[i].label;
    let region = |blocks: u64| nix_repart_plan::minimized_size(b.spec, p, Bytes(blocks * ext_size::BLOCK));
    let size = region(pending.size.blocks).map_err(ImageError::Plan)?;
    let job = Job { i, label, pending, staged, offset: at, size: size.0 };
    match make(b, image, &job) {
        Ok(note) => Ok((size, vec![note])),
        Err(
            ImageError::Mkfs { source: MkfsError::TooSmall { size: short, .. }, .. }
            | ImageError::Ext4 { source: Ext4Error::TooSmall { blocks: short, .. }, .. },
        ) => {
            let extra = short / 4 + (16 << 20);
            let retry = format!(
                "partition {}: the Minimize= estimate of {short} bytes was short; made again with {extra} bytes more",
                p.id
            );
            clear(image, at, short)?;
            let larger = region(pending.size.blocks + extra.div_ceil(ext_size::BLOCK)).map_err(ImageError::Plan)?;
            let note = make(b, image, &Job { size: larger.0, ..job })?;
            Ok((larger, vec![retry, note]))
        }
        Err(e) => Err(e),
    }
}

/// Zeroes what a failed mke2fs run left in the image, so the retry's
/// bytes do not depend on it.
fn clear(image: ImageFile, at: u64, len: u64) -> Result<(), ImageError> {
    blocks::zero_range(image.file, at, len)
        .map_err(|source| ImageError::Write { path: image.shown.to_path_buf(), source })
}

/// Makes the filesystem of a partition that is not minimized (or of a
/// minimized one when the build had no image to stream into).
pub fn write(b: &Build, image: ImageFile, pending: &Pending, planned: &PartitionPlan) -> Result<String, ImageError> {
    let i = (planned.number - 1) as usize;
    let staged = staged(b, &planned.id, pending)?;
    let job = Job {
        i,
        label: &planned.label,
        pending,
        staged: staged.as_ref(),
        offset: planned.offset.0,
        size: planned.size.0,
    };
    make(b, image, &job)
}

/// The exact size nix-repart's own writer needs for `tree`, from its
/// layout, before anything is written. Minimized, a writable root keeps
/// half again what its files take free, blocks and inodes (systemd-repart
/// 257 sizes a `Minimize=guess` ext4 at about 1.5 times its measured use),
/// or exactly `freeSpace` blocks when the spec gives it (make-disk-image's
/// `additionalSpace`), and at least mke2fs's one inode per 16 KiB; not
/// minimized, the size is the least that holds it.
fn own_size(
    b: &Build,
    i: usize,
    tree: &nix_repart_tree::Directory,
    minimized: bool,
) -> Result<ext_size::ExtSize, ImageError> {
    let p = &b.spec.partitions[i];
    let uuid = b.identity.partitions[i].filesystem_uuid.unwrap_or_default();
    let prepared = nix_repart_ext4::Prepared::new(tree, b.options.source_date_epoch, &uuid);
    let used = prepared.highest();
    let free_space = p.free_space.0.div_ceil(ext_size::BLOCK);
    let inodes = if minimized { used + used / 2 } else { used };
    let free = |content: u64| match minimized {
        false => 0,
        true if free_space > 0 => free_space,
        true => content / 2,
    };
    let error = |source| ImageError::Ext4 { partition: p.id.clone(), source };
    let sizing = nix_repart_ext4::minimal(&prepared, inodes, free).map_err(error)?;
    // A writable root also gets mke2fs's inode ratio (one per 16 KiB) for
    // the size it ends up with, as a filesystem made at that size would.
    let by_ratio = sizing.blocks * ext_size::BLOCK / 16384;
    if !minimized || by_ratio <= sizing.inodes {
        return Ok(ext_size::ExtSize { blocks: sizing.blocks, inodes: sizing.inodes });
    }
    let sizing = nix_repart_ext4::minimal(&prepared, by_ratio, free).map_err(error)?;
    Ok(ext_size::ExtSize { blocks: sizing.blocks, inodes: sizing.inodes })
}

/// The inodes of an ext4 written by nix-repart: mke2fs's one per 16 KiB of
/// the region, or the minimized size's count when the region is that size
/// (a region made larger, by ext4's 32 MiB floor or alignment, gets the
/// ratio of its own size: the room is there).
fn own_inodes(pending: &Pending, region: u64) -> u64 {
    let by_ratio = region / 16384;
    match pending.minimized {
        true if region / ext_size::BLOCK > pending.size.blocks => pending.size.inodes.max(by_ratio),
        true => pending.size.inodes,
        false => by_ratio,
    }
}

/// Whether nix-repart's own writer makes this filesystem (`extWriter`).
fn own_writer(b: &Build, kind: ExtKind) -> bool {
    kind == ExtKind::Ext4 && b.spec.ext_writer == ExtWriter::NixRepart
}

/// The staging copy mke2fs -d reads; none for nix-repart's own writer.
fn staged(b: &Build, id: &str, pending: &Pending) -> Result<Option<Staged>, ImageError> {
    if own_writer(b, pending.kind) {
        return Ok(None);
    }
    stage(b, id, &pending.tree, "mke2fs").map(Some)
}

#[derive(Clone, Copy)]
struct Job<'a> {
    /// The partition's index in the spec.
    i: usize,
    label: &'a str,
    pending: &'a Pending,
    /// mke2fs' staging copy; `None` for nix-repart's own writer.
    staged: Option<&'a Staged>,
    offset: u64,
    size: u64,
}

/// One mke2fs run into the image; returns a note on the free space.
fn make(b: &Build, image: ImageFile, job: &Job) -> Result<String, ImageError> {
    let id = b.spec.partitions[job.i].id.as_str();
    let Some(staged) = job.staged else { return make_own(b, image, job) };
    let conf_dir = tempfile::Builder::new()
        .prefix(".nix-repart-mke2fs.")
        .tempdir_in(b.work)
        .map_err(|source| ImageError::Write { path: b.work.to_path_buf(), source })?;
    let kind = job.pending.kind;
    let owners = nix_repart_mkfs::ext_owners::not_root(&job.pending.tree);
    let ext = ExtJob {
        kind,
        staged: staged.path(),
        scratch: conf_dir.path(),
        image: image.temp,
        offset: job.offset,
        size: job.size,
        uuid: b.identity.partitions[job.i].filesystem_uuid.unwrap_or_default(),
        label: job.label,
        epoch: b.options.source_date_epoch,
        inodes: job.pending.minimized.then_some(job.pending.size.inodes),
        extra: b.spec.mkfs_options_for(Format::Ext(kind)),
        owners: &owners,
    };
    let label = format!("{id}: mke2fs ({}, {} bytes)", kind.name(), job.size);
    let report =
        b.progress.run(label, Totals::default(), |_| nix_repart_mkfs::ext::make(&ext).map_err(mkfs_error(id)))?;
    Ok(free_note(id, kind, job.size, report.free_blocks, report.free_inodes, report.inodes))
}

fn free_note(id: &str, kind: ExtKind, size: u64, free_blocks: u64, free_inodes: u64, inodes: u64) -> String {
    let free = free_blocks * 4096;
    let percent = free as f64 * 100.0 / size.max(1) as f64;
    format!(
        "partition {id}: {} of {size} bytes, {free} bytes ({percent:.1}%) and {free_inodes} of {inodes} inodes free",
        kind.name()
    )
}

/// nix-repart's own ext4 writer, from the tree straight into the image.
fn make_own(b: &Build, image: ImageFile, job: &Job) -> Result<String, ImageError> {
    let id = b.spec.partitions[job.i].id.as_str();
    let pending = job.pending;
    let totals = pending.tree.totals();
    let ext4 = Ext4Job {
        tree: &pending.tree,
        image: image.file,
        offset: job.offset,
        blocks: job.size / ext_size::BLOCK,
        inodes: own_inodes(pending, job.size),
        uuid: b.identity.partitions[job.i].filesystem_uuid.unwrap_or_default(),
        label: &nix_repart_mkfs::ext::ext_label(job.label),
        epoch: b.options.source_date_epoch,
    };
    let label = format!("{id}: ext4 ({} bytes)", job.size);
    let progress = Totals { files: Some(totals.files), bytes: Some(totals.file_bytes) };
    let written = b.progress.run(label, progress, |counter| {
        nix_repart_ext4::write(&ext4, counter).map_err(|source| ImageError::Ext4 { partition: id.to_string(), source })
    })?;
    Ok(free_note(id, pending.kind, job.size, written.free_blocks, written.free_inodes, written.inodes))
}
