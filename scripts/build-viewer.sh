#!/usr/bin/env bash
# Builds the viewer (web/) with trunk into dist/, offline: wasm-bindgen from
# PATH at the Cargo.lock version, wasm-opt off. Then allows trunk's inline
# loader script in the Content-Security-Policy by its hash (only index.html
# is touched: the wasm and JS keep their SRI hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
TRUNK_OFFLINE=true trunk build --release --offline
python3 - <<'PY'
import base64, hashlib, re
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
print("dist/ built;", len(hashes), "inline script(s) allowed by hash")
PY
