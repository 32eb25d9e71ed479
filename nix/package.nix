# The nix-repart package. Its tests run in the build with the tools they
# use to check images (fsck.vfat, mtools, unsquashfs, e2fsck, fsck.erofs,
# sgdisk, zstd, xz). Those that need systemd-repart with loop devices
# (losetup, so util-linux is deliberately not here), QEMU or Nix itself
# report SKIPPED when their tool is missing; they are required, not
# skipped, under CI=true in .ci/run, which runs them outside the sandbox.
{
  lib,
  rustPlatform,
  dosfstools,
  mtools,
  squashfsTools,
  e2fsprogs,
  erofs-utils,
  gptfdisk,
  zstd,
  xz,
}:

rustPlatform.buildRustPackage {
  pname = "nix-repart";
  version = (lib.importTOML ../Cargo.toml).workspace.package.version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../rustfmt.toml
      ../src
      ../crates
      ../tests
      ../examples
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;

  nativeCheckInputs = [
    dosfstools
    mtools
    squashfsTools
    e2fsprogs
    erofs-utils
    gptfdisk
    zstd
    xz
  ];

  meta = {
    description = "Build reproducible GPT disk images for NixOS image.repart, without systemd-repart";
    homepage = "https://github.com/nix-repart/nix-repart";
    license = with lib.licenses; [
      mit
      asl20
    ];
    mainProgram = "nix-repart";
    platforms = lib.platforms.linux;
  };
}
