//! FAT type, cluster size and table sizes for a volume, chosen the way
//! mkfs.fat (dosfstools 4.2, `establish_params()` and `setup_tables()`)
//! chooses them for a fixed disk when no `-F`, `-s` or `-r` is given:
//!
//! - volumes of 512 MiB and more are FAT32, with clusters of 512 B, 4, 8,
//!   16 or 32 KiB above 0, 260 MiB, 8, 16 and 32 GiB (at least a sector);
//! - smaller volumes start at 4 sectors per cluster and take FAT12 or
//!   FAT16, whichever gives more clusters;
//! - the cluster size doubles (up to 128 sectors) until the FAT type has
//!   a valid cluster count (FAT12 ≤ 4078, FAT16 4085…65518, FAT32 ≥ 65529);
//! - reserved sectors (32 for FAT32, 1 otherwise), each FAT and the root
//!   directory (512 entries) are padded to whole clusters, unless the
//!   volume has 8192 sectors or fewer.
//!
//! The root directory may be given more than 512 entries when the root
//! holds more names than that (FAT12/16 only); nothing else differs.

/// Number of FATs (mkfs.fat's default).
pub const FAT_COUNT: u32 = 2;
/// Root directory entries of FAT12/16 volumes (mkfs.fat's default).
pub const DEFAULT_ROOT_ENTRIES: u32 = 512;
const MAX_CLUSTERS_12: u32 = (1 << 12) - 16;
const MAX_CLUSTERS_16: u32 = (1 << 16) - 16;
const MIN_CLUSTERS_32: u32 = 65529;
const MAX_CLUSTERS_32: u32 = (1 << 28) - 16;
const FAT12_THRESHOLD: u32 = 4085;
const MAX_SECTORS_PER_CLUSTER: u32 = 128;
const FAT32_THRESHOLD_BYTES: u64 = 512 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatType {
    Fat12,
    Fat16,
    Fat32,
}

impl FatType {
    pub fn bits(self) -> u32 {
        match self {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        }
    }
}

/// Where everything goes in a FAT volume, in sectors from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub fat_type: FatType,
    pub sector_size: u32,
    pub total_sectors: u32,
    pub sectors_per_cluster: u32,
    pub reserved_sectors: u32,
    pub fat_sectors: u32,
    /// 0 on FAT32, where the root directory is a cluster chain.
    pub root_entries: u32,
    pub cluster_count: u32,
    /// Sectors per track and heads, as mkfs.fat writes them.
    pub sectors_per_track: u16,
    pub heads: u16,
}

impl Geometry {
    pub fn cluster_bytes(&self) -> u64 {
        u64::from(self.sectors_per_cluster) * u64::from(self.sector_size)
    }

    pub fn root_dir_sectors(&self) -> u32 {
        (self.root_entries * 32).div_ceil(self.sector_size)
    }

    /// First sector of the data area (cluster 2).
    pub fn data_start(&self) -> u32 {
        self.reserved_sectors + FAT_COUNT * self.fat_sectors + self.root_dir_sectors()
    }

    /// Byte offset of a cluster (numbered from 2) within the volume.
    pub fn cluster_offset(&self, cluster: u32) -> u64 {
        u64::from(self.data_start()) * u64::from(self.sector_size) + u64::from(cluster - 2) * self.cluster_bytes()
    }
}

/// Cluster counts and FAT lengths for one cluster size.
struct Candidate {
    clusters: u32,
    fat_sectors: u32,
}

struct Sizing {
    sector_size: u32,
    align: bool,
}

impl Sizing {
    fn align(&self, sectors: u32, cluster: u32) -> u32 {
        if self.align {
            sectors.div_ceil(cluster) * cluster
        } else {
            sectors
        }
    }

    /// Clusters for a FAT of `bits` over `data_sectors` (FATs + data), as
    /// mkfs.fat estimates and then recounts them.
    fn candidate(&self, bits: u32, data_sectors: u32, cluster: u32) -> Candidate {
        let ss = u64::from(self.sector_size);
        let (data, cl, fats) = (u64::from(data_sectors), u64::from(cluster), u64::from(FAT_COUNT));
        let estimate = match bits {
            12 => 2 * (data * ss + fats * 3) / (2 * cl * ss + fats * 3),
            16 => (data * ss + fats * 4) / (cl * ss + fats * 2),
            _ => (data * ss + fats * 8) / (cl * ss + fats * 4),
        };
        let fat_bytes = match bits {
            12 => ((estimate + 2) * 3 + 1) >> 1,
            16 => (estimate + 2) * 2,
            _ => (estimate + 2) * 4,
        };
        let fat_sectors = self.align(u32::try_from(fat_bytes.div_ceil(ss)).unwrap_or(u32::MAX), cluster);
        let clusters = data_sectors.saturating_sub(FAT_COUNT.saturating_mul(fat_sectors)) / cluster;
        Candidate { clusters, fat_sectors }
    }
}

