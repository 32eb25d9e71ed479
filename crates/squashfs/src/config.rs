//! Compression and block size, from `Compression=`, `CompressionLevel=`
//! and `mkfsOptions.squashfs`, with mksquashfs's defaults: gzip, 128 KiB
//! blocks, level 9 for gzip and 15 for zstd, xz's default preset, lz4
//! without high compression. systemd-repart runs mksquashfs with these
//! defaults unless `Compression=`/`CompressionLevel=` say otherwise.

use backhand::compression::{CompressionOptions, Compressor, Gzip, Lz4, Zstd};
use backhand::{CompressionExtra, ExtraXz, FilesystemCompressor};

use crate::SquashfsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Gzip,
    Xz,
    Zstd,
    Lz4,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "gzip" => Some(Algorithm::Gzip),
            "xz" => Some(Algorithm::Xz),
            "zstd" => Some(Algorithm::Zstd),
            "lz4" => Some(Algorithm::Lz4),
            _ => None,
        }
    }
}

/// How a squashfs filesystem is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub algorithm: Algorithm,
    pub level: Option<u32>,
    pub block_size: u32,
}

/// mksquashfs's default block size.
pub const DEFAULT_BLOCK_SIZE: u32 = 128 * 1024;

impl Config {
    /// From the partition's settings and `mkfsOptions.squashfs`. Options that
    /// describe what nix-repart always does (`-noappend`, `-all-root`,
    /// `-no-xattrs`, ...) are accepted; `-processors` is accepted and left to
    /// `--jobs`; anything else is an error naming it.
    pub fn new(compression: Option<&str>, level: Option<u32>, mkfs: &[String]) -> Result<Config, SquashfsError> {
        let mut config = Config {
            algorithm: compression.and_then(Algorithm::parse).unwrap_or(Algorithm::Gzip),
            level,
            block_size: DEFAULT_BLOCK_SIZE,
        };
        let mut args = mkfs.iter();
        while let Some(option) = args.next() {
            let mut value =
                || args.next().cloned().ok_or_else(|| SquashfsError::MissingMkfsValue { option: option.clone() });
            match option.as_str() {
                "-b" => config.block_size = parse_block_size(&value()?)?,
                "-comp" => {
                    let name = value()?;
                    config.algorithm =
                        Algorithm::parse(&name).ok_or(SquashfsError::UnknownMkfsOption { option: name })?;
                }
                "-Xcompression-level" => {
                    let text = value()?;
                    config.level = Some(text.parse().map_err(|_| SquashfsError::UnknownMkfsOption { option: text })?);
                }
                "-processors" => {
                    value()?;
                }
                "-noappend" | "-all-root" | "-no-xattrs" | "-no-recovery" | "-quiet" | "-no-progress"
                | "-reproducible" | "-no-fragments-tail" => {}
                _ => return Err(SquashfsError::UnknownMkfsOption { option: option.clone() }),
            }
        }
        config.check_level()?;
        Ok(config)
    }

    fn check_level(&self) -> Result<(), SquashfsError> {
        let Some(level) = self.level else { return Ok(()) };
        let (algorithm, range, ok) = match self.algorithm {
            Algorithm::Gzip => ("gzip", "1-9", (1..=9).contains(&level)),
            Algorithm::Xz => ("xz", "0-9", level <= 9),
            Algorithm::Zstd => ("zstd", "1-22", (1..=22).contains(&level)),
            Algorithm::Lz4 => ("lz4", "none: lz4 has no levels here", false),
        };
        if ok {
            Ok(())
        } else {
            Err(SquashfsError::BadLevel { algorithm, level, range })
        }
    }

    /// backhand's compressor settings, and whether the options block is
    /// written (only when mksquashfs would write it: lz4 always, others when
    /// they differ from the defaults).
    pub fn backhand(&self) -> Result<(FilesystemCompressor, bool), SquashfsError> {
        let (id, options, emit) = match self.algorithm {
            Algorithm::Gzip => {
                let level = self.level.unwrap_or(9);
                let gzip = Gzip { compression_level: level, window_size: 15, strategies: 0 };
                (Compressor::Gzip, Some(CompressionOptions::Gzip(gzip)), level != 9)
            }
            Algorithm::Zstd => {
                let level = self.level.unwrap_or(15);
                (Compressor::Zstd, Some(CompressionOptions::Zstd(Zstd { compression_level: level })), level != 15)
            }
            Algorithm::Lz4 => (Compressor::Lz4, Some(CompressionOptions::Lz4(Lz4 { version: 1, flags: 0 })), true),
            Algorithm::Xz => (Compressor::Xz, None, false),
        };
        let mut compressor = FilesystemCompressor::new(id, options).map_err(SquashfsError::Backhand)?;
        if let (Algorithm::Xz, Some(level)) = (self.algorithm, self.level) {
            let mut xz = ExtraXz::default();
            xz.level(level).map_err(SquashfsError::Backhand)?;
            compressor.extra(CompressionExtra::Xz(xz)).map_err(SquashfsError::Backhand)?;
        }
        Ok((compressor, emit))
    }
}

fn parse_block_size(text: &str) -> Result<u32, SquashfsError> {
    let bad = || SquashfsError::BadBlockSize { value: text.to_string() };
    let (digits, unit) = match text.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1024),
        None => match text.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (text, 1),
        },
    };
    let size = digits.parse::<u32>().map_err(|_| bad())?.checked_mul(unit).ok_or_else(bad)?;
    if size.is_power_of_two() && (4096..=1 << 20).contains(&size) {
        Ok(size)
    } else {
        Err(bad())
    }
}
