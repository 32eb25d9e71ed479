//! The squashfs writer of nix-repart: a partition's tree written with
//! backhand straight into its region of the image (or only measured), with
//! every block compressed ahead on all worker threads ([`pipeline`]).
//!
//! Deterministic: owner root (0:0) unless a `contents` entry gives one,
//! modes from the sources (or `contents`), every mtime (the root
//! directory's too, see `seed.rs`) the source's clamped to the build's
//! `SOURCE_DATE_EPOCH` (`nix_repart_tree::image_mtime`), which is also the
//! filesystem's time; files in path order, duplicate files
//! stored once whether or not they are hard links.

mod config;
mod error;
mod estimate;
pub mod pipeline;
mod region;
mod seed;

use std::fs::File;
use std::io::Cursor;
use std::path::PathBuf;

use backhand::kind::Kind;
use backhand::{FilesystemReader, FilesystemWriter, NodeHeader};
use nix_repart_spec::SquashfsSettings;
use nix_repart_tree::{Directory, Node, Owner};

pub use error::SquashfsError;
pub use estimate::{estimate, SquashfsEstimate};
use nix_repart_progress::Counter;
use region::Region;

/// Where the filesystem goes.
pub enum Target<'f> {
    /// `limit` bytes of `file` from `offset`.
    Region { file: &'f File, offset: u64, limit: u64 },
    /// Nowhere: only its size is wanted.
    Measure,
}

/// Writes `tree` and returns the filesystem's size (a multiple of 4 KiB).
/// With a region smaller than that, the caller must treat the write as
/// failed: nothing past the region was written.
/// Bytes and files read are counted on `counter`.
pub fn write(
    tree: &Directory,
    config: &SquashfsSettings,
    mtime: u32,
    jobs: usize,
    target: Target,
    counter: &Counter,
) -> Result<u64, SquashfsError> {
    let root_mtime = node_time(tree.mtime, mtime);
    let seed = seed::root_image(NodeHeader::new(tree.mode as u16, tree.owner.uid, tree.owner.gid, root_mtime))?;
    let reader = FilesystemReader::from_reader(Cursor::new(seed)).map_err(SquashfsError::Backhand)?;
    let mut writer = FilesystemWriter::from_fs_reader(&reader).map_err(SquashfsError::Backhand)?;
    writer.set_kind(Kind::new_v4(&pipeline::PIPELINED));
    let (compressor, emit_options) = config::backhand(config)?;
    writer.set_compressor(compressor);
    writer.set_emit_compression_options(emit_options);
    writer.set_block_size(config.block_size);
    writer.set_time(mtime);
    writer.set_no_duplicate_files(true);
    let mut files = Vec::new();
    add_nodes(&mut writer, tree, &PathBuf::from("/"), mtime, &mut files)?;
    let files = std::sync::Arc::new(files);

    let pipeline = pipeline::pipeline(4 * jobs.max(1) + 4);
    let producer = {
        let pipeline = std::sync::Arc::clone(&pipeline);
        let block_size = config.block_size;
        let files = std::sync::Arc::clone(&files);
        let counter = counter.clone();
        std::thread::spawn(move || pipeline::produce(&pipeline, &files, compressor, block_size, &counter))
    };
    let mut region = match target {
        Target::Region { file, offset, limit } => Region::new(file, offset, limit),
        Target::Measure => Region::counting(),
    };
    let written = pipeline::with_pipeline(pipeline, || writer.write(&mut region));
    let _ = producer.join();
    let (_, size) = written.map_err(|e| unreadable_source(&files).unwrap_or(SquashfsError::Backhand(e)))?;
    region.clear_after(size).map_err(SquashfsError::Write)?;
    Ok(size)
}

/// backhand reports a file it cannot read without its path: the first
/// source that cannot be opened now is the one, named in the error.
fn unreadable_source(files: &[PathBuf]) -> Option<SquashfsError> {
    files.iter().find_map(|path| match File::open(path) {
        Ok(_) => None,
        Err(source) => Some(SquashfsError::Read { path: path.clone(), source }),
    })
}

/// A node's time: its source's, clamped to the build's (squashfs times
/// are 32-bit).
fn node_time(source: Option<i64>, build: u32) -> u32 {
    u32::try_from(nix_repart_tree::image_mtime(source, u64::from(build))).unwrap_or(build)
}

/// Adds every node below `dir`, in path order, and collects the files'
/// sources in the order backhand will read them.
fn add_nodes(
    writer: &mut FilesystemWriter,
    dir: &Directory,
    path: &std::path::Path,
    mtime: u32,
    files: &mut Vec<PathBuf>,
) -> Result<(), SquashfsError> {
    for (name, node) in &dir.entries {
        let child = path.join(name);
        let header = |mode: u32, owner: Owner, time: Option<i64>| {
            NodeHeader::new((mode & 0o7777) as u16, owner.uid, owner.gid, node_time(time, mtime))
        };
        let added = match node {
            Node::Directory(sub) => writer.push_dir(&child, header(sub.mode, sub.owner, sub.mtime)),
            Node::File(file) => {
                files.push(file.source.clone());
                let header = header(file.mode, file.owner, Some(file.mtime));
                writer.push_file_from_path(file.source.clone(), &child, header)
            }
            Node::Symlink(link) => {
                writer.push_symlink(PathBuf::from(&link.target), &child, header(0o777, link.owner, Some(link.mtime)))
            }
        };
        added.map_err(|_| SquashfsError::BadPath { path: child.clone() })?;
        if let Node::Directory(sub) = node {
            add_nodes(writer, sub, &child, mtime, files)?;
        }
    }
    Ok(())
}
