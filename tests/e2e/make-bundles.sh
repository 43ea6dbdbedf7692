#!/usr/bin/env bash
# Bundles for the browser tests that the archives do not cover. Every input
# here is hand-made for an edge case, and named so: hostile strings, a
# format version from the future, a corrupt file, and a synthetic profile of
# 100,000+ distinct frames for the flame graph's frame time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/release/perfbundle
OUT=target/e2e-bundles
rm -rf "$OUT" && mkdir -p "$OUT" && W=$(mktemp -d) && trap 'rm -rf "$W"' EXIT

# Hostile strings in the title, a label, a k6 tag value and a function name.
cat > "$W/handmade-xss-k6.json" <<'J'
{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"http_reqs"}
{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-24T19:50:03.5Z","value":1,"tags":{"name":"<img src=x onerror=\"window.__xss=3\">","scenario":"<script>window.__xss=4</script>"}}}
{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-24T19:50:04.5Z","value":1,"tags":{"name":"<img src=x onerror=\"window.__xss=3\">","scenario":"<script>window.__xss=4</script>"}}}
{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":[],"submetrics":null},"metric":"http_req_duration"}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-24T19:50:04.5Z","value":12.5,"tags":{"name":"<img src=x onerror=\"window.__xss=3\">","scenario":"<script>window.__xss=4</script>"}}}
J
printf 'main;<script>window.__xss=5</script> 3\nmain;<img src=x onerror="window.__xss=6"> 2\n' > "$W/handmade-xss.folded"
"$BIN" pack -o "$OUT/xss.perfbundle" --title '<img src=x onerror="window.__xss=1">' --label 'evil=<script>window.__xss=2</script>' \
  "$W/handmade-xss-k6.json" "$W/handmade-xss.folded" 2>/dev/null

# A bundle of a future major version.
python3 - "$OUT/future.perfbundle" <<'PY'
import io, json, sys, tarfile
m = json.dumps({"format": "perfbundle", "format_version": "2.0", "title": "from the future", "created_at": "2030-01-01T00:00:00Z", "created_by": "test", "entries": []}).encode()
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.USTAR_FORMAT) as t:
    ti = tarfile.TarInfo("manifest.json"); ti.size = len(m); t.addfile(ti, io.BytesIO(m))
PY
head -c 4096 /dev/urandom > "$OUT/corrupt.perfbundle"

# 102,655 distinct frames (synthetic): a tree five wide and seven deep
# (97,655 frames), plus 5,000 one-frame stacks.
python3 - "$W/synthetic-wide.folded" <<'PY'
import itertools, sys
with open(sys.argv[1], "w") as f:
    for path in itertools.product(range(5), repeat=7):
        names = ["n" + "".join(map(str, path[: d + 1])) + " synthetic.js:" + str(d + 1) for d in range(7)]
        f.write(";".join(names) + " " + str(1 + sum(path) % 5) + "\n")
    for i in range(5000):
        f.write(f"single{i} synthetic.js:99 1\n")
PY
"$BIN" pack -o "$OUT/wide-flame.perfbundle" --title "synthetic profile of 102,655 frames" "$W/synthetic-wide.folded" 2>/dev/null
ls -la "$OUT"

# The corpus's v1 run under node --cpu-prof (k6 stream, summary and the .cpuprofile), packed:
# the flame graph tests compare what the viewer shows with the .cpuprofile itself.
"$BIN" pack -o "$OUT/corpus-v1-cpu-prof.perfbundle" --title "catalog-api v1 under cpu-prof" tests/corpus/runs/v1/cpu-prof 2>/dev/null
# Its v2 (the app moved from apps/v1/catalog.js to apps/v2/catalog.js): the differential flame graph pairs functions across the move.
"$BIN" pack -o "$OUT/corpus-v2-cpu-prof.perfbundle" --title "catalog-api v2 under cpu-prof" tests/corpus/runs/v2/cpu-prof 2>/dev/null
# The v1 run under Clinic.js flame: the first screen of its flame graph.
"$BIN" pack -o "$OUT/corpus-v1-clinic-flame.perfbundle" --title "catalog-api v1 under clinic flame" tests/corpus/runs/v1/clinic-flame 2>/dev/null

