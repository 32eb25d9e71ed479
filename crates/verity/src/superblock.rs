//! The veritysetup superblock (cryptsetup lib/verity/verity.c, `struct
//! verity_sb`): 512 bytes, little endian, at the start of the hash area.
//! Written only; `veritysetup dump` reads it back in the tests.

use uuid::Uuid;

/// What the superblock records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superblock {
    pub uuid: Uuid,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: u64,
    pub salt: [u8; 32],
}

impl Superblock {
    pub const SIZE: usize = 512;

    /// `signature[8] version:u32 hash_type:u32 uuid[16] algorithm[32]
    /// data_block_size:u32 hash_block_size:u32 data_blocks:u64
    /// salt_size:u16 pad[6] salt[256] pad[168]`.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(b"verity\0\0");
        b[8..12].copy_from_slice(&1u32.to_le_bytes()); // version
        b[12..16].copy_from_slice(&1u32.to_le_bytes()); // hash type: normal (salt first)
        b[16..32].copy_from_slice(self.uuid.as_bytes());
        b[32..38].copy_from_slice(b"sha256");
        b[64..68].copy_from_slice(&self.data_block_size.to_le_bytes());
        b[68..72].copy_from_slice(&self.hash_block_size.to_le_bytes());
        b[72..80].copy_from_slice(&self.data_blocks.to_le_bytes());
        b[80..82].copy_from_slice(&(self.salt.len() as u16).to_le_bytes());
        b[88..88 + self.salt.len()].copy_from_slice(&self.salt);
        b
    }
}
