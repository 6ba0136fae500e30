#!/usr/bin/env python3
"""Sign-in latency while a roster import runs in the server (bench/import_lock.sh).

    python3 bench/login_probe.py BASE_URL ROSTER.csv LABEL

1. Signs in BASELINE times (no import running): the reference latency.
2. Signs in as sf_admin, uploads ROSTER.csv to /api/v1/members/import (the
   server's own import, as a user starts it), and from the moment the job
   exists a second thread signs in as qinchuan_admin over and over, one
   sign-in at a time (a fresh session each: GET /login for the CSRF token,
   then the timed POST /login, which verifies the password and writes the
   session row and the audit entry), while the main thread polls the job
   every 100 ms until it is no longer running.
3. Prints one line of figures: sign-ins completed during the import, their
   p50/p99/max latency, and the import's wall time (job created → seen
   finished; ±0.1 s) with its final status and counts.

Only the standard library; cookies are handled by hand (the demo serves
plain HTTP).
"""

import http.client
import json
import re
import sys
import threading
import time
import urllib.parse

PW = "Demo@2026"
BASELINE = 20


class Session:
    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        return r.status, data

    def csrf(self, path):
        _, page = self.request("GET", path)
        m = re.search(rb'name="_csrf" value="([^"]+)"', page) or re.search(
            rb'name="csrf-token" content="([^"]+)"', page
        )
        return m.group(1).decode()

    def login(self, user):
        """Returns (seconds of the POST /login, HTTP status)."""
        token = self.csrf("/login")
        body = urllib.parse.urlencode(
            {"_csrf": token, "username": user, "password": PW, "next": "/"}
        )
        t0 = time.perf_counter()
        status, _ = self.request(
            "POST",
            "/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return time.perf_counter() - t0, status


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def fmt(xs):
    return "n=%d p50=%.0fms p99=%.0fms max=%.0fms" % (
        len(xs),
        pct(xs, 50) * 1000,
        pct(xs, 99) * 1000,
        max(xs) * 1000 if xs else float("nan"),
    )


def main():
    base, roster, label = sys.argv[1], sys.argv[2], sys.argv[3]
    base_lat = []
    for _ in range(BASELINE):
        t, s = Session(base).login("qinchuan_admin")
        assert s in (302, 303), s
        base_lat.append(t)

    admin = Session(base)
    t, s = admin.login("sf_admin")
    assert s in (302, 303), s
    token = admin.csrf("/members/import")
    with open(roster, "rb") as f:
        data = f.read()
    boundary = "----gonghui-bench-boundary"
    body = (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"org_code\"\r\n\r\n\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roster.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    del data
    status, resp = admin.request(
        "POST",
        "/api/v1/members/import?_csrf=" + urllib.parse.quote(token),
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    t_start = time.perf_counter()
    assert status == 200, (status, resp[:300])
    job = json.loads(resp)["id"]
    del body

    during, failures = [], []
    stop = threading.Event()

    def prober():
        while not stop.is_set():
            try:
                t, s = Session(base).login("qinchuan_admin")
            except Exception as e:  # a timeout counts as a failure
                failures.append(repr(e))
                continue
            if s not in (302, 303):
                failures.append(s)
            # Every sign-in started while the import ran (the loop checks
            # before starting one), including one that ends after it.
            during.append(t)

    th = threading.Thread(target=prober)
    th.start()
    v = {}
    while True:
        status, resp = admin.request("GET", f"/api/v1/members/import/{job}")
        v = json.loads(resp)
        if v["status"] != "running":
            break
        time.sleep(0.1)
    t_import = time.perf_counter() - t_start
    stop.set()
    th.join()
    print(
        f"{label}: import {t_import:.1f}s status={v['status']} new={v['new_count']} "
        f"unchanged={v['unchanged_count']} rejected={v['rejected_count']} | "
        f"logins during import: {fmt(during)} failures={len(failures)} | "
        f"logins idle: {fmt(base_lat)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
