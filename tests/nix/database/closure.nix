# A small closure with references for tests/nix_database.rs: `top` refers
# to `dep`; `attrs` is the .attrs.json of a structured-attrs derivation
# that exports top's closure, so the test gets the exportReferencesGraph
# array (path, narHash, narSize, references) exactly as a builder sees it.
# Raw derivations with /bin/sh (no nixpkgs); the sandbox is off.
let
  dep = builtins.toFile "nix-repart-test-dep.txt" "a dependency\n";
  top = derivation {
    name = "nix-repart-test-system";
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [ "-c" "echo ${dep} > $out" ];
  };
  attrs = derivation {
    name = "nix-repart-test-attrs";
    system = "x86_64-linux";
    builder = "/bin/sh";
    __structuredAttrs = true;
    exportReferencesGraph.closure = [ top ];
    args = [
      "-c"
      ''
        export PATH=/usr/bin:/bin
        out=$(sed -n 's/.*"out": *"\([^"]*\)".*/\1/p' "$NIX_BUILD_TOP/.attrs.json" | head -n 1)
        cp "$NIX_BUILD_TOP/.attrs.json" "$out"
      ''
    ];
  };
in
{
  inherit top attrs;
}
