//! One filesystem written: inodes numbered, blocks allocated, metadata
//! encoded, file data copied in parallel, then bitmaps, descriptors and
//! superblocks. The region is first made all zeros (a hole punched in the
//! image file), so blocks nothing writes (the unused inode tables, the
//! journal's body, pieces of files that are all zeros) read as zeros
//! without being written.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use nix_repart_progress::Counter;
use nix_repart_tree::{Directory, Owner};
use rayon::prelude::*;

use crate::inode::{Fields, EXTENTS_FL, INDEX_FL};
use crate::layout::{Geometry, Run, BLOCK, BLOCKS_PER_GROUP, INODE_SIZE};
use crate::nodes::{Kind, JOURNAL, RESIZE, ROOT};
use crate::plan::{self, Layout, Prepared};
use crate::super_block::{Descriptor, Identity};
use crate::{csum, dir, extent, htree, inode, journal, resize, super_block, Ext4Error};

/// One ext4 filesystem to write.
pub struct Ext4Job<'a> {
    pub tree: &'a Directory,
    pub image: &'a File,
    /// Where the region starts in `image`, in bytes.
    pub offset: u64,
    /// The filesystem's size in blocks of 4 KiB.
    pub blocks: u64,
    /// Inodes wanted (rounded up to whole inode table blocks per group).
    pub inodes: u64,
    pub uuid: uuid::Uuid,
    pub label: &'a str,
    /// SOURCE_DATE_EPOCH: every time but the tree's mtimes.
    pub epoch: u64,
}

/// What was written: the free space left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub blocks: u64,
    pub free_blocks: u64,
    pub inodes: u64,
    pub free_inodes: u64,
}

/// Writes the filesystem of `job`; bytes and files read are counted.
pub fn write(job: &Ext4Job, counter: &Counter) -> Result<Written, Ext4Error> {
    let prepared = Prepared::new(job.tree, job.epoch, &job.uuid);
    let layout = plan::layout(&prepared, job.blocks, job.inodes)?;
    write_layout(job, &prepared, &layout, counter)
}

/// Writes a planned filesystem: the region made zeros, the special
/// inodes, the tree's inodes and blocks, the file data (in parallel), the
/// group metadata and the superblock copies.
fn write_layout(job: &Ext4Job, prepared: &Prepared, layout: &Layout, counter: &Counter) -> Result<Written, Ext4Error> {
    let geometry = &layout.geometry;
    punch_zeros(job.image, job.offset, geometry.blocks * BLOCK)?;
    let out = Out { image: job.image, offset: job.offset };
    let mut tables = InodeTables { ipg: geometry.inodes_per_group, bytes: vec![Vec::new(); geometry.groups as usize] };
    let journal_i_block = special_inodes(job, prepared, layout, &out, &mut tables)?;
    let (files, directories) = tree_inodes(job, prepared, layout, &out, &mut tables)?;
    copy_files(&out, &files, counter)?;
    // Inodes 1-10 are reserved, in use whether or not they hold anything.
    let mut used_inodes: Vec<u64> = (1..=10).collect();
    used_inodes.extend(prepared.inodes.iter().map(|i| u64::from(i.ino)));
    used_inodes.sort_unstable();
    used_inodes.dedup();
    let descriptors = group_metadata(layout, prepared.fs_seed, &out, &tables, &used_inodes, &directories)?;
    let written = Written {
        blocks: geometry.blocks,
        free_blocks: geometry.blocks - layout.used_blocks,
        inodes: geometry.inodes(),
        free_inodes: geometry.inodes() - used_inodes.len() as u64,
    };
    let identity = Identity {
        uuid: *job.uuid.as_bytes(),
        label: job.label,
        epoch: job.epoch,
        free_blocks: written.free_blocks,
        free_inodes: written.free_inodes,
        journal_i_block,
        journal_size: layout.journal.as_ref().map_or(0, |(n, _)| n * BLOCK),
        has_journal: layout.journal.is_some(),
    };
    let gdt = super_block::descriptors(geometry, &descriptors, prepared.fs_seed);
    for group in 0..geometry.groups {
        if let Some(copy) = geometry.super_copy(group) {
            let sb = super_block::superblock(geometry, &identity, group);
            let at = copy.start * BLOCK + if group == 0 { 1024 } else { 0 };
            out.at(at, &sb)?;
            out.at((copy.start + 1) * BLOCK, &gdt)?;
        }
    }
    Ok(written)
}

