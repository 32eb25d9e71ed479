//! GPT attribute bits, as systemd-repart's `partition_merge_flags()` sets
//! them: `Flags=` first, then bit 63 (no-auto), 60 (read-only) and 59
//! (grow-file-system), each only on types that know it. Verity types and
//! verity pairs are read-only unless told otherwise, and every type that knows growfs gets
//! it unless the partition is read-only: systemd-repart turns it on even
//! over an explicit `GrowFileSystem=no` (repart.c: "Default to growfs on,
//! unless read-only"; seen with systemd-repart 252 here).

use nix_repart_spec::{Partition, VerityRole};

pub const GROWFS_BIT: u32 = 59;
pub const READ_ONLY_BIT: u32 = 60;
pub const NO_AUTO_BIT: u32 = 63;

fn set(flags: u64, bit: u32, on: bool) -> u64 {
    if on {
        flags | (1 << bit)
    } else {
        flags & !(1 << bit)
    }
}

/// The 64 attribute bits of the partition's GPT entry.
pub fn attribute_bits(p: &Partition) -> u64 {
    let designator = p.partition_type.designator;
    // Both partitions of a verity pair are read-only unless told otherwise
    // (seen with systemd-repart 257: a Verity=data usr partition gets 60).
    let verity = p.verity.role != VerityRole::Off;
    let read_only = p.read_only.or((designator.read_only_by_default() || verity).then_some(true));
    let mut growfs = p.grow_file_system;
    if designator.knows_growfs() && read_only != Some(true) {
        growfs = Some(true);
    }
    let mut flags = p.flags;
    if let (Some(no_auto), true) = (p.no_auto, designator.knows_no_auto()) {
        flags = set(flags, NO_AUTO_BIT, no_auto);
    }
    if let (Some(read_only), true) = (read_only, designator.knows_read_only()) {
        flags = set(flags, READ_ONLY_BIT, read_only);
    }
    if let (Some(growfs), true) = (growfs, designator.knows_growfs()) {
        flags = set(flags, GROWFS_BIT, growfs);
    }
    flags
}
