# Shared by the benchmarks that compare nix-repart with another tool in the
# same run (ext4.sh, verity.sh, qcow2.sh); sourced, after `work` is set.

# measure LABEL COMMAND: runs COMMAND in bash under /usr/bin/time and prints
# "LABEL wall_s cpu_s peak_rss_kb"; its stderr goes to $work/stderr-LABEL,
# shown if it fails.
measure() {
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" bash -c "$2" > /dev/null 2> "$work/stderr-$1" || { cat "$work/stderr-$1" >&2; exit 1; }
  read -r wall user sys rss < "$work/time"
  echo "$1 $wall $(awk "BEGIN{print $user + $sys}") $rss"
}

# measure_disk LABEL COMMAND: as measure, and also the most disk the
# command used beyond what it leaves behind (scratch: staging trees, trial
# images, copies), sampled every 0.1 s on the filesystem of $work. Prints
# "LABEL wall_s cpu_s peak_rss_kb scratch_bytes". The sampler is ended by
# its PID.
measure_disk() {
  sync
  local before after peak
  before=$(df --output=used -B1 "$work" | tail -n 1)
  echo "$before" > "$work/disk-peak"
  (
    while :; do
      now=$(df --output=used -B1 "$work" | tail -n 1)
      [ "$now" -le "$(cat "$work/disk-peak")" ] || echo "$now" > "$work/disk-peak"
      sleep 0.1
    done
  ) &
  local sampler=$!
  local row
  row=$(measure "$1" "$2")
  kill "$sampler"
  wait "$sampler" 2>/dev/null || true
  sync
  after=$(df --output=used -B1 "$work" | tail -n 1)
  peak=$(cat "$work/disk-peak")
  echo "$row $((peak > after ? peak - after : 0))"
}
