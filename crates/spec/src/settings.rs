//! A partition's `repartConfig`: systemd-repart's `[Partition]` keys, with
//! their values parsed and checked as repart.d(5) describes them.
//!
//! Every key either is implemented, or is named in an error: a known
//! systemd-repart key that nix-repart does not implement yet, or a key that
//! systemd-repart does not have. Nothing is silently ignored.

use crate::compression::{At, PendingCompression};
use crate::error::ProblemKind;
use crate::file_settings::{apply_list_value, is_list_key, parse_minimize};
use crate::format::{Format, FORMAT_NAMES};
use crate::model::{CopyBlocks, Minimize, Partition};
use crate::raw::{pointer_token, RawSetting};
use crate::types::{Architecture, PartitionType};
use crate::validate::{existing_path, parse_uuid, Checker};
use crate::values::{parse_bool, parse_size, Bytes};

/// systemd-repart `[Partition]` keys that nix-repart does not implement yet.
const NOT_IMPLEMENTED: &[&str] =
    &["Subvolumes", "DefaultSubvolume", "EncryptedVolume", "FileSystemSectorSize", "SupplementFor", "Integrity"];

/// The longest `SplitName=` once its specifiers are expanded (at most).
const MAX_SPLIT_NAME_BYTES: usize = 160;

/// The weight limit of systemd-repart's `config_parse_weight()`.
const MAX_WEIGHT: u64 = 1000 * 1000;

/// The longest GPT partition name, in UTF-16 code units.
pub const MAX_LABEL_UTF16: usize = 36;

pub(crate) struct Settings {
    pub partition_type: PartitionType,
    pub partition: Partition,
    /// Resolved into the format once `mkfsOptions` are read.
    pub compression: PendingCompression,
}

/// Where a setting lives, for error messages.
struct Here<'a> {
    pointer: String,
    partition: &'a str,
    key: &'a str,
}

/// Parses a partition's settings; `None` when its `Type=` is unusable.
pub(crate) fn check(
    c: &mut Checker,
    pointer: &str,
    id: &str,
    raw: &[RawSetting],
    arch: Architecture,
) -> Option<Settings> {
    let config = format!("{pointer}/repartConfig");
    let mut p = empty_partition(id);
    let mut compression = PendingCompression::default();
    let mut partition_type = None;
    let mut type_seen = false;
    for setting in raw {
        let here =
            Here { pointer: format!("{config}/{}", pointer_token(&setting.key)), partition: id, key: &setting.key };
        if is_list_key(&setting.key) {
            for value in &setting.values {
                apply_list_value(c, &here.pointer, &setting.key, value, &mut p);
            }
            continue;
        }
        let Some(value) = single_value(c, &here, setting) else {
            continue;
        };
        if setting.key == "Type" {
            type_seen = true;
            partition_type = PartitionType::resolve(value, arch);
            match partition_type {
                None => c.problem(&here.pointer, ProblemKind::UnknownType { value: value.to_string() }),
                Some(t) if t.guid.is_nil() => {
                    c.problem(&here.pointer, ProblemKind::UnusedType { partition: id.to_string() });
                    partition_type = None;
                }
                Some(_) => {}
            }
        } else {
            apply(c, &here, value, &mut p, &mut compression, arch);
        }
    }
    if !type_seen {
        c.problem(format!("{config}/Type"), ProblemKind::Missing);
    }
    check_ranges(c, &config, &p);
    check_compression_applies(c, &p, &compression);
    if p.copy_blocks.is_some() && p.format.is_some() {
        c.problem(format!("{config}/CopyBlocks"), ProblemKind::CopyBlocksWithFormat { partition: id.to_string() });
    }
    Some(Settings { partition_type: partition_type?, partition: p, compression })
}

