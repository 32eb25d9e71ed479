//! Verity pairs in the plan: a `Verity=hash` partition's content is the
//! hash tree of its data partition's content ([`with_trees`]), and each
//! partition of a pair says what it is in the plan ([`VerityPlan`]).
//! The tree itself is written by the build; its root hash then gives both
//! partitions their UUIDs ([`crate::uuids::verity_partition_uuids`]).

use nix_repart_spec::{Bytes, Spec, VerityRole};
use serde::Serialize;

/// A partition's part in a verity pair, as `nix-repart plan` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerityPlan {
    pub role: VerityRole,
    pub match_key: String,
    /// The other partition's id.
    pub paired_with: String,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    /// The partition UUID comes from the root hash once the data is
    /// written (no `UUID=` given); until then the plan shows the seed's.
    pub uuid_from_root_hash: bool,
}

pub(crate) fn verity_plan(p: &nix_repart_spec::Partition) -> Option<VerityPlan> {
    let v = &p.verity;
    if v.role == VerityRole::Off {
        return None;
    }
    Some(VerityPlan {
        role: v.role,
        match_key: v.match_key.clone().unwrap_or_default(),
        paired_with: v.partner.clone().unwrap_or_default(),
        data_block_size: v.data_block_size,
        hash_block_size: v.hash_block_size,
        uuid_from_root_hash: p.uuid.is_none(),
    })
}

/// `sizes` (of the first `sizes.len()` partitions) with each hash
/// partition's content set to its tree's size, where its data partition's
/// content size is among them.
pub(crate) fn with_trees(spec: &Spec, sizes: &[Option<Bytes>]) -> Vec<Option<Bytes>> {
    let mut out = sizes.to_vec();
    for (i, p) in spec.partitions.iter().enumerate().take(sizes.len()) {
        if p.verity.role != VerityRole::Hash {
            continue;
        }
        let data = spec.partitions.iter().position(|d| Some(&d.id) == p.verity.partner.as_ref());
        if let Some(Some(data_bytes)) = data.and_then(|d| sizes.get(d)) {
            let tree = nix_repart_verity::tree_size(data_bytes.0, p.verity.data_block_size, p.verity.hash_block_size);
            out[i] = Some(Bytes(tree));
        }
    }
    out
}