/// The inode tables' used part: each group's up to its last used inode.
struct InodeTables {
    ipg: u64,
    bytes: Vec<Vec<u8>>,
}

impl InodeTables {
    fn put(&mut self, ino: u32, bytes: &[u8]) {
        let index = u64::from(ino - 1);
        let (group, at) = ((index / self.ipg) as usize, ((index % self.ipg) * INODE_SIZE) as usize);
        let table = &mut self.bytes[group];
        if table.len() < at + INODE_SIZE as usize {
            table.resize(at + INODE_SIZE as usize, 0);
        }
        table[at..at + INODE_SIZE as usize].copy_from_slice(bytes);
    }
}

/// A regular file of the filesystem's own (resize, journal), root's, 0600.
fn own_file(size: u64, blocks: u64, flags: u32, epoch: u64, i_block: [u8; 60]) -> Fields {
    let owner = Owner::default();
    Fields { mode: 0o100600, owner, size, links: 1, blocks, flags, mtime: epoch, epoch, i_block }
}

/// The resize inode and the journal; returns the journal's `i_block` (the
/// superblock keeps a copy).
fn special_inodes(
    job: &Ext4Job,
    prepared: &Prepared,
    layout: &Layout,
    out: &Out,
    tables: &mut InodeTables,
) -> Result<[u8; 60], Ext4Error> {
    let (geometry, fs_seed) = (&layout.geometry, prepared.fs_seed);
    if let Some(dind) = layout.resize {
        for (block, bytes) in resize::blocks(geometry, dind) {
            out.block(block, &bytes)?;
        }
        let mut i_block = [0u8; 60];
        i_block[52..56].copy_from_slice(&(dind as u32).to_le_bytes());
        let fields = own_file(resize::size(), resize::owned_blocks(geometry), 0, job.epoch, i_block);
        tables.put(RESIZE, &inode::encode(&fields, RESIZE, fs_seed));
    }
    let mut i_block = [0u8; 60];
    if let Some((n, at)) = &layout.journal {
        let seed = csum::inode_seed(fs_seed, JOURNAL, 0);
        let leaves = extent::encode(&mut i_block, &at.runs, &at.leaves, seed);
        out.leaves(&at.leaves, &leaves)?;
        let first = at.runs.first().map_or(0, |r| r.start);
        out.block(first, &journal::superblock(*n, job.uuid.as_bytes()))?;
        let fields = own_file(n * BLOCK, n + at.leaves.len() as u64, EXTENTS_FL, job.epoch, i_block);
        tables.put(JOURNAL, &inode::encode(&fields, JOURNAL, fs_seed));
    }
    Ok(i_block)
}

/// A file to copy: source, size, where it goes.
type FileCopy<'a> = (&'a Path, u64, &'a [Run]);

