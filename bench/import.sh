#!/usr/bin/env bash
# Roster import benchmark (issue: 会员实名制 speed targets).
#
#   bash bench/import.sh            # 1,000,000 rows (N=… to change), SQLite
#   PG_URL=postgres://… bash bench/import.sh   # also PostgreSQL
#
# Generates a realistic roster with `gonghui gen members`, then in the same
# run times (1) sqlite3's `.import` of that CSV into a bare table — the floor
# for "reading a CSV into SQLite" — and (2) `gonghui import members` with full
# validation (GB 11643, phones, enumerations), dedupe, AES-GCM encryption,
# keyed hashes, pinyin, one-membership rule and 会籍变化 events, in one
# transaction. Also a 100,000-row .xlsx import. Prints medians of RUNS runs.
#
# And (3) the floor of our schema: the sqlite3 shell copying the rows an
# import stored (persons, memberships, 会籍变化 events) into an empty WAL
# database with the same tables and indexes, INSERT … SELECT in one
# transaction — what SQLite alone needs for our rows and indexes, without
# reading a file, validating, encrypting or deciding anything.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
XLSX_N=${XLSX_N:-100000}
RUNS=${RUNS:-3}
cargo build --release -q
BIN=$PWD/target/release/gonghui
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export GONGHUI_LOG=error GONGHUI_MASTER_KEY=$(printf '42%.0s' $(seq 32))

"$BIN" gen members --count "$N" --out "$W/m.csv" --seed 42 --data-dir "$W/gen" >/dev/null
"$BIN" gen members --count "$XLSX_N" --out "$W/m.xlsx" --seed 43 --data-dir "$W/gen" >/dev/null
echo "rows=$N csv=$(du -h "$W/m.csv" | cut -f1) machine: $(nproc) cores, $(uname -m), $(date -u +%F)"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bare=(); ours=(); xl=(); floor=()
for r in $(seq "$RUNS"); do
  rm -f "$W/bare.db"
  t0=$(now); sqlite3 "$W/bare.db" ".import --csv $W/m.csv t"; t1=$(now)
  bare+=("$(echo "$t1 - $t0" | bc)")

  rm -rf "$W/data"; "$BIN" demo --no-serve --data-dir "$W/data" >/dev/null
  t0=$(now); out=$("$BIN" import members "$W/m.csv" --data-dir "$W/data" 2>/dev/null | tail -1); t1=$(now)
  ours+=("$(echo "$t1 - $t0" | bc)")
  echo "run $r: sqlite3 .import ${bare[-1]}s, gonghui import ${ours[-1]}s ($out)"

  # (WHERE 1 keeps SQLite from copying whole tables and indexes page by page
  # (its transfer optimisation), which an import cannot do; the random-key
  # indexes are built after the rows, as a large import does.)
  rm -f "$W/floor.db"
  late='persons_phone|persons_name|persons_pinyin|persons_initials|memberships_org|membership_events_org|membership_events_org_date'
  for t in persons memberships membership_events; do
    sqlite3 "$W/data/gonghui.db" ".schema $t"
  done | sed 's/REFERENCES [a-z_]*([a-z_]*)//' > "$W/schema.sql"
  grep -Ev "^CREATE INDEX ($late) " "$W/schema.sql" | sqlite3 "$W/floor.db"
  sqlite3 "$W/floor.db" "PRAGMA journal_mode=WAL" >/dev/null
  t0=$(now)
  { echo "PRAGMA cache_size=-1048576; ATTACH '$W/data/gonghui.db' AS src; BEGIN;
    INSERT INTO persons SELECT * FROM src.persons WHERE 1;
    INSERT INTO memberships SELECT * FROM src.memberships WHERE 1;
    INSERT INTO membership_events SELECT * FROM src.membership_events WHERE 1;"
    grep -E "^CREATE INDEX ($late) " "$W/schema.sql"
    echo "COMMIT;"; } | sqlite3 "$W/floor.db"
  t1=$(now)
  floor+=("$(echo "$t1 - $t0" | bc)")
  echo "run $r: sqlite3 INSERT … SELECT of the stored rows into our schema ${floor[-1]}s"

  rm -rf "$W/data"; "$BIN" demo --no-serve --data-dir "$W/data" >/dev/null
  t0=$(now); "$BIN" import members "$W/m.xlsx" --data-dir "$W/data" >/dev/null 2>&1; t1=$(now)
  xl+=("$(echo "$t1 - $t0" | bc)")
  echo "run $r: xlsx ${XLSX_N} rows ${xl[-1]}s"
done
mb=$(printf '%s\n' "${bare[@]}" | median); mo=$(printf '%s\n' "${ours[@]}" | median); mx=$(printf '%s\n' "${xl[@]}" | median)
mf=$(printf '%s\n' "${floor[@]}" | median)
echo "median sqlite3 .import: ${mb}s ($(echo "$N / $mb" | bc) rows/s)"
echo "median gonghui import:  ${mo}s ($(echo "$N / $mo" | bc) rows/s)"
echo "ratio gonghui/sqlite3:  $(echo "scale=2; $mo / $mb" | bc)x"
echo "median schema floor:    ${mf}s = $(echo "scale=2; $mf / $mb" | bc)x the bare load (gonghui = $(echo "scale=2; $mo / $mf" | bc)x the floor)"
echo "median xlsx ${XLSX_N} rows: ${mx}s ($(echo "$XLSX_N / $mx" | bc) rows/s)"

if [ -n "${PG_URL:-}" ]; then
  db="gh_bench_$$"
  psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
  url="${PG_URL%/*}/$db"
  rm -rf "$W/pg"; "$BIN" demo --no-serve --data-dir "$W/pg" --database-url "$url" >/dev/null
  t0=$(now); out=$("$BIN" import members "$W/m.csv" --data-dir "$W/pg" --database-url "$url" 2>/dev/null | tail -1); t1=$(now)
  t=$(echo "$t1 - $t0" | bc)
  echo "postgresql import: ${t}s ($(echo "$N / $t" | bc) rows/s) ($out)"
  psql "$PG_URL" -qc "DROP DATABASE $db" >/dev/null
fi