/// The geometry mkfs.fat would choose for a volume of `bytes`, or `None`
/// when no FAT fits (too small, or too large for 128 sectors per cluster).
pub fn choose(bytes: u64, sector_size: u32, root_entries: u32) -> Option<Geometry> {
    choose_kind(bytes, sector_size, root_entries, false)
}

/// [`choose`], or with `force_fat32` the geometry of `mkfs.fat -F 32`:
/// `None` where FAT32 would have fewer clusters than the FAT specification
/// allows (mkfs.fat writes such a volume; firmware reads it as FAT16).
pub fn choose_kind(bytes: u64, sector_size: u32, root_entries: u32, force_fat32: bool) -> Option<Geometry> {
    let total_sectors = u32::try_from(bytes / u64::from(sector_size)).unwrap_or(u32::MAX);
    let sizing = Sizing { sector_size, align: total_sectors > 8192 };
    let fat32 = force_fat32 || bytes >= FAT32_THRESHOLD_BYTES;
    let mut cluster = if fat32 { fat32_cluster_sectors(bytes, sector_size) } else { 4 };
    let reserved = if fat32 { 32 } else { 1 };
    let root_entries = if fat32 { 0 } else { root_entries };
    let root_sectors = (root_entries * 32).div_ceil(sector_size);
    while cluster <= MAX_SECTORS_PER_CLUSTER {
        let data32 = total_sectors.saturating_sub(sizing.align(reserved, cluster));
        let data1216 = data32.saturating_sub(sizing.align(root_sectors, cluster));
        let chosen = if fat32 {
            let c = sizing.candidate(32, data32, cluster);
            let max = (c.fat_sectors * sector_size / 4).min(MAX_CLUSTERS_32);
            (c.clusters >= MIN_CLUSTERS_32 && c.clusters <= max).then_some((FatType::Fat32, c))
        } else {
            pick_12_or_16(&sizing, data1216, cluster)
        };
        if let Some((fat_type, c)) = chosen {
            // mkfs.fat grows the root directory to fill its aligned sectors.
            let root_entries = match (fat32, sizing.align) {
                (true, _) => 0,
                (false, true) => sizing.align(root_sectors, cluster) * (sector_size / 32),
                (false, false) => root_entries,
            };
            return Some(Geometry {
                fat_type,
                sector_size,
                total_sectors,
                sectors_per_cluster: cluster,
                reserved_sectors: sizing.align(reserved, cluster),
                fat_sectors: c.fat_sectors,
                root_entries,
                cluster_count: c.clusters,
                sectors_per_track: if bytes < FAT32_THRESHOLD_BYTES { 32 } else { 63 },
                heads: if bytes < FAT32_THRESHOLD_BYTES { 64 } else { 255 },
            });
        }
        cluster <<= 1;
    }
    None
}

/// FAT12 or FAT16, whichever has a valid cluster count and more clusters.
fn pick_12_or_16(sizing: &Sizing, data: u32, cluster: u32) -> Option<(FatType, Candidate)> {
    let ss = sizing.sector_size;
    let mut c12 = sizing.candidate(12, data, cluster);
    if c12.clusters > (c12.fat_sectors * 2 * ss / 3).min(MAX_CLUSTERS_12).saturating_sub(2) {
        c12.clusters = 0;
    }
    let mut c16 = sizing.candidate(16, data, cluster);
    if c16.clusters > (c16.fat_sectors * ss / 2).min(MAX_CLUSTERS_16).saturating_sub(2)
        || c16.clusters < FAT12_THRESHOLD
    {
        c16.clusters = 0;
    }
    match (c12.clusters, c16.clusters) {
        (0, 0) => None,
        (a, b) if b > a => Some((FatType::Fat16, c16)),
        _ => Some((FatType::Fat12, c12)),
    }
}

/// mkfs.fat's FAT32 cluster size by volume size (after fatgen103: 512 B up
/// to 260 MiB, then 4, 8, 16, 32 KiB above 8, 16, 32 GiB), with the size
/// in MiB rounded up and the cluster size kept in bytes across sector sizes,
/// as mkfs.fat 4.2 does (checked against it in the tests).
fn fat32_cluster_sectors(bytes: u64, sector_size: u32) -> u32 {
    let mib = bytes.div_ceil(1 << 20);
    let half_kib_units: u32 = match mib {
        m if m > 32 * 1024 => 64,
        m if m > 16 * 1024 => 32,
        m if m > 8 * 1024 => 16,
        m if m > 260 => 8,
        _ => 1,
    };
    (half_kib_units * 512 / sector_size).max(1)
}
