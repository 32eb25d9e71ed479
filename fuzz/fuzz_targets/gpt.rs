//! inspect's GPT reader on arbitrary image bytes: it must return a table
//! (with warnings) or the reasons there is none, never panic, and never
//! allocate more than its bounds allow.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(gpt) = nix_repart_image::gpt_read::read(data, data.len() as u64) {
        let _ = nix_repart_image::inspect::disk(&gpt, data.len() as u64);
    }
});
