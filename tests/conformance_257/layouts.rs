//! The layouts both tools build, with content.

use crate::{Layout, Table};

pub const LAYOUTS: &[Layout] = &[
    Layout {
        name: "esp-and-ext4-root",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::SmallerExt,
        partitions: &[
            ("10-esp", &[("Type", "esp"), ("Format", "vfat"), ("SizeMinBytes", "128M"), ("CopyFiles", "@ETC@:/etc")]),
            ("20-root", &[("Type", "root"), ("Format", "ext4"), ("Minimize", "guess"), ("CopyFiles", "@TREE@:/")]),
        ],
    },
    Layout {
        name: "squashfs-store",
        image_size: "auto",
        sector_size: 512,
        split: true,
        table: Table::Same,
        partitions: &[(
            "10-store",
            &[("Type", "usr"), ("Format", "squashfs"), ("Minimize", "best"), ("CopyFiles", "@STORE@:/nix/store")],
        )],
    },
    Layout {
        name: "erofs-store",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[(
            "10-store",
            &[("Type", "usr"), ("Format", "erofs"), ("Minimize", "best"), ("CopyFiles", "@STORE@:/nix/store")],
        )],
    },
];
