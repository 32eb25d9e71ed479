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
mod identity;
mod labels;
mod split;
pub mod uuids;
mod verity;

use nix_repart_spec::{Bytes, Designator, ExtKind, Format, ImageSize, Partition, Spec, VerityRole};
use serde::Serialize;
use uuid::Uuid;

pub use attributes::{attribute_bits, GROWFS_BIT, NO_AUTO_BIT, READ_ONLY_BIT};
pub use error::PlanError;
pub use geometry::{gpt_metadata_size, Geometry, Lba, PARTITION_ENTRIES, PARTITION_ENTRY_SIZE};
use grow::{grow, Demand};
pub use identity::{identity, Identity, PartitionIdentity};
pub use verity::VerityPlan;

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
    pub format: Option<Format>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_size: Option<Bytes>,
    /// Set by `nix-repart plan` when `content_size` is an estimate; the
    /// planner itself leaves it empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_estimate: Option<ContentEstimate>,
    /// The split file (`<name>[_<version>].<SplitName>.raw`) when the spec
    /// asks for split output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_file: Option<String>,
    /// For a partition of a verity pair: its part in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verity: Option<VerityPlan>,
    /// The pair's root hash (hex), set by the build once the tree is
    /// written; `repart-output.json` carries it for both partitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roothash: Option<String>,
}

/// How a content size was estimated, and the bound it cannot exceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentEstimate {
    pub upper_bound: Bytes,
    pub method: String,
}

/// Plans the image. Pure: the same inputs always give the same plan.
pub fn plan(spec: &Spec, identity: &Identity, content: &ContentSizes) -> Result<Plan, PlanError> {
    let count = spec.partitions.len() as u64;
    if count > PARTITION_ENTRIES {
        return Err(PlanError::TooManyPartitions { count });
    }
    let grain = spec.sector_size.grain();
    let content = ContentSizes(verity::with_trees(spec, &content.0));
    let demands = spec
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| demand(spec, p, content.0.get(i).copied().flatten()))
        .collect::<Result<Vec<_>, _>>()?;
    let geometry = disk_geometry(spec, &demands, grain)?;
    let allocations = grow(&demands, geometry.end - geometry.start, grain);
    let mut offset = geometry.start;
    let mut partitions = Vec::with_capacity(spec.partitions.len());
    for (i, (p, id)) in spec.partitions.iter().zip(&identity.partitions).enumerate() {
        let allocation = allocations[i];
        partitions.push(PartitionPlan {
            id: p.id.clone(),
            number: i as u32 + 1,
            type_guid: p.partition_type.guid,
            type_name: p.partition_type.display_name(),
            label: id.label.clone(),
            uuid: id.uuid,
            filesystem_uuid: id.filesystem_uuid,
            offset,
            size: allocation.size,
            padding: allocation.padding,
            first_lba: geometry.lba(offset),
            last_lba: Lba(geometry.lba(offset + allocation.size).0 - 1),
            attributes: attribute_bits(p),
            format: p.format,
            content_size: content.0.get(i).copied().flatten(),
            content_estimate: None,
            split_file: split::file_name(spec, p, id.uuid, i),
            verity: verity::verity_plan(p),
            roothash: None,
        });
        offset = offset + allocation.size + allocation.padding;
    }
    split::check_unique(&partitions)?;
    let image = ImagePlan {
        file_name: format!("{}.raw", spec.base_name()),
        size: geometry.total,
        sector_size: geometry.sector_size,
        grain,
        disk_uuid: identity.disk_uuid,
        first_usable_lba: geometry.first_usable,
        last_usable_lba: geometry.last_usable,
        partition_entries: PARTITION_ENTRIES,
    };
    let warnings = boot_warnings(&image, &partitions);
    Ok(Plan { image, partitions, warnings })
}

/// Where partition `i` starts in an auto-sized image, from the content
/// sizes of the partitions before it (`earlier`, as many as `i`) alone:
/// writers that learn a partition's size only by writing it (squashfs)
/// can write it in place. `None` for an image of fixed size, where free
/// space is shared by weight and every partition moves every other.
///
/// The rule: an auto-sized disk is exactly as large as its partitions'
/// minimums with padding, so the planner gives each its minimum and its
/// minimum padding, and a partition starts where the ones before it end.
pub fn streaming_offset(spec: &Spec, earlier: &[Option<Bytes>]) -> Result<Option<Bytes>, PlanError> {
    if spec.image_size != ImageSize::Auto {
        return Ok(None);
    }
    let grain = spec.sector_size.grain();
    let start = Bytes(geometry::FIRST_USABLE_BYTE).round_up(grain);
    let mut offset = start;
    let earlier = verity::with_trees(spec, earlier);
    for (p, content) in spec.partitions.iter().zip(&earlier) {
        offset = offset + min_with_padding(&demand(spec, p, *content)?, grain);
    }
    Ok(Some(offset))
}

