"""Registering the App with GitHub's manifest flow, the way Probot does it.

`driftbot serve` started with no credentials at all runs in setup mode: its front page has a button
that sends driftbot's manifest (app.yml) to GitHub; GitHub creates the app and redirects back to
/setup/callback with a code, which driftbot exchanges for the app's id, private key and webhook
secret, and writes to a `.env` file (permissions 0600) that `serve` reads at its next start.
`driftbot manifest --url` prints the same page for registering from elsewhere.
"""
from __future__ import annotations

import hmac
import html
import json
import logging
import os
import secrets
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from .resources import MANIFEST

log = logging.getLogger(__name__)

ENV_KEYS = ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET")


def manifest_page(base: str, *, name: str | None = None, org: str | None = None,
                  github: str = "https://github.com", redirect: str | None = None, state: str | None = None) -> str:
    """An HTML page whose button registers driftbot as a GitHub App whose webhooks go to base/webhook."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    base = base.rstrip("/")
    manifest["url"] = base
    manifest["hook_attributes"]["url"] = base + "/webhook"
    manifest["redirect_url"] = redirect or base + "/setup/callback"
    if name:
        manifest["name"] = name
    host = github.rstrip("/")
    target = f"{host}/organizations/{org}/settings/apps/new" if org else f"{host}/settings/apps/new"
    if state:
        target += f"?state={state}"  # GitHub hands it back with the code: only this page's flow completes
    return f"""<!doctype html>
<meta charset="utf-8"><title>Register {html.escape(manifest["name"])}</title>
<p>This registers a GitHub App named <b>{html.escape(manifest["name"])}</b> whose webhooks go to
<code>{html.escape(base)}/webhook</code>, with driftbot's permissions and events.</p>
<form action="{html.escape(target)}" method="post">
<input type="hidden" name="manifest" value="{html.escape(json.dumps(manifest))}">
<button type="submit">Register on GitHub</button>
</form>
"""


# ---- the .env file ------------------------------------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (quotes optional, \\n escapes in double quotes); comments and blanks skipped."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip().removeprefix("export ").strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace("\\n", "\n") if value[0] == '"' else value[1:-1]
        out[key] = value
    return out


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Add or replace these keys in the .env file, readable by its owner only (0600), written whole
    or not at all."""
    current = read_env_file(path)
    current.update(values)
    lines = ["# written by driftbot's setup; keep it secret (it holds the app's private key)"]
    for key, value in current.items():
        lines.append(f'{key}="' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"')
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def env_path() -> Path:
    return Path(os.environ.get("DRIFTBOT_ENV_FILE") or ".env")


def unconfigured(env) -> bool:
    """No credential is set at all: setup mode, rather than an error naming what is missing."""
    return not any(env.get(k) for k in (*ENV_KEYS, "PRIVATE_KEY_PATH"))


# ---- setup mode ----------------------------------------------------------------------------------

def make_setup_app(*, api_url: str, github: str, env_file: Path, public_url: str | None = None) -> web.Application:
    """The app `serve` runs before driftbot is registered: the register button, and the callback."""
    app = web.Application()
    flow = {"state": secrets.token_urlsafe(24), "done": False}

    def base_of(request: web.Request) -> str:
        return (public_url or f"{request.scheme}://{request.host}").rstrip("/")

    async def front(request: web.Request) -> web.Response:
        if flow["done"]:
            return web.Response(content_type="text/html", text="<p>driftbot is registered; restart "
                                "<code>driftbot serve</code> to use it.</p>")
        page = manifest_page(base_of(request), github=github, state=flow["state"])
        note = ("<p>driftbot is not registered yet. Press the button, confirm on GitHub, and driftbot saves the "
                f"app's credentials to <code>{html.escape(str(env_file))}</code>.</p>")
        return web.Response(text=page.replace("<form", note + "<form", 1), content_type="text/html")

    async def callback(request: web.Request) -> web.Response:
        code = request.query.get("code", "")
        if flow["done"]:
            return web.Response(status=409, text="driftbot is already registered; restart driftbot serve to use it")
        if not hmac.compare_digest(request.query.get("state", ""), flow["state"]):
            return web.Response(status=403, text="this registration was not started from this server's front page; "
                                                 "start it there")
        if not code or len(code) > 200 or not all(c.isalnum() or c in "-_" for c in code):
            return web.Response(status=400, text="missing or malformed ?code= from GitHub")
        try:
            async with aiohttp.ClientSession() as s:
                async with s.post(f"{api_url.rstrip('/')}/app-manifests/{code}/conversions",
                                  headers={"Accept": "application/vnd.github+json", "User-Agent": "driftbot"}) as r:
                    data = await r.json(content_type=None)
                    if r.status != 201:
                        raise ValueError(data.get("message") if isinstance(data, dict) else r.status)
        except (aiohttp.ClientError, ValueError, TimeoutError) as exc:
            log.warning("manifest code exchange failed", extra={"error": repr(exc)})
            return web.Response(status=502, text=f"GitHub did not exchange the code ({exc}); it works once and "
                                                 "expires after an hour: register again from the front page")
        write_env_file(env_file, {"APP_ID": str(data["id"]), "PRIVATE_KEY": data["pem"],
                                  "WEBHOOK_SECRET": data["webhook_secret"]})
        flow["done"] = True  # one registration per setup run
        log.info("app registered", extra={"app": data.get("slug"), "env_file": str(env_file)})
        install = html.escape((data.get("html_url") or "").rstrip("/") + "/installations/new")
        return web.Response(content_type="text/html", text=f"""<!doctype html>
<meta charset="utf-8"><title>driftbot registered</title>
<p>Registered as <b>{html.escape(data.get("name") or data.get("slug") or "driftbot")}</b> (app id {int(data["id"])}).
Its credentials are in <code>{html.escape(str(env_file))}</code> (readable by this user only).</p>
<ol><li>Restart <code>driftbot serve</code>: it reads them from there.</li>
<li><a href="{install}">Install the app</a> on the repositories to watch.</li></ol>
""")

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "setup", "next": "open / in a browser to register the app"})

    app.router.add_get("/", front)
    app.router.add_get("/setup/callback", callback)
    app.router.add_get("/healthz", healthz)
    return app
