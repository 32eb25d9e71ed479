//! Writes the protective MBR and both GPT headers and entry arrays with the
//! `gpt` crate's low-level pieces. Partitions are built directly from the
//! plan, so nothing is random (the crate's `add_partition` would pick GUIDs
//! itself); with first usable LBA 2048 this gives the bytes systemd-repart
//! 252 writes. The partition data area is not touched here.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

use gpt::disk::LogicalBlockSize;
use gpt::header::{Header, HeaderBuilder};
use gpt::mbr::ProtectiveMBR;
use gpt::partition::Partition;
use gpt::partition_types::{OperatingSystem, Type};
use nix_repart_plan::{Plan, PARTITION_ENTRIES, PARTITION_ENTRY_SIZE};

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn block_size(plan: &Plan) -> io::Result<LogicalBlockSize> {
    LogicalBlockSize::try_from(plan.image.sector_size.0)
}

/// Writes the partition table of `plan` into `file`, which already has the
/// image's final size.
pub fn write_table(mut file: &File, plan: &Plan) -> io::Result<()> {
    let lb = block_size(plan)?;
    let sectors = plan.image.size.0 / plan.image.sector_size.0;
    write_protective_mbr(file, sectors)?;
    let mut primary = build_header(plan, lb, sectors)?;
    let mut backup = HeaderBuilder::from_header(&primary).primary(false).build(lb).map_err(io_error)?;
    for (index, p) in plan.partitions.iter().enumerate() {
        let entry = Partition {
            part_type_guid: Type { guid: p.type_guid, os: OperatingSystem::None },
            part_guid: p.uuid,
            first_lba: p.first_lba.0,
            last_lba: p.last_lba.0,
            flags: p.attributes,
            name: p.label.clone(),
        };
        for header in [&primary, &backup] {
            entry.write_to_device(&mut file, index as u64, header.part_start, lb, header.part_size)?;
        }
    }
    primary.write_primary(&mut file, lb).map_err(io_error)?;
    backup.write_backup(&mut file, lb).map_err(io_error)?;
    file.flush()
}

fn build_header(plan: &Plan, lb: LogicalBlockSize, sectors: u64) -> io::Result<Header> {
    HeaderBuilder::new()
        .disk_guid(plan.image.disk_uuid)
        .primary(true)
        .backup_lba(sectors.saturating_sub(1))
        .first_usable(plan.image.first_usable_lba.0)
        .last_usable(plan.image.last_usable_lba.0)
        .num_parts(PARTITION_ENTRIES as u32)
        .part_size(PARTITION_ENTRY_SIZE as u32)
        .build(lb)
        .map_err(io_error)
}

/// The protective MBR (UEFI 2.10 §5.2.3): one 0xEE record from LBA 1 over
/// the whole disk, capped at 0xFFFFFFFF sectors.
fn write_protective_mbr(mut file: &File, sectors: u64) -> io::Result<()> {
    let covered = u32::try_from(sectors.saturating_sub(1)).unwrap_or(u32::MAX);
    let mbr = ProtectiveMBR::with_lb_size(covered);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&mbr.to_bytes())
}
