//! The geometry must be what mkfs.fat (dosfstools 4.2) chooses for the same
//! volume size and sector size: FAT type, cluster size, reserved sectors,
//! FAT length, root entries and total sectors. The CHS fields (sectors per
//! track, heads) are not compared: for a regular file mkfs.fat guesses a
//! disk geometry from its size, which means nothing to an LBA-only
//! firmware; nix-repart writes the fixed-disk defaults of mkfs.fat's
//! `establish_params()` instead.

mod common;

use std::process::Command;

use nix_repart_fat::geometry::{choose, FatType, DEFAULT_ROOT_ENTRIES};

fn le16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// `(fat bits, sectors/cluster, reserved, fat sectors, root entries, total sectors)`
fn mkfs_fields(bytes: u64, sector_size: u32) -> (u32, u32, u32, u32, u32, u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("fat.img");
    std::fs::File::create(&image).expect("create").set_len(bytes).expect("set_len");
    let out =
        Command::new("mkfs.fat").args(["-S", &sector_size.to_string()]).arg(&image).output().expect("run mkfs.fat");
    assert!(out.status.success(), "mkfs.fat {bytes}: {}", String::from_utf8_lossy(&out.stderr));
    let mut b = [0u8; 512];
    std::io::Read::read_exact(&mut std::fs::File::open(&image).expect("open"), &mut b).expect("read boot sector");
    let total = if le16(&b, 19) != 0 { le16(&b, 19) } else { le32(&b, 32) };
    let fat16_len = le16(&b, 22);
    let (bits, fat_len) =
        if fat16_len == 0 { (32, le32(&b, 36)) } else { (if &b[54..59] == b"FAT12" { 12 } else { 16 }, fat16_len) };
    (bits, u32::from(b[13]), le16(&b, 14), fat_len, le16(&b, 17), total)
}

#[cfg_attr(lacks = "dosfstools", ignore = "needs dosfstools and mtools; .ci/run installs them")]
#[test]
fn geometry_matches_mkfs_fat() {
    common::require_tool("mkfs.fat");
    // mkfs.fat 4.2 rounds a file's sector count down to a multiple of the
    // sectors per track it guesses (16, 32 or 63); nix-repart uses the whole
    // partition. Sizes here are multiples of 2016 sectors (lcm of 16, 32,
    // 63), so both see the same sector count. They straddle mkfs.fat's
    // thresholds: 260 MiB (k = 264/265), 512 MiB (520/521), 8 GiB (8322/8323).
    let unit_512 = 2016 * 512;
    let ks_512: [u64; 30] = [
        1, 2, 3, 4, 8, 9, 10, 16, 17, 32, 33, 34, 64, 100, 128, 200, 254, 255, 256, 264, 265, 300, 400, 508, 520, 521,
        600, 1016, 8322, 8323,
    ];
    let unit_4096 = 2016 * 4096;
    let ks_4096: [u64; 9] = [1, 2, 4, 8, 16, 33, 34, 65, 130];
    let sizes_512: Vec<u64> = ks_512.iter().map(|k| k * unit_512).collect();
    let sizes_4096: Vec<u64> = ks_4096.iter().map(|k| k * unit_4096).collect();
    let cases = sizes_512.iter().map(|s| (*s, 512)).chain(sizes_4096.iter().map(|s| (*s, 4096)));
    for (bytes, sector_size) in cases {
        let ours =
            choose(bytes, sector_size, DEFAULT_ROOT_ENTRIES).unwrap_or_else(|| panic!("no geometry for {bytes}"));
        let theirs = mkfs_fields(bytes, sector_size);
        let bits = match ours.fat_type {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        };
        let mine = (
            bits,
            ours.sectors_per_cluster,
            ours.reserved_sectors,
            ours.fat_sectors,
            ours.root_entries,
            ours.total_sectors,
        );
        assert_eq!(mine, theirs, "volume of {bytes} bytes, {sector_size}-byte sectors");
    }
}
