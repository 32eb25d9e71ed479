//! The validated spec: every value parsed, every cross-field rule checked,
//! every source path seen to exist. This is what the planner and writers
//! consume; nothing here can be malformed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use uuid::Uuid;

use crate::format::Format;
use crate::types::{Architecture, PartitionType};
use crate::values::Bytes;

/// The nixpkgs `image.repart.seed` default, used when a spec has no seed.
pub const DEFAULT_SEED: &str = "0867da16-f251-457d-a9e8-c31f9a3c220b";

/// The default `nixStorePrefix`.
pub const DEFAULT_STORE_PREFIX: &str = "/nix/store";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    pub image_version: Option<String>,
    pub seed: Uuid,
    /// `"seed": "random"` (nixpkgs' `seed = null` or `"random"`): the seed
    /// was drawn for this build, so its UUIDs differ on every build.
    pub random_seed: bool,
    pub architecture: Architecture,
    pub sector_size: SectorSize,
    pub image_size: ImageSize,
    pub split: bool,
    /// How the finished image (and split files) are compressed, if at all.
    pub compression: Option<ImageCompression>,
    /// `format`: raw (default), qcow2, qcow2-compressed, vdi or vpc.
    pub format: DiskFormat,
    /// `partitionTable`: gpt (default), hybrid, mbr or none.
    pub partition_table: PartitionTable,
    /// `extWriter`: what writes ext4 filesystems.
    pub ext_writer: ExtWriter,
    /// Extra mkfs arguments per filesystem, one word per element (nixpkgs'
    /// `"-S 512"` style elements are split on whitespace, as systemd-repart
    /// splits `SYSTEMD_REPART_MKFS_OPTIONS_<FS>`).
    /// squashfs options are not here: they are part of each squashfs
    /// partition's [`Format`].
    pub mkfs_options: BTreeMap<String, Vec<String>>,
    /// Sorted by id, the order in which systemd-repart reads `<id>.conf`.
    pub partitions: Vec<Partition>,
}

impl Spec {
    /// `<name>[_<imageVersion>]`, the base of every output file name.
    pub fn base_name(&self) -> String {
        match &self.image_version {
            Some(version) => format!("{}_{}", self.name, version),
            None => self.name.clone(),
        }
    }

    /// The extra words for the tool that makes `format`.
    pub fn mkfs_options_for(&self, format: Format) -> &[String] {
        self.mkfs_options.get(format.name()).map_or(&[], Vec::as_slice)
    }
}

/// Compression of the finished image: `.raw.zst` (plain or seekable) or
/// `.raw.xz`, as
/// nixpkgs' `image.repart.compression` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageCompression {
    pub algorithm: ImageCompressionAlgorithm,
    pub level: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageCompressionAlgorithm {
    Zstd,
    Xz,
    /// The zstd seekable format: independent frames and a seek table, as
    /// nixpkgs writes it with `zeekstd --frame-size 2M`.
    #[serde(rename = "zstd-seekable")]
    ZstdSeekable,
}

impl ImageCompressionAlgorithm {
    /// The file name suffix after `.raw`.
    pub fn suffix(self) -> &'static str {
        match self {
            ImageCompressionAlgorithm::Zstd | ImageCompressionAlgorithm::ZstdSeekable => ".zst",
            ImageCompressionAlgorithm::Xz => ".xz",
        }
    }

    /// The levels the algorithm takes (zstd without `--ultra`, xz presets).
    pub fn levels(self) -> std::ops::RangeInclusive<u32> {
        match self {
            ImageCompressionAlgorithm::Zstd | ImageCompressionAlgorithm::ZstdSeekable => 1..=19,
            ImageCompressionAlgorithm::Xz => 0..=9,
        }
    }
}

/// The disk format of the image file: raw, or a VM disk format written
/// from the raw image's allocated extents (make-disk-image's `format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum DiskFormat {
    #[default]
    #[serde(rename = "raw")]
    Raw,
    #[serde(rename = "qcow2")]
    Qcow2,
    /// qcow2 with every data cluster deflated.
    #[serde(rename = "qcow2-compressed")]
    Qcow2Compressed,
    /// VirtualBox's VDI, dynamic.
    #[serde(rename = "vdi")]
    Vdi,
    /// VHD, dynamic (QEMU calls it vpc).
    #[serde(rename = "vpc")]
    Vpc,
}

impl DiskFormat {
    /// The file name extension (after the base name).
    pub fn extension(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 | DiskFormat::Qcow2Compressed => "qcow2",
            DiskFormat::Vdi => "vdi",
            DiskFormat::Vpc => "vhd",
        }
    }

    pub fn from_name(name: &str) -> Option<DiskFormat> {
        match name {
            "raw" => Some(DiskFormat::Raw),
            "qcow2" => Some(DiskFormat::Qcow2),
            "qcow2-compressed" => Some(DiskFormat::Qcow2Compressed),
            "vdi" => Some(DiskFormat::Vdi),
            "vpc" => Some(DiskFormat::Vpc),
            _ => None,
        }
    }
}

/// What writes the ext4 filesystems of a build (ext2 and ext3 are always
/// mke2fs's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtWriter {
    /// mke2fs -d from a staging copy: the fallback, the reference in
    /// tests, and the one that takes `mkfsOptions.ext4`.
    Mke2fs,
    /// nix-repart's own writer (crate `nix-repart-ext4`), from the sources
    /// straight into the image.
    #[default]
    #[serde(rename = "nix-repart")]
    NixRepart,
}

impl ExtWriter {
    pub fn from_name(name: &str) -> Option<ExtWriter> {
        match name {
            "mke2fs" => Some(ExtWriter::Mke2fs),
            "nix-repart" => Some(ExtWriter::NixRepart),
            _ => None,
        }
    }
}