fn empty_partition(id: &str) -> Partition {
    Partition {
        id: id.to_string(),
        spec_index: 0,
        partition_type: PartitionType::from_guid(uuid::Uuid::nil()),
        label: None,
        uuid: None,
        weight: 1000,
        padding_weight: 0,
        size_min: None,
        size_max: None,
        padding_min: None,
        padding_max: None,
        read_only: None,
        no_auto: None,
        grow_file_system: None,
        flags: 0,
        copy_blocks: None,
        format: None,
        split_name: None,
        minimize: Minimize::Off,
        make_directories: Vec::new(),
        make_symlinks: Vec::new(),
        copied_empty: Vec::new(),
        priority: 0,
        exclude_files: Vec::new(),
        exclude_files_target: Vec::new(),
        contents: Vec::new(),
        store_paths: Vec::new(),
        nix_store_prefix: String::new(),
        verity: Default::default(),
        from_image: None,
        nix_database: None,
        systemd_boot: None,
        free_space: Bytes(0),
    }
}

/// The value of a single-valued key; lists are refused, since repart would
/// silently keep only the last element.
fn single_value<'s>(c: &mut Checker, here: &Here, setting: &'s RawSetting) -> Option<&'s str> {
    if setting.is_list && !is_list_key(&setting.key) {
        let kind = if is_known_key(&setting.key) {
            ProblemKind::NotAList { partition: here.partition.to_string(), key: setting.key.clone() }
        } else {
            unknown_key(here)
        };
        c.problem(&here.pointer, kind);
        return None;
    }
    if !is_known_key(&setting.key) {
        c.problem(&here.pointer, unknown_key(here));
        return None;
    }
    if NOT_IMPLEMENTED.contains(&setting.key.as_str()) {
        c.problem(&here.pointer, not_implemented(here));
        return None;
    }
    setting.values.last().map(String::as_str)
}

fn is_known_key(key: &str) -> bool {
    const IMPLEMENTED: &[&str] = &[
        "Type",
        "Label",
        "UUID",
        "Weight",
        "PaddingWeight",
        "SizeMinBytes",
        "SizeMaxBytes",
        "PaddingMinBytes",
        "PaddingMaxBytes",
        "ReadOnly",
        "NoAuto",
        "GrowFileSystem",
        "Flags",
        "CopyBlocks",
        "Format",
        "SplitName",
        "Minimize",
        "CopyFiles",
        "MakeDirectories",
        "ExcludeFiles",
        "ExcludeFilesTarget",
        "Compression",
        "CompressionLevel",
        "MakeSymlinks",
        "Priority",
        "FactoryReset",
        "MountPoint",
        "Encrypt",
        "AddValidateFS",
        "Verity",
        "VerityMatchKey",
        "VerityDataBlockSizeBytes",
        "VerityHashBlockSizeBytes",
    ];
    IMPLEMENTED.contains(&key) || NOT_IMPLEMENTED.contains(&key)
}

fn not_implemented(here: &Here) -> ProblemKind {
    ProblemKind::NotImplemented { partition: here.partition.to_string(), key: here.key.to_string() }
}

fn unknown_key(here: &Here) -> ProblemKind {
    ProblemKind::UnknownSetting { partition: here.partition.to_string(), key: here.key.to_string() }
}

