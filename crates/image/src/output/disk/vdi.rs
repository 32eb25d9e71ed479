//! VirtualBox's VDI, version 1.1, dynamic (QEMU's block/vdi.c describes the
//! layout): a 512-byte header, the block map (one little-endian u32 per
//! 1 MiB block: its index in the data area, or unallocated), then the
//! allocated blocks in guest order. The image and snapshot UUIDs come from
//! the seed, nothing from the clock. Not here: reading VDI.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

use nix_repart_progress::Counter;
use uuid::Uuid;

use super::blocks::nonzero_blocks;

const BLOCK: u64 = 1 << 20;
const HEADER: u64 = 512;
const UNALLOCATED: u32 = 0xFFFF_FFFF;

/// Writes the raw image `source` as a dynamic VDI to `out` (from 0): the
/// blocks first, after room for the header and map, then those two.
pub fn write(source: &File, out: &mut (impl Write + Seek), ids: (Uuid, Uuid), counter: &Counter) -> io::Result<()> {
    let size = source.metadata()?.len();
    let blocks = size.div_ceil(BLOCK);
    let map_bytes = (blocks * 4).div_ceil(512) * 512;
    let mut map = vec![UNALLOCATED; blocks as usize];
    let mut allocated: u32 = 0;
    out.seek(SeekFrom::Start(HEADER + map_bytes))?;
    nonzero_blocks(source, BLOCK, counter, |index, bytes| {
        map[index as usize] = allocated;
        allocated += 1;
        out.write_all(bytes)
    })?;
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&header(size, blocks, map_bytes, allocated, ids))?;
    let mut map_area = vec![0u8; map_bytes as usize];
    for (i, entry) in map.iter().enumerate() {
        map_area[i * 4..i * 4 + 4].copy_from_slice(&entry.to_le_bytes());
    }
    out.write_all(&map_area)
}

fn put32(h: &mut [u8], at: usize, v: u32) {
    h[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn header(size: u64, blocks: u64, map_bytes: u64, allocated: u32, (image, snapshot): (Uuid, Uuid)) -> Vec<u8> {
    let mut h = vec![0u8; HEADER as usize];
    let text = b"<<< Oracle VM VirtualBox Disk Image >>>\n";
    h[..text.len()].copy_from_slice(text);
    put32(&mut h, 0x40, 0xBEDA_107F); // signature
    put32(&mut h, 0x44, 0x0001_0001); // version 1.1
    put32(&mut h, 0x48, 0x180); // header size
    put32(&mut h, 0x4C, 1); // dynamic
    put32(&mut h, 0x154, HEADER as u32); // block map offset
    put32(&mut h, 0x158, (HEADER + map_bytes) as u32); // data offset
    put32(&mut h, 0x168, 512); // sector size
    h[0x170..0x178].copy_from_slice(&size.to_le_bytes());
    put32(&mut h, 0x178, BLOCK as u32);
    put32(&mut h, 0x180, blocks as u32);
    put32(&mut h, 0x184, allocated);
    h[0x188..0x198].copy_from_slice(&image.to_bytes_le());
    h[0x198..0x1A8].copy_from_slice(&snapshot.to_bytes_le());
    h
}
