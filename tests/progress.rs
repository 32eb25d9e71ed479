//! What a build says while it runs: in a log (stderr not a terminal),
//! plain lines that name the step (partition and stage) with bytes done of
//! the total, never a carriage return, and a summary table at the end; on
//! a terminal (a pty made by `script`), a bar and no plain lines;
//! `--quiet`, neither. A failing mkfs tool is reported whole. `nix-repart
//! plan` estimates squashfs within 5 % of the built size.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// A 40 MB tree: text-like files, incompressible ones, zeros, many
/// small files, so that the compression ratio is neither 0 nor 1.
fn tree(root: &Path) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..8 {
        let text: Vec<u8> = (0..3_000_000).map(|_| b"the quick brown fox jumps\n"[(next() % 26) as usize]).collect();
        write(&root.join(format!("text/{i}.txt")), &text);
        let noise: Vec<u8> = (0..1_500_000).map(|_| next() as u8).collect();
        write(&root.join(format!("noise/{i}.bin")), &noise);
    }
    write(&root.join("zeros/empty.img"), &vec![0u8; 2_000_000]);
    for i in 0..600 {
        let len = (next() % 9000) as usize;
        let small: Vec<u8> = (0..len).map(|_| b"abcdefgh=;\n"[(next() % 11) as usize]).collect();
        write(&root.join(format!("small/{:02}/{i}.conf", i % 20)), &small);
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn spec(dir: &Path, format: &str) -> std::path::PathBuf {
    let src = dir.join("src");
    if !src.exists() {
        tree(&src);
    }
    common::tree_spec(dir, format, format, &src)
}

/// `nix-repart: [   1.2 s] ...` lines: the seconds of each.
fn stamps(stderr: &str) -> Vec<f64> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("nix-repart: ["))
        .filter_map(|l| l.split(" s]").next())
        .filter_map(|t| t.trim().parse().ok())
        .collect()
}

#[test]
fn a_log_gets_plain_lines_naming_the_partition_and_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "squashfs");
    let log = dir.path().join("stderr.log");
    let status = Command::new(common::bin())
        .args(["build", "--jobs", "2"])
        .arg(&spec)
        .arg("-o")
        .arg(dir.path().join("out"))
        .env("NIX_REPART_PROGRESS_INTERVAL", "0.2")
        .stderr(std::fs::File::create(&log).expect("log"))
        .status()
        .expect("run");
    let stderr = std::fs::read_to_string(&log).expect("read log");
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains('\r'), "a carriage return in a log:\n{stderr}");
    assert!(!stderr.contains('\u{1b}'), "an escape sequence in a log:\n{stderr}");
    assert!(stderr.contains("10-data: reading sources"), "{stderr}");
    assert!(stderr.contains("10-data: writing squashfs (gzip): 38.7 MiB in 617 files"), "{stderr}");
    // At least one line while squashfs runs, with bytes done of the total.
    let running =
        stderr.lines().filter(|l| l.contains("10-data: writing squashfs") && l.contains(" of 38.7 MiB (")).count();
    assert!(running >= 1, "no progress line during the squashfs write:\n{stderr}");
    assert!(stderr.contains("10-data: writing squashfs (gzip): done, 38.7 MiB, 617 files in"), "{stderr}");
    let times = stamps(&stderr);
    assert!(times.len() >= 5, "{stderr}");
    let gap = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(gap < 10.0, "{gap} s without a line:\n{stderr}");
    // The table: a header and the partition's row.
    let header = stderr.lines().position(|l| l.starts_with("partition  format")).expect("summary header");
    let row = stderr.lines().nth(header + 1).expect("summary row");
    assert!(row.starts_with("10-data    squashfs  38.7 MiB  641 "), "{row}");
    assert!(stderr.lines().any(|l| l.starts_with("built in ")), "{stderr}");
}

#[test]
fn quiet_prints_only_the_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "squashfs");
    let out = common::run(
        Command::new(common::bin()).args(["build", "--quiet"]).arg(&spec).arg("-o").arg(dir.path().join("out")),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("wrote "), "{stderr}");
}

