//! The layout of one filesystem, before anything is written: the tree's
//! inodes and directory blocks ([`Prepared`], independent of the size),
//! then for a given size the group geometry and every block's place
//! ([`Layout`]). [`minimal`] finds the size a tree needs from the same
//! layout, so `Minimize=` is exact and computed before writing.

use nix_repart_tree::Directory;

use crate::layout::{Allocator, Geometry, Run, BLOCK, BLOCKS_PER_GROUP};
use crate::nodes::{self, Inode, Kind, ROOT};
use crate::{csum, extent, htree, journal, Ext4Error};

/// The tree as inodes, with the number of blocks of every directory (made
/// once to count them, and again when written: holding every directory's
/// blocks would cost 4 KiB of memory per directory).
pub struct Prepared {
    pub inodes: Vec<Inode>,
    pub directories: Vec<Option<u64>>,
    pub fs_seed: u32,
    pub hash_seed: [u32; 4],
}

impl Prepared {
    pub fn new(tree: &Directory, epoch: u64, uuid: &uuid::Uuid) -> Prepared {
        let inodes = nodes::number(tree, epoch);
        let fs_seed = csum::fs_seed(uuid.as_bytes());
        let b = uuid.as_bytes();
        let hash_seed: [u32; 4] =
            std::array::from_fn(|i| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]));
        let directories = inodes
            .iter()
            .map(|node| match &node.kind {
                Kind::Directory { parent, entries, .. } => {
                    let seed = csum::inode_seed(fs_seed, node.ino, 0);
                    Some(htree::directory(node.ino, *parent, entries, hash_seed, seed).0.len() as u64)
                }
                _ => None,
            })
            .collect();
        Prepared { inodes, directories, fs_seed, hash_seed }
    }

    /// The highest inode number in use.
    pub fn highest(&self) -> u64 {
        u64::from(self.inodes.last().map_or(ROOT, |i| i.ino))
    }
}

/// Where an inode's blocks went.
pub struct Placed {
    pub runs: Vec<Run>,
    pub leaves: Vec<u64>,
}

impl Placed {
    /// Every block the inode owns: its runs and its extent leaves.
    pub fn blocks(&self) -> u64 {
        self.runs.iter().map(|r| r.len).sum::<u64>() + self.leaves.len() as u64
    }
}

/// Every block's place in a filesystem of a given size.
pub struct Layout {
    pub geometry: Geometry,
    pub block_bitmaps: Vec<u64>,
    pub inode_bitmaps: Vec<u64>,
    pub tables: Vec<u64>,
    pub resize: Option<u64>,
    pub journal: Option<(u64, Placed)>,
    /// One per inode of [`Prepared::inodes`].
    pub placed: Vec<Placed>,
    pub used: Vec<u64>,
    pub used_blocks: u64,
}

/// Lays `prepared` out in `blocks` blocks with at least `inodes` inodes.
pub fn layout(prepared: &Prepared, blocks: u64, inodes: u64) -> Result<Layout, Ext4Error> {
    let highest = prepared.highest();
    let geometry = Geometry::new(blocks, inodes.max(highest))?;
    if highest > geometry.inodes() {
        return Err(Ext4Error::TooFewInodes { inodes_needed: highest, inodes: geometry.inodes() });
    }
    let mut alloc = Allocator::new(&geometry);
    let groups = geometry.groups as usize;
    let block_bitmaps = (0..groups).map(|_| alloc.contiguous(1)).collect::<Result<Vec<_>, _>>()?;
    let inode_bitmaps = (0..groups).map(|_| alloc.contiguous(1)).collect::<Result<Vec<_>, _>>()?;
    let tables = (0..groups).map(|_| alloc.contiguous(geometry.inode_table_blocks())).collect::<Result<Vec<_>, _>>()?;
    let resize = (geometry.reserved_gdt_blocks > 0).then(|| alloc.contiguous(1)).transpose()?;
    let journal = match journal::default_blocks(geometry.blocks) {
        Some(n) => Some((n, place(&mut alloc, n)?)),
        None => None,
    };
    let mut placed = Vec::with_capacity(prepared.inodes.len());
    for (node, directory) in prepared.inodes.iter().zip(&prepared.directories) {
        let blocks = match (&node.kind, directory) {
            (_, Some(blocks)) => *blocks,
            (Kind::LostFound, _) => 4,
            (Kind::File { size, .. }, _) => size.div_ceil(BLOCK),
            (Kind::Symlink { target }, _) => u64::from(target.len() >= 60),
            (Kind::Directory { .. }, None) => 0,
        };
        let at = place(&mut alloc, blocks)?;
        if at.runs.len() > extent::MAX_EXTENTS {
            let path = format!("inode {}", node.ino);
            return Err(Ext4Error::TooManyExtents { path, extents: at.runs.len(), max: extent::MAX_EXTENTS });
        }
        placed.push(at);
    }
    let used_blocks = alloc.used_blocks();
    let used = std::mem::take(&mut alloc.used);
    drop(alloc);
    Ok(Layout { geometry, block_bitmaps, inode_bitmaps, tables, resize, journal, placed, used, used_blocks })
}

