//! `streaming_offset` is the planner's own rule for where a partition
//! starts in an auto-sized image: for any spec and content sizes it gives
//! the offset `plan` gives (on disks above 4 MiB; below, libfdisk's first
//! LBA moves and the build moves what it streamed), and it cannot see (so
//! does not depend on) the partitions after the one asked about. Specs are generated: 1 to 6
//! partitions with random minimums, maximums, paddings, weights,
//! `Minimize=`, formats and content sizes, on 512- and 4096-byte sectors.

use nix_repart_plan::{identity, plan, streaming_offset, ContentSizes};
use nix_repart_spec::Bytes;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Part {
    min_kib: Option<u64>,
    max_kib: Option<u64>,
    padding_kib: Option<u64>,
    weight: u32,
    minimize: bool,
    format: bool,
    content_kib: Option<u64>,
}

fn part() -> impl Strategy<Value = Part> {
    (
        proptest::option::of(0u64..200_000),
        proptest::option::of(0u64..400_000),
        proptest::option::of(0u64..9_000),
        0u32..2000,
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0u64..150_000),
    )
        .prop_map(|(min_kib, max_kib, padding_kib, weight, minimize, format, content_kib)| Part {
            min_kib,
            max_kib,
            padding_kib,
            weight,
            minimize,
            format,
            content_kib,
        })
}

fn spec_json(parts: &[Part], sector: u32) -> String {
    let partitions: Vec<serde_json::Value> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut config = serde_json::json!({ "Type": "linux-generic", "Weight": p.weight.to_string() });
            if let Some(min) = p.min_kib {
                config["SizeMinBytes"] = format!("{min}K").into();
            }
            if let Some(max) = p.max_kib {
                config["SizeMaxBytes"] = format!("{}K", max.max(p.min_kib.unwrap_or(0))).into();
            }
            if let Some(padding) = p.padding_kib {
                config["PaddingMinBytes"] = format!("{padding}K").into();
            }
            if p.minimize {
                config["Minimize"] = "guess".into();
            }
            if p.format {
                config["Format"] = "squashfs".into();
            }
            serde_json::json!({ "id": format!("{i:02}-p"), "repartConfig": config })
        })
        .collect();
    serde_json::json!({ "version": 1, "name": "prop", "sectorSize": sector, "partitions": partitions }).to_string()
}

/// A content size the plan accepts: never above `SizeMaxBytes=`.
fn content(p: &Part) -> Option<Bytes> {
    let kib = p.content_kib?;
    let max = p.max_kib.map_or(u64::MAX, |m| m.max(p.min_kib.unwrap_or(0)));
    Some(Bytes(kib.min(max) * 1024))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn offsets_follow_from_earlier_partitions_alone(
        parts in proptest::collection::vec(part(), 1..7),
        later in proptest::collection::vec(proptest::option::of(0u64..150_000), 6),
        big_sectors in any::<bool>(),
    ) {
        let sector = if big_sectors { 4096 } else { 512 };
        let spec = nix_repart_spec::parse_spec(&spec_json(&parts, sector)).expect("generated spec is valid");
        let sizes = ContentSizes(parts.iter().map(content).collect());
        let planned = plan(&spec, &identity(&spec).expect("identity"), &sizes).expect("auto-sized image plans");
        let small = |p: &nix_repart_plan::Plan| p.image.size.0 <= 4 << 20;
        for i in 0..parts.len() {
            let offset = streaming_offset(&spec, &sizes.0[..i]).expect("rule").expect("auto-sized");
            if !small(&planned) {
                prop_assert_eq!(offset, planned.partitions[i].offset, "partition {}", i);
            }
            // Other sizes for partitions i.. change nothing before them.
            let mut changed = sizes.clone();
            for (j, size) in changed.0.iter_mut().enumerate().skip(i) {
                let kib = later[j].map(|k| k.min(parts[j].max_kib.unwrap_or(u64::MAX)));
                *size = kib.map(|k| Bytes(k * 1024));
            }
            let replanned = plan(&spec, &identity(&spec).expect("identity"), &changed).expect("plans");
            if !small(&replanned) {
                prop_assert_eq!(replanned.partitions[i].offset, offset, "partition {} moved", i);
            }
        }
    }
}

#[test]
fn a_fixed_size_image_has_no_streaming_offset() {
    let spec = nix_repart_spec::parse_spec(
        r#"{"version": 1, "name": "f", "imageSize": "1G", "partitions": [{"id": "a", "repartConfig": {"Type": "linux-generic"}}]}"#,
    )
    .expect("valid");
    assert_eq!(streaming_offset(&spec, &[]).expect("rule"), None);
}
