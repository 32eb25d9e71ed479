# nixpkgs' nixos/tests/appliance-repart-image.nix, with the image built by
# nix-repart's module: an ESP with systemd-boot, a loader entry, kernel and
# initrd, and an ext4 root (Minimize=guess) with the system closure. The VM
# boots the image under UEFI; the test asks systemd-boot what it booted.
self:
{ lib, ... }:
let
  rootLabel = "root";
  entryPath = "/loader/entries/nixos.conf";
  kernelPath = "/EFI/nixos/kernel.efi";
  initrdPath = "/EFI/nixos/initrd.efi";
in
{
  name = "nix-repart-appliance-image";

  nodes.machine =
    { config, pkgs, ... }:
    {
      imports = [ self.nixosModules.default ];

      virtualisation.directBoot.enable = false;
      virtualisation.mountHostNixStore = false;
      virtualisation.useEFIBoot = true;
      boot.loader.grub.enable = false;

      virtualisation.fileSystems = lib.mkForce {
        "/" = {
          device = "/dev/disk/by-partlabel/${rootLabel}";
          fsType = "ext4";
        };
      };

      image.repart = {
        name = "appliance-gpt-image";
        partitions = {
          esp = {
            contents =
              let
                efiArch = config.nixpkgs.hostPlatform.efiArch;
              in
              {
                "/EFI/BOOT/BOOT${lib.toUpper efiArch}.EFI".source =
                  "${pkgs.systemd}/lib/systemd/boot/efi/systemd-boot${efiArch}.efi";
                "${entryPath}".source = pkgs.writeText "nixos.conf" ''
                  title NixOS
                  linux ${kernelPath}
                  initrd ${initrdPath}
                  options init=${config.system.build.toplevel}/init ${toString config.boot.kernelParams}
                '';
                "${kernelPath}".source = "${config.boot.kernelPackages.kernel}/${config.system.boot.loader.kernelFile}";
                "${initrdPath}".source = "${config.system.build.initialRamdisk}/${config.system.boot.loader.initrdFile}";
              };
            # nix-repart sizes vfat exactly, so no SizeMinBytes is needed.
            repartConfig = {
              Type = "esp";
              Format = "vfat";
              Minimize = "best";
            };
          };
          root = {
            storePaths = [ config.system.build.toplevel ];
            repartConfig = {
              Type = "root";
              Format = "ext4";
              Label = rootLabel;
              Minimize = "guess";
            };
          };
        };
      };
    };

  testScript =
    { nodes, ... }:
    ''
      import os
      import subprocess
      import tempfile

      disk = tempfile.NamedTemporaryFile()
      subprocess.run([
        "${nodes.machine.virtualisation.qemu.package}/bin/qemu-img", "create", "-f", "qcow2",
        "-b", "${nodes.machine.system.build.image}/${nodes.machine.image.fileName}", "-F", "raw",
        disk.name,
      ], check=True)
      os.environ["NIX_DISK_IMAGE"] = disk.name

      status = machine.succeed("bootctl status")
      assert "${entryPath}" in status
      assert "${kernelPath}" in status
      assert "${initrdPath}" in status
    '';
}
