#!/usr/bin/env bash
# HTTP load test of card verification + voucher redemption on SQLite
# (issue 11, "Speed"): the running server, 1,000,000 members, 10,000
# vouchers, wrk on loopback. Figures: bench/REDEEM_LOAD.md.
#
#   bash bench/redeem_load.sh                # N=1000000 VOUCHERS=10000
#   WORK=/tmp/rl bash bench/redeem_load.sh   # keep the roster instance for a rerun
#   PERF=1 …                                 # also profile the server in run B
#   PERF_G="--call-graph dwarf" PERF=1 …    # with call stacks through C code
#
# 1. A fresh demo instance (SQLite, GONGHUI_MASTER_KEY fixed) and the
#    `gonghui gen members --count N --seed 42` roster imported with
#    `gonghui import members` (kept in $WORK/base when WORK is set; a rerun
#    copies it instead of importing again).
# 2. On a copy: `gonghui bench-redeem` (hidden command, src/bench_setup.rs)
#    issues cards to VOUCHERS members spread over the roster through
#    members::card::issue_in_tx and one voucher campaign of the federation
#    with a voucher for each, accepted at the demo clerk's shop, and writes
#    the cards' signed QR tokens; a second, smaller campaign (RACE vouchers)
#    for the two-counter race.
# 3. `gonghui serve` on 127.0.0.1:PORT; bench/redeem_clerk.py signs in as
#    merchant_clerk (form + _csrf) and hands over the session cookie and the
#    x-csrf-token the API wants on a POST.
# 4. Run A: wrk GET /healthz. Run B: wrk POST /api/v1/benefits/redeem with
#    bench/redeem_load.lua (each token once, split over the threads; the run
#    ends when every voucher is answered or at D_REDEEM). Same -t/-c.
# 5. Run C, the race: two wrk processes, each a session of the clerk (two
#    counters), send the same RACE tokens in the same order at once: each
#    voucher must be redeemed exactly once, the other answer 409.
# 6. The server stopped, counts from the database: redemption rows,
#    distinct vouchers among them, vouchers used, audit entries — they must
#    equal the 2xx answers (no lost, no double redemption).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
VOUCHERS=${VOUCHERS:-10000}
RACE=${RACE:-2000}
PORT=${PORT:-18519}
THREADS=${THREADS:-2}
CONNS=${CONNS:-8}
D_HEALTH=${D_HEALTH:-20s}
D_REDEEM=${D_REDEEM:-60s}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p gonghui --bin gonghui
BIN=${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/gonghui}
if [ -n "${WORK:-}" ]; then W=$WORK; mkdir -p "$W"; keep=1; else W=$(mktemp -d); keep=""; fi
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  if [ -z "$keep" ]; then rm -rf "$W"; else rm -rf "$W/data"; fi
}
trap cleanup EXIT
export GONGHUI_LOG=${GONGHUI_LOG:-warn,gonghui_reports=info} GONGHUI_MASTER_KEY=$(printf '42%.0s' $(seq 32))

echo "machine: $(nproc) cores, $(uname -m), $(date -u '+%F %T') UTC, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$W/base/ready" ]; then
  rm -rf "$W/base"
  "$BIN" gen members --count "$N" --out "$W/m.csv" --seed 42 --data-dir "$W/gen" >/dev/null
  "$BIN" demo --no-serve --data-dir "$W/base" >/dev/null
  t0=$(date +%s.%N)
  "$BIN" import members "$W/m.csv" --data-dir "$W/base" | tail -1
  echo "import of $N members: $(echo "$(date +%s.%N) - $t0" | bc) s"
  rm -f "$W/m.csv"
  touch "$W/base/ready"
fi
rm -rf "$W/data"
cp -a "$W/base" "$W/data"
DB=$W/data/gonghui.db
q() { sqlite3 "$DB" "$1"; }
echo "instance: members=$(q "SELECT COUNT(*) FROM memberships") persons=$(q "SELECT COUNT(*) FROM persons") cards=$(q "SELECT COUNT(*) FROM cards") db=$(du -h "$DB" | cut -f1)"

