//! The FAT view of a source tree, independent of the volume size: every
//! directory with its entries (long and short names), every file with its
//! size, in the order they will be laid out, and the number of clusters the
//! content needs for each possible cluster size. Also finds the smallest
//! volume that holds it and the largest that fits a partition.

use std::collections::HashMap;
use std::path::PathBuf;

use nix_repart_tree::{Directory, Node};

use crate::geometry::{choose_kind, FatType, Geometry, DEFAULT_ROOT_ENTRIES};
use crate::names::{exact_short, lfn_entry_count, long_name, ShortNames};
use crate::FatError;

/// FAT's limit on entries in one directory (fatgen103: 2 MiB of entries).
const MAX_DIR_ENTRIES: u64 = 65536;
/// FAT file sizes are 32-bit.
const MAX_FILE_SIZE: u64 = u32::MAX as u64;

pub(crate) enum Target {
    Dir(usize),
    File(usize),
}

pub(crate) struct Entry {
    /// UTF-16 long name; `None` when the short name is the name.
    pub long: Option<Vec<u16>>,
    pub short: [u8; 11],
    pub target: Target,
    /// The source's mtime; `None` for a directory (which gets the epoch).
    pub mtime: Option<i64>,
}

pub(crate) struct Dir {
    pub parent: usize,
    pub entries: Vec<Entry>,
    /// 32-byte slots, with `.`/`..` (not in the root) and the volume label
    /// entry (root only).
    pub slots: u64,
}

pub(crate) struct File {
    pub source: PathBuf,
    pub size: u64,
}

/// A tree ready to be written as FAT.
pub struct Prepared {
    pub(crate) dirs: Vec<Dir>,
    pub(crate) files: Vec<File>,
    pub(crate) label: Option<[u8; 11]>,
    sector_size: u32,
    /// Always FAT32 (`mkfs.fat -F 32`), as an ESP is made.
    fat32_only: bool,
    /// Clusters needed, by (sectors per cluster, FAT32).
    needs: HashMap<(u32, bool), u64>,
}

/// Checks names and sizes and lays out the directory entries.
pub fn prepare(tree: &Directory, label: Option<[u8; 11]>, sector_size: u32) -> Result<Prepared, FatError> {
    let mut p =
        Prepared { dirs: Vec::new(), files: Vec::new(), label, sector_size, fat32_only: false, needs: HashMap::new() };
    p.dirs.push(Dir { parent: 0, entries: Vec::new(), slots: 0 });
    p.visit(tree, 0, "")?;
    for shift in 0..8 {
        for fat32 in [false, true] {
            let sectors = 1u32 << shift;
            let needed = p.count_clusters(u64::from(sectors) * u64::from(sector_size), fat32);
            p.needs.insert((sectors, fat32), needed);
        }
    }
    Ok(p)
}

impl Prepared {
    fn visit(&mut self, dir: &Directory, index: usize, path: &str) -> Result<(), FatError> {
        let mut folded: HashMap<String, String> = HashMap::new();
        let mut shorts = ShortNames::default();
        let mut named = Vec::with_capacity(dir.entries.len());
        for (name, node) in &dir.entries {
            let child = format!("{path}/{}", name.to_string_lossy());
            let units =
                long_name(name).map_err(|p| FatError::BadName { path: child.clone(), problem: p.to_string() })?;
            let text = String::from_utf16_lossy(&units);
            if let Some(first) = folded.insert(text.to_uppercase(), child.clone()) {
                return Err(FatError::CaseCollision { first, second: child });
            }
            let exact = exact_short(&text);
            if let Some(short) = exact {
                shorts.reserve(short);
            }
            named.push((text, units, exact, node, child));
        }
        let mut subdirs = Vec::new();
        let mut slots: u64 = if index == 0 { u64::from(self.label.is_some()) } else { 2 };
        for (text, units, exact, node, child) in named {
            let short = exact.unwrap_or_else(|| shorts.generate(&text));
            let long = if exact.is_some() { None } else { Some(units) };
            slots += 1 + long.as_ref().map_or(0, |u| lfn_entry_count(u.len()) as u64);
            let mtime = match node {
                Node::File(file) => Some(file.mtime),
                // Directories take SOURCE_DATE_EPOCH, as systemd-repart 262
                // writes them (257 kept the source's, or the build's time).
                Node::Directory(_) => None,
                Node::Symlink(link) => Some(link.mtime),
            };
            let target = match node {
                Node::File(file) if file.size > MAX_FILE_SIZE => {
                    return Err(FatError::FileTooLarge { path: child, size: file.size });
                }
                Node::File(file) => {
                    self.files.push(File { source: file.source.clone(), size: file.size });
                    Target::File(self.files.len() - 1)
                }
                Node::Directory(sub) => {
                    self.dirs.push(Dir { parent: index, entries: Vec::new(), slots: 0 });
                    subdirs.push((self.dirs.len() - 1, sub, child));
                    Target::Dir(self.dirs.len() - 1)
                }
                Node::Symlink(_) => return Err(FatError::Symlink { path: child }),
            };
            self.dirs[index].entries.push(Entry { long, short, target, mtime });
        }
        if slots > MAX_DIR_ENTRIES {
            let shown = if path.is_empty() { "/".to_string() } else { path.to_string() };
            return Err(FatError::TooManyEntries { path: shown, entries: slots });
        }
        self.dirs[index].slots = slots;
        for (sub_index, sub, child) in subdirs {
            self.visit(sub, sub_index, &child)?;
        }
        Ok(())
    }

