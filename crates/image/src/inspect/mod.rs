//! `nix-repart inspect`: reads the GPT of an image (512- or 4096-byte
//! sectors, see `gpt_read`) and shows it as a table or JSON, with its
//! warnings. Read-only; it does not look inside partitions.

use std::fmt::Write as _;
use std::path::Path;

use nix_repart_spec::{input, Bytes, PartitionType};
use serde::Serialize;
use uuid::Uuid;

pub mod gpt_read;

use crate::error::ImageError;
use gpt_read::Gpt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedDisk {
    pub size: Bytes,
    pub sector_size: Bytes,
    pub disk_uuid: Uuid,
    pub partitions: Vec<InspectedPartition>,
    /// What looked wrong: a corrupt header, entries that overlap, lie
    /// outside the disk or share a UUID.
    pub warnings: Vec<String>,
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

/// Reads the partition table of an image file (or block device). A FIFO
/// or other special file is refused without blocking.
pub fn inspect(path: &Path) -> Result<InspectedDisk, ImageError> {
    let read_error = |source| ImageError::Read { path: path.to_path_buf(), source };
    let file = input::open(path, input::Kind::RegularFileOrBlockDevice).map_err(read_error)?;
    let len = {
        use std::io::{Seek, SeekFrom};
        (&file).seek(SeekFrom::End(0)).map_err(read_error)?
    };
    let gpt = gpt_read::read(&file, len)
        .map_err(|reasons| ImageError::NoGpt { path: path.to_path_buf(), reasons: reasons.0.join("; ") })?;
    Ok(disk(&gpt, len))
}

/// What `inspect` shows of a GPT read from an image of `len` bytes.
pub fn disk(gpt: &Gpt, len: u64) -> InspectedDisk {
    let sector = gpt.sector_size;
    let partitions = gpt
        .entries
        .iter()
        .map(|e| InspectedPartition {
            number: e.number,
            type_name: PartitionType::from_guid(e.type_guid).display_name(),
            type_guid: e.type_guid,
            label: e.name.clone(),
            uuid: e.uuid,
            offset: Bytes(e.first_lba.saturating_mul(sector)),
            size: Bytes(e.last_lba.saturating_sub(e.first_lba).saturating_add(1).saturating_mul(sector)),
            attributes: e.attributes,
        })
        .collect();
    InspectedDisk {
        size: Bytes(len),
        sector_size: Bytes(sector),
        disk_uuid: gpt.disk_uuid,
        partitions,
        warnings: gpt.warnings.clone(),
    }
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
