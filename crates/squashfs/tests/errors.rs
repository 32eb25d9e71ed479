//! Errors of the squashfs writer that name what is at fault. In a test
//! binary of its own: `pipeline.rs` reads the writer's last-write counters,
//! which another write running beside it would change.

use std::fs;

use nix_repart_spec::SquashfsSettings;
use nix_repart_squashfs::{write, Target};
use nix_repart_tree::{Directory, File, Node};

#[test]
fn a_source_deleted_during_the_build_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tree = Directory::synthesized();
    for name in ["a", "b", "c"] {
        let source = dir.path().join(name);
        fs::write(&source, vec![7u8; 5000]).expect("write");
        tree.entries.insert(
            name.into(),
            Node::File(File { source, size: 5000, mode: 0o644, owner: Default::default(), mtime: 0 }),
        );
    }
    let gone = dir.path().join("b");
    fs::remove_file(&gone).expect("remove");
    let config = SquashfsSettings::default();
    let err = write(&tree, &config, 0, 2, Target::Measure, &nix_repart_progress::Counter::detached())
        .expect_err("a missing source");
    assert_eq!(err.to_string(), format!("cannot read {} (did it change during the build?)", gone.display()));
    assert!(err.is_input_error());
}
