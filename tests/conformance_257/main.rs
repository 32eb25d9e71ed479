//! Conformance with systemd-repart 257 (Debian 13's, the generation
//! nixpkgs builds images with), fetched with its mkfs tools by
//! `tests/reference/fetch.sh` and run offline (`--offline=yes`, no loop
//! devices). nix-repart runs with the same mkfs tools on PATH. For the same
//! definitions, seed and `SOURCE_DATE_EPOCH`, the images must agree on the
//! partition table (`sfdisk -d`), every field of `repart-output.json` but
//! the definition file's path and the node, and every filesystem's tree:
//! type, data, mode, owner and mtime of each entry, read back by the
//! suite's own tools (unsquashfs, fsck.erofs --extract, debugfs, mcopy).
//! erofs and swap, made by the same mkfs in both, must be byte-equal.
//!
//! Where nix-repart differs on purpose, the layout says so
//! ([`Layout::table`]) and docs/design.md's table gives the reason. Where
//! 262 differs from 257, nix-repart follows 262 and [`versions`] rewrites
//! 257's output by 262's rules; with `NIX_REPART_REFERENCE_BIN` pointing at
//! 262 (`tests/reference/fetch.sh unstable DIR`) nothing is rewritten.

#[path = "../common/mod.rs"]
mod common;
mod layouts;
mod trees;
mod verity_layouts;
mod versions;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{extract, read_region, run_ok, set_mtime, sfdisk_dump};
use layouts::LAYOUTS;
use serde_json::{json, Value};
use trees::tree_of;
use verity_layouts::VERITY_LAYOUTS;

const SEED: &str = "0867da16-f251-457d-a9e8-c31f9a3c220b";
const EPOCH: u64 = 1_700_000_000;

/// Where `.ci/run` puts the reference; `NIX_REPART_REFERENCE_BIN` overrides.
fn reference() -> PathBuf {
    std::env::var_os("NIX_REPART_REFERENCE_BIN")
        .map_or_else(|| PathBuf::from("/var/cache/nix-repart-reference/trixie/bin"), PathBuf::from)
}

/// How the partition tables must compare.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `sfdisk -d` identical.
    Same,
    /// Same partitions (types, UUIDs, labels, attributes), other sizes:
    /// nix-repart's `Minimize=guess` ext4 is smaller (docs/design.md).
    SmallerExt,
    /// A verity pair over a filesystem the two tools write differently
    /// (nix-repart's own squashfs, or 262's erofs): sizes, the pair's
    /// UUIDs and root hash differ; nix-repart's pair is checked with
    /// `veritysetup verify` instead, the data by its tree.
    VerityOwnData,
}

fn all_layouts() -> impl Iterator<Item = &'static Layout> {
    LAYOUTS.iter().chain(VERITY_LAYOUTS)
}

fn has_verity(layout: &Layout) -> bool {
    layout.partitions.iter().any(|(_, s)| s.iter().any(|(k, _)| *k == "Verity"))
}

/// How the tables compare with this reference: a verity pair over erofs is
/// byte-equal only where the erofs is (not with 262).
fn table_of(layout: &Layout) -> Table {
    if has_verity(layout) && !versions::erofs_byte_equal() {
        Table::VerityOwnData
    } else {
        layout.table
    }
}

pub struct Layout {
    pub name: &'static str,
    pub image_size: &'static str,
    pub sector_size: u32,
    pub split: bool,
    pub table: Table,
    /// `(id, [(key, value)])`; `@TREE@`, `@STORE@` and `@ETC@` stand for
    /// the generated sources (see [`sources`]).
    pub partitions: &'static [(&'static str, &'static [(&'static str, &'static str)])],
}

