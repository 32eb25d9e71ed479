//! The build, as one sequence of stages (docs/design.md describes each):
//!
//! 1. **identity**: labels, disk, partition and filesystem UUIDs, from the
//!    spec alone;
//! 2. **measure**: each partition in order reads its sources and learns
//!    how large its filesystem is; streaming writers (squashfs, minimized
//!    ext) write it on the way, at the offset the planner's own rule
//!    ([`nix_repart_plan::streaming_offset`]) gives from the partitions
//!    before it (past the end of a fixed-size image, moved in stage 4);
//! 3. **plan**: the layout, once, from the measured sizes;
//! 4. **write**: streamed filesystems moved into place if they were
//!    written elsewhere, then FAT, ext, erofs, swap and `CopyBlocks=`
//!    into their planned regions;
//! 5. **derived data**: dm-verity hash trees (the pair's UUIDs come from
//!    the root hash), then split files;
//! 6. **GPT**: protective MBR, both headers and entry arrays;
//! 7. **compress** the image and split files, if asked;
//! 8. **commit**: `repart-output.json`, and every output renamed into place.

use std::path::Path;
use std::time::Instant;

use nix_repart_plan::{ContentEstimate, ContentSizes, Plan};
use nix_repart_progress::{Progress, Totals};
use nix_repart_spec::{Bytes, DiskFormat, ImageSize, PartitionTable, Spec};
use nix_repart_work::WorkDir;

use crate::content::{self, Content, Measured};
use crate::context::{Build, ImageFile, Sink};
use crate::error::ImageError;
use crate::options::{BuildOptions, Sizing};
use crate::output::report::REPORT_FILE;
use crate::output::{self, blocks, PendingFile, Written};
use crate::summary::{self, Row};

pub fn build(
    spec: &Spec,
    out_dir: &Path,
    options: &BuildOptions,
    progress: &Progress,
) -> Result<(Plan, Written), ImageError> {
    let started = Instant::now();
    let mut work = WorkDir::create(out_dir).map_err(ImageError::Work)?;
    // 1. identity
    let identity = nix_repart_plan::identity(spec).map_err(ImageError::Plan)?;
    let b = Build { spec, identity: &identity, options, work: work.path(), progress };
    let image_path = out_dir.join(format!("{}.raw", spec.base_name()));
    let mut image = PendingFile::create(&work, &image_path)?;
    let temp = image.temp_path().to_path_buf();
    let file = ImageFile { file: image.file(), temp: &temp, shown: &image_path };
    // 2. measure
    let measured = measure_all(&b, file)?;
    // 3. plan
    let sizes = ContentSizes(measured.iter().map(|m| m.size).collect());
    let mut plan = nix_repart_plan::plan(spec, &identity, &sizes).map_err(ImageError::Plan)?;
    progress.note(&format!("plan: {} partitions, image {}", plan.partitions.len(), plan.image.size));
    // 4. write
    let write_error = |source| ImageError::Write { path: image_path.clone(), source };
    move_streamed(&measured, &plan, file).map_err(write_error)?;
    file.file.set_len(plan.image.size.0).map_err(write_error)?;
    let mut facts: Vec<_> = measured.iter().map(|m| m.facts.clone()).collect();
    for ((p, planned), (m, facts)) in spec.partitions.iter().zip(&plan.partitions).zip(measured.iter().zip(&mut facts))
    {
        let started = Instant::now();
        facts.notes.extend(content::write(&b, file, p, planned, &m.content)?);
        facts.elapsed += started.elapsed();
    }
    drop(measured);
    // 5. derived data
    output::verity::write_all(spec, &mut plan, file.file, progress)?;
    let mut splits = Vec::new();
    if plan.partitions.iter().any(|p| p.split_file.is_some()) {
        splits = progress
            .run("split files", Totals::default(), |_| output::split::write_all(&work, file.file, &plan, out_dir))?;
    }
    // 6. GPT
    output::gpt::write_table(file.file, &plan, spec)
        .map_err(|source| ImageError::Gpt { path: image_path.clone(), source })?;
    if spec.partition_table == PartitionTable::None {
        image = only_filesystem(&work, &mut image, &plan)?;
    }
    // 7. compress, or write the VM disk format
    if spec.format != DiskFormat::Raw {
        let label = format!("writing {}", spec.format.extension());
        let totals = Totals { bytes: Some(plan.image.size.0), files: None };
        let epoch = options.source_date_epoch;
        image =
            progress.run(label, totals, |counter| output::disk::convert(&work, &mut image, spec, epoch, counter))?;
    }
    if let Some(how) = spec.compression {
        let label = format!("compressing with {:?}", how.algorithm);
        let total = plan.image.size.0
            + plan.partitions.iter().filter(|p| p.split_file.is_some()).map(|p| p.size.0).sum::<u64>();
        let totals = Totals { bytes: Some(total), files: None };
        (image, splits) = progress.run(label, totals, |counter| {
            let image = output::compress::compress(&work, &mut image, how, options.jobs, counter)?;
            let splits = splits
                .iter_mut()
                .map(|split| output::compress::compress(&work, split, how, options.jobs, counter))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ImageError>((image, splits))
        })?;
    }
    // 8. commit
    let report_path = out_dir.join(REPORT_FILE);
    let report = write_report(&work, &plan, spec.split, &report_path)?;
    let split_files = splits.iter().map(|f| f.target().to_path_buf()).collect();
    let image_path = image.target().to_path_buf();
    for pending in [image, report].into_iter().chain(splits) {
        pending.commit(&mut work)?;
    }
    work.finish();
    let rows: Vec<Row> = plan.partitions.iter().zip(facts).map(|(planned, facts)| Row::new(planned, facts)).collect();
    let mut notes: Vec<String> = rows.iter().flat_map(|r| r.facts.notes.clone()).collect();
    if spec.random_seed {
        let seed = spec.seed;
        notes.insert(0, format!("seed is random ({seed}): the UUIDs, and so the image, differ on every build; set a seed to make it reproducible"));
    }
    let summary = summary::render(&rows, started.elapsed());
    Ok((plan, Written { image: image_path, report: report_path, split_files, notes, summary }))
}

