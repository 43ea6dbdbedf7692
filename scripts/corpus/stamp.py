#!/usr/bin/env python3
"""usage: stamp.py LABEL — prints {"label","iso","epoch_ms","monotonic_ns"}: the wall
clock and CLOCK_MONOTONIC read back to back, for lining up the run's timelines."""
import datetime
import json
import sys
import time

mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
wall = time.time_ns()
iso = datetime.datetime.fromtimestamp(wall / 1e9, datetime.timezone.utc).isoformat(timespec="microseconds")
print(json.dumps({
    "label": sys.argv[1] if len(sys.argv) > 1 else "",
    "iso": iso.replace("+00:00", "Z"),
    "epoch_ms": round(wall / 1e6, 3),
    "monotonic_ns": mono,
}))
