//! nix-repart's image writer: from a validated spec to `<name>.raw`,
//! `repart-output.json` and, with split output, one file per partition.
//!
//! The build is one sequence of stages, in [`pipeline`]; where each
//! partition's content is measured and written is in `content`, one
//! module per format; the other output files are in [`output`]. Reading
//! an existing image back is [`inspect`].

mod content;
mod context;
pub mod inspect;
mod options;
pub mod output;
pub mod pipeline;
mod summary;

use std::path::Path;

use nix_repart_plan::Plan;
use nix_repart_progress::Progress;
use nix_repart_spec::Spec;

pub use error::ImageError;
pub use inspect::gpt_read;
pub use options::{BuildOptions, Sizing};
pub use output::report::REPORT_FILE;
pub use output::Written;

mod error;

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

/// The plan, without writing any output: stages 1 to 3 of the build, with
/// the sizes of squashfs and erofs estimated unless `sizing` is exact.
pub fn plan_image(
    spec: &Spec,
    options: &BuildOptions,
    sizing: Sizing,
    progress: &Progress,
) -> Result<Plan, ImageError> {
    pipeline::plan(spec, options, sizing, progress)
}
