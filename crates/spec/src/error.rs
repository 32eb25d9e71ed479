//! The errors of spec parsing and validation.
//!
//! Validation never stops at the first problem: it collects every
//! [`Problem`], each with the JSON pointer of the value at fault, and
//! returns them together as [`SpecError::Invalid`]. Tests compare
//! [`ProblemKind`] values exactly.

use std::fmt;
use std::path::PathBuf;

use crate::values::Bytes;

/// Why a spec could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Attrs { path: PathBuf, problem: AttrsProblem },
    #[error("{0}")]
    Invalid(Problems),
}

/// What is wrong with a derivation's `.attrs.json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrsProblem {
    #[error("not JSON: {message}")]
    NotJson { message: String },
    #[error("no outputs.out; is the derivation built with __structuredAttrs = true?")]
    NoOutput,
    #[error("no nixRepartSpec attribute; build the image with nix/lib/image.nix (or pass the spec under that name)")]
    NoSpec,
    #[error("partition {partition} has both a closure in the spec and the attribute {attribute}; give one of them")]
    ClosureTwice { partition: String, attribute: String },
}

/// One or more problems, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A problem at one place in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer (RFC 6901) to the value at fault; empty for the document.
    pub pointer: String,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str("/")?;
        }
        // Keys may hold control characters (a NUL, a newline): shown
        // escaped, so that a problem stays one readable line.
        for ch in self.pointer.chars() {
            if ch.is_control() {
                write!(f, "{}", ch.escape_debug())?;
            } else {
                write!(f, "{ch}")?;
            }
        }
        write!(f, ": {}", self.kind)
    }
}

