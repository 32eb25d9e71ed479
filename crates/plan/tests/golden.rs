//! Golden plans: each `golden/<name>.spec.json` must plan to exactly
//! `golden/<name>.plan.json`, pinning the whole plan (LBAs, UUIDs,
//! attributes, split names) against regressions. `weights-1g` is the
//! `fixed-size-weights` layout that the conformance test checks against
//! systemd-repart 252; `appliance-4096` is an auto-sized 4096-byte-sector
//! image, which repart 252 cannot build (it has no `--sector-size`), checked
//! by hand: 1044 KiB of GPT overhead + 96 MiB + 10 MiB + 1 MiB padding +
//! 10 MiB. `UPDATE_GOLDEN=1` rewrites the files.

use std::path::Path;

use nix_repart_plan::{plan, ContentSizes};

#[test]
fn plans_match_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("golden dir") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".spec.json")) else {
            continue;
        };
        let spec = nix_repart_spec::load_spec(&path).expect("golden spec is valid");
        let planned = plan(&spec, &ContentSizes::from_spec(&spec)).expect("golden spec plans");
        let got = serde_json::to_string_pretty(&planned).expect("json") + "\n";
        let expected_path = dir.join(format!("{name}.plan.json"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&expected_path, &got).expect("write golden");
        }
        let expected = std::fs::read_to_string(&expected_path).expect("golden plan exists");
        assert_eq!(got, expected, "{name}");
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} golden files");
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
    let small = plan(&spec("100M"), &ContentSizes::default()).expect("plans");
    assert_eq!(
        small.warnings,
        ["partition 10-esp: an ESP on 4096-byte sectors smaller than 260 MiB is refused by OVMF firmware; set SizeMinBytes=260M to boot there"]
    );
    let large = plan(&spec("260M"), &ContentSizes::default()).expect("plans");
    assert!(large.warnings.is_empty());
}
