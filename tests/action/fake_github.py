#!/usr/bin/env python3
"""A stand-in for the parts of GitHub's REST API the action uses, for
scripts/test-action.sh: artifacts (listed by name, downloaded through a
redirect as on GitHub), pull-request comments (listed, created, updated).
Requests to /repos/ must carry the token. State in STATE_DIR/state.json.

  fake_github.py PORT STATE_DIR"""
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, STATE = int(sys.argv[1]), sys.argv[2]
TOKEN = "fake-token-for-the-simulation"
os.makedirs(STATE, exist_ok=True)
SF = os.path.join(STATE, "state.json")


def load():
    return json.load(open(SF)) if os.path.exists(SF) else {"artifacts": [], "comments": [], "log": []}


def save(s):
    json.dump(s, open(SF, "w"), indent=2)


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", ctype="application/json", headers=()):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"null")

    def authorized(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.reply(401, {"message": "Bad credentials"})
            return False
        return True

    def handle_any(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = u.path.strip("/").split("/")
        s = load()
        s["log"].append(f"{method} {u.path}")
        save(s)
        if u.path == "/_sim/artifacts" and method == "POST":
            a = self.body()
            art = {"id": len(s["artifacts"]) + 1, "name": a["name"], "expired": False,
                   "created_at": f"2026-12-01T00:00:{len(s['artifacts']):02d}Z",
                   "archive_download_url": f"http://127.0.0.1:{PORT}/repos/example/shop/actions/artifacts/{len(s['artifacts']) + 1}/zip",
                   "workflow_run": {"id": int(a["run_id"]), "head_branch": a["head_branch"]}, "_zip": a["zip"]}
            s["artifacts"].append(art)
            save(s)
            return self.reply(201, {"id": art["id"]})
        if parts[0] == "blob" and method == "GET":
            # The signed storage URL: it must not get the token.
            if self.headers.get("Authorization"):
                return self.reply(400, {"message": "the token went to the storage host"})
            art = s["artifacts"][int(parts[1]) - 1]
            return self.reply(200, open(art["_zip"], "rb").read(), "application/zip")
        if parts[:1] != ["repos"] or not self.authorized():
            return None if parts[:1] == ["repos"] else self.reply(404, {"message": "Not Found"})
        rest = parts[3:]
        if rest == ["actions", "artifacts"] and method == "GET":
            arts = [dict((k, v) for k, v in a.items() if not k.startswith("_")) for a in s["artifacts"] if a["name"] == q.get("name")]
            return self.reply(200, {"total_count": len(arts), "artifacts": list(reversed(arts))})
        if len(rest) == 4 and rest[:2] == ["actions", "artifacts"] and rest[3] == "zip" and method == "GET":
            return self.reply(302, b"", "text/plain", [("Location", f"http://localhost:{PORT}/blob/{rest[2]}")])
        if len(rest) == 3 and rest[0] == "issues" and rest[2] == "comments":
            n = int(rest[1])
            if method == "GET":
                return self.reply(200, [c for c in s["comments"] if c["issue"] == n])
            if method == "POST":
                c = {"id": 1000 + len(s["comments"]), "issue": n, "body": self.body()["body"], "updates": 0}
                s["comments"].append(c)
                save(s)
                return self.reply(201, c)
        if len(rest) == 3 and rest[:2] == ["issues", "comments"] and method == "PATCH":
            for c in s["comments"]:
                if c["id"] == int(rest[2]):
                    c["body"] = self.body()["body"]
                    c["updates"] += 1
                    save(s)
                    return self.reply(200, c)
        return self.reply(404, {"message": "Not Found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")


ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
