#!/usr/bin/env python3
"""The action's HTTP steps (action.yml, action/steps.sh), standard library only.

  gh.py artifact-base DEST        the base branch's last artifact's bundle into DEST/
  gh.py pages-base DEST           the Pages site's last run of the base branch into DEST/
  gh.py pages-runs DEST MAX SKIP  the Pages site's newest MAX runs into DEST/ (not the file named SKIP)
  gh.py comment BODY_FILE         create or update the pull request's comment

GitHub's API at $GITHUB_API_URL with $PB_TOKEN; the site at $PB_PAGES_URL.
Prints what it did on stderr; a run that finds nothing is not an error."""
import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile

API = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
REPO = os.environ.get("GITHUB_REPOSITORY", "")
TOKEN = os.environ.get("PB_TOKEN", "")


def say(msg):
    print(f"perfbundle action: {msg}", file=sys.stderr)


class NoAuthOnOtherHosts(urllib.request.HTTPRedirectHandler):
    """Artifact downloads redirect to signed storage URLs: the token goes to GitHub only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


OPENER = urllib.request.build_opener(NoAuthOnOtherHosts)


def request(url, method="GET", body=None, api=True):
    headers = {"User-Agent": "perfbundle-action"}
    if api:
        headers["Accept"] = "application/vnd.github+json"
        headers["X-GitHub-Api-Version"] = "2022-11-28"
        if TOKEN:
            headers["Authorization"] = f"Bearer {TOKEN}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with OPENER.open(req, timeout=120) as r:
        return r.read()


def api_json(path, method="GET", body=None):
    return json.loads(request(API + path, method, body) or b"null")


def artifact_base(dest):
    branch = os.environ.get("PB_BASE_BRANCH", "main")
    name = os.environ.get("PB_ARTIFACT", "perfbundle")
    this_run = os.environ.get("GITHUB_RUN_ID", "")
    q = urllib.parse.urlencode({"name": name, "per_page": 100})
    found = api_json(f"/repos/{REPO}/actions/artifacts?{q}").get("artifacts", [])
    found = [a for a in found if not a.get("expired") and (a.get("workflow_run") or {}).get("head_branch") == branch
             and str((a.get("workflow_run") or {}).get("id", "")) != this_run]
    if not found:
        say(f"no artifact '{name}' of branch {branch} kept")
        return 1
    a = max(found, key=lambda a: a.get("created_at", ""))
    say(f"base: artifact '{name}' #{a.get('id')} of {branch}, {a.get('created_at')}")
    zpath = os.path.join(dest, "artifact.zip")
    with open(zpath, "wb") as f:
        f.write(request(a["archive_download_url"]))
    with zipfile.ZipFile(zpath) as z:
        names = [n for n in z.namelist() if n.endswith(".perfbundle") and "/" not in n.strip("/")]
        if not names:
            say("the artifact holds no .perfbundle")
            return 1
        with z.open(names[0]) as src, open(os.path.join(dest, os.path.basename(names[0])), "wb") as out:
            shutil.copyfileobj(src, out)
    os.remove(zpath)
    return 0


def site_index():
    base = os.environ.get("PB_PAGES_URL", "").rstrip("/") + "/"
    try:
        ix = json.loads(request(base + "index.json", api=False))
    except Exception as e:  # no site yet (404), or not reachable
        say(f"{base}index.json: {e}")
        return base, []
    runs = ix.get("bundles", [])
    # Newest first: by start time, then by position in the index.
    order = sorted(range(len(runs)), key=lambda i: (runs[i].get("start") or "", i), reverse=True)
    return base, [runs[i] for i in order]


def download(base, entry, dest):
    name = os.path.basename(entry["file"])
    with open(os.path.join(dest, name), "wb") as f:
        f.write(request(urllib.parse.urljoin(base, entry["file"]), api=False))
    return name


def pages_base(dest):
    branch = os.environ.get("PB_BASE_BRANCH", "main")
    base, runs = site_index()
    runs = [r for r in runs if (r.get("labels") or {}).get("branch") == branch]
    if not runs:
        say(f"no run of {branch} on {base}")
        return 1
    say(f"base: {download(base, runs[0], dest)} from {base}")
    return 0


def pages_runs(dest, most, skip):
    base, runs = site_index()
    n = 0
    for r in runs:
        if n >= most or os.path.basename(r.get("file", "")) == skip:
            continue
        download(base, r, dest)
        n += 1
    say(f"{n} earlier run(s) from {base}")
    return 0


def comment(body_file):
    event = json.load(open(os.environ["GITHUB_EVENT_PATH"]))
    number = (event.get("pull_request") or {}).get("number")
    if not number:
        say("not a pull request: no comment")
        return 0
    body = open(body_file, encoding="utf-8").read()
    marker = body.splitlines()[0]
    mine = None
    for page in range(1, 11):
        batch = api_json(f"/repos/{REPO}/issues/{number}/comments?per_page=100&page={page}")
        mine = next((c for c in batch if (c.get("body") or "").startswith(marker)), None)
        if mine or len(batch) < 100:
            break
    try:
        if mine:
            api_json(f"/repos/{REPO}/issues/comments/{mine['id']}", "PATCH", {"body": body})
            say(f"updated the comment on #{number}")
        else:
            api_json(f"/repos/{REPO}/issues/{number}/comments", "POST", {"body": body})
            say(f"commented on #{number}")
    except urllib.error.HTTPError as e:
        # A pull request from a fork gets a read-only token: the summary still has the report.
        print(f"::warning::cannot comment on #{number} ({e.code}); the job summary has the report")
    return 0


def main(argv):
    try:
        return run(argv)
    except urllib.error.HTTPError as e:
        say(f"{e.url}: HTTP {e.code} {e.reason}")
        return 1
    except (urllib.error.URLError, OSError) as e:
        say(f"{e}")
        return 1


def run(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "artifact-base":
        return artifact_base(argv[2])
    if cmd == "pages-base":
        return pages_base(argv[2])
    if cmd == "pages-runs":
        return pages_runs(argv[2], int(argv[3]), argv[4])
    if cmd == "comment":
        return comment(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
