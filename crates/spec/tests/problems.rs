//! Validation problems compared as values: pointer and `ProblemKind`.

use nix_repart_spec::{parse_spec, Bytes, Designator, ImageSize, Problem, ProblemKind, SpecError};

fn problems(text: &str) -> Vec<Problem> {
    match parse_spec(text) {
        Err(SpecError::Invalid(problems)) => problems.0,
        other => panic!("expected problems, got {other:?}"),
    }
}

fn one(pointer: &str, kind: ProblemKind) -> Vec<Problem> {
    vec![Problem { pointer: pointer.to_string(), kind }]
}

fn with_config(config: &str) -> String {
    format!(r#"{{"version": 1, "name": "img", "partitions": [{{"id": "10-p", "repartConfig": {config}}}]}}"#)
}

#[test]
fn sizes_booleans_and_uuids_are_checked() {
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "SizeMinBytes": "12Q"}"#)),
        one("/partitions/0/repartConfig/SizeMinBytes", ProblemKind::NotASize { value: "12Q".into() })
    );
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "NoAuto": "perhaps"}"#)),
        one("/partitions/0/repartConfig/NoAuto", ProblemKind::NotABool { value: "perhaps".into() })
    );
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "UUID": "0867da16f251457da9e8c31f9a3c220"}"#)),
        one(
            "/partitions/0/repartConfig/UUID",
            ProblemKind::NotAUuid { value: "0867da16f251457da9e8c31f9a3c220".into() }
        )
    );
}

#[test]
fn min_above_max_is_compared_after_repart_rounding() {
    // 8191 rounds down to 4096, 4097 rounds up to 8192: no problem.
    assert!(parse_spec(&with_config(r#"{"Type": "esp", "SizeMinBytes": 8191, "SizeMaxBytes": 4097}"#)).is_ok());
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "SizeMinBytes": "3M", "SizeMaxBytes": "2M"}"#)),
        one(
            "/partitions/0/repartConfig/SizeMinBytes",
            ProblemKind::SizeMinAboveMax { partition: "10-p".into(), min: Bytes(3 << 20), max: Bytes(2 << 20) }
        )
    );
}

#[test]
fn settings_nix_repart_lacks_are_named() {
    // Keys are reported in byte order (the JSON object is read sorted).
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "Subvolumes": "/a", "Encrypt": "tpm2"}"#)),
        vec![
            Problem {
                pointer: "/partitions/0/repartConfig/Encrypt".into(),
                kind: ProblemKind::NotImplemented { partition: "10-p".into(), key: "Encrypt".into() },
            },
            Problem {
                pointer: "/partitions/0/repartConfig/Subvolumes".into(),
                kind: ProblemKind::NotImplemented { partition: "10-p".into(), key: "Subvolumes".into() },
            },
        ]
    );
}

#[test]
fn verity_settings_are_checked_alone_and_as_pairs() {
    use nix_repart_spec::VerityRole;
    // Without a key, on a partition with nothing read-only to protect.
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "Verity": "data"}"#)),
        vec![
            Problem {
                pointer: "/partitions/0/repartConfig/Verity".into(),
                kind: ProblemKind::VerityWithoutMatchKey { partition: "10-p".into() },
            },
            Problem {
                pointer: "/partitions/0/repartConfig/Verity".into(),
                kind: ProblemKind::VerityOnWritable { partition: "10-p".into(), format: "none".into() },
            },
        ]
    );
    // A hash partition whose data partition is missing.
    assert_eq!(
        problems(&with_config(r#"{"Type": "usr-verity", "Verity": "hash", "VerityMatchKey": "k"}"#)),
        one(
            "/partitions/0/repartConfig/VerityMatchKey",
            ProblemKind::VerityUnpaired { partition: "10-p".into(), key: "k".into(), missing: VerityRole::Data }
        )
    );
    // Block sizes belong on the hash partition.
    assert_eq!(
        problems(&with_config(r#"{"Type": "usr", "Format": "erofs", "VerityDataBlockSizeBytes": "4096"}"#)),
        one(
            "/partitions/0/repartConfig/VerityDataBlockSizeBytes",
            ProblemKind::VerityBlockSizeNotOnHash { partition: "10-p".into(), key: "VerityDataBlockSizeBytes" }
        )
    );
}

#[test]
fn split_name_specifiers_are_limited_to_what_repart_252_resolves() {
    assert_eq!(
        problems(&with_config(r#"{"Type": "esp", "SplitName": "%u"}"#)),
        one(
            "/partitions/0/repartConfig/SplitName",
            ProblemKind::SplitSpecifier { value: "%u".into(), specifier: "%u".into() }
        )
    );
}

#[test]
fn a_valid_spec_has_defaults_and_sorted_partitions() {
    let spec = parse_spec(
        r#"{"version": 1, "name": "img", "partitions": [
            {"id": "20-root", "repartConfig": {"Type": "root", "Weight": 10}},
            {"id": "10-esp", "repartConfig": {"Type": "esp", "ReadOnly": true, "SizeMinBytes": "1.5M"}}]}"#,
    )
    .expect("valid");
    assert_eq!(spec.seed.to_string(), "0867da16-f251-457d-a9e8-c31f9a3c220b");
    assert_eq!(spec.sector_size.0, 512);
    assert_eq!(spec.image_size, ImageSize::Auto);
    let ids: Vec<&str> = spec.partitions.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["10-esp", "20-root"]);
    assert_eq!(spec.partitions[0].read_only, Some(true));
    assert_eq!(spec.partitions[0].size_min, Some(Bytes(1536 << 10)));
    assert_eq!(spec.partitions[1].partition_type.designator, Designator::Root);
    assert_eq!(spec.partitions[1].weight, 10);
    assert_eq!(spec.partitions[1].spec_index, 0);
}
