//! The `repartConfig` keys that say what goes into a partition's
//! filesystem: `CopyFiles=`, `MakeDirectories=`, `ExcludeFiles=`,
//! `ExcludeFilesTarget=` (each may be repeated: a JSON array) and
//! `Minimize=`. Paths are checked here; the files are read by the tree
//! walker when the image is built.

use crate::error::ProblemKind;
use crate::model::{Content, Minimize, Partition};
use crate::validate::{check_inner_path, existing_path, Checker};
use crate::values::parse_bool;

/// The keys that take several values.
pub fn is_list_key(key: &str) -> bool {
    matches!(key, "CopyFiles" | "ExcludeFiles" | "ExcludeFilesTarget" | "MakeDirectories" | "MakeSymlinks")
}

/// Applies one value of a list key.
pub fn apply_list_value(c: &mut Checker, pointer: &str, key: &str, value: &str, p: &mut Partition) {
    match key {
        "CopyFiles" => p.contents.extend(check_copy_files(c, pointer, value)),
        "MakeDirectories" => {
            // repart.d(5): a whitespace-separated list of absolute paths.
            for dir in value.split_whitespace() {
                p.make_directories.extend(check_inner_path(c, pointer, dir));
            }
        }
        // repart.d(5): an absolute path on the host. A relative one would
        // match no source and be silently ignored.
        "ExcludeFiles" if !value.starts_with('/') => {
            c.problem(pointer, ProblemKind::NotAbsolute { path: value.to_string() });
        }
        "ExcludeFiles" => p.exclude_files.push(std::path::PathBuf::from(value)),
        // repart.d(5): whitespace-separated PATH:TARGET pairs.
        "MakeSymlinks" => {
            for pair in value.split_whitespace() {
                match pair.split_once(':') {
                    Some((path, target)) if !target.is_empty() && !target.contains('\0') => {
                        if let Some(path) = check_inner_path(c, pointer, path) {
                            p.make_symlinks.push((path, target.to_string()));
                        }
                    }
                    _ => c.problem(pointer, ProblemKind::BadMakeSymlinks { value: pair.to_string() }),
                }
            }
        }
        "ExcludeFilesTarget" => p.exclude_files_target.extend(check_inner_path(c, pointer, value)),
        _ => {}
    }
}

/// `CopyFiles=SOURCE[:TARGET]`: the target defaults to the source path.
fn check_copy_files(c: &mut Checker, pointer: &str, value: &str) -> Option<Content> {
    let mut parts = value.splitn(3, ':');
    let source = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or(source);
    if parts.next().is_some() {
        c.problem(pointer, ProblemKind::BadCopyFiles { value: value.to_string() });
        return None;
    }
    let target = check_inner_path(c, pointer, target);
    let source = existing_path(c, pointer, source, |p| std::fs::symlink_metadata(p)).map(|(path, _)| path);
    Some(Content::plain(target?, source?))
}

/// `Minimize=`: `off`, `best`, `guess`, or a boolean (`yes` is `best`).
pub fn parse_minimize(value: &str) -> Option<Minimize> {
    match value {
        "off" => Some(Minimize::Off),
        "best" => Some(Minimize::Best),
        "guess" => Some(Minimize::Guess),
        other => parse_bool(other).map(|on| if on { Minimize::Best } else { Minimize::Off }),
    }
}
