#!/usr/bin/env bash
# Builds the viewer (web/) with trunk into dist/, offline: wasm-bindgen from
# PATH at the Cargo.lock version, wasm-opt off (binaryen 132's -Oz saved 0.4 %
# of the gzip-compressed wasm: not worth a tool), Leptos's components type-erased
# (`--cfg erase_components`: one render path for many view types, 13 % smaller
# gzip-compressed, no slower in the browser tests). Then allows trunk's inline
# loader script in the Content-Security-Policy by its hash (only index.html
# is touched: the wasm and JS keep their SRI hashes), and writes
# perfbundle-viewer.js (the <perfbundle-viewer> element) with this build's
# file names.
#
# The build is reproducible: the same sources and toolchain give the same
# bytes (paths into Cargo's home are remapped, so it does not matter where
# that is). The CLI carries a copy of dist/ (crates/perfbundle-cli/viewer-dist,
# committed, embedded by its build.rs):
#   --embed   also copy the build there (then commit it)
#   --check   fail when the committed copy differs from this build (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in ""|--embed|--check) ;; *) echo "usage: $0 [--embed|--check]" >&2; exit 2 ;; esac
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components --remap-path-prefix=$CARGO_HOME_DIR=/cargo --remap-path-prefix=$PWD=/perfbundle"
TRUNK_OFFLINE=true trunk build --release --offline
python3 - <<'PY'
import base64, glob, hashlib, os, re
p = "dist/index.html"
html = open(p, encoding="utf-8").read()
hashes = []
for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S):
    hashes.append("'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode() + "'")
csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
if csp and hashes:
    new = csp.group(1).replace("script-src 'self'", "script-src 'self' " + " ".join(hashes))
    html = html.replace(csp.group(1), new)
    open(p, "w", encoding="utf-8").write(html)
def one(pattern):
    found = sorted(os.path.basename(f) for f in glob.glob("dist/" + pattern))
    if len(found) != 1:
        raise SystemExit(f"dist/: expected one {pattern}, found {found}")
    return found[0]
wasm = one("*_bg.wasm")
glue = one("perfbundle-web*.js")
css = one("*.css")
js = open("web/perfbundle-viewer.js", encoding="utf-8").read()
js = js.replace("__PERFBUNDLE_GLUE__", glue).replace("__PERFBUNDLE_WASM__", wasm).replace("__PERFBUNDLE_CSS__", css)
open("dist/perfbundle-viewer.js", "w", encoding="utf-8").write(js)
print("dist/ built;", len(hashes), "inline script(s) allowed by hash; perfbundle-viewer.js for", glue)
PY
EMBED=crates/perfbundle-cli/viewer-dist
case "$mode" in
  --embed)
    rm -rf "$EMBED" && mkdir -p "$EMBED" && cp -r dist/. "$EMBED/"
    echo "copied into $EMBED: commit it (CI checks it matches the sources)" ;;
  --check)
    if ! diff -r dist "$EMBED" >/dev/null 2>&1; then
      diff -rq dist "$EMBED" || true
      echo "the viewer built into the CLI ($EMBED) is not the one the sources build:" >&2
      echo "run 'bash scripts/build-viewer.sh --embed' and commit $EMBED" >&2
      exit 1
    fi
    echo "$EMBED matches the sources" ;;
esac
