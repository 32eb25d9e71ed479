//! A Linux swap area header (what `mkswap` writes), made here: the first
//! page holds 1024 bytes of boot space, then `struct swap_header_v1_2`
//! (include/linux/swap.h): version 1, the last page number, no bad pages,
//! the UUID and a 16-byte label; the page ends with `SWAPSPACE2`. The rest
//! of the partition stays zero.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use uuid::Uuid;

use crate::MkfsError;

/// The page size swap areas are made for (x86-64, aarch64 4K kernels).
pub const PAGE: u64 = 4096;

/// The header page for a swap area of `size` bytes.
pub fn header(size: u64, uuid: Uuid, label: &str) -> Result<Vec<u8>, MkfsError> {
    let pages = size / PAGE;
    // mkswap's minimum: 10 pages.
    if pages < 10 {
        return Err(MkfsError::SwapTooSmall { size });
    }
    let mut page = vec![0u8; PAGE as usize];
    page[1024..1028].copy_from_slice(&1u32.to_le_bytes());
    let last = u32::try_from(pages - 1).unwrap_or(u32::MAX);
    page[1028..1032].copy_from_slice(&last.to_le_bytes());
    // nr_badpages stays 0.
    page[1036..1052].copy_from_slice(uuid.as_bytes());
    let label = crate::ext::ext_label(label);
    page[1052..1052 + label.len()].copy_from_slice(label.as_bytes());
    page[PAGE as usize - 10..].copy_from_slice(b"SWAPSPACE2");
    Ok(page)
}

/// Writes the header at `offset` of the image.
pub fn write(image: &File, path: &Path, offset: u64, size: u64, uuid: Uuid, label: &str) -> Result<(), MkfsError> {
    let page = header(size, uuid, label)?;
    image.write_all_at(&page, offset).map_err(|source| MkfsError::Swap { path: path.to_path_buf(), source })
}
