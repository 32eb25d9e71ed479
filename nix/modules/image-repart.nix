# image.repart, built by nix-repart: a drop-in replacement for nixpkgs'
# nixos/modules/image/repart.nix with the same options, assertions,
# warnings and outputs (system.build.image, image.baseName/fileName).
#
# Importing this module is the whole switch: it disables nixpkgs' module
# (so an `imports = [ "${modulesPath}/image/repart.nix" ]` left in place is
# harmless) and declares the options itself, with nixpkgs' renamed
# aliases (imageFile, imageFileBasename). The conversion to a nix-repart
# spec is ../lib/spec.nix (pure, tested without nixpkgs); the derivation is
# ../lib/image.nix; verityStore is ./verity-store.nix.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:

let
  cfg = config.image.repart;

  # UEFI's limit on a GPT partition name, in UTF-16 code units.
  maxLabelLength = 36;

  toSpec = import ../lib/spec.nix;

  # The overlay's package when applied, else one built from this source.
  defaultPackage = pkgs.buildPackages.nix-repart or (pkgs.buildPackages.callPackage ../package.nix { });
  # A package left from nixpkgs' docs (a systemd) builds nothing here: the
  # image is built with nix-repart anyway, and a warning says so.
  isNixRepart = p: lib.hasPrefix "nix-repart" (p.pname or (lib.getName p));
  package = if isNixRepart cfg.package then cfg.package else defaultPackage;

  # For the build platform, as nixpkgs builds repart images.
  mkImage = pkgs.buildPackages.callPackage ../lib/image.nix { nix-repart = package; };

  partitionOptions =
    { name, config, ... }:
    {
      options = {
        storePaths = lib.mkOption {
          type = with lib.types; listOf path;
          default = [ ];
          description = "Store paths whose closure is copied into the partition (below `nixStorePrefix`).";
        };

        nixStorePrefix = lib.mkOption {
          type = lib.types.path;
          default = "/nix/store";
          description = ''
            Where store paths go inside the partition. `/` puts them at its
            root, for a store partition mounted at `/nix/store`.
          '';
        };

        stripNixStorePrefix = lib.mkOption {
          type = lib.types.nullOr lib.types.bool;
          default = null;
          visible = false;
          description = "Deprecated: use `nixStorePrefix = \"/\"`.";
        };

        contents = lib.mkOption {
          type = lib.types.attrsOf (
            lib.types.submodule {
              options.source = lib.mkOption {
                type = lib.types.path;
                description = "File or directory copied to this target.";
              };
            }
          );
          default = { };
          example = lib.literalExpression ''
            {
              "/EFI/BOOT/BOOTX64.EFI".source =
                "''${pkgs.systemd}/lib/systemd/boot/efi/systemd-bootx64.efi";
            }
          '';
          description = "Files and directories copied into the filesystem, by target path.";
        };

        repartConfig = lib.mkOption {
          type =
            with lib.types;
            attrsOf (oneOf [
              str
              int
              bool
              (listOf str)
            ]);
          example = {
            Type = "home";
            SizeMinBytes = "512M";
            SizeMaxBytes = "2G";
          };
          description = ''
            The `[Partition]` section of a repart.d(5) file, key by key; a
            list repeats the key. See docs/spec.md for what nix-repart
            supports.
          '';
        };
      };

      config = lib.mkIf (config.stripNixStorePrefix == true) { nixStorePrefix = "/"; };
    };

  # The options spec.nix reads, as plain values.
  specOptions = {
    inherit (cfg)
      name
      version
      seed
      split
      sectorSize
      imageSize
      compression
      mkfsOptions
      format
      extWriter
      ;
    system = pkgs.stdenv.hostPlatform.system;
    partitions = lib.mapAttrs (_: p: {
      inherit (p)
        storePaths
        nixStorePrefix
        contents
        repartConfig
        ;
    }) cfg.partitions;
  };

  labelOf = p: p.repartConfig.Label or null;
