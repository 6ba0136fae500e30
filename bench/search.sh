#!/usr/bin/env bash
# Roster search latency on N (default 1,000,000) generated members, SQLite.
#   bash bench/search.sh [N]
# Builds the roster with `gonghui gen members` + `gonghui import members`
# (release build), then runs benches/search.rs: p50/p99 per kind of query,
# at city scope and at one county's scope.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
cargo build --release -q
BIN=$PWD/target/release/gonghui
W=${KEEP_DIR:-$(mktemp -d)}
export GONGHUI_LOG=error GONGHUI_MASTER_KEY=$(printf '42%.0s' $(seq 32))
if [ ! -f "$W/data/gonghui.db" ]; then
  "$BIN" gen members --count "$N" --out "$W/m.csv" --seed 42 --data-dir "$W/gen" >/dev/null
  "$BIN" demo --no-serve --data-dir "$W/data" >/dev/null
  "$BIN" import members "$W/m.csv" --data-dir "$W/data" 2>/dev/null | tail -1
fi
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F)"
cargo bench -q --bench search -- "$W/data" 42 "$N"
