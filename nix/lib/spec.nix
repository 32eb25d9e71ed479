# image.repart options -> nix-repart spec (docs/spec.md), using builtins only,
# so that it evaluates and is tested without nixpkgs
# (`nix-instantiate --eval --strict --json`, see tests/nix.rs).
#
# Input: the `image.repart` option values as a user writes them (defaults
# are filled in here, with nixpkgs' values) plus `system`, the Nix system
# string of the machine the image is for. Output: the spec as an attribute
# set; `builtins.toJSON` of it is the spec file. Store paths keep their
# string context, so a derivation that embeds the spec depends on them.
#
# Bad values throw one line naming the option, e.g.
#   image.repart.partitions."10-esp".contents."EFI/x".source: ...
# Checks that need the whole spec (sizes, types, label length) are left to
# nix-repart's own validation, which names the JSON pointer.
let
  inherit (builtins)
    all
    attrNames
    concatStringsSep
    elem
    filter
    isAttrs
    isBool
    isInt
    isList
    isString
    isPath
    length
    listToAttrs
    map
    mapAttrs
    match
    substring
    toJSON
    typeOf
    ;

  defaultSeed = "0867da16-f251-457d-a9e8-c31f9a3c220b";

  # Attribute names as the module system prints them in option paths.
  quote = name: if match "[A-Za-z_][A-Za-z0-9_'-]*" name != null then name else toJSON name;

  fail = option: message: throw "${option}: ${message}";

  isStringLike = v: isString v || isPath v || (isAttrs v && v ? outPath);
  asString = v: if isAttrs v then v.outPath else "${v}";
  isAbsolute = s: substring 0 1 s == "/";

  uuidPattern = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

  # systemd's architecture names (the `--architecture=` nixpkgs passes to
  # systemd-repart) for the CPU part of a Nix system string.
  architectures = {
    x86_64 = "x86-64";
    i686 = "x86";
    aarch64 = "arm64";
    armv7l = "arm";
    armv6l = "arm";
    riscv64 = "riscv64";
    riscv32 = "riscv32";
    loongarch64 = "loongarch64";
    powerpc64le = "ppc64-le";
    powerpc64 = "ppc64";
    s390x = "s390x";
    mips64el = "mips64-le";
    mipsel = "mips-le";
  };

  architectureOf =
    system:
    let
      cpu = builtins.head (builtins.split "-" system);
    in
    architectures.${cpu}
      or (fail "system" "${toJSON system}: no systemd architecture is known for CPU ${toJSON cpu}");

  # null and "random" (nixpkgs: no --seed, or --seed=random) draw a seed
  # per build; nix-repart says so in a note, since the image is then not
  # reproducible.
  checkSeed =
    seed:
    if seed == null || seed == "random" then
      "random"
    else if !(isString seed) || match uuidPattern seed == null then
      fail "image.repart.seed" "${toJSON seed} is not a UUID"
    else
      seed;

  checkName =
    name:
    if !(isString name) || name == "" || match ".*/.*" name != null then
      fail "image.repart.name" "${toJSON name} must be a non-empty string without '/'"
    else
      name;

  checkSectorSize =
    size:
    if size == null || elem size [ 512 1024 2048 4096 ] then
      size
    else
      fail "image.repart.sectorSize" "${toJSON size} is not a power of two from 512 to 4096";

  checkImageSize =
    size:
    if isString size || isInt size then
      size
    else
      fail "image.repart.imageSize" "must be \"auto\" or a size such as \"2G\", not a ${typeOf size}";

  compressionOf =
    compression:
    let
      option = "image.repart.compression";
      known = [
        "enable"
        "algorithm"
        "level"
      ];
      unknown = filter (k: !(elem k known)) (attrNames compression);
      enable = compression.enable or false;
      algorithm = compression.algorithm or "zstd";
    in
    if unknown != [ ] then
      fail "${option}.${quote (builtins.head unknown)}" "no such option (known: ${concatStringsSep ", " known})"
    else if !(isBool enable) then
      fail "${option}.enable" "${toJSON enable} is not a boolean"
    else if !(elem algorithm [ "zstd" "xz" "zstd-seekable" ]) then
      fail "${option}.algorithm" "${toJSON algorithm} is not one nix-repart writes (zstd, zstd-seekable, xz)"
    else
      {
        inherit enable algorithm;
        # nixpkgs' default level for every algorithm.
        level = compression.level or 3;
      };

  checkMkfsOptions =
    options:
    mapAttrs (
      fs: args:
      if isList args && all isString args then
        args
      else
        fail "image.repart.mkfsOptions.${quote fs}" "must be a list of strings"
    ) options;

  partitionKeys = [
    "storePaths"
    "nixStorePrefix"
    "stripNixStorePrefix"
    "contents"
    "repartConfig"
    "fromImage"
  ];

  settingValue =
    option: value:
    if isString value || isInt value || isBool value then
      value
    else if isList value && all isString value then
      value
    else
      fail option "${typeOf value} is not a string, integer, boolean or list of strings";

  contentsOf =
    option: contents:
    mapAttrs (
      target: entry:
      let
        here = "${option}.${quote target}";
      in
      if !(isAbsolute target) then
        fail here "the target must be an absolute path inside the partition"
      else if !(isAttrs entry) || !(entry ? source) then
        fail "${here}.source" "is missing"
      else if !(isStringLike entry.source) then
        fail "${here}.source" "${typeOf entry.source} is not a path"
      else
        { source = asString entry.source; }
    ) contents;

  prefixOf =
    option: partition:
    let
      strip = partition.stripNixStorePrefix or false;
      prefix = partition.nixStorePrefix or "/nix/store";
    in
    if strip == true then
      "/"
    else if !(isStringLike prefix) || !(isAbsolute (asString prefix)) then
      fail "${option}.nixStorePrefix" "${toJSON prefix} is not an absolute path"
    else
      asString prefix;

  partitionOf =
    partitions: id:
    let
      option = "image.repart.partitions.${quote id}";
      partition = partitions.${id};
      unknown = filter (k: !(elem k partitionKeys)) (attrNames partition);
      repartConfig = partition.repartConfig or (fail "${option}.repartConfig" "is missing (it needs at least Type)");
      storePaths = partition.storePaths or [ ];
    in
    if !(isAttrs partition) then
      fail option "must be an attribute set"
    else if unknown != [ ] then
      fail "${option}.${quote (builtins.head unknown)}" "no such option (known: ${concatStringsSep ", " partitionKeys})"
    else if !(isAttrs repartConfig) then
      fail "${option}.repartConfig" "must be an attribute set of repart.d settings"
    else if !(isList storePaths) || !(all isStringLike storePaths) then
      fail "${option}.storePaths" "must be a list of store paths"
    else
      {
        inherit id;
        repartConfig = mapAttrs (key: settingValue "${option}.repartConfig.${quote key}") repartConfig;
        contents = contentsOf "${option}.contents" (partition.contents or { });
        storePaths = map asString storePaths;
        nixStorePrefix = prefixOf option partition;
      }
      # An earlier image (a store path) the partition is copied from, byte
      # for byte (the verityStore's final image; docs/spec.md).
      // (if partition ? fromImage then { fromImage = asString partition.fromImage; } else { });

  topKeys = [
    "name"
    "version"
    "seed"
    "split"
    "sectorSize"
    "imageSize"
    "compression"
    "mkfsOptions"
    "partitions"
    "package"
    "system"
    "format"
    "extWriter"
  ];
  formats = [
    "raw"
    "qcow2"
    "qcow2-compressed"
    "vdi"
    "vpc"
  ];
  format = options: options.format or "raw";
  extWriter = options: options.extWriter or null;
