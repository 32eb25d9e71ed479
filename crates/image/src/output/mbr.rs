//! MBR (MSDOS) partition tables, as make-disk-image writes them for
//! firmware that reads no GPT: `mbr` lists the partitions alone (at most
//! four), `hybrid` lists a 0xEE entry over the GPT's own sectors and then
//! the first three partitions, beside the GPT. Entries use LBA only (CHS
//! fields saturated), the boot flag marks the ESP or XBOOTLDR (else the
//! first partition), and the disk signature comes from the seed.

use nix_repart_plan::{uuids::output_uuid, PartitionPlan, Plan};
use nix_repart_spec::{Designator, Format, Spec};

const ENTRY: usize = 16;

/// The 512-byte MBR.
pub fn table(plan: &Plan, spec: &Spec, hybrid: bool) -> Vec<u8> {
    let mut mbr = vec![0u8; 512];
    mbr[440..444].copy_from_slice(&output_uuid(spec.seed, "mbr-disk-signature").as_bytes()[..4]);
    let boot = spec
        .partitions
        .iter()
        .position(|p| matches!(p.partition_type.designator, Designator::Esp | Designator::Xbootldr))
        .unwrap_or(0);
    let mut slot = 0;
    if hybrid {
        let first = plan.partitions.first().map_or(plan.image.first_usable_lba.0, |p| p.first_lba.0);
        put(&mut mbr, slot, false, 0xEE, 1, first.saturating_sub(1));
        slot += 1;
    }
    for (i, (p, planned)) in spec.partitions.iter().zip(&plan.partitions).enumerate().take(4 - slot) {
        let kind = type_byte(p.partition_type.designator, p.format);
        put(&mut mbr, slot, i == boot, kind, planned.first_lba.0, sectors(planned));
        slot += 1;
    }
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    mbr
}

fn sectors(p: &PartitionPlan) -> u64 {
    p.last_lba.0 + 1 - p.first_lba.0
}

/// The MBR type byte for a partition.
fn type_byte(designator: Designator, format: Option<Format>) -> u8 {
    match (designator, format) {
        (Designator::Esp, _) => 0xEF,
        (Designator::Xbootldr, _) => 0xEA,
        (Designator::Swap, _) => 0x82,
        (_, Some(Format::Vfat)) => 0x0C,
        _ => 0x83,
    }
}

fn put(mbr: &mut [u8], slot: usize, boot: bool, kind: u8, start: u64, count: u64) {
    let e = &mut mbr[446 + slot * ENTRY..446 + (slot + 1) * ENTRY];
    e[0] = if boot { 0x80 } else { 0 };
    e[1..4].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    e[4] = kind;
    e[5..8].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    e[8..12].copy_from_slice(&clamp(start).to_le_bytes());
    e[12..16].copy_from_slice(&clamp(count).to_le_bytes());
}
