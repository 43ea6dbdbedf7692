#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), seeded from the
# repository's own corpus (tests/corpus, archives/, fuzz/seeds), and prints
# one line per target: executions, crashes. A crash's input is kept in
# fuzz/artifacts/TARGET/ and makes the script exit 1.
# Needs cargo-fuzz (installed here from crates.io when missing) and a
# nightly toolchain (or, without one, the stable one with RUSTC_BOOTSTRAP=1).
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  FUZZ=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  FUZZ=(cargo fuzz)
fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=($(sed -n 's/^name = "\(.*\)"/\1/p' fuzz/Cargo.toml | grep -v '^perfbundle-fuzz$'))

# Seeds: the real outputs (heads of the large ones), plus hand-made ones in fuzz/seeds.
seed() { # target file [bytes]
  local d="fuzz/corpus/$1" f=$2 n=${3:-}
  mkdir -p "$d"
  [ -f "$f" ] || return 0
  local name; name=$(echo "$f" | tr '/' '_')
  if [[ "$f" == *.gz ]]; then
    # (head closes the pipe early: gzip's SIGPIPE is expected)
    if [ -n "$n" ]; then { gzip -dc "$f" 2>/dev/null || true; } | head -c "$n" > "$d/$name"; else gzip -dc "$f" > "$d/$name"; fi
  elif [ -n "$n" ]; then head -c "$n" "$f" > "$d/$name"
  else cp "$f" "$d/$name"; fi
}
C=tests/corpus
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  [ -d "fuzz/seeds/$t" ] && cp fuzz/seeds/"$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
done
for f in archives/*.perfbundle; do seed bundle_read "$f"; done
for f in $C/runs/*/k6-only/k6.json.gz; do seed k6_json "$f" 65536; done
for f in $C/runs/*/k6-only/k6.csv.gz; do seed k6_csv "$f" 65536; done
for f in $C/runs/*/k6-only/summary-export.json $C/runs/*/k6-only/handle-summary.json; do seed k6_summary "$f"; done
for f in $C/runs/*/cpu-prof/*.cpuprofile; do seed cpuprofile "$f"; done
for f in $C/runs/*/perf/perf.script.txt.gz; do seed perf_script "$f" 65536; done
for f in $C/runs/*/0x/*/*-v8.log.json*; do seed v8log "$f" 262144; done
for f in $C/runs/*/clinic-flame/*/*-clinic-flame-samples*; do seed clinic_flame "$f" 65536; done
for f in $C/formats/go/*.pprof; do mkdir -p fuzz/corpus/pprof; gzip -dc "$f" > "fuzz/corpus/pprof/$(basename "$f")"; done
for f in $C/formats/chrome/*.json.gz; do seed chrome_trace "$f" 262144; done
for f in $C/formats/py-spy/*.json; do seed speedscope "$f"; done
for f in $C/formats/perf/*.txt.gz; do seed perf_script "$f" 65536; done
for r in $C/runs/v2/cpu-prof; do
  [ -d "$r" ] || continue
  mkdir -p fuzz/corpus/align
  { gzip -dc "$r/k6.json.gz" | head -c 65536 || true; printf '\0'; cat "$r"/*.cpuprofile; } > fuzz/corpus/align/v2-cpu-prof
done
for d in $C/runs/*/clinic-doctor/*.clinic-doctor; do
  [ -d "$d" ] || continue
  mkdir -p fuzz/corpus/clinic_doctor
  { cat "$d"/*-processstat; printf '\377'; head -c 65536 "$d"/*-traceevent; printf '\377'; cat "$d"/*-systeminfo; } \
    > "fuzz/corpus/clinic_doctor/$(basename "$d")"
done
mkdir -p fuzz/corpus/expressions
for f in $C/runs/*/k6-only/summary-export.json; do
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for m in d.get("metrics",{}).values():
    for e in (m.get("thresholds") or {}): print(e)' "$f" | while read -r e; do
    printf '%s' "$e" > "fuzz/corpus/expressions/$(printf '%s' "$e" | sha1sum | cut -c1-12)"
  done
done

status=0
printf '%-22s %10s %12s %8s\n' target seconds executions crashes
for t in "${TARGETS[@]}"; do
  log=$(mktemp)
  mkdir -p "fuzz/artifacts/$t"
  if "${FUZZ[@]}" run "$t" "fuzz/corpus/$t" -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
      -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 > "$log" 2>&1; then crashes=0; else crashes=1; status=1; fi
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  [ -n "$execs" ] || execs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
  printf '%-22s %10s %12s %8s\n' "$t" "$SECS" "${execs:-?}" "$crashes"
  if [ $crashes -ne 0 ]; then tail -40 "$log" >&2; fi
  rm -f "$log"
done
exit $status
