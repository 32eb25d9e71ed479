//! The layout planner: a pure function from a validated [`Spec`] and the
//! measured size of each partition's content to a [`Plan`] (disk size,
//! offsets, sizes, padding, UUIDs, labels, attribute bits), placed exactly
//! as systemd-repart places new partitions on an empty disk.
//!
//! Nothing here reads or writes files; `nix-repart plan` prints the result
//! as JSON before anything is written.

mod attributes;
mod error;
mod geometry;
mod grow;
mod labels;
mod split;
pub mod uuids;

use nix_repart_spec::{Bytes, ImageSize, Minimize, Partition, Spec};
use serde::Serialize;
use uuid::Uuid;

pub use attributes::{attribute_bits, GROWFS_BIT, NO_AUTO_BIT, READ_ONLY_BIT};
pub use error::PlanError;
pub use geometry::{Geometry, Lba, GPT_METADATA_SIZE, PARTITION_ENTRIES, PARTITION_ENTRY_SIZE};
use grow::{grow, Demand};
pub use labels::assign as partition_labels;

/// systemd-repart's `DEFAULT_MIN_SIZE`: a partition with no `SizeMinBytes=`.
pub const DEFAULT_MIN_SIZE: Bytes = Bytes(10 << 20);
/// systemd-repart's `HARD_MIN_SIZE`.
pub const HARD_MIN_SIZE: Bytes = Bytes(4096);

/// The minimum number of bytes each partition's content needs, in the
/// order of `Spec::partitions`; `None` when it has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentSizes(pub Vec<Option<Bytes>>);

impl ContentSizes {
    /// The sizes known from the spec alone (`CopyBlocks=` sources).
    pub fn from_spec(spec: &Spec) -> ContentSizes {
        ContentSizes(spec.partitions.iter().map(|p| p.copy_blocks.as_ref().map(|c| c.size)).collect())
    }
}

/// The whole image, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub image: ImagePlan,
    pub partitions: Vec<PartitionPlan>,
    /// Layouts that are valid but that some machines will not boot.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagePlan {
    pub file_name: String,
    pub size: Bytes,
    pub sector_size: Bytes,
    pub grain: Bytes,
    pub disk_uuid: Uuid,
    pub first_usable_lba: Lba,
    pub last_usable_lba: Lba,
    pub partition_entries: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionPlan {
    /// The definition name (`10-esp`).
    pub id: String,
    /// The GPT entry number, from 1.
    pub number: u32,
    pub type_guid: Uuid,
    /// How systemd-repart names the type (`root-x86-64`, or the GUID).
    pub type_name: String,
    pub label: String,
    pub uuid: Uuid,
    /// Only for partitions that get a filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filesystem_uuid: Option<Uuid>,
    pub offset: Bytes,
    pub size: Bytes,
    pub padding: Bytes,
    pub first_lba: Lba,
    pub last_lba: Lba,
    pub attributes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_size: Option<Bytes>,
    /// The split file (`<name>[_<version>].<SplitName>.raw`) when the spec
    /// asks for split output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_file: Option<String>,
}

/// Plans the image. Pure: the same inputs always give the same plan.
pub fn plan(spec: &Spec, content: &ContentSizes) -> Result<Plan, PlanError> {
    let count = spec.partitions.len() as u64;
    if count > PARTITION_ENTRIES {
        return Err(PlanError::TooManyPartitions { count });
    }
    let grain = spec.sector_size.grain();
    let demands = spec
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| demand(p, content.0.get(i).copied().flatten(), grain))
        .collect::<Result<Vec<_>, _>>()?;
    let geometry = disk_geometry(spec, &demands, grain)?;
    let allocations = grow(&demands, geometry.end - geometry.start, grain);
    let uuids = uuids::assign(spec)?;
    let labels = labels::assign(&spec.partitions);
    let mut offset = geometry.start;
    let mut partitions = Vec::with_capacity(spec.partitions.len());
    for (i, p) in spec.partitions.iter().enumerate() {
        let allocation = allocations[i];
        partitions.push(PartitionPlan {
            id: p.id.clone(),
            number: i as u32 + 1,
            type_guid: p.partition_type.guid,
            type_name: p.partition_type.display_name(),
            label: labels[i].clone(),
            uuid: uuids[i],
            filesystem_uuid: p.format.as_ref().map(|_| uuids::filesystem_uuid(uuids[i])),
            offset,
            size: allocation.size,
            padding: allocation.padding,
            first_lba: geometry.lba(offset),
            last_lba: Lba(geometry.lba(offset + allocation.size).0 - 1),
            attributes: attribute_bits(p),
            format: p.format.clone(),
            content_size: content.0.get(i).copied().flatten(),
            split_file: split::file_name(spec, p),
        });
        offset = offset + allocation.size + allocation.padding;
    }
    split::check_unique(&partitions)?;
    let image = ImagePlan {
        file_name: format!("{}.raw", spec.base_name()),
        size: geometry.total,
        sector_size: geometry.sector_size,
        grain,
        disk_uuid: uuids::disk_uuid(spec.seed),
        first_usable_lba: geometry.first_usable,
        last_usable_lba: geometry.last_usable,
        partition_entries: PARTITION_ENTRIES,
    };
    let warnings = boot_warnings(&image, &partitions);
    Ok(Plan { image, partitions, warnings })
}