impl ProblemKind {
    /// The problem of a path that could not be looked at.
    pub fn from_io(path: &str, error: &std::io::Error) -> ProblemKind {
        match error.kind() {
            std::io::ErrorKind::NotFound => ProblemKind::SourceMissing { path: path.to_string() },
            _ => ProblemKind::SourceUnreadable { path: path.to_string(), reason: error.to_string() },
        }
    }
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("not valid JSON: {message} (line {line}, column {column})")]
    Json { message: String, line: usize, column: usize },
    #[error("unknown key (expected one of: {expected})")]
    UnknownKey { expected: String },
    #[error("required key is missing")]
    Missing,
    #[error("expected {expected}, found {found}")]
    WrongType { expected: &'static str, found: &'static str },
    #[error("spec version {found} is not supported; this nix-repart reads version 1")]
    UnsupportedVersion { found: String },
    #[error("{value:?} is not a size (a number of bytes, optionally with a K, M, G or T suffix)")]
    NotASize { value: String },
    #[error("{value:?} is not a boolean (yes/no, true/false, 1/0, on/off)")]
    NotABool { value: String },
    #[error("{value:?} is not a UUID")]
    NotAUuid { value: String },
    #[error("{value:?} is not a number in {min}…{max}")]
    NotInRange { value: String, min: i64, max: i64 },
    #[error("{value:?} is not a number in 0…{max}")]
    NotANumber { value: String, max: u64 },
    #[error("{value:?} is not \"auto\" or a size")]
    NotAnImageSize { value: String },
    #[error("{value:?} is not a partition type name (esp, root, usr-verity, linux-generic, ...) or GUID")]
    UnknownType { value: String },
    #[error("{value:?} is not an architecture (one of: {expected})")]
    UnknownArchitecture { value: String, expected: String },
    #[error("sector size {value} is not supported; use 512, 1024, 2048 or 4096")]
    BadSectorSize { value: u64 },
    #[error("label {label:?} is {units} UTF-16 code units long; GPT allows at most 36")]
    LabelTooLong { label: String, units: usize },
    #[error(
        "label {label:?} contains {character:?}, which is outside the Basic Multilingual Plane; GPT names are UCS-2"
    )]
    LabelNotUcs2 { label: String, character: char },
    #[error("label {label:?} uses a specifier that depends on the build host; nix-repart resolves only %a (architecture) and %% in labels")]
    LabelSpecifier { label: String },
    #[error("{value:?} cannot be used in a file name (it is empty, longer than 64 bytes, contains '/' or NUL, or is '.' or '..')")]
    BadFileName { value: String },
    #[error("partition id {id:?} is also used by {first}")]
    DuplicateId { id: String, first: String },
    #[error("SizeMinBytes= ({min}) is larger than SizeMaxBytes= ({max}) in partition {partition}")]
    SizeMinAboveMax { partition: String, min: Bytes, max: Bytes },
    #[error("PaddingMinBytes= ({min}) is larger than PaddingMaxBytes= ({max}) in partition {partition}")]
    PaddingMinAboveMax { partition: String, min: Bytes, max: Bytes },
    #[error("SplitName={value:?} uses {specifier}, which depends on the build host; nix-repart resolves %t, %T, %U, %n, %a and %%")]
    SplitSpecifier { value: String, specifier: String },
    #[error(
        "Compression={value} is not a compression Format={format} takes (one of: {known}) (partition {partition})"
    )]
    CompressionNotForFormat { partition: String, format: &'static str, value: String, known: &'static str },
    #[error("level {level} is outside {min}..={max} for {algorithm} (partition {partition})")]
    FilesystemLevelRange { partition: String, algorithm: &'static str, level: u32, min: u32, max: u32 },
    #[error("CompressionLevel= does not apply to {algorithm}, which has no levels (partition {partition})")]
    LevelNotApplicable { partition: String, algorithm: &'static str },
    #[error("CompressionLevel= without Compression=: erofs is not compressed by default (partition {partition})")]
    LevelWithoutCompression { partition: String },
    #[error("{value:?} is not a squashfs block size (a power of two from 4K to 1M)")]
    BadSquashfsBlockSize { value: String },
    #[error("partition {partition}: fromImage {dir}: {reason}")]
    FromImage { partition: String, dir: String, reason: String },
    #[error("partition {partition}: fromImage copies the whole partition; it takes no Format=, CopyBlocks= or files")]
    FromImageWithContent { partition: String },
    #[error("{value:?} is not a disk format nix-repart writes (raw, qcow2, qcow2-compressed, vdi, vpc)")]
    UnknownDiskFormat { value: String },
    #[error("format {format} with compression.enable: the disk would be compressed twice; use qcow2-compressed, or turn compression off")]
    DiskFormatWithCompression { format: String },
    #[error("partition {partition}: nixDatabase needs nixStorePrefix /nix/store (the database names its paths there), not {prefix}")]
    NixDatabasePrefix { partition: String, prefix: String },
    #[error("partition {partition}: nixDatabase needs a filesystem with symlinks (ext4, squashfs, erofs)")]
    NixDatabaseFormat { partition: String },
    #[error("partition {partition}: nixDatabase needs the closure's registration (narHash, narSize, references, as exportReferencesGraph gives them){}", path.as_ref().map(|p| format!("; {p} has none")).unwrap_or_default())]
    ClosureWithoutRegistration { partition: String, path: Option<String> },
    #[error("partition {partition}: nixProfiles without nixDatabase")]
    ProfilesWithoutDatabase { partition: String },
    #[error("partition {partition}: the profile's store path {path} is not in the closure")]
    ProfileOutsideClosure { partition: String, path: String },
    #[error("{name:?} is not a profile name (letters, digits, -, _ and ., nested with /)")]
    BadProfileName { name: String },
    #[error("partition {partition}: systemdBoot goes on the ESP (Type=esp, Format=vfat)")]
    SystemdBootNotOnEsp { partition: String },
    #[error("partition {partition}: the bootspec of {toplevel}: {reason}")]
    Bootspec { partition: String, toplevel: String, reason: String },
    #[error("{value:?} is not a partition table nix-repart writes (gpt, hybrid, mbr, none)")]
    UnknownPartitionTable { value: String },
    #[error("partitionTable {table} holds at most {most} partition(s), the spec has {partitions}")]
    TooManyForTable { table: String, most: usize, partitions: usize },
    #[error("partition {partition}: freeSpace adds room to an ext2/3/4 filesystem sized by Minimize=; this partition has none")]
    FreeSpaceWithoutMinimizedExt { partition: String },
    #[error("cannot draw a random seed from /dev/urandom: {reason}")]
    NoRandomSeed { reason: String },
    #[error("{value:?} is not an image compression nix-repart knows (zstd, zstd-seekable, xz)")]
    UnknownImageCompression { value: String },
    #[error("level {level} is outside {min}..={max} for this algorithm")]
    CompressionLevelRange { level: u64, min: u32, max: u32 },
    #[error("{value:?} is not off, best, guess or a boolean")]
    NotAMinimize { value: String },
    #[error("SplitName={value:?} can expand to {bytes} bytes; at most {max} are allowed, so that split file names stay below 255 bytes")]
    SplitNameTooLong { value: String, bytes: usize, max: usize },
    #[error("MakeSymlinks={value:?} is not PATH:TARGET")]
    BadMakeSymlinks { value: String },
    #[error("CopyFiles={value:?} has more than one ':'; write SOURCE or SOURCE:TARGET")]
    BadCopyFiles { value: String },
    #[error("{key}= takes one value, not a list (partition {partition})")]
    NotAList { partition: String, key: String },
    #[error("{key}= is a systemd-repart setting that nix-repart does not implement yet (partition {partition}); remove it or use systemd-repart")]
    NotImplemented { partition: String, key: String },
    #[error("{key:?} is not a systemd-repart [Partition] setting (partition {partition})")]
    UnknownSetting { partition: String, key: String },
    #[error("Format={format} is not supported by nix-repart, which writes {known} (partition {partition})")]
    FormatNotImplemented { partition: String, format: String, known: String },
    #[error("{what} is not implemented by nix-repart yet")]
    SpecFeatureNotImplemented { what: &'static str },
    #[error("CopyBlocks= and Format= exclude each other (partition {partition})")]
    CopyBlocksWithFormat { partition: String },
    #[error("CopyBlocks=auto is not supported: nix-repart builds images from files, not from the running system (partition {partition})")]
    CopyBlocksAuto { partition: String },
    #[error("{path:?} must be an absolute path")]
    NotAbsolute { path: String },
    #[error("{path:?} escapes its partition: '..' is not allowed")]
    Escapes { path: String },
    #[error("source {path:?} does not exist")]
    SourceMissing { path: String },
    #[error("source {path:?} cannot be read: {reason}")]
    SourceUnreadable { path: String, reason: String },
    #[error("{path:?} is not a regular file or block device")]
    NotAFile { path: String },
    #[error("{path:?} is not a Nix store path (/nix/store/<32 base32 chars>-<name>)")]
    NotAStorePath { path: String },
    #[error("partition {partition} has contents, storePaths or closure but no Format= to put them in")]
    ContentWithoutFormat { partition: String },
    #[error("partition {partition} is Format=swap, which holds no files, but has contents, storePaths or closure")]
    ContentOnSwap { partition: String },
    #[error("Verity=signature needs a signing key and certificate, which nix-repart does not take (partition {partition}); sign the root hash from repart-output.json instead")]
    VeritySignature { partition: String },
    #[error("{value:?} is not a Verity= mode: expected off, data or hash")]
    NotAVerityMode { value: String },
    #[error("VerityMatchKey= is empty (partition {partition})")]
    EmptyMatchKey { partition: String },
    #[error("{value:?} is not a verity block size: expected a power of two from 512 to 4096")]
    BadVerityBlockSize { value: String },
    #[error("VerityMatchKey= without Verity=data or Verity=hash (partition {partition})")]
    MatchKeyWithoutVerity { partition: String },
    #[error("Verity= needs VerityMatchKey= to find its pair (partition {partition})")]
    VerityWithoutMatchKey { partition: String },
    #[error("{key}= only takes effect on the Verity=hash partition (partition {partition}); set it there")]
    VerityBlockSizeNotOnHash { partition: String, key: &'static str },
    #[error("Verity=data needs a read-only filesystem (squashfs or erofs) or CopyBlocks=, not Format={format} (partition {partition})")]
    VerityOnWritable { partition: String, format: String },
    #[error(
        "a Verity=hash partition holds the hash tree only: no Format=, CopyBlocks= or files (partition {partition})"
    )]
    VerityHashWithContent { partition: String },
    #[error("partitions {other} and {partition} are both Verity={role:?} with VerityMatchKey={key}; a key pairs one data and one hash partition")]
    VerityDuplicate { partition: String, other: String, key: String, role: crate::verity::VerityRole },
    #[error("partition {partition} has VerityMatchKey={key} but no Verity={missing:?} partition has that key")]
    VerityUnpaired { partition: String, key: String, missing: crate::verity::VerityRole },
    #[error("the spec has no partitions")]
    NoPartitions,
    #[error("{value:?} is larger than {max}, the largest size nix-repart handles")]
    SizeTooLarge { value: String, max: Bytes },
    #[error("key appears twice in the same object; JSON readers would silently keep only one")]
    DuplicateKey,
    #[error("{bytes} bytes long; at most {max} bytes are allowed here")]
    TooLong { bytes: usize, max: usize },
    #[error("label {label:?} contains a NUL character, which would end the GPT name there")]
    LabelNul { label: String },
    #[error("the all-zero GUID marks an unused GPT entry; the partition would vanish from the table (partition {partition})")]
    UnusedType { partition: String },
    #[error("{key}= has no effect on Format={format}: only squashfs and erofs are compressed (partition {partition})")]
    CompressionWithoutCompressor { partition: String, key: &'static str, format: String },
    #[error("no partition has Format={fs}, so these options would be ignored")]
    MkfsOptionsUnused { fs: String },
    #[error("{option:?} is not an option nix-repart passes to {tool} ({why}); the options it passes are listed in docs/spec.md")]
    MkfsOptionRefused { tool: &'static str, option: String, why: &'static str },
    #[error("{option} needs a value")]
    MkfsOptionValue { option: String },
    #[error("{path:?} has a component longer than 255 bytes (NAME_MAX)")]
    NameTooLong { path: String },
    #[error("{path:?} contains a NUL character, which no file name can hold")]
    NulInPath { path: String },
    #[error("{value:?} is not an ext writer: expected nix-repart or mke2fs")]
    UnknownExtWriter { value: String },
    #[error("mkfsOptions.ext4 are mke2fs options, and \"extWriter\": \"nix-repart\" runs no mke2fs; drop them or use \"extWriter\": \"mke2fs\"")]
    MkfsOptionsWithOwnWriter,
    #[error("{value:?} is not a mode: expected octal permission bits such as \"0644\" or \"4755\" (symbolic modes are not taken)")]
    NotAMode { value: String },
    #[error("{value} is not a user or group id (at most 4294967294)")]
    IdTooLarge { value: u64 },
    #[error("{given} without {missing} (partition {partition}); give both, or neither, as make-disk-image asks")]
    OwnerHalf { partition: String, given: &'static str, missing: &'static str },
    #[error("mode, user and group cannot be kept on Format={format}: {why} (partition {partition})")]
    AttributesOnFormat { partition: String, format: &'static str, why: &'static str },
}
