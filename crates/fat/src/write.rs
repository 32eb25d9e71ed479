//! Writing a prepared tree as a FAT volume into a region of a file that
//! reads as zeros (a fresh, sparse image): boot sector, FSInfo and backup
//! boot sector (FAT32), both FATs, directories, and file data, the latter
//! read and written in parallel. Clusters are handed out in one sweep:
//! the FAT32 root directory, the other directories, then the files, each
//! contiguous, so every chain is a run of consecutive clusters.

use std::fs::File;
use std::os::unix::fs::FileExt;

use nix_repart_tree::{copy_source, CopyError};
use rayon::prelude::*;

use crate::geometry::{FatType, Geometry, FAT_COUNT};
use crate::label::NO_NAME;
use crate::names::lfn_entries;
use crate::prepare::{Prepared, Target};
use crate::time::FatTime;
use crate::FatError;

/// Settings that are not part of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// First four bytes of the filesystem UUID, read big-endian (as
    /// systemd-repart passes them to `mkfs.vfat -i`).
    pub volume_id: u32,
    /// The build's time (`SOURCE_DATE_EPOCH`): the label's and the `.`/`..`
    /// entries', and the latest mtime an entry may have.
    pub timestamp: u64,
    /// The partition's first sector, for the BPB's hidden-sectors field.
    pub hidden_sectors: u32,
}

const ATTR_DIRECTORY: u8 = 0x10;
const ATTR_ARCHIVE: u8 = 0x20;
const ATTR_VOLUME_ID: u8 = 0x08;
const MEDIA: u8 = 0xF8;
/// x86 for "int 18h; jmp $": a BIOS that boots this volume asks for the
/// next boot device instead of running zeros.
const BOOT_CODE: [u8; 4] = [0xCD, 0x18, 0xEB, 0xFE];

/// First cluster and cluster count of every directory and file.
struct Allocation {
    dirs: Vec<(u32, u32)>,
    files: Vec<(u32, u32)>,
    used: u32,
}

fn allocate(p: &Prepared, g: &Geometry) -> Allocation {
    let cluster = g.cluster_bytes();
    let mut next = 2u32;
    let mut take = |bytes: u64, at_least_one: bool| {
        let count = bytes.div_ceil(cluster).max(u64::from(at_least_one)) as u32;
        let start = if count == 0 { 0 } else { next };
        next += count;
        (start, count)
    };
    let fat32 = g.fat_type == FatType::Fat32;
    let dirs = p
        .dirs
        .iter()
        .enumerate()
        .map(|(i, d)| if i == 0 && !fat32 { (0, 0) } else { take(d.slots * 32, true) })
        .collect();
    let files = p.files.iter().map(|f| take(f.size, false)).collect();
    Allocation { dirs, files, used: next - 2 }
}

/// Writes the volume at byte `offset` of `image`, with geometry `g` (from
/// [`Prepared::geometry_for`]).
pub fn write(p: &Prepared, image: &File, offset: u64, g: &Geometry, options: &WriteOptions) -> Result<(), FatError> {
    let alloc = allocate(p, g);
    let at = |sector: u32| offset + u64::from(sector) * u64::from(g.sector_size);
    let put = |bytes: &[u8], position: u64| image.write_all_at(bytes, position).map_err(FatError::Write);
    let boot = boot_sector(p, g, options);
    put(&boot, at(0))?;
    if g.fat_type == FatType::Fat32 {
        put(&fs_info(g, alloc.used), at(1))?;
        put(&boot, at(6))?;
    }
    let fat = fat_table(g, &alloc);
    for copy in 0..FAT_COUNT {
        put(&fat, at(g.reserved_sectors + copy * g.fat_sectors))?;
    }
    let time = FatTime::from_unix(options.timestamp);
    for (index, dir) in p.dirs.iter().enumerate() {
        let bytes = directory_bytes(p, index, dir.parent, &alloc, time, options.timestamp);
        let position = match alloc.dirs[index] {
            (0, _) => at(g.reserved_sectors + FAT_COUNT * g.fat_sectors),
            (start, _) => offset + g.cluster_offset(start),
        };
        put(&bytes, position)?;
    }
    copy_files(p, image, offset, g, &alloc)
}

