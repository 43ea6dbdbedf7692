#!/usr/bin/env bash
# Every check, as CI runs it (.ci/run calls this): formatting, lints with
# warnings denied, the tests (unit, property, the real corpus, the CLI as a
# process), and the wasm32 build of the core crate, which must do no I/O.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "core stays free of file-system and network I/O"
if grep -rnE 'std::(fs|net|process)|tokio|reqwest' crates/perfbundle-core/src; then
  echo "the core crate must take Read/Write/bytes, not open files or sockets" >&2
  exit 1
fi

step "core builds for wasm32-unknown-unknown"
cargo build -p perfbundle-core --target wasm32-unknown-unknown --locked

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log"
