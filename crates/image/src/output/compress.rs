//! Compression of finished outputs into `.raw.zst` / `.raw.xz`, as
//! nixpkgs' `image.repart.compression` does after systemd-repart; the
//! seekable zstd format is [`crate::output::seekable`]'s.
//!
//! Both encoders run in their multi-threaded mode for every `--jobs`
//! value (one worker included): zstd's and liblzma's multi-threaded
//! formats cut the input into jobs of a fixed size, so the bytes depend on
//! the level, never on the number of threads. Checked by the tests in
//! `tests/compression.rs`. This module does not decide what to compress.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use nix_repart_spec::{ImageCompression, ImageCompressionAlgorithm};

use nix_repart_progress::Counter;
use nix_repart_work::WorkDir;

use crate::error::ImageError;
use crate::output::PendingFile;

/// Compresses the (complete) pending file `raw` into a new pending file
/// named after `raw`'s target plus the algorithm's suffix.
/// Bytes read are counted on `counter`.
pub fn compress(
    work: &WorkDir,
    raw: &mut PendingFile,
    how: ImageCompression,
    jobs: usize,
    counter: &Counter,
) -> Result<PendingFile, ImageError> {
    let target = compressed_name(raw.target(), Some(how));
    let mut compressed = PendingFile::create(work, &target)?;
    let source_path = raw.target().to_path_buf();
    let read_error = |source| ImageError::Read { path: source_path.clone(), source };
    let file = raw.file();
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let input = Counting { inner: BufReader::with_capacity(1 << 20, &*file), counter };
    let threads = u32::try_from(jobs.max(1)).unwrap_or(u32::MAX);
    encode(input, compressed.file(), how, threads).map_err(|source| ImageError::Compress {
        path: target.clone(),
        algorithm: how.algorithm,
        source,
    })?;
    Ok(compressed)
}

fn encode(mut input: impl Read, output: &mut File, how: ImageCompression, threads: u32) -> std::io::Result<()> {
    match how.algorithm {
        ImageCompressionAlgorithm::Zstd => {
            let level = i32::try_from(how.level).unwrap_or(3);
            let mut encoder = zstd::stream::Encoder::new(output, level)?;
            encoder.multithread(threads)?;
            encoder.include_checksum(true)?;
            std::io::copy(&mut input, &mut encoder)?;
            encoder.finish()?.flush()
        }
        ImageCompressionAlgorithm::ZstdSeekable => {
            let level = i32::try_from(how.level).unwrap_or(3);
            crate::output::seekable::encode(input, &mut std::io::BufWriter::new(output), level)
        }
        ImageCompressionAlgorithm::Xz => {
            let stream = liblzma::stream::MtStreamBuilder::new()
                .threads(threads)
                .preset(how.level)
                // 0: liblzma's default block size (three times the
                // dictionary), fixed by the preset alone.
                .block_size(0)
                .check(liblzma::stream::Check::Crc64)
                .encoder()
                .map_err(std::io::Error::other)?;
            let mut encoder = liblzma::write::XzEncoder::new_stream(output, stream);
            std::io::copy(&mut input, &mut encoder)?;
            encoder.finish()?.flush()
        }
    }
}

/// A reader that counts what it reads.
struct Counting<'c, R> {
    inner: R,
    counter: &'c Counter,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.add_bytes(n as u64);
        Ok(n)
    }
}

/// The name a raw output gets once compressed.
pub fn compressed_name(path: &Path, how: Option<ImageCompression>) -> std::path::PathBuf {
    match how {
        None => path.to_path_buf(),
        Some(how) => path.with_file_name(format!(
            "{}{}",
            path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            how.algorithm.suffix()
        )),
    }
}
