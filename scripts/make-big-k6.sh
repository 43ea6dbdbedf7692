#!/usr/bin/env bash
# Makes the large k6 point stream the pack benchmark reads (never committed):
# a one-route node server on 127.0.0.1 (a free port), and k6 sending RATE
# requests a second to it for DURATION (constant-arrival-rate), or, with
# RATE=max, as many as 16 VUs without think time manage (constant-vus).
#
# usage: scripts/make-big-k6.sh OUTDIR [DURATION=90s] [RATE=5000|max]
# writes OUTDIR/k6-big.json.gz (k6 --out json, then gzip -6; the plain file is
#        removed unless KEEP_JSON=1: k6 compressing while it runs would slow it),
#        OUTDIR/k6-big-summary.json (--summary-export), OUTDIR/k6-big-console.txt,
#        OUTDIR/k6-big-info.json (sizes, lines, requests, wall time, versions).
# 5,000 req/s for 90 s is about 450,000 requests: ~1.4 GB of JSON, ~45 MB gzipped.
# Needs node and k6 on PATH (scripts/setup.sh installs k6). Stops only what it started.
set -euo pipefail
OUT=${1:?usage: scripts/make-big-k6.sh OUTDIR [DURATION=90s] [RATE=5000|max]}
DURATION=${2:-90s}
RATE=${3:-5000}
for t in node k6 python3; do command -v "$t" >/dev/null || { echo "make-big-k6: $t is not on PATH" >&2; exit 1; }; done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT

# The server: GET anything → a small JSON body; prints its port once listening.
cat > "$W/one-route.js" <<'JS'
const http = require('http')
const body = JSON.stringify({ sku: 'SKU-1', inStock: true })
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
process.on('SIGTERM', () => process.exit(0))
JS
node "$W/one-route.js" > "$W/port" &
SERVER=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$W/port")
[ -n "$PORT" ] || { echo "make-big-k6: the server did not start" >&2; exit 1; }

cat > "$W/big.js" <<'JS'
import http from 'k6/http'
const duration = __ENV.DURATION
const load = __ENV.RATE === 'max'
  ? { executor: 'constant-vus', vus: 16, duration }
  : { executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s', duration, preAllocatedVUs: 20, maxVUs: 200 }
export const options = { discardResponseBodies: true, scenarios: { big: load } }
export default function () {
  http.get(__ENV.URL)
}
JS

echo "k6: $DURATION at RATE=$RATE against http://127.0.0.1:$PORT/item" >&2
t0=$(date +%s.%N)
rc=0
K6_NO_USAGE_REPORT=true k6 run --no-color --address "" -e "URL=http://127.0.0.1:$PORT/item" -e "DURATION=$DURATION" -e "RATE=$RATE" \
  --out "json=$OUT/k6-big.json" --summary-export "$OUT/k6-big-summary.json" "$W/big.js" > "$OUT/k6-big-console.txt" 2>&1 || rc=$?
t1=$(date +%s.%N)
gzip -6 -c "$OUT/k6-big.json" > "$OUT/k6-big.json.gz"
[ "${KEEP_JSON:-0}" = 1 ] || rm -f "$OUT/k6-big.json"

python3 - "$OUT" "$rc" "$t0" "$t1" "$DURATION" "$RATE" "$(k6 version | head -1)" "$(node --version)" <<'PY'
import gzip, json, os, sys
out, rc, t0, t1, duration, rate, k6v, nodev = sys.argv[1:]
gz = os.path.join(out, "k6-big.json.gz")
raw = lines = 0
with gzip.open(gz, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        raw += len(chunk)
        lines += chunk.count(b"\n")
m = json.load(open(os.path.join(out, "k6-big-summary.json")))["metrics"]
info = {
    "k6": k6v, "node": nodev, "duration": duration, "rate": rate, "k6_exit_code": int(rc),
    "k6_wall_seconds": round(float(t1) - float(t0), 3),
    "json_bytes": raw, "json_gz_bytes": os.path.getsize(gz), "json_lines": lines,
    "http_reqs": m["http_reqs"]["count"], "http_reqs_per_s": m["http_reqs"]["rate"],
    "dropped_iterations": m.get("dropped_iterations", {}).get("count", 0),
}
json.dump(info, open(os.path.join(out, "k6-big-info.json"), "w"), indent=2)
print(json.dumps(info, indent=2))
PY
