#!/usr/bin/env bash
# Builds the mdBook example (examples/mdbook) into target/book, with the
# viewer and an archives/ bundle beside it, as docs/embedding.md describes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
[ -d dist ] || bash scripts/build-viewer.sh
rm -rf target/book
mdbook build examples/mdbook -d ../../target/book
cp -r dist target/book/viewer
mkdir -p target/book/runs
cp archives/orders-api-v1-k6.perfbundle archives/orders-api-v2-k6.perfbundle target/book/runs/
echo "target/book: the book, its viewer and runs"
