//! The root directory's mtime. backhand's writer has no setter for it (the
//! root inode keeps mtime 0), but `FilesystemWriter::from_fs_reader` keeps
//! the root header of the image it is given. So a one-directory seed image
//! is written with metadata stored uncompressed (a compressor that never
//! shrinks anything makes backhand store blocks as they are), its root
//! inode's mtime is patched in place, and the real writer starts from it.
//!
//! Offsets follow the squashfs 4.0 format (squashfs-tools' squashfs_fs.h,
//! the kernel's Documentation/filesystems/squashfs.rst): `root_inode` at
//! superblock byte 32 is a reference (metadata block offset << 16 | offset
//! in block) into the inode table at byte 64; every metadata block starts
//! with a 16-bit header; an inode's mtime is at byte 8 of its header.

use std::io::Cursor;

use backhand::compression::{CompressionAction, Compressor, DefaultCompressor};
use backhand::kind::Kind;
use backhand::{BackhandError, FilesystemCompressor, FilesystemWriter, NodeHeader, SuperBlock};

use crate::SquashfsError;

/// Stores everything uncompressed: its "compressed" output is always one
/// byte longer than the input.
struct StoreCompressor;

static STORE: StoreCompressor = StoreCompressor;

impl CompressionAction for StoreCompressor {
    type Error = BackhandError;
    type Compressor = Compressor;
    type FilesystemCompressor = FilesystemCompressor;
    type SuperBlock = SuperBlock;

    fn decompress(&self, bytes: &[u8], out: &mut Vec<u8>, compressor: Compressor) -> Result<(), BackhandError> {
        DefaultCompressor.decompress(bytes, out, compressor)
    }

    fn compress(&self, bytes: &[u8], _: FilesystemCompressor, _: u32) -> Result<Vec<u8>, BackhandError> {
        Ok(vec![0; bytes.len() + 1])
    }
}

fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// An image holding only a root directory with the given header.
pub fn root_image(root: NodeHeader) -> Result<Vec<u8>, SquashfsError> {
    let mut writer = FilesystemWriter::default();
    writer.set_kind(Kind::new_v4(&STORE));
    let compressor = FilesystemCompressor::new(Compressor::Gzip, None).map_err(SquashfsError::Backhand)?;
    writer.set_compressor(compressor);
    writer.set_root_mode(root.permissions);
    writer.set_root_uid(root.uid);
    writer.set_root_gid(root.gid);
    writer.set_time(root.mtime);
    let mut image = Cursor::new(Vec::new());
    writer.write(&mut image).map_err(SquashfsError::Backhand)?;
    let mut bytes = image.into_inner();
    let missing = || SquashfsError::Backhand(BackhandError::CorruptedOrInvalidSquashfs);
    let root_ref = le_u64(&bytes, 32).ok_or_else(missing)?;
    let inode_table = le_u64(&bytes, 64).ok_or_else(missing)?;
    let mtime_at = inode_table + (root_ref >> 16) + 2 + (root_ref & 0xffff) + 8;
    let at = usize::try_from(mtime_at).map_err(|_| missing())?;
    bytes.get_mut(at..at + 4).ok_or_else(missing)?.copy_from_slice(&root.mtime.to_le_bytes());
    Ok(bytes)
}
