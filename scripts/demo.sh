#!/usr/bin/env bash
# README's first command: builds everything (the CLI and the browser viewer)
# and shows the example bundles of archives/ in the viewer, served on
# 127.0.0.1 (open the printed URL; Ctrl-C stops). PORT=… picks the port;
# NO_SERVE=1 builds and checks without serving.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -p perfbundle-cli
bash scripts/build-viewer.sh
BIN=target/release/perfbundle
for b in archives/*.perfbundle; do "$BIN" verify "$b" >/dev/null; done
"$BIN" inspect archives/orders-api-v1-k6.perfbundle | head -20
[ "${NO_SERVE:-}" = 1 ] && exit 0
exec "$BIN" view archives --port "${PORT:-8765}"