#[test]
fn a_terminal_gets_a_bar_and_no_plain_lines() {
    common::require_tool("script");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "squashfs");
    let command =
        format!("{} build {} -o {} 2>&1", common::bin().display(), spec.display(), dir.path().join("out").display());
    let out = common::run(
        Command::new("script").args(["-qefc", &command, "/dev/null"]).env("TERM", "xterm").stdin(Stdio::null()),
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(!shown.contains("nix-repart: ["), "plain progress lines on a terminal:\n{shown}");
    assert!(shown.contains("10-data: writing squashfs (gzip)"), "{shown}");
    assert!(shown.contains('\r') || shown.contains("\u{1b}["), "no bar drawing:\n{shown}");
    assert!(shown.contains("] "), "no bar:\n{shown}");
}

#[test]
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs (the tree is checked before mke2fs runs)")]
fn a_failing_mke2fs_is_shown_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("fake-bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let fake = bin.join("mke2fs");
    std::fs::write(&fake, "#!/bin/sh\necho 'mke2fs 1.47.0 (fake)' >&2\necho 'ext2fs_open2: Bad magic number in super-block' >&2\nexit 3\n")
        .expect("write fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let src = dir.path().join("src");
    write(&src.join("etc/motd"), b"hello\n");
    // ext3: always mke2fs's (ext4 is nix-repart's own).
    let spec = common::tree_spec(dir.path(), "ext", "ext3", &src);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = common::run(
        Command::new(common::bin())
            .args(["build", "--quiet"])
            .arg(&spec)
            .arg("-o")
            .arg(dir.path().join("out"))
            .env("PATH", path),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert_eq!(lines[0], "error: partition 10-data: cannot make its filesystem: mke2fs failed (exit status: 3)");
    assert!(lines[1].starts_with("error:   command: mke2fs -t ext3 "), "{stderr}");
    assert!(lines[1].contains(" -E offset=1048576") || lines[1].contains("offset=1048576"), "{stderr}");
    assert_eq!(lines[2], "error:   mke2fs: mke2fs 1.47.0 (fake)");
    assert_eq!(lines[3], "error:   mke2fs: ext2fs_open2: Bad magic number in super-block");
    assert!(!dir.path().join("out").exists(), "a failed build left its output directory");
}

#[test]
fn plan_estimates_squashfs_within_five_percent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), "squashfs");
    let plan = common::run(Command::new(common::bin()).arg("plan").arg(&spec));
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    assert!(String::from_utf8_lossy(&plan.stderr).contains("partition 10-data: its content size is an estimate"));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    let estimate = plan["partitions"][0]["contentSize"].as_u64().expect("contentSize");
    let bound = plan["partitions"][0]["contentEstimate"]["upperBound"].as_u64().expect("upperBound");
    let exact = common::run(Command::new(common::bin()).args(["plan", "--exact"]).arg(&spec));
    let exact: serde_json::Value = serde_json::from_slice(&exact.stdout).expect("plan json");
    assert!(exact["partitions"][0].get("contentEstimate").is_none());
    let built = exact["partitions"][0]["contentSize"].as_u64().expect("contentSize");
    // The exact plan measures what the build writes: check that too.
    let out = dir.path().join("out");
    let run = common::run(Command::new(common::bin()).args(["build", "--quiet"]).arg(&spec).arg("-o").arg(&out));
    assert!(run.status.success());
    let image_len = std::fs::metadata(out.join("squashfs.raw")).expect("image").len();
    // 1 MiB in front, the backup GPT (16 KiB of entries and its header) at the end.
    let expected_len = built.div_ceil(4096) * 4096 + (1 << 20) + 16 * 1024 + 512;
    assert_eq!(image_len, expected_len, "the exact plan's size is not the build's");
    let error = (estimate as f64 - built as f64).abs() / built as f64;
    assert!(error < 0.05, "estimate {estimate}, built {built}: {:.1} % off", error * 100.0);
    assert!(bound >= built, "the bound {bound} is below the built size {built}");
}

