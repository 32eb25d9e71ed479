//! Each filesystem's tree, read back by the reference suite's own tools:
//! unsquashfs, fsck.erofs --extract --preserve, debugfs rdump (whose
//! symlinks get their mtime from debugfs stat: rdump cannot set it),
//! mcopy -s -m for vfat (which holds no modes or owners).

use std::path::Path;
use std::process::Command;

use crate::common::listing::{listing, Fields};
use crate::common::run_ok;
use crate::reference;

/// The listing of the filesystem `format` in `image`, extracted to `to`.
pub fn tree_of(format: &str, image: &Path, to: &Path) -> Vec<String> {
    let tool = |name: &str| reference().join(name);
    match format {
        "squashfs" => {
            run_ok(Command::new(tool("unsquashfs")).arg("-q").arg("-d").arg(to).arg(image));
            listing(to, Fields::ALL, &[])
        }
        "erofs" => {
            run_ok(
                Command::new(tool("fsck.erofs"))
                    .arg(format!("--extract={}", to.display()))
                    .arg("--preserve")
                    .arg(image),
            );
            listing(to, Fields::ALL, &[])
        }
        "ext2" | "ext3" | "ext4" => {
            std::fs::create_dir_all(to).expect("mkdir");
            run_ok(Command::new(tool("debugfs")).arg("-R").arg(format!("rdump / {}", to.display())).arg(image));
            let fields = Fields { symlink_mtime: false, ..Fields::ALL };
            let mut lines = listing(to, fields, &["lost+found"]);
            lines.extend(symlink_mtimes(image, &lines));
            lines.sort();
            lines
        }
        "vfat" => {
            std::fs::create_dir_all(to).expect("mkdir");
            let out = crate::common::run(
                Command::new(tool("mcopy")).arg("-i").arg(image).args(["-s", "-m", "-n", "-Q"]).arg("::*").arg(to),
            );
            // An empty volume: mcopy finds nothing to copy.
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() || stderr.contains("\"::*\" not found"), "mcopy: {stderr}");
            listing(to, Fields { mode: false, owner: false, mtime: true, symlink_mtime: false }, &[])
        }
        other => panic!("no tree reader for {other}"),
    }
}

/// `PATH l-mtime=N` for every symlink, from `debugfs stat`.
fn symlink_mtimes(image: &Path, lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.split_once(' ').filter(|(_, rest)| rest.starts_with("l ")).map(|(path, _)| path.to_string()))
        .map(|path| {
            let seconds = crate::common::debugfs_mtime(&reference().join("debugfs"), image, &path);
            format!("{path} l-mtime={seconds}")
        })
        .collect()
}
