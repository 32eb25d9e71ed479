#!/usr/bin/env bash
# Benchmark: a full system image (ESP + ext4 root holding a generated
# closure from this machine's /usr, Minimize=guess, in a 20 GiB disk) as
# qcow2-compressed, written by nix-repart (`"format": "qcow2-compressed"`)
# against nix-repart's raw image followed by `qemu-img convert -c -O qcow2`
# (what make-disk-image does after its VM), in the same run. Prints wall
# time, CPU time, peak RSS, scratch disk (beyond the outputs: nix-repart's
# sparse raw image in its work directory), output size and the ratios. Not a test: it
# asserts nothing.
#
#   bash bench/qcow2.sh [BYTES FILES]     (default: 1200000000 40000)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-1200000000}
files=${2:-40000}
work=$(mktemp -d /var/tmp/nix-repart-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/nix-repart
python3 bench/closure-from-usr.py "$work/nix/store" "$bytes" "$files" > "$work/store-paths"
spec() { # format
  cat <<JSON
{"version": 1, "name": "system", "imageSize": "20G", "format": "$1", "partitions": [
  {"id": "10-esp", "repartConfig": {"Type": "esp", "Format": "vfat"}},
  {"id": "20-root", "repartConfig": {"Type": "root", "Format": "ext4", "Minimize": "guess"}, "closure": "$work/store-paths"}]}
JSON
}
spec qcow2-compressed > "$work/qcow2.json"
spec raw > "$work/raw.json"
. bench/lib.sh
ours=$(measure_disk "nix-repart" "rm -rf '$work/q' && '$bin' build '$work/qcow2.json' -o '$work/q'")
theirs=$(measure_disk "raw+qemu-img" "rm -rf '$work/r' && '$bin' build '$work/raw.json' -o '$work/r' && qemu-img convert -c -O qcow2 '$work/r/system.raw' '$work/r/system.qcow2'")
echo "closure: $(wc -l < "$work/store-paths") store paths, $(du -sb "$work/nix/store" | cut -f1) bytes; $(nproc) cores"
printf '%-14s %8s %8s %12s %14s\n' method wall_s cpu_s peak_rss_kb scratch_bytes
for row in "$ours" "$theirs"; do printf '%-14s %8s %8s %12s %14s\n' $row; done
so=$(stat -c %s "$work/q/system.qcow2"); st=$(stat -c %s "$work/r/system.qcow2")
echo "qcow2 bytes: nix-repart $so, qemu-img $st"
qemu-img compare "$work/r/system.raw" "$work/q/system.qcow2"
read -r _ wo co ro _ <<< "$ours"
read -r _ wt ct rt _ <<< "$theirs"
awk -v wo="$wo" -v wt="$wt" -v co="$co" -v ct="$ct" -v ro="$ro" -v rt="$rt" -v so="$so" -v st="$st" 'BEGIN {
  printf "ratios nix-repart/(raw+qemu-img): wall %.2f, cpu %.2f, peak rss %.2f, size %.2f\n", wo / wt, co / ct, ro / rt, so / st }'