in
{
  disabledModules = [ "image/repart.nix" ];

  imports = [
    ./verity-store.nix
    (modulesPath + "/image/file-options.nix")
    # nixpkgs keeps these as aliases (since 24.11); its own tests read them.
    (lib.mkRenamedOptionModuleWith {
      sinceRelease = 2411;
      from = [
        "image"
        "repart"
        "imageFileBasename"
      ];
      to = [
        "image"
        "baseName"
      ];
    })
    (lib.mkRenamedOptionModuleWith {
      sinceRelease = 2411;
      from = [
        "image"
        "repart"
        "imageFile"
      ];
      to = [
        "image"
        "fileName"
      ];
    })
  ];

  options.image.repart = {
    name = lib.mkOption {
      type = lib.types.str;
      description = "Name of the image; `system.image.id` when that is set.";
    };

    version = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = config.system.image.version;
      defaultText = lib.literalExpression "config.system.image.version";
      description = "Version of the image, appended to the file names as `_<version>`.";
    };

    seed = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = "0867da16-f251-457d-a9e8-c31f9a3c220b";
      description = ''
        UUID from which the disk and partition UUIDs are derived (nixpkgs'
        default). `null` or `"random"` draw a seed for each build: the image
        is then not reproducible, and the build says so.
      '';
    };

    split = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Also write each partition with `SplitName=` to its own file.";
    };

    sectorSize = lib.mkOption {
      # nixpkgs' type; ../lib/spec.nix checks the power of two.
      type = lib.types.nullOr lib.types.int;
      default = 512;
      example = lib.literalExpression "4096";
      description = "Logical sector size of the image: a power of two from 512 to 4096.";
    };

    imageSize = lib.mkOption {
      type = lib.types.str;
      default = "auto";
      example = "2G";
      description = "`auto` (the smallest disk that holds the partitions) or a size; free space goes by `Weight=`.";
    };

    compression = {
      enable = lib.mkEnableOption "compression of the image and split files";
      algorithm = lib.mkOption {
        type = lib.types.enum [
          "zstd"
          "xz"
          "zstd-seekable"
        ];
        default = "zstd";
        description = "Compression algorithm (`.raw.zst`, `.raw.xz`, or `.raw.zst` in the seekable format).";
      };
      level = lib.mkOption {
        type = lib.types.int;
        default = 3;
        description = "Compression level (zstd and zstd-seekable 1-19, xz 0-9).";
      };
    };

    # nix-repart's own (nixpkgs' image.repart has neither).
    format = lib.mkOption {
      type = lib.types.enum [
        "raw"
        "qcow2"
        "qcow2-compressed"
        "vdi"
        "vpc"
      ];
      default = "raw";
      example = "qcow2";
      description = ''
        nix-repart's own: the disk format, written straight from the image
        (`.raw`, `.qcow2` for both qcow2 kinds, `.vdi`, `.vhd`); not with
        `compression.enable`.
      '';
    };

    extWriter = lib.mkOption {
      type = lib.types.nullOr (
        lib.types.enum [
          "nix-repart"
          "mke2fs"
        ]
      );
      default = null;
      description = ''
        nix-repart's own: what writes ext4 partitions. `null` means
        nix-repart's own writer, or mke2fs when `mkfsOptions.ext4` is set
        (they are mke2fs options); ext2 and ext3 are always mke2fs's.
      '';
    };

    mkfsOptions = lib.mkOption {
      type = with lib.types; attrsOf (listOf str);
      default = { };
      example = {
        squashfs = [ "-b 1M" ];
      };
      description = "Extra arguments per filesystem; elements are split on whitespace.";
    };

    package = lib.mkOption {
      type = lib.types.package;
      default = defaultPackage;
      defaultText = lib.literalExpression "pkgs.buildPackages.nix-repart";
      description = ''
        The nix-repart package that builds the image (for the build
        platform). Anything else (a systemd package, as nixpkgs' docs have
        it) gets a warning, and nix-repart builds the image anyway.
      '';
    };

    partitions = lib.mkOption {
      type = with lib.types; attrsOf (submodule partitionOptions);
      default = { };
      description = "The partitions, by definition name (`10-esp`); placed in name order.";
    };

    finalPartitions = lib.mkOption {
      type = lib.types.attrs;
      internal = true;
      readOnly = true;
      description = ''
        The partitions as the image is built from them (nixpkgs' internal
        option). nixpkgs adds a `closure` file to each; nix-repart reads
        the closure through `exportReferencesGraph` instead, so these are
        the partitions as defined.
      '';
    };

    image = lib.mkOption {
      type = lib.types.package;
      readOnly = true;
      description = "The image derivation (also `system.build.image`).";
    };

    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.unspecified;
      default = [ ];
      internal = true;
      description = "Assertions checked when the image is built, not when the system is.";
    };

    warnings = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      internal = true;
      description = "Warnings shown when the image is built.";
    };

    internal = lib.mkOption {
      type = lib.types.attrs;
      internal = true;
      readOnly = true;
      description = "The spec options and image function, for ./verity-store.nix.";
    };
  };

  config = {
    image.baseName = cfg.name + lib.optionalString (cfg.version != null) "_${cfg.version}";
    image.extension =
      {
        raw = "raw";
        qcow2 = "qcow2";
        qcow2-compressed = "qcow2";
        vdi = "vdi";
        vpc = "vhd";
      }
      .${cfg.format}
      + lib.optionalString cfg.compression.enable
        {
          zstd = ".zst";
          xz = ".xz";
          zstd-seekable = ".zst";
        }
        .${cfg.compression.algorithm};

    image.repart = {
      name = lib.mkIf (config.system.image.id != null) (lib.mkOptionDefault config.system.image.id);

      finalPartitions = cfg.partitions;

      internal = {
        inherit specOptions;
        mkImage = spec: lib.asserts.checkAssertWarn cfg.assertions cfg.warnings (mkImage (toSpec spec));
      };

      assertions = lib.flatten (
        lib.mapAttrsToList (id: p: [
          {
            assertion = labelOf p == null || builtins.stringLength (labelOf p) <= maxLabelLength;
            message = ''
              The partition label '${toString (labelOf p)}'
              defined for '${id}' is ${toString (builtins.stringLength (toString (labelOf p)))} characters long,
              but the maximum label length supported by UEFI is ${toString maxLabelLength}.
            '';
          }
          {
            assertion = p.repartConfig ? Type;
            message = "image.repart.partitions.${id}.repartConfig.Type is not set: every partition needs a type (e.g. \"esp\", \"root\", \"usr\", \"linux-generic\").";
          }
        ]) cfg.partitions
      );

      warnings = lib.flatten (
        lib.mapAttrsToList (
          id: p:
          lib.optional (labelOf p != null && builtins.stringLength (labelOf p) >= maxLabelLength - 2) ''
            The partition label '${labelOf p}' defined for '${id}' is
            ${toString (builtins.stringLength (labelOf p))} characters long; the suggested maximum is
            ${toString (maxLabelLength - 2)}, which leaves room for a two-digit version suffix
            (systemd-sysupdate A/B updates).
          ''
          ++ lib.optional (p.stripNixStorePrefix != null) ''
            The option `image.repart.partitions.${id}.stripNixStorePrefix` has been replaced by
            `image.repart.partitions.${id}.nixStorePrefix`; use `nixStorePrefix = "/"` for
            the effect of `stripNixStorePrefix = true`.
          ''
        ) cfg.partitions
        ++ lib.optional (!isNixRepart cfg.package) ''
          image.repart.package is ${lib.getName cfg.package}, not nix-repart (a setting
          for nixpkgs' systemd-repart module?); the image is built with nix-repart
          anyway. Remove the setting, or set it to a nix-repart package.
        ''
      );

      image = lib.asserts.checkAssertWarn cfg.assertions cfg.warnings (mkImage (toSpec specOptions));
    };

    system.build.image = cfg.image;
  };
}
