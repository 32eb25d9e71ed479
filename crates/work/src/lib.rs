//! The one cleanup mechanism of a nix-repart build.
//!
//! Everything a build creates before its outputs are complete lives in one
//! work directory, `.nix-repart-work.XXXXXX` inside the output directory:
//! the image and split files under temporary names, staging trees, scratch
//! filesystems, tool configuration. Outputs leave it only by rename
//! ([`WorkDir::commit`]). The work directory is removed when the build ends
//! ([`WorkDir::finish`] on success, `Drop` on error, which also removes the
//! outputs renamed so far and an output directory the build created), and
//! by [`abort`], which the binary's signal handler calls on SIGINT, SIGTERM
//! and SIGHUP: it kills the child processes started through [`run`], then
//! removes what every live work directory holds.
//!
//! A build holds an `flock` on its work directory for as long as it runs;
//! the kernel drops it when the process dies, even by SIGKILL. So a new
//! build removes every work directory it can lock: those of killed builds
//! ([`WorkDir::create`]). Children are started with `PR_SET_PDEATHSIG`, so
//! a killed build's mkfs does not outlive it either.
//!
//! This crate knows nothing of images or filesystems.

mod child;
mod dir;
mod error;
mod registry;

pub use child::run;
pub use dir::{WorkDir, WORK_DIR_PREFIX};
pub use error::WorkError;
pub use registry::{abort, aborting};
