#!/usr/bin/env bash
# Benchmark of `perfbundle import influxdb` (BENCHMARKS.md, "Importing from
# InfluxDB"): a real k6 run writes 1 M+ points to a real InfluxDB 1.x and to
# its JSON stream at once; the import is timed against packing the same run's
# JSON stream (the reference, in the same session), with peak memory.
# Needs influxd, k6 and node (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/target/release/perfbundle
[ -x "$BIN" ] || cargo build --release -p perfbundle-cli
W=$(mktemp -d)
PIDS=()
# KEEP=1 keeps the run's JSON stream and InfluxDB's files in $W (printed).
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; if [ "${KEEP:-}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
IP=$(free_port); RP=$(free_port)
cat > "$W/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$RP"
[meta]
  dir = "$W/meta"
[data]
  dir = "$W/data"
  wal-dir = "$W/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$IP"
  log-enabled = false
[monitor]
  store-enabled = false
EOF
influxd run -config "$W/influxdb.conf" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$IP/ping" | grep -q 204 && break; sleep 0.1; done
node crates/perfbundle-cli/tests/fixtures/k6-shop/server.js > "$W/port.json" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$W/port.json" ] && break; sleep 0.1; done
SP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$W/port.json")
# A steady 1,000 requests/s for 100 s (about 1.3 M points): a rate InfluxDB
# keeps up with here, so k6 drops no batch (it would, silently, at full speed).
cat > "$W/steady.js" <<'EOF'
import http from 'k6/http'
export const options = {
  scenarios: { steady: { executor: 'constant-arrival-rate', rate: 1000, timeUnit: '1s', duration: __ENV.DURATION || '100s', preAllocatedVUs: 20, maxVUs: 50 } },
}
export default function () { http.get(__ENV.BASE_URL + '/') }
EOF
FROM_S=$(date +%s)
K6_NO_USAGE_REPORT=true K6_INFLUXDB_CONCURRENT_WRITES=8 k6 run --quiet --no-color --address "" -e "BASE_URL=http://127.0.0.1:$SP" \
  --out "influxdb=http://127.0.0.1:$IP/k6" --out "json=$W/run.json" "$W/steady.js" >/dev/null 2>&1 || true
POINTS=$(grep -c '"type":"Point"' "$W/run.json")
echo "k6 wrote $POINTS points (JSON stream $(du -h "$W/run.json" | cut -f1))"
TO_S=$(( $(date +%s) + 1 ))
sleep 2 # k6's last batch is in
t() { /usr/bin/time -f '%e s %M KB' "$@" 2>&1 >/dev/null | tail -1; }
# Floors: bare reads (curl, the response read to the end and thrown away,
# chunked, 10,000 rows a chunk) of the same points. First as one plain query
# of every measurement over the run's window (what the import sent before it
# grouped by tag set).
Q="SELECT * FROM /.*/ WHERE time >= ${FROM_S}000000000 AND time < ${TO_S}000000000"
BARE=(curl -sS -G --fail "http://127.0.0.1:$IP/query" --data-urlencode "db=k6" --data-urlencode "epoch=ns"
  --data-urlencode "chunked=true" --data-urlencode "chunk_size=10000" --data-urlencode "q=$Q" -o /dev/null)
# Then as the import asks for them now: the gauges (this run has k6's vus and
# vus_max only) in time order, every other measurement with its tag sets once per series
# (`GROUP BY *`). Two requests, one after the other, as the import sends them.
MEAS=$(curl -sS -G --fail "http://127.0.0.1:$IP/query" --data-urlencode "db=k6" --data-urlencode "q=SHOW MEASUREMENTS" |
  python3 -c 'import json, sys; print(",".join(chr(34) + r[0] + chr(34) for r in json.load(sys.stdin)["results"][0]["series"][0]["values"] if r[0] not in ("vus", "vus_max")))')
export IP Q1="SELECT * FROM \"vus\",\"vus_max\" WHERE time >= ${FROM_S}000000000 AND time < ${TO_S}000000000" \
  Q2="SELECT * FROM $MEAS WHERE time >= ${FROM_S}000000000 AND time < ${TO_S}000000000 GROUP BY *"
BARE_GROUPED=(bash -c 'for q in "$Q1" "$Q2"; do curl -sS -G --fail "http://127.0.0.1:$IP/query" --data-urlencode "db=k6" --data-urlencode "epoch=ns" \
  --data-urlencode "chunked=true" --data-urlencode "chunk_size=10000" --data-urlencode "q=$q" -o /dev/null; done')
echo "bare response: $("${BARE[@]}" -w '%{size_download}') bytes"
for i in 1 2 3; do
  echo "pack --out json stream:             $(t "$BIN" pack --no-git -o "$W/json.perfbundle" "$W/run.json")"
  echo "bare chunked /query (floor):        $(t "${BARE[@]}")"
  echo "bare, the import's two queries:     $(t "${BARE_GROUPED[@]}")"
  echo "import influxdb (one slice):        $(t "$BIN" import influxdb --url "http://127.0.0.1:$IP" --db k6 --from "$FROM_S" --to "$TO_S" --slice 1h -o "$W/imp.perfbundle")"
  echo "import influxdb, 5s slices:         $(t "$BIN" import influxdb --url "http://127.0.0.1:$IP" --db k6 --from "$FROM_S" --to "$TO_S" --slice 5s -o "$W/imp5.perfbundle")"
done
python3 - "$BIN" "$W" <<'EOF'
import json, subprocess, sys
bin, w = sys.argv[1], sys.argv[2]
m = lambda f: json.loads(subprocess.check_output([bin, "inspect", "--json", f]))["k6"]["metrics"]
a, b = m(w + "/json.perfbundle"), m(w + "/imp.perfbundle")
print("http_reqs count: json", a["http_reqs"]["values"]["count"], "influx", b["http_reqs"]["values"]["count"])
print("series with the same count:", sum(1 for k in a if k in b and a[k]["values"].get("count") == b[k]["values"].get("count")), "of", len(a))
print("http_req_duration p(95): json", a["http_req_duration"]["values"]["p(95)"], "influx", b["http_req_duration"]["values"]["p(95)"])
EOF
