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