/// `nix-repart plan`: stages 1 to 3, with nothing written (scratch files,
/// for `--exact` erofs, go to a work directory in `TMPDIR`).
pub fn plan(spec: &Spec, options: &BuildOptions, sizing: Sizing, progress: &Progress) -> Result<Plan, ImageError> {
    let work = WorkDir::create(&std::env::temp_dir()).map_err(ImageError::Work)?;
    let identity = nix_repart_plan::identity(spec).map_err(ImageError::Plan)?;
    let b = Build { spec, identity: &identity, options, work: work.path(), progress };
    let sink = Sink::Measure { exact: sizing == Sizing::Exact };
    let measured = (0..spec.partitions.len()).map(|i| content::measure(&b, i, sink)).collect::<Result<Vec<_>, _>>()?;
    let sizes = ContentSizes(measured.iter().map(|m| m.size).collect());
    let mut plan = nix_repart_plan::plan(spec, &identity, &sizes).map_err(ImageError::Plan)?;
    for (planned, m) in plan.partitions.iter_mut().zip(&measured) {
        planned.content_estimate = m
            .facts
            .estimate
            .map(|e| ContentEstimate { upper_bound: Bytes(e.upper_bound), method: e.method.to_string() });
    }
    work.finish();
    Ok(plan)
}

/// Stage 2: every partition in order, streaming writers into the image.
fn measure_all(b: &Build, image: ImageFile) -> Result<Vec<Measured>, ImageError> {
    // Past the end of a fixed-size image, where streamed filesystems wait
    // for the plan.
    let mut past_end = match b.spec.image_size {
        ImageSize::Fixed(size) => size.round_up(Bytes::MIB).0,
        ImageSize::Auto => 0,
    };
    let mut measured: Vec<Measured> = Vec::with_capacity(b.spec.partitions.len());
    for i in 0..b.spec.partitions.len() {
        let earlier: Vec<Option<Bytes>> = measured.iter().map(|m| m.size).collect();
        let at =
            nix_repart_plan::streaming_offset(b.spec, &earlier).map_err(ImageError::Plan)?.map_or(past_end, |o| o.0);
        let m = content::measure(b, i, Sink::Image { image, at })?;
        if let (Content::Streamed { at }, Some(size)) = (&m.content, m.size) {
            past_end = past_end.max(Bytes(at + size.0).round_up(Bytes::MIB).0);
        }
        measured.push(m);
    }
    Ok(measured)
}

/// Stage 4, first part: streamed filesystems written where the plan does
/// not put them (past the end of a fixed-size image, or 1 MiB in on a
/// disk of at most 4 MiB, whose first usable LBA is 34) are moved there.
fn move_streamed(measured: &[Measured], plan: &Plan, image: ImageFile) -> std::io::Result<()> {
    for (m, planned) in measured.iter().zip(&plan.partitions) {
        if let (Content::Streamed { at }, Some(size)) = (&m.content, m.size) {
            blocks::move_range(image.file, *at, size.0, planned.offset.0, plan.image.size.0)?;
        }
    }
    Ok(())
}

/// `partitionTable: none`: the image is its one partition's region.
fn only_filesystem(work: &WorkDir, image: &mut PendingFile, plan: &Plan) -> Result<PendingFile, ImageError> {
    let target = image.target().to_path_buf();
    let mut alone = PendingFile::create(work, &target)?;
    let write_error = |source| ImageError::Write { path: target.clone(), source };
    if let Some(p) = plan.partitions.first() {
        blocks::copy_range(image.file(), p.offset.0, p.size.0, alone.file(), 0).map_err(write_error)?;
        alone.file().set_len(p.size.0).map_err(write_error)?;
    }
    Ok(alone)
}

fn write_report(work: &WorkDir, plan: &Plan, split: bool, path: &Path) -> Result<PendingFile, ImageError> {
    let mut report = PendingFile::create(work, path)?;
    let text = output::report::render(plan, split).map_err(ImageError::Report)?;
    std::io::Write::write_all(report.file(), text.as_bytes())
        .map_err(|source| ImageError::Write { path: path.to_path_buf(), source })?;
    Ok(report)
}
