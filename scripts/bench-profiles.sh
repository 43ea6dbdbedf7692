#!/usr/bin/env bash
# Benchmarks of profile ingest, as ratios to a reference run in the same session:
#  1. folding a large perf script: perfbundle's ingest (examples/fold_perf: line
#     check + inferno's collapser + the stack model) against `inferno-collapse-perf`
#     on the same file, and the whole `perfbundle pack` (which also hashes the input);
#  2. a large .cpuprofile: `perfbundle pack` against Node's own JSON.parse of it.
# usage: scripts/bench-profiles.sh [WORKDIR=target/bench-profiles] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-target/bench-profiles}
REPS=${2:-3}
CORPUS=${PERFBUNDLE_CORPUS:-tests/corpus}
mkdir -p "$DIR"
command -v inferno-collapse-perf >/dev/null || cargo install inferno --version 0.12.8 --locked
cargo build --release --locked -q -p perfbundle-cli
cargo build --release --locked -q -p perfbundle-core --features multithreaded --example fold_perf

# The corpus' real v1 perf script, repeated to about 320 MB (tests/corpus: 4.6 MB, 70 times).
BIG="$DIR/perf-big.txt"
if [ ! -s "$BIG" ]; then
  zcat "$CORPUS/runs/v1/perf/perf.script.txt.gz" > "$DIR/perf-one.txt"
  one=$(stat -c %s "$DIR/perf-one.txt")
  for _ in $(seq $(( (320000000 + one - 1) / one ))); do cat "$DIR/perf-one.txt"; done > "$BIG"
fi
BIG_MB=$(( $(stat -c %s "$BIG") / 1000000 ))
# A real 62 s .cpuprofile at a 50 µs interval (see scripts/record-cpuprofile.sh).
CPU=$(ls "$DIR"/*.cpuprofile 2>/dev/null | head -1 || true)
if [ -z "$CPU" ]; then bash scripts/record-cpuprofile.sh "$DIR"; CPU=$(ls "$DIR"/*.cpuprofile | head -1); fi

t() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
inf=(); fold=(); pack=(); node_t=(); cpack=()
for _ in $(seq "$REPS"); do
  inf+=("$(t inferno-collapse-perf "$BIG")")
  fold+=("$(t target/release/examples/fold_perf "$BIG")")
  pack+=("$(t target/release/perfbundle pack -o "$DIR/perf.perfbundle" "$BIG")")
  node_t+=("$(t node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1])); let n = 0; for (const s of p.samples) n += s' "$CPU")")
  cpack+=("$(t target/release/perfbundle pack -o "$DIR/cpu.perfbundle" "$CPU")")
done
cmp <(inferno-collapse-perf "$BIG") <(target/release/examples/fold_perf "$BIG") && echo "folded output: identical to inferno-collapse-perf"
m() { printf '%s\n' "$@" | median; }
python3 - "$(m "${inf[@]}")" "$(m "${fold[@]}")" "$(m "${pack[@]}")" "$(m "${node_t[@]}")" "$(m "${cpack[@]}")" "$BIG_MB" <<'PY'
import sys
inf, fold, pack, node, cpack = map(float, sys.argv[1:6])
print(f"perf script {sys.argv[6]} MB: inferno-collapse-perf {inf:.2f} s | perfbundle fold {fold:.2f} s ({fold/inf:.2f}x) | perfbundle pack {pack:.2f} s ({pack/inf:.2f}x)")
print(f".cpuprofile: node JSON.parse {node:.3f} s | perfbundle pack {cpack:.3f} s ({cpack/node:.2f}x)")
PY
