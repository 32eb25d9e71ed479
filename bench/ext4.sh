#!/usr/bin/env bash
# Benchmark: an ext4 root (Minimize=guess) of a generated closure (from this
# machine's /usr), built by nix-repart, against systemd-repart's sandbox
# method as nixpkgs runs it: copy the closure into a temporary tree, run
# mkfs.ext4 -d once into a large sparse file to measure, then again at the
# measured size plus room, then copy the filesystem into the image. Both in
# the same run, same machine. Prints wall time, CPU time, peak RSS, image
# sizes and the ratios. Not a test: it asserts nothing.
#
#   bash bench/ext4.sh [BYTES FILES]     (default: 500000000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-500000000}
files=${2:-20000}
work=$(mktemp -d /var/tmp/nix-repart-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/nix-repart
python3 bench/closure-from-usr.py "$work/nix/store" "$bytes" "$files" > "$work/store-paths"
cat > "$work/spec.json" <<JSON
{"version": 1, "name": "root", "partitions": [{"id": "10-root",
  "repartConfig": {"Type": "root", "Format": "ext4", "Minimize": "guess"},
  "closure": "$work/store-paths"}]}
JSON

# systemd-repart's method, step by step (see the facts file): the flags are
# the reproducible ones nix-repart uses too, so only the method differs.
cat > "$work/sandbox.sh" <<'SH'
set -euo pipefail
work=$1
rm -rf "$work/tree" "$work/measure.img" "$work/fs.img" "$work/image.raw"
mkdir -p "$work/tree/nix/store"
for p in $(cat "$work/store-paths"); do cp -a "$p" "$work/tree/nix/store/"; done
flags=(-q -F -U 11111111-2222-4333-8444-555555555555 -E hash_seed=11111111-2222-4333-8444-555555555555,root_owner=0:0,lazy_itable_init=0,nodiscard -T default -I 256 -m 0 -b 4096)
# The measuring run: a 1 TiB sparse file, inode tables left uninitialized
# (zeroing them for 1 TiB would write gigabytes).
truncate -s 1T "$work/measure.img"
E2FSPROGS_FAKE_TIME=315532800 mkfs.ext4 "${flags[@]}" -E lazy_itable_init=1 -d "$work/tree" "$work/measure.img"
# What the sparse file really holds (st_blocks), as systemd-repart measures.
used=$(( $(stat -c %b "$work/measure.img") * $(stat -c %B "$work/measure.img") ))
size=$(( (used + used / 2 + 4095) / 4096 * 4096 ))
truncate -s "$size" "$work/fs.img"
E2FSPROGS_FAKE_TIME=315532800 mkfs.ext4 "${flags[@]}" -d "$work/tree" "$work/fs.img"
truncate -s $((size + 2 * 1048576)) "$work/image.raw"
dd if="$work/fs.img" of="$work/image.raw" bs=1M seek=1 conv=notrunc,sparse status=none
echo "$size" > "$work/sandbox-size"
SH

. bench/lib.sh
ours=$(measure "nix-repart" "rm -rf '$work/out' && '$bin' build '$work/spec.json' -o '$work/out' 2> '$work/note'")
size=$(python3 -c "import json; print(json.load(open('$work/out/repart-output.json'))[0]['raw_size'])")
sandbox=$(measure "sandbox-method" "bash '$work/sandbox.sh' '$work'")
ssize=$(cat "$work/sandbox-size")
echo "closure: $(wc -l < "$work/store-paths") store paths, $(du -sb "$work/nix/store" | cut -f1) bytes; $(nproc) cores"
printf '%-16s %8s %8s %12s\n' method wall_s cpu_s peak_rss_kb
for row in "$ours" "$sandbox"; do printf '%-16s %8s %8s %12s\n' $row; done
echo "ext4 bytes: nix-repart $size, sandbox method $ssize"
grep '^note' "$work/note" || true
read -r _ wo co ro <<< "$ours"
read -r _ ws cs rs <<< "$sandbox"
awk -v wo="$wo" -v ws="$ws" -v co="$co" -v cs="$cs" -v so="$size" -v ss="$ssize" 'BEGIN {
  printf "ratios nix-repart/sandbox: wall %.2f, cpu %.2f, filesystem size %.2f\n", wo / ws, co / cs, so / ss }'
