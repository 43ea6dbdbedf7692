#!/usr/bin/env bash
# Installs what the build and the tests need; idempotent: each tool is
# installed only when it is missing. Only package registries are used.
set -euo pipefail
say() { printf 'setup: %s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "Rust (cargo) is needed: https://rustup.rs"; exit 1; }

if command -v rustup >/dev/null; then
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
    { say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || { say "adding $c"; rustup component add "$c"; }
  done
else
  say "no rustup: assuming the wasm32 target, rustfmt and clippy are installed"
fi
say "ready"