fn apply(
    c: &mut Checker,
    here: &Here,
    value: &str,
    p: &mut Partition,
    compression: &mut PendingCompression,
    arch: Architecture,
) {
    match here.key {
        "Label" => p.label = check_label(c, here, value, arch),
        "UUID" => p.uuid = parse_or(c, here, value, parse_uuid, |v| ProblemKind::NotAUuid { value: v }),
        "Weight" => p.weight = check_weight(c, here, value).unwrap_or(p.weight),
        "PaddingWeight" => p.padding_weight = check_weight(c, here, value).unwrap_or(p.padding_weight),
        // systemd-repart's `config_parse_size4096()` rounds minimums *down*
        // and maximums *up* to 4096 (seen with systemd-repart 252 here:
        // "Rounded SizeMinBytes= size 12000 → 8192"); the grain rounding of
        // the planner comes on top.
        "SizeMinBytes" => p.size_min = check_size(c, here, value).map(|b| b.round_down(Bytes(4096))),
        "SizeMaxBytes" => p.size_max = check_size(c, here, value).map(|b| b.round_up(Bytes(4096))),
        "PaddingMinBytes" => p.padding_min = check_size(c, here, value).map(|b| b.round_down(Bytes(4096))),
        "PaddingMaxBytes" => p.padding_max = check_size(c, here, value).map(|b| b.round_up(Bytes(4096))),
        "ReadOnly" => p.read_only = check_bool(c, here, value),
        // Which partitions systemd-repart drops first when the disk is too
        // small; nix-repart never drops one (it reports the size needed).
        "Priority" => {
            let parse = |v: &str| v.parse::<i32>().ok().filter(|n| (-1000..=1000).contains(n));
            let value =
                parse_or(c, here, value, parse, |v| ProblemKind::NotInRange { value: v, min: -1000, max: 1000 });
            p.priority = value.unwrap_or(0);
        }
        // Only acted on by a factory reset of a running system.
        "FactoryReset" => {
            check_bool(c, here, value);
        }
        // Only written to an fstab with --generate-fstab=, which nix-repart
        // does not produce: checked, then nothing.
        "MountPoint" => check_mount_point(c, here, value),
        "Encrypt" => match value {
            "off" => {}
            _ if parse_bool(value) == Some(false) => {}
            _ => c.problem(&here.pointer, not_implemented(here)),
        },
        // systemd-repart 258+ writes user.validatefs.* xattrs on the root
        // directory; nix-repart does not yet: `no` is what it does.
        "AddValidateFS" => match parse_bool(value) {
            Some(false) => {}
            Some(true) => c.problem(&here.pointer, not_implemented(here)),
            None => {
                check_bool(c, here, value);
            }
        },
        "Verity" | "VerityMatchKey" | "VerityDataBlockSizeBytes" | "VerityHashBlockSizeBytes" => {
            crate::verity::apply(c, &here.pointer, here.key, value, p);
        }
        "NoAuto" => p.no_auto = check_bool(c, here, value),
        "GrowFileSystem" => p.grow_file_system = check_bool(c, here, value),
        "Flags" => {
            let max = u64::MAX;
            p.flags =
                parse_or(c, here, value, parse_c_unsigned, |v| ProblemKind::NotANumber { value: v, max }).unwrap_or(0);
        }
        "CopyBlocks" => p.copy_blocks = check_copy_blocks(c, here, value),
        "Format" => p.format = check_format(c, here, value),
        "SplitName" => p.split_name = check_split_name(c, here, value),
        "Compression" => compression.algorithm = Some(At { pointer: here.pointer.clone(), value: value.to_string() }),
        "CompressionLevel" => {
            let max = u64::from(u32::MAX);
            let parse = |v: &str| v.parse::<u32>().ok();
            let level = parse_or(c, here, value, parse, |v| ProblemKind::NotANumber { value: v, max });
            compression.level = level.map(|value| At { pointer: here.pointer.clone(), value });
        }
        "Minimize" => {
            let minimize = parse_or(c, here, value, parse_minimize, |v| ProblemKind::NotAMinimize { value: v });
            p.minimize = minimize.unwrap_or_default();
        }
        _ => c.problem(&here.pointer, not_implemented(here)),
    }
}

fn parse_or<T>(
    c: &mut Checker,
    here: &Here,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    problem: impl FnOnce(String) -> ProblemKind,
) -> Option<T> {
    let parsed = parse(value);
    if parsed.is_none() {
        c.problem(&here.pointer, problem(value.to_string()));
    }
    parsed
}

/// An unsigned number as C's `strtoull(s, NULL, 0)` reads it (systemd's
/// `safe_atou64()`): `0x` hex, a leading `0` octal, otherwise decimal.
fn parse_c_unsigned(value: &str) -> Option<u64> {
    let v = value.trim();
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if v.len() > 1 && v.starts_with('0') {
        u64::from_str_radix(&v[1..], 8).ok()
    } else {
        v.parse().ok()
    }
}

fn check_size(c: &mut Checker, here: &Here, value: &str) -> Option<Bytes> {
    let size = parse_or(c, here, value, parse_size, |v| ProblemKind::NotASize { value: v })?;
    if size > Bytes::MAX_SIZE {
        c.problem(&here.pointer, ProblemKind::SizeTooLarge { value: value.to_string(), max: Bytes::MAX_SIZE });
        return None;
    }
    Some(size)
}

