//! The compression pipeline predicts every data block backhand compresses:
//! all data blocks come from it, only metadata is compressed inline, and
//! the bytes do not depend on the number of threads.

use std::fs;
use std::path::Path;

use nix_repart_spec::{SquashfsCompression, SquashfsSettings};
use nix_repart_squashfs::{pipeline::last_write_stats, write, Target};
use nix_repart_tree::{Directory, File, Node};

fn add_file(dir: &mut Directory, root: &Path, name: &str, bytes: &[u8]) {
    let source = root.join(name);
    fs::write(&source, bytes).expect("write");
    dir.entries.insert(
        name.into(),
        Node::File(File { source, size: bytes.len() as u64, mode: 0o644, owner: Default::default(), mtime: 0 }),
    );
}

fn sample_tree(root: &Path) -> Directory {
    let mut dir = Directory::synthesized();
    let mut seed = 1u64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (seed >> 59) as u8 // low entropy: compresses, but not to nothing
            })
            .collect()
    };
    add_file(&mut dir, root, "big", &noise(1_000_000));
    add_file(&mut dir, root, "exact", &noise(131_072));
    let mut sparse = noise(300_000);
    sparse[131_072..262_144].fill(0); // one all-zero block: a hole, never compressed
    add_file(&mut dir, root, "sparse", &sparse);
    for i in 0..300 {
        add_file(&mut dir, root, &format!("small-{i:03}"), &noise(1000 + i * 7));
    }
    add_file(&mut dir, root, "empty", b"");
    dir
}

fn image(tree: &Directory, jobs: usize, out: &Path) -> (Vec<u8>, (u64, u64)) {
    let config = zstd();
    let file = fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(out).expect("open");
    let size = write(
        tree,
        &config,
        1_700_000_000,
        jobs,
        Target::Region { file: &file, offset: 4096, limit: u64::MAX },
        &nix_repart_progress::Counter::detached(),
    )
    .expect("write");
    let stats = last_write_stats();
    let bytes = fs::read(out).expect("read");
    (bytes[4096..4096 + size as usize].to_vec(), stats)
}

#[test]
fn data_blocks_come_from_the_pipeline_and_threads_do_not_change_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = sample_tree(dir.path());
    let (one, (hits_one, _)) = image(&tree, 1, &dir.path().join("one.img"));
    let (four, (hits, misses)) = image(&tree, 4, &dir.path().join("four.img"));
    assert_eq!(one, four, "the image depends on the thread count");
    // big: 8 blocks (7 full + 1 partial), exact: 1, sparse: 2 of 3 (one is
    // a hole), small files (613950 bytes): 4 full fragment buffers and the
    // last one. Every one of them must come from the pipeline.
    assert_eq!(hits, 8 + 1 + 2 + 5, "data blocks compressed ahead");
    assert_eq!(hits, hits_one);
    // Metadata (inodes, directories, tables) is compressed inline: a few blocks.
    assert!(misses <= 8, "{misses} blocks compressed inline");
    let measured = write(&tree, &zstd(), 1_700_000_000, 2, Target::Measure, &nix_repart_progress::Counter::detached())
        .expect("measure");
    assert_eq!(measured as usize, one.len(), "measuring gives the written size");
}

fn zstd() -> SquashfsSettings {
    SquashfsSettings { compression: SquashfsCompression::Zstd { level: None }, ..SquashfsSettings::default() }
}