/// `blocks` blocks for an inode, and the extent leaves its runs need.
fn place(alloc: &mut Allocator, blocks: u64) -> Result<Placed, Ext4Error> {
    let runs = alloc.runs(blocks)?;
    let leaves = (0..extent::leaves_for(runs.len())).map(|_| alloc.contiguous(1)).collect::<Result<_, _>>()?;
    Ok(Placed { runs, leaves })
}

/// The size of a minimized filesystem, in blocks, and its inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    pub blocks: u64,
    pub inodes: u64,
}

/// The smallest filesystem for `prepared` that leaves `free(used)` blocks
/// free, where `used` is what the tree itself takes (its data, directory
/// and extent blocks: not the filesystem's own metadata), and has
/// `inodes` inodes at least. Grown until the layout fits: metadata grows
/// with the size, so a few rounds at most.
pub fn minimal(prepared: &Prepared, inodes: u64, free: impl Fn(u64) -> u64) -> Result<Sizing, Ext4Error> {
    let mut blocks = first_guess(prepared);
    for _ in 0..64 {
        match layout(prepared, blocks, inodes) {
            // A group holds at most 32768 inodes: many small files need
            // more groups than their blocks do.
            Ok(layout) if layout.geometry.inodes() < inodes => {
                blocks = inodes.div_ceil(BLOCKS_PER_GROUP) * BLOCKS_PER_GROUP;
            }
            Err(Ext4Error::TooFewInodes { .. }) => blocks = inodes.div_ceil(BLOCKS_PER_GROUP) * BLOCKS_PER_GROUP,
            Ok(layout) => {
                let content = content_blocks(&layout);
                let wanted = layout.used_blocks + free(content);
                let have = layout.geometry.blocks;
                if wanted <= have {
                    return Ok(Sizing { blocks: have, inodes });
                }
                // A short last group is dropped (Geometry::new): past it.
                blocks = if have < blocks { (have / BLOCKS_PER_GROUP + 1) * BLOCKS_PER_GROUP + 2048 } else { wanted };
            }
            Err(Ext4Error::TooSmall { needed, .. }) => blocks = needed.max(blocks + blocks / 8),
            Err(Ext4Error::TooSmallForExt4 { min, .. }) => blocks = min,
            Err(e) => return Err(e),
        }
    }
    Err(Ext4Error::TooSmall { needed: blocks, blocks })
}

/// The tree's own blocks and a little more: where the search starts.
fn first_guess(prepared: &Prepared) -> u64 {
    let data: u64 = prepared
        .inodes
        .iter()
        .zip(&prepared.directories)
        .map(|(node, directory)| match (&node.kind, directory) {
            (_, Some(blocks)) => *blocks,
            (Kind::File { size, .. }, _) => size.div_ceil(BLOCK),
            _ => 1,
        })
        .sum();
    data + data / 16 + 1024
}

fn content_blocks(layout: &Layout) -> u64 {
    layout.placed.iter().map(Placed::blocks).sum()
}
