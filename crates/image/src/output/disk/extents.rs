//! The allocated extents of a sparse file (`lseek` with `SEEK_DATA` and
//! `SEEK_HOLE`), so that a converter reads only what was written. A
//! filesystem without them reports the whole file as data, which is still
//! correct, only slower.

use std::fs::File;
use std::os::fd::AsRawFd;

/// `(offset, length)` of each data extent, in order.
pub fn data_extents(file: &File) -> std::io::Result<Vec<(u64, u64)>> {
    let len = file.metadata()?.len();
    let fd = file.as_raw_fd();
    let mut extents = Vec::new();
    let mut at: u64 = 0;
    while at < len {
        // SAFETY: lseek on a file descriptor we own; no memory is passed.
        let data = unsafe { libc::lseek(fd, at as libc::off_t, libc::SEEK_DATA) };
        if data < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENXIO) {
                break; // no data after `at`
            }
            if e.raw_os_error() == Some(libc::EINVAL) {
                return Ok(vec![(0, len)]); // SEEK_DATA not supported
            }
            return Err(e);
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let (start, end) = (data as u64, (hole as u64).min(len));
        if end > start {
            extents.push((start, end - start));
        }
        at = end;
    }
    Ok(extents)
}
