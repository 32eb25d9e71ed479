//! `nix-repart inspect`: reads the GPT of an image (512- or 4096-byte
//! sectors) and shows it as a table or JSON. Read-only; it does not look
//! inside partitions.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use gpt::disk::LogicalBlockSize;
use gpt::GptConfig;
use nix_repart_spec::{Bytes, PartitionType};
use serde::Serialize;
use uuid::Uuid;

use crate::ImageError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedDisk {
    pub size: Bytes,
    pub sector_size: Bytes,
    pub disk_uuid: Uuid,
    pub partitions: Vec<InspectedPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedPartition {
    pub number: u32,
    pub type_name: String,
    pub type_guid: Uuid,
    pub label: String,
    pub uuid: Uuid,
    pub offset: Bytes,
    pub size: Bytes,
    pub attributes: u64,
}

/// Finds the sector size by looking for the GPT signature at LBA 1.
fn detect_sector_size(path: &Path) -> Result<LogicalBlockSize, ImageError> {
    let read_error = |source| ImageError::Read { path: path.to_path_buf(), source };
    let mut head = vec![0u8; 4096 + 8];
    let mut file = File::open(path).map_err(read_error)?;
    let n = file.read(&mut head).map_err(read_error)?;
    let signature_at = |offset: usize| n >= offset + 8 && &head[offset..offset + 8] == b"EFI PART";
    if signature_at(512) {
        Ok(LogicalBlockSize::Lb512)
    } else if signature_at(4096) {
        Ok(LogicalBlockSize::Lb4096)
    } else {
        Err(ImageError::NoGpt { path: path.to_path_buf() })
    }
}

pub fn inspect(path: &Path) -> Result<InspectedDisk, ImageError> {
    let lb = detect_sector_size(path)?;
    let size = std::fs::metadata(path).map_err(|source| ImageError::Read { path: path.to_path_buf(), source })?.len();
    let disk = GptConfig::new()
        .writable(false)
        .logical_block_size(lb)
        .open(path)
        .map_err(|_| ImageError::NoGpt { path: path.to_path_buf() })?;
    let sector = lb.as_u64();
    let partitions = disk
        .partitions()
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(number, p)| InspectedPartition {
            number: *number,
            type_name: PartitionType::from_guid(p.part_type_guid.guid).display_name(),
            type_guid: p.part_type_guid.guid,
            label: p.name.clone(),
            uuid: p.part_guid,
            offset: Bytes(p.first_lba * sector),
            size: Bytes((p.last_lba + 1 - p.first_lba) * sector),
            attributes: p.flags,
        })
        .collect();
    Ok(InspectedDisk { size: Bytes(size), sector_size: Bytes(sector), disk_uuid: *disk.guid(), partitions })
}

/// Names of the attribute bits systemd and UEFI define.
pub fn attribute_names(bits: u64) -> String {
    const NAMES: [(u32, &str); 6] = [
        (0, "required"),
        (1, "no-block-io"),
        (2, "legacy-bios-bootable"),
        (59, "grow-file-system"),
        (60, "read-only"),
        (63, "no-auto"),
    ];
    let mut names: Vec<String> = Vec::new();
    for bit in 0..64 {
        if bits & (1 << bit) != 0 {
            let name = NAMES.iter().find(|(b, _)| *b == bit).map_or("bit", |(_, n)| n);
            names.push(format!("{name}({bit})"));
        }
    }
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(",")
    }
}

/// A readable table.
pub fn render_table(disk: &InspectedDisk) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "disk {}  size {}  sector {}", disk.disk_uuid, disk.size, disk.sector_size.0);
    let _ = writeln!(
        out,
        "{:<3} {:<20} {:<20} {:<36} {:>12} {:>12}  attributes",
        "#", "type", "label", "uuid", "offset", "size"
    );
    for p in &disk.partitions {
        let _ = writeln!(
            out,
            "{:<3} {:<20} {:<20} {:<36} {:>12} {:>12}  {}",
            p.number,
            p.type_name,
            p.label,
            p.uuid,
            p.offset.0,
            p.size.0,
            attribute_names(p.attributes)
        );
    }
    out
}
