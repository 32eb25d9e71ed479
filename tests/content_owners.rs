//! `contents` entries with `mode`, `user` and `group` (make-disk-image's
//! contents): the target itself gets them, what a directory holds keeps
//! its source's mode and root's owner. Checked in ext4 (debugfs `stat`,
//! e2fsck) and squashfs (`unsquashfs -lln`, numeric owners), builds are
//! byte-identical, and what a format cannot store is refused. A symlink
//! given as a source is followed, so the mode goes to what it points to.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{build, build_ok, extract, partitions, require_tools, run_ok};
use serde_json::{json, Value};

/// `src/home` (a directory with a file) and `src/tool` (a file, 0755).
fn sources(root: &Path) {
    std::fs::create_dir_all(root.join("home/docs")).unwrap();
    std::fs::write(root.join("home/docs/note"), "note\n").unwrap();
    std::fs::write(root.join("tool"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(root.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("home"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("tool", root.join("tool-link")).unwrap();
}

fn spec(dir: &Path, name: &str, format: &str, contents: Value) -> std::path::PathBuf {
    let spec = json!({ "version": 1, "name": name, "partitions": [{
        "id": "10-root",
        "repartConfig": { "Type": "linux-generic", "Format": format, "Minimize": "guess" },
        "contents": contents }] });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

fn owned_contents(src: &Path) -> Value {
    json!({
        "/home/alice": { "source": src.join("home"), "mode": "0700", "user": 1000, "group": 100 },
        "/usr/bin/su": { "source": src.join("tool"), "mode": "4755", "user": 0, "group": 0 },
        "/srv/tool": { "source": src.join("tool"), "user": 70000, "group": 5 },
        // A symlink as the source is followed (as make-disk-image's cp and chmod do).
        "/etc/secret": { "source": src.join("tool-link"), "mode": "0600" },
    })
}

fn filesystem(tmp: &Path, out: &Path, name: &str) -> std::path::PathBuf {
    let (offset, size) = partitions(out)[0];
    let fs = tmp.join(format!("{name}.fs"));
    extract(&out.join(format!("{name}.raw")), offset, size, &fs);
    fs
}

/// `debugfs stat`'s mode and owner line parts for `path`.
fn ext_stat(fs: &Path, path: &str) -> (String, String, String) {
    let stat = run_ok(Command::new("debugfs").arg("-R").arg(format!("stat {path}")).arg(fs));
    let field = |name: &str| {
        let rest = stat.split(name).nth(1).unwrap_or_else(|| panic!("{name} in {stat}"));
        rest.split_whitespace().next().expect("value").to_string()
    };
    (field("Mode:"), field("User:"), field("Group:"))
}

#[cfg_attr(lacks = "e2fsprogs", ignore = "needs e2fsprogs; .ci/run installs them")]
#[test]
fn ext4_targets_get_their_mode_and_owner() {
    require_tools(&["mke2fs", "e2fsck", "debugfs"]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    sources(&src);
    let out = tmp.path().join("out");
    build_ok(&spec(tmp.path(), "owned", "ext4", owned_contents(&src)), &out, &[]);
    let fs = filesystem(tmp.path(), &out, "owned");
    run_ok(Command::new("e2fsck").arg("-fn").arg(&fs));
    let s = |mode: &str, user: &str, group: &str| (mode.to_string(), user.to_string(), group.to_string());
    assert_eq!(ext_stat(&fs, "/home/alice"), s("0700", "1000", "100"));
    // Inside the target: the source's mode, root's owner (chmod/chown without -R).
    assert_eq!(ext_stat(&fs, "/home/alice/docs"), s("0755", "0", "0"));
    assert_eq!(ext_stat(&fs, "/home/alice/docs/note").1, "0");
    assert_eq!(ext_stat(&fs, "/usr/bin/su"), s("04755", "0", "0"));
    assert_eq!(ext_stat(&fs, "/srv/tool"), s("0755", "70000", "5"));
    assert_eq!(ext_stat(&fs, "/etc/secret"), s("0600", "0", "0"));
    assert_eq!(ext_stat(&fs, "/usr").1, "0", "parents made for a target are root's");
    let again = tmp.path().join("again");
    build_ok(&spec(tmp.path(), "owned", "ext4", owned_contents(&src)), &again, &[]);
    assert!(std::fs::read(out.join("owned.raw")).unwrap() == std::fs::read(again.join("owned.raw")).unwrap());
}

#[cfg_attr(lacks = "squashfs-tools", ignore = "needs squashfs-tools; .ci/run installs them")]
#[test]
fn squashfs_targets_get_their_mode_and_owner() {
    require_tools(&["unsquashfs"]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    sources(&src);
    let out = tmp.path().join("out");
    build_ok(&spec(tmp.path(), "owned", "squashfs", owned_contents(&src)), &out, &[]);
    let fs = filesystem(tmp.path(), &out, "owned");
    let listing = run_ok(Command::new("unsquashfs").arg("-lln").arg(&fs));
    let entry = |path: &str| {
        let line = listing
            .lines()
            .find(|l| l.ends_with(&format!("squashfs-root{path}")))
            .unwrap_or_else(|| panic!("{path} in {listing}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        (words[0].to_string(), words[1].to_string())
    };
    assert_eq!(entry("/home/alice"), ("drwx------".into(), "1000/100".into()));
    assert_eq!(entry("/home/alice/docs"), ("drwxr-xr-x".into(), "0/0".into()));
    assert_eq!(entry("/usr/bin/su"), ("-rwsr-xr-x".into(), "0/0".into()));
    assert_eq!(entry("/srv/tool"), ("-rwxr-xr-x".into(), "70000/5".into()));
    assert_eq!(entry("/etc/secret"), ("-rw-------".into(), "0/0".into()));
    let again = tmp.path().join("again");
    build_ok(&spec(tmp.path(), "owned", "squashfs", owned_contents(&src)), &again, &["--jobs", "1"]);
    assert!(std::fs::read(out.join("owned.raw")).unwrap() == std::fs::read(again.join("owned.raw")).unwrap());
}

#[test]
fn what_a_format_cannot_keep_is_refused_with_the_entry_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    sources(&src);
    let tool = src.join("tool");
    let cases = [
        ("vfat", json!({ "/x": { "source": tool, "mode": "0600" } }), "/partitions/0/contents/~1x: mode, user and group cannot be kept on Format=vfat: FAT stores no owners or permission bits (partition 10-root)"),
        ("erofs", json!({ "/x": { "source": tool, "user": 1, "group": 1 } }), "/partitions/0/contents/~1x: mode, user and group cannot be kept on Format=erofs: mkfs.erofs gives every file the same owner (root) (partition 10-root)"),
        ("ext4", json!({ "/x": { "source": tool, "mode": "u+x" } }), "/partitions/0/contents/~1x/mode: \"u+x\" is not a mode: expected octal permission bits"),
        ("ext4", json!({ "/x": { "source": tool, "mode": "10000" } }), "/partitions/0/contents/~1x/mode: \"10000\" is not a mode"),
        ("ext4", json!({ "/x": { "source": tool, "user": 5 } }), "/partitions/0/contents/~1x/user: user without group (partition 10-root); give both, or neither"),
        ("ext4", json!({ "/x": { "source": tool, "user": 4294967295u64, "group": 0 } }), "/partitions/0/contents/~1x/user: 4294967295 is not a user or group id"),
        ("ext4", json!({ "/x": { "source": tool, "owner": 0 } }), "/partitions/0/contents/~1x/owner: unknown key"),
    ];
    for (i, (format, contents, message)) in cases.into_iter().enumerate() {
        let out = tmp.path().join(format!("out-{i}"));
        let output = build(&spec(tmp.path(), &format!("bad{i}"), format, contents), &out, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{message}: {stderr}");
        assert!(stderr.contains(message), "expected {message:?} in {stderr}");
        assert!(!out.exists(), "nothing is left behind: {}", out.display());
    }
}
