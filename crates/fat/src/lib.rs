//! A write-once FAT12/16/32 writer. Every file is known in advance, so the
//! whole volume is laid out in one pass and written straight into its
//! region of the image: boot sector, FSInfo and backup boot sector (FAT32),
//! both FATs, directories with long names, and file data, read in
//! parallel. Entries are sorted, each has its source's mtime clamped to
//! the build's `SOURCE_DATE_EPOCH` (and to FAT's 1980 floor), and the
//! volume id comes from the filesystem UUID, so the same tree always gives
//! the same bytes.
//!
//! The layout follows Microsoft's FAT specification (fatgen103); the FAT
//! type and cluster size follow mkfs.fat (see [`geometry`]). This crate
//! does not read FAT volumes; the tests use the `fatfs` crate, mtools and
//! fsck.vfat for that.

mod error;
pub mod geometry;
pub mod label;
pub mod names;
mod prepare;
pub mod time;
mod write;

pub use error::FatError;
pub use prepare::{prepare, Prepared};
pub use write::{write, WriteOptions};
