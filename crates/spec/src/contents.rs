//! The `contents` entries of a partition: target, source, and the
//! `mode`/`user`/`group` make-disk-image's `contents` take.
//!
//! `mode` is octal permission bits (`"0644"`, `"4755"`); symbolic modes
//! (`u+x`) are refused. `user` and `group` are numeric ids, given together
//! or not at all (make-disk-image asserts the same); the Nix functions turn
//! names into ids from the NixOS configuration, since the image's
//! `/etc/passwd` does not exist until the system is activated. Both apply
//! to the target itself, not to what a directory holds, as `chmod` and
//! `chown` without `-R` do. Formats that cannot store them refuse them here
//! (FAT has no owners or modes; mkfs.erofs 1.5 gives every file one
//! owner). Applying them to the tree is the tree crate's job.

use crate::error::ProblemKind;
use crate::format::Format;
use crate::model::{Content, Owner};
use crate::raw::{pointer_token, RawContent};
use crate::validate::{check_inner_path, existing_path, Checker};

/// Checks `contents`, in key order.
pub(crate) fn check(
    c: &mut Checker,
    pointer: &str,
    partition: &str,
    format: Option<Format>,
    contents: &[RawContent],
) -> Vec<Content> {
    let mut checked = Vec::new();
    for raw in contents {
        let here = format!("{pointer}/contents/{}", pointer_token(&raw.target));
        let target = check_inner_path(c, &here, &raw.target);
        let source = raw.source.as_deref().and_then(|s| {
            existing_path(c, &format!("{here}/source"), s, |p| std::fs::symlink_metadata(p)).map(|(path, _)| path)
        });
        let mode = raw.mode.as_deref().and_then(|text| check_mode(c, &format!("{here}/mode"), text));
        let owner = check_owner(c, &here, partition, raw);
        if mode.is_some() || owner.is_some() {
            check_format(c, &here, partition, format, owner);
        }
        if let (Some(target), Some(source)) = (target, source) {
            checked.push(Content { target, source, mode, owner });
        }
    }
    checked
}

/// Octal permission bits, at most `0o7777`.
fn check_mode(c: &mut Checker, pointer: &str, text: &str) -> Option<u32> {
    let digits = text.trim_start_matches('0');
    let octal = !text.is_empty() && text.len() <= 6 && text.bytes().all(|b| (b'0'..=b'7').contains(&b));
    match u32::from_str_radix(if digits.is_empty() { "0" } else { digits }, 8) {
        Ok(mode) if octal && mode <= 0o7777 => Some(mode),
        _ => {
            c.problem(pointer, ProblemKind::NotAMode { value: text.to_string() });
            None
        }
    }
}

fn check_owner(c: &mut Checker, here: &str, partition: &str, raw: &RawContent) -> Option<Owner> {
    let id = |c: &mut Checker, key: &str, value: u64| match u32::try_from(value) {
        // (uid_t)-1 means "unchanged" to chown(2); no file can have it.
        Ok(id) if id != u32::MAX => Some(id),
        _ => {
            c.problem(format!("{here}/{key}"), ProblemKind::IdTooLarge { value });
            None
        }
    };
    match (raw.user, raw.group) {
        (None, None) => None,
        (Some(user), Some(group)) => Some(Owner { uid: id(c, "user", user)?, gid: id(c, "group", group)? }),
        (user, _) => {
            let (given, missing) = if user.is_some() { ("user", "group") } else { ("group", "user") };
            let kind = ProblemKind::OwnerHalf { partition: partition.to_string(), given, missing };
            c.problem(format!("{here}/{given}"), kind);
            None
        }
    }
}

fn check_format(c: &mut Checker, here: &str, partition: &str, format: Option<Format>, owner: Option<Owner>) {
    let why = match format {
        Some(Format::Vfat) => "FAT stores no owners or permission bits",
        Some(Format::Erofs(_)) if owner.is_some_and(|o| o != Owner::default()) => {
            "mkfs.erofs gives every file the same owner (root)"
        }
        _ => return,
    };
    let format = format.map(|f| f.name()).unwrap_or_default();
    let kind = ProblemKind::AttributesOnFormat { partition: partition.to_string(), format, why };
    c.problem(here, kind);
}
