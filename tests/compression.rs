//! `compression.enable`: `.raw.zst` / `.raw.xz` outputs (image and split
//! files) that decompress to the very image an uncompressed build writes,
//! with the same bytes for every `--jobs`; bad settings name the field.

mod common;

use std::path::Path;
use std::process::Command;

use common::{build, build_ok, require_tool, run_ok};

/// A two-partition spec (vfat ESP with 3 MiB of data, empty var) with the
/// given `compression` object.
fn spec(dir: &Path, compression: serde_json::Value) -> std::path::PathBuf {
    let esp = dir.join("esp");
    std::fs::create_dir_all(&esp).unwrap();
    let mut rng = common::Rng(7);
    std::fs::write(esp.join("random.bin"), rng.bytes(1 << 20)).unwrap();
    std::fs::write(esp.join("text.txt"), "repetitive text\n".repeat(1 << 17)).unwrap();
    let spec = serde_json::json!({
        "version": 1, "name": "packed", "imageVersion": "3", "split": true, "compression": compression,
        "partitions": [
            { "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat", "Minimize": "best" },
              "contents": { "/": { "source": esp } } },
            { "id": "20-var", "repartConfig": { "Type": "var", "SizeMinBytes": "16M", "SplitName": "-" } },
        ]
    });
    let path = dir.join("spec.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

fn check(algorithm: &str, tool: &str, suffix: &str) {
    require_tool(tool);
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    build_ok(&spec(tmp.path(), serde_json::json!({ "enable": false })), &plain, &[]);
    let packed = spec(tmp.path(), serde_json::json!({ "enable": true, "algorithm": algorithm, "level": 3 }));
    let (one, two) = (tmp.path().join("j1"), tmp.path().join("j4"));
    build_ok(&packed, &one, &["--jobs", "1"]);
    build_ok(&packed, &two, &["--jobs", "4"]);
    let image = format!("packed_3.raw{suffix}");
    let split = format!("packed_3.esp.raw{suffix}");
    assert_eq!(common::file_names(&one), [split.clone(), image.clone(), "repart-output.json".to_string()]);
    for name in [&image, &split, &"repart-output.json".to_string()] {
        assert!(
            std::fs::read(one.join(name)).unwrap() == std::fs::read(two.join(name)).unwrap(),
            "{name}: --jobs 1 and 4 differ"
        );
    }
    assert!(
        std::fs::metadata(one.join(&image)).unwrap().len()
            < std::fs::metadata(plain.join("packed_3.raw")).unwrap().len() / 2
    );
    for (compressed, raw) in [(&image, "packed_3.raw"), (&split, "packed_3.esp.raw")] {
        let restored = tmp.path().join(format!("restored-{raw}"));
        run_ok(
            Command::new(tool)
                .args(["-d", "-c"])
                .arg(one.join(compressed))
                .stdout(std::fs::File::create(&restored).unwrap()),
        );
        assert!(
            std::fs::read(&restored).unwrap() == std::fs::read(plain.join(raw)).unwrap(),
            "{compressed} does not restore {raw}"
        );
    }
    assert_eq!(
        std::fs::read(one.join("repart-output.json")).unwrap(),
        std::fs::read(plain.join("repart-output.json")).unwrap()
    );
}

#[cfg_attr(lacks = "compressors", ignore = "needs zstd and xz; .ci/run installs them")]
#[test]
fn zstd_images_restore_the_raw_image() {
    check("zstd", "zstd", ".zst");
}

#[cfg_attr(lacks = "compressors", ignore = "needs zstd and xz; .ci/run installs them")]
#[test]
fn xz_images_restore_the_raw_image() {
    check("xz", "xz", ".xz");
}

#[cfg_attr(lacks = "compressors", ignore = "needs zstd and xz; .ci/run installs them")]
#[test]
fn zstd_seekable_images_restore_the_raw_image() {
    check("zstd-seekable", "zstd", ".zst");
}

/// The seekable format read by its seek table, as a seekable reader does:
/// the frames (2 MiB each, the last shorter) cover the image in order, and
/// any one of them decompresses alone to its part of the image.
#[test]
fn zstd_seekable_frames_are_found_by_the_seek_table() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    build_ok(&spec(tmp.path(), serde_json::json!({ "enable": false })), &plain, &[]);
    let packed = tmp.path().join("packed");
    let how = serde_json::json!({ "enable": true, "algorithm": "zstd-seekable", "level": 3 });
    build_ok(&spec(tmp.path(), how), &packed, &[]);
    let raw = std::fs::read(plain.join("packed_3.raw")).unwrap();
    let file = std::fs::read(packed.join("packed_3.raw.zst")).unwrap();
    let le = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
    // Footer: frame count, descriptor, seekable magic.
    let footer = file.len() - 9;
    assert_eq!(le(footer + 5), 0x8F92_EAB1, "seekable magic");
    assert_eq!(file[footer + 4], 0, "descriptor (no checksums)");
    let frames = le(footer) as usize;
    let table = footer - frames * 8;
    assert_eq!(le(table - 8), 0x184D_2A5E, "skippable frame magic");
    assert_eq!(le(table - 4) as usize, frames * 8 + 9, "skippable frame size");
    let (mut compressed_at, mut raw_at) = (0usize, 0usize);
    for i in 0..frames {
        let (c, d) = (le(table + i * 8) as usize, le(table + i * 8 + 4) as usize);
        assert!(d == 2 << 20 || i == frames - 1, "frame {i} holds {d} bytes");
        let frame = zstd::bulk::decompress(&file[compressed_at..compressed_at + c], d).unwrap();
        assert!(frame == raw[raw_at..raw_at + d], "frame {i} is not its part of the image");
        compressed_at += c;
        raw_at += d;
    }
    assert_eq!((compressed_at, raw_at), (table - 8, raw.len()), "the frames cover the image and end at the table");
}

#[test]
fn bad_compression_settings_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            serde_json::json!({ "enable": true, "algorithm": "brotli" }),
            r#"error: /compression/algorithm: "brotli" is not an image compression nix-repart knows (zstd, zstd-seekable, xz)"#,
        ),
        (
            serde_json::json!({ "enable": true, "algorithm": "xz", "level": 12 }),
            "error: /compression/level: level 12 is outside 0..=9 for this algorithm",
        ),
        (
            serde_json::json!({ "enable": true, "level": 0 }),
            "error: /compression/level: level 0 is outside 1..=19 for this algorithm",
        ),
    ];
    for (compression, message) in cases {
        let out_dir = tmp.path().join("out");
        let output = build(&spec(tmp.path(), compression), &out_dir, &[]);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(String::from_utf8_lossy(&output.stderr), format!("{message}\n"));
        assert!(!out_dir.exists());
    }
}
