{
  description = "nix-repart: reproducible GPT disk images for NixOS image.repart, without systemd-repart";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # An image from image.repart-style options (or a ready spec), without
      # NixOS: mkImage { pkgs; options = { name = ...; partitions = ...; }; }.
      mkImage =
        {
          pkgs,
          options ? null,
          spec ? import ./nix/lib/spec.nix (options // { system = pkgs.stdenv.hostPlatform.system; }),
        }:
        pkgs.buildPackages.callPackage ./nix/lib/image.nix {
          nix-repart = pkgs.buildPackages.callPackage ./nix/package.nix { };
        } spec;

      applianceSystem =
        system:
        nixpkgs.lib.nixosSystem {
          inherit system;
          modules = [
            self.nixosModules.default
            ./templates/appliance/configuration.nix
          ];
        };
    in
    {
      overlays.default = final: _prev: { nix-repart = final.callPackage ./nix/package.nix { }; };

      packages = forAllSystems (pkgs: rec {
        nix-repart = pkgs.callPackage ./nix/package.nix { };
        default = nix-repart;
      });

      nixosModules = rec {
        image-repart = ./nix/modules/image-repart.nix;
        default = image-repart;
      };

      lib = {
        inherit mkImage;
        toSpec = import ./nix/lib/spec.nix;
        # nixpkgs' make-disk-image interface: makeDiskImage { pkgs; lib; config; ... }.
        makeDiskImage = import ./nix/lib/make-disk-image.nix;
      };

      templates = rec {
        appliance = {
          path = ./templates/appliance;
          description = "A self-growing NixOS appliance: systemd-boot + UKI ESP, squashfs /nix/store, home and var added at first boot";
        };
        default = appliance;
      };

      checks = forAllSystems (
        pkgs:
        let
          appliance = applianceSystem pkgs.stdenv.hostPlatform.system;
          image = appliance.config.system.build.image;
          # The same image from a second derivation: a real second build.
          rebuilt = image.overrideAttrs { nixRepartRebuild = 1; };
        in
        {
          package = self.packages.${pkgs.stdenv.hostPlatform.system}.nix-repart;

          # The module evaluates and gives the spec of tests/specs/appliance.json's shape.
          module-eval = pkgs.runCommand "module-eval" { spec = builtins.toJSON image.spec; } ''
            printf '%s' "$spec" > $out
            ${pkgs.lib.getExe pkgs.jq} -e '.partitions | map(.id) == ["10-esp", "20-store"]' $out
          '';

          reproducible = pkgs.runCommand "reproducible" { } ''
            cmp ${image}/${appliance.config.image.fileName} ${rebuilt}/${appliance.config.image.fileName}
            cmp ${image}/repart-output.json ${rebuilt}/repart-output.json
            touch $out
          '';

          # nixpkgs' nixos/tests/appliance-repart-image.nix, on an image built
          # by nix-repart: boot it under UEFI and ask systemd-boot.
          appliance-repart-image = pkgs.testers.runNixOSTest (import ./nix/tests/appliance-repart-image.nix self);
        }
      );
    };
}
