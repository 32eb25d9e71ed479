#!/usr/bin/env bash
# Benchmark: a dm-verity protected erofs store (nixpkgs' verityStore layout:
# a usr-verity hash partition and an erofs usr data partition with
# Minimize=best) of a generated closure (from this machine's /usr), built
# by nix-repart and by systemd-repart 257 --offline=yes (the reference
# tooling of tests/reference/fetch.sh), in the same run, with trixie's
# mkfs.erofs on PATH for both. Prints wall time, CPU time, peak RSS, the
# hash partitions' sizes, the ratios, and whether the root hashes agree.
# Not a test: it asserts nothing.
#
#   bash bench/verity.sh [BYTES FILES]     (default: 1200000000 40000)
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
seed=0867da16-f251-457d-a9e8-c31f9a3c220b
cat > "$work/spec.json" <<JSON
{"version": 1, "name": "store", "seed": "$seed", "sectorSize": 512, "partitions": [
  {"id": "10-store-verity", "repartConfig": {"Type": "usr-verity", "Verity": "hash", "VerityMatchKey": "store", "Minimize": "best"}},
  {"id": "20-store", "repartConfig": {"Type": "usr", "Format": "erofs", "Verity": "data", "VerityMatchKey": "store", "Minimize": "best"},
   "closure": "$work/store-paths"}]}
JSON
mkdir -p "$work/repart.d"
printf '[Partition]\nType=usr-verity\nVerity=hash\nVerityMatchKey=store\nMinimize=best\n' > "$work/repart.d/10-store-verity.conf"
printf '[Partition]\nType=usr\nFormat=erofs\nVerity=data\nVerityMatchKey=store\nMinimize=best\nCopyFiles=%s:/nix/store\n' \
  "$work/nix/store" > "$work/repart.d/20-store.conf"

. bench/lib.sh
export PATH="$reference:$PATH" SOURCE_DATE_EPOCH=1700000000
ours=$(measure "nix-repart" "rm -rf '$work/out' && '$bin' build '$work/spec.json' -o '$work/out'")
theirs=$(measure "systemd-repart" "cd '$work' && rm -f ref.raw && systemd-repart --definitions='$work/repart.d' \
  --empty=create --size=auto --sector-size=512 --offline=yes --dry-run=no --seed=$seed --json=short \
  --no-pager ref.raw > '$work/ref.json'")
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[0][sys.argv[2]])" "$1" "$2"; }
echo "closure: $(wc -l < "$work/store-paths") store paths, $(du -sb "$work/nix/store" | cut -f1) bytes; $(nproc) cores"
printf '%-16s %8s %8s %12s\n' tool wall_s cpu_s peak_rss_kb
for row in "$ours" "$theirs"; do printf '%-16s %8s %8s %12s\n' $row; done
echo "hash partition bytes: nix-repart $(field "$work/out/repart-output.json" raw_size), systemd-repart $(field "$work/ref.json" raw_size)"
ours_hash=$(field "$work/out/repart-output.json" roothash)
theirs_hash=$(field "$work/ref.json" roothash)
echo "root hashes: nix-repart $ours_hash, systemd-repart $theirs_hash ($([ "$ours_hash" = "$theirs_hash" ] && echo same || echo different))"
read -r _ wo co ro <<< "$ours"
read -r _ wt ct rt <<< "$theirs"
awk -v wo="$wo" -v wt="$wt" -v co="$co" -v ct="$ct" -v ro="$ro" -v rt="$rt" 'BEGIN {
  printf "ratios nix-repart/systemd-repart: wall %.2f, cpu %.2f, peak rss %.2f\n", wo / wt, co / ct, ro / rt }'
