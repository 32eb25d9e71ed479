//! Resolves a compressing partition's `Compression=` and
//! `CompressionLevel=` (and, for squashfs, the image-wide
//! `mkfsOptions.squashfs` words `-comp`, `-Xcompression-level` and `-b`)
//! into the typed compression of its [`Format`]. Each value at fault is
//! reported at its own JSON pointer: an algorithm the format lacks, a level
//! outside the algorithm's range, a block size mksquashfs refuses.
//!
//! The mkfsOptions words override the partition's settings, as they do
//! when systemd-repart appends them to mksquashfs's command line.

use crate::error::ProblemKind;
use crate::format::{ErofsCompression, Format, SquashfsCompression, SquashfsSettings};
use crate::validate::Checker;

/// A value as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub pointer: String,
    pub value: T,
}

/// A partition's compression settings before they are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PendingCompression {
    pub algorithm: Option<At<String>>,
    pub level: Option<At<u32>>,
}

/// What `mkfsOptions.squashfs` says about compression and blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SquashfsMkfs {
    pub algorithm: Option<At<String>>,
    pub level: Option<At<u32>>,
    pub block_size: Option<u32>,
}

const SQUASHFS_ALGORITHMS: &str = "gzip, xz, zstd, lz4";
const EROFS_ALGORITHMS: &str = "lz4, lz4hc, zstd, lzma, deflate";

/// The partition's format with its compression resolved; `format` is
/// returned unchanged when it does not compress.
pub(crate) fn resolve(
    c: &mut Checker,
    partition: &str,
    format: Format,
    pending: &PendingCompression,
    squashfs: &SquashfsMkfs,
) -> Format {
    match format {
        Format::Squashfs(defaults) => {
            let algorithm = squashfs.algorithm.as_ref().or(pending.algorithm.as_ref());
            let level = squashfs.level.as_ref().or(pending.level.as_ref());
            let compression = squashfs_compression(c, partition, algorithm, level);
            let block_size = squashfs.block_size.unwrap_or(defaults.block_size);
            Format::Squashfs(SquashfsSettings { compression: compression.unwrap_or(defaults.compression), block_size })
        }
        Format::Erofs(default) => Format::Erofs(
            erofs_compression(c, partition, pending.algorithm.as_ref(), pending.level.as_ref()).unwrap_or(default),
        ),
        Format::Vfat | Format::Ext(_) | Format::Swap => format,
    }
}

fn squashfs_compression(
    c: &mut Checker,
    partition: &str,
    algorithm: Option<&At<String>>,
    level: Option<&At<u32>>,
) -> Option<SquashfsCompression> {
    type Make = fn(Option<u32>) -> SquashfsCompression;
    let (name, compression, range): (&'static str, Make, Option<(u32, u32)>) =
        match algorithm.map_or("gzip", |a| a.value.as_str()) {
            "gzip" => ("gzip", |level| SquashfsCompression::Gzip { level }, Some((1, 9))),
            "xz" => ("xz", |level| SquashfsCompression::Xz { level }, Some((0, 9))),
            "zstd" => ("zstd", |level| SquashfsCompression::Zstd { level }, Some((1, 22))),
            "lz4" => ("lz4", |_| SquashfsCompression::Lz4, None),
            other => {
                let pointer = algorithm.map(|a| a.pointer.clone()).unwrap_or_default();
                let kind = not_for_format(partition, "squashfs", other, SQUASHFS_ALGORITHMS);
                c.problem(pointer, kind);
                return None;
            }
        };
    let level = checked_level(c, partition, name, level, range)?;
    Some(compression(level))
}

/// erofs: `lz4`, or `lz4hc` with an optional level; `Compression=lz4` with
/// a level means lz4hc at that level, since plain lz4 has none.
fn erofs_compression(
    c: &mut Checker,
    partition: &str,
    algorithm: Option<&At<String>>,
    level: Option<&At<u32>>,
) -> Option<ErofsCompression> {
    let Some(algorithm) = algorithm else {
        if let Some(level) = level {
            let kind = ProblemKind::LevelWithoutCompression { partition: partition.to_string() };
            c.problem(level.pointer.clone(), kind);
            return None;
        }
        return Some(ErofsCompression::Uncompressed);
    };
    match algorithm.value.as_str() {
        "lz4" | "lz4hc" => {
            let level = checked_level(c, partition, "lz4hc", level, Some((0, 12)))?;
            Some(match (algorithm.value.as_str(), level) {
                ("lz4", None) => ErofsCompression::Lz4,
                (_, level) => ErofsCompression::Lz4hc { level },
            })
        }
        "zstd" => {
            checked_level(c, partition, "zstd", level, Some((1, 22))).map(|level| ErofsCompression::Zstd { level })
        }
        // mkfs.erofs: 0-9, or 100-109 for the extreme presets.
        "lzma" => {
            let extreme = level.is_some_and(|l| (100..=109).contains(&l.value));
            let range = if extreme { (100, 109) } else { (0, 9) };
            checked_level(c, partition, "lzma", level, Some(range)).map(|level| ErofsCompression::Lzma { level })
        }
        "deflate" => {
            checked_level(c, partition, "deflate", level, Some((0, 9))).map(|level| ErofsCompression::Deflate { level })
        }
        other => {
            c.problem(algorithm.pointer.clone(), not_for_format(partition, "erofs", other, EROFS_ALGORITHMS));
            None
        }
    }
}

/// `Some(level)` when it is in range, `Some(None)` when there is none.
fn checked_level(
    c: &mut Checker,
    partition: &str,
    algorithm: &'static str,
    level: Option<&At<u32>>,
    range: Option<(u32, u32)>,
) -> Option<Option<u32>> {
    let Some(level) = level else { return Some(None) };
    let partition = partition.to_string();
    match range {
        Some((min, max)) if (min..=max).contains(&level.value) => Some(Some(level.value)),
        Some((min, max)) => {
            let kind = ProblemKind::FilesystemLevelRange { partition, algorithm, level: level.value, min, max };
            c.problem(level.pointer.clone(), kind);
            None
        }
        None => {
            c.problem(level.pointer.clone(), ProblemKind::LevelNotApplicable { partition, algorithm });
            None
        }
    }
}

fn not_for_format(partition: &str, format: &'static str, value: &str, known: &'static str) -> ProblemKind {
    ProblemKind::CompressionNotForFormat { partition: partition.to_string(), format, value: value.to_string(), known }
}