/// Every inode of the tree and the blocks of its directories and long
/// symlinks; returns the files to copy and the directories per group.
fn tree_inodes<'a>(
    job: &Ext4Job,
    prepared: &'a Prepared,
    layout: &'a Layout,
    out: &Out,
    tables: &mut InodeTables,
) -> Result<(Vec<FileCopy<'a>>, Vec<u64>), Ext4Error> {
    let ipg = layout.geometry.inodes_per_group;
    let mut files = Vec::new();
    let mut directories = vec![0u64; layout.geometry.groups as usize];
    for (node, at) in prepared.inodes.iter().zip(&layout.placed) {
        let seed = csum::inode_seed(prepared.fs_seed, node.ino, 0);
        let mut i_block = [0u8; 60];
        let mut flags = EXTENTS_FL;
        let (size, links) = match &node.kind {
            Kind::Directory { parent, entries, subdirectories } => {
                let (blocks, hashed) = htree::directory(node.ino, *parent, entries, prepared.hash_seed, seed);
                out.runs(&at.runs, &blocks)?;
                if hashed {
                    flags |= INDEX_FL;
                }
                directories[(u64::from(node.ino - 1) / ipg) as usize] += 1;
                // dir_nlink: past 65000, a directory's count is 1.
                let links = 2 + u64::from(*subdirectories);
                (blocks.len() as u64 * BLOCK, if links >= 65000 { 1 } else { links as u16 })
            }
            Kind::LostFound => {
                let mut blocks = dir::blocks(node.ino, ROOT, &[]);
                blocks.extend((0..3).map(|_| dir::empty_block()));
                blocks.iter_mut().for_each(|b| dir::seal(b, seed));
                out.runs(&at.runs, &blocks)?;
                directories[(u64::from(node.ino - 1) / ipg) as usize] += 1;
                (4 * BLOCK, 2)
            }
            Kind::File { source, size } => {
                files.push((source.as_path(), *size, at.runs.as_slice()));
                (*size, 1)
            }
            Kind::Symlink { target } if target.len() < 60 => {
                i_block[..target.len()].copy_from_slice(target);
                flags = 0;
                (target.len() as u64, 1)
            }
            Kind::Symlink { target } => {
                let mut block = vec![0u8; BLOCK as usize];
                block[..target.len()].copy_from_slice(target);
                out.runs(&at.runs, &[block])?;
                (target.len() as u64, 1)
            }
        };
        if flags & EXTENTS_FL != 0 {
            let leaves = extent::encode(&mut i_block, &at.runs, &at.leaves, seed);
            out.leaves(&at.leaves, &leaves)?;
        }
        let blocks = at.blocks();
        let (mode, owner, mtime, epoch) = (node.mode, node.owner, node.mtime, job.epoch);
        let fields = Fields { mode, owner, size, links, blocks, flags, mtime, epoch, i_block };
        tables.put(node.ino, &inode::encode(&fields, node.ino, prepared.fs_seed));
    }
    Ok((files, directories))
}

/// Each group's inode table, bitmaps and descriptor; `used_inodes` sorted.
fn group_metadata(
    layout: &Layout,
    fs_seed: u32,
    out: &Out,
    tables: &InodeTables,
    used_inodes: &[u64],
    directories: &[u64],
) -> Result<Vec<Descriptor>, Ext4Error> {
    let (geometry, ipg) = (&layout.geometry, layout.geometry.inodes_per_group);
    let mut descriptors = Vec::with_capacity(geometry.groups as usize);
    let mut rest = used_inodes;
    for (group, directories) in directories.iter().enumerate() {
        out.at(layout.tables[group] * BLOCK, &tables.bytes[group])?;
        let first = group as u64 * ipg + 1;
        let split = rest.partition_point(|i| *i < first + ipg);
        let in_group: Vec<u64> = rest[..split].iter().map(|i| i - first).collect();
        rest = &rest[split..];
        let inode_bitmap = inode_bitmap(&in_group, ipg);
        out.block(layout.inode_bitmaps[group], &inode_bitmap)?;
        let (block_bitmap, used) = block_bitmap(&layout.used, geometry, group as u64);
        out.block(layout.block_bitmaps[group], &block_bitmap)?;
        descriptors.push(Descriptor {
            block_bitmap: layout.block_bitmaps[group],
            inode_bitmap: layout.inode_bitmaps[group],
            inode_table: layout.tables[group],
            free_blocks: geometry.group_blocks(group as u64) - used,
            free_inodes: ipg - in_group.len() as u64,
            directories: *directories,
            itable_unused: ipg - in_group.last().map_or(0, |last| last + 1),
            block_bitmap_csum: csum::raw(fs_seed, &block_bitmap[..(BLOCKS_PER_GROUP / 8) as usize]),
            inode_bitmap_csum: csum::raw(fs_seed, &inode_bitmap[..(ipg / 8) as usize]),
        });
    }
    Ok(descriptors)
}

/// A group's inode bitmap: the used inodes, and the bits past the group's
/// inodes set, as e2fsck wants the padding.
fn inode_bitmap(used: &[u64], ipg: u64) -> Vec<u8> {
    let mut bitmap = vec![0u8; BLOCK as usize];
    for i in used {
        bitmap[(i / 8) as usize] |= 1 << (i % 8);
    }
    for i in ipg..BLOCK * 8 {
        bitmap[(i / 8) as usize] |= 1 << (i % 8);
    }
    bitmap
}

