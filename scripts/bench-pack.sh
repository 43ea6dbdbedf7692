#!/usr/bin/env bash
# Benchmark of `perfbundle pack` on the large k6 stream made by
# scripts/make-big-k6.sh, as a ratio to `gzip -dc` of the same file
# measured in the same session (machines here are noisy), plus peak memory.
# usage: scripts/bench-pack.sh [BIGDIR=target/bench-k6] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-target/bench-k6}
REPS=${2:-3}
GZ="$DIR/k6-big.json.gz"
if [ ! -s "$GZ" ]; then
  echo "no $GZ: generating it (90 s of k6 at 5,000 req/s)" >&2
  bash scripts/make-big-k6.sh "$DIR"
fi
cargo build --release --locked -q -p perfbundle-cli
BIN=target/release/perfbundle
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
gz_times=(); pack_times=(); peaks=()
for _ in $(seq "$REPS"); do
  gz_times+=("$($TIME -f %e gzip -dc "$GZ" 2>&1 >/dev/null | tail -1)")
  out=$($TIME -f '%e %M' "$BIN" pack -o "$DIR/big.perfbundle" "$GZ" 2>&1 | tail -1)
  pack_times+=("${out% *}")
  peaks+=("${out#* }")
done
gz=$(printf '%s\n' "${gz_times[@]}" | median)
pk=$(printf '%s\n' "${pack_times[@]}" | median)
peak=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)
raw=$(gzip -l "$GZ" | awk 'NR==2 {print $2}')
python3 - "$gz" "$pk" "$peak" "$raw" "$(stat -L -c %s "$GZ")" "$(stat -L -c %s "$DIR/big.perfbundle")" <<'PY'
import sys
gz, pk, peak, raw, gzsize, bsize = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"input: {gzsize/1e6:.1f} MB gzip, {raw/1e9:.2f} GB uncompressed (gzip -l; wraps past 4 GiB)")
print(f"gzip -dc     median {gz:.2f} s")
print(f"pack         median {pk:.2f} s   ratio {pk/gz:.2f}x gzip -dc   peak RSS {peak/1024:.0f} MB")
print(f"bundle: {bsize/1e6:.2f} MB")
PY
