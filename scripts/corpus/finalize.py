#!/usr/bin/env python3
"""usage: scripts/corpus/finalize.py tests/corpus/runs/VERSION   (from the repository root)

For every run folder just recorded by scripts/record-corpus.sh (it still holds
the hidden .stamp-*/.cmd-* files): writes meta.json — tool versions, host,
exact commands, timestamps (wall clock + CLOCK_MONOTONIC), exit codes — then
compresses with gzip -9 (the name gains .gz) the files that are large by
nature (V8 logs, clinic-flame samples, perf script text, 0x stacks, the 0x
and Clinic.js HTML reports) and any other file over 1 MiB, drops perf.data,
and lists every file with its size. A folder already finalized is re-indexed.
"""
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys

GZIP_OVER = 1 << 20
GZIP_BY_NAME = re.compile(
    r"(-v8\.log|-v8\.log\.json|-v8\.log\.preprocess-ready|clinic-flame-samples|^perf\.script\.txt|^stacks\.\d+\.out"
    r"|^flamegraph\.html|\.clinic-(doctor|flame)\.html)$"
)
# Not compressed: what k6 wrote (its .gz are its own), the small JSON/text files.
KEEP_AS_IS = re.compile(r"(^k6\.json\.gz|^k6\.csv\.gz|^k6-web-dashboard-report\.html)$")


def out(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001 - recorded as text
        return "unavailable: %s" % e


def npm_version(pkg):
    """The version of an npm package beside the `clinic`/`0x` found on PATH."""
    for tool in ("clinic", "0x"):
        p = shutil.which(tool)
        if not p:
            continue
        modules = os.path.dirname(os.path.dirname(os.path.realpath(p)))  # …/node_modules/<tool>/bin → node_modules
        while modules and os.path.basename(modules) != "node_modules":
            modules = os.path.dirname(modules)
        f = os.path.join(modules, pkg, "package.json")
        if os.path.isfile(f):
            return json.load(open(f))["version"]
    return None


def os_name():
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def virt():
    try:
        r = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None
    except Exception:  # noqa: BLE001
        return None


TOOLS = {
    "k6": out(["k6", "version"]),
    "node": out(["node", "--version"]),
    "v8": out(["node", "-p", "process.versions.v8"]),
    "0x": npm_version("0x"),
    "clinic": npm_version("clinic"),
    "@clinic/doctor": npm_version("@clinic/doctor"),
    "@clinic/flame": npm_version("@clinic/flame"),
    "perf": out(["perf", "--version"]),
    "python": platform.python_version(),
}
HOST = {
    "os": os_name(),
    "kernel": platform.release(),
    "arch": platform.machine(),
    "cpus": os.cpu_count(),
    "mem_total_kb": int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)),
    "virtualization": virt(),
}


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def app_events(d):
    """The app's own {"event":…} lines from its console (plain node, perf) or the profiler's console."""
    events = []
    for name in ("server-console.txt", "profiler-console.txt"):
        p = os.path.join(d, name)
        if not os.path.exists(p):
            continue
        for line in open(p, errors="replace"):
            m = re.search(r'\{"event":.*\}', line)
            if m:
                try:
                    events.append(json.loads(m.group(0)))
                except ValueError:
                    pass
    return events