/// A group's block bitmap and its count of used blocks; blocks past the
/// end of the filesystem are set.
fn block_bitmap(used: &[u64], g: &Geometry, group: u64) -> (Vec<u8>, u64) {
    let mut bitmap = vec![0u8; BLOCK as usize];
    let mut count = 0;
    for i in 0..BLOCKS_PER_GROUP {
        let block = group * BLOCKS_PER_GROUP + i;
        let set = block >= g.blocks || used[(block / 64) as usize] & (1 << (block % 64)) != 0;
        if set {
            bitmap[(i / 8) as usize] |= 1 << (i % 8);
            count += u64::from(block < g.blocks);
        }
    }
    (bitmap, count)
}

/// Makes the region read as zeros: a hole punched in the image file, and
/// the file at least as long as the region's end (what is not written
/// must still read back as zeros, also when the region is copied).
fn punch_zeros(image: &File, offset: u64, len: u64) -> Result<(), Ext4Error> {
    let end = offset + len;
    if image.metadata().map_err(Ext4Error::Write)?.len() < end {
        image.set_len(end).map_err(Ext4Error::Write)?;
    }
    let mode = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
    let (Ok(at), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Err(Ext4Error::Write(std::io::Error::from(std::io::ErrorKind::InvalidInput)));
    };
    // SAFETY: fallocate on a valid descriptor with checked bounds.
    let rc = unsafe { libc::fallocate(image.as_raw_fd(), mode, at, len) };
    if rc == 0 {
        return Ok(());
    }
    Err(Ext4Error::Write(std::io::Error::last_os_error()))
}

/// Writes into the region.
struct Out<'a> {
    image: &'a File,
    offset: u64,
}

impl Out<'_> {
    fn at(&self, byte: u64, data: &[u8]) -> Result<(), Ext4Error> {
        self.image.write_all_at(data, self.offset + byte).map_err(Ext4Error::Write)
    }

    fn block(&self, block: u64, data: &[u8]) -> Result<(), Ext4Error> {
        self.at(block * BLOCK, data)
    }

    /// Consecutive blocks of data over the runs they were given.
    fn runs(&self, runs: &[Run], blocks: &[Vec<u8>]) -> Result<(), Ext4Error> {
        let mut data = blocks.iter();
        for run in runs {
            for i in 0..run.len {
                if let Some(block) = data.next() {
                    self.block(run.start + i, block)?;
                }
            }
        }
        Ok(())
    }

    fn leaves(&self, at: &[u64], leaves: &[Vec<u8>]) -> Result<(), Ext4Error> {
        at.iter().zip(leaves).try_for_each(|(block, leaf)| self.block(*block, leaf))
    }
}

/// Copies every file's bytes into its runs, files in parallel.
fn copy_files(out: &Out, files: &[(&Path, u64, &[Run])], counter: &Counter) -> Result<(), Ext4Error> {
    let results: Vec<Result<(), Ext4Error>> =
        files.par_iter().map(|(source, size, runs)| copy_file(out, source, *size, runs, counter)).collect();
    results.into_iter().collect()
}

fn copy_file(out: &Out, source: &Path, size: u64, runs: &[Run], counter: &Counter) -> Result<(), Ext4Error> {
    const PIECE: u64 = 1 << 20;
    let read_error = |e| Ext4Error::Read { path: source.to_path_buf(), source: e };
    let changed = || Ext4Error::SourceChanged { path: PathBuf::from(source), expected: size };
    let mut input = File::open(source).map_err(read_error)?;
    let mut left = size;
    let mut buffer = vec![0u8; PIECE.min(size.max(1)) as usize];
    for run in runs {
        let mut at = run.start * BLOCK;
        let end = at + run.len * BLOCK;
        while at < end && left > 0 {
            let n = (end - at).min(PIECE).min(left) as usize;
            let got = nix_repart_tree::read_full(&mut input, &mut buffer[..n]).map_err(read_error)?;
            if got < n {
                return Err(changed());
            }
            // The region reads as zeros already: zero pieces are not
            // written (the image file stays sparse where the source is).
            if buffer[..n].iter().any(|b| *b != 0) {
                out.at(at, &buffer[..n])?;
            }
            counter.add_bytes(n as u64);
            at += n as u64;
            left -= n as u64;
        }
    }
    if left > 0 || input.read(&mut [0u8; 1]).map_err(read_error)? != 0 {
        return Err(changed());
    }
    counter.add_files(1);
    Ok(())
}