    /// Clusters for all directories (the root only on FAT32) and files.
    fn count_clusters(&self, cluster_bytes: u64, fat32: bool) -> u64 {
        let dirs: u64 = self
            .dirs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 0 || fat32)
            .map(|(_, d)| (d.slots * 32).div_ceil(cluster_bytes).max(1))
            .sum();
        dirs + self.files.iter().map(|f| f.size.div_ceil(cluster_bytes)).sum::<u64>()
    }

    pub(crate) fn clusters_needed(&self, g: &Geometry) -> u64 {
        let key = (g.sectors_per_cluster, g.fat_type == FatType::Fat32);
        self.needs.get(&key).copied().unwrap_or_else(|| self.count_clusters(g.cluster_bytes(), key.1))
    }

    /// Root entries for FAT12/16: mkfs.fat's 512, or more for a big root.
    fn root_entries(&self) -> u32 {
        let per_sector = u64::from(self.sector_size / 32);
        let needed = self.dirs[0].slots.div_ceil(per_sector) * per_sector;
        u32::try_from(needed).unwrap_or(u32::MAX).max(DEFAULT_ROOT_ENTRIES)
    }

    /// Makes every volume FAT32, whatever its size: what firmware reads
    /// most reliably from an ESP (systemd-repart 258 and newer do the same).
    pub fn fat32_only(mut self) -> Prepared {
        self.fat32_only = true;
        self
    }

    /// The geometry of a volume of `bytes`, if the content fits in it.
    pub fn geometry_for(&self, bytes: u64) -> Option<Geometry> {
        let g = choose_kind(bytes, self.sector_size, self.root_entries(), self.fat32_only)?;
        let root_fits = g.fat_type == FatType::Fat32 || self.dirs[0].slots <= u64::from(g.root_entries);
        // mkfs.fat refuses volumes with fewer than 32 KiB after the metadata.
        let data_start_bytes = u64::from(g.data_start()) * u64::from(self.sector_size);
        let viable = bytes / 1024 >= data_start_bytes.div_ceil(1024) + 32;
        (root_fits && viable && u64::from(g.cluster_count) >= self.clusters_needed(&g)).then_some(g)
    }

    /// The smallest volume, a multiple of `grain` bytes, that holds the content.
    pub fn minimal_size(&self, grain: u64) -> Result<u64, FatError> {
        const LIMIT: u64 = 16 << 40;
        let content: u64 = self.files.iter().map(|f| f.size).sum();
        let mut bytes = content.div_ceil(grain).max(1) * grain;
        while bytes <= LIMIT {
            if self.geometry_for(bytes).is_some() {
                return Ok(bytes);
            }
            bytes += grain;
        }
        Err(FatError::TooLarge { limit: LIMIT })
    }

    /// The largest volume of at most `available` bytes (in steps of `grain`)
    /// that holds the content. Usually `available` itself; smaller only when
    /// the cluster size mkfs.fat picks for that size leaves too few clusters.
    pub fn fitting_size(&self, available: u64, grain: u64) -> Result<(u64, Geometry), FatError> {
        let minimal = self.minimal_size(grain)?;
        let mut bytes = available / grain * grain;
        while bytes >= minimal {
            if let Some(g) = self.geometry_for(bytes) {
                return Ok((bytes, g));
            }
            bytes -= grain;
        }
        Err(FatError::DoesNotFit { needed: minimal, available })
    }
}
