//! The NixOS module under real nixpkgs: `nix/modules/image-repart.nix` and
//! nixpkgs' own `nixos/modules/image/repart.nix` are evaluated with real
//! nixpkgs `lib.evalModules` on the same configurations
//! (`tests/nix/modules/configs`: the manual's example, nixpkgs' appliance
//! test and its verity-store test, every option), and must agree partition by partition: the
//! repart.d text (nixpkgs' INI generator on both sides), contents,
//! storePaths, nixStorePrefix, and the image's base and file names (also
//! through the renamed `imageFile` alias). Our spec is then planned by the
//! binary. What `tests/nix/modules/eval.nix` stubs, and why, it says.
//!
//! nixpkgs is `../shared/nixpkgs` when it is there, else `<nixpkgs>` from
//! NIX_PATH, else flake.lock's pin fetched with `builtins.fetchTarball`;
//! under `CI=true` one of them must be found.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::nix::{nix, require_nixpkgs};
use common::{bin, run};
use serde_json::Value;

/// `eval.nix` for one module and configuration: its JSON, and stderr.
fn eval(nixpkgs: &PathBuf, module: &str, configuration: &PathBuf) -> Result<(Value, String), String> {
    let out = run(nix("nix-instantiate")
        .args(["--eval", "--strict", "--json", "tests/nix/modules/eval.nix"])
        .arg("--arg")
        .arg("nixpkgs")
        .arg(nixpkgs)
        .args(["--argstr", "module", module])
        .arg("--arg")
        .arg("configuration")
        .arg(configuration));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(stderr);
    }
    Ok((serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {stderr}"))?, stderr))
}

fn configs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nix/modules/configs");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir).expect("configs").map(|e| e.expect("entry").path()).collect();
    found.sort();
    found
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn our_module_agrees_with_nixpkgs_and_its_spec_plans() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let configs = configs();
    assert!(configs.len() >= 4, "{configs:?}");
    for config in configs {
        let name = config.file_stem().expect("name").to_string_lossy().into_owned();
        let (mut ours, _) = eval(&nixpkgs, "ours", &config).unwrap_or_else(|e| panic!("{name}, ours: {e}"));
        let (theirs, _) = eval(&nixpkgs, "nixpkgs", &config).unwrap_or_else(|e| panic!("{name}, nixpkgs: {e}"));
        let ours_only = ours.as_object_mut().expect("object");
        let spec = ours_only.remove("spec").expect("our spec");
        ours_only.remove("tools");
        ours_only.remove("verityStore");
        assert_eq!(ours, theirs, "{name}: the modules disagree");
        let tmp = tempfile::tempdir().expect("tempdir");
        let text = common::store::onto_temp_store(&spec.to_string(), tmp.path());
        let spec_file = tmp.path().join("spec.json");
        std::fs::write(&spec_file, text).expect("spec");
        let plan = run(Command::new(bin()).arg("plan").arg(&spec_file));
        assert!(plan.status.success(), "{name}: nix-repart plan: {}", String::from_utf8_lossy(&plan.stderr));
    }
}

/// A configuration file with `body` as its `image.repart`.
fn config_file(dir: &std::path::Path, body: &str) -> PathBuf {
    let path = dir.join("config.nix");
    std::fs::write(&path, format!("{{ config, pkgs, ... }}: {{ image.repart = {body}; }}")).expect("config");
    path
}

