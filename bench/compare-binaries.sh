#!/usr/bin/env bash
# Builds the same specs with two nix-repart binaries and compares every
# output byte for byte: the bundled example, the golden plan specs, and a
# generated tree (nested files, modes, symlinks, a hard link) in every
# format (vfat, squashfs with each compressor, ext2/3/4, erofs plain and
# lz4, swap), with split files and compressed output. For checking that a
# change leaves images unchanged (not a test: it needs a second build).
#
#   bash bench/compare-binaries.sh OLD_BINARY [NEW_BINARY]
#
# NEW_BINARY defaults to target/release/nix-repart. Prints one line per
# spec, "same" or "DIFFERS: file", and exits 1 if anything differs.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "${2:-target/release/nix-repart}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

src="$work/src"
mkdir -p "$src/etc/ssh" "$src/bin" "$src/share/doc/empty" "$src/lib"
printf 'hello\n' >"$src/etc/motd"
head -c 300000 /dev/urandom >"$src/bin/tool"
chmod 0555 "$src/bin/tool"
head -c 5000 /dev/urandom >"$src/lib/libx.so.1"
ln -s libx.so.1 "$src/lib/libx.so"
ln "$src/etc/motd" "$src/etc/issue"
printf 'Port 22\n' >"$src/etc/ssh/sshd_config"
chmod 0600 "$src/etc/ssh/sshd_config"

spec() { # name format extra-config extra-top
  local links='"Format": "'"$2"'"'
  cat >"$work/$1.json" <<JSON
{"version": 1, "name": "$1", "split": true $4, "partitions": [
  {"id": "10-esp", "repartConfig": {"Type": "esp", "Format": "vfat", "SizeMinBytes": "64M"},
   "contents": {"/EFI/BOOT/BOOTX64.EFI": {"source": "$src/bin/tool"}}},
  {"id": "20-data", "repartConfig": {"Type": "linux-generic", $links, "Minimize": "guess" $3},
   "contents": {"/": {"source": "$src"}}}]}
JSON
}
specs=("$PWD/examples/layout/spec.json" "$PWD"/crates/plan/tests/golden/*.spec.json)
for f in ext2 ext3 ext4 erofs; do spec "$f" "$f" "" ""; specs+=("$work/$f.json"); done
spec squashfs-gzip squashfs "" ""
spec squashfs-zstd squashfs ', "Compression": "zstd", "CompressionLevel": 9' ""
spec squashfs-xz squashfs ', "Compression": "xz"' ""
spec squashfs-lz4 squashfs ', "Compression": "lz4"' ""
spec erofs-lz4 erofs ', "Compression": "lz4"' ""
spec zst squashfs "" ', "compression": {"enable": true, "algorithm": "zstd"}'
specs+=("$work"/squashfs-*.json "$work/erofs-lz4.json" "$work/zst.json")
cat >"$work/swap.json" <<JSON
{"version": 1, "name": "swap", "partitions": [{"id": "10-swap", "repartConfig": {"Type": "swap", "Format": "swap", "SizeMinBytes": "64M"}}]}
JSON
specs+=("$work/swap.json")

status=0
for s in "${specs[@]}"; do
  name=$(basename "$s" .json)
  for which in old new; do
    bin=$old; [ "$which" = new ] && bin=$new
    rm -rf "$work/out-$which"
    SOURCE_DATE_EPOCH=315532800 "$bin" build "$s" -o "$work/out-$which" 2>"$work/$which.log" || { echo "$name: $which build failed: $(tail -1 "$work/$which.log")"; status=1; continue 2; }
  done
  differs=$(diff -rq "$work/out-old" "$work/out-new" || true)
  if [ -z "$differs" ]; then echo "$name: same ($(ls "$work/out-new" | tr '\n' ' '))"; else echo "$name: DIFFERS: $differs"; status=1; fi
done
exit $status
