//! `Format=` and the compression of the compressing filesystems, as types:
//! a [`Format`] carries everything its writer needs to know about how the
//! filesystem is encoded (the ext variant, the squashfs compressor, level
//! and block size, the erofs compressor). Names are parsed here once;
//! every other crate matches on these enums.
//!
//! Which compressions and levels each format takes is decided here too,
//! with the JSON pointer of the value at fault (see `compression.rs`).
//! This module does not know how a filesystem is written.

use serde::{Serialize, Serializer};

/// The filesystem of a partition (`Format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Vfat,
    Ext(ExtKind),
    Squashfs(SquashfsSettings),
    Erofs(ErofsCompression),
    Swap,
}

/// The ext variants, all made by mke2fs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtKind {
    Ext2,
    Ext3,
    Ext4,
}

impl ExtKind {
    pub fn name(self) -> &'static str {
        match self {
            ExtKind::Ext2 => "ext2",
            ExtKind::Ext3 => "ext3",
            ExtKind::Ext4 => "ext4",
        }
    }
}

/// How a squashfs filesystem is compressed and blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashfsSettings {
    pub compression: SquashfsCompression,
    /// The data block size, a power of two from 4 KiB to 1 MiB.
    pub block_size: u32,
}

/// mksquashfs's default block size.
pub const SQUASHFS_DEFAULT_BLOCK_SIZE: u32 = 128 * 1024;

impl Default for SquashfsSettings {
    /// mksquashfs's defaults: gzip at its default level, 128 KiB blocks.
    fn default() -> SquashfsSettings {
        SquashfsSettings {
            compression: SquashfsCompression::Gzip { level: None },
            block_size: SQUASHFS_DEFAULT_BLOCK_SIZE,
        }
    }
}

/// squashfs compressors; `level: None` is the compressor's default, which
/// mksquashfs does not record in the superblock's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SquashfsCompression {
    Gzip { level: Option<u32> },
    Xz { level: Option<u32> },
    Zstd { level: Option<u32> },
    Lz4,
}

impl SquashfsCompression {
    pub fn name(self) -> &'static str {
        match self {
            SquashfsCompression::Gzip { .. } => "gzip",
            SquashfsCompression::Xz { .. } => "xz",
            SquashfsCompression::Zstd { .. } => "zstd",
            SquashfsCompression::Lz4 => "lz4",
        }
    }

    /// The level, if one was asked for.
    pub fn level(self) -> Option<u32> {
        match self {
            SquashfsCompression::Gzip { level }
            | SquashfsCompression::Xz { level }
            | SquashfsCompression::Zstd { level } => level,
            SquashfsCompression::Lz4 => None,
        }
    }
}

/// erofs compressors (`mkfs.erofs -z`). zstd, lzma and deflate need
/// erofs-utils 1.8 (nixpkgs has it; Debian 12's 1.5 has lz4 and lz4hc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErofsCompression {
    /// mkfs.erofs's default: no compression.
    Uncompressed,
    Lz4,
    Lz4hc {
        level: Option<u32>,
    },
    Zstd {
        level: Option<u32>,
    },
    Lzma {
        level: Option<u32>,
    },
    Deflate {
        level: Option<u32>,
    },
}

impl ErofsCompression {
    /// The `-z` argument, if any.
    pub fn mkfs_argument(self) -> Option<String> {
        match self {
            ErofsCompression::Uncompressed => None,
            ErofsCompression::Lz4 => Some("lz4".to_string()),
            ErofsCompression::Lz4hc { level: None } => Some("lz4hc".to_string()),
            // The spelling erofs-utils 1.5 takes too.
            ErofsCompression::Lz4hc { level: Some(level) } => Some(format!("lz4hc,{level}")),
            // erofs-utils 1.8's spelling, as systemd-repart passes it.
            ErofsCompression::Zstd { level } => Some(with_level("zstd", level)),
            ErofsCompression::Lzma { level } => Some(with_level("lzma", level)),
            ErofsCompression::Deflate { level } => Some(with_level("deflate", level)),
        }
    }
}

fn with_level(name: &str, level: Option<u32>) -> String {
    match level {
        Some(level) => format!("{name},level={level}"),
        None => name.to_string(),
    }
}

impl Format {
    /// `Format=` values nix-repart writes, with every setting at its default.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "vfat" => Format::Vfat,
            "ext2" => Format::Ext(ExtKind::Ext2),
            "ext3" => Format::Ext(ExtKind::Ext3),
            "ext4" => Format::Ext(ExtKind::Ext4),
            "squashfs" => Format::Squashfs(SquashfsSettings::default()),
            "erofs" => Format::Erofs(ErofsCompression::Uncompressed),
            "swap" => Format::Swap,
            _ => return None,
        })
    }

    /// The `Format=` value, also the key of its `mkfsOptions`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Vfat => "vfat",
            Format::Ext(kind) => kind.name(),
            Format::Squashfs(_) => "squashfs",
            Format::Erofs(_) => "erofs",
            Format::Swap => "swap",
        }
    }

    /// Whether `Compression=`/`CompressionLevel=` mean anything to it.
    pub fn compresses(self) -> bool {
        match self {
            Format::Squashfs(_) | Format::Erofs(_) => true,
            Format::Vfat | Format::Ext(_) | Format::Swap => false,
        }
    }

    /// Whether the filesystem is read-only by construction.
    pub fn is_read_only(self) -> bool {
        match self {
            Format::Squashfs(_) | Format::Erofs(_) => true,
            Format::Vfat | Format::Ext(_) | Format::Swap => false,
        }
    }
}

/// Every `Format=` value nix-repart writes, in the order docs list them.
pub const FORMAT_NAMES: &[&str] = &["vfat", "squashfs", "ext2", "ext3", "ext4", "erofs", "swap"];

impl Serialize for Format {
    /// As its `Format=` name, the way systemd-repart spells it.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for name in FORMAT_NAMES {
            let format = Format::from_name(name).unwrap_or_else(|| panic!("{name} not parsed"));
            assert_eq!(format.name(), *name);
        }
        assert_eq!(Format::from_name("btrfs"), None);
        assert_eq!(Format::from_name("Ext4"), None);
    }

    #[test]
    fn erofs_arguments_are_mkfs_erofs_spellings() {
        assert_eq!(ErofsCompression::Uncompressed.mkfs_argument(), None);
        assert_eq!(ErofsCompression::Lz4.mkfs_argument().as_deref(), Some("lz4"));
        assert_eq!(ErofsCompression::Lz4hc { level: Some(12) }.mkfs_argument().as_deref(), Some("lz4hc,12"));
    }
}
