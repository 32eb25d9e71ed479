//! qcow2 version 3 (QEMU's docs/interop/qcow2.txt), 64 KiB clusters,
//! 16-bit refcounts, no backing file, no snapshots, no extensions.
//!
//! Written in one pass over the raw image, in this order: the header
//! cluster and the L1 table (their sizes follow from the virtual size),
//! then the data clusters in guest order (clusters that are all zero are
//! left unallocated), then the L2 tables, then the refcount table and its
//! blocks. With `compressed`, each data cluster is deflated (raw deflate,
//! 4 KiB window, as QEMU reads it) in parallel batches and the results are
//! packed back to back in guest order; a cluster that does not shrink is
//! stored whole, cluster-aligned. Every host cluster in use has refcount
//! 1, or, for clusters holding compressed data, the number of compressed
//! clusters that touch it. Not here: reading qcow2.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

use nix_repart_progress::Counter;

use super::blocks::nonzero_blocks_with;

const CLUSTER_BITS: u32 = 16;
const CLUSTER: u64 = 1 << CLUSTER_BITS;
const L2_ENTRIES: u64 = CLUSTER / 8;
/// Refcount entries (16 bits) per refcount block.
const REFCOUNTS_PER_BLOCK: u64 = CLUSTER / 2;
const HEADER_LENGTH: u32 = 104;
const COPIED: u64 = 1 << 63;
const COMPRESSED: u64 = 1 << 62;
/// Bit where a compressed descriptor's sector count starts (62 - (16 - 8)).
const CSECTORS_SHIFT: u32 = 62 - (CLUSTER_BITS - 8);

/// Where a guest cluster's data is.
#[derive(Clone, Copy)]
enum Place {
    Cluster(u64),
    Compressed { offset: u64, len: u64 },
}

/// Writes the raw image `source` as qcow2 to `out` (positioned from 0).
pub fn write(source: &File, out: &mut (impl Write + Seek), compressed: bool, counter: &Counter) -> io::Result<()> {
    let size = source.metadata()?.len();
    let guest_clusters = size.div_ceil(CLUSTER);
    let l1_entries = guest_clusters.div_ceil(L2_ENTRIES).max(1);
    let l1_clusters = (l1_entries * 8).div_ceil(CLUSTER);
    let data_start = (1 + l1_clusters) * CLUSTER;
    out.seek(SeekFrom::Start(data_start))?;
    let mut data = DataWriter { out, at: data_start, places: Vec::new() };
    let store = |cluster: Vec<u8>| if compressed { deflate(cluster) } else { Ok(Stored::Whole(cluster)) };
    nonzero_blocks_with(source, CLUSTER, counter, store, |index, stored| data.put(index, stored))?;
    let DataWriter { out, at, places } = data;
    finish(out, at, size, l1_entries, &places)
}

enum Stored {
    Whole(Vec<u8>),
    Deflated(Vec<u8>),
}

/// Raw deflate with a 4 KiB window (QEMU inflates with window bits -12);
/// the whole cluster if that is not smaller.
fn deflate(cluster: Vec<u8>) -> io::Result<Stored> {
    let mut c = flate2::Compress::new_with_window_bits(flate2::Compression::default(), false, 12);
    let mut out = Vec::with_capacity(cluster.len());
    match c.compress_vec(&cluster, &mut out, flate2::FlushCompress::Finish) {
        Ok(flate2::Status::StreamEnd) if out.len() < cluster.len() => Ok(Stored::Deflated(out)),
        Ok(_) => Ok(Stored::Whole(cluster)),
        Err(e) => Err(io::Error::other(e)),
    }
}

struct DataWriter<'o, W> {
    out: &'o mut W,
    at: u64,
    places: Vec<(u64, Place)>,
}

impl<W: Write + Seek> DataWriter<'_, W> {
    fn put(&mut self, index: u64, stored: Stored) -> io::Result<()> {
        match stored {
            Stored::Whole(bytes) => {
                self.align()?;
                self.out.write_all(&bytes)?;
                self.places.push((index, Place::Cluster(self.at)));
                self.at += CLUSTER;
            }
            Stored::Deflated(bytes) => {
                self.out.write_all(&bytes)?;
                self.places.push((index, Place::Compressed { offset: self.at, len: bytes.len() as u64 }));
                self.at += bytes.len() as u64;
            }
        }
        Ok(())
    }

    fn align(&mut self) -> io::Result<()> {
        let aligned = self.at.div_ceil(CLUSTER) * CLUSTER;
        if aligned > self.at {
            self.out.write_all(&vec![0u8; (aligned - self.at) as usize])?;
            self.at = aligned;
        }
        Ok(())
    }
}

