//! FAT partitions end to end: every image is checked by fsck.vfat, read
//! back with mtools (`mcopy -s`) and with the `fatfs` crate, and compared
//! with its source tree: names, bytes, and timestamps (SOURCE_DATE_EPOCH).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// 2023-11-14 22:13:21 UTC: odd, to check the two-second FAT rounding.
const EPOCH: u64 = 1_700_000_001;

/// Relative path -> contents, for files; directories end with '/'.
type Listing = BTreeMap<String, Option<Vec<u8>>>;

fn list_dir(root: &Path) -> Listing {
    fn walk(dir: &Path, prefix: &str, out: &mut Listing) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            if entry.file_type().expect("type").is_dir() {
                out.insert(format!("{path}/"), None);
                walk(&entry.path(), &format!("{path}/"), out);
            } else {
                out.insert(path, Some(fs::read(entry.path()).expect("read")));
            }
        }
    }
    let mut out = Listing::new();
    walk(root, "", &mut out);
    out
}

/// A tree with what FAT makes hard: deep paths, long and non-ASCII names,
/// empty files and directories, names that need numeric tails.
fn make_tree(root: &Path, seed: u64, big_dir: usize) {
    let mut rng = Rng(seed);
    let mut deep = root.join("deep");
    for level in 0..24 {
        deep = deep.join(format!("level-{level:02}"));
    }
    let long = "a-rather-long-file-name-".repeat(9) + "end.txt"; // 223 characters
    let files: Vec<(PathBuf, usize)> = vec![
        (root.join("EFI/BOOT/BOOTX64.EFI"), 150_000),
        (root.join("EFI/systemd/systemd-bootx64.efi"), 70_001),
        (root.join("loader/loader.conf"), 30),
        (root.join("loader/entries/nixos-generation-1.conf"), 200),
        (root.join("loader/entries/nixos-generation-2.conf"), 201),
        (root.join("Überraschung/日本語のファイル.txt"), 1234),
        (root.join("Mixed Case Name.Conf"), 5),
        (root.join(".hidden"), 6),
        (root.join("empty-file"), 0),
        (root.join(long), 77),
        (deep.join("bottom.bin"), 8193),
    ];
    for (path, size) in &files {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, rng.bytes(*size)).expect("write");
    }
    fs::create_dir_all(root.join("empty-dir")).expect("mkdir");
    let big = root.join("many");
    fs::create_dir_all(&big).expect("mkdir");
    for i in 0..big_dir {
        fs::write(big.join(format!("entry-number-{i:05}.txt")), format!("{i}")).expect("write");
    }
}

/// A vfat partition of type linux-generic: FAT12/16/32 as mkfs.fat picks
/// them (an ESP is always FAT32, see `esps_are_fat32_and_large_enough`).
fn spec(dir: &Path, source: &Path, sector_size: u32, config: &str) -> PathBuf {
    let spec = dir.join("spec.json");
    let text = format!(
        r#"{{"version": 1, "name": "fat", "sectorSize": {sector_size}, "partitions": [
            {{"id": "10-esp", "repartConfig": {{"Type": "linux-generic", "Format": "vfat", "Label": "Boot Files" {config}}},
              "contents": {{"/": {{"source": "{}"}}}}}}]}}"#,
        source.display()
    );
    fs::write(&spec, text).expect("write spec");
    spec
}

/// Extracts the partition, checks it with fsck.vfat, returns its path.
fn checked_partition(out: &Path, work: &Path) -> PathBuf {
    let (offset, size) = partitions(out)[0];
    let part = work.join("part.img");
    extract(&out.join("fat.raw"), offset, size, &part);
    let fsck = run(Command::new("fsck.vfat").arg("-n").arg(&part));
    let report = String::from_utf8_lossy(&fsck.stdout);
    assert!(fsck.status.success(), "fsck.vfat -n failed:\n{report}{}", String::from_utf8_lossy(&fsck.stderr));
    assert!(!report.contains("differ") && !report.contains("Wrong"), "fsck.vfat -n:\n{report}");
    part
}

fn fat_type_of(part: &Path) -> String {
    let fs = fatfs::FileSystem::new(fs::File::open(part).expect("open"), fatfs::FsOptions::new()).expect("fatfs");
    format!("{:?}", fs.fat_type())
}

