//! The FAT volume label, made from the partition label the way
//! systemd-repart makes it (`mangle_fat_label()` in systemd's mkfs-util.c):
//! every non-ASCII character becomes `_`, the result is cut to 11 bytes and
//! upper-cased, and the characters mkfs.vfat refuses (`*?.,;:/\|+=<>[]"`
//! and control characters) become `_`. nix-repart also turns a leading
//! space, which mkfs.vfat refuses, into `_`.

/// The 11 label bytes, space padded; `None` for an empty label (the boot
/// sector then says `NO NAME` and the root has no label entry).
pub fn fat_label(label: &str) -> Option<[u8; 11]> {
    let ascii: Vec<u8> = label.chars().map(|c| if c.is_ascii() { c as u8 } else { b'_' }).take(11).collect();
    if ascii.is_empty() {
        return None;
    }
    let mut out = [b' '; 11];
    for (i, byte) in ascii.iter().enumerate() {
        let upper = byte.to_ascii_uppercase();
        let forbidden = b"*?.,;:/\\|+=<>[]\"".contains(&upper) || upper < 0x20 || upper == 0x7f;
        out[i] = if forbidden || (i == 0 && upper == b' ') { b'_' } else { upper };
    }
    Some(out)
}

/// What the boot sector holds when there is no label.
pub const NO_NAME: [u8; 11] = *b"NO NAME    ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_mangled_like_systemd_repart() {
        assert_eq!(&fat_label("esp").unwrap_or(NO_NAME), b"ESP        ");
        assert_eq!(&fat_label("boot").unwrap_or(NO_NAME), b"BOOT       ");
        assert_eq!(&fat_label("Système-ÉFI-partition").unwrap_or(NO_NAME), b"SYST_ME-_FI");
        assert_eq!(&fat_label("a.b:c*d").unwrap_or(NO_NAME), b"A_B_C_D    ");
        assert_eq!(&fat_label(" x").unwrap_or(NO_NAME), b"_X         ");
        assert_eq!(fat_label(""), None);
    }
}
