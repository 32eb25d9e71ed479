//! The table a build ends with, one row per partition: format, content
//! bytes (file data in its tree), filesystem size, partition size, fill
//! (filesystem of partition), compression ratio (filesystem of content,
//! for the compressing formats) and time spent on it.

use std::fmt::Write as _;
use std::time::Duration;

use nix_repart_plan::PartitionPlan;
use nix_repart_progress::units;
use nix_repart_spec::Format;

use crate::content::Facts;

/// One partition's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub format: Option<Format>,
    pub partition_bytes: u64,
    pub facts: Facts,
}

impl Row {
    pub fn new(planned: &PartitionPlan, facts: Facts) -> Row {
        Row { id: planned.id.clone(), format: planned.format, partition_bytes: planned.size.0, facts }
    }

    /// The filesystem's size: what was measured, or its whole partition.
    fn filesystem_bytes(&self) -> Option<u64> {
        self.format.map(|_| self.facts.filesystem_bytes.unwrap_or(self.partition_bytes))
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_string();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// The table, with a header and a total line; ends with a newline.
pub fn render(rows: &[Row], elapsed: Duration) -> String {
    let mut lines =
        vec![["partition", "format", "content", "entries", "filesystem", "partition size", "fill", "ratio", "time"]
            .map(str::to_string)];
    for row in rows {
        let fs = row.filesystem_bytes();
        let compresses = row.format.is_some_and(Format::compresses);
        lines.push([
            row.id.clone(),
            row.format.map_or("-".to_string(), |f| f.name().to_string()),
            units::bytes(row.facts.content_bytes),
            row.facts.entries.to_string(),
            fs.map_or("-".to_string(), units::bytes),
            units::bytes(row.partition_bytes),
            fs.map_or("-".to_string(), |fs| percent(fs, row.partition_bytes)),
            match fs {
                Some(fs) if compresses => percent(fs, row.facts.content_bytes),
                _ => "-".to_string(),
            },
            units::seconds(row.facts.elapsed),
        ]);
    }
    let widths: Vec<usize> = (0..9).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for line in &lines {
        let cells: Vec<String> = line.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    }
    let _ = writeln!(text, "built in {}", units::seconds(elapsed));
    text
}
