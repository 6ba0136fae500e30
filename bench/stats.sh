#!/usr/bin/env bash
# Statistics benchmark: 1,000,000 members on SQLite, the figures engine timed,
# DuckDB on the same data for comparison. Results: BENCHMARKS.md, "Statistics".
#   bench/stats.sh                       # 1,000,000 members (data reused between runs)
#   GONGHUI_BENCH_MEMBERS=100000 bench/stats.sh
#   GONGHUI_BENCH_REGEN=1 bench/stats.sh # rebuild the data
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
cargo bench -p gonghui --bench stats
