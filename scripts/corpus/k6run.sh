#!/usr/bin/env bash
# usage: scripts/corpus/k6run.sh RUNDIR SCRIPT BASE_URL [more k6 arguments…]
# One k6 run for the corpus: writes RUNDIR/k6.json.gz (k6 gzips it itself),
# RUNDIR/summary-export.json and RUNDIR/k6-console.txt, and stamps (wall clock
# + CLOCK_MONOTONIC) just before and just after the k6 process. k6's exit
# status is kept in RUNDIR/.k6-rc; this script exits 0 so that a profiler's
# --on-port run goes on to write its files when thresholds fail (k6 exit 99).
set -u
RUNDIR=$1 SCRIPT=$2 BASE=$3
shift 3
HERE=$(dirname "$0")
mkdir -p "$RUNDIR"
export K6_NO_USAGE_REPORT=true
cmd=(k6 run --no-color --address "" -e "BASE_URL=$BASE" --out "json=$RUNDIR/k6.json.gz"
  --summary-export "$RUNDIR/summary-export.json" "$@" "$SCRIPT")
printf '%q ' "${cmd[@]}" | sed 's/ $//' > "$RUNDIR/.k6-command.txt"
env | grep '^K6_' | sort > "$RUNDIR/.k6-env.txt" || true
python3 "$HERE/stamp.py" k6_start > "$RUNDIR/.stamp-k6_start.json"
"${cmd[@]}" > "$RUNDIR/k6-console.txt" 2>&1
rc=$?
python3 "$HERE/stamp.py" k6_end > "$RUNDIR/.stamp-k6_end.json"
echo "$rc" > "$RUNDIR/.k6-rc"
exit 0
