//! Helpers shared by the integration tests: running the `nix-repart`
//! binary, requiring external tools (a missing tool fails the test under
//! `CI=true` and is reported loudly elsewhere), and loop devices.

#![allow(dead_code)]

pub mod listing;
pub mod nix;
pub mod store;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test; `NIX_REPART_TEST_BIN` runs the suite against
/// another build (an earlier commit's, to see which tests fail there).
pub fn bin() -> PathBuf {
    std::env::var_os("NIX_REPART_TEST_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_nix-repart")), PathBuf::from)
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Fails the test unless `tool` (a command on PATH, or an absolute path)
/// is there. A test that needs a tool also carries
/// `#[cfg_attr(lacks = "<group>", ignore = "needs ...")]` (see build.rs):
/// where the tool is missing it is reported as ignored, with the reason,
/// and never runs; under `CI=true` it always runs, and fails here.
pub fn require_tool(tool: &str) {
    let found = if tool.starts_with('/') {
        Path::new(tool).exists()
    } else {
        Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
    };
    let hint = if in_ci() { ".ci/run installs it" } else { "install it, or run .ci/run" };
    assert!(found, "{tool} is required by this test and is missing: {hint}");
}

/// [`require_tool`] for each of `tools`.
pub fn require_tools(tools: &[&str]) {
    tools.iter().for_each(|t| require_tool(t));
}

/// The names in a directory, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs a command and returns its output, failing the test if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command, failing the test if it has not finished after
/// `seconds` (it is then killed, by its PID).
pub fn run_within(cmd: &mut Command, seconds: u64) -> Output {
    use std::process::Stdio;
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Sends `signal` to the process `pid` that this test started.
pub fn send_signal(pid: u32, signal: i32) {
    let pid = i32::try_from(pid).expect("pid");
    // SAFETY: kill(2) takes two integers and touches no memory.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill({pid}, {signal})");
}

/// Runs a command that must succeed and returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}:\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nix-repart build SPEC -o OUT`, with a fixed environment.
/// With `--quiet`: stderr holds only warnings, errors and the result line
/// (progress reports are checked in `tests/progress.rs`).
pub fn build(spec: &Path, out: &Path, extra: &[&str]) -> Output {
    run(Command::new(bin())
        .args(["build", "--quiet"])
        .arg(spec)
        .arg("-o")
        .arg(out)
        .args(extra)
        .env_remove("SOURCE_DATE_EPOCH"))
}

/// Builds and asserts success.
pub fn build_ok(spec: &Path, out: &Path, extra: &[&str]) {
    let output = build(spec, out, extra);
    assert!(output.status.success(), "nix-repart build failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// A spec file `dir/<name>.json`: one `Minimize=guess` partition of
/// `format` holding `source` at its root.
pub fn tree_spec(dir: &Path, name: &str, format: &str, source: &Path) -> PathBuf {
    let spec = serde_json::json!({ "version": 1, "name": name, "partitions": [{
        "id": "10-data",
        "repartConfig": { "Type": "linux-generic", "Format": format, "Minimize": "guess" },
        "contents": { "/": { "source": source } } }] });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, spec.to_string()).expect("write spec");
    path
}

/// A loop device over a file, detached on drop.
pub struct Loop {
    pub device: String,
}

impl Loop {
    pub fn attach(file: &Path, sector_size: u32) -> Loop {
        let device = run_ok(Command::new("losetup").args(["-f", "--show", "-b", &sector_size.to_string()]).arg(file));
        Loop { device: device.trim().to_string() }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.device]).output();
    }
}

/// `sgdisk -v` must report no problem.
pub fn assert_sgdisk_clean(target: &str) {
    let out = run_ok(Command::new("sgdisk").arg("-v").arg(target));
    assert!(out.contains("No problems found"), "sgdisk -v {target}:\n{out}");
}

/// `sfdisk -d`, without the lines that name the device.
pub fn sfdisk_dump(target: &str) -> String {
    let out = run_ok(Command::new("sfdisk").arg("-d").arg(target));
    out.lines()
        .filter(|l| !l.starts_with("device:"))
        .map(|l| match l.split_once(" : ") {
            Some((_, rest)) => format!("PART : {rest}"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `nix-repart build` with a fixed `SOURCE_DATE_EPOCH`.
pub fn build_at(spec: &Path, out: &Path, epoch: u64, extra: &[&str]) {
    let output = run(Command::new(bin())
        .arg("build")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", epoch.to_string()));
    assert!(output.status.success(), "nix-repart build failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// The partitions of a build, from its `repart-output.json`: `(offset, size)`.
pub fn partitions(out: &Path) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(out.join("repart-output.json")).expect("report");
    let report: serde_json::Value = serde_json::from_str(&text).expect("json");
    report
        .as_array()
        .expect("array")
        .iter()
        .map(|e| (e["offset"].as_u64().expect("offset"), e["raw_size"].as_u64().expect("size")))
        .collect()
}

/// `size` bytes at `offset` of a file.
pub fn read_region(path: &Path, offset: u64, size: u64) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mut buffer = vec![0u8; size as usize];
    std::fs::File::open(path).expect("open").read_exact_at(&mut buffer, offset).expect("read");
    buffer
}

/// Copies `size` bytes at `offset` of `image` into a new file.
pub fn extract(image: &Path, offset: u64, size: u64, to: &Path) {
    use std::io::{Read, Seek, SeekFrom};
    let mut input = std::fs::File::open(image).expect("open image");
    input.seek(SeekFrom::Start(offset)).expect("seek");
    let mut output = std::fs::File::create(to).expect("create");
    std::io::copy(&mut input.take(size), &mut output).expect("copy");
}

/// A small deterministic pseudo-random generator for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// Sets a path's atime and mtime to `seconds`, without following a symlink.
pub fn set_mtime(path: &Path, seconds: i64) {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    let time = libc::timespec { tv_sec: seconds as libc::time_t, tv_nsec: 0 };
    // SAFETY: a NUL-terminated path and two valid timespecs.
    let rc =
        unsafe { libc::utimensat(libc::AT_FDCWD, c_path.as_ptr(), [time, time].as_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
    assert_eq!(rc, 0, "utimensat {}", path.display());
}

/// Sets the mtime of everything below `root` (not `root` itself), symlinks
/// their own.
pub fn set_mtimes_below(root: &Path, seconds: i64) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.symlink_metadata().expect("lstat").is_dir() {
                stack.push(path.clone());
            }
            set_mtime(&path, seconds);
        }
    }
}

/// The mtime's seconds of `/inner` in an ext2/3/4 image, from `debugfs`
/// (the program given, a path or a name on PATH) `-R "stat PATH"`'s
/// `mtime: 0x...:...` line.
pub fn debugfs_mtime(debugfs: &Path, image: &Path, inner: &str) -> u64 {
    let out = run_ok(Command::new(debugfs).arg("-R").arg(format!("stat \"/{inner}\"")).arg(image));
    let line = out.lines().find(|l| l.trim_start().starts_with("mtime:")).unwrap_or_else(|| panic!("{out}"));
    let hex = line.split_whitespace().nth(1).and_then(|v| v.split(':').next()).expect("mtime value");
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("hex")
}

/// Reads until `buffer` is full or the input ends; the bytes read.
pub fn read_exactly(input: &mut impl std::io::Read, buffer: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]).expect("read") {
            0 => break,
            n => filled += n,
        }
    }
    filled
}
