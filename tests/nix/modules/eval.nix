# Evaluates an image.repart configuration with real nixpkgs lib (from
# `nixpkgs`, a directory with nixpkgs' lib/ and nixos/modules/image/, such
# as ../shared/nixpkgs) and one module: ours (nix/modules/image-repart.nix)
# or nixpkgs' own (nixos/modules/image/repart.nix). Returns, as JSON, what
# the module makes of each partition: its repart.d text (rendered with
# nixpkgs' own INI generator, as nixpkgs' module writes it), its contents,
# storePaths and nixStorePrefix; for ours also the spec.
#
# Stubbed, because this copy of nixpkgs has no pkgs and no other NixOS
# modules: the few pkgs attributes the two modules read (stdenv.hostPlatform,
# callPackage, closureInfo, formats.ini, systemd, nix-repart), nixpkgs'
# `utils.systemdUtils.lib` (GPTMaxLabelLength = 36, `definitions` writing
# each file's text), and the options of other modules they read
# (system.build, system.image, system.nixos.label, boot.*). Everything of
# image.repart itself is real.
{
  nixpkgs,
  module,
  configuration,
}:
let
  lib = import (nixpkgs + "/lib");
  modulesPath = nixpkgs + "/nixos/modules";
  fakePackage = name: {
    type = "derivation";
    inherit name;
    pname = name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  ini = lib.generators.toINI { listsAsDuplicateKeys = true; };
  pkgs = rec {
    stdenv.hostPlatform = {
      system = "x86_64-linux";
      linuxArch = "x86_64";
      efiArch = "x64";
      isx86_64 = true;
    };
    systemd = fakePackage "systemd";
    nix-repart = fakePackage "nix-repart";
    buildPackages = pkgs;
    closureInfo = { rootPaths }: "/nix/store/11111111111111111111111111111111-closure-info";
    jq = fakePackage "jq";
    systemdUkify = fakePackage "systemd-ukify";
    # A record: the verity store's UKI is read, not built.
    runCommand =
      name: env: buildCommand:
      env
      // {
        inherit name buildCommand;
        type = "derivation";
        outPath = "/nix/store/55555555555555555555555555555555-${name}";
      };
    formats.ini = _: { generate = name: value: ini value; };
    # nixpkgs' repart-image.nix would need a whole pkgs: its arguments are
    # the result. Ours (nix/lib/image.nix) is called with a record for
    # mkDerivation.
    callPackage =
      fn: extra:
      if baseNameOf (toString fn) == "repart-image.nix" then
        extra
      else
        import fn (
          {
            stdenvNoCC.mkDerivation =
              attrs:
              attrs
              // {
                type = "derivation";
                outPath = "/nix/store/44444444444444444444444444444444-${attrs.name}";
              };
            e2fsprogs = fakePackage "e2fsprogs";
            erofs-utils = fakePackage "erofs-utils";
          }
          // extra
        );
  };
  utils.systemdUtils.lib = {
    GPTMaxLabelLength = 36;
    definitions = _dir: format: files: lib.mapAttrs (name: value: format.generate "${name}.conf" value) files;
  };
  others =
    { lib, ... }:
    {
      options = {
        system.build = lib.mkOption {
          type = lib.types.lazyAttrsOf lib.types.unspecified;
          default = { };
        };
        system.image.id = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
        };
        system.image.version = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
        };
        system.nixos.label = lib.mkOption {
          type = lib.types.str;
          default = "26.11";
        };
        system.boot.loader.ukiFile = lib.mkOption {
          type = lib.types.str;
          default = "nixos.efi";
        };
        boot = lib.mkOption {
          type = lib.types.attrsOf lib.types.unspecified;
          default = { };
        };
        # nixpkgs' modules name their maintainers (lib.maintainers needs
        # nixpkgs' maintainer list, not in this copy): never read.
        meta.maintainers = lib.mkOption {
          type = lib.types.raw;
          default = [ ];
        };
      };
      config.system.build.toplevel = "/nix/store/22222222222222222222222222222222-nixos-system-test";
      config.system.build.uki = "/nix/store/33333333333333333333333333333333-uki";
      config.boot.uki.configFile = "/nix/store/66666666666666666666666666666666-ukify.conf";
      config.boot.kernelParams = [ "console=ttyS0" ];
    };
  theModule =
    if module == "ours" then ../../../nix/modules/image-repart.nix else modulesPath + "/image/repart.nix";
  eval = lib.evalModules {
    modules = [
      others
      (modulesPath + "/misc/assertions.nix")
      theModule
      configuration
      { _module.args = { inherit pkgs utils; }; }
    ];
    specialArgs = { inherit modulesPath; };
  };
  cfg = eval.config.image.repart;
  image = eval.config.system.build.image;
  # The repart.d text of each partition, "true"/"false" written as systemd
  # spells them in repart.d(5) examples, so that both modules compare.
  yesNo = text: builtins.replaceStrings [ "=true\n" "=false\n" ] [ "=yes\n" "=no\n" ] text;
  build = eval.config.system.build;
  ours = {
    spec = image.nixRepartSpec;
    verityStore =
      if cfg ? verityStore && cfg.verityStore.enable then
        {
          intermediate = build.intermediateImage.nixRepartSpec;
          intermediateOutPath = build.intermediateImage.outPath;
          final = build.finalImage.nixRepartSpec;
          ukiCommand = build.uki.buildCommand;
        }
      else
        null;
    tools = map (p: p.pname or p.name) image.nativeBuildInputs;
    partitions = lib.listToAttrs (
      map (p: {
        name = p.id;
        value = {
          ini = yesNo (ini { Partition = p.repartConfig; });
          contents = lib.mapAttrs (_: c: toString c.source) (p.contents or { });
          storePaths = map toString (p.storePaths or [ ]);
          nixStorePrefix = p.nixStorePrefix or "/nix/store";
        };
      }) image.nixRepartSpec.partitions
    );
  };
  theirs = {
    partitions = lib.mapAttrs (id: p: {
      ini = yesNo image.definitionsDirectory.${id};
      contents = lib.mapAttrs (_: c: toString c.source) p.contents;
      storePaths = map toString p.storePaths;
      inherit (p) nixStorePrefix;
    }) cfg.finalPartitions;
  };
  checked = lib.asserts.checkAssertWarn cfg.assertions cfg.warnings;
in
checked (
  (if module == "ours" then ours else theirs)
  // {
    inherit (eval.config.image) baseName fileName;
    imageFile = eval.config.image.repart.imageFile or null;
    imageFileBasename = eval.config.image.repart.imageFileBasename or null;
  }
)
