//! The size of a squashfs filesystem, estimated without writing it (for
//! `nix-repart plan`): a fixed stride of the data blocks and of the file
//! tails (which squashfs packs into fragment blocks) is read and
//! compressed with the partition's real compressor, in parallel; the
//! ratios found are applied to the rest, and the metadata is sized from
//! the tree. About 1/32 of the data is read (at least 8 MiB), so
//! the estimate costs a small part of the build.
//!
//! The bound is sure: squashfs stores a block uncompressed when
//! compressing does not make it smaller, so no filesystem exceeds its file
//! data plus its uncompressed metadata (inodes at their largest form,
//! every directory entry with its own header) and tables. Identical files,
//! which the writer stores once, make the estimate lean high.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use backhand::compression::{CompressionAction, DefaultCompressor};
use nix_repart_progress::Counter;
use nix_repart_spec::SquashfsSettings;
use nix_repart_tree::{Directory, Node};
use rayon::prelude::*;

use crate::SquashfsError;

/// An estimated size, and the size the filesystem cannot exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashfsEstimate {
    pub bytes: u64,
    pub upper_bound: u64,
    pub method: &'static str,
}

/// Read at least this much (or everything), and about 1/32 beyond it.
const MIN_SAMPLE: u64 = 8 << 20;
const SAMPLE_SHARE: u64 = 32;
const METADATA_BLOCK: u64 = 8192;

/// What the tree holds, in the writer's order.
#[derive(Default)]
struct Layout {
    /// `(source, size)` of every file.
    files: Vec<(PathBuf, u64)>,
    /// Uncompressed metadata, at its largest.
    metadata: u64,
}

impl Layout {
    fn walk(&mut self, dir: &Directory, block_size: u64) {
        // An extended directory inode and its listing, every entry with a
        // header of its own (12 bytes) and its name.
        self.metadata += 40 + dir.entries.keys().map(|n| 12 + 8 + n.len() as u64).sum::<u64>();
        for node in dir.entries.values() {
            match node {
                Node::Directory(sub) => self.walk(sub, block_size),
                Node::File(file) => {
                    self.metadata += 56 + 4 * file.size.div_ceil(block_size);
                    self.files.push((file.source.clone(), file.size));
                }
                Node::Symlink(link) => self.metadata += 24 + link.target.len() as u64,
            }
        }
    }
}

/// One sampled piece: `len` bytes at `offset` of `path`.
struct Piece<'a> {
    path: &'a Path,
    offset: u64,
    len: usize,
}

/// Estimates the filesystem `crate::write` would make of `tree`; bytes
/// read are counted on `counter`.
pub fn estimate(
    tree: &Directory,
    settings: &SquashfsSettings,
    counter: &Counter,
) -> Result<SquashfsEstimate, SquashfsError> {
    let bs = u64::from(settings.block_size);
    let mut layout = Layout::default();
    layout.walk(tree, bs);
    let blocks: u64 = layout.files.iter().map(|(_, size)| size / bs).sum();
    let tails: u64 = layout.files.iter().map(|(_, size)| size % bs).sum();
    let data_stride = stride(blocks * bs);
    let mut block_pieces = Vec::new();
    let mut tail_pieces = Vec::new();
    let mut block_index = 0u64;
    let mut tail_index = 0u64;
    let tail_stride = stride(tails);
    for (path, size) in &layout.files {
        for b in 0..size / bs {
            if block_index.is_multiple_of(data_stride) {
                block_pieces.push(Piece { path, offset: b * bs, len: bs as usize });
            }
            block_index += 1;
        }
        if size % bs != 0 {
            if tail_index.is_multiple_of(tail_stride) {
                tail_pieces.push(Piece { path, offset: size / bs * bs, len: (size % bs) as usize });
            }
            tail_index += 1;
        }
    }
    let (compressor, _) = crate::config::backhand(settings)?;
    let compress = |bytes: &[u8]| -> Result<u64, SquashfsError> {
        if bytes.iter().all(|b| *b == 0) {
            return Ok(0);
        }
        let out =
            DefaultCompressor.compress(bytes, compressor, settings.block_size).map_err(SquashfsError::Backhand)?;
        Ok((out.len() as u64).min(bytes.len() as u64))
    };
    let sampled_blocks = block_pieces
        .par_iter()
        .map(|piece| read(piece, counter).and_then(|bytes| compress(&bytes)))
        .collect::<Result<Vec<u64>, _>>()?;
    let block_ratio = ratio(sampled_blocks.iter().sum(), block_pieces.len() as u64 * bs);
    let fragments = fragment_buffers(&tail_pieces, bs as usize, counter)?;
    let tail_raw: u64 = fragments.iter().map(|f| f.len() as u64).sum();
    let tail_compressed: u64 = fragments.par_iter().map(|f| compress(f)).collect::<Result<Vec<u64>, _>>()?.iter().sum();
    let tail_ratio = ratio(tail_compressed, tail_raw);
    let data = (blocks * bs) as f64 * block_ratio + tails as f64 * tail_ratio;
    // Metadata compresses about as well as text; tables are small.
    let fragment_count = tails.div_ceil(bs) + 1;
    let tables = 96 + 16 * fragment_count + 4096;
    let metadata_bound = layout.metadata + 2 * layout.metadata.div_ceil(METADATA_BLOCK);
    let bytes = data as u64 + metadata_bound / 2 + tables;
    let upper_bound = blocks * bs + tails + metadata_bound + tables;
    let round = |n: u64| n.div_ceil(4096) * 4096;
    Ok(SquashfsEstimate {
        bytes: round(bytes.min(upper_bound)),
        upper_bound: round(upper_bound),
        method: "a stride of the data compressed (about 1/32, at least 8 MiB), the rest scaled; --exact compresses all",
    })
}

/// Every `stride`-th block of `total` bytes is sampled.
fn stride(total: u64) -> u64 {
    let budget = MIN_SAMPLE.max(total / SAMPLE_SHARE);
    total.div_ceil(budget).max(1)
}

fn ratio(compressed: u64, raw: u64) -> f64 {
    if raw == 0 {
        1.0
    } else {
        compressed as f64 / raw as f64
    }
}

fn read(piece: &Piece, counter: &Counter) -> Result<Vec<u8>, SquashfsError> {
    let error = |source| SquashfsError::Read { path: piece.path.to_path_buf(), source };
    let file = File::open(piece.path).map_err(error)?;
    let mut bytes = vec![0u8; piece.len];
    file.read_exact_at(&mut bytes, piece.offset).map_err(error)?;
    counter.add_bytes(piece.len as u64);
    counter.add_files(1);
    Ok(bytes)
}

/// The sampled tails packed into fragment blocks, as the writer packs them.
fn fragment_buffers(pieces: &[Piece], block_size: usize, counter: &Counter) -> Result<Vec<Vec<u8>>, SquashfsError> {
    let tails = pieces.par_iter().map(|piece| read(piece, counter)).collect::<Result<Vec<_>, _>>()?;
    let mut buffers = Vec::new();
    let mut current: Vec<u8> = Vec::with_capacity(block_size);
    for tail in tails {
        if current.len() + tail.len() > block_size {
            buffers.push(std::mem::take(&mut current));
        }
        current.extend_from_slice(&tail);
    }
    if !current.is_empty() {
        buffers.push(current);
    }
    Ok(buffers)
}
