//! FAT timestamps (fatgen103 §"Date and Time Formats"): a date with 1980
//! as year 0 and a time with two-second resolution, plus a creation-time
//! field in hundredths for the odd second. FAT has no time zone; times are
//! written in UTC. Before 1980 clamps to 1980-01-01 00:00:00, after 2107
//! to 2107-12-31 23:59:58.

/// One FAT date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FatTime {
    pub date: u16,
    pub time: u16,
    /// Hundredths of a second added to `time` (0 or 100).
    pub hundredths: u8,
}

const FAT_EPOCH: u64 = 315_532_800; // 1980-01-01T00:00:00Z
const FAT_LAST: u64 = 4_354_819_198; // 2107-12-31T23:59:58Z

/// Year, month (1-12) and day (1-31) of a day count since 1970-01-01, in
/// the proleptic Gregorian calendar (H. Hinnant's `civil_from_days`
/// algorithm, chrono-Compatible Low-Level Date Algorithms).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

impl FatTime {
    pub fn from_unix(seconds: u64) -> FatTime {
        let t = seconds.clamp(FAT_EPOCH, FAT_LAST);
        let (year, month, day) = civil_from_days(t / 86_400);
        let rest = t % 86_400;
        let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
        FatTime {
            date: (((year - 1980) << 9) | (month << 5) | day) as u16,
            time: ((hour << 11) | (minute << 5) | (second / 2)) as u16,
            hundredths: ((second % 2) * 100) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 1980-01-01 00:00:00: day 1, month 1, year 0.
        assert_eq!(FatTime::from_unix(0), FatTime { date: 0x21, time: 0, hundredths: 0 });
        assert_eq!(FatTime::from_unix(315_532_800), FatTime::from_unix(0));
        // 2023-11-14 22:13:21 UTC (1700000001).
        let t = FatTime::from_unix(1_700_000_001);
        assert_eq!(t.date, ((2023 - 1980) << 9) | (11 << 5) | 14);
        assert_eq!(t.time, (22 << 11) | (13 << 5) | 10);
        assert_eq!(t.hundredths, 100);
        // 2000-02-29, a leap day.
        assert_eq!(FatTime::from_unix(951_782_400).date, (20 << 9) | (2 << 5) | 29);
        assert_eq!(FatTime::from_unix(u64::MAX).date, (127 << 9) | (12 << 5) | 31);
    }
}
