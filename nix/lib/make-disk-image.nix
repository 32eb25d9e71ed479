# nixpkgs' nixos/lib/make-disk-image.nix, built by nix-repart: the same
# arguments and defaults, a full NixOS installation (the system closure
# and additionalPaths under /nix/store, its Nix database, the system
# profile, the channel, systemd-boot) in one ordinary derivation, with no
# VM, no LKL and no qemu-img. Its output is make-disk-image's:
# $out/nixos.{img,qcow2,vdi,vhd}. docs/full-images.md has the argument
# table; each argument nix-repart cannot honour is an assertion naming it.
{
  pkgs,
  lib,
  config,
  diskSize ? "auto",
  additionalSpace ? "512M",
  bootSize ? "256M",
  contents ? [ ],
  partitionTableType ? "legacy",
  installBootLoader ? true,
  touchEFIVars ? false,
  OVMF ? null,
  efiFirmware ? null,
  efiVariables ? null,
  fsType ? "ext4",
  label ? if onlyNixStore then "nix-store" else "nixos",
  configFile ? null,
  postVM ? "",
  memSize ? 1024,
  onlyNixStore ? false,
  name ? "nixos-disk-image",
  format ? "raw",
  deterministic ? true,
  rootGPUID ? "F222513B-DED1-49FA-B591-20CE86A2FE7F",
  rootFSUID ? (if fsType == "ext4" then rootGPUID else null),
  copyChannel ? true,
  additionalPaths ? [ ],
  # nix-repart's own: the package that builds the image.
  nix-repart ? pkgs.buildPackages.nix-repart or (pkgs.buildPackages.callPackage ../package.nix { }),
}:
let
  toplevel = config.system.build.toplevel;
  systemdBoot = config.boot.loader.systemd-boot.enable or false;
  efiArch = pkgs.stdenv.hostPlatform.efiArch;
  withEsp = lib.elem partitionTableType [
    "efi"
    "efixbootldr"
    "hybrid"
  ];
  biosGrub = lib.elem partitionTableType [
    "legacy+gpt"
    "hybrid"
  ];

  checks = [
    {
      assertion = lib.elem partitionTableType [ "legacy" "legacy+gpt" "efi" "efixbootldr" "hybrid" "none" ];
      message = "partitionTableType: ${partitionTableType} is not one of legacy, legacy+gpt, efi, efixbootldr, hybrid, none";
    }
    {
      assertion = !touchEFIVars;
      message = "touchEFIVars: EFI variables are written by booting OVMF in a VM, and nix-repart runs none; set boot entries with systemd-boot (partitionTableType = \"efi\") instead";
    }
    {
      assertion = !(installBootLoader && !onlyNixStore) || (withEsp && systemdBoot);
      message = "installBootLoader: nix-repart installs systemd-boot (boot.loader.systemd-boot.enable, with partitionTableType efi, efixbootldr or hybrid); GRUB needs grub-install on a block device, which it does not run: use systemd-boot, or installBootLoader = false";
    }
    {
      assertion = lib.all (c: ((c.user or null) == null) == ((c.group or null) == null)) contents;
      message = "contents: set none of {user, group} or both at the same time";
    }
  ]
  ++ map (name: {
    assertion = false;
    message = "contents: ${name} has no fixed id in the configuration (users.users.<name>.uid or users.groups.<name>.gid), and the image's /etc/passwd is only written when the system is activated; give the id, or a number";
  }) unresolved
  ++ [
    {
      assertion = fsType != "erofs" || lib.all (c: (c.user or null) == null || (idOf "uid" c.user == 0 && idOf "gid" c.group == 0)) contents;
      message = "contents: user and group other than root need an ext4 or squashfs root (mkfs.erofs gives every file one owner)";
    }
    {
      assertion = fsType == "ext4" || fsType == "erofs" || fsType == "squashfs";
      message = "fsType: ${fsType} is not a filesystem nix-repart writes for a root (ext4, erofs, squashfs)";
    }
    {
      assertion = !deterministic || rootFSUID == null || rootFSUID == rootGPUID;
      message = "rootFSUID: nix-repart derives the root filesystem's UUID from the partition's (rootGPUID), as systemd-repart does; a separate rootFSUID is not supported";
    }
    {
      assertion = lib.elem format [ "raw" "qcow2" "qcow2-compressed" "vdi" "vpc" ];
      message = "format: ${format} is not one of raw, qcow2, qcow2-compressed, vdi, vpc";
    }
  ];
  failed = lib.filter (c: !c.assertion) checks;

  # contents' user and group: numbers as they are, names through the
  # configuration (NixOS allocates unset ids at activation, too late).
  idOf =
    kind: name:
    if name == null then
      null
    else if builtins.isInt name then
      name
    else if name == "root" then
      0
    else if builtins.match "[0-9]+" name != null then
      lib.toInt name
    else if kind == "uid" then
      config.users.users.${name}.uid or null
    else
      config.users.groups.${name}.gid or null;
  unresolved = lib.concatMap (
    c:
    lib.optional ((c.user or null) != null && idOf "uid" c.user == null) "user ${toString c.user}"
    ++ lib.optional ((c.group or null) != null && idOf "gid" c.group == null) "group ${toString c.group}"
  ) contents;

  # The channel, as make-disk-image adds it (nixpkgs' source as "nixos").
  channelSources = pkgs.runCommand "nixos-${config.system.nixos.version}" { } ''
    mkdir -p $out
    cp -prd ${lib.cleanSource pkgs.path} $out/nixos
    chmod -R u+w $out/nixos
    [ -e $out/nixos/nixpkgs ] || ln -s . $out/nixos/nixpkgs
    rm -rf $out/nixos/.git
    echo -n ${config.system.nixos.versionSuffix} > $out/nixos/.version-suffix
  '';
  basePaths = lib.optional (!onlyNixStore) toplevel ++ lib.optional (copyChannel && !onlyNixStore) channelSources;
  storePaths = basePaths ++ lib.subtractLists basePaths (additionalPaths ++ lib.optional onlyNixStore toplevel);

  mebibytes = size: "${toString size}M";
  root = {
    id = "30-root";
    repartConfig =
      {
        Type = "root";
        Format = fsType;
        Label = label;
        UUID = lib.toLower rootGPUID;
      }
      // lib.optionalAttrs (diskSize == "auto") { Minimize = "guess"; };
    inherit storePaths;
    nixStorePrefix = if onlyNixStore then "/" else "/nix/store";
  }
  # additionalSpace: room in an auto-sized ext root beyond its files.
  // lib.optionalAttrs (diskSize == "auto" && lib.hasPrefix "ext" fsType) {
    freeSpace = additionalSpace;
  }
  // {
    contents = lib.listToAttrs (
      map (c: {
        name = c.target;
        value =
          {
            source = toString c.source;
          }
          // lib.optionalAttrs ((c.mode or null) != null) { inherit (c) mode; }
          // lib.optionalAttrs ((c.user or null) != null) {
            user = idOf "uid" c.user;
            group = idOf "gid" c.group;
          };
      }) contents
      ++ lib.optional (configFile != null) {
        name = "/etc/nixos/configuration.nix";
        value.source = toString configFile;
      }
    );
  }
  // lib.optionalAttrs (!onlyNixStore) {
    nixDatabase = true;
    nixProfiles = {
      system = toString toplevel;
    } // lib.optionalAttrs copyChannel { "per-user/root/channels" = toString channelSources; };
  };
  esp = {
    id = "10-esp";
    repartConfig = {
      Type = "esp";
      Format = "vfat";
      Label = "ESP";
      SizeMinBytes = bootSize;
      SizeMaxBytes = bootSize;
    };
    storePaths = [ ];
    contents = { };
  }
  // lib.optionalAttrs (installBootLoader && systemdBoot) {
    systemdBoot = {
      toplevel = toString toplevel;
      efi = "${pkgs.systemd}/lib/systemd/boot/efi/systemd-boot${efiArch}.efi";
    };
  };
  xbootldr = {
    id = "20-boot";
    repartConfig = {
      Type = "xbootldr";
      Format = "vfat";
      Label = "BOOT";
    };
    storePaths = [ ];
    contents = { };
  };
  biosBoot = {
    id = "05-bios";
    repartConfig = {
      Type = "21686148-6449-6e6f-744e-656564454649";
      SizeMinBytes = "1M";
      SizeMaxBytes = "1M";
    };
    storePaths = [ ];
    contents = { };
  };

  spec = {
    version = 1;
    name = "nixos";
    seed = if deterministic then "0867da16-f251-457d-a9e8-c31f9a3c220b" else "random";
    architecture =
      {
        x86_64 = "x86-64";
        aarch64 = "arm64";
      }
      .${pkgs.stdenv.hostPlatform.parsed.cpu.name} or "x86-64";
    imageSize = if diskSize == "auto" then "auto" else mebibytes diskSize;
    inherit format;
    partitionTable =
      {
        legacy = "mbr";
        "legacy+gpt" = "gpt";
        efi = "gpt";
        efixbootldr = "gpt";
        hybrid = "hybrid";
        none = "none";
      }
      .${partitionTableType};
    partitions =
      lib.optional biosGrub biosBoot
      ++ lib.optional withEsp esp
      ++ lib.optional (partitionTableType == "efixbootldr") xbootldr
      ++ [ root ];
  };

  fileName =
    "nixos."
    + {
      raw = "img";
      qcow2 = "qcow2";
      qcow2-compressed = "qcow2";
      vdi = "vdi";
      vpc = "vhd";
    }
    .${format};
  built = (pkgs.buildPackages.callPackage ./image.nix { inherit nix-repart; }) spec;
in
if failed != [ ] then
  throw (lib.concatMapStringsSep "\n" (c: "makeDiskImage: ${c.message}") failed)
else
  built.overrideAttrs (old: {
    inherit name;
    # make-disk-image's file name, then its postVM hook with $diskImage.
    buildCommand = old.buildCommand + ''
      for f in "$out"/nixos.*; do
        case "$f" in *.json) ;; *) [ "$f" = "$out/${fileName}" ] || mv "$f" "$out/${fileName}" ;; esac
      done
      diskImage=$out/${fileName}
      ${postVM}
    '';
    passthru = (old.passthru or { }) // {
      inherit spec;
    };
  })
