#!/usr/bin/env python3
"""DuckDB side of the statistics benchmark (called by crates/gonghui/benches/stats.rs).

Reads the spec the Rust bench wrote (SQLite file, the two member-figure SQL
statements, the figures SQLite computed), exports the member tables from the
SQLite file to CSV, converts them to Parquet with DuckDB, loads the Parquet
files into DuckDB tables, runs the same SQL for the city and one grassroots
union several times and prints one JSON object: medians in ms, whether every
figure equals SQLite's, and the DuckDB version. Needs `pip install duckdb`.
"""
import csv
import json
import os
import sqlite3
import statistics
import sys
import time

import duckdb

TABLES = {
    "orgs": ("SELECT id, path, level, status FROM orgs", {"id"}),
    "persons": (
        "SELECT id, gender, birth_date, education, migrant, new_employment_group FROM persons",
        {"id", "migrant"},
    ),
    "memberships": (
        "SELECT id, person_id, org_id, status, joined_on, ended_on, activated_at FROM memberships",
        {"id", "person_id", "org_id"},
    ),
    "membership_events": (
        "SELECT id, person_id, org_id, kind, on_date FROM membership_events",
        {"id", "person_id", "org_id"},
    ),
}


def export(spec):
    work = spec["work"]
    os.makedirs(work, exist_ok=True)
    src = sqlite3.connect(spec["sqlite"])
    t0 = time.perf_counter()
    con = duckdb.connect()
    for name, (sql, ints) in TABLES.items():
        cur = src.execute(sql)
        cols = [d[0] for d in cur.description]
        path = os.path.join(work, f"{name}.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, quoting=csv.QUOTE_ALL)
            w.writerow(cols)
            for row in cur:
                w.writerow(["\\N" if v is None else v for v in row])
        sel = ", ".join(
            f"CAST({c} AS BIGINT) AS {c}" if c in ints else c for c in cols
        )
        con.execute(
            f"COPY (SELECT {sel} FROM read_csv('{path}', header=true, all_varchar=true, nullstr='\\N', quote='\"')) "
            f"TO '{os.path.join(work, name + '.parquet')}' (FORMAT parquet)"
        )
    con.close()
    return time.perf_counter() - t0


def main():
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    export_s = export(spec)
    con = duckdb.connect()
    for name in TABLES:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{os.path.join(spec['work'], name + '.parquet')}')")

    def run(like):
        t0 = time.perf_counter()
        a = con.execute(spec["members_sql"].replace("__LIKE__", like)).fetchone()
        b = con.execute(spec["events_sql"].replace("__LIKE__", like)).fetchone()
        ms = (time.perf_counter() - t0) * 1000
        return ms, [int(v or 0) for v in list(a) + list(b)]

    out = {"version": duckdb.__version__, "indicators": len(spec["codes"]), "export_s": export_s}
    mismatches = []
    for key, like, runs in (("city", spec["city_like"], 5), ("union", spec["union_like"], 21)):
        run(like)  # warm-up
        times = []
        vals = None
        for _ in range(runs):
            ms, vals = run(like)
            times.append(ms)
        out[f"{key}_ms"] = statistics.median(times)
        for code, mine, theirs in zip(spec["codes"], vals, spec[key]):
            if mine != theirs:
                mismatches.append({"scope": key, "code": code, "duckdb": mine, "sqlite": theirs})
    out["equal"] = not mismatches
    out["mismatches"] = mismatches
    print(json.dumps(out))


if __name__ == "__main__":
    main()
