//! ext4's crc32c: the raw CRC update (no inversion before or after) that
//! the kernel's `ext4_chksum()` is, over the hardware-accelerated
//! `crc32c` crate, and the per-inode seed of inode, directory and extent
//! block checksums (Documentation/filesystems/ext4/checksums.rst).

/// `crc32c_le(crc, data)` as the kernel computes it.
pub fn raw(crc: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!crc, data)
}

/// The filesystem's seed: crc32c(~0, UUID).
pub fn fs_seed(uuid: &[u8; 16]) -> u32 {
    raw(!0, uuid)
}

/// The seed of everything owned by an inode: crc(fs seed, number, generation).
pub fn inode_seed(fs_seed: u32, ino: u32, generation: u32) -> u32 {
    raw(raw(fs_seed, &ino.to_le_bytes()), &generation.to_le_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn raw_crc32c_is_the_standard_crc_without_its_inversions() {
        // The check value of CRC-32C ("123456789") is 0xE3069283.
        assert_eq!(!super::raw(!0, b"123456789"), 0xE306_9283);
    }
}
