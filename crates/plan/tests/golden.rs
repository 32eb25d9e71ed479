//! Golden plans: each `golden/<name>.spec.json` must plan to exactly
//! `golden/<name>.plan.json`, pinning the whole plan (LBAs, UUIDs,
//! attributes, split names) against regressions. `weights-1g` is the
//! `fixed-size-weights` layout that the conformance test checks against
//! systemd-repart 252; `appliance-4096` is an auto-sized 4096-byte-sector
//! image, which repart 252 cannot build (it has no `--sector-size`), checked
//! by hand: 1 MiB + 96 MiB + 10 MiB + 1 MiB padding + 10 MiB + the backup
//! GPT (16 KiB of entries and a 4096-byte header). `UPDATE_GOLDEN=1` rewrites the files.

use std::path::Path;

use nix_repart_plan::{identity, plan, ContentSizes};

fn golden_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// `golden/<name>.spec.json` plans to exactly `golden/<name>.plan.json`.
fn check_golden(name: &str) {
    let dir = golden_dir();
    let spec = nix_repart_spec::load_spec(&dir.join(format!("{name}.spec.json"))).expect("golden spec is valid");
    let planned =
        plan(&spec, &identity(&spec).expect("identity"), &ContentSizes::from_spec(&spec)).expect("golden spec plans");
    let got = serde_json::to_string_pretty(&planned).expect("json") + "\n";
    let expected_path = dir.join(format!("{name}.plan.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &got).expect("write golden");
    }
    let expected = std::fs::read_to_string(&expected_path).expect("golden plan exists");
    assert_eq!(got, expected, "{name}");
}

/// One test per golden case, and a check that every case has one.
macro_rules! golden_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_golden($name);
            }
        )*

        #[test]
        fn every_golden_case_has_its_own_test() {
            let mut cases: Vec<String> = std::fs::read_dir(golden_dir())
                .expect("golden dir")
                .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".spec.json").map(str::to_string))
                .collect();
            cases.sort();
            let mut tested = vec![$($name),*];
            tested.sort_unstable();
            assert_eq!(cases, tested);
        }
    };
}

golden_tests! {
    golden_appliance_4096 => "appliance-4096",
    golden_weights_1g => "weights-1g",
}

#[test]
fn small_esp_on_4096_byte_sectors_is_warned_about() {
    let spec = |size: &str| {
        nix_repart_spec::parse_spec(&format!(
            r#"{{"version": 1, "name": "w", "sectorSize": 4096, "partitions": [
                {{"id": "10-esp", "repartConfig": {{"Type": "esp", "SizeMinBytes": "{size}"}}}}]}}"#
        ))
        .expect("valid")
    };
    let small = spec("100M");
    let small = plan(&small, &identity(&small).expect("identity"), &ContentSizes(vec![None])).expect("plans");
    assert_eq!(
        small.warnings,
        ["partition 10-esp: an ESP on 4096-byte sectors smaller than 260 MiB is refused by OVMF firmware; set SizeMinBytes=260M to boot there"]
    );
    let large = spec("260M");
    let large = plan(&large, &identity(&large).expect("identity"), &ContentSizes(vec![None])).expect("plans");
    assert!(large.warnings.is_empty());
}
