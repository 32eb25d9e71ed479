//! Where partitions may go on a GPT disk of a given size, the way
//! systemd-repart sees a disk that libfdisk has just labelled: the first
//! usable LBA is 1 MiB in, or right after the entry array (LBA 34 with
//! 512-byte sectors, 6 with 4096) on a disk of at most 4 MiB, where
//! libfdisk drops its 1 MiB alignment (seen with systemd-repart 257 here:
//! 4 MiB gives first-lba 34, 4 MiB + 4 KiB gives 2048); the partition
//! entry array holds 128 entries of 128 bytes, the backup header is the
//! last LBA, and the usable area is rounded inwards to the grain.

use nix_repart_spec::{Bytes, SectorSize};
use serde::Serialize;

/// A logical block address, in sectors of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Lba(pub u64);

/// Entries in the GPT partition entry array.
pub const PARTITION_ENTRIES: u64 = 128;
/// Bytes per partition entry.
pub const PARTITION_ENTRY_SIZE: u64 = 128;
/// The size of the partition entry array.
pub const ENTRY_ARRAY_BYTES: u64 = PARTITION_ENTRIES * PARTITION_ENTRY_SIZE;
/// Where libfdisk puts the first usable byte: 1 MiB (LBA 2048 at 512 bytes).
pub const FIRST_USABLE_BYTE: u64 = 1 << 20;
/// The largest disk libfdisk aligns to the entry array instead.
pub const SMALL_DISK: u64 = 4 << 20;
/// The overhead of an auto-sized image: 1 MiB in front, and at the end
/// exactly the backup entry array and header (16 KiB + one sector), as
/// systemd-repart 262 sizes it. 257 and older reserve 20 KiB at the end
/// (`GPT_METADATA_SIZE`), 7 sectors more with 512-byte sectors; the same
/// with 4096-byte sectors.
pub fn gpt_metadata_size(sector: SectorSize) -> Bytes {
    Bytes(FIRST_USABLE_BYTE) + (Bytes(ENTRY_ARRAY_BYTES) + sector.bytes()).round_up(sector.bytes())
}

/// The usable area of a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub sector_size: Bytes,
    pub grain: Bytes,
    pub total: Bytes,
    pub first_usable: Lba,
    pub last_usable: Lba,
    /// First byte a partition may start at (grain-aligned).
    pub start: Bytes,
    /// One past the last byte a partition may use (grain-aligned).
    pub end: Bytes,
}

impl Geometry {
    /// The geometry of a disk of `total` bytes, or `None` when it is too
    /// small to hold the GPT structures and any usable space.
    pub fn new(total: Bytes, sector: SectorSize) -> Option<Geometry> {
        let (sector_size, grain) = (sector.bytes(), sector.grain());
        let sectors = total.0 / sector_size.0;
        let array_sectors = ENTRY_ARRAY_BYTES.div_ceil(sector_size.0);
        let first_usable =
            if total.0 <= SMALL_DISK { Lba(2 + array_sectors) } else { Lba(FIRST_USABLE_BYTE / sector_size.0) };
        let last_usable = Lba(sectors.checked_sub(2 + array_sectors)?);
        if last_usable < first_usable {
            return None;
        }
        let start = Bytes(first_usable.0 * sector_size.0).round_up(grain);
        let end = Bytes((last_usable.0 + 1) * sector_size.0).round_down(grain);
        (end >= start).then_some(Geometry { sector_size, grain, total, first_usable, last_usable, start, end })
    }

    /// The LBA of a byte offset.
    pub fn lba(&self, offset: Bytes) -> Lba {
        Lba(offset.0 / self.sector_size.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sfdisk_of_systemd_repart_images() {
        // 75 MiB + 20 KiB image from systemd-repart 252: first-lba 2048, last-lba 153606.
        let g = Geometry::new(Bytes(78663680), SectorSize(512)).expect("fits");
        assert_eq!((g.first_usable, g.last_usable), (Lba(2048), Lba(153606)));
        assert_eq!((g.start, g.end), (Bytes(1 << 20), Bytes(78663680 - 20480)));
        // 100 MiB on a 4096-byte-sector loop device: first-lba 256, last-lba 25594.
        let g = Geometry::new(Bytes(100 << 20), SectorSize(4096)).expect("fits");
        assert_eq!((g.first_usable, g.last_usable), (Lba(256), Lba(25594)));
        // Disks of at most 4 MiB, from systemd-repart 257's sfdisk -d.
        let g = Geometry::new(Bytes(4 << 20), SectorSize(512)).expect("fits");
        assert_eq!((g.first_usable, g.last_usable, g.start), (Lba(34), Lba(8158), Bytes(20480)));
        let g = Geometry::new(Bytes((4 << 20) + 4096), SectorSize(512)).expect("fits");
        assert_eq!(g.first_usable, Lba(2048));
        let g = Geometry::new(Bytes(4 << 20), SectorSize(4096)).expect("fits");
        assert_eq!((g.first_usable, g.start), (Lba(6), Bytes(24576)));
        assert!(Geometry::new(Bytes(16 << 10), SectorSize(512)).is_none());
    }
}
