#!/usr/bin/env bash
# Side-by-side benchmark of the viewer's flame graph against speedscope 1.25
# (npm package, its built app in dist/release, served locally) in headless
# Chromium: time to the first flame graph drawn, search keystrokes, our zoom
# redraw (what is measured: tests/e2e/bench-flame.spec.js).
# Needs target/release/perfbundle built already (this script builds nothing).
# Downloads nothing but speedscope from npm (once, into ~/.cache/perfbundle).
# usage: scripts/bench-flame.sh [REPS=3]   → target/bench-flame/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
export PATH="$HOME/.cargo/bin:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin:$HOME/.cache/perfbundle/npm-tools/node_modules/.bin:$PATH"
BIN=target/release/perfbundle
IN=target/bench-profiles    # shared with scripts/bench-profiles.sh
OUT=target/bench-flame
SS_PREFIX="$HOME/.cache/perfbundle/speedscope"
SS_DIR="$SS_PREFIX/node_modules/speedscope/dist/release"
[ -x "$BIN" ] || { echo "$BIN is missing: build it first (cargo build --release -p perfbundle-cli)" >&2; exit 1; }
mkdir -p "$IN" "$OUT/profiles" "$OUT/bundles"

# Inputs. 1. the corpus' .cpuprofile (10k samples);
cp -f tests/corpus/runs/v1/cpu-prof/*.cpuprofile "$OUT/profiles/cpu-corpus.cpuprofile"
# 2. a real 62 s .cpuprofile, recorded once (needs k6; skipped without it);
CPU=$(ls "$IN"/*.cpuprofile 2>/dev/null | head -1 || true)
if [ -z "$CPU" ] && command -v k6 >/dev/null; then bash scripts/record-cpuprofile.sh "$IN"; CPU=$(ls "$IN"/*.cpuprofile | head -1); fi
[ -n "$CPU" ] && cp -f "$CPU" "$OUT/profiles/cpu-big.cpuprofile"
# 3. the corpus' perf script repeated to about 320 MB (as scripts/bench-profiles.sh),
if [ ! -s "$IN/perf-big.txt" ]; then
  zcat tests/corpus/runs/v1/perf/perf.script.txt.gz > "$IN/perf-one.txt"
  one=$(stat -c %s "$IN/perf-one.txt")
  for _ in $(seq $(( (320000000 + one - 1) / one ))); do cat "$IN/perf-one.txt"; done > "$IN/perf-big.txt"
fi
# and the same with each copy's timestamps moved 20 s after the previous copy's
# (speedscope refuses timestamps that go back: "Timestamps received out of order").
if [ ! -s "$IN/perf-big-mono.txt" ]; then
  awk '/^[^ \t]/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) {
         t = substr($i, 1, length($i) - 1) + 0; if (t < last) off += 20; last = t
         $i = sprintf("%.6f:", t + off); break } } { print }' "$IN/perf-big.txt" > "$IN/perf-big-mono.tmp"
  mv "$IN/perf-big-mono.tmp" "$IN/perf-big-mono.txt"
fi
ln -sf "$PWD/$IN/perf-big.txt" "$OUT/profiles/perf-big.txt"
ln -sf "$PWD/$IN/perf-big-mono.txt" "$OUT/profiles/perf-big-mono.txt"

# 4. a synthetic folded profile (not a tool's output) of the size issue 17 names:
#    1,570,500 samples over 150,000 distinct stacks (161,161 frames), depth 6 to 18.
if [ ! -s "$OUT/profiles/wide-1.57M.folded" ]; then
  python3 - "$OUT/profiles/wide-1.57M.folded" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(150_000):
        extra = [f"step{k}_{(i >> k) % 3}" for k in range(i % 13)]
        stack = ["main", f"service{i % 7}", f"handler{i % 97}", *extra, f"route{i % 1013}", f"parse{i % 10007}", f"leaf{i}"]
        out.write(";".join(stack) + f" {10 + (1 if i % 100 < 47 else 0)}\n")
PY
fi

# Our bundles of the same files (packed once), and the folded stacks of the perf one.
pack() { [ -s "$OUT/bundles/$1.perfbundle" ] || "$BIN" pack -q -o "$OUT/bundles/$1.perfbundle" "$2"; }
pack cpu-corpus "$OUT/profiles/cpu-corpus.cpuprofile"
[ -n "$CPU" ] && pack cpu-big "$OUT/profiles/cpu-big.cpuprofile"
pack perf-big "$IN/perf-big.txt"
pack perf-big-mono "$IN/perf-big-mono.txt"
pack wide-1.57M "$OUT/profiles/wide-1.57M.folded"
if [ ! -s "$OUT/profiles/perf-big.folded" ]; then
  rm -rf "$OUT/folded"
  "$BIN" export -q "$OUT/bundles/perf-big.perfbundle" --folded --out-dir "$OUT/folded"
  cp "$OUT/folded/perf-big.folded" "$OUT/profiles/perf-big.folded"
fi

# speedscope 1.25.0 from npm, once.
if [ ! -f "$SS_DIR/index.html" ]; then
  npm install --no-audit --no-fund --prefix "$SS_PREFIX" speedscope@1.25.0
fi

# Playwright with its own config (no webServer: the spec serves both sides itself).
cat > "$OUT/playwright.config.js" <<EOF
// Written by scripts/bench-flame.sh.
module.exports = {
  testDir: '$PWD/tests/e2e',
  testMatch: 'bench-flame.spec.js',
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: '$PWD/$OUT/test-results',
  use: {
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
};
EOF
rm -f "$OUT/results.md"
(cd tests/e2e && BENCH_FLAME=1 BENCH_REPS="$REPS" SPEEDSCOPE_DIR="$SS_DIR" npx playwright test --config "../../$OUT/playwright.config.js")
echo
cat "$OUT/results.md"