fn check_bool(c: &mut Checker, here: &Here, value: &str) -> Option<bool> {
    parse_or(c, here, value, parse_bool, |v| ProblemKind::NotABool { value: v })
}

fn check_weight(c: &mut Checker, here: &Here, value: &str) -> Option<u32> {
    let parse = |v: &str| v.parse::<u64>().ok().filter(|w| *w <= MAX_WEIGHT).map(|w| w as u32);
    parse_or(c, here, value, parse, |v| ProblemKind::NotANumber { value: v, max: MAX_WEIGHT })
}

/// `Label=` with its specifiers resolved, as systemd-repart resolves them:
/// `%a` (the architecture) and `%%`; `None` for any other, which would
/// come from the build host (`%w` its OS version, `%H` its hostname, `%m`
/// its machine id, `%T` its TMPDIR, ...).
fn expand_label(value: &str, arch: Architecture) -> Option<String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('a') => out.push_str(arch.name()),
            Some('%') => out.push('%'),
            _ => return None,
        }
    }
    Some(out)
}

fn check_label(c: &mut Checker, here: &Here, value: &str, arch: Architecture) -> Option<String> {
    let units = value.encode_utf16().count();
    if units > MAX_LABEL_UTF16 {
        c.problem(&here.pointer, ProblemKind::LabelTooLong { label: value.to_string(), units });
        return None;
    }
    if let Some(outside) = value.chars().find(|ch| u32::from(*ch) > 0xFFFF) {
        // GPT names are UCS-2 (UEFI CHAR16); libfdisk, under systemd-repart
        // 252, writes an empty name for such a label (seen here).
        c.problem(&here.pointer, ProblemKind::LabelNotUcs2 { label: value.to_string(), character: outside });
        return None;
    }
    let Some(value) = expand_label(value, arch) else {
        c.problem(&here.pointer, ProblemKind::LabelSpecifier { label: value.to_string() });
        return None;
    };
    let value = value.as_str();
    if value.encode_utf16().count() > MAX_LABEL_UTF16 {
        let units = value.encode_utf16().count();
        c.problem(&here.pointer, ProblemKind::LabelTooLong { label: value.to_string(), units });
        return None;
    }
    if value.contains('\0') {
        c.problem(&here.pointer, ProblemKind::LabelNul { label: value.to_string() });
        return None;
    }
    Some(value.to_string())
}

/// `SplitName=`: `-` turns split output off for the partition; otherwise a
/// file name part with the specifiers systemd-repart (257, checked here)
/// resolves from the image alone: `%t` (type name), `%T` (type UUID without
/// dashes), `%U` (partition UUID without dashes), `%n` (partition number,
/// from 0), `%a` (architecture), `%%`. The host's (`%w`, `%H`, `%m`, ...)
/// are refused.
fn check_split_name(c: &mut Checker, here: &Here, value: &str) -> Option<String> {
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        if ch == '%' {
            let spec = chars.next();
            if !matches!(spec, Some('t' | 'T' | 'U' | 'n' | 'a' | '%')) {
                let specifier = spec.map_or("%".to_string(), |s| format!("%{s}"));
                c.problem(&here.pointer, ProblemKind::SplitSpecifier { value: value.to_string(), specifier });
                return None;
            }
        }
    }
    // %t, %T and %U expand to at most 36 bytes (a type name or UUID),
    // %n to 3, %a to 11.
    let count = |s: &str| value.matches(s).count();
    // %t expands to at most 27 bytes, %T and %U to 32, %n to 3, %a to 11;
    // the planner checks the split file's whole name.
    let expanded = value.len() + count("%t") * 25 + (count("%T") + count("%U")) * 30 + count("%n") + count("%a") * 9;
    if expanded > MAX_SPLIT_NAME_BYTES {
        let max = MAX_SPLIT_NAME_BYTES;
        c.problem(&here.pointer, ProblemKind::SplitNameTooLong { value: value.to_string(), bytes: expanded, max });
        return None;
    }
    if value.is_empty() || value.contains(['/', '\0']) {
        c.problem(&here.pointer, ProblemKind::BadFileName { value: value.to_string() });
        return None;
    }
    Some(value.to_string())
}