/// L2 tables, refcounts, then the header and the L1 table.
fn finish(
    out: &mut (impl Write + Seek),
    data_end: u64,
    size: u64,
    l1_entries: u64,
    places: &[(u64, Place)],
) -> io::Result<()> {
    let l2_start = data_end.div_ceil(CLUSTER) * CLUSTER;
    // One L2 table per L1 entry that maps any cluster, in L1 order.
    let mut l1 = vec![0u64; l1_entries as usize];
    let mut l2_tables: Vec<Vec<u64>> = Vec::new();
    for &(index, place) in places {
        let l1_index = (index / L2_ENTRIES) as usize;
        if l1[l1_index] == 0 {
            l1[l1_index] = (l2_start + l2_tables.len() as u64 * CLUSTER) | COPIED;
            l2_tables.push(vec![0u64; L2_ENTRIES as usize]);
        }
        // Guest order: the cluster's table is always the last one made.
        let Some(table) = l2_tables.last_mut() else { continue };
        table[(index % L2_ENTRIES) as usize] = match place {
            Place::Cluster(offset) => offset | COPIED,
            Place::Compressed { offset, len } => {
                let sectors = ((offset + len - 1) >> 9) - (offset >> 9) + 1;
                COMPRESSED | ((sectors - 1) << CSECTORS_SHIFT) | offset
            }
        };
    }
    out.seek(SeekFrom::Start(l2_start))?;
    for table in &l2_tables {
        out.write_all(&be64s(table))?;
    }
    let refcount_start = l2_start + l2_tables.len() as u64 * CLUSTER;
    let (table_clusters, block_clusters) = refcount_sizes(refcount_start / CLUSTER);
    let total = refcount_start / CLUSTER + table_clusters + block_clusters;
    let mut counts = vec![0u16; total as usize];
    let l1_clusters = (l1_entries * 8).div_ceil(CLUSTER);
    for c in 0..1 + l1_clusters {
        counts[c as usize] = 1;
    }
    for &(_, place) in places {
        match place {
            Place::Cluster(offset) => counts[(offset / CLUSTER) as usize] += 1,
            Place::Compressed { offset, len } => {
                for c in offset / CLUSTER..=(offset + len - 1) / CLUSTER {
                    counts[c as usize] += 1;
                }
            }
        }
    }
    for c in l2_start / CLUSTER..total {
        counts[c as usize] = 1;
    }
    let blocks_start = refcount_start + table_clusters * CLUSTER;
    let mut table = vec![0u64; (table_clusters * CLUSTER / 8) as usize];
    for (i, entry) in table.iter_mut().enumerate().take(block_clusters as usize) {
        *entry = blocks_start + i as u64 * CLUSTER;
    }
    out.seek(SeekFrom::Start(refcount_start))?;
    out.write_all(&be64s(&table))?;
    let mut blocks = vec![0u8; (block_clusters * CLUSTER) as usize];
    for (i, count) in counts.iter().enumerate() {
        blocks[i * 2..i * 2 + 2].copy_from_slice(&count.to_be_bytes());
    }
    out.write_all(&blocks)?;
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&header(size, l1_entries, refcount_start, table_clusters))?;
    out.seek(SeekFrom::Start(CLUSTER))?;
    out.write_all(&be64s(&l1))?;
    Ok(())
}

/// Refcount table and block clusters for `used` clusters before them,
/// counting themselves.
fn refcount_sizes(used: u64) -> (u64, u64) {
    let (mut table, mut blocks) = (1u64, 1u64);
    loop {
        let total = used + table + blocks;
        let need_blocks = total.div_ceil(REFCOUNTS_PER_BLOCK);
        let need_table = (need_blocks * 8).div_ceil(CLUSTER);
        if need_blocks == blocks && need_table == table {
            return (table, blocks);
        }
        (table, blocks) = (need_table.max(table), need_blocks.max(blocks));
    }
}

fn be64s(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// The version 3 header, zero to the end of its cluster.
fn header(size: u64, l1_entries: u64, refcount_table: u64, refcount_clusters: u64) -> Vec<u8> {
    let mut h = vec![0u8; CLUSTER as usize];
    h[0..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&3u32.to_be_bytes());
    h[20..24].copy_from_slice(&CLUSTER_BITS.to_be_bytes());
    h[24..32].copy_from_slice(&size.to_be_bytes());
    h[36..40].copy_from_slice(&(l1_entries as u32).to_be_bytes());
    h[40..48].copy_from_slice(&CLUSTER.to_be_bytes()); // L1 table: cluster 1
    h[48..56].copy_from_slice(&refcount_table.to_be_bytes());
    h[56..60].copy_from_slice(&(refcount_clusters as u32).to_be_bytes());
    h[96..100].copy_from_slice(&4u32.to_be_bytes()); // refcount_order: 16 bits
    h[100..104].copy_from_slice(&HEADER_LENGTH.to_be_bytes());
    // Header extensions start at HEADER_LENGTH: only the end marker (zeros).
    h
}
