//! `nix/lib/make-disk-image.nix`, nixpkgs' make-disk-image interface built
//! by nix-repart: evaluated with real nixpkgs lib (stubs as
//! tests/nix/make-disk-image/eval.nix says), the spec it gives for each
//! partition table type, the file names make-disk-image uses, the
//! assertions for what nix-repart cannot do; and the spec is planned by
//! the binary (with the closure's registration added, as the derivation's
//! exportReferencesGraph would add it).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::nix::{nix, require_nixpkgs};
use common::{bin, run};
use serde_json::{json, Value};

fn eval(nixpkgs: &PathBuf, args: &str, systemd_boot: bool) -> Result<Value, String> {
    eval_with_users(nixpkgs, args, systemd_boot, "{ }")
}

fn eval_with_users(nixpkgs: &PathBuf, args: &str, systemd_boot: bool, users: &str) -> Result<Value, String> {
    let out = run(nix("nix-instantiate")
        .args(["--eval", "--strict", "--json", "tests/nix/make-disk-image/eval.nix"])
        .arg("--arg")
        .arg("nixpkgs")
        .arg(nixpkgs)
        .args(["--arg", "args", args])
        .args(["--arg", "systemdBoot", if systemd_boot { "true" } else { "false" }])
        .args(["--arg", "users", users]));
    if out.status.success() {
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn ids(spec: &Value) -> Vec<&str> {
    spec["partitions"].as_array().expect("partitions").iter().map(|p| p["id"].as_str().expect("id")).collect()
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn each_partition_table_type_gives_its_layout() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let efi = eval(&nixpkgs, r#"{ partitionTableType = "efi"; format = "qcow2"; }"#, true).expect("efi");
    let spec = &efi["spec"];
    assert_eq!(ids(spec), ["10-esp", "30-root"]);
    assert_eq!((spec["partitionTable"].as_str(), spec["format"].as_str()), (Some("gpt"), Some("qcow2")));
    let (esp, root) = (&spec["partitions"][0], &spec["partitions"][1]);
    assert!(esp["systemdBoot"]["efi"].as_str().expect("efi").ends_with("/lib/systemd/boot/efi/systemd-bootx64.efi"));
    assert_eq!(root["repartConfig"]["UUID"], "f222513b-ded1-49fa-b591-20ce86a2fe7f", "rootGPUID");
    assert_eq!(root["repartConfig"]["Label"], "nixos");
    assert_eq!(root["nixDatabase"], true);
    assert_eq!(root["freeSpace"], "512M", "additionalSpace in an auto-sized root");
    assert!(root["nixProfiles"]["per-user/root/channels"].as_str().expect("channel").contains("-nixos-26.11"));
    let command = efi["buildCommand"].as_str().expect("buildCommand");
    assert!(command.contains("diskImage=$out/nixos.qcow2"), "{command}");
    // legacy without a boot loader: an MBR and the root alone.
    let legacy = eval(&nixpkgs, "{ installBootLoader = false; copyChannel = false; }", false).expect("legacy");
    assert_eq!(ids(&legacy["spec"]), ["30-root"]);
    assert_eq!(legacy["spec"]["partitionTable"], "mbr");
    assert!(legacy["spec"]["partitions"][0]["nixProfiles"].get("per-user/root/channels").is_none());
    assert!(legacy["buildCommand"].as_str().expect("command").contains("$out/nixos.img"));
    let hybrid =
        eval(&nixpkgs, r#"{ partitionTableType = "hybrid"; format = "vpc"; diskSize = 4096; }"#, true).expect("hybrid");
    assert_eq!(ids(&hybrid["spec"]), ["05-bios", "10-esp", "30-root"]);
    assert_eq!(hybrid["spec"]["imageSize"], "4096M");
    assert!(hybrid["spec"]["partitions"][2].get("freeSpace").is_none(), "a fixed disk size needs no additionalSpace");
    assert!(hybrid["buildCommand"].as_str().expect("command").contains("$out/nixos.vhd"));
    let store =
        eval(&nixpkgs, r#"{ onlyNixStore = true; installBootLoader = false; partitionTableType = "none"; }"#, false)
            .expect("onlyNixStore");
    let root = &store["spec"]["partitions"][0];
    assert_eq!(
        (root["nixStorePrefix"].as_str(), root["repartConfig"]["Label"].as_str()),
        (Some("/"), Some("nix-store"))
    );
    assert!(root.get("nixDatabase").is_none());
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn what_nix_repart_cannot_do_is_an_assertion_naming_the_argument() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let cases = [
        ("{ }", true, "makeDiskImage: installBootLoader: nix-repart installs systemd-boot"),
        (r#"{ partitionTableType = "efi"; touchEFIVars = true; }"#, true, "makeDiskImage: touchEFIVars:"),
        (r#"{ partitionTableType = "efi"; }"#, false, "makeDiskImage: installBootLoader:"),
        (
            r#"{ partitionTableType = "efi"; contents = [ { source = ./.; target = "/x"; user = "bob"; group = "users"; } ]; }"#,
            true,
            "makeDiskImage: contents: user bob has no fixed id",
        ),
        (
            r#"{ partitionTableType = "efi"; contents = [ { source = ./.; target = "/x"; user = "root"; } ]; }"#,
            true,
            "makeDiskImage: contents: set none of {user, group} or both",
        ),
        (
            r#"{ partitionTableType = "efi"; fsType = "erofs"; contents = [ { source = ./.; target = "/x"; user = "7"; group = "7"; } ]; }"#,
            true,
            "makeDiskImage: contents: user and group other than root need an ext4 or squashfs root",
        ),
        (
            r#"{ partitionTableType = "efi"; rootFSUID = "11111111-2222-4333-8444-555555555555"; }"#,
            true,
            "makeDiskImage: rootFSUID:",
        ),
        (r#"{ partitionTableType = "efi"; fsType = "btrfs"; }"#, true, "makeDiskImage: fsType: btrfs"),
    ];
    for (args, systemd_boot, message) in cases {
        let err = eval(&nixpkgs, args, systemd_boot).expect_err(args);
        assert!(err.contains(message), "{args}: expected {message:?} in\n{err}");
    }
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn contents_modes_and_owners_reach_the_spec_as_numeric_ids() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let args = r#"{ partitionTableType = "efi"; contents = [
        { source = ./.; target = "/home/alice"; mode = "0700"; user = "alice"; group = "users"; }
        { source = ./.; target = "/srv/x"; user = "42"; group = "root"; }
        { source = ./.; target = "/etc/motd"; mode = "0644"; }
      ]; }"#;
    let users = "{ users.alice.uid = 1000; groups.users.gid = 100; }";
    let out = eval_with_users(&nixpkgs, args, true, users).expect("eval");
    let contents = &out["spec"]["partitions"][1]["contents"];
    assert_eq!(contents["/home/alice"]["mode"], "0700");
    assert_eq!((&contents["/home/alice"]["user"], &contents["/home/alice"]["group"]), (&json!(1000), &json!(100)));
    assert_eq!((&contents["/srv/x"]["user"], &contents["/srv/x"]["group"]), (&json!(42), &json!(0)));
    assert_eq!(contents["/etc/motd"].get("user"), None, "no owner asked, none given: {contents}");
    assert_eq!(contents["/etc/motd"]["mode"], "0644");
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs it")]
#[test]
fn the_efi_spec_plans_once_the_closure_is_registered() {
    let Some(nixpkgs) = require_nixpkgs() else { return };
    let efi = eval(&nixpkgs, r#"{ partitionTableType = "efi"; format = "qcow2"; }"#, true).expect("efi");
    let mut spec = efi["spec"].clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    // The registration exportReferencesGraph gives in the derivation.
    let paths: Vec<String> = spec["partitions"][1]["storePaths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| p.as_str().expect("path").to_string())
        .collect();
    spec["partitions"][1]["closure"] = json!(paths
        .iter()
        .map(
            |p| json!({ "path": p, "narHash": format!("sha256:{}", "0".repeat(52)), "narSize": 120, "references": [] })
        )
        .collect::<Vec<_>>());
    let text = common::store::onto_temp_store(&spec.to_string(), tmp.path());
    // The toplevel's bootspec, and the files it names.
    let toplevel = tmp.path().join(paths[0].trim_start_matches('/'));
    let (kernel, initrd) = (toplevel.join("kernel"), toplevel.join("initrd"));
    std::fs::write(&kernel, "kernel").expect("kernel");
    std::fs::write(&initrd, "initrd").expect("initrd");
    let bootspec = json!({ "org.nixos.bootspec.v1": { "kernel": kernel, "initrd": initrd,
        "init": format!("{}/init", paths[0]), "kernelParams": [], "label": "NixOS", "system": "x86_64-linux" } });
    std::fs::write(toplevel.join("boot.json"), bootspec.to_string()).expect("bootspec");
    let efi_dir = tmp.path().join("nix/store/77777777777777777777777777777777-systemd/lib/systemd/boot/efi");
    std::fs::create_dir_all(&efi_dir).expect("mkdir");
    std::fs::write(efi_dir.join("systemd-bootx64.efi"), "MZ").expect("efi");
    let spec_file = tmp.path().join("spec.json");
    std::fs::write(&spec_file, text).expect("spec");
    let plan = run(Command::new(bin()).arg("plan").arg(&spec_file));
    assert!(plan.status.success(), "nix-repart plan: {}", String::from_utf8_lossy(&plan.stderr));
}