/// Generated sources: `tree` (nested files of many sizes and modes,
/// symlinks, a hard link, an empty directory, mtimes old and newer than
/// the epoch), `store` (a Nix store, mtime 1 everywhere), `etc` (small).
fn sources(dir: &Path) {
    let tree = dir.join("tree");
    let mut rng = common::Rng(257);
    for i in 0..60 {
        let path = tree.join(format!("d{:02}/sub{}/f{i}.dat", i % 7, i % 3));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let size = [0, 1, 100, 4095, 4096, 70_000, 300_000][i % 7];
        std::fs::write(&path, rng.bytes(size)).expect("write");
        set_mode(&path, [0o644, 0o755, 0o600, 0o444][i % 4]);
        set_mtime(&path, [1, 1_000_000_000, 1_690_000_000, 2_000_000_000][i % 4]);
    }
    std::os::unix::fs::symlink("d00/sub0/f0.dat", tree.join("link-relative")).expect("symlink");
    std::os::unix::fs::symlink("/nix/store/nothing", tree.join("link-absolute")).expect("symlink");
    set_mtime(&tree.join("link-relative"), 1_000_000_000);
    std::fs::create_dir_all(tree.join("empty")).expect("mkdir");
    std::fs::hard_link(tree.join("d01/sub1/f1.dat"), tree.join("hard-link.dat")).expect("link");
    for d in ["d00", "d01", "empty", ""] {
        set_mtime(&tree.join(d), 1_200_000_000);
    }
    let store = dir.join("store");
    for name in ["0c0yi1s1ggk6xl9pvnjv0a1ghiv3r2k5-hello-2.12.1", "3p4kk4p9xyf5v2gwz0g8pn6x6i1lbbvd-glibc-2.39"] {
        let root = store.join(name);
        std::fs::create_dir_all(root.join("bin")).expect("mkdir");
        std::fs::write(root.join("bin/prog"), rng.bytes(200_000)).expect("write");
        set_mode(&root.join("bin/prog"), 0o555);
        std::os::unix::fs::symlink("prog", root.join("bin/alias")).expect("symlink");
        for p in ["bin/prog", "bin/alias", "bin", ""] {
            set_mtime(&root.join(p), 1);
        }
    }
    set_mtime(&store, 1);
    let rootfs = dir.join("rootfs");
    for (i, d) in
        ["etc", "usr/lib", "var/lib", "var/tmp", "home/u", "srv/www", "boot/efi", "efi/x", "tmp", "run/a", "proc/1"]
            .iter()
            .enumerate()
    {
        let path = rootfs.join(d).join("file");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, format!("{d}\n")).expect("write");
        set_mtime(&path, 1_000_000 + i as i64);
        set_mtime(path.parent().expect("parent"), 2_000_000 + i as i64);
    }
    for d in ["usr", "var", "home", "srv", "boot", "efi", "run", "proc", ""] {
        set_mtime(&rootfs.join(d), 3_000_000);
    }
    let etc = dir.join("etc");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(etc.join("hostname"), b"nixos\n").expect("write");
    set_mtime(&etc.join("hostname"), 1_500_000_000);
    set_mtime(&etc, 1_500_000_000);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn substitute(value: &str, dir: &Path) -> String {
    ["TREE", "STORE", "ETC", "ROOTFS"].iter().fold(value.to_string(), |v, name| {
        v.replace(&format!("@{name}@"), &dir.join(name.to_lowercase()).to_string_lossy())
    })
}

/// Writes `repart.d/` and the equivalent `spec.json`.
fn write_inputs(layout: &Layout, dir: &Path) {
    let definitions = dir.join("repart.d");
    std::fs::create_dir_all(&definitions).expect("mkdir");
    let mut partitions = Vec::new();
    for (id, settings) in layout.partitions {
        let mut conf = String::from("[Partition]\n");
        let mut config = serde_json::Map::new();
        for (key, value) in *settings {
            let value = substitute(value, dir);
            conf.push_str(&format!("{key}={value}\n"));
            match config.get_mut(*key) {
                Some(Value::Array(list)) => list.push(Value::String(value)),
                Some(first) => *first = json!([first.clone(), value]),
                None => {
                    config.insert(key.to_string(), Value::String(value));
                }
            }
        }
        std::fs::write(definitions.join(format!("{id}.conf")), conf).expect("write conf");
        partitions.push(json!({ "id": id, "repartConfig": config }));
    }
    let spec = json!({
        "version": 1, "name": "img", "seed": SEED, "architecture": "x86-64",
        "sectorSize": layout.sector_size, "imageSize": layout.image_size, "split": layout.split,
        "partitions": partitions,
    });

    std::fs::write(dir.join("spec.json"), serde_json::to_string_pretty(&spec).expect("json")).expect("spec");
}

/// PATH with the reference's tools first.
fn reference_path() -> String {
    format!("{}:{}", reference().display(), std::env::var("PATH").unwrap_or_default())
}

fn run_reference(layout: &Layout, dir: &Path) -> Value {
    let work = dir.join("repart");
    std::fs::create_dir_all(&work).expect("mkdir");
    let out = run_ok(
        Command::new(reference().join("systemd-repart"))
            .current_dir(&work)
            .arg(format!("--definitions={}", dir.join("repart.d").display()))
            .args(["--empty=create", "--offline=yes", "--dry-run=no", "--json=short", "--no-pager"])
            .arg(format!("--size={}", layout.image_size))
            .arg(format!("--sector-size={}", layout.sector_size))
            .arg(format!("--split={}", if layout.split { "yes" } else { "no" }))
            .arg(format!("--seed={SEED}"))
            .arg("--architecture=x86-64")
            .arg("img.raw")
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
            .env("PATH", reference_path()),
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("systemd-repart JSON: {e}\n{out}"))
}