/// Reads the whole volume with the fatfs crate, checking every timestamp.
fn read_with_fatfs(part: &Path) -> Listing {
    use std::io::Read;
    let file = fs::OpenOptions::new().read(true).write(true).open(part).expect("open");
    let fs = fatfs::FileSystem::new(file, fatfs::FsOptions::new()).expect("fatfs mounts the volume");
    assert_eq!(fs.volume_label(), "BOOT FILES");
    fn walk<T: fatfs::ReadWriteSeek>(dir: fatfs::Dir<T>, prefix: &str, out: &mut Listing) {
        for entry in dir.iter() {
            let entry = entry.expect("entry");
            let name = entry.file_name();
            if name == "." || name == ".." {
                continue;
            }
            let m = entry.modified();
            let when = (m.date.year, m.date.month, m.date.day, m.time.hour, m.time.min, m.time.sec);
            assert_eq!(when, (2023, 11, 14, 22, 13, 20), "{prefix}{name} modified");
            // The creation time keeps the odd second in its hundredths field.
            let c = entry.created();
            let created = (c.date.year, c.date.month, c.date.day, c.time.hour, c.time.min, c.time.sec, c.time.millis);
            assert_eq!(created, (2023, 11, 14, 22, 13, 21, 0), "{prefix}{name} created");
            let path = format!("{prefix}{name}");
            if entry.is_dir() {
                out.insert(format!("{path}/"), None);
                walk(entry.to_dir(), &format!("{path}/"), out);
            } else {
                let mut bytes = Vec::new();
                entry.to_file().read_to_end(&mut bytes).expect("read");
                out.insert(path, Some(bytes));
            }
        }
    }
    let mut out = Listing::new();
    walk(fs.root_dir(), "", &mut out);
    out
}

/// Copies the volume out with mtools and checks modification times.
fn read_with_mtools(part: &Path, work: &Path) -> Listing {
    let target = work.join("mcopy");
    fs::create_dir_all(&target).expect("mkdir");
    let image = format!("{}", part.display());
    run_ok(
        Command::new("mcopy")
            .args(["-s", "-m", "-n", "-i", &image, "::/"])
            .arg(&target)
            .env("TZ", "UTC")
            .env("MTOOLS_SKIP_CHECK", "1"),
    );
    let listing = list_dir(&target);
    let sample = target.join("loader/loader.conf");
    let mtime = fs::metadata(&sample).expect("meta").modified().expect("mtime");
    let secs = mtime.duration_since(std::time::UNIX_EPOCH).expect("after epoch").as_secs();
    assert_eq!(secs, EPOCH - EPOCH % 2, "mcopy -m mtime of loader.conf");
    listing
}

