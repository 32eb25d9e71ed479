//! Partition labels: `Label=` as given, otherwise the type's name with
//! `-2`, `-3`, ... appended until it is unused, as systemd-repart's
//! `context_acquire_partition_uuids_and_labels()` does. Explicit labels
//! are never changed, even when they repeat.

use nix_repart_spec::Partition;

pub fn assign(partitions: &[Partition]) -> Vec<String> {
    let mut labels: Vec<Option<String>> = partitions.iter().map(|p| p.label.clone()).collect();
    for (i, p) in partitions.iter().enumerate() {
        if labels[i].is_some() {
            continue;
        }
        let prefix = p.partition_type.default_label_prefix();
        let label = (0..)
            .map(|k| if k == 0 { prefix.to_string() } else { format!("{prefix}-{}", k + 1) })
            .find(|candidate| !labels.iter().flatten().any(|used| used == candidate))
            .unwrap_or_default();
        labels[i] = Some(label);
    }
    labels.into_iter().map(Option::unwrap_or_default).collect()
}
