//! Little-endian field writers for on-disk structures.

pub fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The low 32 bits at `at`, the high 32 at `hi`.
pub fn put64_split(b: &mut [u8], at: usize, hi: usize, v: u64) {
    put32(b, at, v as u32);
    put32(b, hi, (v >> 32) as u32);
}

/// The low 16 bits at `at`, the high 16 at `hi`.
pub fn put32_split(b: &mut [u8], at: usize, hi: usize, v: u32) {
    put16(b, at, v as u16);
    put16(b, hi, (v >> 16) as u16);
}
