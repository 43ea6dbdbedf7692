#!/usr/bin/env python3
"""Runs a composite action's steps (action.yml) locally the way a GitHub
runner does: each `run:` step in `bash --noprofile --norc -eo pipefail` with
the GITHUB_* variables and files (GITHUB_OUTPUT per step, GITHUB_STEP_SUMMARY,
GITHUB_PATH, GITHUB_ENV, GITHUB_EVENT_PATH), `${{ }}` expressions over
inputs, github, steps, env and runner, and `if:` conditions. `uses:` steps are
stood in for: actions/upload-artifact copies its files into --artifacts and
registers them with the stand-in API (tests/action/fake_github.py).

  run_action.py --repo ROOT --work DIR --event push|pull_request [--pr N]
                --ref-name main [--head-ref BRANCH] --sha SHA --run-id N
                --api URL --artifacts DIR --input k=v ...

Prints each step as the runner's log does and writes DIR/result.json
(the action's outputs, each step's outcome); exits 1 when a step failed."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

import yaml

ap = argparse.ArgumentParser()
ap.add_argument("--repo", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--event", required=True)
ap.add_argument("--pr", type=int)
ap.add_argument("--ref-name", required=True)
ap.add_argument("--head-ref", default="")
ap.add_argument("--sha", required=True)
ap.add_argument("--run-id", required=True)
ap.add_argument("--api", required=True)
ap.add_argument("--artifacts", required=True)
ap.add_argument("--input", action="append", default=[])
args = ap.parse_args()

action = yaml.safe_load(open(os.path.join(args.repo, "action.yml")))
assert action["runs"]["using"] == "composite", "a composite action"
work = os.path.abspath(args.work)
os.makedirs(work, exist_ok=True)
temp = os.path.join(work, "runner-temp")
shutil.rmtree(temp, ignore_errors=True)
os.makedirs(temp)
files = {k: os.path.join(work, f"github_{k}") for k in ("step_summary", "path", "env")}
for f in files.values():
    open(f, "w").close()
event = {"pull_request": {"number": args.pr, "head": {"ref": args.head_ref}}} if args.event == "pull_request" else {"ref": f"refs/heads/{args.ref_name}"}
event_path = os.path.join(work, "event.json")
json.dump(event, open(event_path, "w"))
token = "fake-token-for-the-simulation"

github = {
    "event_name": args.event, "sha": args.sha, "ref_name": args.ref_name, "head_ref": args.head_ref,
    "repository": "example/shop", "run_id": args.run_id, "token": token, "action_path": os.path.abspath(args.repo),
    "workspace": work, "api_url": args.api, "event": event,
}
base_env = dict(os.environ)
base_env.update({
    "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": args.event, "GITHUB_SHA": args.sha,
    "GITHUB_REF_NAME": args.ref_name, "GITHUB_HEAD_REF": args.head_ref, "GITHUB_REPOSITORY": "example/shop",
    "GITHUB_RUN_ID": args.run_id, "GITHUB_ACTION_PATH": github["action_path"], "GITHUB_WORKSPACE": work,
    "GITHUB_API_URL": args.api, "GITHUB_EVENT_PATH": event_path, "RUNNER_TEMP": temp,
    "GITHUB_STEP_SUMMARY": files["step_summary"], "GITHUB_PATH": files["path"], "GITHUB_ENV": files["env"],
})

inputs = {}
for kv in args.input:
    k, v = kv.split("=", 1)
    assert k in action.get("inputs", {}), f"unknown input {k}"
steps_ctx = {}
status = {"failed": False}
given = dict(kv.split("=", 1) for kv in args.input)


def lookup(path):
    parts = path.split(".")
    roots = {"inputs": inputs, "github": github, "steps": steps_ctx, "env": base_env, "runner": {"temp": temp}}
    cur = roots[parts[0]]
    for p in parts[1:]:
        cur = cur.get(p, "") if isinstance(cur, dict) else ""
    return cur


TOKEN = re.compile(r"\s*(?:(?P<s>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<fn>success\(\)|failure\(\)|always\(\))|(?P<id>[A-Za-z_][\w.-]*)|(?P<num>\d+))")


def evaluate(expr):
    """GitHub's expression language, the part action.yml uses."""
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise SystemExit(f"cannot evaluate: {expr!r} at {pos}")
        pos = m.end()
        if m["s"]:
            out.append(repr(m["s"][1:-1].replace("''", "'")))
        elif m["op"]:
            out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], m["op"]))
        elif m["fn"]:
            out.append({"success()": repr(not status["failed"]), "failure()": repr(status["failed"]), "always()": "True"}[m["fn"]])
        elif m["id"]:
            out.append({"true": "True", "false": "False", "null": "None"}.get(m["id"]) or repr(lookup(m["id"])))
        else:
            out.append(m["num"])
    return eval("".join(out), {"__builtins__": {}})


