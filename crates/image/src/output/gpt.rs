//! Writes the partition table: for `gpt` (the default) the protective MBR
//! (the `gpt` crate's `ProtectiveMBR`) and both
//! GPT headers and entry arrays (UEFI 2.10 §5.3), for any sector size from
//! 512 to 4096 bytes: the `gpt` crate's header writer knows 512 and 4096
//! only. Entries come straight from the plan, so nothing is random; with
//! first usable LBA 2048 the bytes are systemd-repart's (and, for 512 and
//! 4096, the `gpt` crate's: tests/pinned_images.rs and the 252
//! conformance test pin them); `hybrid` puts [`mbr`]'s hybrid MBR in front
//! of the GPT, `mbr` writes that table alone, `none` nothing. The
//! partition data area is not touched.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use gpt::mbr::ProtectiveMBR;
use nix_repart_plan::{Plan, PARTITION_ENTRIES, PARTITION_ENTRY_SIZE};
use nix_repart_spec::{PartitionTable, Spec};

use super::mbr;
use uuid::Uuid;

const HEADER_SIZE: usize = 92;

fn crc32(bytes: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(bytes)
}

/// Writes the partition table of `plan`, of the spec's kind, into `file`,
/// which already has the image's final size (for `none`, nothing).
pub fn write_table(file: &File, plan: &Plan, spec: &Spec) -> io::Result<()> {
    let sector = plan.image.sector_size.0;
    let sectors = plan.image.size.0 / sector;
    match spec.partition_table {
        PartitionTable::None => return Ok(()),
        PartitionTable::Mbr => return file.write_all_at(&mbr::table(plan, spec, false), 0),
        PartitionTable::Hybrid => file.write_all_at(&mbr::table(plan, spec, true), 0)?,
        PartitionTable::Gpt => write_protective_mbr(file, sectors)?,
    }
    let entries = entry_array(plan);
    let array_sectors = (entries.len() as u64).div_ceil(sector);
    let entries_crc = crc32(&entries);
    let last = sectors.saturating_sub(1);
    let backup_entries = last.saturating_sub(array_sectors);
    let headers = [(1, last, 2), (last, 1, backup_entries)];
    for (my_lba, alternate, entries_lba) in headers {
        file.write_all_at(&entries, entries_lba * sector)?;
        let header = header(plan, my_lba, alternate, entries_lba, entries_crc);
        let mut block = vec![0u8; sector as usize];
        block[..HEADER_SIZE].copy_from_slice(&header);
        file.write_all_at(&block, my_lba * sector)?;
    }
    Ok(())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// GUIDs are stored with their first three fields little endian.
fn put_guid(b: &mut [u8], at: usize, g: Uuid) {
    b[at..at + 16].copy_from_slice(&g.to_bytes_le());
}

/// One GPT header (§5.3.2), its CRC over the 92 bytes with the field zero.
fn header(plan: &Plan, my_lba: u64, alternate: u64, entries_lba: u64, entries_crc: u32) -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    h[0..8].copy_from_slice(b"EFI PART");
    put_u32(&mut h, 8, 0x0001_0000);
    put_u32(&mut h, 12, HEADER_SIZE as u32);
    put_u64(&mut h, 24, my_lba);
    put_u64(&mut h, 32, alternate);
    put_u64(&mut h, 40, plan.image.first_usable_lba.0);
    put_u64(&mut h, 48, plan.image.last_usable_lba.0);
    put_guid(&mut h, 56, plan.image.disk_uuid);
    put_u64(&mut h, 72, entries_lba);
    put_u32(&mut h, 80, PARTITION_ENTRIES as u32);
    put_u32(&mut h, 84, PARTITION_ENTRY_SIZE as u32);
    put_u32(&mut h, 88, entries_crc);
    let crc = crc32(&h);
    put_u32(&mut h, 16, crc);
    h
}

/// All 128 entries (§5.3.3), unused ones zero; names UTF-16LE, at most 36
/// code units (the spec refuses longer labels).
fn entry_array(plan: &Plan) -> Vec<u8> {
    let size = PARTITION_ENTRY_SIZE as usize;
    let mut array = vec![0u8; PARTITION_ENTRIES as usize * size];
    for (i, p) in plan.partitions.iter().enumerate() {
        let e = &mut array[i * size..(i + 1) * size];
        put_guid(e, 0, p.type_guid);
        put_guid(e, 16, p.uuid);
        put_u64(e, 32, p.first_lba.0);
        put_u64(e, 40, p.last_lba.0);
        put_u64(e, 48, p.attributes);
        for (j, unit) in p.label.encode_utf16().take(36).enumerate() {
            e[56 + 2 * j..58 + 2 * j].copy_from_slice(&unit.to_le_bytes());
        }
    }
    array
}

/// The protective MBR (UEFI 2.10 §5.2.3): one 0xEE record from LBA 1 over
/// the whole disk, capped at 0xFFFFFFFF sectors.
fn write_protective_mbr(file: &File, sectors: u64) -> io::Result<()> {
    let covered = u32::try_from(sectors.saturating_sub(1)).unwrap_or(u32::MAX);
    let mbr = ProtectiveMBR::with_lb_size(covered);
    file.write_all_at(&mbr.to_bytes(), 0)
}
