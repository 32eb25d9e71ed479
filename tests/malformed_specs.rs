//! Table-driven tests of bad input: each malformed spec must give exactly
//! the expected error lines (JSON pointer and message), exit code 1, and
//! leave no output behind.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// A spec body with one partition whose repartConfig is `config`.
/// A verity pair (`10-d` data from CopyBlocks=, `20-h` hash) and `extra`.
fn pair_spec(extra: &str) -> String {
    format!(
        r#"{{"version": 1, "name": "img", "partitions": [
        {{"id": "10-d", "repartConfig": {{"Type": "usr", "CopyBlocks": "@DIR@/blocks", "Verity": "data", "VerityMatchKey": "usr"}}}},
        {{"id": "20-h", "repartConfig": {{"Type": "usr-verity", "Verity": "hash", "VerityMatchKey": "usr"}}}},
        {extra}]}}"#
    )
}

fn with_config(config: &str) -> String {
    format!(r#"{{"version": 1, "name": "img", "partitions": [{{"id": "10-p", "repartConfig": {config}}}]}}"#)
}

/// `(name, spec text, expected stderr lines)`. `@DIR@` is the test's
/// temporary directory.
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        ("bad json", r#"{"version": 1,"#.to_string(), vec!["error: /: not valid JSON: EOF while parsing a value (line 1, column 14)"]),
        ("not an object", "[1, 2]".to_string(), vec!["error: /: expected an object, found an array"]),
        (
            "unknown top-level key",
            r#"{"version": 1, "name": "img", "nmae": "x", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(),
            vec!["error: /nmae: unknown key (expected one of: version, name, imageVersion, seed, architecture, sectorSize, imageSize, split, compression, mkfsOptions, partitions, format, partitionTable, extWriter)"],
        ),
        (
            "wrong type",
            r#"{"version": 1, "name": 5, "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(),
            vec!["error: /name: expected a string, found a number"],
        ),
        ("missing version", r#"{"name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(), vec!["error: /version: required key is missing"]),
        (
            "unsupported version",
            r#"{"version": 2, "name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(),
            vec!["error: /version: spec version 2 is not supported; this nix-repart reads version 1"],
        ),
        (
            "bad size",
            with_config(r#"{"Type": "esp", "SizeMinBytes": "12Q"}"#),
            vec![r#"error: /partitions/0/repartConfig/SizeMinBytes: "12Q" is not a size (a number of bytes, optionally with a K, M, G or T suffix)"#],
        ),
        (
            "bad UUID",
            with_config(r#"{"Type": "esp", "UUID": "not-a-uuid"}"#),
            vec![r#"error: /partitions/0/repartConfig/UUID: "not-a-uuid" is not a UUID"#],
        ),
        (
            "bad seed",
            r#"{"version": 1, "name": "img", "seed": "1234", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(),
            vec![r#"error: /seed: "1234" is not a UUID"#],
        ),
        (
            "unknown type",
            with_config(r#"{"Type": "rooot"}"#),
            vec![r#"error: /partitions/0/repartConfig/Type: "rooot" is not a partition type name (esp, root, usr-verity, linux-generic, ...) or GUID"#],
        ),
        ("missing type", with_config(r#"{"Label": "x"}"#), vec!["error: /partitions/0/repartConfig/Type: required key is missing"]),
        (
            "label over 36 UTF-16 units",
            with_config(r#"{"Type": "esp", "Label": "abcdefghijklmnopqrstuvwxyz01234567890"}"#),
            vec![r#"error: /partitions/0/repartConfig/Label: label "abcdefghijklmnopqrstuvwxyz01234567890" is 37 UTF-16 code units long; GPT allows at most 36"#],
        ),
        (
            "label outside the BMP",
            with_config(r#"{"Type": "esp", "Label": "disk💾"}"#),
            vec![r#"error: /partitions/0/repartConfig/Label: label "disk💾" contains '💾', which is outside the Basic Multilingual Plane; GPT names are UCS-2"#],
        ),
        (
            "duplicate ids",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-a", "repartConfig": {"Type": "esp"}}, {"id": "10-a", "repartConfig": {"Type": "root"}}]}"#.to_string(),
            vec![r#"error: /partitions/1/id: partition id "10-a" is also used by /partitions/0"#],
        ),
        (
            "SizeMin above SizeMax",
            with_config(r#"{"Type": "esp", "SizeMinBytes": "64M", "SizeMaxBytes": "32M"}"#),
            vec!["error: /partitions/0/repartConfig/SizeMinBytes: SizeMinBytes= (67108864 bytes (64.0M)) is larger than SizeMaxBytes= (33554432 bytes (32.0M)) in partition 10-p"],
        ),
        (
            "PaddingMin above PaddingMax",
            with_config(r#"{"Type": "esp", "PaddingMinBytes": "2M", "PaddingMaxBytes": "1M"}"#),
            vec!["error: /partitions/0/repartConfig/PaddingMinBytes: PaddingMinBytes= (2097152 bytes (2.0M)) is larger than PaddingMaxBytes= (1048576 bytes (1.0M)) in partition 10-p"],
        ),
        (
            "contents target escaping with ..",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}, "contents": {"/EFI/../../etc/passwd": {"source": "@DIR@"}}}]}"#.to_string(),
            vec![
                r#"error: /partitions/0/contents/~1EFI~1..~1..~1etc~1passwd: "/EFI/../../etc/passwd" escapes its partition: '..' is not allowed"#,
            ],
        ),
        (
            "relative contents target",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "esp", "Format": "btrfs"}, "contents": {"EFI/x": {"source": "@DIR@"}}}]}"#.to_string(),
            vec![
                r#"error: /partitions/0/repartConfig/Format: Format=btrfs is not supported by nix-repart, which writes vfat, squashfs, ext2, ext3, ext4, erofs and swap (partition a)"#,
                r#"error: /partitions/0/contents/EFI~1x: "EFI/x" must be an absolute path"#,
            ],
        ),
        (
            "missing source path",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}, "contents": {"/x": {"source": "@DIR@/nonexistent"}}}]}"#.to_string(),
            vec![r#"error: /partitions/0/contents/~1x/source: source "@DIR@/nonexistent" does not exist"#],
        ),
        (
            "contents without Format",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}, "contents": {"/x": {"source": "@DIR@"}}}]}"#.to_string(),
            vec!["error: /partitions/0: partition a has contents, storePaths or closure but no Format= to put them in"],
        ),
        (
            "unknown repartConfig key",
            with_config(r#"{"Type": "esp", "Typo": "yes"}"#),
            vec![r#"error: /partitions/0/repartConfig/Typo: "Typo" is not a systemd-repart [Partition] setting (partition 10-p)"#],
        ),
        (
            "key not implemented yet",
            with_config(r#"{"Type": "esp", "EncryptedVolume": "x"}"#),
            vec!["error: /partitions/0/repartConfig/EncryptedVolume: EncryptedVolume= is a systemd-repart setting that nix-repart does not implement yet (partition 10-p); remove it or use systemd-repart"],
        ),
        (
            "verity data without its hash partition",
            with_config(r#"{"Type": "usr", "Format": "erofs", "Verity": "data", "VerityMatchKey": "usr"}"#),
            vec!["error: /partitions/0/repartConfig/VerityMatchKey: partition 10-p has VerityMatchKey=usr but no Verity=Hash partition has that key"],
        ),
        (
            "two hash partitions for one key",
            pair_spec(r#"{"id": "30-h2", "repartConfig": {"Type": "usr-verity", "Verity": "hash", "VerityMatchKey": "usr"}}"#),
            vec!["error: /partitions/2/repartConfig/VerityMatchKey: partitions 20-h and 30-h2 are both Verity=Hash with VerityMatchKey=usr; a key pairs one data and one hash partition"],
        ),
        (
            "verity on a writable filesystem",
            with_config(r#"{"Type": "root", "Format": "ext4", "Verity": "data", "VerityMatchKey": "r"}"#),
            vec![
                "error: /partitions/0/repartConfig/Verity: Verity=data needs a read-only filesystem (squashfs or erofs) or CopyBlocks=, not Format=ext4 (partition 10-p)",
                "error: /partitions/0/repartConfig/VerityMatchKey: partition 10-p has VerityMatchKey=r but no Verity=Hash partition has that key",
            ],
        ),
        (
            "verity block size not a power of two",
            with_config(r#"{"Type": "usr-verity", "Verity": "hash", "VerityMatchKey": "u", "VerityDataBlockSizeBytes": "1000"}"#),
            vec![
                r#"error: /partitions/0/repartConfig/VerityDataBlockSizeBytes: "1000" is not a verity block size: expected a power of two from 512 to 4096"#,
                "error: /partitions/0/repartConfig/VerityMatchKey: partition 10-p has VerityMatchKey=u but no Verity=Data partition has that key",
            ],
        ),
        (
            "verity signature",
            with_config(r#"{"Type": "usr-verity-sig", "Verity": "signature"}"#),
            vec!["error: /partitions/0/repartConfig/Verity: Verity=signature needs a signing key and certificate, which nix-repart does not take (partition 10-p); sign the root hash from repart-output.json instead"],
        ),
        (
            "a hash partition with a filesystem",
            pair_spec(r#"{"id": "05-x", "repartConfig": {"Type": "linux-generic"}}"#).replace(r#""Verity": "hash""#, r#""Verity": "hash", "Format": "vfat""#),
            vec!["error: /partitions/1/repartConfig/Verity: a Verity=hash partition holds the hash tree only: no Format=, CopyBlocks= or files (partition 20-h)"],
        ),
        // 600 data blocks, 128 digests per 4096-byte block: 5 blocks, the
        // top and the superblock's: 7 × 4096.
        (
            "a hash partition too small for its tree",
            pair_spec(r#"{"id": "05-x", "repartConfig": {"Type": "linux-generic"}}"#).replace(r#""Verity": "hash""#, r#""Verity": "hash", "SizeMaxBytes": "4K", "VerityHashBlockSizeBytes": "4096""#).replace(r#""Verity": "data""#, r#""Verity": "data", "SizeMinBytes": "64M""#),
            vec!["error: planning the layout: partition 20-h: its content needs 28672 bytes (28.0K) but SizeMaxBytes= allows 4096 bytes (4.0K); raise or remove SizeMaxBytes="],
        ),
        (
            "validatefs xattrs asked for",
            with_config(r#"{"Type": "root", "Format": "ext4", "AddValidateFS": "yes"}"#),
            vec!["error: /partitions/0/repartConfig/AddValidateFS: AddValidateFS= is a systemd-repart setting that nix-repart does not implement yet (partition 10-p); remove it or use systemd-repart"],
        ),
        (
            "nixDatabase with the store at the root",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "root", "Format": "ext4"}, "nixStorePrefix": "/", "nixDatabase": true}]}"#.to_string(),
            vec!["error: /partitions/0/nixDatabase: partition 10-p: nixDatabase needs nixStorePrefix /nix/store (the database names its paths there), not /"],
        ),
        (
            "nixDatabase without registrations",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "root", "Format": "ext4"}, "nixDatabase": true}]}"#.to_string(),
            vec!["error: /partitions/0/nixDatabase: partition 10-p: nixDatabase needs the closure's registration (narHash, narSize, references, as exportReferencesGraph gives them)"],
        ),
        (
            "nixProfiles without nixDatabase",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "root", "Format": "ext4"}, "nixProfiles": {"system": "/nix/store/x"}}]}"#.to_string(),
            vec!["error: /partitions/0/nixProfiles: partition 10-p: nixProfiles without nixDatabase"],
        ),
        (
            "freeSpace on a filesystem Minimize= does not size",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "root", "Format": "ext4"}, "freeSpace": "64M"}]}"#.to_string(),
            vec!["error: /partitions/0/freeSpace: partition 10-p: freeSpace adds room to an ext2/3/4 filesystem sized by Minimize=; this partition has none"],
        ),
        (
            "fromImage with a region outside its image",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "usr"}, "fromImage": "@DIR@/from"}]}"#.to_string(),
            vec!["error: /partitions/0/fromImage: partition 10-p: fromImage @DIR@/from: repart-output.json: 10-p (4096 bytes at 1048576) is not inside @DIR@/from/img.raw"],
        ),
        (
            "fromImage with a filesystem of its own",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "usr", "Format": "erofs"}, "fromImage": "@DIR@"}]}"#.to_string(),
            vec!["error: /partitions/0/fromImage: partition 10-p: fromImage copies the whole partition; it takes no Format=, CopyBlocks= or files"],
        ),
        (
            "fromImage without the partition",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "usr"}, "fromImage": "@DIR@"}]}"#.to_string(),
            vec!["error: /partitions/0/fromImage: partition 10-p: fromImage @DIR@: cannot read @DIR@/repart-output.json: No such file or directory (os error 2)"],
        ),
        (
            "list for a single-valued key",
            with_config(r#"{"Type": ["esp", "root"]}"#),
            vec!["error: /partitions/0/repartConfig/Type: Type= takes one value, not a list (partition 10-p)", "error: /partitions/0/repartConfig/Type: required key is missing"],
        ),
        (
            "weight out of range",
            with_config(r#"{"Type": "esp", "Weight": 2000000}"#),
            vec![r#"error: /partitions/0/repartConfig/Weight: "2000000" is not a number in 0…1000000"#],
        ),
        (
            "bad boolean",
            with_config(r#"{"Type": "root", "ReadOnly": "maybe"}"#),
            vec![r#"error: /partitions/0/repartConfig/ReadOnly: "maybe" is not a boolean (yes/no, true/false, 1/0, on/off)"#],
        ),
        (
            "bad image size",
            r#"{"version": 1, "name": "img", "imageSize": "big", "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(),
            vec![r#"error: /imageSize: "big" is not "auto" or a size"#],
        ),
        (
            "bad sector size",
            r#"{"version": 1, "name": "img", "sectorSize": 1000, "partitions": [{"id": "a", "repartConfig": {"Type": "esp"}}]}"#.to_string(),
            vec!["error: /sectorSize: sector size 1000 is not supported; use 512, 1024, 2048 or 4096"],
        ),
        (
            "not a store path",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "a", "repartConfig": {"Type": "root"}, "storePaths": ["/usr/bin"]}]}"#.to_string(),
            vec![r#"error: /partitions/0/storePaths/0: "/usr/bin" is not a Nix store path (/nix/store/<32 base32 chars>-<name>)"#],
        ),
        (
            "CopyBlocks source missing",
            with_config(r#"{"Type": "root", "CopyBlocks": "/nonexistent/blocks.img"}"#),
            vec![r#"error: /partitions/0/repartConfig/CopyBlocks: source "/nonexistent/blocks.img" does not exist"#],
        ),
        // 64 MiB + 1 MiB in front + the backup GPT (16 KiB + 512).
        (
            "image too small",
            r#"{"version": 1, "name": "img", "imageSize": "20M", "partitions": [{"id": "a", "repartConfig": {"Type": "esp", "SizeMinBytes": "64M"}}]}"#.to_string(),
            vec![r#"error: planning the layout: imageSize 20971520 bytes (20.0M) is too small: the partitions and the GPT need 68174336 bytes (65.0M); raise imageSize or set it to "auto""#],
        ),
        (
            "several problems at once",
            r#"{"version": 1, "name": "a/b", "partitions": [{"id": "", "repartConfig": {}}, {"id": "b", "repartConfig": {"Type": "esp", "SizeMaxBytes": "1x"}}]}"#.to_string(),
            vec![
                r#"error: /name: "a/b" cannot be used in a file name (it is empty, longer than 64 bytes, contains '/' or NUL, or is '.' or '..')"#,
                r#"error: /partitions/0/id: "" cannot be used in a file name (it is empty, longer than 64 bytes, contains '/' or NUL, or is '.' or '..')"#,
                r#"error: /partitions/1/repartConfig/SizeMaxBytes: "1x" is not a size (a number of bytes, optionally with a K, M, G or T suffix)"#,
            ],
        ),
    ]
}

/// Values that earlier builds accepted and then wrote a wrong image for, or
/// silently ignored; the same shape as [`cases`].
fn silently_wrong_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        (
            "NUL in a target name",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-p", "repartConfig": {"Type": "linux-generic", "Format": "squashfs"}, "contents": {"/a\u0000b": {"source": "@DIR@"}}}]}"#.to_string(),
            vec![r#"error: /partitions/0/contents/~1a\0b: "/a\0b" contains a NUL character, which no file name can hold"#],
        ),
        (
            "all-zero type GUID",
            with_config(r#"{"Type": "00000000-0000-0000-0000-000000000000"}"#),
            vec!["error: /partitions/0/repartConfig/Type: the all-zero GUID marks an unused GPT entry; the partition would vanish from the table (partition 10-p)"],
        ),
        (
            "duplicate keys",
            r#"{"version": 1, "name": "img", "name": "other", "partitions": [{"id": "10-p", "repartConfig": {"Type": "esp", "Type": "root"}}]}"#.to_string(),
            vec![
                "error: /name: key appears twice in the same object; JSON readers would silently keep only one",
                "error: /partitions/0/repartConfig/Type: key appears twice in the same object; JSON readers would silently keep only one",
            ],
        ),
        (
            "NUL in a label",
            with_config(r#"{"Type": "esp", "Label": "ab\u0000cd"}"#),
            vec![r#"error: /partitions/0/repartConfig/Label: label "ab\0cd" contains a NUL character, which would end the GPT name there"#],
        ),
        (
            "mkfsOptions for a filesystem not in the image",
            r#"{"version": 1, "name": "img", "mkfsOptions": {"ext4": ["-O ^has_journal"]}, "partitions": [{"id": "10-p", "repartConfig": {"Type": "esp", "Format": "vfat"}}]}"#.to_string(),
            vec!["error: /mkfsOptions/ext4: no partition has Format=ext4, so these options would be ignored"],
        ),
        (
            "Compression= on vfat",
            with_config(r#"{"Type": "esp", "Format": "vfat", "Compression": "zstd", "CompressionLevel": 3}"#),
            vec![
                "error: /partitions/0/repartConfig/Compression: Compression= has no effect on Format=vfat: only squashfs and erofs are compressed (partition 10-p)",
                "error: /partitions/0/repartConfig/CompressionLevel: CompressionLevel= has no effect on Format=vfat: only squashfs and erofs are compressed (partition 10-p)",
            ],
        ),
        (
            "compression levels outside each algorithm's range",
            r#"{"version": 1, "name": "img", "partitions": [
                {"id": "10-a", "repartConfig": {"Type": "usr", "Format": "squashfs", "Compression": "zstd", "CompressionLevel": 23}},
                {"id": "20-b", "repartConfig": {"Type": "usr", "Format": "squashfs", "CompressionLevel": "0"}},
                {"id": "30-c", "repartConfig": {"Type": "usr", "Format": "erofs", "Compression": "lz4hc", "CompressionLevel": 13}},
                {"id": "40-d", "repartConfig": {"Type": "usr", "Format": "erofs", "CompressionLevel": 9}},
                {"id": "50-e", "repartConfig": {"Type": "usr", "Format": "squashfs", "Compression": "lzo"}}]}"#
                .to_string(),
            vec![
                "error: /partitions/0/repartConfig/CompressionLevel: level 23 is outside 1..=22 for zstd (partition 10-a)",
                "error: /partitions/1/repartConfig/CompressionLevel: level 0 is outside 1..=9 for gzip (partition 20-b)",
                "error: /partitions/2/repartConfig/CompressionLevel: level 13 is outside 0..=12 for lz4hc (partition 30-c)",
                "error: /partitions/3/repartConfig/CompressionLevel: CompressionLevel= without Compression=: erofs is not compressed by default (partition 40-d)",
                "error: /partitions/4/repartConfig/Compression: Compression=lzo is not a compression Format=squashfs takes (one of: gzip, xz, zstd, lz4) (partition 50-e)",
            ],
        ),
        (
            "erofs levels of erofs-utils 1.8's compressors",
            r#"{"version": 1, "name": "img", "partitions": [
                {"id": "10-a", "repartConfig": {"Type": "usr", "Format": "erofs", "Compression": "zstd", "CompressionLevel": 23}},
                {"id": "20-b", "repartConfig": {"Type": "usr", "Format": "erofs", "Compression": "lzma", "CompressionLevel": 50}},
                {"id": "30-c", "repartConfig": {"Type": "usr", "Format": "erofs", "Compression": "deflate", "CompressionLevel": 10}}]}"#
                .to_string(),
            vec![
                "error: /partitions/0/repartConfig/CompressionLevel: level 23 is outside 1..=22 for zstd (partition 10-a)",
                "error: /partitions/1/repartConfig/CompressionLevel: level 50 is outside 0..=9 for lzma (partition 20-b)",
                "error: /partitions/2/repartConfig/CompressionLevel: level 10 is outside 0..=9 for deflate (partition 30-c)",
            ],
        ),
        (
            "mkfsOptions.squashfs values checked with their pointer",
            r#"{"version": 1, "name": "img", "mkfsOptions": {"squashfs": ["-comp xz", "-Xcompression-level 12", "-b 3K"]}, "partitions": [
                {"id": "10-a", "repartConfig": {"Type": "usr", "Format": "squashfs"}}]}"#
                .to_string(),
            vec![
                r#"error: /mkfsOptions/squashfs/2: "3K" is not a squashfs block size (a power of two from 4K to 1M)"#,
                "error: /mkfsOptions/squashfs/1: level 12 is outside 0..=9 for xz (partition 10-a)",
            ],
        ),
        (
            "contents on swap",
            r#"{"version": 1, "name": "img", "partitions": [{"id": "10-swap", "repartConfig": {"Type": "swap", "Format": "swap"}, "contents": {"/a": {"source": "@DIR@"}}}]}"#.to_string(),
            vec!["error: /partitions/0: partition 10-swap is Format=swap, which holds no files, but has contents, storePaths or closure"],
        ),
        (
            "keys 257 builds offline, with values it refuses",
            with_config(r#"{"Type": "usr", "Encrypt": "key-file", "Priority": "5000", "MountPoint": "usr", "MakeSymlinks": "/bin/sh"}"#),
            vec![
                "error: /partitions/0/repartConfig/Encrypt: Encrypt= is a systemd-repart setting that nix-repart does not implement yet (partition 10-p); remove it or use systemd-repart",
                r#"error: /partitions/0/repartConfig/MakeSymlinks: MakeSymlinks="/bin/sh" is not PATH:TARGET"#,
                r#"error: /partitions/0/repartConfig/MountPoint: "usr" must be an absolute path"#,
                r#"error: /partitions/0/repartConfig/Priority: "5000" is not a number in -1000…1000"#,
            ],
        ),
        (
            "specifiers that depend on the build host",
            r#"{"version": 1, "name": "img", "split": true, "partitions": [
                {"id": "10-a", "repartConfig": {"Type": "usr", "Label": "usr-%w"}},
                {"id": "20-b", "repartConfig": {"Type": "var", "SplitName": "var-%m"}}]}"#
                .to_string(),
            vec![
                r#"error: /partitions/0/repartConfig/Label: label "usr-%w" uses a specifier that depends on the build host; nix-repart resolves only %a (architecture) and %% in labels"#,
                r#"error: /partitions/1/repartConfig/SplitName: SplitName="var-%m" uses %m, which depends on the build host; nix-repart resolves %t, %T, %U, %n, %a and %%"#,
            ],
        ),
        (
            "relative ExcludeFiles=",
            with_config(r#"{"Type": "esp", "Format": "vfat", "ExcludeFiles": "boot/secret"}"#),
            vec![r#"error: /partitions/0/repartConfig/ExcludeFiles: "boot/secret" must be an absolute path"#],
        ),
        (
            "a name longer than NAME_MAX in a target",
            format!(r#"{{"version": 1, "name": "img", "partitions": [{{"id": "10-p", "repartConfig": {{"Type": "esp", "Format": "vfat", "MakeDirectories": "/{}"}}}}]}}"#, "n".repeat(256)),
            vec![],
        ),
    ]
}

/// Returns a description of what differs, if anything.
fn check(name: &str, text: &str, expected: &[&str], dir: &Path) -> Option<String> {
    let dir_text = dir.to_string_lossy();
    let spec = dir.join(format!("{}.json", name.replace(' ', "-")));
    fs::write(&spec, text.replace("@DIR@", &dir_text)).expect("write spec");
    let out = dir.join("out");
    let output = build(&spec, &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected: Vec<String> = expected.iter().map(|l| l.replace("@DIR@", &dir_text)).collect();
    let got: Vec<&str> = stderr.lines().collect();
    if got != expected {
        return Some(format!("case {name:?}:\n  got:      {got:?}\n  expected: {expected:?}"));
    }
    if output.status.code() != Some(1) {
        return Some(format!("case {name:?}: exit code {:?}", output.status.code()));
    }
    out.exists().then(|| format!("case {name:?}: output directory was created"))
}

#[test]
fn malformed_specs_are_rejected_with_exact_messages() {
    let cases = cases();
    assert!(cases.len() >= 20);
    let dir = tempfile::tempdir().expect("tempdir");
    // The verity pairs' data (CopyBlocks=): 600 blocks of 512 bytes.
    fs::write(dir.path().join("blocks"), vec![7u8; 600 * 512]).expect("blocks");
    // An earlier image whose report points past its end.
    fs::create_dir_all(dir.path().join("from")).expect("mkdir");
    fs::write(dir.path().join("from/img.raw"), vec![0u8; 8192]).expect("image");
    let report = r#"[{"file": "10-p.conf", "node": "img.raw1", "uuid": "0fc63daf-8483-4772-8e79-3d69d8477de4", "label": "x", "offset": 1048576, "raw_size": 4096}]"#;
    fs::write(dir.path().join("from/repart-output.json"), report).expect("report");
    let failures: Vec<String> =
        cases.iter().filter_map(|(name, text, expected)| check(name, text, expected, dir.path())).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn values_once_silently_wrong_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name_max = format!(
        r#"error: /partitions/0/repartConfig/MakeDirectories: "/{}" has a component longer than 255 bytes (NAME_MAX)"#,
        "n".repeat(256)
    );
    let failures: Vec<String> = silently_wrong_cases()
        .iter()
        .filter_map(|(name, text, expected)| {
            let expected: Vec<&str> = if expected.is_empty() { vec![name_max.as_str()] } else { expected.clone() };
            check(name, text, &expected, dir.path())
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_source_date_epoch_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("spec.json");
    fs::write(&spec, with_config(r#"{"Type": "esp"}"#)).expect("write");
    let output = run(std::process::Command::new(bin())
        .args(["build", "-o"])
        .arg(dir.path().join("out"))
        .arg(&spec)
        .env("SOURCE_DATE_EPOCH", "yesterday"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        r#"error: SOURCE_DATE_EPOCH="yesterday" is not a number of seconds since 1970"#
    );
    assert!(!dir.path().join("out").exists());
}
