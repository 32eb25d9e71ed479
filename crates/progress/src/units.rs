//! How sizes, rates and durations are shown: binary units with one
//! decimal (`1.2 GiB`), rates in MB/s (10^6 bytes, as dd and rsync show
//! them), durations in seconds.

use std::time::Duration;

/// `512 B`, `3.0 KiB`, `1.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `85.3 MB/s`; `-` before any time has passed.
pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds < 0.001 {
        return "-".to_string();
    }
    format!("{:.1} MB/s", bytes as f64 / seconds / 1e6)
}

/// `12.3 s`.
pub fn seconds(elapsed: Duration) -> String {
    format!("{:.1} s", elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_ls_h() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1_288_490_189), "1.2 GiB");
        assert_eq!(rate(85_000_000, Duration::from_secs(1)), "85.0 MB/s");
        assert_eq!(rate(5, Duration::ZERO), "-");
        assert_eq!(seconds(Duration::from_millis(12_345)), "12.3 s");
    }
}
