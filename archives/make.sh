#!/usr/bin/env bash
# Packs the example bundles from the real corpus (../shared/corpus) and writes
# their index. Released bundles are never edited: to change what they hold,
# add new ones with a new name, so that tests keep reading the old ones.
# usage: archives/make.sh [CORPUS]   (run from the repository root)
set -euo pipefail
CORPUS=${1:-../shared/corpus}
BIN=${PERFBUNDLE:-target/release/perfbundle}
[ -x "$BIN" ] || cargo build --release -q -p perfbundle-cli
export SOURCE_DATE_EPOCH=1795564800 # 2026-11-24T20:00:00Z, so the files are reproducible
for v in v1 v2; do
  out="archives/orders-api-$v-k6.perfbundle"
  [ -e "$out" ] && { echo "keep $out (released bundles are not rewritten)"; continue; }
  "$BIN" pack -o "$out" --keep-raw \
    --title "orders-api $v — dev load (k6 only)" \
    --label app=orders-api --label version="$v" --label scenario=dev-load --tool k6=v1.1.0 \
    "$CORPUS/runs/$v/k6-only/k6.json.gz" "$CORPUS/runs/$v/k6-only/summary-export.json"
done
# Profiles: the k6 run and the profiler's output of the same run, one bundle each.
for spec in "v1 cpu-prof" "v2 cpu-prof" "v1 clinic-doctor" "v1 0x"; do
  set -- $spec
  out="archives/orders-api-$1-$2.perfbundle"
  [ -e "$out" ] && { echo "keep $out (released bundles are not rewritten)"; continue; }
  "$BIN" pack -o "$out" \
    --title "orders-api $1 — dev load under $2" \
    --label app=orders-api --label version="$1" --label scenario=dev-load --label profiler="$2" --tool k6=v1.1.0 \
    "$CORPUS/runs/$1/$2"
done
mkdir -p archives/expected
for f in archives/*.perfbundle; do
  name=$(basename "$f" .perfbundle)
  [ -e "archives/expected/$name.metrics.json" ] ||
    "$BIN" inspect --json "$f" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["k6"]["metrics"], indent=1, sort_keys=True))' > "archives/expected/$name.metrics.json"
  [ -e "archives/expected/$name.profiles.json" ] ||
    "$BIN" inspect --json "$f" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps({"profiles": j.get("profiles", []), "timelines": j.get("timelines", [])}, indent=1, sort_keys=True))' > "archives/expected/$name.profiles.json"
done
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
