# Every image.repart option a user sets, at values nixpkgs accepts: a
# version, a random seed, split files, 2048-byte sectors,
# zstd-seekable compression, mkfsOptions, a store partition at / with
# nixStorePrefix, the deprecated stripNixStorePrefix, lists and booleans.
{ config, ... }:
{
  image.repart = {
    name = "every";
    version = "2.0";
    seed = "random";
    split = true;
    sectorSize = 2048;
    compression = {
      enable = true;
      algorithm = "zstd-seekable";
      level = 7;
    };
    mkfsOptions.erofs = [ "-Efragments" ];
    partitions = {
      "10-store" = {
        storePaths = [ config.system.build.toplevel ];
        nixStorePrefix = "/";
        repartConfig = {
          Type = "usr";
          Format = "erofs";
          Minimize = "best";
          SplitName = "store";
          ReadOnly = true;
        };
      };
      "20-var" = {
        stripNixStorePrefix = true;
        repartConfig = {
          Type = "var";
          Format = "ext4";
          SizeMinBytes = 64 * 1024 * 1024;
          MakeDirectories = [
            "/log"
            "/lib"
          ];
          Weight = 2000;
        };
      };
    };
  };
}
