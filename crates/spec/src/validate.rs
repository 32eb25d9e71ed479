//! Phase two of reading a spec: [`RawSpec`] into the validated [`Spec`].
//! Checks every value and every rule between values, and that each source
//! path exists; collects all problems rather than stopping at the first.
//! Partition settings are handled in `settings`.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use uuid::Uuid;

use crate::compression::{self, PendingCompression};
use crate::error::{Problem, ProblemKind};
use crate::model::{
    DiskFormat, ExtWriter, ImageCompression, ImageCompressionAlgorithm, ImageSize, Partition, PartitionTable,
    SectorSize, Spec, DEFAULT_IMAGE_COMPRESSION_LEVEL, DEFAULT_SEED, DEFAULT_STORE_PREFIX,
};
use crate::raw::{RawClosure, RawCompression, RawPartition, RawSpec};
use crate::settings::{self, Settings};
use crate::store::is_store_path;
use crate::types::{Architecture, Designator};
use crate::values::{parse_size, Bytes};

/// Collects problems while building the validated spec.
pub(crate) struct Checker {
    pub problems: Vec<Problem>,
    /// Where relative source paths are resolved: the spec file's directory.
    pub base_dir: Option<PathBuf>,
}

impl Checker {
    /// A source path on the build machine: absolute, or relative to the
    /// spec's directory when there is one.
    pub fn resolve(&mut self, pointer: &str, text: &str) -> Option<PathBuf> {
        let path = PathBuf::from(text);
        match (&self.base_dir, path.is_absolute()) {
            (_, true) => Some(path),
            (Some(base), false) if !text.is_empty() => Some(base.join(path)),
            _ => {
                self.problem(pointer, ProblemKind::NotAbsolute { path: text.to_string() });
                None
            }
        }
    }

    pub fn problem(&mut self, pointer: impl Into<String>, kind: ProblemKind) {
        self.problems.push(Problem { pointer: pointer.into(), kind });
    }
}

/// Validates a raw spec; `problems` are those phase one already found.
/// Relative source paths are resolved against `base_dir`, or refused
/// without one.
pub fn validate(raw: RawSpec, problems: Vec<Problem>, base_dir: Option<&Path>) -> Result<Spec, Vec<Problem>> {
    let mut checker = Checker { problems, base_dir: base_dir.map(Path::to_path_buf) };
    let spec = check_spec(&mut checker, raw);
    if checker.problems.is_empty() {
        Ok(spec)
    } else {
        Err(checker.problems)
    }
}

fn check_spec(c: &mut Checker, raw: RawSpec) -> Spec {
    check_version(c, raw.version.as_ref());
    let name = raw.name.unwrap_or_default();
    if !name.is_empty() || c.problems.iter().all(|p| p.pointer != "/name") {
        check_file_name(c, "/name", &name);
    }
    if let Some(version) = &raw.image_version {
        check_file_name(c, "/imageVersion", version);
    }
    let architecture = check_architecture(c, raw.architecture.as_deref());
    let (mut partitions, pending): (Vec<Partition>, Vec<PendingCompression>) =
        raw.partitions.iter().enumerate().filter_map(|(i, p)| check_partition(c, i, p, architecture)).unzip();
    if raw.partitions.is_empty() && c.problems.iter().all(|p| p.pointer != "/partitions") {
        c.problem("/partitions", ProblemKind::NoPartitions);
    }
    check_unique_ids(c, &partitions);
    let squashfs = crate::mkfs_options::check(c, &raw.mkfs_options, &partitions);
    for (p, pending) in partitions.iter_mut().zip(&pending) {
        p.format = p.format.map(|format| compression::resolve(c, &p.id, format, pending, &squashfs));
    }
    let sector_size = check_sector_size(c, raw.sector_size);
    crate::verity::pair(c, &mut partitions, sector_size);
    // systemd-repart reads `<id>.conf` files in byte order of their names.
    partitions.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    let empty = copied_empty(&partitions);
    for p in partitions.iter_mut().filter(|p| p.partition_type.designator == Designator::Root) {
        p.copied_empty = empty.clone();
    }
    Spec {
        name,
        image_version: raw.image_version,
        seed: check_seed(c, raw.seed.as_deref()),
        random_seed: raw.seed.as_deref() == Some("random"),
        architecture,
        sector_size,
        image_size: check_image_size(c, raw.image_size.as_deref()),
        split: raw.split.unwrap_or(false),
        compression: check_image_compression(c, &raw.compression),
        format: check_disk_format(c, raw.format.as_deref(), raw.compression.enable == Some(true)),
        partition_table: check_partition_table(c, raw.partition_table.as_deref(), partitions.len()),
        ext_writer: check_ext_writer(c, raw.ext_writer.as_deref(), &raw.mkfs_options),
        mkfs_options: raw
            .mkfs_options
            .into_iter()
            .filter(|(fs, _)| fs != "squashfs")
            .map(|(fs, args)| (fs, split_mkfs_words(&args)))
            .collect(),
        partitions,
    }
}

