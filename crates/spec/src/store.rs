//! Nix store path syntax. nix-compat, which would do this, is only an empty
//! placeholder on crates.io, so the few rules are written out here (from
//! Nix's `StorePath` parser): 32 characters of Nix's base32 alphabet, `-`,
//! and a name of at most 211 characters from `[A-Za-z0-9+-._?=]` that does
//! not start with `.`.

use std::path::Path;

const HASH_LEN: usize = 32;
const MAX_NAME_LEN: usize = 211;

/// Nix's base32 alphabet: digits and lower-case letters without e, o, u, t.
fn is_nix_base32(c: u8) -> bool {
    matches!(c, b'0'..=b'9' | b'a'..=b'd' | b'f'..=b'n' | b'p'..=b's' | b'v'..=b'z')
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"+-._?=".contains(&c)
}

/// Whether `name` is a store path's base name: `<hash>-<name>`.
pub fn is_store_path_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.len() < HASH_LEN + 2 || bytes[HASH_LEN] != b'-' {
        return false;
    }
    let (hash, rest) = (&bytes[..HASH_LEN], &bytes[HASH_LEN + 1..]);
    hash.iter().all(|c| is_nix_base32(*c))
        && rest.len() <= MAX_NAME_LEN
        && rest[0] != b'.'
        && rest.iter().all(|c| is_name_char(*c))
}

/// Whether `path` is an absolute path whose last component is a store path
/// name (the store directory itself may be anywhere, as with `--store`).
pub fn is_store_path(path: &Path) -> bool {
    path.is_absolute() && path.file_name().and_then(|n| n.to_str()).is_some_and(is_store_path_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_store_paths_and_rejects_lookalikes() {
        assert!(is_store_path(Path::new("/nix/store/7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-hello-2.12.1")));
        assert!(is_store_path_name("00000000000000000000000000000000-a+b_c?=.d"));
        assert!(!is_store_path_name("7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-"));
        assert!(!is_store_path_name("7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-.hidden"));
        assert!(!is_store_path_name("7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4ce-hello"), "e is not base32");
        assert!(!is_store_path_name("7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4c-hello"), "31 chars");
        assert!(!is_store_path_name("7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-a/b"));
        assert!(!is_store_path(Path::new("nix/store/7d7sx2a4y4a8zi3cd8v8dhd1wg4bq4cl-hello")));
    }
}
