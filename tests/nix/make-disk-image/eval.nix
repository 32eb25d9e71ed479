# Calls nix/lib/make-disk-image.nix with real nixpkgs lib (`nixpkgs`, as
# for ../modules/eval.nix) and `args`, and returns the spec it gives
# nix-repart, the derivation's name and its build command. Stubbed: the
# pkgs attributes the function reads (stdenv.hostPlatform, systemd, path,
# runCommand and callPackage, with a record for mkDerivation) and the
# NixOS config values (system.build.toplevel, system.nixos.*,
# boot.loader.systemd-boot.enable, users).
{
  nixpkgs,
  args ? { },
  systemdBoot ? true,
  # config.users, for contents' user and group names.
  users ? { },
}:
let
  lib = import (nixpkgs + "/lib");
  fake = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/77777777777777777777777777777777-${name}";
  };
  record =
    attrs:
    attrs
    // {
      type = "derivation";
      outPath = "/nix/store/88888888888888888888888888888888-${attrs.name}";
      overrideAttrs = f: record (attrs // f attrs);
    };
  pkgs = rec {
    stdenv.hostPlatform = {
      system = "x86_64-linux";
      efiArch = "x64";
      parsed.cpu.name = "x86_64";
    };
    systemd = fake "systemd";
    nix-repart = fake "nix-repart";
    path = ./.;
    buildPackages = pkgs;
    runCommand = name: env: buildCommand: record (env // { inherit name buildCommand; });
    callPackage =
      fn: extra:
      import fn (
        {
          stdenvNoCC.mkDerivation = record;
          e2fsprogs = fake "e2fsprogs";
          erofs-utils = fake "erofs-utils";
        }
        // extra
      );
  };
  config = {
    system.build.toplevel = "/nix/store/99999999999999999999999999999999-nixos-system-test";
    system.nixos = {
      version = "26.11";
      versionSuffix = "pre-git";
    };
    boot.loader.systemd-boot.enable = systemdBoot;
    inherit users;
  };
  image = import ../../../nix/lib/make-disk-image.nix ({ inherit pkgs lib config; } // args);
in
{
  inherit (image) name buildCommand;
  spec = image.nixRepartSpec;
}