/// OVMF (EDK II) refuses FAT ESPs on 4096-byte sectors smaller than
/// 260 MiB (`../shared/reference/systemd-repart-facts.md`).
const MIN_ESP_4K: Bytes = Bytes(260 << 20);

fn boot_warnings(image: &ImagePlan, partitions: &[PartitionPlan]) -> Vec<String> {
    partitions
        .iter()
        .filter(|p| image.sector_size.0 == 4096 && p.type_name == "esp" && p.size < MIN_ESP_4K)
        .map(|p| {
            format!(
                "partition {}: an ESP on 4096-byte sectors smaller than 260 MiB is refused by OVMF firmware; \
                 set SizeMinBytes=260M to boot there",
                p.id
            )
        })
        .collect()
}

/// systemd-repart's `partition_min_size()` and `partition_max_size()` for a
/// partition that does not exist yet. `content` is what the partition must
/// hold at least (a `CopyBlocks=` source, or the smallest filesystem that
/// holds its files). With `Minimize=`, the 10 MiB default minimum does not
/// apply and the partition is exactly as large as its content (or
/// `SizeMinBytes=`), as systemd-repart sizes minimized partitions.
fn demand(p: &Partition, content: Option<Bytes>, grain: Bytes) -> Result<Demand, PlanError> {
    let needed = match (content, &p.format) {
        (Some(bytes), _) => bytes.round_up(grain),
        // A filesystem to be made: at least one grain until it is measured.
        (None, Some(_)) => grain,
        (None, None) => Bytes(0),
    };
    let hard = HARD_MIN_SIZE.max(needed);
    let minimized = p.minimize != Minimize::Off;
    let default_min = if minimized { Bytes(0) } else { DEFAULT_MIN_SIZE };
    let min = p.size_min.unwrap_or(default_min).round_up(grain).max(hard);
    if let (Some(content), Some(max)) = (content, p.size_max) {
        if content > max {
            return Err(PlanError::ContentExceedsMax { partition: p.id.clone(), content, max });
        }
    }
    let max = if minimized { Some(min) } else { p.size_max.map(|m| m.round_down(grain).max(min)) };
    Ok(Demand {
        min,
        max,
        padding_min: p.padding_min,
        padding_max: p.padding_max,
        weight: u64::from(p.weight),
        padding_weight: u64::from(p.padding_weight),
    })
}

/// systemd-repart's `partition_min_size_with_padding()`.
fn min_with_padding(d: &Demand, grain: Bytes) -> Bytes {
    (d.min + d.padding_min.unwrap_or_default()).round_up(grain)
}

/// The disk: `imageSize`, or for `auto` the smallest that holds every
/// partition (systemd-repart's `determine_auto_size()`).
fn disk_geometry(spec: &Spec, demands: &[Demand], grain: Bytes) -> Result<Geometry, PlanError> {
    let needed_area = demands.iter().fold(Bytes(0), |sum, d| sum + min_with_padding(d, grain));
    let needed = GPT_METADATA_SIZE.round_up(Bytes(4096)) + needed_area;
    let total = match spec.image_size {
        ImageSize::Auto => needed.round_up(spec.sector_size.bytes()),
        ImageSize::Fixed(size) => size,
    };
    let too_small = || PlanError::ImageTooSmall { given: total, needed };
    let geometry = Geometry::new(total, spec.sector_size).ok_or_else(too_small)?;
    if geometry.end - geometry.start < needed_area {
        return Err(too_small());
    }
    Ok(geometry)
}
