//! Derived data, first: for each verity pair, the data partition's content
//! (its filesystem, as large as it was measured; not the partition's
//! padding) is hashed and the superblock and tree are written into the
//! hash partition. Both partitions then take their UUIDs from the root
//! hash, unless `UUID=` names one, and carry it for `repart-output.json`.
//! Runs after every filesystem is in place and before split files and the
//! GPT, which use those UUIDs and bytes.

use std::fs::File;

use nix_repart_plan::{uuids, Plan};
use nix_repart_progress::{Progress, Totals};
use nix_repart_spec::{Spec, VerityRole};
use nix_repart_verity::{Region, Superblock};

use crate::error::ImageError;

pub fn write_all(spec: &Spec, plan: &mut Plan, image: &File, progress: &Progress) -> Result<(), ImageError> {
    // Partitions copied from an earlier image bring their tree, UUIDs and
    // root hash: nothing to hash again.
    for (p, planned) in spec.partitions.iter().zip(&mut plan.partitions) {
        if let Some(from) = &p.from_image {
            planned.roothash.clone_from(&from.roothash);
        }
    }
    for h in 0..spec.partitions.len() {
        let hash = &spec.partitions[h];
        if hash.verity.role != VerityRole::Hash || hash.from_image.is_some() {
            continue;
        }
        let Some(d) = spec.partitions.iter().position(|p| Some(&p.id) == hash.verity.partner.as_ref()) else {
            continue; // the spec pairs every hash partition
        };
        let data_plan = &plan.partitions[d];
        let data_len = data_plan.content_size.map_or(data_plan.size.0, |c| c.0);
        let data = Region { offset: data_plan.offset.0, len: data_len };
        let target = Region { offset: plan.partitions[h].offset.0, len: plan.partitions[h].size.0 };
        let sb = Superblock {
            uuid: uuids::verity_superblock_uuid(spec.seed),
            data_block_size: hash.verity.data_block_size,
            hash_block_size: hash.verity.hash_block_size,
            data_blocks: 0,
            salt: uuids::verity_salt(spec.seed),
        };
        let label = format!("{}: hashing {} for dm-verity", hash.id, spec.partitions[d].id);
        let totals = Totals { bytes: Some(data_len), files: None };
        let root = progress
            .run(label, totals, |counter| {
                nix_repart_verity::write(image, data, target, sb, &|bytes| counter.add_bytes(bytes))
            })
            .map_err(|source| ImageError::Verity { partition: hash.id.clone(), source })?;
        let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
        let (data_uuid, hash_uuid) = uuids::verity_partition_uuids(&root);
        for (i, uuid) in [(d, data_uuid), (h, hash_uuid)] {
            if spec.partitions[i].uuid.is_none() {
                plan.partitions[i].uuid = uuid;
            }
            plan.partitions[i].roothash = Some(hex.clone());
        }
    }
    Ok(())
}