const ESP: &str = r#"partitions.esp.repartConfig = { Type = "esp"; Format = "vfat"; };"#;

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn bad_configurations_fail_at_evaluation_naming_the_option() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            format!(r#"{{ name = "x"; {ESP} partitions.root.repartConfig = {{ Format = "ext4"; }}; }}"#),
            "image.repart.partitions.root.repartConfig.Type is not set",
        ),
        (
            format!(r#"{{ name = "x"; sectorSize = 1000; {ESP} }}"#),
            "image.repart.sectorSize: 1000 is not a power of two from 512 to 4096",
        ),
        (
            format!(r#"{{ name = "x"; compression = {{ enable = true; algorithm = "lz4"; }}; {ESP} }}"#),
            "image.repart.compression.algorithm",
        ),
        (format!(r#"{{ name = "x"; format = "vmdk"; {ESP} }}"#), "image.repart.format"),
        (
            format!(r#"{{ name = "x"; format = "qcow2"; compression.enable = true; {ESP} }}"#),
            "image.repart.format: qcow2 images are not compressed as a whole",
        ),
        (format!(r#"{{ name = "x"; extWriter = "genext2fs"; {ESP} }}"#), "image.repart.extWriter"),
    ];
    for (body, message) in cases {
        let err = eval(&nixpkgs, "ours", &config_file(tmp.path(), &body)).expect_err(&body);
        assert!(err.contains(message), "{body}: expected {message:?} in\n{err}");
    }
}

/// nix-repart's own options: `format` reaches the spec and the file name;
/// ext4 needs no e2fsprogs in the build unless mke2fs is asked for (by
/// `extWriter` or by `mkfsOptions.ext4`).
#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn format_and_ext_writer_reach_the_spec_and_the_build_inputs() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = r#"partitions.root.repartConfig = { Type = "root"; Format = "ext4"; Minimize = "guess"; };"#;
    let eval_body = |body: &str| eval(&nixpkgs, "ours", &config_file(tmp.path(), body)).expect(body).0;
    let qcow2 = eval_body(&format!(r#"{{ name = "x"; format = "qcow2-compressed"; {ESP} {root} }}"#));
    assert_eq!(qcow2["spec"]["format"], "qcow2-compressed");
    assert_eq!(qcow2["fileName"], "x.qcow2");
    assert!(qcow2["spec"].get("extWriter").is_none(), "no extWriter unless set: {}", qcow2["spec"]);
    let tools = |v: &Value| -> Vec<String> {
        v["tools"].as_array().expect("tools").iter().map(|t| t.as_str().expect("name").to_string()).collect()
    };
    assert!(!tools(&qcow2).iter().any(|t| t.contains("e2fsprogs")), "{:?}", tools(&qcow2));
    let mke2fs = eval_body(&format!(r#"{{ name = "x"; extWriter = "mke2fs"; {ESP} {root} }}"#));
    assert_eq!(mke2fs["spec"]["extWriter"], "mke2fs");
    assert_eq!(mke2fs["fileName"], "x.raw");
    assert!(tools(&mke2fs).iter().any(|t| t.contains("e2fsprogs")), "{:?}", tools(&mke2fs));
    let options = eval_body(&format!(r#"{{ name = "x"; mkfsOptions.ext4 = [ "-O ^has_journal" ]; {ESP} {root} }}"#));
    assert!(tools(&options).iter().any(|t| t.contains("e2fsprogs")), "{:?}", tools(&options));
}

/// `image.repart.package` left at a systemd package (as nixpkgs' docs have
/// it): a warning naming the option, and the image is still nix-repart's.
#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn a_systemd_package_warns_and_nix_repart_builds_anyway() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let body = format!(r#"{{ name = "x"; package = pkgs.systemd; {ESP} }}"#);
    let (value, stderr) = eval(&nixpkgs, "ours", &config_file(tmp.path(), &body)).expect("evaluates");
    assert!(stderr.contains("image.repart.package is systemd, not nix-repart"), "{stderr}");
    assert_eq!(value["tools"], serde_json::json!(["nix-repart"]), "the image is built with nix-repart");
    let body = format!(r#"{{ name = "x"; {ESP} }}"#);
    let (_, stderr) = eval(&nixpkgs, "ours", &config_file(tmp.path(), &body)).expect("evaluates");
    assert!(!stderr.contains("image.repart.package"), "no warning for the default package: {stderr}");
}

/// `verityStore.enable`: the module's intermediate image (the store and its
/// hash partition, no ESP) built by the binary verifies with the root hash
/// the UKI's command line takes (`usrhash=`, read by the UKI's own jq
/// filter from the intermediate's report); the final image (ESP with the
/// UKI at `ukiPath`, the pair from the intermediate by `fromImage`) holds
/// the same store bytes and reports the same root hash.
#[cfg_attr(
    any(lacks = "nix", lacks = "verity-tools"),
    ignore = "needs Nix (nix-bin), veritysetup and mkfs.erofs; .ci/run installs them"
)]
#[test]
fn the_verity_store_builds_verifies_and_reuses_the_intermediate_image() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    common::require_tools(&["veritysetup", "mkfs.erofs"]);
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nix/modules/configs/verity-store.nix");
    let (ours, _) = eval(&nixpkgs, "ours", &config).expect("evaluates");
    let verity = &ours["verityStore"];
    let tmp = tempfile::tempdir().expect("tempdir");
    let build = |spec: &Value, name: &str, replace: Option<(&str, &std::path::Path)>| -> PathBuf {
        let mut text = spec.to_string();
        if let Some((from, to)) = replace {
            text = text.replace(from, &to.to_string_lossy());
        }
        let text = common::store::onto_temp_store(&text, &tmp.path().join(format!("{name}-store")));
        let spec_file = tmp.path().join(format!("{name}.json"));
        std::fs::write(&spec_file, text).expect("spec");
        let out = tmp.path().join(name);
        common::build_ok(&spec_file, &out, &[]);
        out
    };
    let intermediate = build(&verity["intermediate"], "intermediate", None);
    let report = |dir: &PathBuf| -> Vec<Value> {
        serde_json::from_slice::<Value>(&std::fs::read(dir.join("repart-output.json")).expect("report"))
            .expect("json")
            .as_array()
            .expect("array")
            .clone()
    };
    // The UKI's jq filter: the roothash of the entry of this type.
    let command = verity["ukiCommand"].as_str().expect("ukiCommand");
    let wanted = command.split("select(.type==\"").nth(1).and_then(|s| s.split('"').next()).expect("jq filter");
    let entries = report(&intermediate);
    let hash_entry = entries.iter().find(|e| e["type"] == wanted).expect("the hash partition's entry");
    let usrhash = hash_entry["roothash"].as_str().expect("roothash");
    assert!(command.contains("usrhash=$usrhash"), "{command}");
    let image = intermediate.join("appliance-verity-store.raw");
    let region = |image: &PathBuf, e: &Value| {
        common::read_region(image, e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("size"))
    };
    let data_entry = entries.iter().find(|e| e["type"] == "usr-x86-64").expect("the store's entry");
    let (data, hash) = (tmp.path().join("data.img"), tmp.path().join("hash.img"));
    std::fs::write(&data, region(&image, data_entry)).expect("data");
    std::fs::write(&hash, region(&image, hash_entry)).expect("hash");
    let verify = run(Command::new("veritysetup").arg("verify").arg(&data).arg(&hash).arg(usrhash));
    assert!(verify.status.success(), "veritysetup verify: {}", String::from_utf8_lossy(&verify.stderr));
    // The final image, its pair taken from the intermediate one.
    let out_path = verity["intermediateOutPath"].as_str().expect("outPath");
    let final_dir = build(&verity["final"], "final", Some((out_path, &intermediate)));
    let finals = report(&final_dir);
    let final_image = final_dir.join("appliance-verity-store.raw");
    for before in [data_entry, hash_entry] {
        let after = finals.iter().find(|e| e["type"] == before["type"]).expect("in the final image");
        assert_eq!(after["roothash"].as_str(), Some(usrhash), "the final report's root hash");
        assert!(region(&image, before) == region(&final_image, after), "{} differs", before["type"]);
    }
    assert!(finals.iter().any(|e| e["type"] == "esp"), "the final image has its ESP");
}

/// `seed = null` (nixpkgs: no `--seed`) and `"random"` both give a spec
/// whose seed is drawn per build.
#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn null_and_random_seeds_draw_a_seed_per_build() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    for seed in ["null", r#""random""#] {
        let body = format!(r#"{{ name = "x"; seed = {seed}; {ESP} }}"#);
        let (value, _) = eval(&nixpkgs, "ours", &config_file(tmp.path(), &body)).expect("evaluates");
        assert_eq!(value["spec"]["seed"], "random", "seed = {seed}");
    }
}
