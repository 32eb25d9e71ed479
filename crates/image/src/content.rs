//! Partition contents: reading each partition's source tree before
//! planning (to know how large its filesystem must be), and writing the
//! filesystem into its region once the plan is known. Only `vfat` so far.

use std::fs::File;

use nix_repart_fat::{label::fat_label, Prepared, WriteOptions};
use nix_repart_plan::{partition_labels, ContentSizes, PartitionPlan};
use nix_repart_spec::{Bytes, Spec};
use nix_repart_tree::Symlinks;

use crate::ImageError;

/// What a partition's filesystem will hold, ready to be written.
pub enum Content {
    Fat(Box<Prepared>),
}

/// The measured contents, in the order of `Spec::partitions`.
pub struct Measured {
    pub sizes: ContentSizes,
    pub contents: Vec<Option<Content>>,
}

/// The grain partitions are sized in (systemd-repart's).
fn grain(spec: &Spec) -> u64 {
    spec.sector_size.bytes().0.max(4096)
}

/// Reads every partition's sources and sizes its filesystem.
pub fn measure(spec: &Spec) -> Result<Measured, ImageError> {
    let labels = partition_labels(&spec.partitions);
    let mut sizes = ContentSizes::from_spec(spec);
    let mut contents = Vec::with_capacity(spec.partitions.len());
    for (i, p) in spec.partitions.iter().enumerate() {
        let content = match p.format.as_deref() {
            Some("vfat") => {
                let tree = nix_repart_tree::build(p, Symlinks::Follow)
                    .map_err(|source| ImageError::Tree { partition: p.id.clone(), source })?;
                let fat_error = |source| ImageError::Fat { partition: p.id.clone(), source };
                let prepared =
                    nix_repart_fat::prepare(&tree, fat_label(&labels[i]), spec.sector_size.0).map_err(fat_error)?;
                sizes.0[i] = Some(Bytes(prepared.minimal_size(grain(spec)).map_err(fat_error)?));
                Some(Content::Fat(Box::new(prepared)))
            }
            _ => None,
        };
        contents.push(content);
    }
    Ok(Measured { sizes, contents })
}

/// Writes one partition's filesystem into its planned region.
pub fn write(
    content: &Content,
    image: &File,
    planned: &PartitionPlan,
    spec: &Spec,
    timestamp: u64,
) -> Result<(), ImageError> {
    match content {
        Content::Fat(prepared) => {
            let fat_error = |source| ImageError::Fat { partition: planned.id.clone(), source };
            let (_, geometry) = prepared.fitting_size(planned.size.0, grain(spec)).map_err(fat_error)?;
            let fs_uuid = planned.filesystem_uuid.unwrap_or_default();
            let id = fs_uuid.as_bytes();
            let options = WriteOptions {
                volume_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
                timestamp,
                hidden_sectors: u32::try_from(planned.first_lba.0).unwrap_or(u32::MAX),
            };
            nix_repart_fat::write(prepared, image, planned.offset.0, &geometry, &options).map_err(fat_error)
        }
    }
}
