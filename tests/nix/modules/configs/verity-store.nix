# nixpkgs' appliance-repart-image-verity-store test, its image.repart part:
# verityStore on, an ESP with systemd-boot (the UKI goes to ukiPath).
{ pkgs, ... }:
{
  image.repart = {
    name = "appliance-verity-store";
    verityStore = {
      enable = true;
      ukiPath = "/EFI/BOOT/BOOTX64.EFI";
    };
    partitions = {
      "00-esp" = {
        contents."/EFI/systemd/systemd-bootx64.efi".source = "${pkgs.systemd}/lib/systemd/boot/efi/systemd-bootx64.efi";
        repartConfig = {
          Type = "esp";
          Format = "vfat";
          SizeMinBytes = "96M";
        };
      };
      "20-store".repartConfig = {
        Minimize = "best";
      };
      "10-store-verity".repartConfig = {
        Minimize = "best";
      };
    };
  };
}
