//! The spec reader on arbitrary bytes: parsing and validation must return
//! a spec or problems, never panic, whatever the text.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nix_repart_spec::parse_spec(text);
    }
});
