#!/usr/bin/env bash
# API fuzzing: schemathesis against /api/v1/openapi.json of a real
# `gonghui demo` server, signed in as the city admin (session cookie and
# X-CSRF-Token header), with bounded examples and a time budget. Fails on a
# 5xx (not_a_server_error) or a response that does not match the document
# (response_schema_conformance). Runs from any cwd, reads no stdin, installs
# schemathesis with pip when missing (pinned below).
#
#   bash e2e/fuzz.sh
#
# Environment (all optional):
#   CARGO_TARGET_DIR     where cargo builds (default <repo>/target)
#   FUZZ_MAX_EXAMPLES    test cases per operation and phase (default 20)
#   FUZZ_MAX_TIME        time budget of the schemathesis run, s (default 180)
#   FUZZ_USER            the account signed in (default sf_admin)
#   FUZZ_SEED            hypothesis seed (default 2026: the same cases each run)
#   FUZZ_KEEP=1          keep the temporary dir (server log, report)
set -euo pipefail
exec </dev/null

SCHEMATHESIS_VERSION=4.32.5
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-20}"
MAX_TIME="${FUZZ_MAX_TIME:-180}"
USER_NAME="${FUZZ_USER:-sf_admin}"
SEED="${FUZZ_SEED:-2026}"
START_TIMEOUT=240

log() { echo "[fuzz] $*"; }

# --- schemathesis, pinned ---
if ! command -v schemathesis >/dev/null 2>&1 \
  || [ "$(schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  log "pip install schemathesis==$SCHEMATHESIS_VERSION"
  python3 -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
ST="$(command -v schemathesis || echo "python3 -m schemathesis.cli")"
log "$($ST --version)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gonghui-fuzz.XXXXXX")"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${FUZZ_KEEP:-}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the binary (copied, so a concurrent build cannot swap it) ---
cd "$ROOT"
log "cargo build"
cargo build --quiet -p gonghui --bin gonghui
cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/gonghui" "$WORK/gonghui"

# --- the demo server on a fresh data dir and a free port ---
log "starting gonghui demo (data dir $WORK/data)"
NO_COLOR=1 GONGHUI_LOG="${GONGHUI_LOG:-warn}" "$WORK/gonghui" demo --data-dir "$WORK/data" \
  --listen 127.0.0.1:0 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
BASE_URL=""
deadline=$((SECONDS + START_TIMEOUT))
while :; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "[fuzz] FAIL: the server exited before it was ready" >&2
    tail -n 100 "$SERVER_LOG" >&2
    exit 1
  fi
  [ -n "$BASE_URL" ] || BASE_URL="$(grep -aoE 'http://127\.0\.0\.1:[0-9]+/' "$SERVER_LOG" | head -n 1 || true)"
  if [ -n "$BASE_URL" ] && curl -fsS -m 3 "${BASE_URL}healthz" >/dev/null 2>&1; then break; fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "[fuzz] FAIL: no answer from ${BASE_URL:-the server}healthz within ${START_TIMEOUT}s" >&2
    tail -n 100 "$SERVER_LOG" >&2
    exit 1
  fi
  sleep 0.5
done
log "server ready at $BASE_URL"

# --- sign in through the real form: the session cookie and its CSRF token ---
read -r SESSION CSRF < <(python3 - "$BASE_URL" "$USER_NAME" <<'PY'
import re, sys, requests
base, user = sys.argv[1], sys.argv[2]
s = requests.Session()
tok = lambda html: re.search(r'name="(?:_csrf" value|csrf-token" content)="([^"]+)"', html).group(1)
t = tok(s.get(base + "login").text)
r = s.post(base + "login", data={"_csrf": t, "username": user, "password": "Demo@2026", "next": "/orgs"})
r.raise_for_status()
print(s.cookies["gh_session"], tok(r.text))
PY
)
[ -n "$SESSION" ] && [ -n "$CSRF" ] || { echo "[fuzz] FAIL: sign-in as $USER_NAME" >&2; exit 1; }
log "signed in as $USER_NAME"

# --- the fuzzing run (from the work dir: schemathesis keeps a cache in its cwd) ---
cd "$WORK"
start=$SECONDS
status=0
$ST run "${BASE_URL}api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  --generation-database none \
  --header "Cookie: gh_session=$SESSION" \
  --header "X-CSRF-Token: $CSRF" \
  --report junit --report-dir "$WORK/report" \
  --no-color || status=$?
log "schemathesis finished in $((SECONDS - start)) s (exit $status)"
if grep -aq "panicked" "$SERVER_LOG"; then
  echo "[fuzz] FAIL: the server panicked:" >&2
  grep -a -A5 "panicked" "$SERVER_LOG" | head -n 40 >&2
  status=1
fi
if [ "$status" -ne 0 ]; then tail -n 60 "$SERVER_LOG" >&2; fi
exit "$status"
