//! Split output: with `split = true`, every partition whose `SplitName=` is
//! not `-` is also written to `<name>[_<version>].<SplitName>.raw`.
//! `SplitName=` defaults to `%t`, the type name; `%T` is the type UUID
//! without dashes (systemd-repart 252, checked here).

use nix_repart_spec::{Partition, Spec};

use crate::{PartitionPlan, PlanError};

/// The split file of a partition, if the spec asks for one.
pub fn file_name(spec: &Spec, p: &Partition) -> Option<String> {
    if !spec.split {
        return None;
    }
    let template = p.split_name.as_deref().unwrap_or("%t");
    if template == "-" {
        return None;
    }
    Some(format!("{}.{}.raw", spec.base_name(), expand(template, p)))
}

fn expand(template: &str, p: &Partition) -> String {
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(ch) = chars.next() {
        match (ch, ch == '%') {
            (_, false) => out.push(ch),
            (_, true) => match chars.next() {
                Some('t') => out.push_str(&p.partition_type.display_name()),
                Some('T') => out.push_str(&p.partition_type.guid.simple().to_string()),
                Some(other) => out.push(other),
                None => {}
            },
        }
    }
    out
}

pub fn check_unique(partitions: &[PartitionPlan]) -> Result<(), PlanError> {
    for (i, p) in partitions.iter().enumerate() {
        let Some(file) = &p.split_file else { continue };
        if let Some(first) = partitions[..i].iter().find(|q| q.split_file.as_ref() == Some(file)) {
            return Err(PlanError::DuplicateSplitFile {
                first: first.id.clone(),
                second: p.id.clone(),
                file: file.clone(),
            });
        }
    }
    Ok(())
}