fn run_ours(dir: &Path) -> Value {
    let out = dir.join("out");
    let run = common::run(
        Command::new(common::bin())
            .args(["build", "--quiet"])
            .arg(dir.join("spec.json"))
            .arg("-o")
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
            .env("PATH", reference_path()),
    );
    assert!(run.status.success(), "nix-repart: {}", String::from_utf8_lossy(&run.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("repart-output.json")).expect("report")).expect("json")
}

/// Every field both reports have, but the definition path and the node.
fn compare_reports(layout: &Layout, theirs: &Value, ours: &Value) {
    let (theirs, ours) = (theirs.as_array().expect("array"), ours.as_array().expect("array"));
    assert_eq!(theirs.len(), ours.len(), "{}: partition count", layout.name);
    for (t, o) in theirs.iter().zip(ours) {
        for (key, value) in t.as_object().expect("object") {
            let table = table_of(layout);
            let sized = matches!(key.as_str(), "offset" | "raw_size" | "raw_padding");
            let from_root_hash = matches!(key.as_str(), "uuid" | "roothash") && t.get("roothash").is_some();
            if key == "file"
                || key == "node"
                || (sized && table != Table::Same)
                || (from_root_hash && table == Table::VerityOwnData)
            {
                continue;
            }
            assert_eq!(o.get(key), Some(value), "{}: field {key} of {}", layout.name, t["label"]);
        }
    }
}