out=$("$BIN" bench-redeem --vouchers "$VOUCHERS" --tokens "$W/tokens.txt" --data-dir "$W/data")
CID=${out#campaign_id=}; CID=${CID%% *}
out_race=$("$BIN" bench-redeem --vouchers "$RACE" --tokens "$W/race.txt" --data-dir "$W/data")
RCID=${out_race#campaign_id=}; RCID=${RCID%% *}
echo "fixture: $out; race: $out_race; cards now $(q "SELECT COUNT(*) FROM cards")"

"$BIN" serve --data-dir "$W/data" --listen "127.0.0.1:$PORT" 2>"$W/server.log" &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
# The server warms the city dashboard's statistics cache at start (seconds
# over a million members, on the same 2 cores): wait for it before run A.
t0=$(date +%s)
for _ in $(seq 600); do
  grep -q "statistics cache warm" "$W/server.log" && break
  sleep 0.2
done
echo "statistics warm-up at start done after ~$(( $(date +%s) - t0 )) s (waited before the runs)"
URL=http://127.0.0.1:$PORT
mapfile -t s1 < <(python3 bench/redeem_clerk.py "$URL")
mapfile -t s2 < <(python3 bench/redeem_clerk.py "$URL")
[ "${#s1[@]}" = 2 ] && [ "${#s2[@]}" = 2 ] || { echo "the clerk's sign-in failed (server log: $W/server.log)"; tail -20 "$W/server.log"; exit 1; }

echo "== A: wrk -t$THREADS -c$CONNS -d$D_HEALTH --latency $URL/healthz"
wrk -t"$THREADS" -c"$CONNS" -d"$D_HEALTH" --latency "$URL/healthz" | tee "$W/a.txt"
echo "== B: wrk -t$THREADS -c$CONNS -d$D_REDEEM --latency -s bench/redeem_load.lua $URL -- tokens.txt $CID $THREADS"
# PERF=1: the server's profile during run B (perf record -g, first 12 s).
if [ -n "${PERF:-}" ]; then
  perf record -F 999 ${PERF_G:--g} -p "$server" -o "$W/perf.data" -- sleep 12 2>/dev/null &
  perf_pid=$!
fi
REDEEM_COOKIE=${s1[0]} REDEEM_CSRF=${s1[1]} \
  wrk -t"$THREADS" -c"$CONNS" -d"$D_REDEEM" --latency -s bench/redeem_load.lua "$URL" -- "$W/tokens.txt" "$CID" "$THREADS" | tee "$W/b.txt"
# The counter writer's batches (mean = redemptions / batches).
curl -s "$URL/metrics" | grep -E "^gonghui_counter_(batches|redemptions)_total" | tr '\n' ' '; echo
if [ -n "${PERF:-}" ]; then
  wait "$perf_pid" || true
  perf report -i "$W/perf.data" --no-children --sort comm,dso -g none --percent-limit 2 --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -20
  perf report -i "$W/perf.data" --no-children --sort sym -g none --percent-limit 0.7 --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -40
fi
echo "== C: race, two sessions × wrk -t1 -c4 over the same $RACE tokens"
REDEEM_COOKIE=${s1[0]} REDEEM_CSRF=${s1[1]} \
  wrk -t1 -c4 -d30s -s bench/redeem_load.lua "$URL" -- "$W/race.txt" "$RCID" 1 >"$W/c1.txt" &
c1=$!
REDEEM_COOKIE=${s2[0]} REDEEM_CSRF=${s2[1]} \
  wrk -t1 -c4 -d30s -s bench/redeem_load.lua "$URL" -- "$W/race.txt" "$RCID" 1 >"$W/c2.txt"
wait $c1
grep -h REDEEM "$W/c1.txt" "$W/c2.txt"
kill "$server"; wait "$server" 2>/dev/null || true; server=""
grep -ciE "error|panic" "$W/server.log" | sed 's/^/server log lines with error|panic: /' || true

field() { grep -o "$1=[0-9.]*" "$2" | head -1 | cut -d= -f2; }
health_rps=$(grep "Requests/sec" "$W/a.txt" | awk '{print $2}')
ok=$(field ok_2xx "$W/b.txt"); rate=$(field redemptions_per_s "$W/b.txt")
echo "== counts after the run (server stopped)"
check() { # label campaign 2xx-answers
  local rows distinct used audit
  rows=$(q "SELECT COUNT(*) FROM redemptions WHERE campaign_id = $2")
  distinct=$(q "SELECT COUNT(DISTINCT voucher_id) FROM redemptions WHERE campaign_id = $2")
  used=$(q "SELECT COUNT(*) FROM vouchers WHERE campaign_id = $2 AND status = 'redeemed'")
  audit=$(q "SELECT COUNT(*) FROM audit_log a JOIN redemptions r ON a.object_type = 'redemption' AND r.id = CAST(a.object_id AS INTEGER) WHERE a.action = 'benefit.redeem' AND r.campaign_id = $2")
  local verdict=OK
  [ "$rows" = "$3" ] && [ "$distinct" = "$3" ] && [ "$used" = "$3" ] && [ "$audit" = "$3" ] || verdict=MISMATCH
  echo "$1: 2xx=$3 redemption_rows=$rows distinct_vouchers=$distinct vouchers_used=$used audit_entries=$audit -> $verdict"
}
check "B (load)" "$CID" "$ok"
race_ok=$(( $(field ok_2xx "$W/c1.txt") + $(field ok_2xx "$W/c2.txt") ))
check "C (race)" "$RCID" "$race_ok"
echo "audit chain: $("$BIN" audit verify --data-dir "$W/data" | tail -1)"
echo "SUMMARY healthz_rps=$health_rps redemptions_per_s=$rate ratio=$(echo "scale=3; $rate / $health_rps" | bc) p50/p99 in run B line above"
