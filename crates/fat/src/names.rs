//! Directory names: which long names FAT can hold, the 8.3 short name of
//! each entry, and the long-file-name (VFAT LFN) entries that carry the
//! real name (fatgen103 §7 "FAT Long Directory Entries").
//!
//! Short names are made per directory, in name order, so they never depend
//! on anything but the directory's own list: a name that already is a
//! valid upper-case 8.3 name is used as it is; otherwise the basis name
//! (upper case, invalid characters as `_`) is used when it is free and
//! lost nothing but case, else it gets the first free numeric tail (`~1`,
//! `~2`, ...).

use std::collections::{HashMap, HashSet};

/// Why a name cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    NotUtf8,
    TooLong,
    Forbidden(char),
    TrailingDotOrSpace,
    Reserved,
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::NotUtf8 => f.write_str("it is not valid UTF-8"),
            NameProblem::TooLong => f.write_str("it is longer than 255 UTF-16 code units"),
            NameProblem::Forbidden(c) => write!(f, "FAT names cannot contain {c:?}"),
            NameProblem::TrailingDotOrSpace => f.write_str("FAT names cannot end with '.' or ' '"),
            NameProblem::Reserved => f.write_str("'.' and '..' are reserved"),
        }
    }
}

/// A name as UTF-16 for its long-name entries, or why it cannot be one.
pub fn long_name(name: &std::ffi::OsStr) -> Result<Vec<u16>, NameProblem> {
    let name = name.to_str().ok_or(NameProblem::NotUtf8)?;
    if name == "." || name == ".." {
        return Err(NameProblem::Reserved);
    }
    if let Some(c) = name.chars().find(|c| "\"*/:<>?\\|".contains(*c) || (*c as u32) < 0x20) {
        return Err(NameProblem::Forbidden(c));
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Err(NameProblem::TrailingDotOrSpace);
    }
    let units: Vec<u16> = name.encode_utf16().collect();
    if units.len() > 255 {
        return Err(NameProblem::TooLong);
    }
    Ok(units)
}

/// Characters allowed in a short name besides `A-Z` and `0-9`.
const SHORT_EXTRA: &[u8] = b"!#$%&'()-@^_`{}~";

fn short_char_ok(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || SHORT_EXTRA.contains(&b)
}

/// Packs base and extension into the 11-byte, space-padded form.
fn pack(base: &[u8], ext: &[u8]) -> [u8; 11] {
    let mut out = [b' '; 11];
    out[..base.len()].copy_from_slice(base);
    out[8..8 + ext.len()].copy_from_slice(ext);
    out
}

/// The name itself when it is a valid upper-case 8.3 name.
pub fn exact_short(name: &str) -> Option<[u8; 11]> {
    let (base, ext) = name.split_once('.').unwrap_or((name, ""));
    let ok = |s: &str, max: usize| s.len() <= max && s.bytes().all(short_char_ok);
    (!base.is_empty() && ok(base, 8) && ok(ext, 3) && !(name.contains('.') && ext.is_empty()))
        .then(|| pack(base.as_bytes(), ext.as_bytes()))
}

/// The basis name of fatgen103's short-name algorithm, and whether
/// anything but case was lost making it.
fn basis(name: &str) -> (Vec<u8>, Vec<u8>, bool) {
    let mut lossy = false;
    let mut convert = |s: &str, max: usize| -> Vec<u8> {
        let mut out = Vec::new();
        for c in s.chars() {
            if c == ' ' || c == '.' {
                lossy = true;
                continue;
            }
            let upper = c.to_ascii_uppercase();
            let byte = if upper.is_ascii() && short_char_ok(upper as u8) { upper as u8 } else { b'_' };
            lossy |= byte == b'_' && c != '_';
            if out.len() < max {
                out.push(byte);
            } else {
                lossy = true;
            }
        }
        out
    };
    let trimmed = name.trim_start_matches('.');
    let (base, ext) = match trimmed.rfind('.') {
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (trimmed, ""),
    };
    let base = convert(base, 8);
    let ext = convert(ext, 3);
    let lossy = lossy || trimmed.len() != name.len() || base.is_empty();
    let base = if base.is_empty() { b"_".to_vec() } else { base };
    (base, ext, lossy)
}

/// Gives out unique short names within one directory.
#[derive(Default)]
pub struct ShortNames {
    used: HashSet<[u8; 11]>,
    next_tail: HashMap<(Vec<u8>, Vec<u8>), u32>,
}

impl ShortNames {
    /// Reserves the names that are already exact 8.3 names, before any
    /// other name of the directory asks for a tail.
    pub fn reserve(&mut self, short: [u8; 11]) {
        self.used.insert(short);
    }

