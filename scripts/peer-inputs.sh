#!/usr/bin/env bash
# Lays out the peers' own test inputs for crates/perfbundle-cli/tests/formats.rs:
#   DEST/inferno/tests/data/collapse-perf/*.txt           (inferno's perf collapser tests)
#   DEST/speedscope/sample/profiles/…, src/**/__snapshots__ (speedscope's importers' tests)
# from git repositories of jonhoo/inferno and jlfwong/speedscope (a clone, or
# a bare mirror). They are the peers' files, so they are not committed here.
#
# usage: scripts/peer-inputs.sh INFERNO_GIT_DIR SPEEDSCOPE_GIT_DIR DEST
#        PERFBUNDLE_PEERS=DEST cargo test -p perfbundle-cli --test formats
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
INF=$1 SS=$2 DEST=$3
mkdir -p "$DEST/inferno" "$DEST/speedscope"
extract() { # GIT_DIR DEST PATH…: each file of the paths at HEAD (files git cannot read are skipped, with a note)
  local g=$1 d=$2; shift 2
  git --git-dir="$g" ls-tree -r --name-only HEAD -- "$@" | while read -r f; do
    mkdir -p "$d/$(dirname "$f")"
    git --git-dir="$g" show "HEAD:$f" > "$d/$f" 2>/dev/null || { rm -f "$d/$f"; echo "peer-inputs: $f is not in this copy" >&2; }
  done
}
gitdir() { if [ -d "$1/.git" ]; then echo "$1/.git"; else echo "$1"; fi; }
extract "$(gitdir "$INF")" "$DEST/inferno" tests/data/collapse-perf
extract "$(gitdir "$SS")" "$DEST/speedscope" sample/profiles src/import/__snapshots__ src/lib/__snapshots__
echo "PERFBUNDLE_PEERS=$DEST"
