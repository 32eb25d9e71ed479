//! FAT (`Format=vfat`): laid out from the tree before planning, which
//! gives its smallest size exactly; written into its region after, since
//! the boot sector records the partition's first LBA.

use nix_repart_fat::{label::fat_label, Prepared, WriteOptions};
use nix_repart_plan::PartitionPlan;
use nix_repart_progress::{units, Totals};
use nix_repart_spec::{Bytes, Designator};
use nix_repart_tree::Symlinks;

use super::measured::{Content, Facts, Measured};
use super::tree;
use crate::context::{Build, ImageFile};
use crate::error::ImageError;

fn fat_error(partition: &str) -> impl Fn(nix_repart_fat::FatError) -> ImageError + '_ {
    move |source| ImageError::Fat { partition: partition.to_string(), source }
}

pub fn measure(b: &Build, i: usize) -> Result<Measured, ImageError> {
    let p = &b.spec.partitions[i];
    let tree = tree::read(b, p, Symlinks::Follow)?;
    let facts = Facts::of_tree(&tree);
    let label = fat_label(&b.identity.partitions[i].label);
    let mut prepared = nix_repart_fat::prepare(&tree, label, b.spec.sector_size.0).map_err(fat_error(&p.id))?;
    // ESPs and XBOOTLDRs are FAT32 at the image's sector size (see
    // nix_repart_plan::BOOT_FAT_MIN_SIZE for their minimum size).
    if matches!(p.partition_type.designator, Designator::Esp | Designator::Xbootldr) {
        prepared = prepared.fat32_only();
    }
    let size = prepared.minimal_size(b.spec.sector_size.grain().0).map_err(fat_error(&p.id))?;
    Ok(Measured { content: Content::Fat(Box::new(prepared)), size: Some(Bytes(size)), facts })
}

pub fn write(b: &Build, image: ImageFile, prepared: &Prepared, planned: &PartitionPlan) -> Result<(), ImageError> {
    let label = format!("{}: writing vfat, {}", planned.id, units::bytes(planned.size.0));
    b.progress.run(label, Totals::default(), |_| {
        let (_, geometry) =
            prepared.fitting_size(planned.size.0, b.spec.sector_size.grain().0).map_err(fat_error(&planned.id))?;
        let id = planned.filesystem_uuid.unwrap_or_default();
        let id = id.as_bytes();
        let options = WriteOptions {
            volume_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            timestamp: b.options.source_date_epoch,
            hidden_sectors: u32::try_from(planned.first_lba.0).unwrap_or(u32::MAX),
        };
        nix_repart_fat::write(prepared, image.file, planned.offset.0, &geometry, &options)
            .map_err(fat_error(&planned.id))
    })
}