/// The partition table, as make-disk-image offers them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionTable {
    /// GPT with a protective MBR.
    #[default]
    Gpt,
    /// GPT, and an MBR that also lists the first three partitions, for
    /// firmware that reads the MBR only.
    Hybrid,
    /// An MBR (MSDOS) table only, at most four partitions.
    Mbr,
    /// No table: the image is its one filesystem.
    None,
}

impl PartitionTable {
    pub fn from_name(name: &str) -> Option<PartitionTable> {
        match name {
            "gpt" => Some(PartitionTable::Gpt),
            "hybrid" => Some(PartitionTable::Hybrid),
            "mbr" => Some(PartitionTable::Mbr),
            "none" => Some(PartitionTable::None),
            _ => None,
        }
    }
}

/// nixpkgs' default `image.repart.compression.level` for both algorithms.
pub const DEFAULT_IMAGE_COMPRESSION_LEVEL: u32 = 3;

/// The logical sector size of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SectorSize(pub u32);

impl SectorSize {
    pub fn bytes(self) -> Bytes {
        Bytes(u64::from(self.0))
    }

    /// What partitions are aligned and sized to: systemd-repart's grain,
    /// max(4096, sector size).
    pub fn grain(self) -> Bytes {
        Bytes(self.bytes().0.max(4096))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSize {
    /// The smallest disk that holds every partition.
    Auto,
    /// A fixed size, rounded up to 4096 as systemd-repart's `--size=` is.
    Fixed(Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The definition name (`10-esp`).
    pub id: String,
    /// The index in the spec's `partitions` array, for error pointers.
    pub spec_index: usize,
    pub partition_type: PartitionType,
    pub label: Option<String>,
    pub uuid: Option<Uuid>,
    pub weight: u32,
    pub padding_weight: u32,
    /// Rounded down to 4096, as systemd-repart does when it parses it.
    pub size_min: Option<Bytes>,
    /// Rounded up to 4096, as systemd-repart does when it parses it.
    pub size_max: Option<Bytes>,
    pub padding_min: Option<Bytes>,
    pub padding_max: Option<Bytes>,
    pub read_only: Option<bool>,
    pub no_auto: Option<bool>,
    pub grow_file_system: Option<bool>,
    /// Extra GPT attribute bits from `Flags=`.
    pub flags: u64,
    pub copy_blocks: Option<CopyBlocks>,
    /// `Format=`, with its compression (see [`Format`]).
    pub format: Option<Format>,
    /// `SplitName=` as written; `None` means systemd-repart's default `%t`,
    /// `-` means no split file.
    pub split_name: Option<String>,
    /// `contents` entries, then `CopyFiles=` lines, in that order.
    pub contents: Vec<Content>,
    pub minimize: Minimize,
    /// `MakeDirectories=`: absolute paths inside the filesystem.
    pub make_directories: Vec<String>,
    /// `MakeSymlinks=`: `(path inside the filesystem, target)`, made after
    /// the files and directories.
    pub make_symlinks: Vec<(String, String)>,
    /// Directories copied without their contents: for a root partition,
    /// the API filesystems' mount points and those of the image's other
    /// partitions (see `crate::validate::copied_empty`).
    pub copied_empty: Vec<String>,
    /// `Priority=`, `FactoryReset=`, `MountPoint=`: read and checked;
    /// they change nothing in a new image (see docs/spec.md).
    pub priority: i32,
    /// `ExcludeFiles=`: source paths (and everything below them) not copied.
    pub exclude_files: Vec<PathBuf>,
    /// `ExcludeFilesTarget=`: paths inside the filesystem left out.
    pub exclude_files_target: Vec<String>,
    pub store_paths: Vec<PathBuf>,
    pub nix_store_prefix: String,
    /// `Verity=` and its pair (see [`crate::verity`]).
    pub verity: crate::verity::Verity,
    /// `fromImage`: the partition is copied from an earlier image (see
    /// [`crate::from_image`]).
    pub from_image: Option<crate::from_image::FromImage>,
    /// `nixDatabase`: the Nix database to write for the closure (see
    /// [`crate::nix_database`]).
    pub nix_database: Option<crate::nix_database::NixDatabase>,
    /// `systemdBoot`: the loader files to write on this ESP (see
    /// [`crate::boot_loader`]).
    pub systemd_boot: Option<crate::boot_loader::SystemdBoot>,
    /// `freeSpace`: bytes of room added to an ext filesystem that
    /// `Minimize=` sizes (make-disk-image's `additionalSpace`).
    pub free_space: Bytes,
}

/// `Minimize=`: make the partition as small as its filesystem allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Minimize {
    #[default]
    Off,
    Best,
    Guess,
}

/// `CopyBlocks=`: bytes copied verbatim into the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyBlocks {
    pub source: PathBuf,
    /// Where the bytes start in `source` (0 but for `fromImage`).
    pub offset: Bytes,
    pub size: Bytes,
}

/// One `contents.<target>` entry (or a `CopyFiles=` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Absolute, normalised, without `..`.
    pub target: String,
    pub source: PathBuf,
    /// `mode`: permission bits given to the target itself (not to what a
    /// directory holds), as make-disk-image's `chmod` gives them.
    pub mode: Option<u32>,
    /// `user` and `group`: the target's owner (itself only, like `chown`).
    pub owner: Option<Owner>,
}

impl Content {
    /// An entry copied as its source is: mode from the source, owner root.
    pub fn plain(target: impl Into<String>, source: impl Into<PathBuf>) -> Content {
        Content { target: target.into(), source: source.into(), mode: None, owner: None }
    }
}

/// Numeric owner of a file in an image. Every file is owned by root (0:0)
/// unless its `contents` entry says otherwise: the build user's ids mean
/// nothing on the booted system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}
