#!/usr/bin/env bash
# Browser page tests: Debian's chromium driven by playwright-core against the
# real `gonghui demo` server. Runs from any cwd, reads no stdin, installs what
# it needs (chromium via apt-get, playwright-core via `npm ci`).
#
#   bash e2e/run.sh
#
# Environment (all optional):
#   CARGO_TARGET_DIR        where cargo builds (default <repo>/target)
#   CHROMIUM                browser binary (default /usr/bin/chromium)
#   E2E_START_TIMEOUT       seconds to wait for /healthz (default 240)
#   E2E_KEEP_DATA=1         keep the temporary data dir (its path is printed)
# Screenshots land in e2e/out/ (gitignored).
set -euo pipefail
exec </dev/null

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
START_TIMEOUT="${E2E_START_TIMEOUT:-240}"

log() { echo "[e2e] $*"; }

# --- browser: Debian's chromium (playwright's own browser download cannot work
# here), and a Chinese font so the screenshots show characters, not boxes ---
APT_PKGS=()
[ -x "$CHROMIUM" ] || APT_PKGS+=(chromium)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  APT_PKGS+=(fonts-noto-cjk)
fi
if [ "${#APT_PKGS[@]}" -gt 0 ]; then
  log "installing ${APT_PKGS[*]} (apt-get)"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT_PKGS[@]}" >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "[e2e] FAIL: no chromium at $CHROMIUM" >&2
  exit 1
fi
log "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

# --- playwright-core, exactly as locked ---
log "npm ci"
(cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error)

# --- a temporary work dir (binary copy, data dir, server log), removed at exit,
# and the server stopped at exit whatever happens ---
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gonghui-e2e.XXXXXX")"
DATA="$WORK/data"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""
TEST_PID=""

print_server_log() {
  echo "----- server log ($SERVER_LOG) -----" >&2
  tail -n 200 "$SERVER_LOG" >&2 || true
  echo "----- end of server log -----" >&2
}

cleanup() {
  local rc=$?
  if [ -n "$TEST_PID" ] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM "$TEST_PID" 2>/dev/null || true
    wait "$TEST_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${E2E_KEEP_DATA:-}" = 1 ]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the binary ---
cd "$ROOT"
log "cargo build"
# The path cargo reports (respects CARGO_TARGET_DIR); copied at once so another
# build sharing the target dir cannot swap the binary under the test.
BUILT="$(cargo build --quiet -p gonghui --bin gonghui --message-format=json-render-diagnostics \
  | node -e '
      let out = "";
      require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
        try {
          const m = JSON.parse(l);
          if (m.reason === "compiler-artifact" && m.executable && m.target.name === "gonghui") out = m.executable;
        } catch {}
      }).on("close", () => console.log(out));
    ')"
if [ -z "$BUILT" ] || [ ! -x "$BUILT" ]; then
  echo "[e2e] FAIL: cargo did not report a gonghui binary" >&2
  exit 1
fi
BIN="$WORK/gonghui"
cp "$BUILT" "$BIN"

# --- the demo server on a fresh data dir and a free loopback port ---
# Port 0: the kernel picks a free port and the server prints the address it
# bound ("智慧工会 Gonghui: http://127.0.0.1:PORT/"), so no other process can
# take the port between choosing and binding it.
log "starting gonghui demo (data dir $DATA)"
: >"$SERVER_LOG"
NO_COLOR=1 GONGHUI_LOG="${GONGHUI_LOG:-info}" "$BIN" demo --data-dir "$DATA" --listen 127.0.0.1:0 \
  >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

BASE_URL=""
deadline=$((SECONDS + START_TIMEOUT))
while :; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "[e2e] FAIL: the server exited before it was ready" >&2
    print_server_log
    exit 1
  fi
  if [ -z "$BASE_URL" ]; then
    BASE_URL="$(grep -aoE 'http://127\.0\.0\.1:[0-9]+/' "$SERVER_LOG" | head -n 1 || true)"
  fi
  if [ -n "$BASE_URL" ] && node -e '
      fetch(process.argv[1] + "healthz", { signal: AbortSignal.timeout(3000) })
        .then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1));
    ' "$BASE_URL"; then
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "[e2e] FAIL: the server did not answer ${BASE_URL:-<no address printed yet>}healthz within ${START_TIMEOUT}s" >&2
    print_server_log
    exit 1
  fi
  sleep 0.5
done
log "server ready at $BASE_URL (pid $SERVER_PID)"

# --- the tests ---
mkdir -p "$E2E_DIR/out"
# In the background and waited for, so an INT/TERM to this script is handled
# at once (cleanup stops the tests, whose playwright closes the browser).
GONGHUI_URL="$BASE_URL" CHROMIUM="$CHROMIUM" E2E_OUT="$E2E_DIR/out" node "$E2E_DIR/tests.mjs" &
TEST_PID=$!
status=0
wait "$TEST_PID" || status=$?
TEST_PID=""
if [ "$status" -ne 0 ]; then
  print_server_log
fi
exit "$status"
