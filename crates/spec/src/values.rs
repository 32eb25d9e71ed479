//! The value syntax of systemd's configuration files, as repart.d(5) uses
//! it: sizes with 1024-based suffixes, booleans in all of systemd's
//! spellings, and the [`Bytes`] unit.
//!
//! Only the syntax lives here; whether a value makes sense for a key is
//! decided in `validate`.

use std::fmt;
use std::ops::{Add, Sub};

use serde::Serialize;

/// A number of bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Bytes(pub u64);

impl Bytes {
    pub const KIB: Bytes = Bytes(1024);
    pub const MIB: Bytes = Bytes(1024 * 1024);
    /// The largest size a spec may give (16 PiB): the sum of every size
    /// and padding of 128 partitions stays far below what a file offset
    /// (`i64`) can address, so no arithmetic on sizes can overflow.
    pub const MAX_SIZE: Bytes = Bytes(1 << 54);

    /// Rounds up to a multiple of `unit`, or `u64::MAX` on overflow
    /// (systemd's `round_up_size()`).
    pub fn round_up(self, unit: Bytes) -> Bytes {
        Bytes(self.0.div_ceil(unit.0).saturating_mul(unit.0))
    }

    /// Rounds down to a multiple of `unit` (systemd's `round_down_size()`).
    pub fn round_down(self, unit: Bytes) -> Bytes {
        Bytes(self.0 / unit.0 * unit.0)
    }

    /// `self - other`, or zero when `other` is larger (systemd's `LESS_BY`).
    pub fn saturating_sub(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_sub(other.0))
    }
}

impl Add for Bytes {
    type Output = Bytes;
    fn add(self, rhs: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Bytes {
    type Output = Bytes;
    fn sub(self, rhs: Bytes) -> Bytes {
        Bytes(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for Bytes {
    /// Exact bytes, followed by a human reading when that helps:
    /// `67108864 (64.0M)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
        if self.0 < 1024 {
            return write!(f, "{} bytes", self.0);
        }
        let mut value = self.0 as f64;
        let mut unit = "";
        for u in UNITS {
            if value < 1024.0 {
                break;
            }
            value /= 1024.0;
            unit = u;
        }
        write!(f, "{} bytes ({value:.1}{unit})", self.0)
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends at a
/// character boundary (labels cut to a filesystem's limit, long values
/// shown in messages).
pub fn prefix_within(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Parses a size the way systemd's `parse_size(s, 1024)` does: a decimal
/// number, an optional fraction, an optional suffix `B`, `K`, `M`, `G`,
/// `T`, `P` or `E` (powers of 1024). Returns `None` for anything else or on
/// overflow.
pub fn parse_size(s: &str) -> Option<Bytes> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let multiplier: u64 = match suffix.trim_start() {
        "" | "B" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        "P" => 1 << 50,
        "E" => 1 << 60,
        _ => return None,
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() || fraction.contains('.') {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut bytes = whole.checked_mul(multiplier)?;
    if !fraction.is_empty() {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 18 {
            return None;
        }
        let digits: u128 = fraction.parse().ok()?;
        let scale = 10u128.pow(fraction.len() as u32);
        let extra = digits * u128::from(multiplier) / scale;
        bytes = bytes.checked_add(u64::try_from(extra).ok()?)?;
    }
    Some(Bytes(bytes))
}

/// Parses a boolean in any spelling systemd accepts (`parse_boolean()`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_1024_based_suffixes() {
        assert_eq!(parse_size("0"), Some(Bytes(0)));
        assert_eq!(parse_size("4096"), Some(Bytes(4096)));
        assert_eq!(parse_size("64M"), Some(Bytes(64 << 20)));
        assert_eq!(parse_size("2G"), Some(Bytes(2 << 30)));
        assert_eq!(parse_size("1T"), Some(Bytes(1 << 40)));
        assert_eq!(parse_size("1.5K"), Some(Bytes(1536)));
        assert_eq!(parse_size("10 M"), Some(Bytes(10 << 20)));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("1.2.3"), None);
        assert_eq!(parse_size("99999999999E"), None);
    }

    #[test]
    fn booleans_accept_systemd_spellings() {
        for yes in ["yes", "true", "1", "on", "YES", "y", "t"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["no", "false", "0", "off", "Off", "n", "f"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn rounding_matches_systemd() {
        assert_eq!(Bytes(1).round_up(Bytes(4096)), Bytes(4096));
        assert_eq!(Bytes(4096).round_up(Bytes(4096)), Bytes(4096));
        assert_eq!(Bytes(8191).round_down(Bytes(4096)), Bytes(4096));
        assert_eq!(Bytes(u64::MAX).round_up(Bytes(4096)), Bytes(u64::MAX));
    }
}
