//! Replays the inputs of the fuzz targets (`fuzz/`, run by
//! `tests/fuzz.sh`) on every test run: their seeds, and every input
//! fuzzing ever crashed on (`fuzz/regressions/<target>`). The spec reader
//! must give a spec or problems and inspect's GPT reader a table or the
//! reasons there is none, never a panic; the GPT seed image must read back
//! as the two partitions sgdisk made.

use std::path::{Path, PathBuf};

use nix_repart_image::gpt_read;

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn spec_fuzz_inputs_give_a_spec_or_problems() {
    let seeds = inputs("seeds/spec");
    assert!(seeds.len() >= 5, "the fuzz seeds are missing: {seeds:?}");
    for path in seeds.iter().chain(&inputs("regressions/spec")) {
        let bytes = std::fs::read(path).expect("read");
        let Ok(text) = std::str::from_utf8(&bytes) else { continue };
        let result = std::panic::catch_unwind(|| nix_repart_spec::parse_spec(text).map(|_| ()));
        assert!(result.is_ok(), "{} makes the spec reader panic", path.display());
    }
}

#[test]
fn the_gpt_seed_image_reads_as_sgdisk_wrote_it() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/gpt/two-partitions-512.img");
    let bytes = std::fs::read(seed).expect("seed image");
    let gpt = gpt_read::read(&bytes[..], bytes.len() as u64).expect("a valid GPT");
    let entries: Vec<(u64, u64, &str)> =
        gpt.entries.iter().map(|e| (e.first_lba, e.last_lba, e.name.as_str())).collect();
    assert_eq!(entries, [(34, 50, "esp"), (51, 62, "root")]);
    assert!(gpt.warnings.is_empty(), "{:?}", gpt.warnings);
}

#[test]
fn gpt_fuzz_inputs_never_panic() {
    for path in inputs("seeds/gpt").iter().chain(&inputs("regressions/gpt")) {
        let bytes = std::fs::read(path).expect("read");
        let result = std::panic::catch_unwind(|| gpt_read::read(&bytes[..], bytes.len() as u64).map(|_| ()));
        assert!(result.is_ok(), "{} makes the GPT reader panic", path.display());
    }
}
