//! dm-verity settings: `Verity=`, `VerityMatchKey=`,
//! `VerityDataBlockSizeBytes=` and `VerityHashBlockSizeBytes=`, parsed per
//! partition (`apply`) and then paired across the spec (`pair`), as
//! systemd-repart 257 reads them (repart.d(5)):
//!
//! - a `Verity=data` partition and a `Verity=hash` partition with the same
//!   `VerityMatchKey=` form a pair; each key has exactly one of each;
//! - the data partition holds a read-only filesystem (squashfs, erofs) or
//!   `CopyBlocks=`; the hash partition holds nothing else (no `Format=`,
//!   no files): nix-repart writes the hash tree there;
//! - the block sizes are read from the hash partition (they have no effect
//!   elsewhere, so nix-repart refuses them there), powers of two from 512
//!   to 4096, by default the image's sector size.
//!
//! `Verity=signature` needs a signing key and is refused. The hashing
//! itself is the verity crate's; the UUIDs derived from the root hash are
//! set by the build.

use serde::Serialize;

use crate::error::ProblemKind;
use crate::format::Format;
use crate::model::{Partition, SectorSize};
use crate::validate::Checker;
use crate::values::parse_size;

/// A partition's part in a verity pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerityRole {
    #[default]
    Off,
    Data,
    Hash,
}

/// What a partition's verity settings say, and after `pair` its partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verity {
    pub role: VerityRole,
    pub match_key: Option<String>,
    /// Bytes per data block: set for both partitions of a pair.
    pub data_block_size: u32,
    /// Bytes per hash block: set for both partitions of a pair.
    pub hash_block_size: u32,
    /// The other partition's `id`.
    pub partner: Option<String>,
    /// As written; resolved into the sizes above by `pair`.
    data_block_setting: Option<u32>,
    hash_block_setting: Option<u32>,
}

/// Applies one verity key to `p`; `pointer` names it in errors.
pub(crate) fn apply(c: &mut Checker, pointer: &str, key: &str, value: &str, p: &mut Partition) {
    let id = p.id.clone();
    match key {
        "Verity" => match value {
            "off" => p.verity.role = VerityRole::Off,
            "data" => p.verity.role = VerityRole::Data,
            "hash" => p.verity.role = VerityRole::Hash,
            "signature" => c.problem(pointer, ProblemKind::VeritySignature { partition: id }),
            _ => c.problem(pointer, ProblemKind::NotAVerityMode { value: value.to_string() }),
        },
        "VerityMatchKey" if value.is_empty() => c.problem(pointer, ProblemKind::EmptyMatchKey { partition: id }),
        "VerityMatchKey" => p.verity.match_key = Some(value.to_string()),
        "VerityDataBlockSizeBytes" => p.verity.data_block_setting = block_size(c, pointer, value),
        _ => p.verity.hash_block_setting = block_size(c, pointer, value),
    }
}

fn block_size(c: &mut Checker, pointer: &str, value: &str) -> Option<u32> {
    let size = parse_size(value).filter(|s| s.0.is_power_of_two() && (512..=4096).contains(&s.0));
    if size.is_none() {
        c.problem(pointer, ProblemKind::BadVerityBlockSize { value: value.to_string() });
    }
    size.map(|s| s.0 as u32)
}

fn pointer(p: &Partition, key: &str) -> String {
    format!("/partitions/{}/repartConfig/{key}", p.spec_index)
}

/// Pairs data and hash partitions by `VerityMatchKey=` and checks what
/// each may hold.
pub(crate) fn pair(c: &mut Checker, partitions: &mut [Partition], sector_size: SectorSize) {
    for p in partitions.iter() {
        check_one(c, p);
    }
    let keyed: Vec<(usize, VerityRole, String)> = partitions
        .iter()
        .enumerate()
        .filter(|(_, p)| p.verity.role != VerityRole::Off)
        .filter_map(|(i, p)| Some((i, p.verity.role, p.verity.match_key.clone()?)))
        .collect();
    for &(i, role, ref key) in &keyed {
        let same: Vec<usize> = keyed.iter().filter(|(_, r, k)| *r == role && k == key).map(|(j, ..)| *j).collect();
        if same[0] != i {
            let (first, p) = (&partitions[same[0]], &partitions[i]);
            let kind = ProblemKind::VerityDuplicate {
                partition: p.id.clone(),
                other: first.id.clone(),
                key: key.clone(),
                role,
            };
            c.problem(pointer(p, "VerityMatchKey"), kind);
            continue;
        }
        let wanted = if role == VerityRole::Data { VerityRole::Hash } else { VerityRole::Data };
        match keyed.iter().find(|(_, r, k)| *r == wanted && k == key) {
            Some(&(j, ..)) => partitions[i].verity.partner = Some(partitions[j].id.clone()),
            None => {
                let p = &partitions[i];
                let kind = ProblemKind::VerityUnpaired { partition: p.id.clone(), key: key.clone(), missing: wanted };
                c.problem(pointer(p, "VerityMatchKey"), kind);
            }
        }
    }
    // Block sizes from the hash partition, for both.
    for i in 0..partitions.len() {
        if partitions[i].verity.role != VerityRole::Hash {
            continue;
        }
        let v = &partitions[i].verity;
        let data = v.data_block_setting.unwrap_or(sector_size.0);
        let hash = v.hash_block_setting.unwrap_or(sector_size.0);
        let partner = v.partner.clone();
        partitions[i].verity.data_block_size = data;
        partitions[i].verity.hash_block_size = hash;
        if let Some(d) = partitions.iter_mut().find(|p| Some(&p.id) == partner.as_ref()) {
            d.verity.data_block_size = data;
            d.verity.hash_block_size = hash;
        }
    }
}

/// What one partition's verity settings allow on their own.
fn check_one(c: &mut Checker, p: &Partition) {
    let v = &p.verity;
    let id = p.id.clone();
    if v.role == VerityRole::Off {
        if v.match_key.is_some() {
            c.problem(pointer(p, "VerityMatchKey"), ProblemKind::MatchKeyWithoutVerity { partition: id.clone() });
        }
    } else if v.match_key.is_none() {
        c.problem(pointer(p, "Verity"), ProblemKind::VerityWithoutMatchKey { partition: id.clone() });
    }
    if v.role != VerityRole::Hash {
        for (key, set) in [
            ("VerityDataBlockSizeBytes", v.data_block_setting.is_some()),
            ("VerityHashBlockSizeBytes", v.hash_block_setting.is_some()),
        ] {
            if set {
                let kind = ProblemKind::VerityBlockSizeNotOnHash { partition: id.clone(), key };
                c.problem(pointer(p, key), kind);
            }
        }
    }
    let has_files = !p.contents.is_empty() || !p.store_paths.is_empty();
    match v.role {
        VerityRole::Data => {
            let read_only = matches!(p.format, Some(Format::Squashfs(_) | Format::Erofs(_)))
                || (p.format.is_none() && p.copy_blocks.is_some());
            if !read_only {
                let format = p.format.map_or("none".to_string(), |f| f.name().to_string());
                c.problem(pointer(p, "Verity"), ProblemKind::VerityOnWritable { partition: id, format });
            }
        }
        // A hash partition copied from an earlier image brings its tree.
        VerityRole::Hash if p.format.is_some() || (p.copy_blocks.is_some() && p.from_image.is_none()) || has_files => {
            c.problem(pointer(p, "Verity"), ProblemKind::VerityHashWithContent { partition: id });
        }
        _ => {}
    }
}
