//! Split output: with `split = true`, every partition whose `SplitName=` is
//! not `-` is also written to `<name>[_<version>].<SplitName>.raw`.
//! `SplitName=` defaults to `%t`, the type name; `%T` is the type UUID
//! and `%U` the partition UUID, both without dashes, `%n` the partition
//! number from 0 and `%a` the architecture (systemd-repart 257, checked
//! here).

use nix_repart_spec::{Partition, Spec};

use crate::{PartitionPlan, PlanError};

/// The split file of a partition, if the spec asks for one.
pub fn file_name(spec: &Spec, p: &Partition, uuid: uuid::Uuid, index: usize) -> Option<String> {
    if !spec.split {
        return None;
    }
    let template = p.split_name.as_deref().unwrap_or("%t");
    if template == "-" {
        return None;
    }
    Some(format!("{}.{}.raw", spec.base_name(), expand(template, spec, p, uuid, index)))
}

fn expand(template: &str, spec: &Spec, p: &Partition, uuid: uuid::Uuid, index: usize) -> String {
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(ch) = chars.next() {
        match (ch, ch == '%') {
            (_, false) => out.push(ch),
            (_, true) => match chars.next() {
                Some('t') => out.push_str(&p.partition_type.display_name()),
                Some('T') => out.push_str(&p.partition_type.guid.simple().to_string()),
                Some('U') => out.push_str(&uuid.simple().to_string()),
                Some('n') => out.push_str(&index.to_string()),
                Some('a') => out.push_str(spec.architecture.name()),
                Some(other) => out.push(other),
                None => {}
            },
        }
    }
    out
}

/// The longest split file name: NAME_MAX less `.zst` or `.xz` and the
/// temporary name's suffix.
pub const MAX_FILE_NAME_BYTES: usize = 236;

pub fn check_unique(partitions: &[PartitionPlan]) -> Result<(), PlanError> {
    for p in partitions {
        if let Some(file) = p.split_file.as_ref().filter(|f| f.len() > MAX_FILE_NAME_BYTES) {
            let (partition, bytes, max) = (p.id.clone(), file.len(), MAX_FILE_NAME_BYTES);
            return Err(PlanError::SplitFileNameTooLong { partition, file: file.clone(), bytes, max });
        }
    }
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
