//! `fromImage`: a partition taken byte for byte from an image built before
//! (a directory holding the image and its `repart-output.json`, such as a
//! Nix store path), as nixpkgs' verityStore reuses its intermediate image.
//! The report's entry for the same definition (`<id>.conf`) gives the
//! region to copy (`offset`, `raw_size`), the UUID and label, and the root
//! hash, which the new image's report carries on. Read at validation, like
//! a closure file; the bytes are copied by the build as `CopyBlocks=`.

use std::path::Path;

use serde_json::Value;

use crate::error::ProblemKind;
use crate::model::{CopyBlocks, Partition};
use crate::validate::Checker;
use crate::values::Bytes;

/// The report file next to the image.
const REPORT: &str = "repart-output.json";

pub(crate) fn apply(c: &mut Checker, pointer: &str, dir: &str, p: &mut Partition) {
    if p.format.is_some() || p.copy_blocks.is_some() || !p.contents.is_empty() || !p.store_paths.is_empty() {
        c.problem(pointer, ProblemKind::FromImageWithContent { partition: p.id.clone() });
        return;
    }
    let Some(dir_path) = c.resolve(pointer, dir) else { return };
    match read_entry(&dir_path, &p.id) {
        Ok(entry) => {
            p.copy_blocks =
                Some(CopyBlocks { source: entry.image, offset: Bytes(entry.offset), size: Bytes(entry.size) });
            p.uuid = p.uuid.or(Some(entry.uuid));
            if p.label.is_none() && entry.label != "-" {
                p.label = Some(entry.label);
            }
            p.from_image = Some(FromImage { roothash: entry.roothash });
            // The partition keeps exactly its size there.
            p.size_min = Some(Bytes(entry.size));
            p.size_max = Some(Bytes(entry.size));
        }
        Err(reason) => {
            c.problem(pointer, ProblemKind::FromImage { partition: p.id.clone(), dir: dir.to_string(), reason })
        }
    }
}

/// What a partition copied from an earlier image brings besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromImage {
    /// The root hash of its verity pair there, for the new report.
    pub roothash: Option<String>,
}

struct Entry {
    image: std::path::PathBuf,
    offset: u64,
    size: u64,
    uuid: uuid::Uuid,
    label: String,
    roothash: Option<String>,
}

fn read_entry(dir: &Path, id: &str) -> Result<Entry, String> {
    let report = dir.join(REPORT);
    let text = std::fs::read_to_string(&report).map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    let entries: Value = serde_json::from_str(&text).map_err(|e| format!("{REPORT} is not JSON: {e}"))?;
    let file = format!("{id}.conf");
    let entry = entries
        .as_array()
        .and_then(|list| list.iter().find(|e| e["file"].as_str().is_some_and(|f| f.rsplit('/').next() == Some(&file))))
        .ok_or_else(|| format!("{REPORT} has no partition {id}"))?;
    let field = |key: &str| entry[key].as_u64().ok_or_else(|| format!("{REPORT}: {id} has no {key}"));
    let node = entry["node"].as_str().ok_or_else(|| format!("{REPORT}: {id} has no node"))?;
    // The node is the image's file name followed by the partition number.
    let image = dir.join(node.trim_end_matches(|ch: char| ch.is_ascii_digit()));
    if !image.is_file() {
        return Err(format!("no image {} (from the node of {id})", image.display()));
    }
    let uuid = entry["uuid"]
        .as_str()
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .ok_or_else(|| format!("{REPORT}: {id} has no uuid"))?;
    let (offset, size) = (field("offset")?, field("raw_size")?);
    let end = offset.checked_add(size).ok_or_else(|| format!("{REPORT}: {id}'s offset and size overflow"))?;
    let image_len = std::fs::metadata(&image).map(|m| m.len()).unwrap_or(0);
    if size == 0 || size > Bytes::MAX_SIZE.0 || end > image_len {
        return Err(format!("{REPORT}: {id} ({size} bytes at {offset}) is not inside {}", image.display()));
    }
    Ok(Entry {
        image,
        offset,
        size,
        uuid,
        label: entry["label"].as_str().unwrap_or("-").to_string(),
        roothash: entry["roothash"].as_str().map(str::to_string),
    })
}
