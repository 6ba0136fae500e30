#!/usr/bin/env bash
# Sign-in latency during a large roster import on SQLite (issue 9, item 6:
# "Login p99 during a large import is recorded"). Figures: BENCHMARKS.md, "Sign-ins during a large roster import".
#
#   bash bench/import_lock.sh            # 1,000,000 rows (N=… to change)
#   MODES="chunked single" bash bench/import_lock.sh
#
# For each mode: a fresh demo instance (SQLite), `gonghui serve` on a local
# port, then bench/login_probe.py signs in 20 times idle, uploads the roster
# as sf_admin (the server's own import, as from the import page) and signs in
# as qinchuan_admin over and over until the import has finished, printing the
# sign-ins' p50/p99/max during the import and the import's wall time.
#
# Modes (one release binary; the import's chunking is read from the
# environment at server start, see members::import::Chunking):
#   single   GONGHUI_IMPORT_CHUNK_ROWS=0: one transaction for the whole file,
#            holding the writer throughout — the import as it was before
#            chunks (and as all-or-nothing still is);
#   chunked  the default: a commit every 20,000 rows or 200 ms; a large
#            import drops the random-key indexes for its length (noted, so
#            a crash gets them rebuilt at the next start) and rebuilds them
#            at the end, one short transaction each;
#   live     chunked with every index kept live (GONGHUI_IMPORT_CHUNK_DEFER=0).
# CHUNK_ROWS / CHUNK_MS override the chunked mode's limits.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
MODES=${MODES:-"single chunked"}
PORT=${PORT:-18517}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p gonghui --bin gonghui
BIN=${BIN:-$PWD/target/release/gonghui}
W=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
# The import's own log lines (chunks, index rebuilds) are kept for the notes.
export GONGHUI_LOG=${GONGHUI_LOG:-warn,gonghui_members=info} GONGHUI_MASTER_KEY=$(printf '42%.0s' $(seq 32))

"$BIN" gen members --count "$N" --out "$W/m.csv" --seed 42 --data-dir "$W/gen" >/dev/null
echo "rows=$N csv=$(du -h "$W/m.csv" | cut -f1) machine: $(nproc) cores, $(uname -m), $(date -u '+%F %T') load: $(cut -d' ' -f1-3 /proc/loadavg)"

for mode in $MODES; do
  rm -rf "$W/data"
  "$BIN" demo --no-serve --data-dir "$W/data" >/dev/null
  case $mode in
    single) rows=0; ms=0; defer=1 ;;
    chunked) rows=${CHUNK_ROWS:-20000}; ms=${CHUNK_MS:-200}; defer=1 ;;
    live) rows=${CHUNK_ROWS:-20000}; ms=${CHUNK_MS:-200}; defer=0 ;;
    *) echo "unknown mode $mode" >&2; exit 1 ;;
  esac
  GONGHUI_IMPORT_CHUNK_ROWS=$rows GONGHUI_IMPORT_CHUNK_MS=$ms GONGHUI_IMPORT_CHUNK_DEFER=$defer \
    "$BIN" serve --data-dir "$W/data" --listen "127.0.0.1:$PORT" 2>"$W/server-$mode.log" &
  server=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.2
  done
  python3 bench/login_probe.py "http://127.0.0.1:$PORT" "$W/m.csv" "$mode"
  grep -hE "bulk import|deferred index" "$W/server-$mode.log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-400 || true
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
