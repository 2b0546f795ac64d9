"""A fake GitHub at the HTTP boundary, shared by every app test.

Every request is checked against GitHub's OpenAPI description of the operations driftbot uses
(`../shared/github/rest-operations.json`, copied to tests/github/): the method and path must be a
known operation, query parameters and JSON bodies must validate against its schemas (OpenAPI 3.0
`nullable` converted to JSON Schema). Problems are collected in ``violations``; the test fixture
fails any test that leaves one.

Repository content comes from real git repositories made in the tests (trees, blobs, compare and
PR files are read with `git`). Failures can be injected per operation: status codes with headers
(5xx, 403/429 with retry-after), or timeouts.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import jsonschema
import jwt
from aiohttp import web

OPERATIONS = Path(__file__).resolve().parent / "github" / "rest-operations.json"


def openapi_to_jsonschema(schema):
    """OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a "null" type; OpenAPI-only keys dropped."""
    if isinstance(schema, list):
        return [openapi_to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: openapi_to_jsonschema(v) for k, v in schema.items()
           if k not in ("nullable", "discriminator", "example", "examples", "xml", "externalDocs", "deprecated",
                        "readOnly", "writeOnly")}
    if schema.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        elif t is None and ("oneOf" in out or "anyOf" in out or "allOf" in out):
            out = {"anyOf": [out, {"type": "null"}]}
        if "enum" in out and None not in out["enum"]:
            out["enum"] = list(out["enum"]) + [None]
    return out


@dataclass
class Operation:
    id: str
    method: str
    path: str
    regex: re.Pattern
    params: list
    body_schema: dict | None
    body_required: bool


def load_operations() -> list[Operation]:
    data = json.loads(OPERATIONS.read_text())
    ops = []
    for op_id, op in data.items():
        rx = "^" + re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)" if m.group(1) not in ("path", "ref")
                          else f"(?P<{m.group(1)}>.+)", op["path"]) + "$"
        body = op.get("requestBody") or None
        ops.append(Operation(op_id, op["method"].upper(), op["path"], re.compile(rx), op.get("parameters", []),
                             openapi_to_jsonschema(body["schema"]) if body else None,
                             bool(body and body.get("required"))))
    # more specific paths first (compare literal segment counts)
    ops.sort(key=lambda o: -o.path.count("/") + 0.1 * o.path.count("{"))
    return ops


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, input=input).stdout.decode()


class GitRepo:
    """A real git repository for a test: write files, commit, branch."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "user.email", "dev@example.com")
        git(path, "config", "user.name", "Dev")

    def commit(self, files: dict[str, str | bytes | None], message: str = "change", branch: str | None = None) -> str:
        if branch:
            git(self.path, "checkout", "-q", "-B", branch)
        for rel, content in files.items():
            p = self.path / rel
            if content is None:
                if p.exists():
                    p.unlink()
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content if isinstance(content, bytes) else content.encode())
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.path, "rev-parse", "HEAD").strip()

    def checkout(self, branch: str) -> None:
        git(self.path, "checkout", "-q", branch)


@dataclass
class FakeRepo:
    owner: str
    name: str
    git: GitRepo
    installation_id: int
    id: int
    permissions: dict = field(default_factory=dict)  # login -> admin|write|read|none
    issues: dict = field(default_factory=dict)  # number -> issue dict
    comments: dict = field(default_factory=dict)  # id -> comment dict
    check_runs: dict = field(default_factory=dict)  # id -> check run dict
    pulls: dict = field(default_factory=dict)  # number -> {"base": sha, "head": sha, ...}
    reactions: list = field(default_factory=list)
    fork: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Failure:
    op_id: str
    status: int = 500
    headers: dict = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0  # seconds to hang before answering (timeouts)
    after: bool = False  # do the work, then fail: the response is lost, the effect is not