# A released k6-only bundle beside the profile-only one: two bundles with nothing in common.
cp archives/orders-api-v1-k6.perfbundle "$OUT/k6-only.perfbundle"

# A real recording (k6 + the corpus's catalog-api v1 under node --cpu-prof): a profile on the run's clock.
CORPUS=tests/corpus
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$PORT K6_NO_USAGE_REPORT=true "$BIN" record -o "$OUT/recorded-cpu-prof.perfbundle" --title "recorded: v1 under cpu-prof" \
  --profile cpu-prof --app "node $CORPUS/apps/v1/catalog.js" --ready "127.0.0.1:$PORT" \
  -- k6 run --quiet --no-color --address "" -e "BASE_URL=http://127.0.0.1:$PORT" --vus 3 --duration 8s "$CORPUS/k6/catalog-load.js" >/dev/null 2>&1 || true
test -s "$OUT/recorded-cpu-prof.perfbundle"

# The kept files of a `record --keep-files` run (tests/corpus/formats/record-cpu-prof),
# packed afterwards with --align auto: the .cpuprofile renamed, so no time in its name.
cp tests/corpus/formats/record-cpu-prof/app.cpuprofile "$W/profile.cpuprofile"
"$BIN" pack -o "$OUT/aligned-cpu-prof.perfbundle" --title "packed afterwards: aligned with --align auto" \
  --align auto tests/corpus/formats/record-cpu-prof/k6.json.gz "$W/profile.cpuprofile" 2>/dev/null

# A real perf script whose samples weigh different periods (page faults): the samples/weight switch.
"$BIN" pack -o "$OUT/perf-page-faults.perfbundle" --title "perf: page faults, varying periods" \
  tests/corpus/formats/perf/page-faults-varying-periods.txt.gz 2>/dev/null

# The corpus's catalog-api v1 and v2 runs (under cpu-prof), their k6 point streams only: the
# summary tests compare the overview with k6's own summary-export.json and end-of-test text
# of the same runs; v1 against v2 is one test, v1 against the orders-api run (k6-only) is not.
"$BIN" pack -o "$OUT/catalog-v1-k6.perfbundle" --title "catalog-api v1 (k6 stream)" --label version=v1 \
  tests/corpus/runs/v1/cpu-prof/k6.json.gz 2>/dev/null
"$BIN" pack -o "$OUT/catalog-v2-k6.perfbundle" --title "catalog-api v2 (k6 stream)" --label version=v2 \
  tests/corpus/runs/v2/cpu-prof/k6.json.gz 2>/dev/null

# v3 (v2 with one route made slower again: /reports/stock) under cpu-prof and k6 alone: the pair
# v2 → v3 has one regressed endpoint, listed first; the v3 profile is 86 % idle.
"$BIN" pack -o "$OUT/catalog-v3-k6.perfbundle" --title "catalog-api v3 (k6 stream)" --label version=v3 \
  tests/corpus/runs/v3/cpu-prof/k6.json.gz 2>/dev/null
"$BIN" pack -o "$OUT/corpus-v3-cpu-prof.perfbundle" --title "catalog-api v3 under cpu-prof" --label version=v3 \
  tests/corpus/runs/v3/cpu-prof 2>/dev/null

# The corpus's v1 Clinic doctor timeline with the k6 stream of v2 (recorded minutes later): apart in time.
"$BIN" pack -o "$OUT/timeline-apart.perfbundle" --title "v2's load with v1's clinic doctor timeline" \
  tests/corpus/runs/v2/clinic-doctor/k6.json.gz "$(ls -d tests/corpus/runs/v1/clinic-doctor/*.clinic-doctor)" 2>/dev/null
