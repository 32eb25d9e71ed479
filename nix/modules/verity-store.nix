# image.repart.verityStore, built by nix-repart: nixpkgs'
# nixos/modules/image/repart-verity-store.nix with the same options,
# defaults and outputs (system.build.intermediateImage, uki, finalImage).
#
# The store goes into an erofs `usr` partition (Verity=data) with its hash
# partition (Verity=hash), as in nixpkgs. The intermediate image holds the
# image's partitions without the ESP; the UKI's command line gets
# `usrhash=` from its repart-output.json; the final image adds the ESP with
# the UKI at `ukiPath` and takes the store and its hash partition from the
# intermediate image byte for byte (`fromImage`, docs/spec.md), so the
# store is neither compressed nor hashed again, and its report carries the
# real root hash (nixpkgs patches it in with jq).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.image.repart.verityStore;
  repart = config.image.repart;
  ids = cfg.partitionIds;
  verityMatchKey = "store";
  arch =
    {
      "x86_64" = "x86-64";
      "arm64" = "arm64";
    }
    .${pkgs.stdenv.hostPlatform.linuxArch};
  partitionTypes = {
    usr = "usr-${arch}";
    usr-verity = "usr-${arch}-verity";
  };
  inherit (config.system.boot.loader) ukiFile;
  build = config.image.repart.internal;

  # The keys a partition copied from the intermediate image keeps: what it
  # is, not how its filesystem was made.
  kept = [
    "Type"
    "Label"
    "UUID"
    "Verity"
    "VerityMatchKey"
    "VerityDataBlockSizeBytes"
    "VerityHashBlockSizeBytes"
    "ReadOnly"
    "NoAuto"
    "GrowFileSystem"
    "Flags"
    "SplitName"
    "Priority"
    "Weight"
    "PaddingWeight"
    "PaddingMinBytes"
    "PaddingMaxBytes"
  ];
  fromIntermediate = p: {
    repartConfig = lib.filterAttrs (key: _: lib.elem key kept) p.repartConfig;
    storePaths = [ ];
    contents = { };
    inherit (p) nixStorePrefix;
    fromImage = config.system.build.intermediateImage;
  };

  intermediateImage = build.mkImage (
    build.specOptions
    // {
      compression = repart.compression // {
        enable = false;
      };
      partitions = removeAttrs build.specOptions.partitions [ ids.esp ];
    }
  );

  uki =
    pkgs.runCommand ukiFile
      {
        nativeBuildInputs = [
          pkgs.buildPackages.jq
          pkgs.buildPackages.systemdUkify
        ];
      }
      ''
        mkdir -p $out
        usrhash=$(jq -r '.[] | select(.type=="${partitionTypes.usr-verity}") | .roothash' \
          ${config.system.build.intermediateImage}/repart-output.json)
        ukify build \
          --config=${config.boot.uki.configFile} \
          --cmdline="init=${config.system.build.toplevel}/init ${toString config.boot.kernelParams} usrhash=$usrhash" \
          --output="$out/${ukiFile}"
      '';

  finalImage =
    let
      parts = build.specOptions.partitions;
      esp = parts.${ids.esp};
    in
    build.mkImage (
      build.specOptions
      // {
        partitions = parts // {
          ${ids.esp} = esp // {
            contents = esp.contents // {
              ${cfg.ukiPath}.source = "${config.system.build.uki}/${ukiFile}";
            };
          };
          ${ids.store} = fromIntermediate parts.${ids.store};
          ${ids.store-verity} = fromIntermediate parts.${ids.store-verity};
        };
      }
    );
in
{
  options.image.repart.verityStore = {
    enable = lib.mkEnableOption "building images with a dm-verity protected nix store";

    ukiPath = lib.mkOption {
      type = lib.types.path;
      default = "/EFI/Linux/${ukiFile}";
      defaultText = "/EFI/Linux/\${config.system.boot.loader.ukiFile}";
      description = "Where on the ESP the UKI goes.";
    };

    partitionIds = {
      esp = lib.mkOption {
        type = lib.types.str;
        default = "00-esp";
        description = "The attribute name of the ESP.";
      };
      store-verity = lib.mkOption {
        type = lib.types.str;
        default = "10-store-verity";
        description = "The attribute name of the store's dm-verity hash partition.";
      };
      store = lib.mkOption {
        type = lib.types.str;
        default = "20-store";
        description = "The attribute name of the store partition.";
      };
    };
  };

  config = lib.mkIf cfg.enable {
    boot.initrd = {
      systemd.dmVerity.enable = true;
      supportedFilesystems = {
        ${repart.partitions.${ids.store}.repartConfig.Format} = lib.mkDefault true;
      };
    };

    image.repart.partitions = {
      ${ids.store-verity}.repartConfig = {
        Type = lib.mkDefault partitionTypes.usr-verity;
        Verity = "hash";
        VerityMatchKey = lib.mkDefault verityMatchKey;
        Label = lib.mkDefault "store-verity";
      };
      ${ids.store} = {
        storePaths = [ config.system.build.toplevel ];
        repartConfig = {
          Type = lib.mkDefault partitionTypes.usr;
          Verity = "data";
          Format = lib.mkDefault "erofs";
          VerityMatchKey = lib.mkDefault verityMatchKey;
          Label = lib.mkDefault "store";
        };
      };
    };

    system.build = {
      inherit intermediateImage finalImage;
      uki = lib.mkOverride 99 uki;
    };
  };
}
