//! nix-repart's image writer: from a validated spec to `<name>.raw`,
//! `repart-output.json` and, with split output, one file per partition.
//!
//! The build is one sequence of stages, in [`pipeline`]; where each
//! partition's content is measured and written is in [`content`], one
//! module per format; the other output files are in [`output`]. Reading
//! an existing image back is [`inspect`].

mod content;
mod context;
pub mod inspect;
pub mod output;
pub mod pipeline;
mod summary;

use std::path::{Path, PathBuf};

use nix_repart_plan::{ContentEstimate, Plan};
use nix_repart_progress::Progress;
use nix_repart_spec::Spec;
use nix_repart_work::WorkDir;

pub use content::Estimate;
pub use error::ImageError;
pub use inspect::gpt_read;

mod error;

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
    /// What the build measured on the way (free space of ext filesystems,
    /// a retried estimate).
    pub notes: Vec<String>,
    /// The table of partitions, for the end of the log.
    pub summary: String,
}

/// Builds the image into `out_dir` (created if missing). Everything else
/// the build makes lives in its work directory there, which goes when the
/// build ends; a failed build leaves nothing (see `nix_repart_work`).
pub fn build_image(
    spec: &Spec,
    out_dir: &Path,
    options: &BuildOptions,
    progress: &Progress,
) -> Result<(Plan, Written), ImageError> {
    pipeline::build(spec, out_dir, options, progress)
}

/// How `nix-repart plan` sizes the filesystems that compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// squashfs and erofs estimated from the tree (and a sample of the
    /// data): fast, and marked as estimates in the plan.
    Estimate,
    /// Every filesystem made (squashfs compressed, erofs by mkfs.erofs)
    /// only to be measured.
    Exact,
}

/// The plan, without writing any output: stages 1 to 3 of the build, with
/// the sizes of squashfs and erofs estimated unless `sizing` is exact.
pub fn plan_image(
    spec: &Spec,
    options: &BuildOptions,
    sizing: Sizing,
    progress: &Progress,
) -> Result<Plan, ImageError> {
    let work = WorkDir::create(&std::env::temp_dir()).map_err(ImageError::Work)?;
    let identity = nix_repart_plan::identity(spec).map_err(ImageError::Plan)?;
    let b = context::Build { spec, identity: &identity, options, work: work.path(), progress };
    let sink = context::Sink::Measure { exact: sizing == Sizing::Exact };
    let measured = (0..spec.partitions.len()).map(|i| content::measure(&b, i, sink)).collect::<Result<Vec<_>, _>>()?;
    let sizes = nix_repart_plan::ContentSizes(measured.iter().map(|m| m.size).collect());
    let mut plan = nix_repart_plan::plan(spec, &identity, &sizes).map_err(ImageError::Plan)?;
    for (planned, m) in plan.partitions.iter_mut().zip(&measured) {
        planned.content_estimate = m.facts.estimate.map(|e| ContentEstimate {
            upper_bound: nix_repart_spec::Bytes(e.upper_bound),
            method: e.method.to_string(),
        });
    }
    work.finish();
    Ok(plan)
}
