//! backhand's compressor settings for a partition's [`SquashfsSettings`]
//! (parsed and range-checked by the spec crate), with mksquashfs's
//! defaults: level 9 for gzip and 15 for zstd, xz's default preset, lz4
//! without high compression. systemd-repart runs mksquashfs with these
//! defaults unless `Compression=`/`CompressionLevel=` say otherwise.

use backhand::compression::{CompressionOptions, Compressor, Gzip, Lz4, Zstd};
use backhand::{CompressionExtra, ExtraXz, FilesystemCompressor};
use nix_repart_spec::{SquashfsCompression, SquashfsSettings};

use crate::SquashfsError;

/// mksquashfs's default gzip level.
const GZIP_DEFAULT_LEVEL: u32 = 9;
/// mksquashfs's default zstd level.
const ZSTD_DEFAULT_LEVEL: u32 = 15;

/// backhand's compressor, and whether the options block is written (only
/// when mksquashfs would write it: lz4 always, others when they differ
/// from the defaults).
pub fn backhand(settings: &SquashfsSettings) -> Result<(FilesystemCompressor, bool), SquashfsError> {
    let (id, options, emit) = match settings.compression {
        SquashfsCompression::Gzip { level } => {
            let level = level.unwrap_or(GZIP_DEFAULT_LEVEL);
            let gzip = Gzip { compression_level: level, window_size: 15, strategies: 0 };
            (Compressor::Gzip, Some(CompressionOptions::Gzip(gzip)), level != GZIP_DEFAULT_LEVEL)
        }
        SquashfsCompression::Zstd { level } => {
            let level = level.unwrap_or(ZSTD_DEFAULT_LEVEL);
            let zstd = Zstd { compression_level: level };
            (Compressor::Zstd, Some(CompressionOptions::Zstd(zstd)), level != ZSTD_DEFAULT_LEVEL)
        }
        SquashfsCompression::Lz4 => {
            (Compressor::Lz4, Some(CompressionOptions::Lz4(Lz4 { version: 1, flags: 0 })), true)
        }
        SquashfsCompression::Xz { .. } => (Compressor::Xz, None, false),
    };
    let mut compressor = FilesystemCompressor::new(id, options).map_err(SquashfsError::Backhand)?;
    if let SquashfsCompression::Xz { level: Some(level) } = settings.compression {
        let mut xz = ExtraXz::default();
        xz.level(level).map_err(SquashfsError::Backhand)?;
        compressor.extra(CompressionExtra::Xz(xz)).map_err(SquashfsError::Backhand)?;
    }
    Ok((compressor, emit))
}
