//! `Format=` and its compression settings become one typed value.

use nix_repart_spec::{parse_spec, ErofsCompression, ExtKind, Format, SquashfsCompression, SquashfsSettings};

fn format_of(config: &str, top: &str) -> Option<Format> {
    let text =
        format!(r#"{{"version": 1, "name": "img"{top}, "partitions": [{{"id": "10-p", "repartConfig": {config}}}]}}"#);
    parse_spec(&text).expect("valid").partitions[0].format
}

#[test]
fn each_format_carries_its_settings() {
    assert_eq!(format_of(r#"{"Type": "root", "Format": "ext3"}"#, ""), Some(Format::Ext(ExtKind::Ext3)));
    assert_eq!(format_of(r#"{"Type": "root"}"#, ""), None);
    assert_eq!(
        format_of(r#"{"Type": "usr", "Format": "squashfs"}"#, ""),
        Some(Format::Squashfs(SquashfsSettings::default()))
    );
    assert_eq!(
        format_of(r#"{"Type": "usr", "Format": "squashfs", "Compression": "zstd", "CompressionLevel": "19"}"#, ""),
        Some(Format::Squashfs(SquashfsSettings {
            compression: SquashfsCompression::Zstd { level: Some(19) },
            block_size: 128 << 10
        }))
    );
    // mkfsOptions.squashfs words override the partition's settings.
    assert_eq!(
        format_of(
            r#"{"Type": "usr", "Format": "squashfs", "Compression": "zstd"}"#,
            r#", "mkfsOptions": {"squashfs": ["-comp", "lz4", "-b", "1M", "-noappend"]}"#
        ),
        Some(Format::Squashfs(SquashfsSettings { compression: SquashfsCompression::Lz4, block_size: 1 << 20 }))
    );
    assert_eq!(
        format_of(r#"{"Type": "usr", "Format": "erofs", "Compression": "lz4"}"#, ""),
        Some(Format::Erofs(ErofsCompression::Lz4))
    );
    // lz4 has no levels: with one, erofs means lz4hc at that level.
    assert_eq!(
        format_of(r#"{"Type": "usr", "Format": "erofs", "Compression": "lz4", "CompressionLevel": 9}"#, ""),
        Some(Format::Erofs(ErofsCompression::Lz4hc { level: Some(9) }))
    );
}
