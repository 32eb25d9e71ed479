//! VHD, dynamic (Microsoft's "Virtual Hard Disk Image Format
//! Specification"; QEMU's `vpc`): a 512-byte footer (also at the end of the
//! file), the 1024-byte dynamic disk header, the block allocation table
//! (one big-endian u32 per 2 MiB block: the sector of its bitmap, or
//! unallocated), then each allocated block: a 512-byte sector bitmap (all
//! sectors present) and its 2 MiB. The creator application is "win ", so
//! that QEMU, like Hyper-V, takes the disk size from the footer's current
//! size rather than from the CHS geometry; the timestamp is
//! SOURCE_DATE_EPOCH, the unique id comes from the seed. Not here: fixed
//! VHDs (Azure uploads want them; `qemu-img convert -O vpc -o
//! subformat=fixed` makes one) and reading VHD.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

use nix_repart_progress::Counter;
use uuid::Uuid;

use super::blocks::nonzero_blocks;

const BLOCK: u64 = 2 << 20;
const SECTOR: u64 = 512;
const FOOTER: u64 = 512;
const DYNAMIC_HEADER: u64 = 1024;
const UNALLOCATED: u32 = 0xFFFF_FFFF;
/// Seconds from 1970-01-01 to 2000-01-01, the VHD epoch.
const VHD_EPOCH: u64 = 946_684_800;

/// Writes the raw image `source` as a dynamic VHD to `out` (from 0).
pub fn write(source: &File, out: &mut (impl Write + Seek), id: Uuid, epoch: u64, counter: &Counter) -> io::Result<()> {
    let size = source.metadata()?.len();
    let blocks = size.div_ceil(BLOCK);
    let bat_offset = FOOTER + DYNAMIC_HEADER;
    let bat_bytes = (blocks * 4).div_ceil(SECTOR) * SECTOR;
    let data_start = bat_offset + bat_bytes;
    let mut bat = vec![UNALLOCATED; blocks as usize];
    let mut at = data_start;
    out.seek(SeekFrom::Start(data_start))?;
    let bitmap = vec![0xFFu8; SECTOR as usize];
    nonzero_blocks(source, BLOCK, counter, |index, bytes| {
        bat[index as usize] = u32::try_from(at / SECTOR).map_err(|_| io::Error::other("VHD larger than 2 TiB"))?;
        out.write_all(&bitmap)?;
        out.write_all(bytes)?;
        at += SECTOR + BLOCK;
        Ok(())
    })?;
    let footer = footer(size, id, epoch);
    out.write_all(&footer)?;
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&footer)?;
    out.write_all(&dynamic_header(bat_offset, blocks))?;
    let mut table = vec![0u8; bat_bytes as usize];
    for (i, entry) in bat.iter().enumerate() {
        table[i * 4..i * 4 + 4].copy_from_slice(&entry.to_be_bytes());
    }
    out.write_all(&table)
}

/// One's complement of the byte sum, the checksum field counted as zero.
fn checksum(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(0u32, |sum, &b| sum.wrapping_add(u32::from(b)))
}

fn footer(size: u64, id: Uuid, epoch: u64) -> Vec<u8> {
    let mut f = vec![0u8; FOOTER as usize];
    f[0..8].copy_from_slice(b"conectix");
    f[8..12].copy_from_slice(&2u32.to_be_bytes()); // features: reserved bit
    f[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes()); // format version
    f[16..24].copy_from_slice(&FOOTER.to_be_bytes()); // the dynamic header
    let seconds = u32::try_from(epoch.saturating_sub(VHD_EPOCH)).unwrap_or(u32::MAX);
    f[24..28].copy_from_slice(&seconds.to_be_bytes());
    f[28..32].copy_from_slice(b"win ");
    f[32..36].copy_from_slice(&0x000A_0000u32.to_be_bytes()); // creator version
    f[36..40].copy_from_slice(b"Wi2k");
    f[40..48].copy_from_slice(&size.to_be_bytes()); // original size
    f[48..56].copy_from_slice(&size.to_be_bytes()); // current size
    f[56..60].copy_from_slice(&geometry(size / SECTOR).to_be_bytes());
    f[60..64].copy_from_slice(&3u32.to_be_bytes()); // dynamic
    f[68..84].copy_from_slice(id.as_bytes());
    let sum = checksum(&f);
    f[64..68].copy_from_slice(&sum.to_be_bytes());
    f
}

fn dynamic_header(bat_offset: u64, blocks: u64) -> Vec<u8> {
    let mut h = vec![0u8; DYNAMIC_HEADER as usize];
    h[0..8].copy_from_slice(b"cxsparse");
    h[8..16].copy_from_slice(&u64::MAX.to_be_bytes()); // no next structure
    h[16..24].copy_from_slice(&bat_offset.to_be_bytes());
    h[24..28].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    h[28..32].copy_from_slice(&(blocks as u32).to_be_bytes());
    h[32..36].copy_from_slice(&(BLOCK as u32).to_be_bytes());
    let sum = checksum(&h);
    h[36..40].copy_from_slice(&sum.to_be_bytes());
    h
}

/// The specification's CHS algorithm: cylinders (16 bits), heads, sectors
/// per track, packed as the footer stores them.
fn geometry(total: u64) -> u32 {
    let total = total.min(65_535 * 16 * 255);
    let (mut spt, mut heads, mut cth);
    if total >= 65_535 * 16 * 63 {
        spt = 255;
        heads = 16;
        cth = total / spt;
    } else {
        spt = 17;
        cth = total / spt;
        heads = cth.div_ceil(1024).max(4);
        if cth >= heads * 1024 || heads > 16 {
            spt = 31;
            heads = 16;
            cth = total / spt;
        }
        if cth >= heads * 1024 {
            spt = 63;
            heads = 16;
            cth = total / spt;
        }
    }
    let cylinders = cth / heads;
    ((cylinders as u32) << 16) | ((heads as u32) << 8) | spt as u32
}
