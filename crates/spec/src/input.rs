//! Reading the files a build is given (spec, closure lists, `.attrs.json`,
//! images to inspect) without hanging and within bounds: a file is opened
//! with `O_NONBLOCK` (a FIFO cannot block the open), must be a regular file
//! (or, where asked, a block device), and is read up to a cap, so neither a
//! FIFO nor `/dev/zero` can hang a build or fill its memory.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest spec, closure list or `.attrs.json` read: far above the
/// `exportReferencesGraph` of a full NixOS closure (tens of MiB).
pub const MAX_SPEC_BYTES: u64 = 256 << 20;

/// Which kinds of file may be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    RegularFile,
    RegularFileOrBlockDevice,
}

/// Opens `path` for reading without blocking, and checks its kind.
pub fn open(path: &Path, kind: Kind) -> io::Result<File> {
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let file_type = file.metadata()?.file_type();
    let ok = file_type.is_file() || (kind == Kind::RegularFileOrBlockDevice && file_type.is_block_device());
    if !ok {
        let what = if kind == Kind::RegularFile { "a regular file" } else { "a regular file or block device" };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not {what}")));
    }
    Ok(file)
}

/// Reads a regular file of at most `max` bytes as UTF-8 text.
pub fn read_text(path: &Path, max: u64) -> io::Result<String> {
    let file = open(path, Kind::RegularFile)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than {max} bytes")));
    }
    String::from_utf8(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused_at_once() {
        let err = read_text(Path::new("/dev/zero"), 10).expect_err("a device");
        assert_eq!(err.to_string(), "not a regular file");
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("c string");
        // SAFETY: mkfifo(3) with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_text(&fifo, 10).expect_err("a FIFO");
        assert_eq!(err.to_string(), "not a regular file");
    }

    #[test]
    fn files_over_the_cap_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"0123456789").expect("write");
        assert_eq!(read_text(&file, 10).expect("fits"), "0123456789");
        assert_eq!(read_text(&file, 9).expect_err("too large").to_string(), "larger than 9 bytes");
    }
}