/// The size of the filesystem of a partition with `Minimize=` whose
/// content needs `content` bytes: the partition's minimum (in an
/// auto-sized image also its size). Writers that make such a filesystem
/// before the plan (mke2fs) make it this large.
pub fn minimized_size(spec: &Spec, p: &Partition, content: Bytes) -> Result<Bytes, PlanError> {
    Ok(demand(spec, p, Some(content))?.min)
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

/// systemd's `EXT4_MINIMAL_SIZE`: systemd-repart (257) never makes an
/// ext4 smaller (ext2 and ext3 have no such floor).
pub const EXT4_MINIMAL_SIZE: Bytes = Bytes(32 << 20);

/// The smallest ESP or XBOOTLDR with `Format=vfat`, by sector size: what
/// systemd-repart 258 and newer require (`ESP_MIN_SIZE`, 100 MiB, and
/// `ESP_MIN_SIZE_4K`, 260 MiB, after Microsoft's minimums), since small
/// FAT12/16 ESPs fail to boot on some firmware. nix-repart makes them FAT32
/// with the image's sector size (258 defaults to 4096-byte FAT sectors,
/// which OVMF does not mount on a 512-byte disk).
pub fn boot_fat_min_size(sector_size: nix_repart_spec::SectorSize) -> Bytes {
    if sector_size.0 >= 4096 {
        Bytes(260 << 20)
    } else {
        Bytes(100 << 20)
    }
}

/// systemd-repart's `partition_min_size()` and `partition_max_size()` for a
/// partition that does not exist yet (257). `content` is what the
/// partition must hold at least (a `CopyBlocks=` source, or the smallest
/// filesystem that holds its files); an ext4 is at least
/// [`EXT4_MINIMAL_SIZE`]. The 10 MiB default minimum does not apply to the
/// read-only formats (squashfs, erofs). `Minimize=` only decides how large
/// the filesystem is made: like any other, the partition may grow up to
/// `SizeMaxBytes=` when the disk has room (a fixed-size image), and the
/// filesystem then stays at its own size.
fn demand(spec: &Spec, p: &Partition, content: Option<Bytes>) -> Result<Demand, PlanError> {
    let grain = spec.sector_size.grain();
    let boot = matches!(p.partition_type.designator, Designator::Esp | Designator::Xbootldr);
    let fs_min = match p.format {
        Some(Format::Ext(ExtKind::Ext4)) => EXT4_MINIMAL_SIZE,
        Some(Format::Vfat) if boot => boot_fat_min_size(spec.sector_size),
        // A filesystem to be made: at least one grain until it is measured.
        Some(_) => grain,
        None => Bytes(0),
    };
    let needed = content.unwrap_or_default().max(fs_min).round_up(grain);
    let hard = HARD_MIN_SIZE.max(needed);
    // Not for read-only formats, nor for either partition of a verity pair.
    let no_default = p.format.is_some_and(Format::is_read_only) || p.verity.role != VerityRole::Off;
    let default_min = if no_default { Bytes(0) } else { DEFAULT_MIN_SIZE };
    let min = p.size_min.unwrap_or(default_min).round_up(grain).max(hard);
    if let (Some(content), Some(max)) = (content, p.size_max) {
        if content > max {
            return Err(PlanError::ContentExceedsMax { partition: p.id.clone(), content, max });
        }
    }
    let max = p.size_max.map(|m| m.round_down(grain).max(min));
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
/// partition (systemd-repart's `determine_auto_size()`, with 262's end).
fn disk_geometry(spec: &Spec, demands: &[Demand], grain: Bytes) -> Result<Geometry, PlanError> {
    let needed_area = demands.iter().fold(Bytes(0), |sum, d| sum + min_with_padding(d, grain));
    let needed = gpt_metadata_size(spec.sector_size) + needed_area;
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
