# The derivation that builds an image from a nix-repart spec: one ordinary
# build step, no VM, no fakeroot, no unshare, no loop devices.
#
# Called with callPackage (nixpkgs) or with the stand-in of tests/nix; the
# result is a function from a spec (nix/lib/spec.nix's output) to the
# derivation. The spec goes in as a structured attribute (`nixRepartSpec`),
# each partition's storePaths as an `exportReferencesGraph` entry named
# `closure-<id>`; `nix-repart derivation` reads both, and the output path,
# from `.attrs.json`. $out holds `<name>[_<version>].raw` (or `.raw.zst` /
# `.raw.xz`), `repart-output.json` and any split files, named as nixpkgs'
# image.repart names them.
{
  stdenvNoCC,
  nix-repart,
  e2fsprogs ? null,
  erofs-utils ? null,
}:

spec:
let
  inherit (builtins)
    concatMap
    filter
    listToAttrs
    map
    ;

  # ext4 is nix-repart's own unless the spec asks for mke2fs (or gives
  # mkfsOptions.ext4, mke2fs options).
  ext4ByMke2fs =
    (spec.extWriter or null) == "mke2fs"
    || ((spec.extWriter or null) == null && (spec.mkfsOptions.ext4 or [ ]) != [ ]);

  # The tools a partition's Format= runs; vfat, squashfs, swap and ext4 are
  # written by nix-repart itself.
  toolsFor =
    format:
    {
      ext2 = [ e2fsprogs ];
      ext3 = [ e2fsprogs ];
      ext4 = if ext4ByMke2fs then [ e2fsprogs ] else [ ];
      erofs = [ erofs-utils ];
    }
    .${format} or [ ];

  formats = map (p: p.repartConfig.Format or "") spec.partitions;
  tools = filter (t: t != null) (concatMap toolsFor formats);

  withStorePaths = filter (p: (p.storePaths or [ ]) != [ ]) spec.partitions;

  baseName = spec.name + (if spec ? imageVersion then "_${spec.imageVersion}" else "");
in
stdenvNoCC.mkDerivation {
  name = baseName;
  __structuredAttrs = true;
  nativeBuildInputs = [ nix-repart ] ++ tools;

  nixRepartSpec = spec;
  exportReferencesGraph = listToAttrs (
    map (p: {
      name = "closure-${p.id}";
      value = p.storePaths;
    }) withStorePaths
  );

  # nix-repart finds .attrs.json through $NIX_ATTRS_JSON_FILE or
  # $NIX_BUILD_TOP and uses $NIX_BUILD_CORES threads; the image does not
  # depend on their number.
  buildCommand = ''
    nix-repart derivation
  '';

  passthru = {
    inherit spec;
    imageFileBasename = baseName;
  };
}
