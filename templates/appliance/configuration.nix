# A self-growing NixOS appliance, built by nix-repart:
# - a vfat ESP labelled `boot` with systemd-boot and a unified kernel image;
# - a read-only squashfs partition `nix-store` holding the closure at its
#   root (nixStorePrefix = "/"), mounted at /nix/store;
# - a tmpfs root: nothing else is needed to boot;
# - at first boot, systemd-repart in the initrd adds `home` and `var`
#   (ext4) in the free space of whatever disk the image was written to.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:

let
  inherit (pkgs.stdenv.hostPlatform) efiArch;
in
{
  imports = [ (modulesPath + "/profiles/minimal.nix") ];

  system.image.id = "appliance";
  system.image.version = "1";
  system.stateVersion = "26.05";

  boot.loader.grub.enable = false;
  boot.initrd.systemd.enable = true;

  fileSystems = {
    "/" = {
      fsType = "tmpfs";
      options = [ "mode=0755" ];
    };
    "/nix/store" = {
      device = "/dev/disk/by-partlabel/nix-store";
      fsType = "squashfs";
      options = [ "ro" ];
    };
    "/home" = {
      device = "/dev/disk/by-partlabel/home";
      fsType = "ext4";
    };
    "/var" = {
      device = "/dev/disk/by-partlabel/var";
      fsType = "ext4";
      neededForBoot = true;
    };
  };

  # Grow the image on first boot: repart reads these definitions in the
  # initrd and creates what is missing on the disk the ESP is on.
  boot.initrd.systemd.repart.enable = true;
  systemd.repart.partitions = {
    "30-home" = {
      Type = "home";
      Label = "home";
      Format = "ext4";
      SizeMinBytes = "512M";
      Weight = 1000;
    };
    "40-var" = {
      Type = "var";
      Label = "var";
      Format = "ext4";
      SizeMinBytes = "1G";
      Weight = 2000;
    };
  };

  image.repart = {
    split = true;
    partitions = {
      "10-esp" = {
        contents = {
          "/EFI/BOOT/BOOT${lib.toUpper efiArch}.EFI".source =
            "${pkgs.systemd}/lib/systemd/boot/efi/systemd-boot${efiArch}.efi";
          "/EFI/Linux/${config.system.boot.loader.ukiFile}".source =
            "${config.system.build.uki}/${config.system.boot.loader.ukiFile}";
        };
        repartConfig = {
          Type = "esp";
          Label = "boot";
          Format = "vfat";
          SizeMinBytes = "200M";
          SplitName = "-";
        };
      };
      "20-store" = {
        storePaths = [ config.system.build.toplevel ];
        nixStorePrefix = "/";
        repartConfig = {
          Type = "linux-generic";
          Label = "nix-store";
          Format = "squashfs";
          Minimize = "guess";
          ReadOnly = "yes";
          SplitName = "store";
        };
      };
    };
  };
}