def substitute(text):
    def one(m):
        v = evaluate(m.group(1))
        return "" if v is None else ("true" if v is True else "false" if v is False else str(v))
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text), flags=re.S)


# Inputs: those given, else the defaults (expressions in defaults evaluated, as on GitHub).
for name, spec in action.get("inputs", {}).items():
    inputs[name] = given[name] if name in given else substitute(spec.get("default", ""))


def read_kv(path):
    """A GITHUB_OUTPUT / GITHUB_ENV file: NAME=value lines and NAME<<DELIM blocks."""
    out, lines = {}, open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delim = line.split("<<", 1)
            val = []
            i += 1
            while lines[i] != delim:
                val.append(lines[i])
                i += 1
            out[name] = "\n".join(val)
        elif "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        i += 1
    return out


def upload_artifact(with_):
    name, path = with_["name"], with_["path"]
    dest = os.path.join(args.artifacts, f"{args.run_id}-{name}")
    os.makedirs(dest, exist_ok=True)
    paths = [p for p in path.split("\n") if p.strip()]
    if not paths or not all(os.path.exists(p) for p in paths):
        raise RuntimeError(f"upload-artifact: no files at {path!r}")
    zpath = dest + ".zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for p in paths:
            shutil.copy(p, dest)
            z.write(p, os.path.basename(p))
    branch = args.head_ref or args.ref_name
    body = json.dumps({"name": name, "zip": zpath, "head_branch": branch, "run_id": args.run_id}).encode()
    urllib.request.urlopen(urllib.request.Request(args.api + "/_sim/artifacts", data=body, method="POST"), timeout=10)
    print(f"  (stand-in) uploaded artifact {name!r} of branch {branch}: {', '.join(map(os.path.basename, paths))}")


results = []
for i, step in enumerate(action["runs"]["steps"]):
    sid = step.get("id", f"__{i}")
    name = step.get("name", sid)
    cond = step.get("if", "success()")
    cond = str(cond).strip()
    cond = cond[3:-2] if cond.startswith("${{") else cond
    # As on GitHub: a condition without a status function runs only after success.
    if not re.search(r"\b(success|failure|always|cancelled)\(\)", cond):
        cond = f"success() && ({cond})"
    if not evaluate(str(cond)):
        print(f"::group::{name} (skipped: {step.get('if')})\n::endgroup::")
        steps_ctx[sid] = {"outputs": {}, "outcome": "skipped"}
        results.append((name, "skipped"))
        continue
    print(f"::group::{name}", flush=True)
    outcome = "success"
    outputs = {}
    if "uses" in step:
        with_ = {k: substitute(v) for k, v in (step.get("with") or {}).items()}
        try:
            if step["uses"].startswith("actions/upload-artifact@"):
                upload_artifact(with_)
            else:
                raise RuntimeError(f"no stand-in for {step['uses']}")
        except Exception as e:
            print(f"  error: {e}")
            outcome = "failure"
    else:
        assert step.get("shell") == "bash", "run steps in bash"
        env = dict(base_env)
        # GITHUB_ENV and GITHUB_PATH written by earlier steps.
        env.update(read_kv(files["env"]))
        extra = [l for l in open(files["path"]).read().split("\n") if l]
        env["PATH"] = ":".join(list(reversed(extra)) + [env["PATH"]])
        env.update({k: substitute(v) for k, v in (step.get("env") or {}).items()})
        out_file = os.path.join(work, f"github_output_{i}")
        open(out_file, "w").close()
        env["GITHUB_OUTPUT"] = out_file
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False, dir=temp) as f:
            f.write(substitute(step["run"]))
        rc = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", f.name], env=env, cwd=work)
        outputs = read_kv(out_file)
        if rc != 0:
            print(f"::error::Process completed with exit code {rc}.")
            outcome = "failure"
    steps_ctx[sid] = {"outputs": outputs, "outcome": outcome}
    results.append((name, outcome))
    if outcome == "failure":
        status["failed"] = True
    print("::endgroup::", flush=True)

outputs = {k: substitute(v["value"]) for k, v in action.get("outputs", {}).items()}
json.dump({"outputs": outputs, "steps": results, "failed": status["failed"]}, open(os.path.join(work, "result.json"), "w"), indent=2)
for n, o in results:
    print(f"  {o:8} {n}")
sys.exit(1 if status["failed"] else 0)
