#!/usr/bin/env bash
# Benchmark: a squashfs store partition of a >= 300 MB, >= 20000-file
# closure made from this machine's /usr, written by nix-repart with --jobs 1
# and --jobs $(nproc), and by mksquashfs -processors $(nproc) on a copy of
# the same tree (systemd-repart's method, without its copy), at the same
# compression and level. Prints wall time, CPU time, peak RSS and ratios.
# Not a test: it asserts nothing.
#
#   bash bench/squashfs.sh [ALGORITHM LEVEL]     (default: zstd 15)
set -euo pipefail
cd "$(dirname "$0")/.."
algorithm=${1:-zstd}
level=${2:-15}
cores=$(nproc)
work=$(mktemp -d /var/tmp/nix-repart-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/nix-repart
python3 bench/closure-from-usr.py "$work/nix/store" $((300 * 1000 * 1000)) 20000 > "$work/store-paths"
cat > "$work/spec.json" <<JSON
{"version": 1, "name": "store", "partitions": [{"id": "10-store",
  "repartConfig": {"Type": "linux-generic", "Format": "squashfs", "Minimize": "best",
                   "Compression": "$algorithm", "CompressionLevel": "$level"},
  "closure": "$work/store-paths", "nixStorePrefix": "/"}]}
JSON
# mksquashfs reads a tree with the store paths at its root, as nix-repart writes it.
mkdir "$work/tree"
for p in $(cat "$work/store-paths"); do cp -a "$p" "$work/tree/"; done
case $algorithm in
  gzip|zstd|xz) level_option=(-Xcompression-level "$level") ;;
  *) level_option=() ;;
esac
[ "$algorithm" = xz ] && level_option=()

measure() { # label, shell command -> "label wall cpu rss"
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" bash -c "$2" > /dev/null 2>&1
  read -r wall user sys rss < "$work/time"
  echo "$1 $wall $(awk "BEGIN{print $user + $sys}") $rss"
}
one=$(measure "nix-repart-j1" "rm -rf '$work/out' && '$bin' build '$work/spec.json' -o '$work/out' --jobs 1")
all=$(measure "nix-repart-j$cores" "rm -rf '$work/out' && '$bin' build '$work/spec.json' -o '$work/out' --jobs $cores")
size=$(python3 -c "import json; print(json.load(open('$work/out/repart-output.json'))[0]['raw_size'])")
mks=$(measure "mksquashfs-p$cores" "rm -f '$work/m.sqfs' && mksquashfs '$work/tree' '$work/m.sqfs' -noappend -all-root -no-xattrs -processors $cores -comp $algorithm ${level_option[*]} -mkfs-time 1700000000 -all-time 1700000000 -quiet -no-progress")
msize=$(stat -c %s "$work/m.sqfs")
echo "closure: $(wc -l < "$work/store-paths") store paths; $algorithm level $level; $cores cores"
printf '%-16s %8s %8s %12s\n' tool wall_s cpu_s peak_rss_kb
for row in "$one" "$all" "$mks"; do printf '%-16s %8s %8s %12s\n' $row; done
echo "image bytes: nix-repart $size, mksquashfs $msize"
read -r _ w1 _ _ <<< "$one"
read -r _ wn cn rn <<< "$all"
read -r _ wm cm rm <<< "$mks"
awk -v w1="$w1" -v wn="$wn" -v wm="$wm" -v cn="$cn" -v cm="$cm" -v rn="$rn" -v rm="$rm" 'BEGIN {
  printf "ratios: wall nix-repart/mksquashfs %.2f, cpu %.2f, peak rss %.2f; nix-repart scaling j1/jN %.2fx\n", wn / wm, cn / cm, rn / rm, w1 / wn }'