def finalize(d, version):
    meta = {
        "corpus": "perfbundle tests/corpus",
        "app": "catalog-api",
        "app_version": version,
        "run": os.path.relpath(d, "tests/corpus"),
        "profiler": os.path.basename(d),
        "commands_run_from": "the repository root",
        "environment": {k: os.environ[k] for k in ("PORT", "NO_INSIGHT", "K6_NO_USAGE_REPORT") if k in os.environ},
        "tool_versions": TOOLS,
        "host": HOST,
    }
    hidden = sorted(f for f in os.listdir(d) if f.startswith("."))
    commands = {}
    for f in hidden:
        m = re.match(r"\.cmd-(.+)\.txt$", f)
        if m:
            commands[m.group(1)] = read(os.path.join(d, f))
    if read(os.path.join(d, ".k6-command.txt")):
        commands["k6"] = read(os.path.join(d, ".k6-command.txt"))
    env = read(os.path.join(d, ".k6-env.txt"))
    if env:
        commands["k6_environment"] = env.splitlines()
    meta["commands"] = commands

    stamps = {}
    for f in hidden:
        m = re.match(r"\.stamp-(.+)\.json$", f)
        if m:
            s = json.loads(read(os.path.join(d, f)))
            stamps[m.group(1)] = {"iso": s["iso"], "epoch_ms": s["epoch_ms"], "monotonic_ns": s["monotonic_ns"]}
    for e in app_events(d):
        if e.get("event") in ("listening", "shutdown"):
            s = {"epoch_ms": e["wall_ms"], "monotonic_ns": int(e["mono_ns"]), "pid": e["pid"]}
            if e.get("signal"):
                s["signal"] = e["signal"]
            stamps["app_" + e["event"]] = s
            if e["event"] == "listening":
                meta["app_pid"] = e["pid"]
    meta["timestamps"] = dict(sorted(stamps.items(), key=lambda kv: kv[1]["monotonic_ns"]))
    meta["timestamps_note"] = (
        "epoch_ms: wall clock, Unix ms (UTC); monotonic_ns: CLOCK_MONOTONIC, read back to back with it. "
        "run_start/run_end bracket the whole app or profiler process incl. the profiler's post-processing; "
        "k6_start/k6_end bracket the k6 process; stop_signal_sent is our SIGINT (absent where the profiler stops the app); "
        "app_listening/app_shutdown are printed by the app itself (Date.now() and process.hrtime.bigint())."
    )
    rc = read(os.path.join(d, ".k6-rc"))
    if rc is not None:
        meta["k6_exit_code"] = int(rc)
        if rc == "99":
            meta["k6_exit_code_note"] = "99: a threshold was crossed"
    prc = read(os.path.join(d, ".profiler-rc"))
    if prc is not None:
        meta["profiler_exit_code"] = int(prc)
    for f in hidden:
        os.remove(os.path.join(d, f))
    with open(os.path.join(d, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=2)
        fh.write("\n")
    compress_and_index(d)


def compress_and_index(d):
    mp = os.path.join(d, "meta.json")
    meta = json.load(open(mp))
    gz = meta.get("gzipped_by_corpus_script", {})
    dropped = meta.get("dropped", {})
    for root, _, files in os.walk(d):
        for f in sorted(files):
            p = os.path.join(root, f)
            rel = os.path.relpath(p, d)
            if rel == "meta.json" or KEEP_AS_IS.search(f) or f.endswith(".gz"):
                continue
            size = os.path.getsize(p)
            if f == "perf.data":
                dropped[rel] = {"bytes": size, "why": "binary; perf.script.txt.gz is `perf script` of it"}
                os.remove(p)
            elif GZIP_BY_NAME.search(f) or size > GZIP_OVER:
                with open(p, "rb") as src, gzip.GzipFile(p + ".gz", "wb", compresslevel=9, mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
                os.remove(p)
                gz[rel + ".gz"] = {"original_name": rel, "original_bytes": size}
    files = {}
    for root, _, fs in os.walk(d):
        for f in fs:
            rel = os.path.relpath(os.path.join(root, f), d)
            if rel != "meta.json":
                files[rel] = os.path.getsize(os.path.join(root, f))
    meta["files"] = dict(sorted(files.items()))
    meta["gzipped_by_corpus_script"] = dict(sorted(gz.items()))
    meta["dropped"] = dropped
    with open(mp, "w") as fh:
        json.dump(meta, fh, indent=2)
        fh.write("\n")


def main():
    version_dir = sys.argv[1].rstrip("/")
    version = os.path.basename(version_dir)
    for run in sorted(os.listdir(version_dir)):
        d = os.path.join(version_dir, run)
        if not os.path.isdir(d):
            continue
        if any(f.startswith(".stamp-") for f in os.listdir(d)):
            finalize(d, version)
            print("finalized", d)
        elif os.path.exists(os.path.join(d, "meta.json")):
            compress_and_index(d)
            print("re-indexed", d)
        else:
            print("skipped (not recorded)", d)


if __name__ == "__main__":
    main()
