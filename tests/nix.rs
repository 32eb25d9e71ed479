//! The Nix side, run with Debian's Nix (no nixpkgs): every `.nix` file
//! parses; `nix/lib/spec.nix` turns the fixture option sets of
//! `tests/nix/fixtures` into exactly the specs of `tests/specs` (which
//! `tests/spec_contract.rs` reads from the Rust side); bad options are
//! named in the error; and a real `nix-build` of `nix/lib/image.nix` makes
//! an image that holds exactly the closure and is the same when rebuilt.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::nix::nix;
use common::{partitions, require_tool, run, run_ok};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn nix_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            nix_files(&path, found);
        } else if name.ends_with(".nix") {
            found.push(path);
        }
    }
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs them")]
#[test]
fn every_nix_file_parses() {
    require_tool("nix-instantiate");
    let mut files = Vec::new();
    nix_files(&root(), &mut files);
    for expected in ["flake.nix", "nix/lib/spec.nix", "nix/lib/image.nix", "nix/modules/image-repart.nix"] {
        assert!(files.contains(&root().join(expected)), "{expected} is missing");
    }
    for file in &files {
        let out = run(nix("nix-instantiate").arg("--parse").arg(file));
        assert!(out.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    }
}

fn eval_spec(expr: &str) -> std::process::Output {
    let expr = format!("import ./nix/lib/spec.nix ({expr})");
    run(nix("nix-instantiate").args(["--eval", "--strict", "--json", "-E", &expr]))
}

#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs them")]
#[test]
fn spec_function_gives_the_golden_specs() {
    require_tool("nix-instantiate");
    let fixtures = root().join("tests/nix/fixtures");
    let mut stems = BTreeSet::new();
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let out = eval_spec(&format!("import ./tests/nix/fixtures/{stem}.nix"));
        assert!(out.status.success(), "{stem}: {}", String::from_utf8_lossy(&out.stderr));
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let golden = root().join(format!("tests/specs/{stem}.json"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        }
        let text = std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
        let want: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(got, want, "{stem}: spec.nix output differs from {}", golden.display());
        stems.insert(stem);
    }
    let specs: BTreeSet<String> = std::fs::read_dir(root().join("tests/specs"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(specs, stems, "every spec under tests/specs comes from a fixture, and back");
}

/// Option values that spec.nix refuses, and the first line of the error:
/// each names the option as the NixOS module system would print its path.
#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs them")]
#[test]
fn bad_options_name_the_option() {
    require_tool("nix-instantiate");
    let esp = r#"esp = { repartConfig.Type = "esp"; repartConfig.Format = "vfat"; }"#;
    let cases = [
        (
            format!(r#"{{ name = "x"; seed = "1234"; partitions = {{ {esp}; }}; }}"#),
            r#"image.repart.seed: "1234" is not a UUID"#,
        ),
        (format!(r#"{{ name = "a/b"; partitions = {{ {esp}; }}; }}"#), r#"image.repart.name: "a/b" must be a non-empty string without '/'"#),
        (
            format!(r#"{{ name = "x"; sectorSize = 1000; partitions = {{ {esp}; }}; }}"#),
            "image.repart.sectorSize: 1000 is not a power of two from 512 to 4096",
        ),
        (
            format!(r#"{{ name = "x"; compression = {{ enable = true; algorithm = "brotli"; }}; partitions = {{ {esp}; }}; }}"#),
            r#"image.repart.compression.algorithm: "brotli" is not one nix-repart writes (zstd, zstd-seekable, xz)"#,
        ),
        (r#"{ name = "x"; partitions = { }; }"#.to_string(), "image.repart.partitions: must define at least one partition"),
        (
            r#"{ name = "x"; partitions."10-esp" = { repartConfig.Type = "esp"; nixStorePrefix = "nix/store"; }; }"#.to_string(),
            r#"image.repart.partitions."10-esp".nixStorePrefix: "nix/store" is not an absolute path"#,
        ),
        (
            r#"{ name = "x"; partitions.esp = { repartConfig.Type = "esp"; contents."EFI/x".source = "/nix/store/x"; }; }"#
                .to_string(),
            r#"image.repart.partitions.esp.contents."EFI/x": the target must be an absolute path inside the partition"#,
        ),
        (
            r#"{ name = "x"; partitions.esp = { repartConfig = { Type = "esp"; SizeMinBytes = 1.5; }; }; }"#.to_string(),
            "image.repart.partitions.esp.repartConfig.SizeMinBytes: float is not a string, integer, boolean or list of strings",
        ),
        (
            r#"{ name = "x"; partitions.esp = { repartConfig.Type = "esp"; storPaths = [ ]; }; }"#.to_string(),
            "image.repart.partitions.esp.storPaths: no such option (known: storePaths, nixStorePrefix, stripNixStorePrefix, contents, repartConfig, fromImage)",
        ),
        (r#"{ name = "x"; partitions.esp = { }; }"#.to_string(), "image.repart.partitions.esp.repartConfig: is missing (it needs at least Type)"),
    ];
    for (options, message) in cases {
        let out = eval_spec(&options);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{options} was accepted");
        let first = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
        assert_eq!(first, format!("error: {message}"), "for {options}:\n{stderr}");
    }
}

/// The nix-repart binary as a package directory (`bin/nix-repart`) that
/// the stand-in adds to the store.
fn package_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("package");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::copy(common::bin(), dir.join("bin/nix-repart")).unwrap();
    dir
}

fn nix_build(package: &Path, link: &Path, extra: &[&str]) -> PathBuf {
    run_ok(
        nix("nix-build")
            .arg("tests/nix/build-image.nix")
            .arg("--argstr")
            .arg("nixRepartDir")
            .arg(package)
            .arg("-o")
            .arg(link)
            .args(extra),
    );
    std::fs::canonicalize(link).unwrap()
}

/// `unsquashfs -lln` of a squashfs file, as paths below its root.
fn squashfs_paths(file: &Path) -> BTreeSet<String> {
    let listing = run_ok(Command::new("unsquashfs").arg("-lln").arg(file));
    listing
        .lines()
        .filter_map(|l| l.split_once("squashfs-root").map(|(_, p)| p.split(" -> ").next().unwrap_or(p).to_string()))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The closure of a store path (`nix-store -qR`), as base names.
fn closure_names(root_path: &str) -> BTreeSet<String> {
    run_ok(nix("nix-store").args(["-qR", root_path]))
        .lines()
        .map(|l| l.trim_start_matches("/nix/store/").to_string())
        .collect()
}

fn top_level(paths: &BTreeSet<String>, prefix: &str) -> BTreeSet<String> {
    paths
        .iter()
        .filter_map(|p| p.strip_prefix(prefix))
        .filter(|rest| !rest.is_empty() && !rest[1..].contains('/'))
        .map(|rest| rest[1..].to_string())
        .collect()
}

#[cfg_attr(
    any(lacks = "nix", lacks = "squashfs-tools", lacks = "dosfstools"),
    ignore = "needs Nix (nix-bin), squashfs-tools, dosfstools and mtools; .ci/run installs them"
)]
#[test]
fn nix_build_makes_the_image_of_the_closure() {
    for tool in ["nix-build", "unsquashfs", "fsck.vfat"] {
        require_tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let package = package_dir(tmp.path());
    let out = nix_build(&package, &tmp.path().join("result"), &[]);
    let names = common::file_names(&out);
    assert_eq!(
        names,
        ["nix-built_1.raw", "nix-built_1.root-x86-64.raw", "nix-built_1.store.raw", "repart-output.json"]
    );

    // The store paths the image must hold, from Nix itself.
    let attr_path = |attr: &str| {
        let expr = format!(
            "(import ./tests/nix/build-image.nix {{ nixRepartDir = \"{}\"; }}).spec.partitions",
            package.display()
        );
        let json = run_ok(nix("nix-instantiate").args(["--eval", "--strict", "--json", "-E", &expr]));
        let partitions: serde_json::Value = serde_json::from_str(&json).unwrap();
        let partition = partitions.as_array().unwrap().iter().find(|p| p["id"] == attr).unwrap().clone();
        partition["storePaths"][0].as_str().unwrap().to_string()
    };
    let store_closure = closure_names(&attr_path("20-store"));
    let root_closure = closure_names(&attr_path("30-root"));
    assert_eq!(store_closure.len(), 3, "application, library and the builtins.path tree: {store_closure:?}");
    assert_eq!(root_closure.len(), 2, "library and the tree: {root_closure:?}");

    // nixStorePrefix = "/": the store paths are the root of the partition.
    let store = squashfs_paths(&out.join("nix-built_1.store.raw"));
    assert_eq!(top_level(&store, ""), store_closure);
    // The default prefix, plus a `contents` entry.
    let root_fs = squashfs_paths(&out.join("nix-built_1.root-x86-64.raw"));
    assert_eq!(top_level(&root_fs, "/nix/store"), root_closure);
    assert_eq!(top_level(&root_fs, ""), BTreeSet::from(["etc".to_string(), "nix".to_string()]));
    assert!(root_fs.contains("/etc/unrelated"));

    // The split files are the partitions of the image, byte for byte.
    let image = out.join("nix-built_1.raw");
    let layout = partitions(&out);
    assert_eq!(layout.len(), 3);
    let (offset, size) = layout[1];
    assert_eq!(common::read_region(&image, offset, size), std::fs::read(out.join("nix-built_1.store.raw")).unwrap());

    // The ESP got its `contents` entry.
    let (esp_offset, esp_size) = layout[0];
    let esp = tmp.path().join("esp.img");
    common::extract(&image, esp_offset, esp_size, &esp);
    run_ok(Command::new("fsck.vfat").arg("-n").arg(&esp));
    let entry = run_ok(Command::new("mtype").args(["-i"]).arg(&esp).arg("::/loader/entries/test.conf"));
    assert_eq!(entry, "title test\n");

    // Nix rebuilds it with one core and compares (`--check` fails on any
    // difference); a second derivation for the same image (another output
    // path, four cores) gives the same bytes.
    let before = std::fs::read(&image).unwrap();
    nix_build(&package, &tmp.path().join("result"), &["--check", "--option", "cores", "1"]);
    let second =
        nix_build(&package, &tmp.path().join("second"), &["--argstr", "variant", "second", "--option", "cores", "4"]);
    assert_ne!(second, out);
    for name in &names {
        let again = std::fs::read(second.join(name)).unwrap();
        assert!(again == std::fs::read(out.join(name)).unwrap(), "{name} differs between the two derivations");
    }
    assert_eq!(std::fs::read(second.join("nix-built_1.raw")).unwrap(), before);
}

#[cfg_attr(
    any(lacks = "nix", lacks = "compressors", lacks = "squashfs-tools"),
    ignore = "needs Nix (nix-bin), zstd and xz, squashfs-tools; .ci/run installs them"
)]
#[test]
fn nix_build_compresses_the_image_and_split_files() {
    for tool in ["nix-build", "zstd", "unsquashfs"] {
        require_tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let package = package_dir(tmp.path());
    let out = nix_build(&package, &tmp.path().join("result"), &["--arg", "compression", "true"]);
    let names = common::file_names(&out);
    assert_eq!(
        names,
        ["nix-built_1.raw.zst", "nix-built_1.root-x86-64.raw.zst", "nix-built_1.store.raw.zst", "repart-output.json"]
    );
    let raw = tmp.path().join("store.raw");
    run_ok(Command::new("zstd").args(["-d", "-q", "-o"]).arg(&raw).arg(out.join("nix-built_1.store.raw.zst")));
    assert!(!squashfs_paths(&raw).is_empty());
}

/// The flake's outputs, evaluated with a stub for nixpkgs (which cannot
/// be fetched here): its attribute names, the module and template paths,
/// and `lib.toSpec`, which must be spec.nix.
#[cfg_attr(lacks = "nix", ignore = "needs Nix (nix-bin); .ci/run installs them")]
#[test]
fn flake_outputs_have_the_promised_attributes() {
    require_tool("nix-instantiate");
    let expr = r#"
      let
        stubLib = { genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names); };
        nixpkgs = { lib = stubLib; legacyPackages = { x86_64-linux = { }; aarch64-linux = { }; }; };
        flake = import ./flake.nix;
        self = flake.outputs { inherit self nixpkgs; };
      in {
        outputs = builtins.attrNames self;
        systems = builtins.attrNames self.packages;
        modules = builtins.attrNames self.nixosModules;
        module = toString self.nixosModules.default == toString ./nix/modules/image-repart.nix;
        templates = builtins.attrNames self.templates;
        template = builtins.pathExists (self.templates.appliance.path + "/flake.nix")
          && builtins.pathExists (self.templates.appliance.path + "/configuration.nix");
        lib = builtins.attrNames self.lib;
        toSpec = self.lib.toSpec (import ./tests/nix/fixtures/appliance.nix) == import ./nix/lib/spec.nix (import ./tests/nix/fixtures/appliance.nix);
        inputs = builtins.attrNames flake.inputs;
      }"#;
    let json = run_ok(nix("nix-instantiate").args(["--eval", "--strict", "--json", "-E", expr]));
    let got: serde_json::Value = serde_json::from_str(&json).unwrap();
    let want = serde_json::json!({
        "outputs": ["checks", "lib", "nixosModules", "overlays", "packages", "templates"],
        "systems": ["aarch64-linux", "x86_64-linux"],
        "modules": ["default", "image-repart"],
        "module": true,
        "templates": ["appliance", "default"],
        "template": true,
        "lib": ["makeDiskImage", "mkImage", "toSpec"],
        "toSpec": true,
        "inputs": ["nixpkgs"],
    });
    assert_eq!(got, want);
}

/// flake.lock pins nixpkgs to the revision of ../shared/nixpkgs-pin.json
/// (a nixos-unstable revision of 2026-06-29), in lock format 7.
#[test]
fn flake_lock_pins_nixpkgs() {
    let text = std::fs::read_to_string(root().join("flake.lock")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(lock["version"], 7);
    assert_eq!(lock["nodes"]["root"]["inputs"]["nixpkgs"], "nixpkgs");
    let locked = &lock["nodes"]["nixpkgs"]["locked"];
    assert_eq!(locked["type"], "github");
    assert_eq!(locked["owner"], "NixOS");
    assert_eq!(locked["repo"], "nixpkgs");
    assert_eq!(locked["rev"], "b5aa0fbd538984f6e3d201be0005b4463d8b09f8");
    assert_eq!(locked["narHash"], "sha256-oPXCU/SSUokcGaJREHibG1CBX3+s/W7orDWQOZDsEeQ=");
    assert_eq!(locked["lastModified"], 1782723713);
    assert_eq!(lock["nodes"]["nixpkgs"]["original"]["ref"], "nixos-unstable");
}