    /// A free short name for a long name that is not an exact 8.3 name.
    pub fn generate(&mut self, name: &str) -> [u8; 11] {
        let (base, ext, lossy) = basis(name);
        let plain = pack(&base, &ext);
        if !lossy && !self.used.contains(&plain) {
            self.used.insert(plain);
            return plain;
        }
        let counter = self.next_tail.entry((base.clone(), ext.clone())).or_insert(1);
        loop {
            let tail = format!("~{counter}");
            *counter += 1;
            let keep = base.len().min(8 - tail.len());
            let mut candidate_base = base[..keep].to_vec();
            candidate_base.extend_from_slice(tail.as_bytes());
            let candidate = pack(&candidate_base, &ext);
            if self.used.insert(candidate) {
                return candidate;
            }
        }
    }
}

/// The checksum of a short name, stored in each of its long-name entries.
pub fn checksum(short: &[u8; 11]) -> u8 {
    short.iter().fold(0u8, |sum, b| ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(*b))
}

/// Characters per long-name entry.
const LFN_CHARS: usize = 13;

/// How many long-name entries a name of `units` UTF-16 code units takes.
pub fn lfn_entry_count(units: usize) -> usize {
    units.div_ceil(LFN_CHARS)
}

/// The long-name entries of a name, in on-disk order (last part first).
pub fn lfn_entries(units: &[u16], short: &[u8; 11]) -> Vec<[u8; 32]> {
    let count = lfn_entry_count(units.len());
    let sum = checksum(short);
    (0..count)
        .rev()
        .map(|i| {
            let mut chars = [0xFFFFu16; LFN_CHARS];
            for (j, slot) in chars.iter_mut().enumerate() {
                let at = i * LFN_CHARS + j;
                match at.cmp(&units.len()) {
                    std::cmp::Ordering::Less => *slot = units[at],
                    std::cmp::Ordering::Equal => *slot = 0,
                    std::cmp::Ordering::Greater => {}
                }
            }
            let mut entry = [0u8; 32];
            entry[0] = (i as u8 + 1) | if i + 1 == count { 0x40 } else { 0 };
            entry[11] = 0x0F; // ATTR_LONG_NAME
            entry[13] = sum;
            let positions = (1..11).step_by(2).chain((14..26).step_by(2)).chain((28..32).step_by(2));
            for (pos, c) in positions.zip(chars) {
                entry[pos..pos + 2].copy_from_slice(&c.to_le_bytes());
            }
            entry
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn exact_short_names() {
        assert_eq!(exact_short("BOOTX64.EFI"), Some(*b"BOOTX64 EFI"));
        assert_eq!(exact_short("EFI"), Some(*b"EFI        "));
        assert_eq!(exact_short("efi"), None);
        assert_eq!(exact_short("TOOLONGNAME"), None);
        assert_eq!(exact_short("A.B.C"), None);
        assert_eq!(exact_short("A+B"), None);
    }

    #[test]
    fn generated_short_names_are_unique_and_stable() {
        let mut names = ShortNames::default();
        assert_eq!(&names.generate("loader"), b"LOADER     ");
        assert_eq!(&names.generate("Loader.conf"), b"LOADER~1CON", "a cut extension is lossy");
        assert_eq!(&names.generate("entries.srel"), b"ENTRIE~1SRE");
        assert_eq!(&names.generate("entries.srelx"), b"ENTRIE~2SRE");
        assert_eq!(&names.generate(".hidden"), b"HIDDEN~1   ");
        assert_eq!(&names.generate("été.txt"), b"_T_~1   TXT");
        let mut many = ShortNames::default();
        let all: HashSet<[u8; 11]> = (0..5000).map(|i| many.generate(&format!("file-{i:05}.data"))).collect();
        assert_eq!(all.len(), 5000);
    }

    #[test]
    fn long_names_that_fat_cannot_hold() {
        assert_eq!(long_name(OsStr::new("a:b")), Err(NameProblem::Forbidden(':')));
        assert_eq!(long_name(OsStr::new("end.")), Err(NameProblem::TrailingDotOrSpace));
        assert_eq!(long_name(OsStr::new(&"x".repeat(256))), Err(NameProblem::TooLong));
        assert_eq!(long_name(OsStr::new("日本語.txt")).map(|u| u.len()), Ok(7));
    }

    #[test]
    fn checksum_matches_fatgen103_definition() {
        // Rotate right by one bit and add, over the 11 bytes.
        let short = *b"BOOTX64 EFI";
        let mut sum: u8 = 0;
        for b in short {
            sum = sum.rotate_right(1).wrapping_add(b);
        }
        assert_eq!(checksum(&short), sum);
        let entries = lfn_entries(&"Hello World, long name".encode_utf16().collect::<Vec<_>>(), &short);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0][0], 0x42);
        assert_eq!(entries[1][0], 0x01);
    }
}