fn compare_tables(layout: &Layout, theirs: &Path, ours: &Path) {
    let dump = |p: &Path| sfdisk_dump(&p.to_string_lossy());
    match table_of(layout) {
        Table::Same => {
            assert_eq!(versions::expected_table(layout, dump(theirs)), dump(ours), "{}: partition tables", layout.name)
        }
        table @ (Table::SmallerExt | Table::VerityOwnData) => {
            // Everything but start= and size= (and the last LBA); for a
            // verity pair over other data, its UUIDs too.
            let uuids = table == Table::VerityOwnData;
            let strip = |text: String| -> Vec<String> {
                text.lines()
                    .filter(|l| !l.starts_with("last-lba"))
                    .map(|l| {
                        l.split(", ")
                            .filter(|f| !f.contains("start=") && !f.contains("size="))
                            .filter(|f| !(uuids && f.starts_with("uuid=")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .collect()
            };
            assert_eq!(strip(dump(theirs)), strip(dump(ours)), "{}: partitions", layout.name);
        }
    }
}

fn check(name: &str) {
    common::require_tool(&reference().join("systemd-repart").to_string_lossy());
    common::require_tools(&["sfdisk", "sgdisk"]);
    let layout = all_layouts().find(|l| l.name == name).unwrap_or_else(|| panic!("no layout {name}"));
    let temp = tempfile::tempdir().expect("tempdir");
    // NIX_REPART_KEEP=1 keeps the directory for a look after the test.
    let (root, _guard) = if std::env::var_os("NIX_REPART_KEEP").is_some() {
        let path = temp.keep();
        eprintln!("keeping {}", path.display());
        (path, None)
    } else {
        (temp.path().to_path_buf(), Some(temp))
    };
    let dir = Dir(root);
    sources(dir.path());
    write_inputs(layout, dir.path());
    let theirs = run_reference(layout, dir.path());
    let ours = run_ours(dir.path());
    compare_reports(layout, &theirs, &ours);
    let (their_image, our_image) = (dir.path().join("repart/img.raw"), dir.path().join("out/img.raw"));
    compare_tables(layout, &their_image, &our_image);
    common::assert_sgdisk_clean(&our_image.to_string_lossy());
    for (i, (id, settings)) in layout.partitions.iter().enumerate() {
        let Some((_, format)) = settings.iter().find(|(k, _)| *k == "Format") else { continue };
        let region = |report: &Value| {
            let e = &report[i];
            (e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("raw_size"))
        };
        let (t, o) = (region(&theirs), region(&ours));
        let work = dir.path().join(format!("fs-{id}"));
        std::fs::create_dir_all(&work).expect("mkdir");
        let (their_fs, our_fs) = (work.join("theirs.img"), work.join("ours.img"));
        extract(&their_image, t.0, t.1, &their_fs);
        extract(&our_image, o.0, o.1, &our_fs);
        let same_mkfs = *format == "swap" || (*format == "erofs" && versions::erofs_byte_equal());
        if same_mkfs && table_of(layout) == Table::Same {
            assert!(
                read_region(&their_fs, 0, t.1) == read_region(&our_fs, 0, o.1),
                "{}: {id} is not byte-equal",
                layout.name
            );
        }
        if *format != "swap" {
            let mut theirs = tree_of(format, &their_fs, &work.join("t"));
            if *format == "vfat" {
                theirs = theirs.iter().map(|line| clamp_vfat_time(&versions::expected_vfat_line(line))).collect();
            }
            let ours = tree_of(format, &our_fs, &work.join("o"));
            assert_eq!(theirs, ours, "{}: the {format} trees of {id} differ", layout.name);
        }
    }
    check_hash_partitions(layout, dir.path(), (&their_image, &theirs), (&our_image, &ours));
}

/// Each `Verity=hash` partition: byte-equal with the reference's where the
/// data is, and in any case verified by veritysetup with nix-repart's root
/// hash, over nix-repart's data partition.
fn check_hash_partitions(layout: &Layout, dir: &Path, theirs: (&Path, &Value), ours: (&Path, &Value)) {
    for (i, (id, settings)) in layout.partitions.iter().enumerate() {
        if !settings.contains(&("Verity", "hash")) {
            continue;
        }
        let region = |(image, report): (&Path, &Value), index: usize, to: &Path| {
            let e = &report[index];
            extract(image, e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("raw_size"), to);
        };
        let (their_hash, our_hash, our_data) =
            (dir.join(format!("{id}.theirs")), dir.join(format!("{id}.ours")), dir.join(format!("{id}.data")));
        region(theirs, i, &their_hash);
        region(ours, i, &our_hash);
        if table_of(layout) == Table::Same {
            assert!(
                std::fs::read(&their_hash).expect("theirs") == std::fs::read(&our_hash).expect("ours"),
                "{}: hash partition {id} is not byte-equal",
                layout.name
            );
        }
        let root = ours.1[i]["roothash"].as_str().unwrap_or_else(|| panic!("{}: no roothash for {id}", layout.name));
        let data = ours.1.as_array().expect("array").iter().position(|e| {
            e["roothash"].as_str() == Some(root) && e["type"].as_str().is_some_and(|t| !t.ends_with("-verity"))
        });
        region(ours, data.expect("the data partition of the pair"), &our_data);
        run_ok(Command::new(reference().join("veritysetup")).arg("verify").arg(&our_data).arg(&our_hash).arg(root));
    }
}

/// systemd-repart fills vfat with mcopy, which does not clamp mtimes to
/// SOURCE_DATE_EPOCH (docs/design.md): a directory it makes itself gets
/// the time of the build. nix-repart clamps; compare with that applied.
fn clamp_vfat_time(line: &str) -> String {
    line.split(' ')
        .map(|field| match field.strip_prefix("t=").and_then(|t| t.parse::<u64>().ok()) {
            Some(t) if t > EPOCH => format!("t={EPOCH}"),
            _ => field.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The layout's directory (kept or removed by the caller).
struct Dir(PathBuf);

impl Dir {
    fn path(&self) -> &Path {
        &self.0
    }
}

/// One test per layout, so that one difference does not hide the others.
macro_rules! layout_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            #[cfg_attr(
                any(lacks = "repart-257", lacks = "gpt-tools"),
                ignore = "needs systemd-repart 257 (tests/reference/fetch.sh) and sfdisk; .ci/run installs them"
            )]
            fn $test() {
                check($name);
            }
        )*

        #[test]
        fn every_layout_has_its_own_test() {
            let mut tested = vec![$($name),*];
            let mut defined: Vec<&str> = all_layouts().map(|l| l.name).collect();
            tested.sort_unstable();
            defined.sort_unstable();
            assert_eq!(tested, defined);
        }
    };
}

layout_tests! {
    esp_and_ext4_root => "esp-and-ext4-root",
    squashfs_store => "squashfs-store",
    erofs_store => "erofs-store",
    fixed_size_minimized_store => "fixed-size-minimized-store",
    tiny_image => "tiny-image",
    sectors_4096_store_and_root => "sectors-4096-store-and-root",
    split_labels_and_names => "split-labels-and-names",
    excludes_and_directories => "excludes-and-directories",
    flags_and_attributes => "flags-and-attributes",
    compressed_stores => "compressed-stores",
    keys_257_builds_offline => "keys-257-builds-offline",
    root_with_mount_points => "root-with-mount-points",
    erofs_zstd_lzma_deflate => "erofs-zstd-lzma-deflate",
    ext2_and_ext3 => "ext2-and-ext3",
    vfat_data_partition => "vfat-data-partition",
    padding_and_weights_with_content => "padding-and-weights-with-content",
    sectors_4096_esp => "sectors-4096-esp",
    esp_and_xbootldr => "esp-and-xbootldr",
    appliance_store_under_prefix => "appliance-store-under-prefix",
    squashfs_xz_and_lz4 => "squashfs-xz-and-lz4",
    specifiers => "specifiers",
    verity_erofs_store => "verity-erofs-store",
    verity_4096_sectors => "verity-4096-sectors",
    verity_fixed_size_image => "verity-fixed-size-image",
    verity_split_files => "verity-split-files",
    verity_two_pairs_and_block_sizes => "verity-two-pairs-and-block-sizes",
    verity_hash_first => "verity-hash-first",
    verity_squashfs_store => "verity-squashfs-store",
}
