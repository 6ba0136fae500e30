-- wrk script of bench/redeem_load.sh: POST /api/v1/benefits/redeem, each
-- request with the next unused card token of the fixture's campaign, each
-- voucher once.
--
--   wrk -t2 -c8 -d60s --latency -s bench/redeem_load.lua URL -- TOKENS CAMPAIGN THREADS
--   (the clerk's session: REDEEM_COOKIE="name=value; …", REDEEM_CSRF=token)
--
-- Thread k of THREADS takes the lines k+1, k+1+THREADS, … of TOKENS, so no
-- token is sent twice. A thread that has sent all its tokens sends
-- `GET /healthz` on connections that still want a request (wrk asks for
-- one after every response) and stops once every one of its redemptions
-- has been answered; those few tail requests are counted apart (`tail=`)
-- and are in wrk's own totals, not in the redemption figures printed by
-- done(). Redemption answers are counted by status: 2xx, and the others
-- (409 already used, 422 …) apart.

-- wrk's own duration is always the whole -d (its main thread sleeps it
-- out), so the redemption rate is timed here: from the first redemption
-- sent to the last one answered, over all threads (LuaJIT's ffi clock).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } gh_timespec;
  int clock_gettime(int clk, gh_timespec *tp);
]]
local ts = ffi.new("gh_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC, shared by the threads
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local mine = {}
local next_i = 0
local path = "/api/v1/benefits/redeem"
local headers = {}
local campaign = 0
local healthz_body = '{"status":"ok"}'

function init(args)
  local file, nthreads = args[1], tonumber(args[3])
  campaign = tonumber(args[2])
  local k = 0
  for line in io.lines(file) do
    if k % nthreads == id then
      table.insert(mine, line)
    end
    k = k + 1
  end
  headers["Content-Type"] = "application/json"
  headers["Cookie"] = os.getenv("REDEEM_COOKIE")
  headers["x-csrf-token"] = os.getenv("REDEEM_CSRF")
  share = #mine
  ok = 0
  bad = 0
  tail = 0
  tail_sent = 0
  statuses = ""
  t_first = 0
  t_last = 0
end

local verified = false

function request()
  -- wrk calls thread 0's request() once before the run to check what it
  -- returns, and never sends that request: it must not use up a token.
  if id == 0 and not verified then
    verified = true
    return wrk.format("GET", "/healthz")
  end
  next_i = next_i + 1
  if next_i <= #mine then
    if next_i == 1 then
      t_first = now_us()
    end
    local body = '{"token":"' .. mine[next_i] .. '","campaign_id":' .. campaign .. '}'
    return wrk.format("POST", path, headers, body)
  end
  tail_sent = tail_sent + 1
  return wrk.format("GET", "/healthz")
end

local seen = {}

function response(status, hdrs, body)
  if body == healthz_body then
    tail = tail + 1
    return
  end
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    seen[status] = (seen[status] or 0) + 1
    local s = ""
    for code, n in pairs(seen) do
      s = s .. code .. ":" .. n .. " "
    end
    statuses = s
  end
  t_last = now_us()
  if ok + bad >= #mine then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local ok_all, bad_all, tail_all, share_all, codes = 0, 0, 0, 0, ""
  local first, last = math.huge, 0
  for _, t in ipairs(threads) do
    if t:get("t_first") > 0 then
      first = math.min(first, t:get("t_first"))
    end
    last = math.max(last, t:get("t_last"))
    ok_all = ok_all + t:get("ok")
    bad_all = bad_all + t:get("bad")
    tail_all = tail_all + t:get("tail")
    share_all = share_all + t:get("share")
    codes = codes .. t:get("statuses")
  end
  local secs = (last - first) / 1e6
  io.write(string.format(
    "REDEEM tokens=%d answered=%d ok_2xx=%d non_2xx=%d [%s] tail_healthz=%d redeem_seconds=%.2f redemptions_per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f wrk_requests=%d socket_errors=%d/%d/%d/%d\n",
    share_all, ok_all + bad_all, ok_all, bad_all, codes, tail_all, secs, ok_all / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
