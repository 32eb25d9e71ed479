//! What a writer updates while it works: bytes and files done, shared
//! with the reporter by atomics. A writer that is not reported on gets a
//! detached counter; updating one costs an atomic add either way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Default)]
struct Counts {
    bytes: AtomicU64,
    files: AtomicU64,
}

/// Bytes and files done by one step.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<Counts>);

impl Counter {
    /// A counter nobody reads (tests, `--quiet`).
    pub fn detached() -> Counter {
        Counter::default()
    }

    pub fn add_bytes(&self, bytes: u64) {
        self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn add_files(&self, files: u64) {
        self.0.files.fetch_add(files, Ordering::Relaxed);
    }

    pub fn bytes(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    pub fn files(&self) -> u64 {
        self.0.files.load(Ordering::Relaxed)
    }
}
