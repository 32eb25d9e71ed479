#!/usr/bin/env bash
# Fuzzes the spec reader and inspect's GPT reader with cargo-fuzz
# (libFuzzer), each target for SECONDS (default 600), both at once (one
# core each). Not part of .ci/run: it needs a nightly toolchain and time.
#
#   bash tests/fuzz.sh [SECONDS] [TARGET...]     targets: spec gpt
#
# Seeds come from fuzz/seeds/<target>; the corpus grows in fuzz/corpus
# (not committed). A crash is copied to fuzz/regressions/<target>/, which
# the crates' fuzz_regressions tests replay on every test run, and the
# script exits 1. Prints each target's executions and corpus size.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
targets=("${@:-spec}")
[ $# -gt 0 ] || targets=(spec gpt)

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
rustup toolchain list | grep -q '^nightly' || { echo "error: cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2; exit 1; }

pids=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target" "regressions/$target"
  cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
  cargo +nightly fuzz build -O "$target" >/dev/null
  cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="artifacts/$target/" >"fuzz-$target.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  if ! wait "${pids[$i]}"; then
    status=1
  fi
  echo "$target: $(grep -E '^(#[0-9]+|Done)' "fuzz-$target.log" | tail -1)"
  for crash in "artifacts/$target"/*; do
    [ -e "$crash" ] || continue
    cp "$crash" "regressions/$target/"
    echo "$target: crash saved as regressions/$target/$(basename "$crash")"
    status=1
  done
done
exit $status
