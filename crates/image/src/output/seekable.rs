//! The zstd seekable format (zstd's contrib/seekable_format, as nixpkgs'
//! `compression.algorithm = "zstd-seekable"` writes it with `zeekstd
//! --frame-size 2M`): the input cut into 2 MiB pieces, each an independent
//! zstd frame (with its content checksum), then one skippable frame with
//! the seek table: per frame its compressed and decompressed size, and a
//! footer with the frame count, a descriptor byte (no per-entry checksums)
//! and the seekable magic. Plain `zstd -d` reads the frames one after the
//! other and skips the table; a seekable reader jumps to any frame.
//!
//! Frames are compressed in parallel in batches and written in order, so
//! the bytes depend on the level, never on the number of threads.

use std::io::{Read, Write};

use rayon::prelude::*;

/// Bytes of input per frame (zeekstd's `--frame-size 2M`).
pub const FRAME_SIZE: usize = 2 << 20;
/// Frames compressed at once (64 MiB of input in memory at most).
const BATCH: usize = 32;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A5E;
const SEEKABLE_MAGIC: u32 = 0x8F92_EAB1;

/// Compresses all of `input` into `output` at zstd `level`.
pub fn encode(mut input: impl Read, output: &mut impl Write, level: i32) -> std::io::Result<()> {
    let mut table: Vec<(u32, u32)> = Vec::new();
    loop {
        let pieces = read_batch(&mut input)?;
        if pieces.is_empty() {
            break;
        }
        let frames = pieces
            .par_iter()
            .map(|piece| {
                let mut compressor = zstd::bulk::Compressor::new(level)?;
                compressor.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
                compressor.compress(piece)
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        for (piece, frame) in pieces.iter().zip(&frames) {
            output.write_all(frame)?;
            table.push((size_u32(frame.len())?, size_u32(piece.len())?));
        }
        if pieces.len() < BATCH || pieces.last().is_some_and(|p| p.len() < FRAME_SIZE) {
            break;
        }
    }
    output.write_all(&seek_table(&table)?)?;
    output.flush()
}

fn size_u32(n: usize) -> std::io::Result<u32> {
    u32::try_from(n).map_err(|_| std::io::Error::other("a zstd frame larger than 4 GiB"))
}

/// Up to [`BATCH`] pieces of [`FRAME_SIZE`] bytes (the last may be short).
fn read_batch(input: &mut impl Read) -> std::io::Result<Vec<Vec<u8>>> {
    let mut pieces = Vec::new();
    while pieces.len() < BATCH {
        let mut piece = Vec::with_capacity(FRAME_SIZE);
        input.by_ref().take(FRAME_SIZE as u64).read_to_end(&mut piece)?;
        let short = piece.len() < FRAME_SIZE;
        if !piece.is_empty() {
            pieces.push(piece);
        }
        if short {
            break;
        }
    }
    Ok(pieces)
}

/// The skippable frame that holds the seek table.
fn seek_table(entries: &[(u32, u32)]) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(entries.len() * 8 + 9);
    for (compressed, decompressed) in entries {
        body.extend_from_slice(&compressed.to_le_bytes());
        body.extend_from_slice(&decompressed.to_le_bytes());
    }
    body.extend_from_slice(&size_u32(entries.len())?.to_le_bytes());
    body.push(0); // descriptor: no checksums in the entries
    body.extend_from_slice(&SEEKABLE_MAGIC.to_le_bytes());
    let mut frame = Vec::with_capacity(body.len() + 8);
    frame.extend_from_slice(&SKIPPABLE_MAGIC.to_le_bytes());
    frame.extend_from_slice(&size_u32(body.len())?.to_le_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}
