//! Interrupts: SIGINT, SIGTERM (what Nix sends to a build it stops) and
//! SIGHUP at several points of squashfs, ext4 and erofs builds must leave
//! nothing: no output, no work directory, no output directory the build
//! made, no child process still running. After a SIGKILL, which nothing
//! can catch, the mkfs child dies with nix-repart and the next build into
//! the same directory removes what the killed one left.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;

/// About 60 MB of incompressible files: long enough a build to be
/// interrupted at each point.
fn make_tree(root: &Path) {
    let mut rng = Rng(7);
    for i in 0..240 {
        let path = root.join(format!("d{}/f{i:03}", i % 8));
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, rng.bytes(256 << 10)).expect("write");
    }
}

fn spec(dir: &Path, format: &str, src: &Path) -> PathBuf {
    tree_spec(dir, format, format, src)
}

fn start(spec: &Path, out: &Path) -> Child {
    Command::new(bin()).arg("build").arg(spec).arg("-o").arg(out).spawn().expect("spawn nix-repart")
}

/// The PIDs of running processes whose command line names `needle`.
fn processes_naming(needle: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let state = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // A zombie has exited; it only waits to be reaped.
            let zombie = state.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
            !zombie && String::from_utf8_lossy(&cmdline).contains(needle)
        })
        .collect()
}

/// Whether `pid` has a child process (a running mkfs).
fn has_child(pid: u32) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else { return false };
    entries.flatten().any(|e| {
        let stat = fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...
        stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok()) == Some(pid)
    })
}

fn work_dir_in(out: &Path) -> Option<PathBuf> {
    fs::read_dir(out)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".nix-repart-work.")))
}

/// Where in the build the signal is sent.
#[derive(Debug, Clone, Copy)]
enum Point {
    /// 30 ms after the start: reading the spec and walking the tree.
    Start,
    /// Once the work directory holds something (staging, image file).
    Writing,
    /// While the mkfs tool runs (ext3, erofs).
    ToolRunning,
    /// Late in the build: half a second after the work directory has an
    /// image file of some size.
    Late,
}

fn reached(point: Point, child: &Child, out: &Path) -> bool {
    match point {
        Point::Start => true,
        Point::Writing => work_dir_in(out).and_then(|w| fs::read_dir(w).ok()).is_some_and(|mut d| d.next().is_some()),
        Point::ToolRunning => has_child(child.id()),
        Point::Late => work_dir_in(out).is_some_and(|w| {
            fs::read_dir(w)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() > 0))
        }),
    }
}

/// Interrupts a build of `format` at `point` with `signal` and checks that
/// nothing is left.
fn interrupt(dir: &Path, format: &str, signal: (&str, i32), point: Point, index: usize) {
    let src = dir.join("src");
    let out = dir.join(format!("out-{index}"));
    let mut child = start(&spec(dir, format, &src), &out);
    let started = Instant::now();
    while !reached(point, &child, &out) {
        assert!(child.try_wait().expect("wait").is_none(), "{format}: the build ended before {point:?}");
        assert!(started.elapsed() < Duration::from_secs(60), "{format}: {point:?} never reached");
        std::thread::sleep(Duration::from_millis(5));
    }
    match point {
        Point::Start => std::thread::sleep(Duration::from_millis(30)),
        Point::Late => std::thread::sleep(Duration::from_millis(500)),
        Point::Writing | Point::ToolRunning => {}
    }
    send_signal(child.id(), signal.1);
    let status = child.wait().expect("wait");
    let what = format!("{format}, SIG{} at {point:?}", signal.0);
    if status.success() {
        // The build won the race; what it made is the whole image.
        assert_eq!(file_names(&out), [format!("{format}.raw"), "repart-output.json".to_string()], "{what}");
        return;
    }
    // A signal before the handlers are installed (process start-up) ends
    // the process the default way; it has made nothing yet either.
    let by_default = std::os::unix::process::ExitStatusExt::signal(&status) == Some(signal.1);
    assert!(status.code() == Some(128 + signal.1) || by_default, "{what}: exit status {status}");
    // A signal after the build finished (its outputs renamed into place, the
    // work directory gone) still ends it with 128+N; what it made is whole
    // (outputs only ever appear by rename, complete), so it stays.
    let whole = [format!("{format}.raw"), "repart-output.json".to_string()];
    assert!(!out.exists() || file_names(&out) == whole, "{what}: left {:?}", file_names(&out));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_naming(&out.to_string_lossy()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{what}: processes still running: {:?}",
            processes_naming(&out.to_string_lossy())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt_everywhere(format: &str, points: &[Point]) {
    let dir = tempfile::tempdir().expect("tempdir");
    make_tree(&dir.path().join("src"));
    let signals = [("INT", 2), ("TERM", 15), ("HUP", 1)];
    let mut index = 0;
    for point in points {
        for signal in &signals[..2] {
            interrupt(dir.path(), format, *signal, *point, index);
            index += 1;
        }
    }
    interrupt(dir.path(), format, signals[2], points[points.len() - 1], index);
}

#[test]
fn interrupted_squashfs_builds_leave_nothing() {
    interrupt_everywhere("squashfs", &[Point::Start, Point::Writing, Point::Late]);
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn interrupted_ext4_builds_leave_nothing() {
    // nix-repart's own writer: no tool runs, the image is written in place.
    require_tool("mke2fs");
    interrupt_everywhere("ext4", &[Point::Start, Point::Writing, Point::Late]);
}

/// ext3 is made by mke2fs (as ext4 with `"extWriter": "mke2fs"`).
#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn interrupted_mke2fs_builds_leave_nothing() {
    require_tool("mke2fs");
    interrupt_everywhere("ext3", &[Point::Start, Point::Writing, Point::ToolRunning]);
}

#[cfg_attr(lacks = "erofs-utils", ignore = "needs erofs-utils; .ci/run installs them")]
#[test]
fn interrupted_erofs_builds_leave_nothing() {
    require_tool("mkfs.erofs");
    interrupt_everywhere("erofs", &[Point::Start, Point::Writing, Point::ToolRunning]);
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn a_build_after_a_sigkill_removes_what_the_killed_one_left() {
    require_tool("mke2fs");
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_tree(&src);
    let out = dir.path().join("out");
    let spec = spec(dir.path(), "ext3", &src);
    let mut child = start(&spec, &out);
    let started = Instant::now();
    while !has_child(child.id()) {
        assert!(child.try_wait().expect("wait").is_none(), "the build ended before mke2fs ran");
        assert!(started.elapsed() < Duration::from_secs(60), "mke2fs never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    send_signal(child.id(), libc::SIGKILL);
    child.wait().expect("wait");
    let left = work_dir_in(&out).expect("a SIGKILL leaves the work directory");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_naming(&out.to_string_lossy()).is_empty() {
        assert!(Instant::now() < deadline, "mke2fs outlived the killed build");
        std::thread::sleep(Duration::from_millis(20));
    }
    let small = dir.path().join("small");
    fs::create_dir(&small).expect("mkdir");
    fs::write(small.join("f"), b"x").expect("write");
    let small_spec = serde_json::json!({ "version": 1, "name": "next", "partitions": [{
        "id": "10-esp", "repartConfig": { "Type": "esp", "Format": "vfat" }, "contents": { "/": { "source": small } } }] });
    let small_spec_path = dir.path().join("next.json");
    fs::write(&small_spec_path, small_spec.to_string()).expect("write");
    build_ok(&small_spec_path, &out, &[]);
    assert!(!left.exists(), "the killed build's work directory is still there");
    assert_eq!(file_names(&out), ["next.raw", "repart-output.json"]);
}
