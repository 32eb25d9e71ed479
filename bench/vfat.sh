#!/usr/bin/env bash
# Benchmark: a 200 MB, 1500-file ESP written by nix-repart, against
# mkfs.vfat + mcopy (systemd-repart's method) on the same tree, same
# machine, same run. Prints wall/CPU seconds and peak RSS for each (best of
# RUNS) and the ratios. Not a test: it asserts nothing.
#
#   bash bench/vfat.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=$(mktemp -d /var/tmp/nix-repart-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/nix-repart
python3 bench/make-tree.py "$work/tree" 1500 $((200 * 1000 * 1000))
echo "tree: $(find "$work/tree" -type f | wc -l) files, $(du -sb "$work/tree" | cut -f1) bytes, $(nproc) cores"
size=256M
cat > "$work/spec.json" <<JSON
{"version": 1, "name": "esp", "partitions": [{"id": "10-esp",
  "repartConfig": {"Type": "esp", "Format": "vfat", "SizeMinBytes": "$size", "SizeMaxBytes": "$size"},
  "contents": {"/": {"source": "$work/tree"}}}]}
JSON

measure() { # label, shell command: best wall time of $runs runs, with its CPU and RSS
  local label=$1 command=$2
  local best=""
  for _ in $(seq "$runs"); do
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" bash -c "$command" > /dev/null 2>&1
    read -r wall user sys rss < "$work/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < ${best%% *})}"; then
      best="$wall $(awk "BEGIN{print $user + $sys}") $rss"
    fi
  done
  echo "$label $best"
}

nix_repart="rm -rf '$work/out' && '$bin' build '$work/spec.json' -o '$work/out'"
mkfs_mcopy="rm -f '$work/esp.img' && mkfs.vfat -C -F 32 -i 793a442b -n BOOT '$work/esp.img' $((256 * 1024)) &&
  MTOOLS_SKIP_CHECK=1 mcopy -s -p -Q -m -i '$work/esp.img' '$work'/tree/* ::"
a=$(measure nix-repart "$nix_repart")
b=$(measure mkfs.vfat+mcopy "$mkfs_mcopy")
printf '%-16s %8s %8s %10s\n' tool wall_s cpu_s peak_rss_kb
printf '%-16s %8s %8s %10s\n' $a
printf '%-16s %8s %8s %10s\n' $b
read -r _ aw ac ar <<< "$a"
read -r _ bw bc br <<< "$b"
awk -v aw="$aw" -v bw="$bw" -v ac="$ac" -v bc="$bc" 'BEGIN {
  printf "ratio nix-repart / mkfs.vfat+mcopy: wall %.2f, cpu %.2f (below 1 means nix-repart is faster)\n", aw / bw, ac / bc }'
