//! `repart-output.json`: one object per partition with the fields and
//! value spellings of `systemd-repart --json=pretty` (257): type, label,
//! uuid, partno (from 0; 252 has no such field), file, node, offset,
//! old_size, raw_size, old_padding, raw_padding, activity, roothash for
//! both partitions of a verity pair, and with split output split_path (the split file's name, `-` for none; 257 too).
//! nixpkgs' module keeps this file beside the image.

use nix_repart_plan::Plan;
use serde::Serialize;
use uuid::Uuid;

/// The name of the JSON report, as nixpkgs' module names it.
pub const REPORT_FILE: &str = "repart-output.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepartEntry {
    #[serde(rename = "type")]
    pub type_name: String,
    pub label: String,
    pub uuid: Uuid,
    /// The partition's index in the table, from 0.
    pub partno: u32,
    /// The definition file systemd-repart would have read: `<id>.conf`.
    pub file: String,
    /// The image file name followed by the partition number, as
    /// systemd-repart prints it for an image file.
    pub node: String,
    pub offset: u64,
    pub old_size: u64,
    pub raw_size: u64,
    pub old_padding: u64,
    pub raw_padding: u64,
    pub activity: &'static str,
    /// For both partitions of a verity pair: the root hash, in hex; `null`
    /// for the others once any partition has one (as 257 writes the
    /// column), absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roothash: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_path: Option<String>,
}

/// The entries for a freshly created image; `split` as the spec asks.
pub fn entries(plan: &Plan, split: bool) -> Vec<RepartEntry> {
    let verity = plan.partitions.iter().any(|p| p.roothash.is_some());
    plan.partitions
        .iter()
        .map(|p| RepartEntry {
            type_name: p.type_name.clone(),
            // systemd-repart's table shows an empty label as "-", and its
            // JSON output is made from that table (seen with repart 252).
            label: if p.label.is_empty() { "-".to_string() } else { p.label.clone() },
            uuid: p.uuid,
            partno: p.number - 1,
            file: format!("{}.conf", p.id),
            node: format!("{}{}", plan.image.file_name, p.number),
            offset: p.offset.0,
            old_size: 0,
            raw_size: p.size.0,
            old_padding: 0,
            raw_padding: p.padding.0,
            activity: "create",
            roothash: verity.then(|| p.roothash.clone()),
            split_path: split.then(|| p.split_file.clone().unwrap_or_else(|| "-".to_string())),
        })
        .collect()
}

/// The document, pretty-printed, with a final newline.
pub fn render(plan: &Plan, split: bool) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(&entries(plan, split))?;
    text.push('\n');
    Ok(text)
}