/// `MountPoint=PATH[:OPTIONS]`: an absolute path.
fn check_mount_point(c: &mut Checker, here: &Here, value: &str) {
    let path = value.split_once(':').map_or(value, |(path, _)| path);
    if !path.starts_with('/') {
        c.problem(&here.pointer, ProblemKind::NotAbsolute { path: path.to_string() });
    }
}

/// `Format=`, with every compression setting at its default until
/// `crate::compression` resolves them.
fn check_format(c: &mut Checker, here: &Here, value: &str) -> Option<Format> {
    if value.is_empty() {
        return None;
    }
    let format = Format::from_name(value);
    if format.is_none() {
        let partition = here.partition.to_string();
        let (last, rest) = FORMAT_NAMES.split_last().unwrap_or((&"", &[]));
        let known = format!("{} and {last}", rest.join(", "));
        c.problem(&here.pointer, ProblemKind::FormatNotImplemented { partition, format: value.to_string(), known });
    }
    format
}

fn check_copy_blocks(c: &mut Checker, here: &Here, value: &str) -> Option<CopyBlocks> {
    match value {
        "" => return None,
        "auto" => {
            c.problem(&here.pointer, ProblemKind::CopyBlocksAuto { partition: here.partition.to_string() });
            return None;
        }
        _ => {}
    }
    let (source, meta) = existing_path(c, &here.pointer, value, |p| std::fs::metadata(p))?;
    match block_source_size(&source, &meta) {
        Some(size) => Some(CopyBlocks { source, offset: Bytes(0), size }),
        None => {
            c.problem(&here.pointer, ProblemKind::NotAFile { path: value.to_string() });
            None
        }
    }
}

/// The size of a regular file or block device, or `None` for other kinds.
fn block_source_size(path: &std::path::Path, meta: &std::fs::Metadata) -> Option<Bytes> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileTypeExt;
    if meta.is_file() {
        return Some(Bytes(meta.len()));
    }
    if meta.file_type().is_block_device() {
        let mut file = std::fs::File::open(path).ok()?;
        return file.seek(SeekFrom::End(0)).ok().map(Bytes);
    }
    None
}

/// `Compression=` and `CompressionLevel=` only mean something to the
/// compressing filesystems; elsewhere they would be silently ignored.
fn check_compression_applies(c: &mut Checker, p: &Partition, compression: &PendingCompression) {
    if p.format.is_some_and(Format::compresses) {
        return;
    }
    let shown = p.format.map_or("(none)", Format::name);
    let level = compression.level.as_ref().map(|l| &l.pointer);
    for (key, at) in [("Compression", compression.algorithm.as_ref().map(|a| &a.pointer)), ("CompressionLevel", level)]
    {
        if let Some(pointer) = at {
            let (partition, format) = (p.id.clone(), shown.to_string());
            c.problem(pointer.clone(), ProblemKind::CompressionWithoutCompressor { partition, key, format });
        }
    }
}

fn check_ranges(c: &mut Checker, config: &str, p: &Partition) {
    let partition = p.id.clone();
    if let (Some(min), Some(max)) = (p.size_min, p.size_max) {
        if min > max {
            c.problem(
                format!("{config}/SizeMinBytes"),
                ProblemKind::SizeMinAboveMax { partition: partition.clone(), min, max },
            );
        }
    }
    if let (Some(min), Some(max)) = (p.padding_min, p.padding_max) {
        if min > max {
            c.problem(format!("{config}/PaddingMinBytes"), ProblemKind::PaddingMinAboveMax { partition, min, max });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_c_unsigned;

    #[test]
    fn flags_read_like_strtoull_base_0() {
        assert_eq!(parse_c_unsigned("4611686018427387904"), Some(1 << 62));
        assert_eq!(parse_c_unsigned("0x4000000000000000"), Some(1 << 62));
        assert_eq!(parse_c_unsigned("010"), Some(8));
        assert_eq!(parse_c_unsigned("0"), Some(0));
        assert_eq!(parse_c_unsigned("08"), None);
        assert_eq!(parse_c_unsigned("-1"), None);
    }
}
