#!/usr/bin/env bash
# Benchmark: `nix-repart plan` against `nix-repart build` on a squashfs store
# of a generated closure (from this machine's /usr; default 1.2 GB, 40000
# files), same machine, same run: wall time of the estimating plan, of
# `plan --exact` and of the build, their ratios, and how far the estimate
# is from the built size. The build runs with stderr in a file, as in a Nix
# log: the largest gap between two progress lines is printed too. Not a
# test: it asserts nothing.
#
#   bash bench/plan.sh [BYTES FILES [COMPRESSION]]   (default: 1200000000 40000 gzip)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-1200000000}
files=${2:-40000}
compression=${3:-gzip}
work=$(mktemp -d /var/tmp/nix-repart-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/nix-repart
python3 bench/closure-from-usr.py "$work/nix/store" "$bytes" "$files" > "$work/store-paths"
cat > "$work/spec.json" <<JSON
{"version": 1, "name": "store", "partitions": [
  {"id": "10-esp", "repartConfig": {"Type": "esp", "Format": "vfat", "SizeMinBytes": "64M"}},
  {"id": "20-store", "repartConfig": {"Type": "usr", "Format": "squashfs", "Minimize": "best",
                                      "Compression": "$compression"},
   "closure": "$work/store-paths"}]}
JSON
cat "$work"/nix/store/* > /dev/null 2>&1 || true   # a warm page cache for all three

seconds() { # STDOUT_FILE STDERR_FILE command... -> wall seconds
  local start end out=$1 err=$2
  shift 2
  start=$(date +%s.%N)
  "$@" > "$out" 2> "$err"
  end=$(date +%s.%N)
  awk "BEGIN{printf \"%.2f\", $end - $start}"
}
plan_s=$(seconds "$work/plan.json" /dev/null "$bin" plan "$work/spec.json")
exact_s=$(seconds "$work/exact.json" /dev/null "$bin" plan --exact "$work/spec.json")
build_s=$(seconds /dev/null "$work/build.log" "$bin" build "$work/spec.json" -o "$work/out")
size() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['partitions'][1]['contentSize'])" "$1"; }
estimate=$(size "$work/plan.json")
built=$(size "$work/exact.json")
gap=$(python3 - "$work/build.log" <<'PY'
import re, sys
t = [float(m.group(1)) for m in (re.match(r"nix-repart: \[\s*([0-9.]+) s\]", l) for l in open(sys.argv[1])) if m]
print(f"{max((b - a for a, b in zip(t, t[1:])), default=0):.1f} s over {len(t)} lines")
PY
)
echo "closure: $(du -sb "$work/nix/store" | cut -f1) bytes, $(find "$work/nix/store" -type f | wc -l) files, $compression, $(nproc) cores"
echo "build            ${build_s} s"
echo "plan --exact     ${exact_s} s   ratio to build $(awk "BEGIN{printf \"%.3f\", $exact_s / $build_s}")"
echo "plan (estimate)  ${plan_s} s   ratio to build $(awk "BEGIN{printf \"%.3f\", $plan_s / $build_s}")"
echo "estimate ${estimate} bytes, built ${built} bytes: $(awk "BEGIN{printf \"%+.2f\", ($estimate - $built) * 100 / $built}") %"
echo "largest gap between progress lines in the build log: $gap"
echo "--- end of the build log:"
tail -n 12 "$work/build.log"
