//! The dm-verity layouts both tools build: a data partition (erofs, or
//! squashfs), its hash partition, with `VerityMatchKey=`. With erofs both
//! run the same mkfs.erofs, so the data, the hash partition, the root hash
//! and the partition UUIDs derived from it must be byte-equal; squashfs is
//! nix-repart's own writer, so there the pair is checked by its tree and by
//! `veritysetup verify` of nix-repart's image ([`Table::VerityOwnData`]).

use crate::{Layout, Table};

const STORE: (&str, &str) = ("CopyFiles", "@STORE@:/nix/store");
/// Small, without hard links (which 257 keeps and nix-repart does not, so
/// an erofs of @TREE@ differs: docs/design.md).
const ETC: (&str, &str) = ("CopyFiles", "@ETC@:/etc");

pub const VERITY_LAYOUTS: &[Layout] = &[
    Layout {
        name: "verity-erofs-store",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-store",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "store"),
                    ("Minimize", "best"),
                    STORE,
                ],
            ),
            (
                "20-store-verity",
                &[("Type", "usr-verity"), ("Verity", "hash"), ("VerityMatchKey", "store"), ("Minimize", "best")],
            ),
        ],
    },
    Layout {
        name: "verity-4096-sectors",
        image_size: "auto",
        sector_size: 4096,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-usr",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "usr"),
                    ("Minimize", "best"),
                    STORE,
                ],
            ),
            (
                "20-usr-verity",
                &[("Type", "usr-verity"), ("Verity", "hash"), ("VerityMatchKey", "usr"), ("Minimize", "best")],
            ),
        ],
    },
    Layout {
        name: "verity-fixed-size-image",
        image_size: "96M",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            ("10-usr", &[("Type", "usr"), ("Format", "erofs"), ("Verity", "data"), ("VerityMatchKey", "usr"), STORE]),
            // No Minimize=: the hash partition grows with the disk.
            ("20-usr-verity", &[("Type", "usr-verity"), ("Verity", "hash"), ("VerityMatchKey", "usr")]),
            ("30-home", &[("Type", "home"), ("SizeMinBytes", "8M")]),
        ],
    },
    Layout {
        name: "verity-split-files",
        image_size: "auto",
        sector_size: 512,
        split: true,
        table: Table::Same,
        partitions: &[
            (
                "10-usr",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "usr"),
                    ("Minimize", "best"),
                    ("SplitName", "usr"),
                    STORE,
                ],
            ),
            (
                "20-usr-verity",
                &[
                    ("Type", "usr-verity"),
                    ("Verity", "hash"),
                    ("VerityMatchKey", "usr"),
                    ("Minimize", "best"),
                    ("SplitName", "usr-verity"),
                ],
            ),
        ],
    },
    Layout {
        name: "verity-two-pairs-and-block-sizes",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-root",
                &[
                    ("Type", "root"),
                    ("Format", "erofs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "root"),
                    ("Minimize", "best"),
                    ETC,
                ],
            ),
            (
                "20-root-verity",
                &[
                    ("Type", "root-verity"),
                    ("Verity", "hash"),
                    ("VerityMatchKey", "root"),
                    ("Minimize", "best"),
                    ("VerityDataBlockSizeBytes", "4096"),
                    ("VerityHashBlockSizeBytes", "1024"),
                ],
            ),
            (
                "30-usr",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "usr"),
                    ("Minimize", "best"),
                    STORE,
                ],
            ),
            (
                "40-usr-verity",
                &[("Type", "usr-verity"), ("Verity", "hash"), ("VerityMatchKey", "usr"), ("Minimize", "best")],
            ),
        ],
    },
    Layout {
        name: "verity-hash-first",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            // nixpkgs' verityStore names the hash partition 10-store-verity.
            (
                "10-store-verity",
                &[("Type", "usr-verity"), ("Verity", "hash"), ("VerityMatchKey", "store"), ("Minimize", "best")],
            ),
            (
                "20-store",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "store"),
                    ("Minimize", "best"),
                    STORE,
                ],
            ),
        ],
    },
    Layout {
        name: "verity-squashfs-store",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::VerityOwnData,
        partitions: &[
            (
                "10-store",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Verity", "data"),
                    ("VerityMatchKey", "store"),
                    ("Minimize", "best"),
                    STORE,
                ],
            ),
            (
                "20-store-verity",
                &[("Type", "usr-verity"), ("Verity", "hash"), ("VerityMatchKey", "store"), ("Minimize", "best")],
            ),
        ],
    },
];