/// What systemd-repart (257) copies into a root partition as empty
/// directories, "in the denylist, not recursing": the mount points of the
/// API filesystems and of /tmp and /var/tmp, and those of the image's
/// other partitions (usr, var, home, srv; the ESP's /boot and /efi; the
/// XBOOTLDR's /boot), whose contents belong there instead.
fn copied_empty(partitions: &[Partition]) -> Vec<String> {
    let mut dirs: Vec<String> = ["/proc", "/sys", "/dev", "/tmp", "/run", "/var/tmp"].map(String::from).to_vec();
    for p in partitions {
        let mounts: &[&str] = match p.partition_type.designator {
            Designator::Usr => &["/usr"],
            Designator::Var => &["/var"],
            Designator::Home => &["/home"],
            Designator::Srv => &["/srv"],
            Designator::Esp => &["/boot", "/efi"],
            Designator::Xbootldr => &["/boot"],
            _ => &[],
        };
        dirs.extend(mounts.iter().map(|m| m.to_string()));
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// `compression`: only read when enabled, as nixpkgs' module does.
fn check_image_compression(c: &mut Checker, raw: &RawCompression) -> Option<ImageCompression> {
    if raw.enable != Some(true) {
        return None;
    }
    let algorithm = match raw.algorithm.as_deref().unwrap_or("zstd") {
        "zstd" => ImageCompressionAlgorithm::Zstd,
        "xz" => ImageCompressionAlgorithm::Xz,
        "zstd-seekable" => ImageCompressionAlgorithm::ZstdSeekable,
        other => {
            c.problem("/compression/algorithm", ProblemKind::UnknownImageCompression { value: other.to_string() });
            return None;
        }
    };
    let level = match raw.level {
        None => DEFAULT_IMAGE_COMPRESSION_LEVEL,
        Some(level) => match u32::try_from(level).ok().filter(|l| algorithm.levels().contains(l)) {
            Some(level) => level,
            None => {
                let range = algorithm.levels();
                let (min, max) = (*range.start(), *range.end());
                c.problem("/compression/level", ProblemKind::CompressionLevelRange { level, min, max });
                return None;
            }
        },
    };
    Some(ImageCompression { algorithm, level })
}

/// `mkfsOptions` elements split into words: nixpkgs joins the list with
/// spaces into `SYSTEMD_REPART_MKFS_OPTIONS_<FS>`, which systemd-repart
/// splits on whitespace, so `["-S 512"]` means two arguments there too.
fn split_mkfs_words(args: &[String]) -> Vec<String> {
    args.iter().flat_map(|a| a.split_whitespace()).map(str::to_string).collect()
}

/// `format`: a name nix-repart writes; not together with compression,
/// which would compress the VM disk a second time.
fn check_disk_format(c: &mut Checker, format: Option<&str>, compressed: bool) -> DiskFormat {
    let Some(name) = format else { return DiskFormat::Raw };
    let Some(format) = DiskFormat::from_name(name) else {
        c.problem("/format", ProblemKind::UnknownDiskFormat { value: name.to_string() });
        return DiskFormat::Raw;
    };
    if format != DiskFormat::Raw && compressed {
        c.problem("/format", ProblemKind::DiskFormatWithCompression { format: name.to_string() });
    }
    format
}

/// `freeSpace`: a size, only where `Minimize=` sizes an ext filesystem.
fn check_free_space(c: &mut Checker, pointer: &str, text: &str, p: &mut Partition) {
    let Some(size) = crate::values::parse_size(text).filter(|s| *s <= Bytes::MAX_SIZE) else {
        c.problem(pointer, ProblemKind::NotASize { value: text.to_string() });
        return;
    };
    if !matches!(p.format, Some(crate::Format::Ext(_))) || p.minimize == crate::Minimize::Off {
        c.problem(pointer, ProblemKind::FreeSpaceWithoutMinimizedExt { partition: p.id.clone() });
        return;
    }
    p.free_space = size;
}

/// `partitionTable`: a kind nix-repart writes; an MBR holds four entries,
/// and an image without a table one filesystem.
fn check_partition_table(c: &mut Checker, table: Option<&str>, partitions: usize) -> PartitionTable {
    let Some(name) = table else { return PartitionTable::Gpt };
    let Some(table) = PartitionTable::from_name(name) else {
        c.problem("/partitionTable", ProblemKind::UnknownPartitionTable { value: name.to_string() });
        return PartitionTable::Gpt;
    };
    let most = match table {
        PartitionTable::Mbr => 4,
        PartitionTable::None => 1,
        _ => usize::MAX,
    };
    if partitions > most {
        c.problem("/partitionTable", ProblemKind::TooManyForTable { table: name.to_string(), most, partitions });
    }
    table
}

/// `extWriter`: nix-repart or mke2fs; `mkfsOptions.ext4` are mke2fs's
/// options, which nix-repart's writer cannot take: without `extWriter`
/// they choose mke2fs, with `"extWriter": "nix-repart"` they are refused.
fn check_ext_writer(
    c: &mut Checker,
    name: Option<&str>,
    mkfs_options: &std::collections::BTreeMap<String, Vec<String>>,
) -> ExtWriter {
    let has_options = mkfs_options.get("ext4").is_some_and(|o| !o.is_empty());
    let Some(name) = name else {
        return if has_options { ExtWriter::Mke2fs } else { ExtWriter::default() };
    };
    let Some(writer) = ExtWriter::from_name(name) else {
        c.problem("/extWriter", ProblemKind::UnknownExtWriter { value: name.to_string() });
        return ExtWriter::default();
    };
    if writer == ExtWriter::NixRepart && has_options {
        c.problem("/mkfsOptions/ext4", ProblemKind::MkfsOptionsWithOwnWriter);
    }
    writer
}

fn check_version(c: &mut Checker, version: Option<&Value>) {
    match version {
        None => c.problem("/version", ProblemKind::Missing),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(other) => c.problem("/version", ProblemKind::UnsupportedVersion { found: other.to_string() }),
    }
}

/// The longest `name`, `imageVersion` or partition id: the output file
/// `<name>_<version>.<split>.raw.zst` and its temporary name must stay
/// within 255 bytes.
const MAX_OUTPUT_NAME_PART: usize = 64;

fn check_file_name(c: &mut Checker, pointer: &str, value: &str) -> bool {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && !value.contains(['/', '\0'])
        && value.len() <= MAX_OUTPUT_NAME_PART;
    if !ok {
        c.problem(pointer, ProblemKind::BadFileName { value: value.to_string() });
    }
    ok
}

fn check_seed(c: &mut Checker, seed: Option<&str>) -> Uuid {
    if seed == Some("random") {
        return random_seed(c);
    }
    let text = seed.unwrap_or(DEFAULT_SEED);
    match parse_uuid(text) {
        Some(uuid) => uuid,
        None => {
            c.problem("/seed", ProblemKind::NotAUuid { value: text.to_string() });
            Uuid::nil()
        }
    }
}

/// 16 bytes from the kernel's random source, as systemd-repart draws a
/// seed when told `--seed=random`.
fn random_seed(c: &mut Checker) -> Uuid {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => Uuid::from_bytes(bytes),
        Err(e) => {
            c.problem("/seed", ProblemKind::NoRandomSeed { reason: e.to_string() });
            Uuid::nil()
        }
    }
}

/// A UUID in its 36-character hyphenated form, as systemd's
/// `sd_id128_from_string()` also accepts it (32 hex digits work too).
pub(crate) fn parse_uuid(text: &str) -> Option<Uuid> {
    match text.len() {
        32 | 36 => Uuid::parse_str(text).ok(),
        _ => None,
    }
}

fn check_architecture(c: &mut Checker, arch: Option<&str>) -> Architecture {
    let Some(name) = arch else { return Architecture::X86_64 };
    name.parse().unwrap_or_else(|()| {
        let expected = Architecture::all_names().collect::<Vec<_>>().join(", ");
        c.problem("/architecture", ProblemKind::UnknownArchitecture { value: name.to_string(), expected });
        Architecture::X86_64
    })
}

fn check_sector_size(c: &mut Checker, sector_size: Option<u64>) -> SectorSize {
    match sector_size {
        None => SectorSize(512),
        Some(v @ (512 | 1024 | 2048 | 4096)) => SectorSize(v as u32),
        Some(value) => {
            c.problem("/sectorSize", ProblemKind::BadSectorSize { value });
            SectorSize(512)
        }
    }
}

fn check_image_size(c: &mut Checker, size: Option<&str>) -> ImageSize {
    match size {
        None | Some("auto") => ImageSize::Auto,
        Some(text) => match parse_size(text) {
            Some(bytes) if bytes > Bytes::MAX_SIZE => {
                c.problem("/imageSize", ProblemKind::SizeTooLarge { value: text.to_string(), max: Bytes::MAX_SIZE });
                ImageSize::Auto
            }
            // systemd-repart rounds --size= up to a multiple of 4096.
            Some(bytes) => ImageSize::Fixed(bytes.round_up(Bytes(4096))),
            None => {
                c.problem("/imageSize", ProblemKind::NotAnImageSize { value: text.to_string() });
                ImageSize::Auto
            }
        },
    }
}

fn check_unique_ids(c: &mut Checker, partitions: &[Partition]) {
    for (i, p) in partitions.iter().enumerate() {
        if let Some(first) = partitions[..i].iter().find(|q| q.id == p.id) {
            c.problem(
                format!("/partitions/{}/id", p.spec_index),
                ProblemKind::DuplicateId { id: p.id.clone(), first: format!("/partitions/{}", first.spec_index) },
            );
        }
    }
}

fn check_partition(
    c: &mut Checker,
    index: usize,
    raw: &RawPartition,
    arch: Architecture,
) -> Option<(Partition, PendingCompression)> {
    let pointer = format!("/partitions/{index}");
    let id = raw.id.clone()?;
    if !check_file_name(c, &format!("{pointer}/id"), &id) {
        return None;
    }
    let Settings { partition_type, mut partition, compression } =
        settings::check(c, &pointer, &id, &raw.settings, arch)?;
    partition.spec_index = index;
    partition.partition_type = partition_type;
    // `contents` first, then the `CopyFiles=` lines read with the settings.
    let copy_files = std::mem::take(&mut partition.contents);
    partition.contents = crate::contents::check(c, &pointer, &id, partition.format, &raw.contents);
    partition.contents.extend(copy_files);
    partition.nix_store_prefix = check_store_prefix(c, &pointer, raw.nix_store_prefix.as_deref());
    partition.store_paths = check_store_paths(c, &pointer, raw);
    crate::nix_database::check(c, &pointer, raw, &mut partition);
    if let Some(text) = &raw.free_space {
        check_free_space(c, &format!("{pointer}/freeSpace"), text, &mut partition);
    }
    if let Some(boot) = &raw.systemd_boot {
        crate::boot_loader::check(c, &pointer, boot, &mut partition);
    }
    if let Some(dir) = &raw.from_image {
        crate::from_image::apply(c, &format!("{pointer}/fromImage"), dir, &mut partition);
    }
    let has_content = !partition.contents.is_empty()
        || !partition.store_paths.is_empty()
        || !partition.make_directories.is_empty()
        || !partition.make_symlinks.is_empty();
    match partition.format {
        None if has_content => c.problem(pointer, ProblemKind::ContentWithoutFormat { partition: id }),
        // A swap area holds no files: they would be dropped without a word.
        Some(crate::format::Format::Swap) if has_content => {
            c.problem(pointer, ProblemKind::ContentOnSwap { partition: id });
        }
        _ => {}
    }
    Some((partition, compression))
}

/// The longest path a tree may hold, in bytes, for every format alike (a
/// spec that builds as squashfs builds as ext4): mke2fs 1.47.0 `-d`
/// corrupts its heap (SIGABRT) once a path below its root reaches about
/// 2040 bytes, and mkfs.erofs 1.5 crashes on deeper trees still. It also
/// bounds the depth of every tree (1000 levels at most), so the recursive
/// walks and writers have a bounded stack, and backhand's child lookup,
/// cubic in the depth, stays fast.
pub const MAX_PATH_BYTES: usize = 2000;

/// The longest file name a Linux filesystem holds (`NAME_MAX`).
pub const MAX_NAME_BYTES: usize = 255;

/// An absolute path inside the partition, normalised; `..`, NUL and names
/// longer than [`MAX_NAME_BYTES`] are refused.
pub(crate) fn check_inner_path(c: &mut Checker, pointer: &str, path: &str) -> Option<String> {
    if !path.starts_with('/') {
        c.problem(pointer, ProblemKind::NotAbsolute { path: path.to_string() });
        return None;
    }
    if path.contains('\0') {
        c.problem(pointer, ProblemKind::NulInPath { path: path.to_string() });
        return None;
    }
    if path.len() > MAX_PATH_BYTES {
        c.problem(pointer, ProblemKind::TooLong { bytes: path.len(), max: MAX_PATH_BYTES });
        return None;
    }
    let mut parts = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) if part.len() > MAX_NAME_BYTES => {
                c.problem(pointer, ProblemKind::NameTooLong { path: path.to_string() });
                return None;
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                c.problem(pointer, ProblemKind::Escapes { path: path.to_string() });
                return None;
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// A source path on the build machine: absolute, and it must exist (a
/// symlink counts as itself; it is not followed here).
fn check_source(c: &mut Checker, pointer: &str, source: &str) -> Option<PathBuf> {
    existing_path(c, pointer, source, |p| std::fs::symlink_metadata(p)).map(|(path, _)| path)
}

/// An absolute path that exists, with its metadata from `stat` (which
/// decides whether symlinks are followed).
pub(crate) fn existing_path(
    c: &mut Checker,
    pointer: &str,
    text: &str,
    stat: fn(&Path) -> std::io::Result<std::fs::Metadata>,
) -> Option<(PathBuf, std::fs::Metadata)> {
    let path = c.resolve(pointer, text)?;
    match stat(&path) {
        Ok(meta) => Some((path, meta)),
        Err(e) => {
            c.problem(pointer, ProblemKind::from_io(text, &e));
            None
        }
    }
}

fn check_store_prefix(c: &mut Checker, pointer: &str, prefix: Option<&str>) -> String {
    let here = format!("{pointer}/nixStorePrefix");
    check_inner_path(c, &here, prefix.unwrap_or(DEFAULT_STORE_PREFIX)).unwrap_or_default()
}

/// `storePaths` plus the closure, deduplicated and sorted so that the
/// listing order never matters.
fn check_store_paths(c: &mut Checker, pointer: &str, raw: &RawPartition) -> Vec<PathBuf> {
    let mut paths: Vec<(String, String)> =
        raw.store_paths.iter().enumerate().map(|(i, p)| (format!("{pointer}/storePaths/{i}"), p.clone())).collect();
    let closure_pointer = format!("{pointer}/closure");
    match &raw.closure {
        Some(RawClosure::Paths(list)) => {
            paths.extend(list.iter().enumerate().map(|(i, e)| (format!("{closure_pointer}/{i}/path"), e.path.clone())));
        }
        Some(RawClosure::File(file)) => paths.extend(read_closure_file(c, &closure_pointer, file)),
        None => {}
    }
    let mut checked: Vec<PathBuf> = paths
        .into_iter()
        .filter_map(|(here, path)| {
            if !is_store_path(Path::new(&path)) {
                c.problem(here, ProblemKind::NotAStorePath { path });
                return None;
            }
            check_source(c, &here, &path)
        })
        .collect();
    checked.sort();
    checked.dedup();
    checked
}

/// A closureInfo `store-paths` file: one store path per line.
fn read_closure_file(c: &mut Checker, pointer: &str, file: &str) -> Vec<(String, String)> {
    let path = check_source(c, pointer, file);
    let Some(path) = path else { return Vec::new() };
    match crate::input::read_text(&path, crate::input::MAX_SPEC_BYTES) {
        Ok(text) => {
            text.lines().filter(|l| !l.trim().is_empty()).map(|l| (pointer.to_string(), l.trim().to_string())).collect()
        }
        Err(e) => {
            c.problem(pointer, ProblemKind::from_io(file, &e));
            Vec::new()
        }
    }
}
