//! Where backhand writes: a region of the image file (nothing is written
//! past its end; bytes backhand leaves past the end of the filesystem are
//! zeroed afterwards), or nowhere, only counting, to measure.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

/// A `Write + Seek` over `[offset, offset + limit)` of a file.
pub struct Region<'f> {
    file: Option<&'f File>,
    offset: u64,
    limit: u64,
    position: u64,
    /// The furthest position written (or counted).
    pub end: u64,
}

impl<'f> Region<'f> {
    pub fn new(file: &'f File, offset: u64, limit: u64) -> Region<'f> {
        Region { file: Some(file), offset, limit, position: 0, end: 0 }
    }

    /// Counts bytes without writing them.
    pub fn counting() -> Region<'static> {
        Region { file: None, offset: 0, limit: u64::MAX, position: 0, end: 0 }
    }

    /// Zeroes what was written between `from` and the furthest write.
    pub fn clear_after(&self, from: u64) -> io::Result<()> {
        let Some(file) = self.file else { return Ok(()) };
        let zeros = vec![0u8; 1 << 16];
        let mut at = from;
        let end = self.end.min(self.limit);
        while at < end {
            let n = (end - at).min(zeros.len() as u64) as usize;
            file.write_all_at(&zeros[..n], self.offset + at)?;
            at += n as u64;
        }
        Ok(())
    }
}

impl Write for Region<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(file) = self.file {
            let room = self.limit.saturating_sub(self.position);
            let n = (buf.len() as u64).min(room) as usize;
            file.write_all_at(&buf[..n], self.offset + self.position)?;
        }
        self.position += buf.len() as u64;
        self.end = self.end.max(self.position);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Region<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
            SeekFrom::End(d) => self.end.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.position)
    }
}