in
options:
let
  unknown = filter (k: !(elem k topKeys)) (attrNames options);
  version = options.version or null;
  partitions = options.partitions or { };
  split = options.split or false;
in
if unknown != [ ] then
  fail "image.repart.${quote (builtins.head unknown)}" "no such option nix-repart knows"
else if !(isAttrs partitions) || partitions == { } then
  fail "image.repart.partitions" "must define at least one partition"
else if !(isBool split) then
  fail "image.repart.split" "${toJSON split} is not a boolean"
else if version != null && !(isString version) then
  fail "image.repart.version" "${toJSON version} is not a string or null"
else if !(elem (format options) formats) then
  fail "image.repart.format" "${toJSON (format options)} is not one of ${concatStringsSep ", " formats}"
else if format options != "raw" && (options.compression.enable or false) then
  fail "image.repart.format" "${format options} images are not compressed as a whole; disable image.repart.compression (qcow2-compressed compresses clusters)"
else if !(elem (extWriter options) [ null "nix-repart" "mke2fs" ]) then
  fail "image.repart.extWriter" "${toJSON (extWriter options)} is not null, \"nix-repart\" or \"mke2fs\""
else
  {
    version = 1;
    name = checkName (options.name or (fail "image.repart.name" "is not set"));
    seed = checkSeed (options.seed or defaultSeed);
    architecture = architectureOf (options.system or "x86_64-linux");
    imageSize = checkImageSize (options.imageSize or "auto");
    inherit split;
    compression = compressionOf (options.compression or { });
    mkfsOptions = checkMkfsOptions (options.mkfsOptions or { });
    # attrNames is sorted, the order systemd-repart reads <id>.conf in.
    partitions = map (partitionOf partitions) (attrNames partitions);
  }
  // (if version != null then { imageVersion = version; } else { })
  // (if format options != "raw" then { format = format options; } else { })
  // (if extWriter options != null then { extWriter = extWriter options; } else { })
  // (
    let
      size = checkSectorSize (options.sectorSize or 512);
    in
    if size != null then { sectorSize = size; } else { }
  )