fn le16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn le32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The boot sector with its BIOS parameter block (fatgen103 §3).
fn boot_sector(p: &Prepared, g: &Geometry, o: &WriteOptions) -> Vec<u8> {
    let mut b = vec![0u8; 512];
    let fat32 = g.fat_type == FatType::Fat32;
    let ext = if fat32 { 64 } else { 36 }; // the extended BPB
    let code = ext + 26;
    b[0..3].copy_from_slice(&[0xEB, (code - 2) as u8, 0x90]);
    b[3..11].copy_from_slice(b"MSWIN4.1"); // the OEM name fatgen103 recommends
    le16(&mut b, 11, g.sector_size as u16);
    b[13] = g.sectors_per_cluster as u8;
    le16(&mut b, 14, g.reserved_sectors as u16);
    b[16] = FAT_COUNT as u8;
    le16(&mut b, 17, g.root_entries as u16);
    if g.total_sectors < 65536 {
        le16(&mut b, 19, g.total_sectors as u16);
    } else {
        le32(&mut b, 32, g.total_sectors);
    }
    b[21] = MEDIA;
    le16(&mut b, 24, g.sectors_per_track);
    le16(&mut b, 26, g.heads);
    le32(&mut b, 28, o.hidden_sectors);
    if fat32 {
        le32(&mut b, 36, g.fat_sectors);
        le32(&mut b, 44, 2); // root directory cluster
        le16(&mut b, 48, 1); // FSInfo sector
        le16(&mut b, 50, 6); // backup boot sector
    } else {
        le16(&mut b, 22, g.fat_sectors as u16);
    }
    b[ext] = 0x80; // drive number
    b[ext + 2] = 0x29; // extended boot signature
    le32(&mut b, ext + 3, o.volume_id);
    b[ext + 7..ext + 18].copy_from_slice(&p.label.unwrap_or(NO_NAME));
    let kind: &[u8; 8] = match g.fat_type {
        FatType::Fat12 => b"FAT12   ",
        FatType::Fat16 => b"FAT16   ",
        FatType::Fat32 => b"FAT32   ",
    };
    b[ext + 18..ext + 26].copy_from_slice(kind);
    b[code..code + BOOT_CODE.len()].copy_from_slice(&BOOT_CODE);
    b[510] = 0x55;
    b[511] = 0xAA;
    b
}

/// FAT32's FSInfo sector, with the exact free count and next free cluster.
fn fs_info(g: &Geometry, used: u32) -> Vec<u8> {
    let mut b = vec![0u8; 512];
    le32(&mut b, 0, 0x4161_5252);
    le32(&mut b, 484, 0x6141_7272);
    le32(&mut b, 488, g.cluster_count - used);
    le32(&mut b, 492, if used < g.cluster_count { 2 + used } else { 0xFFFF_FFFF });
    le32(&mut b, 508, 0xAA55_0000);
    b
}

/// One FAT: the media entry, an end-of-chain entry, then every chain.
fn fat_table(g: &Geometry, alloc: &Allocation) -> Vec<u8> {
    let mask: u32 = match g.fat_type {
        FatType::Fat12 => 0xFFF,
        FatType::Fat16 => 0xFFFF,
        FatType::Fat32 => 0x0FFF_FFFF,
    };
    let mut entries = vec![0u32; 2 + alloc.used as usize];
    entries[0] = (0x0FFF_FF00 | u32::from(MEDIA)) & mask;
    entries[1] = mask;
    for &(start, count) in alloc.dirs.iter().chain(&alloc.files).filter(|(s, _)| *s != 0) {
        for cluster in start..start + count - 1 {
            entries[cluster as usize] = cluster + 1;
        }
        entries[(start + count - 1) as usize] = mask;
    }
    let mut bytes = vec![0u8; g.fat_sectors as usize * g.sector_size as usize];
    match g.fat_type {
        FatType::Fat12 => {
            for (i, pair) in entries.chunks(2).enumerate() {
                let (a, b) = (pair[0], pair.get(1).copied().unwrap_or(0));
                let packed = (a | (b << 12)).to_le_bytes();
                let end = (i * 3 + 3).min(bytes.len());
                bytes[i * 3..end].copy_from_slice(&packed[..end - i * 3]);
            }
        }
        FatType::Fat16 => entries.iter().enumerate().for_each(|(i, e)| le16(&mut bytes, i * 2, *e as u16)),
        FatType::Fat32 => entries.iter().enumerate().for_each(|(i, e)| le32(&mut bytes, i * 4, *e)),
    }
    bytes
}

