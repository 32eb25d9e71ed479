#!/usr/bin/env bash
# Builds a bootable appliance image with nix-repart from Debian's parts:
# an ESP (vfat, label "boot") with systemd-boot as EFI/BOOT/BOOTX64.EFI, a
# loader entry, the Debian kernel and an initrd made here from
# busybox-static; and a read-only squashfs partition labelled "nix-store"
# that holds a marker file. The initrd finds that partition by label, checks
# the marker against the kernel command line and powers off.
#
#   examples/appliance/build.sh OUTDIR [MARKER [STORE_MARKER]]
#
# MARKER goes on the kernel command line; STORE_MARKER (default: MARKER)
# into the partition. NIX_REPART names the binary (default: nix-repart on
# PATH). ROOT_FORMAT=ext4 builds nixpkgs' layout instead: the marker on an
# ext4 partition labelled "root" with Minimize=guess (spec-ext4.json.in);
# ROOT_FORMAT=erofs makes the store partition erofs compressed with lz4hc
# (spec-erofs.json.in); ROOT_FORMAT=verity an erofs store with its dm-verity
# hash partition, the root hash on the kernel command line
# (spec-verity.json.in; VERITY_ROOTHASH= puts another there). FORMAT=qcow2
# writes appliance.qcow2 instead of appliance.raw. ROOT_FORMAT=bootspec has
# nix-repart install systemd-boot from a bootspec (spec-bootspec.json.in).
# GROW=1 (with ROOT_FORMAT=ext4) puts resize2fs into the initrd, which
# then grows the mounted root to its partition, as systemd-growfs does at
# first boot (the caller enlarges the partition first).
# Needs: systemd-boot-efi, linux-image-amd64, busybox-static, cpio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
marker=${2:-appliance-ok}
store_marker=${3:-$marker}
nix_repart=${NIX_REPART:-nix-repart}
case ${ROOT_FORMAT:-squashfs} in
  squashfs) template=spec.json.in label=nix-store fstype=squashfs ;;
  ext4) template=spec-ext4.json.in label=root fstype=ext4 ;;
  erofs) template=spec-erofs.json.in label=nix-store fstype=erofs ;;
  verity) template=spec-verity.json.in label=nix-store fstype=erofs ;;
  bootspec) template=spec-bootspec.json.in label=nix-store fstype=squashfs ;;
  *) echo "ROOT_FORMAT must be squashfs, ext4, erofs, verity or bootspec" >&2; exit 1 ;;
esac
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
version=${kernel#/boot/vmlinuz-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The initrd: busybox, the init script, and the modules to find and mount
# a squashfs, ext4 or erofs partition on a virtio disk (in load order).
mkdir -p "$work/initrd/bin" "$work/initrd/lib/modules"
cp /bin/busybox "$work/initrd/bin/busybox"
cp "$here/init" "$work/initrd/init"
chmod 755 "$work/initrd/init"
i=0
modules=$(for m in virtio_pci virtio_blk squashfs crc32c_generic ext4 erofs dm_verity; do modprobe --show-depends -S "$version" "$m"; done)
for ko in $(echo "$modules" | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'); do
  cp "$ko" "$work/initrd/lib/modules/$(printf '%02d' $i)-$(basename "$ko")"
  i=$((i + 1))
done
# For the verity store: veritysetup and the libraries it loads, at their
# own paths, to open the store from its superblock and the root hash.
# With its libraries, at their own paths.
add_tool() {
  local tool
  tool=$(command -v "$1")
  for file in "$tool" $(ldd "$tool" | grep -oE '/[^ ]+'); do
    mkdir -p "$work/initrd$(dirname "$file")"
    cp -L "$file" "$work/initrd$file"
  done
}
if [ "${ROOT_FORMAT:-}" = verity ]; then
  add_tool veritysetup
fi
if [ -n "${GROW:-}" ]; then
  add_tool resize2fs
fi
(cd "$work/initrd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -n -9) > "$work/initrd.img"

# The ESP and the store partition's contents.
mkdir -p "$work/esp/loader/entries" "$work/store"
# A payload that compresses (939 KB of numbers), its checksum on the
# command line: the initrd reads it whole, so compressed data is read too.
seq 1 150000 > "$work/store/payload"
payload=$(md5sum "$work/store/payload" | cut -d' ' -f1)
printf 'timeout 0\ndefault appliance.conf\n' > "$work/esp/loader/loader.conf"
# entry ROOTHASH: the loader entry, with nix-repart.roothash= when given.
entry() {
  printf 'title nix-repart appliance\nlinux /vmlinuz\ninitrd /initrd\noptions console=ttyS0 panic=-1 loglevel=3 nix-repart.marker=%s nix-repart.label=%s nix-repart.fstype=%s nix-repart.payload=%s%s%s\n' \
    "$marker" "$label" "$fstype" "$payload" "${1:+ nix-repart.roothash=$1}" "${GROW:+ nix-repart.grow=1}" > "$work/esp/loader/entries/appliance.conf"
}
entry ""
cp "$kernel" "$work/esp/vmlinuz"
cp "$work/initrd.img" "$work/esp/initrd"
printf '%s' "$store_marker" > "$work/store/marker"
# ROOT_FORMAT=bootspec: no loader files of ours; a toplevel whose boot.json
# (bootspec v1) names the kernel, the initrd and the command line, and
# nix-repart installs systemd-boot from it.
mkdir -p "$work/toplevel"
params=$(sed -n 's/^options //p' "$work/esp/loader/entries/appliance.conf" | sed 's/ /", "/g')
printf '{"org.nixos.bootspec.v1": {"kernel": "%s", "initrd": "%s", "init": "/init", "kernelParams": ["%s"], "label": "nix-repart appliance", "system": "x86_64-linux", "toplevel": "%s"}}\n' \
  "$kernel" "$work/initrd.img" "$params" "$work/toplevel" > "$work/toplevel/boot.json"
sed -e "s|@ESP@|$work/esp|g" -e "s|@STORE@|$work/store|g" -e "s|@TOPLEVEL@|$work/toplevel|g" "$here/$template" > "$work/spec.json"
# FORMAT=qcow2 (or qcow2-compressed) writes the disk as qcow2.
if [ -n "${FORMAT:-}" ]; then
  sed -i "s|\"version\": 1,|\"version\": 1, \"format\": \"$FORMAT\",|" "$work/spec.json"
fi
roothash() { sed -n 's/.*"roothash": "\([0-9a-f]*\)".*/\1/p' "$1/repart-output.json" | head -n 1; }
if [ "${ROOT_FORMAT:-}" = verity ]; then
  # The root hash goes on the kernel command line in the ESP, which the
  # hash does not cover: build once for the hash, then with it (the store
  # partitions come out the same; checked). VERITY_ROOTHASH overrides it.
  "$nix_repart" build "$work/spec.json" -o "$work/first"
  hash=$(roothash "$work/first")
  entry "${VERITY_ROOTHASH:-$hash}"
  "$nix_repart" build "$work/spec.json" -o "$out"
  [ "$(roothash "$out")" = "$hash" ] || { echo "the second build has another root hash" >&2; exit 1; }
else
  "$nix_repart" build "$work/spec.json" -o "$out"
fi
