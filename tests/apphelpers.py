"""Shared harness for app tests: an RSA app key, the fake GitHub, the real server, signed deliveries."""
from __future__ import annotations

import copy
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