/// Real files: 40 MB of this machine's libraries (present on every Debian
/// system), none over 8 MB, in sorted order, as one `contents` entry each.
fn library_spec(dir: &Path, format: &str, extra: serde_json::Value) -> std::path::PathBuf {
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/x86_64-linux-gnu")
        .expect("/usr/lib/x86_64-linux-gnu")
        .map(|e| e.expect("entry").path())
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() && m.len() <= 8_000_000))
        .collect();
    names.sort();
    let mut contents = serde_json::Map::new();
    let mut total = 0;
    for path in names {
        if total >= 40_000_000 {
            break;
        }
        total += std::fs::metadata(&path).expect("meta").len();
        let target = format!("/lib/{}", path.file_name().expect("name").to_string_lossy());
        contents.insert(target, serde_json::json!({ "source": path }));
    }
    assert!(total >= 20_000_000, "too few libraries here to test with: {total} bytes");
    let mut config = serde_json::json!({ "Type": "usr", "Format": format, "Minimize": "best" });
    for (k, v) in extra.as_object().expect("object") {
        config[k] = v.clone();
    }
    let spec = serde_json::json!({ "version": 1, "name": "libs", "partitions": [
        { "id": "10-usr", "repartConfig": config, "contents": contents } ] });
    let path = dir.join(format!("libs-{format}.json"));
    std::fs::write(&path, spec.to_string()).expect("spec");
    path
}

/// `(estimated contentSize, upperBound, exact contentSize)` of partition 0.
fn estimate_and_exact(spec: &Path) -> (u64, u64, u64) {
    let plan = common::run(Command::new(common::bin()).arg("plan").arg(spec));
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    let exact = common::run(Command::new(common::bin()).args(["plan", "--exact"]).arg(spec));
    assert!(exact.status.success(), "{}", String::from_utf8_lossy(&exact.stderr));
    let exact: serde_json::Value = serde_json::from_slice(&exact.stdout).expect("plan json");
    let p = &plan["partitions"][0];
    (
        p["contentSize"].as_u64().expect("contentSize"),
        p["contentEstimate"]["upperBound"].as_u64().expect("upperBound"),
        exact["partitions"][0]["contentSize"].as_u64().expect("exact contentSize"),
    )
}

fn off(estimate: u64, exact: u64) -> f64 {
    (estimate as f64 - exact as f64).abs() / exact as f64
}

#[test]
fn plan_estimates_squashfs_of_real_binaries_within_five_percent() {
    let dir = tempfile::tempdir().expect("tempdir");
    for compression in ["gzip", "zstd"] {
        let spec = library_spec(dir.path(), "squashfs", serde_json::json!({ "Compression": compression }));
        let (estimate, bound, exact) = estimate_and_exact(&spec);
        assert!(off(estimate, exact) < 0.05, "{compression}: estimate {estimate}, built {exact}");
        assert!(bound >= exact, "{compression}: bound {bound} below {exact}");
    }
}

#[test]
#[cfg_attr(lacks = "erofs-utils", ignore = "needs mkfs.erofs (erofs-utils)")]
fn plan_bounds_erofs_and_estimates_it_uncompressed() {
    common::require_tool("mkfs.erofs");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = library_spec(dir.path(), "erofs", serde_json::json!({}));
    let (estimate, bound, exact) = estimate_and_exact(&spec);
    assert!(off(estimate, exact) < 0.05, "uncompressed: estimate {estimate}, built {exact}");
    assert!(bound >= exact, "uncompressed: bound {bound} below {exact}");
    let spec = library_spec(dir.path(), "erofs", serde_json::json!({ "Compression": "lz4" }));
    let (estimate, bound, exact) = estimate_and_exact(&spec);
    assert!(bound >= exact && estimate >= exact, "lz4: estimate {estimate} and bound {bound}, built {exact}");
}
