//! What the caller decides about a build or a plan; none of it depends on
//! the machine or changes the bytes of an image.

/// Settings every writer receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOptions {
    /// Every timestamp written into an image (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: u64,
    /// Worker threads for reading and compressing; never changes the bytes.
    pub jobs: usize,
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
