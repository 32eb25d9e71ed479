//! Swap (`Format=swap`): a header at the start of the planned region.

use nix_repart_plan::PartitionPlan;

use crate::context::ImageFile;
use crate::error::ImageError;

pub fn write(image: ImageFile, planned: &PartitionPlan) -> Result<(), ImageError> {
    let uuid = planned.filesystem_uuid.unwrap_or_default();
    nix_repart_mkfs::swap::write(image.file, image.shown, planned.offset.0, planned.size.0, uuid, &planned.label)
        .map_err(|source| ImageError::Mkfs { partition: planned.id.clone(), source })
}