fn round_trip(sector_size: u32, config: &str, big_dir: usize, expected_type: &str) {
    require_tools(&["fsck.vfat", "mcopy"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("src");
    make_tree(&source, 7, big_dir);
    let out = dir.path().join("out");
    build_at(&spec(dir.path(), &source, sector_size, config), &out, EPOCH, &[]);
    let part = checked_partition(&out, dir.path());
    assert_eq!(fat_type_of(&part), expected_type);
    let expected = list_dir(&source);
    assert_eq!(read_with_fatfs(&part), expected, "fatfs reads back the source tree");
    assert_eq!(read_with_mtools(&part, dir.path()), expected, "mcopy -s reads back the source tree");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat12_minimized_512() {
    // SizeMinBytes= below the 10 MiB default, which Minimize= does not lift.
    round_trip(512, r#", "Minimize": "best", "SizeMinBytes": "1M""#, 40, "Fat12");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat16_with_5000_entries_512() {
    round_trip(512, r#", "SizeMinBytes": "64M""#, 5000, "Fat16");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat32_600m_512() {
    round_trip(512, r#", "SizeMinBytes": "600M""#, 100, "Fat32");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat12_minimized_4096() {
    round_trip(4096, r#", "Minimize": "guess""#, 40, "Fat12");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat16_4096() {
    round_trip(4096, r#", "SizeMinBytes": "300M""#, 300, "Fat16");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat32_4096() {
    round_trip(4096, r#", "SizeMinBytes": "1G""#, 100, "Fat32");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat16_1024() {
    round_trip(1024, r#", "SizeMinBytes": "64M""#, 300, "Fat16");
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn fat32_2048() {
    round_trip(2048, r#", "SizeMinBytes": "600M""#, 100, "Fat32");
}

#[test]
fn builds_are_identical_across_jobs_and_creation_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    make_tree(&a, 7, 300);
    make_tree(&b, 7, 0);
    // The big directory of b, created in the opposite order.
    fs::create_dir_all(b.join("many")).expect("mkdir");
    for i in (0..300).rev() {
        fs::write(b.join("many").join(format!("entry-number-{i:05}.txt")), format!("{i}")).expect("write");
    }
    let (out_a, out_b) = (dir.path().join("out-a"), dir.path().join("out-b"));
    let spec_a = spec(dir.path(), &a, 512, r#", "Minimize": "best""#);
    build_at(&spec_a, &out_a, EPOCH, &["--jobs", "1"]);
    let spec_b = spec(dir.path(), &b, 512, r#", "Minimize": "best""#);
    build_at(&spec_b, &out_b, EPOCH, &["--jobs", "4"]);
    assert_eq!(fs::read(out_a.join("fat.raw")).expect("a"), fs::read(out_b.join("fat.raw")).expect("b"));
}

#[test]
fn content_errors_name_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("src");
    fs::create_dir_all(&source).expect("mkdir");
    fs::write(source.join("Index.html"), "a").expect("write");
    fs::write(source.join("index.html"), "b").expect("write");
    let out = dir.path().join("out");
    let output = build(&spec(dir.path(), &source, 512, ""), &out, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: partition 10-esp: cannot make its FAT filesystem: /Index.html and /index.html differ only in case; FAT is case-insensitive and cannot hold both"
    );
    fs::remove_file(source.join("Index.html")).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", source.join("escape")).expect("symlink");
    let output = build(&spec(dir.path(), &source, 512, ""), &out, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("partition 10-esp: cannot collect its files: symlink")
            && stderr.contains("points outside its source"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn content_larger_than_size_max_says_what_is_needed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("src");
    fs::create_dir_all(&source).expect("mkdir");
    fs::write(source.join("big.bin"), vec![1u8; 3 << 20]).expect("write");
    let output = build(&spec(dir.path(), &source, 512, r#", "SizeMaxBytes": "2M""#), &dir.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: planning the layout: partition 10-esp: its content needs ")
            && stderr.contains("but SizeMaxBytes= allows 2097152 bytes (2.0M)"),
        "{stderr}"
    );
}

/// ESPs and XBOOTLDRs are FAT32 at the image's sector size and at least
/// 100 MiB (260 MiB on 4096-byte sectors), as systemd-repart 258 and
/// newer make them; fsck.vfat reads them back whole.
#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn esps_are_fat32_and_large_enough() {
    require_tools(&["fsck.vfat", "mcopy"]);
    for (sector_size, minimum) in [(512u32, 100u64 << 20), (4096, 260 << 20)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("src");
        make_tree(&source, 3, 10);
        let spec = dir.path().join("spec.json");
        let text = format!(
            r#"{{"version": 1, "name": "fat", "sectorSize": {sector_size}, "partitions": [
                {{"id": "10-esp", "repartConfig": {{"Type": "esp", "Format": "vfat", "Minimize": "guess"}},
                  "contents": {{"/": {{"source": "{}"}}}}}},
                {{"id": "20-xbootldr", "repartConfig": {{"Type": "xbootldr", "Format": "vfat"}}}}]}}"#,
            source.display()
        );
        fs::write(&spec, text).expect("write spec");
        let out = dir.path().join("out");
        build_at(&spec, &out, EPOCH, &[]);
        for (i, (offset, size)) in partitions(&out).into_iter().enumerate() {
            assert_eq!(size, minimum, "partition {i} on {sector_size}-byte sectors");
            let part = dir.path().join(format!("p{i}"));
            extract(&out.join("fat.raw"), offset, size, &part);
            assert_eq!(fat_type_of(&part), "Fat32", "partition {i} on {sector_size}-byte sectors");
            let boot = read_region(&part, 0, 512);
            assert_eq!(u16::from_le_bytes([boot[11], boot[12]]), sector_size as u16, "FAT sector size");
            run_ok(Command::new("fsck.vfat").arg("-n").arg(&part));
        }
        let part = dir.path().join("p0");
        assert_eq!(read_with_mtools(&part, dir.path()), list_dir(&source), "mcopy -s reads back the source tree");
    }
}
