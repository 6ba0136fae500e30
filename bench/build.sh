#!/usr/bin/env bash
# Incremental build time of the test targets after an edit in one module:
# touches FILE (default: the members crate's transfer.rs) and times
# `cargo test --workspace --no-run`, RUNS times (default 3), printing each
# time and the median. Run from any checkout:
#
#   bash bench/build.sh [FILE]
#
# Compare with an older layout by running the same script against its
# checkout (e.g. a git worktree of an older commit) with FILE set to that
# layout's path of the same module file.
set -euo pipefail
cd "$(dirname "$0")/.."
FILE="${1:-crates/members/src/transfer.rs}"
RUNS="${RUNS:-3}"
[ -f "$FILE" ] || { echo "no such file: $FILE" >&2; exit 1; }
cargo test --workspace --no-run --quiet 2>/dev/null # warm: everything built once
times=()
for _ in $(seq 1 "$RUNS"); do
  printf '\n// touched by bench/build.sh\n' >> "$FILE"
  start=$(date +%s.%N)
  cargo test --workspace --no-run --quiet 2>/dev/null
  end=$(date +%s.%N)
  # restore the file exactly (the next run touches it again)
  head -n -2 "$FILE" > "$FILE.tmp" && mv "$FILE.tmp" "$FILE"
  t=$(echo "$end - $start" | bc)
  times+=("$t")
  echo "run: ${t}s"
done
cargo test --workspace --no-run --quiet 2>/dev/null # leave the build matching the file
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median: " a[int((NR+1)/2)] "s"}'
