"""Shared harness for app tests: an RSA app key, the fake GitHub, the real server, signed deliveries."""
from __future__ import annotations

import copy
import re
import hashlib
import hmac
import json
import uuid
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.settings import Settings

WEBHOOKS = Path(__file__).resolve().parent / "github" / "webhooks"
SECRET = "s3cret-webhook"
APP_ID = "4242"
INSTALLATION = 77


@lru_cache(maxsize=1)
def keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def settings(api_url: str, **kw) -> Settings:
    return Settings(app_id=APP_ID, private_key=keypair()[0], webhook_secret=SECRET, api_url=api_url,
                    store=":memory:", workers=kw.pop("workers", 4), **kw)


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(name: str) -> dict:
    return json.loads((WEBHOOKS / name).read_text())


def index() -> list[dict]:
    return json.loads((WEBHOOKS / "INDEX.json").read_text())


async def deliver(client, event: str, data: dict | bytes, *, delivery: str | None = None, secret: str = SECRET,
                  signature: str | None = None):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
               "Content-Type": "application/json",
               "X-Hub-Signature-256": signature if signature is not None else sign(body, secret)}
    return await client.post("/webhook", data=body, headers=headers)


def for_repo(data: dict, repo, *, installation: int = INSTALLATION) -> dict:
    """A real payload, re-pointed at a fake repository and installation."""
    d = copy.deepcopy(data)
    d["installation"] = {"id": installation, "node_id": "I_x"}
    r = d.setdefault("repository", {})
    r["full_name"] = repo.full_name
    r["name"] = repo.name
    r["default_branch"] = "main"
    r.setdefault("owner", {})["login"] = repo.owner
    return d


def pr_event(repo, number: int, base_sha: str, head_sha: str, action: str = "opened") -> dict:
    d = for_repo(payload("pull_request.opened.json"), repo)
    d["action"] = action
    pr = d["pull_request"]
    pr["number"] = number
    d["number"] = number
    pr["head"]["sha"] = head_sha
    pr["base"]["sha"] = base_sha
    pr["base"]["ref"] = "main"
    pr["changed_files"] = 3
    return d


def push_event(repo, before: str, after: str) -> dict:
    d = for_repo(payload("push.with-installation.json"), repo)
    d["ref"] = "refs/heads/main"
    d["before"], d["after"] = before, after
    d["deleted"] = False
    return d


def comment_event(repo, issue_number: int, body: str, login: str, *, on_pr: bool = True, user_type: str = "User",
                  comment_id: int = 5001) -> dict:
    d = for_repo(payload("issue_comment.created.json"), repo)
    d["issue"]["number"] = issue_number
    if on_pr:
        d["issue"]["pull_request"] = {"url": "x"}
    else:
        d["issue"].pop("pull_request", None)
    d["comment"]["id"] = comment_id
    d["comment"]["body"] = body
    d["comment"]["user"]["login"] = login
    d["comment"]["user"]["type"] = user_type
    d["sender"]["login"] = login
    d["sender"]["type"] = user_type
    return d


_SHA = re.compile(r"^[0-9a-f]{40}$")


def materialise(github, tmp_path, data: dict, files: dict) -> dict:
    """A real payload, unchanged in shape, whose repositories, commits and pull requests exist in the
    fake GitHub: each repository it names becomes a git repository holding ``files`` (a commit on
    main and one on a branch), every commit sha in it points at those commits, and every pull
    request it names is open from the branch. Its jobs can then run to the end."""
    from tests.fakegithub import GitRepo

    d = copy.deepcopy(data)
    inst = d.get("installation", {}).get("id") if isinstance(d.get("installation"), dict) else None
    names = [r.get("full_name") for r in [d.get("repository") or {}, *(d.get("repositories") or []),
                                          *(d.get("repositories_added") or [])] if isinstance(r, dict)]
    heads = {}
    for full in filter(None, dict.fromkeys(names)):
        owner, name = full.split("/")
        if full.lower() in github.repos:
            continue
        g = GitRepo(tmp_path / f"{owner}-{name}")
        base = g.commit(files, "initial")
        head = g.commit({"internal/agents/extra.go": "package agents\n"}, "work", branch="feature")
        g.checkout("main")
        heads[full] = (base, head)
        github.add_repo(owner, name, g, installation_id=inst or INSTALLATION)
    if not heads:
        return d
    base, head = next(iter(heads.values()))
    fake = github.repos[next(iter(heads)).lower()]

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and _SHA.match(v):
                    node[k] = base if k == "before" or (key == "base" and k == "sha") else head
                else:
                    walk(v, k)
            if isinstance(node.get("number"), int) and ("head" in node or key in ("pull_request", "pull_requests")):
                github.open_pull(fake, "main", "feature", number=node["number"])
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
    walk(d)
    if isinstance(d.get("number"), int) and "pull_request" in d:
        github.open_pull(fake, "main", "feature", number=d["number"])
    return d


def venv_env(extra: dict | None = None) -> dict:
    """The environment for a command run as a user would: this interpreter's scripts (driftbot) on PATH."""
    import os
    import sys
    from pathlib import Path
    return {**os.environ, **(extra or {}), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
