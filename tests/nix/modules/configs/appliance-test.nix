# nixpkgs' appliance-repart-image test (nixos/tests/appliance-repart-image.nix),
# its image.repart part: image id and version, 512-byte sectors, an ESP
# with systemd-boot and the UKI, an ext4 root labelled root.
{ config, lib, pkgs, ... }:
{
  system.image.id = "nixos-appliance";
  system.image.version = "1-rc1";
  image.repart = {
    name = "appliance-gpt-image";
    sectorSize = 512;
    partitions = {
      "esp" = {
        contents = {
          "/EFI/BOOT/BOOT${lib.toUpper pkgs.stdenv.hostPlatform.efiArch}.EFI".source =
            "${pkgs.systemd}/lib/systemd/boot/efi/systemd-boot${pkgs.stdenv.hostPlatform.efiArch}.efi";
          "/EFI/Linux/${config.system.boot.loader.ukiFile}".source =
            "${config.system.build.uki}/${config.system.boot.loader.ukiFile}";
        };
        repartConfig = {
          Type = "esp";
          Format = "vfat";
          SizeMinBytes = if pkgs.stdenv.hostPlatform.isx86_64 then "64M" else "96M";
        };
      };
      "root" = {
        storePaths = [ config.system.build.toplevel ];
        repartConfig = {
          Type = "root";
          Format = "ext4";
          Label = "root";
          Minimize = "guess";
        };
      };
    };
  };
}
