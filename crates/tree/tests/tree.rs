//! The source tree from real directories: sorting, prefixes, merging,
//! exclusion, and the symlink rules.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use nix_repart_tree::{build, Directory, Node, Symlinks, TreeError};

/// A partition whose contents and other settings come from `extra` JSON
/// (with a vfat ESP's `repartConfig` unless `extra` gives one).
fn partition(extra: &str) -> nix_repart_spec::Partition {
    let config =
        if extra.contains(r#""repartConfig""#) { "" } else { r#""repartConfig": {"Type": "esp", "Format": "vfat"}, "# };
    let text = format!(r#"{{"version": 1, "name": "t", "partitions": [{{"id": "10-p", {config}{extra}}}]}}"#);
    let mut spec = nix_repart_spec::parse_spec(&text).expect("valid spec");
    spec.partitions.remove(0)
}

/// One line per node: path, kind, size or link target, mode.
fn listing(dir: &Directory) -> Vec<String> {
    fn walk(dir: &Directory, prefix: &str, out: &mut Vec<String>) {
        for (name, node) in &dir.entries {
            let path = format!("{prefix}/{}", name.to_string_lossy());
            match node {
                Node::Directory(d) => {
                    out.push(format!("{path} dir {:o}", d.mode));
                    walk(d, &path, out);
                }
                Node::File(f) => out.push(format!("{path} file {} {:o}", f.size, f.mode)),
                Node::Symlink(s) => out.push(format!("{path} link {}", s.target.to_string_lossy())),
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

#[test]
fn contents_and_directories_are_merged_and_sorted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    write(&src.join("b/z.txt"), b"zz");
    write(&src.join("a.txt"), b"a");
    write(&dir.path().join("kernel"), b"kernel!");
    let p = partition(&format!(
        r#""contents": {{"/": {{"source": "{0}"}}, "/b/k": {{"source": "{1}"}}}}, "repartConfig": {{"Type": "esp", "Format": "vfat", "MakeDirectories": "/empty /b/also"}}"#,
        src.display(),
        dir.path().join("kernel").display()
    ));
    let tree = build(&p, Symlinks::Follow).expect("tree");
    let modes =
        |path: &Path| fs::metadata(path).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777);
    let file_mode = modes(&src.join("a.txt")).expect("mode");
    let dir_mode = modes(&src.join("b")).expect("mode");
    assert_eq!(
        listing(&tree),
        [
            format!("/a.txt file 1 {file_mode:o}"),
            format!("/b dir {dir_mode:o}"),
            "/b/also dir 755".to_string(),
            format!("/b/k file 7 {file_mode:o}"),
            format!("/b/z.txt file 2 {file_mode:o}"),
            "/empty dir 755".to_string(),
        ]
    );
    let totals = tree.totals();
    assert_eq!((totals.files, totals.directories, totals.file_bytes), (3, 3, 10));
}

#[test]
fn creation_order_does_not_matter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names = ["m", "a", "zz", "b", "Q", "é"];
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    for name in names {
        write(&one.join(name).join("f"), name.as_bytes());
    }
    for name in names.iter().rev() {
        write(&two.join(name).join("f"), name.as_bytes());
    }
    let tree = |src: &Path| {
        let p = partition(&format!(r#""contents": {{"/x": {{"source": "{}"}}}}"#, src.display()));
        listing(&build(&p, Symlinks::Keep).expect("tree"))
    };
    assert_eq!(tree(&one), tree(&two));
}

#[test]
fn store_paths_go_under_the_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("nix/store");
    let path = store.join("7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-hello");
    write(&path.join("bin/hello"), b"#!");
    symlink("hello", path.join("bin/hi")).expect("symlink");
    for (prefix, expected) in [
        ("/nix/store", "/nix/store/7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-hello/bin/hi link hello"),
        ("/", "/7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-hello/bin/hi link hello"),
    ] {
        let p = partition(&format!(r#""storePaths": ["{}"], "nixStorePrefix": "{prefix}""#, path.display()));
        let lines = listing(&build(&p, Symlinks::Keep).expect("tree"));
        assert!(lines.contains(&expected.to_string()), "{lines:?}");
    }
}

#[test]
fn followed_symlinks_must_stay_inside_their_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    write(&src.join("real/file"), b"data");
    write(&dir.path().join("outside"), b"secret");
    symlink("real/file", src.join("inner")).expect("symlink");
    symlink("real", src.join("dirlink")).expect("symlink");
    let p = |src: &Path| partition(&format!(r#""contents": {{"/": {{"source": "{}"}}}}"#, src.display()));
    let lines = listing(&build(&p(&src), Symlinks::Follow).expect("tree"));
    assert!(lines.iter().any(|l| l.starts_with("/inner file 4")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("/dirlink/file file 4")), "{lines:?}");

    symlink("../outside", src.join("escape")).expect("symlink");
    match build(&p(&src), Symlinks::Follow) {
        Err(TreeError::Escapes { link, .. }) => assert_eq!(link, src.join("escape")),
        other => panic!("expected Escapes, got {other:?}"),
    }
    fs::remove_file(src.join("escape")).expect("rm");
    symlink("nowhere", src.join("dangling")).expect("symlink");
    assert!(matches!(build(&p(&src), Symlinks::Follow), Err(TreeError::Dangling { .. })));
    fs::remove_file(src.join("dangling")).expect("rm");
    symlink("..", src.join("real/up")).expect("symlink");
    assert!(matches!(build(&p(&src), Symlinks::Follow), Err(TreeError::Loop { .. })));
    // Kept as symlinks, none of these is a problem.
    assert!(build(&p(&src), Symlinks::Keep).is_ok());
}

#[test]
fn conflicts_and_exclusions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write(&a.join("same"), b"1");
    write(&b.join("same"), b"2");
    write(&b.join("skip/me"), b"3");
    write(&b.join("drop"), b"4");
    let p = partition(&format!(
        r#""contents": {{"/x": {{"source": "{}"}}, "/x/": {{"source": "{}"}}}}"#,
        a.display(),
        b.display()
    ));
    assert!(matches!(build(&p, Symlinks::Keep), Err(TreeError::Conflict { target, .. }) if target == "/x/same"));
    let p = partition(&format!(
        r#""contents": {{"/x": {{"source": "{0}"}}}}, "repartConfig": {{"Type": "esp", "Format": "vfat", "ExcludeFiles": ["{0}/skip"], "ExcludeFilesTarget": "/x/drop"}}"#,
        b.display()
    ));
    let lines = listing(&build(&p, Symlinks::Keep).expect("tree"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].starts_with("/x/same file 1"), "{lines:?}");
}