class FakeGitHub:
    BOT_LOGIN = "driftbot[bot]"

    def __init__(self, app_id: str, public_key: str):
        self.app_id = app_id
        self.public_key = public_key
        self.ops = load_operations()
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str, str]] = []  # (op id, method, path)
        self.violations: list[str] = []
        self.failures: list[Failure] = []
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation, expires)
        self.token_requests = 0
        self.etag_hits = 0
        self._ids = itertools.count(1000)
        self._issue_numbers: dict[str, itertools.count] = {}
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.handle)
        self.url = ""  # set by the fixture
        self.manifest_codes: dict[str, dict] = {}  # code → the app GitHub made from a manifest
        self.archive_tokens: dict[str, tuple[str, str]] = {}  # download token → (repository, commit)
        self.rate_left: int | None = None  # set: answers carry X-RateLimit-* headers with this many left
        self.rate_reset: float = 0.0  # when the hour those headers speak of ends (epoch seconds)
        self.archive_fault: str | None = None  # "broken" or "refused": the archive download goes wrong

    # ---- set-up ------------------------------------------------------------------------
    def add_repo(self, owner: str, name: str, git_repo: GitRepo, installation_id: int = 1) -> FakeRepo:
        r = FakeRepo(owner, name, git_repo, installation_id, next(self._ids))
        self.repos[r.full_name.lower()] = r
        self._issue_numbers[r.full_name.lower()] = itertools.count(1)
        return r

    def open_pull(self, repo: FakeRepo, base_branch: str, head_branch: str, number: int | None = None) -> int:
        number = number or next(self._issue_numbers[repo.full_name.lower()])
        repo.pulls[number] = {"base_ref": base_branch, "head_ref": head_branch}
        return number

    def fail(self, op_id: str, status: int = 500, times: int = 1, headers: dict | None = None, delay: float = 0.0,
             after: bool = False):
        self.failures.append(Failure(op_id, status, headers or {}, times, delay, after))

    def add_issue(self, repo: "FakeRepo", title: str, body: str, login: str) -> int:
        """An issue somebody else opened."""
        number = next(self._issue_numbers[repo.full_name.lower()])
        repo.issues[number] = {"number": number, "title": title, "body": body, "state": "open", "labels": [],
                               "state_reason": None, "author": login}
        return number

    def count(self, op_id: str | None = None) -> int:
        return sum(1 for r in self.requests if op_id is None or r[0] == op_id)

    # ---- the HTTP boundary -------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        if path.startswith("/_codeload/"):  # where the archive operation redirects: not the API
            return self._codeload(request, path)
        op, params = self._match(request.method, path)
        if op is None:
            self.violations.append(f"{request.method} {path}: not an operation in rest-operations.json")
            return web.json_response({"message": "Not Found"}, status=404)
        self.requests.append((op.id, request.method, path))
        raw = await request.read()
        body = self._validate(op, request, params, raw)
        lost = None
        for f in self.failures:
            if f.op_id == op.id and f.times > 0:
                f.times -= 1
                if f.delay:
                    await asyncio.sleep(f.delay)
                if not f.after:
                    return web.json_response({"message": "injected failure"}, status=f.status, headers=f.headers)
                lost = f
                break
        auth = request.headers.get("Authorization", "")
        if op.id == "apps/create-installation-access-token":
            return self._access_token(auth, int(params["installation_id"]))
        if op.id == "apps/get-authenticated":
            if not self._jwt_ok(auth):
                return web.json_response({"message": "A JSON web token could not be decoded"}, status=401)
            return web.json_response({"id": int(self.app_id), "slug": "driftbot", "name": "driftbot test",
                                      "owner": self._user("acme"), "html_url": "https://github.test/apps/driftbot-test"})
        if op.id == "apps/create-from-manifest":
            made = self.manifest_codes.pop(params["code"], None)  # a code works once
            return web.json_response(made or {"message": "Not Found"}, status=201 if made else 404)
        repo = self.repos.get(f"{params.get('owner', '')}/{params.get('repo', '')}".lower())
        if "owner" in params and repo is None:
            return web.json_response({"message": "Not Found"}, status=404)
        if not self._authorised(auth, repo):
            return web.json_response({"message": "Bad credentials"}, status=401)
        handler = getattr(self, "op_" + op.id.replace("/", "_").replace("-", "_"))
        result = handler(repo, params, dict(request.query), body)
        if lost is not None:  # done, but the answer never arrives
            return web.json_response({"message": "injected failure after the work was done"}, status=lost.status,
                                     headers=lost.headers)
        status, data, headers = result if isinstance(result, tuple) else (200, result, {})
        if self.rate_left is not None:  # GitHub's rate-limit headers, as a test sets them
            headers = {**headers, "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(self.rate_left),
                       "X-RateLimit-Reset": str(int(self.rate_reset)), "X-RateLimit-Resource": "core"}
        if request.method == "GET" and status == 200:
            etag = '"%s"' % abs(hash(json.dumps(data, sort_keys=True, default=str)))
            headers = {**headers, "ETag": etag}
            if request.headers.get("If-None-Match") == etag:
                self.etag_hits += 1
                return web.Response(status=304, headers=headers)
        if status == 204:
            return web.Response(status=204, headers=headers)
        if status in (301, 302):
            return web.Response(status=status, headers=headers)
        return web.json_response(data, status=status, headers=headers)

    def _match(self, method: str, path: str):
        for op in self.ops:
            if op.method != method:
                continue
            m = op.regex.match(path)
            if m:
                return op, m.groupdict()
        return None, {}

    def _validate(self, op: Operation, request: web.Request, params: dict, raw: bytes):
        where = f"{op.id} ({request.method} {request.path})"
        for p in op.params:
            if p["in"] == "query" and p["name"] in request.query:
                value = request.query[p["name"]]
                t = p.get("schema", {}).get("type")
                if t == "integer" and not value.lstrip("-").isdigit():
                    self.violations.append(f"{where}: query {p['name']}={value!r} is not an integer")
                enum = p.get("schema", {}).get("enum")
                if enum and value not in enum:
                    self.violations.append(f"{where}: query {p['name']}={value!r} not in {enum}")
            if p["in"] == "path" and p.get("schema", {}).get("type") == "integer":
                if not str(params.get(p["name"], "")).isdigit():
                    self.violations.append(f"{where}: path {p['name']} is not an integer")
        known_query = {p["name"] for p in op.params if p["in"] == "query"}
        for q in request.query:
            if q not in known_query:
                self.violations.append(f"{where}: unknown query parameter {q!r}")
        if op.body_schema is None:
            if raw.strip() and request.method in ("GET", "DELETE"):
                self.violations.append(f"{where}: unexpected body")
            return None
        if not raw:
            if op.body_required and op.id != "apps/create-installation-access-token":
                self.violations.append(f"{where}: missing request body")
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            self.violations.append(f"{where}: body is not JSON")
            return {}
        errors = sorted(jsonschema.Draft7Validator(op.body_schema).iter_errors(body), key=lambda e: list(e.path))
        for e in errors[:5]:
            self.violations.append(f"{where}: body {'/'.join(map(str, e.path))}: {e.message[:200]}")
        return body

    def _authorised(self, auth: str, repo: FakeRepo | None) -> bool:
        token = auth.split(" ", 1)[1] if " " in auth else ""
        hit = self.tokens.get(token)
        if hit is None or hit[1] < time.time():
            self.violations.append("request without a valid installation token")
            return False
        if repo is not None and repo.installation_id != hit[0]:
            self.violations.append(f"token of installation {hit[0]} used for {repo.full_name}")
            return False
        return True

    def _jwt_ok(self, auth: str) -> bool:
        if not auth.lower().startswith("bearer "):
            return False
        try:
            claims = jwt.decode(auth[7:], self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == str(self.app_id)

    def _access_token(self, auth: str, installation_id: int):
        self.token_requests += 1
        if not auth.lower().startswith("bearer "):
            self.violations.append("access token requested without an app JWT")
            return web.json_response({"message": "A JSON web token could not be decoded"}, status=401)
        try:
            claims = jwt.decode(auth[7:], self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            self.violations.append(f"bad app JWT: {exc}")
            return web.json_response({"message": "bad JWT"}, status=401)
        if str(claims.get("iss")) != self.app_id or claims["exp"] - claims["iat"] > 660:
            self.violations.append(f"JWT claims wrong: {claims}")
        token = f"ghs_{next(self._ids)}"
        expires = time.time() + 3600
        self.tokens[token] = (installation_id, expires)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
        return web.json_response({"token": token, "expires_at": stamp, "permissions": {}}, status=201)

    # ---- helpers -----------------------------------------------------------------------
    def _url(self, repo: FakeRepo, rest: str = "") -> str:
        return f"{self.url}/repos/{repo.full_name}{rest}"

    def _page(self, items: list, query: dict, path: str, cap: int | None = None):
        items = items[:cap] if cap else items
        per_page = min(100, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(items):
            nxt = {**query, "page": str(page + 1)}
            headers["Link"] = f'<{self.url}{path}?{urlencode(nxt)}>; rel="next"'
        return 200, chunk, headers

    def _user(self, login: str) -> dict:
        bot = login.endswith("[bot]")
        return {"login": login, "id": abs(hash(login)) % 10 ** 6, "type": "Bot" if bot else "User",
                "node_id": "U_x", "avatar_url": "", "url": "", "html_url": ""}

    def _sha(self, repo: FakeRepo, ref: str) -> str:
        return git(repo.git.path, "rev-parse", ref).strip()

    # ---- operations --------------------------------------------------------------------
    def op_git_get_tree(self, repo, params, query, body):
        sha = params["tree_sha"]
        out = git(repo.git.path, "ls-tree", "-r", "-l", "--full-tree", sha)
        tree = []
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            mode, typ, bsha, size = meta.split()
            tree.append({"path": path, "mode": mode, "type": typ, "sha": bsha,
                         "size": int(size) if size != "-" else None, "url": self._url(repo, f"/git/blobs/{bsha}")})
        return {"sha": sha, "url": self._url(repo, f"/git/trees/{sha}"), "tree": tree, "truncated": False}

    def op_repos_download_tarball_archive(self, repo, params, query, body):
        sha = self._sha(repo, params["ref"])
        token = secrets.token_hex(8)
        self.archive_tokens[token] = (repo.full_name.lower(), sha)
        return 302, None, {"Location": f"{self.url}/_codeload/{repo.full_name}/legacy.tar.gz/{sha}?token={token}"}

    def _codeload(self, request: web.Request, path: str) -> web.StreamResponse:
        """The archive download GitHub redirects to: a short-lived address, no installation token."""
        self.requests.append(("codeload", request.method, path))
        if request.headers.get("Authorization"):
            self.violations.append(f"{path}: an Authorization header was sent to the archive download")
        hit = self.archive_tokens.get(request.query.get("token", ""))
        if hit is None:
            return web.Response(status=404, text="Not Found")
        repo = self.repos[hit[0]]
        if self.archive_fault == "broken":
            return web.Response(status=200, body=b"\x1f\x8b this is not a tar archive")
        if self.archive_fault == "refused":
            return web.Response(status=403, text="Forbidden")
        data = subprocess.run(["git", "-C", str(repo.git.path), "archive", "--format=tar.gz",
                               f"--prefix={repo.owner}-{repo.name}-{hit[1][:7]}/", hit[1]],
                              capture_output=True, check=True).stdout
        return web.Response(status=200, body=data, content_type="application/x-gzip")

    def op_git_get_blob(self, repo, params, query, body):
        sha = params["file_sha"]
        data = subprocess.run(["git", "-C", str(repo.git.path), "cat-file", "blob", sha], capture_output=True).stdout
        return {"sha": sha, "node_id": "B_x", "size": len(data), "url": self._url(repo, f"/git/blobs/{sha}"),
                "content": base64.b64encode(data).decode(), "encoding": "base64"}

    def op_repos_compare_commits(self, repo, params, query, body):
        base, _, head = params["basehead"].partition("...")
        try:
            mb = git(repo.git.path, "merge-base", base, head).strip()
            base_sha, head_sha = self._sha(repo, base), self._sha(repo, head)
        except subprocess.CalledProcessError:
            return 404, {"message": "No common ancestor between the two commits"}, {}
        files = self._diff_files(repo, mb, head)
        status = ("identical" if base_sha == head_sha else "behind" if mb == head_sha else
                  "ahead" if mb == base_sha else "diverged")
        return {"status": status, "merge_base_commit": {"sha": mb}, "files": files[:300], "total_commits": 1,
                "ahead_by": 1, "behind_by": 0, "base_commit": {"sha": base_sha}}

    def _diff_files(self, repo, a, b):
        out = git(repo.git.path, "diff", "--name-status", "--no-renames", a, b)
        status = {"A": "added", "M": "modified", "D": "removed"}
        files = []
        for line in out.splitlines():
            st, path = line.split("\t", 1)
            files.append({"sha": "0" * 40, "filename": path, "status": status.get(st[0], "modified"),
                          "additions": 1, "deletions": 0, "changes": 1,
                          "blob_url": "", "raw_url": "", "contents_url": ""})
        return files

    def _pull(self, repo, number):
        pr = repo.pulls[int(number)]
        head = self._sha(repo, pr["head_ref"])
        base = self._sha(repo, pr["base_ref"])
        return pr, base, head

    def op_pulls_get(self, repo, params, query, body):
        pr, base, head = self._pull(repo, params["pull_number"])
        n = len(self._diff_files(repo, git(repo.git.path, "merge-base", base, head).strip(), head))
        return {"number": int(params["pull_number"]), "state": pr.get("state", "open"), "changed_files": n,
                "merged": pr.get("merged", False), "title": pr.get("title", ""), "body": pr.get("body"),
                "head": {"sha": head, "ref": pr["head_ref"]}, "base": {"sha": base, "ref": pr["base_ref"]}}

    def _pull_view(self, repo, number):
        pr = repo.pulls[number]
        return {"number": number, "state": pr.get("state", "open"), "title": pr.get("title", ""),
                "body": pr.get("body"), "merged_at": "2026-01-01T00:00:00Z" if pr.get("merged") else None,
                "html_url": f"https://github.test/{repo.full_name}/pull/{number}",
                "user": self._user(pr.get("user", self.BOT_LOGIN)),
                "head": {"ref": pr["head_ref"], "label": f"{repo.owner}:{pr['head_ref']}"},
                "base": {"ref": pr["base_ref"], "label": f"{repo.owner}:{pr['base_ref']}"}}

    def op_pulls_list(self, repo, params, query, body):
        state = query.get("state", "open")
        head = query.get("head")
        items = [self._pull_view(repo, n) for n in sorted(repo.pulls)
                 if (state == "all" or repo.pulls[n].get("state", "open") == state)
                 and (head is None or f"{repo.owner}:{repo.pulls[n]['head_ref']}" == head)]
        return self._page(items, query, f"/repos/{repo.full_name}/pulls")

    def op_pulls_create(self, repo, params, query, body):
        head, base = body["head"].split(":")[-1], body["base"]
        if subprocess.run(["git", "-C", str(repo.git.path), "rev-parse", "--verify", "-q", f"refs/heads/{head}"],
                          capture_output=True).returncode:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]}, {}
        if any(p["head_ref"] == head and p.get("state", "open") == "open" for p in repo.pulls.values()):
            return 422, {"message": "Validation Failed", "errors": [
                {"message": f"A pull request already exists for {repo.owner}:{head}."}]}, {}
        number = next(self._issue_numbers[repo.full_name.lower()])
        repo.pulls[number] = {"base_ref": base, "head_ref": head, "title": body.get("title", ""),
                              "body": body.get("body"), "state": "open", "merged": False, "user": self.BOT_LOGIN}
        return 201, self._pull_view(repo, number), {}

    def op_pulls_update(self, repo, params, query, body):
        pr = repo.pulls[int(params["pull_number"])]
        for k in ("title", "body", "state"):
            if k in body:
                pr[k] = body[k]
        return self._pull_view(repo, int(params["pull_number"]))

    def merge_pull(self, repo, number: int) -> str:
        """Merge a pull request the way the merge button does (a merge commit on the base branch)."""
        pr = repo.pulls[number]
        git(repo.git.path, "checkout", "-q", pr["base_ref"])
        git(repo.git.path, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{number}", pr["head_ref"])
        pr.update(state="closed", merged=True)
        return self._sha(repo, "HEAD")

    def op_repos_get(self, repo, params, query, body):
        return {"id": repo.id, "name": repo.name, "full_name": repo.full_name, "private": True,
                "default_branch": "main", "owner": self._user(repo.owner), "archived": False, "fork": repo.fork}

    def op_repos_get_branch(self, repo, params, query, body):
        try:
            sha = self._sha(repo, f"refs/heads/{params['branch']}")
        except subprocess.CalledProcessError:
            return 404, {"message": "Branch not found"}, {}
        return {"name": params["branch"], "commit": {"sha": sha}, "protected": False}

    def op_git_create_ref(self, repo, params, query, body):
        ref = body["ref"]
        if not ref.startswith("refs/"):
            return 422, {"message": "Reference name must start with 'refs/'"}, {}
        if subprocess.run(["git", "-C", str(repo.git.path), "rev-parse", "--verify", "-q", ref],
                          capture_output=True).returncode == 0:
            return 422, {"message": "Reference already exists"}, {}
        git(repo.git.path, "update-ref", ref, body["sha"])
        return 201, {"ref": ref, "node_id": "REF_x", "url": self._url(repo, "/git/" + ref),
                     "object": {"sha": body["sha"], "type": "commit", "url": ""}}, {}

    def op_git_update_ref(self, repo, params, query, body):
        ref = "refs/" + params["ref"]
        git(repo.git.path, "update-ref", ref, body["sha"])
        return {"ref": ref, "node_id": "REF_x", "url": self._url(repo, "/git/" + ref),
                "object": {"sha": body["sha"], "type": "commit", "url": ""}}

    def op_git_delete_ref(self, repo, params, query, body):
        ref = "refs/" + params["ref"]
        if subprocess.run(["git", "-C", str(repo.git.path), "rev-parse", "--verify", "-q", ref],
                          capture_output=True).returncode:
            return 422, {"message": "Reference does not exist"}, {}
        git(repo.git.path, "update-ref", "-d", ref)
        return 204, None, {}

    def op_repos_create_or_update_file_contents(self, repo, params, query, body):
        """A commit on the branch that writes one file (git plumbing: the work tree is left alone)."""
        path, branch = params["path"], body.get("branch", "main")
        ref = f"refs/heads/{branch}"
        parent = self._sha(repo, ref)
        existing = subprocess.run(["git", "-C", str(repo.git.path), "rev-parse", "-q", "--verify",
                                   f"{parent}:{path}"], capture_output=True, text=True)
        if existing.returncode == 0 and body.get("sha") != existing.stdout.strip():
            return 422, {"message": "Invalid request.\n\n\"sha\" wasn't supplied."}, {}
        blob = git(repo.git.path, "hash-object", "-w", "--stdin", input=base64.b64decode(body["content"])).strip()
        index = repo.git.path / ".git" / "fake-index"
        env = {"GIT_INDEX_FILE": str(index)}
        run = lambda *a, **kw: subprocess.run(["git", "-C", str(repo.git.path), *a], check=True, capture_output=True,
                                              env={**__import__("os").environ, **env}, **kw).stdout.decode().strip()
        run("read-tree", parent)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
        tree = run("write-tree")
        commit = run("commit-tree", tree, "-p", parent, "-m", body["message"])
        git(repo.git.path, "update-ref", ref, commit)
        index.unlink(missing_ok=True)
        return 201 if existing.returncode else 200, {"content": {"path": path, "sha": blob},
                                                     "commit": {"sha": commit, "message": body["message"]}}, {}

    def op_pulls_list_files(self, repo, params, query, body):
        pr, base, head = self._pull(repo, params["pull_number"])
        mb = git(repo.git.path, "merge-base", base, head).strip()
        files = self._diff_files(repo, mb, head)
        return self._page(files, query, f"/repos/{repo.full_name}/pulls/{params['pull_number']}/files", cap=3000)

    def op_checks_create(self, repo, params, query, body):
        cid = next(self._ids)
        run = {"id": cid, "head_sha": body["head_sha"], "name": body["name"], "status": body.get("status", "queued"),
               "external_id": body.get("external_id"),
               "conclusion": body.get("conclusion"), "output": copy.deepcopy(body.get("output", {})),
               "annotations": list(body.get("output", {}).get("annotations", [])), "actions": body.get("actions", []),
               "updates": 0}
        repo.check_runs[cid] = run
        return 201, {"id": cid, "head_sha": run["head_sha"], "status": run["status"], "name": run["name"]}, {}

    def op_checks_list_for_ref(self, repo, params, query, body):
        sha = self._sha(repo, params["ref"])
        runs = [{"id": r["id"], "head_sha": r["head_sha"], "name": r["name"], "status": r["status"],
                 "conclusion": r["conclusion"], "external_id": r.get("external_id"),
                 "app": {"id": int(self.app_id)}} for r in repo.check_runs.values()
                if r["head_sha"] == sha and r["name"] == query.get("check_name", r["name"])]
        return {"total_count": len(runs), "check_runs": runs}

    def op_checks_update(self, repo, params, query, body):
        run = repo.check_runs[int(params["check_run_id"])]
        run["updates"] += 1
        for k in ("status", "conclusion", "actions", "name"):
            if k in body:
                run[k] = body[k]
        if "output" in body:
            out = body["output"]
            run["annotations"].extend(out.get("annotations", []))
            run["output"].update({k: v for k, v in out.items() if k != "annotations"})
        return {"id": run["id"], "status": run["status"], "conclusion": run["conclusion"]}

    def op_issues_list_comments(self, repo, params, query, body):
        n = int(params["issue_number"])
        items = [c for c in repo.comments.values() if c["issue_number"] == n]
        return self._page(items, query, f"/repos/{repo.full_name}/issues/{n}/comments")

    def op_issues_create_comment(self, repo, params, query, body):
        cid = next(self._ids)
        c = {"id": cid, "issue_number": int(params["issue_number"]), "body": body["body"],
             "user": self._user(self.BOT_LOGIN), "performed_via_github_app": {"id": int(self.app_id)},
             "html_url": f"https://github.test/{repo.full_name}/issues/{params['issue_number']}#issuecomment-{cid}"}
        repo.comments[cid] = c
        return 201, c, {}

    def op_issues_update_comment(self, repo, params, query, body):
        c = repo.comments[int(params["comment_id"])]
        c["body"] = body["body"]
        c["edits"] = c.get("edits", 0) + 1
        return c

    def op_reactions_create_for_issue_comment(self, repo, params, query, body):
        repo.reactions.append((int(params["comment_id"]), body["content"]))
        return 201, {"id": next(self._ids), "content": body["content"]}, {}

    def op_repos_get_collaborator_permission_level(self, repo, params, query, body):
        perm = repo.permissions.get(params["username"], "read")
        return {"permission": perm, "role_name": perm, "user": self._user(params["username"])}

    def _issue_view(self, repo, issue):
        author = issue.get("author", self.BOT_LOGIN)
        view = {k: v for k, v in issue.items() if k not in ("author", "assignees")}
        view["assignees"] = [self._user(a) for a in issue.get("assignees", [])]
        view.update({"html_url": f"https://github.test/{repo.full_name}/issues/{issue['number']}",
                     "user": self._user(author), "labels": [{"name": lbl} for lbl in issue["labels"]]})
        if author == self.BOT_LOGIN:
            view["performed_via_github_app"] = {"id": int(self.app_id)}
        return view

    def op_issues_create(self, repo, params, query, body):
        number = next(self._issue_numbers[repo.full_name.lower()])
        issue = {"number": number, "title": body["title"], "body": body.get("body", ""), "state": "open",
                 "labels": [lbl if isinstance(lbl, str) else lbl["name"] for lbl in body.get("labels", [])],
                 "state_reason": None}
        repo.issues[number] = issue
        return 201, self._issue_view(repo, issue), {}

    def op_issues_add_assignees(self, repo, params, query, body):
        """GitHub assigns people with push access and silently skips anyone else."""
        issue = repo.issues[int(params["issue_number"])]
        for who in body.get("assignees", []):
            login = who if isinstance(who, str) else who["login"]
            if repo.permissions.get(login) in ("write", "maintain", "admin") and login not in issue.setdefault("assignees", []):
                issue["assignees"].append(login)
        return 201, self._issue_view(repo, issue), {}

    def op_issues_update(self, repo, params, query, body):
        issue = repo.issues[int(params["issue_number"])]
        for k in ("title", "body", "state", "state_reason"):
            if k in body:
                issue[k] = body[k]
        if "labels" in body:
            issue["labels"] = [lbl if isinstance(lbl, str) else lbl["name"] for lbl in body["labels"]]
        return self._issue_view(repo, issue)

    def op_issues_list_for_repo(self, repo, params, query, body):
        state = query.get("state", "open")
        labels = set(filter(None, query.get("labels", "").split(",")))
        creator = query.get("creator")
        items = [self._issue_view(repo, i) for i in repo.issues.values()
                 if (state == "all" or i["state"] == state) and labels <= set(i["labels"])
                 and (creator is None or i.get("author", self.BOT_LOGIN) == creator)]
        if query.get("sort") == "created" and query.get("direction", "desc") == "desc":
            items.reverse()
        return self._page(items, query, f"/repos/{repo.full_name}/issues")

    def op_search_issues_and_pull_requests(self, repo, params, query, body):
        q = query.get("q", "")
        terms = dict(parse_qsl(q.replace(" ", "&").replace(":", "=")))
        target = self.repos.get(terms.get("repo", "").lower())
        words = [w.strip('"') for w in q.split() if ":" not in w]
        items = []
        if target:
            for i in target.issues.values():
                if all(w in i["body"] or w in i["title"] for w in words):
                    items.append(self._issue_view(target, i))
        return {"total_count": len(items), "incomplete_results": False, "items": items}

    def op_repos_get_commit(self, repo, params, query, body):
        return {"sha": self._sha(repo, params["ref"]), "commit": {"tree": {"sha": git(repo.git.path, "rev-parse", params["ref"] + "^{tree}").strip()}}}

    def op_git_get_ref(self, repo, params, query, body):
        return {"ref": "refs/" + params["ref"], "object": {"sha": self._sha(repo, params["ref"].split("/", 1)[-1]), "type": "commit"}}

    def op_repos_get_content(self, repo, params, query, body):
        ref = query.get("ref", "HEAD")
        try:
            data = subprocess.run(["git", "-C", str(repo.git.path), "show", f"{ref}:{params['path']}"],
                                  capture_output=True, check=True).stdout
        except subprocess.CalledProcessError:
            return 404, {"message": "Not Found"}, {}
        sha = git(repo.git.path, "rev-parse", f"{ref}:{params['path']}").strip()
        return {"type": "file", "encoding": "base64", "content": base64.b64encode(data).decode(), "sha": sha,
                "path": params["path"], "name": params["path"].rsplit("/", 1)[-1], "size": len(data)}

    def op_apps_get_repo_installation(self, repo, params, query, body):
        return {"id": repo.installation_id}
