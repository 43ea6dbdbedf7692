#!/usr/bin/env bash
# Builds everything and shows the example bundles: packs the real corpus runs
# (v1 and v2) and prints their k6-style summaries. (The browser viewer comes
# with a later issue; until then this is the view.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked
BIN=target/release/perfbundle
CORPUS=${PERFBUNDLE_CORPUS:-../shared/corpus}
mkdir -p target/examples
if [ -d "$CORPUS/runs" ]; then
  for v in v1 v2; do
    "$BIN" pack -o "target/examples/orders-api-$v.perfbundle" --label version="$v" --title "orders-api $v" \
      "$CORPUS/runs/$v/k6-only/k6.json.gz" "$CORPUS/runs/$v/k6-only/summary-export.json"
  done
  set -- target/examples/*.perfbundle
else
  echo "(no corpus at $CORPUS: showing the bundles in archives/)" >&2
  set -- archives/*.perfbundle
fi
for b in "$@"; do
  "$BIN" verify "$b"
  "$BIN" inspect "$b"
done
