//! A build's identity: the disk GUID and each partition's label, UUID and
//! filesystem UUID. A pure function of the spec (seed, types, `Label=`,
//! `UUID=`, `Format=`), known before any content is read, so that
//! writers that run before the layout is planned (mke2fs, mkfs.erofs,
//! squashfs) already have them; the planner takes them from here.

use nix_repart_spec::Spec;
use uuid::Uuid;

use crate::{labels, uuids, PlanError};

/// The names and UUIDs of the image and its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub disk_uuid: Uuid,
    /// In the order of `Spec::partitions`.
    pub partitions: Vec<PartitionIdentity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionIdentity {
    pub label: String,
    pub uuid: Uuid,
    /// Only for partitions that get a filesystem.
    pub filesystem_uuid: Option<Uuid>,
}

/// The identity of the image `spec` describes.
pub fn identity(spec: &Spec) -> Result<Identity, PlanError> {
    let uuids = uuids::assign(spec)?;
    let labels = labels::assign(&spec.partitions);
    let partitions = spec
        .partitions
        .iter()
        .zip(uuids)
        .zip(labels)
        .map(|((p, uuid), label)| PartitionIdentity {
            label,
            uuid,
            filesystem_uuid: p.format.map(|_| uuids::filesystem_uuid(uuid)),
        })
        .collect();
    Ok(Identity { disk_uuid: uuids::disk_uuid(spec.seed), partitions })
}
