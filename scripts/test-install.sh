#!/usr/bin/env bash
# Issue 20's check that an installed perfbundle needs no clone: a fresh clone
# of this repository (committed files only), `cargo install --locked --path
# crates/perfbundle-cli` from it, the clone deleted, then — from an empty
# folder — `html`, `site` and `view` with the viewer built into the binary.
# Leaves in target/install-test/ what tests/e2e/installed.spec.js opens in
# Chromium (the report; the site; the server's URL in view.url, the server
# itself left running with its pid in view.pid: the caller stops it).
#
# The build goes to target/ (CARGO_TARGET_DIR), shared with test.sh's release
# build, so that only the clone's own crates compile again (the clone is at
# a new path each time); PERFBUNDLE_INSTALL_FRESH=1 builds in a temporary folder
# as a user's `cargo install` does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
OUT=$ROOT/target/install-test
[ -f "$OUT/view.pid" ] && kill "$(cat "$OUT/view.pid")" 2>/dev/null || true
rm -rf "$OUT" && mkdir -p "$OUT"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
git clone -q "$ROOT" "$W/clone"
echo "fresh clone of $(git -C "$W/clone" rev-parse --short HEAD) in $W/clone"
if [ "${PERFBUNDLE_INSTALL_FRESH:-}" = 1 ]; then unset CARGO_TARGET_DIR; else export CARGO_TARGET_DIR="$ROOT/target"; fi
start=$(date +%s)
(cd "$W/clone" && cargo install --quiet --locked --path crates/perfbundle-cli --root "$W/inst")
echo "cargo install: $(( $(date +%s) - start )) s; binary $(stat -c %s "$W/inst/bin/perfbundle") bytes"
rm -rf "$W/clone"
test ! -e "$W/clone"
RUNS=$OUT/runs
mkdir "$RUNS" "$W/empty"
cp archives/orders-api-v1-k6.perfbundle archives/orders-api-v2-cpu-prof.perfbundle "$RUNS/"
BIN=$W/inst/bin/perfbundle
cd "$W/empty"
"$BIN" --version | tee "$OUT/version.txt"
grep -qE '^perfbundle [0-9.]+ \([0-9a-f]{7,}\)$' "$OUT/version.txt"
env -u PERFBUNDLE_VIEWER "$BIN" html "$RUNS/orders-api-v2-cpu-prof.perfbundle" -o "$OUT/report.html"
env -u PERFBUNDLE_VIEWER "$BIN" site "$RUNS" -o "$OUT/site"
test -f "$OUT/site/perfbundle-viewer.js"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u PERFBUNDLE_VIEWER "$BIN" view "$RUNS" --port "$PORT" > "$OUT/view.out" 2> "$OUT/view.err" &
echo $! > "$OUT/view.pid"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.2; done
grep -q "the viewer built into perfbundle" "$OUT/view.err"
curl -sf "http://127.0.0.1:$PORT/" | grep -q '<title>perfbundle viewer</title>'
wasm=$(curl -sf "http://127.0.0.1:$PORT/" | grep -o 'perfbundle-web-[0-9a-f]*_bg.wasm' | head -1)
curl -sf -o "$W/served.wasm" -w '%{content_type}\n' "http://127.0.0.1:$PORT/$wasm" | grep -q application/wasm
cmp "$W/served.wasm" "$ROOT/crates/perfbundle-cli/viewer-dist/$wasm"
echo "http://127.0.0.1:$PORT/" > "$OUT/view.url"
# The binary has no path back to the clone (deleted) nor to this repository.
test -z "$(cd "$W/empty" && ls -A)"
echo "installed binary: html, site and view work from an empty folder with the clone deleted ($OUT)"
