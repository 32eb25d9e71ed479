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
    Layout {
        name: "fixed-size-minimized-store",
        image_size: "300M",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-store",
                &[("Type", "usr"), ("Format", "squashfs"), ("Minimize", "best"), ("CopyFiles", "@STORE@:/nix/store")],
            ),
            ("20-root", &[("Type", "root"), ("Weight", "500")]),
        ],
    },
    Layout {
        name: "tiny-image",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[(
            "10-etc",
            &[("Type", "linux-generic"), ("Format", "squashfs"), ("Minimize", "best"), ("CopyFiles", "@ETC@:/etc")],
        )],
    },
    Layout {
        name: "sectors-4096-store-and-root",
        image_size: "auto",
        sector_size: 4096,
        split: false,
        table: Table::SmallerExt,
        partitions: &[
            (
                "10-store",
                &[("Type", "usr"), ("Format", "erofs"), ("Minimize", "best"), ("CopyFiles", "@STORE@:/nix/store")],
            ),
            ("20-root", &[("Type", "root"), ("Format", "ext4"), ("Minimize", "guess"), ("CopyFiles", "@ETC@:/etc")]),
        ],
    },
    Layout {
        name: "split-labels-and-names",
        image_size: "auto",
        sector_size: 512,
        split: true,
        table: Table::Same,
        partitions: &[
            (
                "10-store",
                &[
                    ("Type", "usr"),
                    ("Label", "store_1"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("SplitName", "store"),
                    ("CopyFiles", "@STORE@:/nix/store"),
                ],
            ),
            (
                "20-etc",
                &[
                    ("Type", "linux-generic"),
                    ("Label", "etc"),
                    ("Format", "erofs"),
                    ("Minimize", "best"),
                    ("CopyFiles", "@ETC@:/"),
                ],
            ),
            ("30-empty", &[("Type", "var"), ("SplitName", "-")]),
        ],
    },
    Layout {
        name: "excludes-and-directories",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[(
            "10-data",
            &[
                ("Type", "linux-generic"),
                ("Format", "squashfs"),
                ("Minimize", "best"),
                ("CopyFiles", "@TREE@:/data"),
                ("ExcludeFiles", "@TREE@/d03"),
                ("ExcludeFilesTarget", "/data/d01/sub1"),
                ("MakeDirectories", "/var/lib/machines /srv"),
            ],
        )],
    },
    Layout {
        name: "flags-and-attributes",
        image_size: "200M",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-store",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Minimize", "best"),
                    ("ReadOnly", "yes"),
                    ("NoAuto", "yes"),
                    ("CopyFiles", "@ETC@:/"),
                ],
            ),
            ("20-swap", &[("Type", "swap"), ("Format", "swap"), ("SizeMinBytes", "16M"), ("SizeMaxBytes", "16M")]),
            (
                "30-root",
                &[
                    ("Type", "root"),
                    ("Format", "ext4"),
                    ("GrowFileSystem", "yes"),
                    ("Flags", "0x1000000000000"),
                    ("CopyFiles", "@ETC@:/etc"),
                ],
            ),
        ],
    },
    Layout {
        name: "compressed-stores",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-zstd",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("Compression", "zstd"),
                    ("CompressionLevel", "9"),
                    ("CopyFiles", "@TREE@:/"),
                ],
            ),
            // The store: @TREE@ has a hard link, which systemd-repart keeps
            // and nix-repart never depends on (docs/design.md), so the
            // erofs images would differ in their inode count.
            (
                "20-lz4",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Minimize", "best"),
                    ("Compression", "lz4"),
                    ("CopyFiles", "@STORE@:/"),
                ],
            ),
        ],
    },
    Layout {
        name: "keys-257-builds-offline",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::SmallerExt,
        partitions: &[
            (
                "10-usr",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("CopyFiles", "@ETC@:/etc"),
                    ("MakeSymlinks", "/bin/sh:busybox /etc/alias:hostname"),
                    ("MakeDirectories", "/bin"),
                    ("Priority", "10"),
                    ("FactoryReset", "yes"),
                    ("MountPoint", "/usr:ro"),
                    ("Encrypt", "off"),
                ],
            ),
            (
                "20-root",
                &[
                    ("Type", "root"),
                    ("Format", "ext4"),
                    ("Minimize", "guess"),
                    ("CopyFiles", "@ETC@:/etc"),
                    ("MakeSymlinks", "/etc/localtime:/etc/zoneinfo/UTC"),
                    ("Priority", "-5"),
                    // 258+; 257 warns about the unknown key and goes on.
                    ("AddValidateFS", "no"),
                ],
            ),
        ],
    },
    // A root whose /usr, /var, /home, /boot and /efi belong to other
    // partitions: copied as empty directories, like /tmp, /run and /proc.
    Layout {
        name: "root-with-mount-points",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            ("00-esp", &[("Type", "esp"), ("Format", "vfat"), ("SizeMinBytes", "100M")]),
            ("10-root", &[("Type", "root"), ("Format", "squashfs"), ("Minimize", "best"), ("CopyFiles", "@ROOTFS@:/")]),
            ("20-usr", &[("Type", "usr"), ("Format", "erofs"), ("Minimize", "best"), ("CopyFiles", "@ROOTFS@/usr:/")]),
            ("30-var", &[("Type", "var"), ("SizeMinBytes", "1M"), ("SizeMaxBytes", "1M")]),
            ("40-home", &[("Type", "home"), ("SizeMinBytes", "1M"), ("SizeMaxBytes", "1M")]),
        ],
    },
    // erofs-utils 1.8's compressors (the reference's mkfs.erofs is used by
    // both tools), with levels, byte for byte.
    Layout {
        name: "erofs-zstd-lzma-deflate",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-zstd",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Minimize", "best"),
                    ("Compression", "zstd"),
                    ("CompressionLevel", "9"),
                    ("CopyFiles", "@STORE@:/"),
                ],
            ),
            (
                "20-lzma",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Minimize", "best"),
                    ("Compression", "lzma"),
                    ("CopyFiles", "@STORE@:/"),
                ],
            ),
            (
                "30-deflate",
                &[
                    ("Type", "usr"),
                    ("Format", "erofs"),
                    ("Minimize", "best"),
                    ("Compression", "deflate"),
                    ("CompressionLevel", "6"),
                    ("CopyFiles", "@STORE@:/"),
                ],
            ),
        ],
    },
    Layout {
        name: "ext2-and-ext3",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::SmallerExt,
        partitions: &[
            ("10-root", &[("Type", "root"), ("Format", "ext2"), ("Minimize", "guess"), ("CopyFiles", "@TREE@:/")]),
            ("20-var", &[("Type", "var"), ("Format", "ext3"), ("Minimize", "guess"), ("CopyFiles", "@ETC@:/etc")]),
        ],
    },
    Layout {
        name: "vfat-data-partition",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[(
            "10-data",
            &[
                ("Type", "linux-generic"),
                ("Format", "vfat"),
                ("SizeMinBytes", "64M"),
                ("CopyFiles", "@ETC@:/"),
                ("Label", "DATA"),
            ],
        )],
    },
    Layout {
        name: "padding-and-weights-with-content",
        image_size: "500M",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            ("10-esp", &[("Type", "esp"), ("Format", "vfat"), ("PaddingMinBytes", "3M"), ("CopyFiles", "@ETC@:/")]),
            (
                "20-store",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("Weight", "100"),
                    ("PaddingWeight", "10"),
                    ("CopyFiles", "@STORE@:/"),
                ],
            ),
            ("30-root", &[("Type", "root"), ("Weight", "1000"), ("PaddingMinBytes", "5M")]),
        ],
    },
    Layout {
        name: "sectors-4096-esp",
        image_size: "auto",
        sector_size: 4096,
        split: false,
        table: Table::Same,
        partitions: &[
            ("10-esp", &[("Type", "esp"), ("Format", "vfat"), ("SizeMinBytes", "260M"), ("CopyFiles", "@ETC@:/EFI")]),
            ("20-store", &[("Type", "usr"), ("Format", "squashfs"), ("Minimize", "best"), ("CopyFiles", "@STORE@:/")]),
        ],
    },
    Layout {
        name: "esp-and-xbootldr",
        image_size: "auto",
        sector_size: 512,
        split: true,
        table: Table::Same,
        partitions: &[
            (
                "10-esp",
                &[("Type", "esp"), ("Format", "vfat"), ("SizeMinBytes", "100M"), ("CopyFiles", "@ETC@:/loader")],
            ),
            (
                "20-xbootldr",
                &[
                    ("Type", "xbootldr"),
                    ("Format", "vfat"),
                    ("SizeMinBytes", "100M"),
                    ("CopyFiles", "@ETC@:/EFI/Linux"),
                ],
            ),
        ],
    },
    Layout {
        name: "appliance-store-under-prefix",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[(
            "20-store",
            &[
                ("Type", "usr"),
                ("Label", "nix-store"),
                ("Format", "squashfs"),
                ("Minimize", "best"),
                ("ReadOnly", "yes"),
                ("CopyFiles", "@STORE@:/nix/store"),
                ("MakeDirectories", "/nix/var/nix/profiles"),
            ],
        )],
    },
    Layout {
        name: "squashfs-xz-and-lz4",
        image_size: "auto",
        sector_size: 512,
        split: false,
        table: Table::Same,
        partitions: &[
            (
                "10-xz",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("Compression", "xz"),
                    ("CopyFiles", "@TREE@:/"),
                ],
            ),
            (
                "20-lz4",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("Compression", "lz4"),
                    ("CopyFiles", "@TREE@:/"),
                ],
            ),
        ],
    },
    // The specifiers that do not depend on the build host.
    Layout {
        name: "specifiers",
        image_size: "auto",
        sector_size: 512,
        split: true,
        table: Table::Same,
        partitions: &[
            (
                "10-a",
                &[
                    ("Type", "linux-generic"),
                    ("Label", "data-%a-100%%"),
                    ("SplitName", "%t_%T_%U_%n_%a_%%"),
                    ("SizeMinBytes", "1M"),
                    ("SizeMaxBytes", "1M"),
                ],
            ),
            (
                "20-b",
                &[
                    ("Type", "usr"),
                    ("Format", "squashfs"),
                    ("Minimize", "best"),
                    ("SplitName", "usr-%n-%U"),
                    ("CopyFiles", "@ETC@:/"),
                ],
            ),
        ],
    },
];
