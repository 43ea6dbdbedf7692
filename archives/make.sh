#!/usr/bin/env bash
# Packs the example bundles from a corpus of real tool outputs (by default the
# project's own tests/corpus; the released orders-api-* bundles came from an
# earlier corpus of the same layout) and writes their index. Released bundles
# are never edited: a bundle that exists is kept, and only missing ones are
# written, named after the corpus' app (APP-VERSION-RUN.perfbundle), so that
# tests keep reading the old ones.
# usage: archives/make.sh [CORPUS]   (run from the repository root)
set -euo pipefail
CORPUS=${1:-tests/corpus}
# The app's name (its package.json) and the load's (the k6 script), k6's version (the run's meta.json).
APP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$CORPUS/apps/v1/package.json" 2>/dev/null || echo orders-api)
LOAD=$(basename "$(grep -L handleSummary "$CORPUS"/k6/*.js | head -1)" .js)
K6V=$(python3 -c 'import json,re,sys; print(re.search(r"v\d+\.\d+\.\d+", json.load(open(sys.argv[1]))["tool_versions"]["k6"]).group(0))' "$CORPUS/runs/v1/k6-only/meta.json" 2>/dev/null || echo v1.1.0)
BIN=${PERFBUNDLE:-target/release/perfbundle}
[ -x "$BIN" ] || cargo build --release -q -p perfbundle-cli
export SOURCE_DATE_EPOCH=1795564800 # 2026-11-24T20:00:00Z, so the files are reproducible
for v in v1 v2; do
  out="archives/$APP-$v-k6.perfbundle"
  [ -e "$out" ] && { echo "keep $out (released bundles are not rewritten)"; continue; }
  "$BIN" pack -o "$out" --keep-raw \
    --title "$APP $v — ${LOAD//-/ } (k6 only)" \
    --label app="$APP" --label version="$v" --label scenario="$LOAD" --tool k6="$K6V" \
    "$CORPUS/runs/$v/k6-only/k6.json.gz" "$CORPUS/runs/$v/k6-only/summary-export.json"
done
# Profiles: the k6 run and the profiler's output of the same run, one bundle each.
for spec in "v1 cpu-prof" "v2 cpu-prof" "v1 clinic-doctor" "v1 0x"; do
  set -- $spec
  out="archives/$APP-$1-$2.perfbundle"
  [ -e "$out" ] && { echo "keep $out (released bundles are not rewritten)"; continue; }
  "$BIN" pack -o "$out" \
    --title "$APP $1 — ${LOAD//-/ } under $2" \
    --label app="$APP" --label version="$1" --label scenario="$LOAD" --label profiler="$2" --tool k6="$K6V" \
    "$CORPUS/runs/$1/$2"
done
# Expected figures of new archives: written by the golden test in bless mode
# (existing ones are only rewritten if the figures changed, which a review sees).
PERFBUNDLE_BLESS=1 cargo test -q --locked -p perfbundle-cli --test golden >/dev/null
python3 - <<'PY'
import json, subprocess, glob, os
rows = []
for f in sorted(glob.glob("archives/*.perfbundle")):
    j = json.loads(subprocess.check_output([os.environ.get("PERFBUNDLE", "target/release/perfbundle"), "inspect", "--json", f]))
    m, k = j["manifest"], j["k6"]["metrics"]
    d = k.get("http_req_duration", {}).get("values", {})
    rows.append({
        "file": os.path.basename(f), "title": m["title"], "labels": m["labels"],
        "start": m["run"]["start"], "end": m["run"]["end"], "duration_ms": m["run"]["duration_ms"],
        "http_reqs": k.get("http_reqs", {}).get("values", {}).get("count"),
        "http_req_rate": k.get("http_reqs", {}).get("values", {}).get("rate"),
        "http_req_duration_p95_ms": d.get("p(95)"),
        "http_req_failed_rate": k.get("http_req_failed", {}).get("values", {}).get("rate"),
        "thresholds_passed": all(t["ok"] for t in j["k6"]["thresholds"]),
        "profiles": [p["name"] for p in j.get("profiles", [])],
        "timelines": [t["name"] for t in j.get("timelines", [])],
    })
json.dump({"bundles": rows}, open("archives/index.json", "w"), indent=2)
print(open("archives/index.json").read())
PY
