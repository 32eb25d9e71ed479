# A real image built by nix-build with Debian's Nix and no nixpkgs: the
# option set goes through nix/lib/spec.nix and nix/lib/image.nix (with the
# stand-in of ./stand-in.nix), its store paths are made here by Nix: a
# builtins.path tree and derivations that reference each other. tests/nix.rs
# builds it, checks the image against the closure and rebuilds it with
# `nix-build --check` and as a second derivation (`variant`).
{
  nixRepartDir,
  compression ? false,
  variant ? "",
}:
let
  standIn = import ./stand-in.nix { inherit nixRepartDir variant; };
  toSpec = import ../../nix/lib/spec.nix;

  tree = builtins.path {
    path = ./store-tree;
    name = "store-tree";
  };

  # A derivation whose output is one file with the given text (which may
  # mention other store paths, making them references).
  writeText =
    name: text:
    standIn.stdenvNoCC.mkDerivation {
      inherit name text;
      __structuredAttrs = true;
      buildCommand = ''printf '%s' "$text" > "''${outputs[out]}"'';
    };

  library = standIn.stdenvNoCC.mkDerivation {
    name = "library-1.0";
    __structuredAttrs = true;
    inherit tree;
    buildCommand = ''
      out="''${outputs[out]}"
      mkdir -p "$out/lib"
      echo "data of $tree" > "$out/lib/data"
      ln -s "$tree/bin/hello" "$out/lib/hello"
    '';
  };

  application = writeText "application-2.0" "uses ${library}\n";

  # Built, but referenced by nothing in the image.
  unrelated = writeText "unrelated" "not in any closure\n";

  entry = writeText "entry.conf" "title test\n";
in
standIn.mkImage (toSpec {
  name = "nix-built";
  version = "1";
  split = true;
  compression.enable = compression;
  partitions = {
    "10-esp" = {
      contents."/loader/entries/test.conf".source = entry;
      repartConfig = {
        Type = "esp";
        Format = "vfat";
        Label = "boot";
        Minimize = "best";
        SplitName = "-";
      };
    };
    "20-store" = {
      storePaths = [ application ];
      nixStorePrefix = "/";
      repartConfig = {
        Type = "linux-generic";
        Label = "nix-store";
        Format = "squashfs";
        Minimize = "best";
        ReadOnly = "yes";
        SplitName = "store";
      };
    };
    "30-root" = {
      storePaths = [ library ];
      contents."/etc/unrelated".source = unrelated;
      repartConfig = {
        Type = "root";
        Format = "squashfs";
        Minimize = "best";
      };
    };
  };
})
