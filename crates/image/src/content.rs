//! Partition contents: reading each partition's source tree before
//! planning (to know how large its filesystem must be), and writing the
//! filesystem into its region. FAT and ext2/3/4 are sized before they are
//! written (ext from the tree, see `nix_repart_mkfs::ext_size`); squashfs
//! is only sized by writing it (see `lib.rs` for where) and erofs by
//! making it into a scratch file while measuring.

use std::fs::File;

use std::path::Path;

use nix_repart_fat::{label::fat_label, Prepared, WriteOptions};
use nix_repart_mkfs::ext_size;
use nix_repart_mkfs::ExtKind;
use nix_repart_plan::{partition_labels, ContentSizes, PartitionPlan};
use nix_repart_spec::{Bytes, Minimize, Partition, Spec};
use nix_repart_squashfs::Config as SquashfsConfig;
use nix_repart_tree::{Directory, Symlinks};

use crate::external::{self, ExtContent};
use crate::ImageError;

/// What a partition's filesystem will hold, ready to be written.
pub enum Content {
    Fat(Box<Prepared>),
    Squashfs {
        tree: Box<Directory>,
        config: SquashfsConfig,
    },
    /// ext2/3/4: staged and made once the partition's region is known.
    Ext(Box<ExtContent>),
    /// erofs, already made into a scratch file of `size` bytes.
    Erofs {
        file: tempfile::NamedTempFile,
        size: u64,
    },
    Swap,
}

/// Where measuring may put scratch files, and what it needs to make them.
pub struct Scratch<'a> {
    pub dir: &'a Path,
    pub epoch: u64,
    /// Extra bytes per partition, after an ext estimate fell short.
    pub ext_extra: &'a [u64],
}

/// The measured contents, in the order of `Spec::partitions`. Squashfs
/// sizes are `None` until the filesystem is written or measured.
pub struct Measured {
    pub sizes: ContentSizes,
    pub contents: Vec<Option<Content>>,
}

fn tree(p: &Partition, symlinks: Symlinks) -> Result<Directory, ImageError> {
    nix_repart_tree::build(p, symlinks).map_err(|source| ImageError::Tree { partition: p.id.clone(), source })
}

/// Reads every partition's sources; sizes FAT and ext filesystems and
/// makes erofs ones.
pub fn measure(spec: &Spec, scratch: &Scratch) -> Result<Measured, ImageError> {
    let labels = partition_labels(&spec.partitions);
    let uuids = nix_repart_plan::uuids::assign(spec).map_err(ImageError::Plan)?;
    let mut sizes = ContentSizes::from_spec(spec);
    let mut contents = Vec::with_capacity(spec.partitions.len());
    for (i, p) in spec.partitions.iter().enumerate() {
        let content = match p.format.as_deref() {
            Some("vfat") => {
                let fat_error = |source| ImageError::Fat { partition: p.id.clone(), source };
                let prepared =
                    nix_repart_fat::prepare(&tree(p, Symlinks::Follow)?, fat_label(&labels[i]), spec.sector_size.0)
                        .map_err(fat_error)?;
                sizes.0[i] = Some(Bytes(prepared.minimal_size(spec.sector_size.grain().0).map_err(fat_error)?));
                Some(Content::Fat(Box::new(prepared)))
            }
            Some("squashfs") => {
                let mkfs = spec.mkfs_options.get("squashfs").map(Vec::as_slice).unwrap_or_default();
                let config = SquashfsConfig::new(p.compression.as_deref(), p.compression_level, mkfs)
                    .map_err(|source| ImageError::Squashfs { partition: p.id.clone(), source })?;
                Some(Content::Squashfs { tree: Box::new(tree(p, Symlinks::Keep)?), config })
            }
            Some(format @ ("ext2" | "ext3" | "ext4")) => {
                let kind = ExtKind::from_format(format).unwrap_or(ExtKind::Ext4);
                let tree = tree(p, Symlinks::Keep)?;
                nix_repart_mkfs::ext::check_directories(&tree)
                    .map_err(|source| ImageError::Mkfs { partition: p.id.clone(), source })?;
                let mut size = ext_size::estimate(&tree, kind);
                size.blocks += scratch.ext_extra.get(i).copied().unwrap_or(0).div_ceil(ext_size::BLOCK);
                let minimized = p.minimize != Minimize::Off;
                if minimized || !tree.entries.is_empty() {
                    sizes.0[i] = Some(Bytes(size.bytes()));
                }
                Some(Content::Ext(Box::new(ExtContent { tree, kind, size, minimized })))
            }
            Some("erofs") => {
                let uuid = nix_repart_plan::uuids::filesystem_uuid(uuids[i]);
                let (file, size) = external::make_erofs(spec, p, &tree(p, Symlinks::Keep)?, uuid, scratch)?;
                sizes.0[i] = Some(Bytes(size.div_ceil(4096) * 4096));
                Some(Content::Erofs { file, size })
            }
            Some("swap") => Some(Content::Swap),
            _ => None,
        };
        contents.push(content);
    }
    Ok(Measured { sizes, contents })
}

/// Where a squashfs filesystem goes while it is made.
pub enum SquashfsTarget<'f> {
    File { file: &'f File, offset: u64 },
    Measure,
}

/// Writes (or only measures) a squashfs partition; returns its size.
pub fn squashfs(
    id: &str,
    tree: &Directory,
    config: &SquashfsConfig,
    timestamp: u64,
    jobs: usize,
    target: SquashfsTarget,
) -> Result<u64, ImageError> {
    let target = match target {
        SquashfsTarget::File { file, offset } => nix_repart_squashfs::Target::Region { file, offset, limit: u64::MAX },
        SquashfsTarget::Measure => nix_repart_squashfs::Target::Measure,
    };
    // squashfs times are 32-bit; SOURCE_DATE_EPOCH past 2106 is clamped.
    let mtime = u32::try_from(timestamp).unwrap_or(u32::MAX);
    nix_repart_squashfs::write(tree, config, mtime, jobs, target)
        .map_err(|source| ImageError::Squashfs { partition: id.to_string(), source })
}

/// Writes a FAT partition's filesystem into its planned region.
pub fn write_fat(
    prepared: &Prepared,
    image: &File,
    planned: &PartitionPlan,
    spec: &Spec,
    timestamp: u64,
) -> Result<(), ImageError> {
    let fat_error = |source| ImageError::Fat { partition: planned.id.clone(), source };
    let (_, geometry) = prepared.fitting_size(planned.size.0, spec.sector_size.grain().0).map_err(fat_error)?;
    let fs_uuid = planned.filesystem_uuid.unwrap_or_default();
    let id = fs_uuid.as_bytes();
    let options = WriteOptions {
        volume_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        timestamp,
        hidden_sectors: u32::try_from(planned.first_lba.0).unwrap_or(u32::MAX),
    };
    nix_repart_fat::write(prepared, image, planned.offset.0, &geometry, &options).map_err(fat_error)
}
