# A stand-in for the two nixpkgs pieces nix/lib/image.nix needs
# (stdenvNoCC.mkDerivation and a nix-repart package), so that the tests
# build real derivations with Debian's Nix and no nixpkgs. The builder is
# the machine's bash (the tests run Nix with sandbox = false); like
# nixpkgs' stdenv with __structuredAttrs, it sources .attrs.sh, puts
# nativeBuildInputs on PATH and runs buildCommand. It exports neither $out
# nor SOURCE_DATE_EPOCH: nix-repart must find the output in .attrs.json
# and use its own default epoch (nixpkgs' stdenv value).
{
  nixRepartDir,
  # Added to the image derivation only: a second derivation, hence a
  # second real build and output path, for the same image.
  variant ? "",
}:
rec {
  nix-repart = builtins.path {
    path = /. + nixRepartDir;
    name = "nix-repart";
  };

  stdenvNoCC.mkDerivation =
    attrs:
    derivation (
      removeAttrs attrs [ "passthru" ]
      // {
        system = builtins.currentSystem;
        builder = "/bin/bash";
        args = [
          "-euc"
          ''
            source "$NIX_BUILD_TOP/.attrs.sh"
            PATH=/usr/bin:/bin
            for input in "''${nativeBuildInputs[@]}"; do PATH="$input/bin:$PATH"; done
            export PATH
            eval "$buildCommand"
          ''
        ];
      }
    )
    # nixpkgs merges passthru into the derivation's attribute set.
    // (attrs.passthru or { });

  mkImage = import ../../nix/lib/image.nix {
    inherit nix-repart;
    stdenvNoCC.mkDerivation =
      attrs: stdenvNoCC.mkDerivation (attrs // (if variant != "" then { standInVariant = variant; } else { }));
  };
}
