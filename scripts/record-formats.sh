#!/usr/bin/env bash
# Records tests/corpus/formats/: real outputs of the other tools whose files
# perfbundle reads — Go's runtime/pprof, a Chrome DevTools Performance trace
# (Playwright on Debian's chromium), py-spy's speedscope JSON, perf scripts
# in several shapes — beside the tools' own numbers for them, and one
# `perfbundle record --keep-files` run whose kept files are packed again with
# `pack --align auto` by the tests.
#
# usage: scripts/record-formats.sh [PART…]   (default: go chrome py-spy perf record;
#   a PART of none only writes versions.txt)
#
# Needs: go (Debian golang-go), node + playwright-core ($PLAYWRIGHT_CORE, or
# npm i playwright-core in ~/.cache/perfbundle/trace-tools), chromium
# (Debian), py-spy (pip), perf (Debian linux-perf), k6, and the perfbundle
# binary (target/debug or PATH) for the record run. Outputs are committed:
# this never runs in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
F=tests/corpus/formats
A=tests/corpus/apps/formats
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(go chrome py-spy perf record)
want() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }
export PLAYWRIGHT_CORE=${PLAYWRIGHT_CORE:-$HOME/.cache/perfbundle/trace-tools/node_modules/playwright-core}
versions() { # FILE: the tools' versions, one per line
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel: $(uname -r)"
    command -v go >/dev/null && echo "go: $(go version)"
    command -v chromium >/dev/null && echo "chromium: $(chromium --version 2>/dev/null | head -1)"
    [ -n "${PLAYWRIGHT_CORE:-}" ] && echo "playwright-core: $(node -p "require('$PLAYWRIGHT_CORE/package.json').version")"
    command -v py-spy >/dev/null && echo "py-spy: $(py-spy --version)"
    command -v python3 >/dev/null && echo "python: $(python3 --version 2>&1)"
    command -v perf >/dev/null && echo "perf: $(perf --version)"
    command -v node >/dev/null && echo "node: $(node --version)"
    command -v k6 >/dev/null && echo "k6: $(k6 version | head -1)"
  } > "$1"
}
mkdir -p "$F"
versions "$F/versions.txt"

# 1. Go: a program that profiles itself with runtime/pprof for 2 s, and
#    `go tool pprof`'s own reading of the file (-raw: every sample; -top).
if want go; then
  D=$F/go; rm -rf "$D"; mkdir -p "$D"
  B=$(mktemp -d)
  cp "$A/burn.go" "$B/main.go"
  (cd "$B" && GOCACHE="$B/cache" GOPATH="$B/gopath" GOFLAGS=-mod=mod go mod init burn >/dev/null 2>&1 && GOCACHE="$B/cache" GOPATH="$B/gopath" go build -o burn .)
  "$B/burn" "$D/cpu.pprof" > /dev/null 2>&1
  GOCACHE="$B/cache" go tool pprof -raw "$D/cpu.pprof" > "$D/pprof-raw.txt" 2>/dev/null
  GOCACHE="$B/cache" go tool pprof -top -nodecount=1000 "$D/cpu.pprof" > "$D/pprof-top.txt" 2>/dev/null
  rm -rf "$B"
fi

# 2. Chrome: Playwright's browser.startTracing on Debian's chromium, a page
#    doing rounds of JavaScript and layout work; gzip -9 of the trace.
if want chrome; then
  D=$F/chrome; rm -rf "$D"; mkdir -p "$D"
  node scripts/corpus/chrome-trace.js "$A/page.html" "$D/trace.json"
  gzip -9 "$D/trace.json"
fi

# 3. py-spy: `record -f speedscope` of a Python script, 200 samples a second.
if want py-spy; then
  D=$F/py-spy; rm -rf "$D"; mkdir -p "$D"
  py-spy record -r 200 -f speedscope -o "$D/profile.speedscope.json" -- python3 "$A/burn.py" > "$D/py-spy-console.txt" 2>&1
fi

# 4. perf: the same Python script, recorded and scripted five ways.
if want perf; then
  D=$F/perf; rm -rf "$D"; mkdir -p "$D"
  T=$(mktemp -d)
  run() { perf record -q "$@" -- python3 "$A/burn.py" > /dev/null 2>&1; }
  # Frame-pointer call graphs, cpu-clock (no hardware counters in this VM).
  run -g -e cpu-clock -F 499 -o "$T/g.data"
  perf script -i "$T/g.data" > "$D/callgraph-fp.txt" 2>/dev/null
  # DWARF unwinding.
  run --call-graph dwarf -e cpu-clock -F 99 -o "$T/d.data"
  perf script -i "$T/d.data" > "$D/callgraph-dwarf.txt" 2>/dev/null
  # CLOCK_MONOTONIC sample times; --header gives the reference time (wall clock ↔ monotonic).
  run -k CLOCK_MONOTONIC -g -e cpu-clock -F 499 -o "$T/k.data"
  perf script --header -i "$T/k.data" > "$D/clock-monotonic-header.txt" 2>/dev/null
  # No call graphs: one frame per sample, on the header line (two -F field sets).
  run -e cpu-clock -F 499 -o "$T/s.data"
  perf script -i "$T/s.data" -F comm,pid,tid,time,event,ip,sym > "$D/single-line-no-dso.txt" 2>/dev/null
  perf script -i "$T/s.data" -F comm,pid,tid,time,period,event,ip,sym,dso > "$D/single-line.txt" 2>/dev/null
  # A software event in frequency mode: the period differs from sample to sample.
  run -g -e page-faults -F 999 -o "$T/pf.data"
  perf script -i "$T/pf.data" > "$D/page-faults-varying-periods.txt" 2>/dev/null
  rm -rf "$T"
  gzip -9 "$D"/*.txt
fi

# 5. perfbundle record --keep-files of the corpus's v2 app under node
#    --cpu-prof and k6 (6 s, 4 VUs): the tests pack its kept k6 stream and
#    .cpuprofile again with --align auto and compare with where record put it.
if want record; then
  D=$F/record-cpu-prof; rm -rf "$D"; mkdir -p "$D"
  PB=$(command -v perfbundle || echo target/debug/perfbundle)
  PORT=${PORT:-18091}
  K6_NO_USAGE_REPORT=true PORT=$PORT "$PB" record -o "$D/record.perfbundle" --profile cpu-prof --keep-files \
    --app "node tests/corpus/apps/v2/catalog.js" --ready "127.0.0.1:$PORT" --ready-timeout 60 \
    -- k6 run --quiet --no-color --address "" -e "BASE_URL=http://127.0.0.1:$PORT" --vus 4 --duration 6s \
    tests/corpus/k6/catalog-load.js > "$D/record-console.txt" 2>&1 || echo "record exited $?" >> "$D/record-console.txt"
  # The kept files, under names that say nothing of when they were made.
  K=$D/record.perfbundle.files
  mv "$(find "$K" -name '*.cpuprofile' | head -1)" "$D/app.cpuprofile"
  mv "$(find "$K" -name 'k6.json*' | head -1)" "$D/k6.json"
  gzip -9 "$D/k6.json"
  rm -rf "$K"
fi
echo "recorded into $F"
