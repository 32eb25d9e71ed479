#!/usr/bin/env bash
# Benchmark: nixpkgs' most common layout, an ESP (vfat) and an ext4 root
# (Minimize=guess) holding a generated closure (from this machine's /usr),
# built three ways in the same run on the same machine: nix-repart (its own
# ext4 writer), nix-repart with "extWriter": "mke2fs" (staging copy +
# mke2fs -d), and systemd-repart 257 --offline=yes (the reference tooling
# of tests/reference/fetch.sh, its trixie mke2fs on PATH). Prints wall
# time, CPU time, peak RSS, scratch disk (the most disk used beyond the
# output), the root filesystem's size, and the ratios. Not a test: it
# asserts nothing.
#
#   bash bench/ext4.sh [BYTES FILES]     (default: 1200000000 40000)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-1200000000}
files=${2:-40000}
reference=$(bash tests/reference/fetch.sh trixie /var/cache/nix-repart-reference/trixie)
work=$(mktemp -d /var/tmp/nix-repart-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/nix-repart
python3 bench/closure-from-usr.py "$work/nix/store" "$bytes" "$files" > "$work/store-paths"
mkdir -p "$work/esp/EFI/BOOT" "$work/tmp"
head -c 20000000 /dev/urandom > "$work/esp/EFI/BOOT/BOOTX64.EFI"
seed=0867da16-f251-457d-a9e8-c31f9a3c220b
for writer in nix-repart mke2fs; do
  cat > "$work/spec-$writer.json" <<JSON
{"version": 1, "name": "root", "seed": "$seed", "extWriter": "$writer", "partitions": [
  {"id": "10-esp", "repartConfig": {"Type": "esp", "Format": "vfat", "SizeMinBytes": "256M", "SizeMaxBytes": "256M"},
   "contents": {"/": {"source": "$work/esp"}}},
  {"id": "20-root", "repartConfig": {"Type": "root", "Format": "ext4", "Minimize": "guess"},
   "closure": "$work/store-paths"}]}
JSON
done
mkdir -p "$work/repart.d"
printf '[Partition]\nType=esp\nFormat=vfat\nSizeMinBytes=256M\nSizeMaxBytes=256M\nCopyFiles=%s:/\n' "$work/esp" > "$work/repart.d/10-esp.conf"
printf '[Partition]\nType=root\nFormat=ext4\nMinimize=guess\nCopyFiles=%s:/nix/store\n' "$work/nix/store" > "$work/repart.d/20-root.conf"

. bench/lib.sh
export SOURCE_DATE_EPOCH=1700000000 TMPDIR="$work/tmp"
own=$(measure_disk "nix-repart" "rm -rf '$work/own' && '$bin' build '$work/spec-nix-repart.json' -o '$work/own'")
rm -rf "$work/own/root.raw"
mke2fs=$(measure_disk "nix-repart-mke2fs" "rm -rf '$work/m' && '$bin' build '$work/spec-mke2fs.json' -o '$work/m'")
rm -rf "$work/m/root.raw"
theirs=$(measure_disk "systemd-repart" "cd '$work' && rm -f ref.raw && PATH='$reference':\$PATH systemd-repart \
  --definitions='$work/repart.d' --empty=create --size=auto --offline=yes --dry-run=no --seed=$seed \
  --json=short --no-pager ref.raw > '$work/ref.json'")
root_size() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[1]['raw_size'])" "$1"; }
echo "closure: $(wc -l < "$work/store-paths") store paths, $(du -sb "$work/nix/store" | cut -f1) bytes; $(nproc) cores"
printf '%-18s %8s %8s %12s %14s\n' tool wall_s cpu_s peak_rss_kb scratch_bytes
for row in "$own" "$mke2fs" "$theirs"; do printf '%-18s %8s %8s %12s %14s\n' $row; done
echo "root filesystem bytes: nix-repart $(root_size "$work/own/repart-output.json"), nix-repart-mke2fs $(root_size "$work/m/repart-output.json"), systemd-repart $(root_size "$work/ref.json")"
read -r _ wo co ro so <<< "$own"
read -r _ wm cm rm sm <<< "$mke2fs"
read -r _ wt ct rt st <<< "$theirs"
awk -v wo="$wo" -v wm="$wm" -v wt="$wt" -v co="$co" -v cm="$cm" -v ct="$ct" -v ro="$ro" -v rm="$rm" -v rt="$rt" 'BEGIN {
  printf "ratios nix-repart/systemd-repart: wall %.2f, cpu %.2f, peak rss %.2f\n", wo / wt, co / ct, ro / rt
  printf "ratios nix-repart/nix-repart-mke2fs: wall %.2f, cpu %.2f, peak rss %.2f\n", wo / wm, co / cm, ro / rm }'
