//! Nix's base-32 (the alphabet without e, o, u, t; the last character
//! holds the first bits), as `narHash` comes in `exportReferencesGraph`,
//! to the base-16 the database stores.

const ALPHABET: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// `sha256:<nix32>` (or `sha256:<hex>`, passed through) as
/// `sha256:<hex>`; `None` for anything else.
pub fn nix32_to_hex(hash: &str) -> Option<String> {
    let digits = hash.strip_prefix("sha256:")?;
    if digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("sha256:{}", digits.to_ascii_lowercase()));
    }
    if digits.len() != 52 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (n, c) in digits.bytes().rev().enumerate() {
        let digit = ALPHABET.iter().position(|&a| a == c)? as u16;
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        bytes[i] |= (digit << j) as u8;
        if i + 1 < 32 {
            bytes[i + 1] |= (digit >> (8 - j)) as u8;
        } else if digit >> (8 - j) != 0 {
            return None;
        }
    }
    Some(format!("sha256:{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_what_nix_stores() {
        // The same path's narHash in exportReferencesGraph and in Debian's
        // Nix 2.8 database (tests/nix_database.rs checks a whole database).
        assert_eq!(
            nix32_to_hex("sha256:1gizv30433jc0y6ddmnqnvyvngif4bhwnzddw9474s4bp5vff66x").as_deref(),
            Some("sha256:dd18e776b98b687248e2ad7dcbe1222e3ebbfdb6d8d6d68c074c8e41c0d83fbe")
        );
        assert_eq!(nix32_to_hex("md5:abc"), None);
        assert_eq!(nix32_to_hex("sha256:eeee"), None);
    }
}