/// A 32-byte short entry.
fn short_entry(name: &[u8; 11], attr: u8, cluster: u32, size: u32, t: FatTime) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[0..11].copy_from_slice(name);
    e[11] = attr;
    e[13] = t.hundredths;
    le16(&mut e, 14, t.time);
    le16(&mut e, 16, t.date);
    le16(&mut e, 18, t.date);
    le16(&mut e, 20, (cluster >> 16) as u16);
    le16(&mut e, 22, t.time);
    le16(&mut e, 24, t.date);
    le16(&mut e, 26, cluster as u16);
    le32(&mut e, 28, size);
    e
}

/// The bytes of one directory: its whole clusters (or the FAT12/16 root's
/// entries), zero after the last entry.
/// `t` is the build's time, for the label and the `.`/`..` entries; each
/// entry has its source's mtime clamped to `epoch` (FAT's 1980 floor aside).
fn directory_bytes(p: &Prepared, index: usize, parent: usize, alloc: &Allocation, t: FatTime, epoch: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.dirs[index].slots as usize * 32);
    if index == 0 {
        if let Some(label) = p.label {
            out.extend_from_slice(&short_entry(&label, ATTR_VOLUME_ID, 0, 0, t));
        }
    } else {
        // ".." of a directory in the root points at cluster 0 (fatgen103 §6).
        let parent_cluster = if parent == 0 { 0 } else { alloc.dirs[parent].0 };
        out.extend_from_slice(&short_entry(b".          ", ATTR_DIRECTORY, alloc.dirs[index].0, 0, t));
        out.extend_from_slice(&short_entry(b"..         ", ATTR_DIRECTORY, parent_cluster, 0, t));
    }
    for entry in &p.dirs[index].entries {
        if let Some(long) = &entry.long {
            for lfn in lfn_entries(long, &entry.short) {
                out.extend_from_slice(&lfn);
            }
        }
        let time = FatTime::from_unix(nix_repart_tree::image_mtime(entry.mtime, epoch));
        let short = match entry.target {
            Target::Dir(d) => short_entry(&entry.short, ATTR_DIRECTORY, alloc.dirs[d].0, 0, time),
            Target::File(f) => short_entry(&entry.short, ATTR_ARCHIVE, alloc.files[f].0, p.files[f].size as u32, time),
        };
        out.extend_from_slice(&short);
    }
    out
}

/// Copies every file to its clusters, in parallel; each worker holds one
/// buffer of at most 1 MiB ([`copy_source`]).
fn copy_files(p: &Prepared, image: &File, offset: u64, g: &Geometry, alloc: &Allocation) -> Result<(), FatError> {
    let results: Vec<Result<(), FatError>> = p
        .files
        .par_iter()
        .zip(&alloc.files)
        .map(|(file, &(start, _))| {
            if file.size == 0 {
                return Ok(());
            }
            copy_one(&file.source, file.size, image, offset + g.cluster_offset(start))
        })
        .collect();
    results.into_iter().collect()
}

fn copy_one(source: &std::path::Path, size: u64, image: &File, at: u64) -> Result<(), FatError> {
    copy_source(source, size, image, at).map_err(|e| match e {
        CopyError::Read(e) => FatError::Read { path: source.to_path_buf(), source: e },
        CopyError::Write(e) => FatError::Write(e),
        CopyError::Changed => FatError::SourceChanged { path: source.to_path_buf() },
    })
}
