"""The webhook server: ``make_app(settings) -> web.Application`` with POST /webhook and GET /healthz.

Every delivery is verified (X-Hub-Signature-256), de-duplicated by X-GitHub-Delivery, turned into
a job by the handlers and answered 202 at once; the work happens in the background queue.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from gidgethub import sansio

from .github.client import GitHubApp
from .handlers import router
from .jobs import JobQueue
from .service import DriftService
from .settings import Settings
from .store import Store, open_store

log = logging.getLogger(__name__)

MAX_PAYLOAD = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
SETTINGS = web.AppKey("settings", Settings)
QUEUE = web.AppKey("queue", JobQueue)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", DriftService)
SESSION = web.AppKey("session", aiohttp.ClientSession)


@dataclass
class HandlerContext:
    """What a handler gets: a way to queue a job."""

    queue: JobQueue

    def submit(self, job: dict, key: str) -> None:
        state = self.queue.submit(job, key)
        log.debug("job %s", state, extra={"job_kind": job["kind"], "repo": job.get("repo")})


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.strip())


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "payload larger than 25 MB")
    if not verify_signature(settings.webhook_secret, body, request.headers.get("X-Hub-Signature-256")):
        log.warning("rejected delivery: bad or missing signature",
                    extra={"delivery_id": request.headers.get("X-GitHub-Delivery")})
        return _problem(401, "missing or invalid X-Hub-Signature-256")
    event_name = request.headers.get("X-GitHub-Event")
    delivery = (request.headers.get("X-GitHub-Delivery") or "")[:200]
    if not event_name or not delivery:
        return _problem(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "body is not JSON")
    if not isinstance(data, dict):
        return _problem(400, "body is not a JSON object")
    store = request.app[STORE]
    if not store.claim_delivery(delivery):
        return web.json_response({"status": "duplicate delivery, ignored"}, status=200)
    event = sansio.Event(data, event=event_name, delivery_id=delivery)
    ctx = HandlerContext(request.app[QUEUE])
    installation = data.get("installation")
    extra = {"delivery_id": delivery, "event": event_name,
             "installation_id": installation.get("id") if isinstance(installation, dict) else None}
    try:
        await router.dispatch(event, ctx)
    except (KeyError, TypeError, AttributeError) as exc:
        store.release_delivery(delivery)
        log.warning("malformed payload", extra={**extra, "error": repr(exc)})
        return _problem(400, f"payload is missing a field the {event_name} event needs")
    except Exception:  # a bug in a handler: say so, but never as a 500 that makes GitHub retry forever
        store.release_delivery(delivery)
        log.exception("handler failed", extra=extra)
        return _problem(400, "driftbot could not handle this delivery")
    return web.json_response({"status": "queued" if event_name != "ping" else "pong"}, status=202)


async def healthz(request: web.Request) -> web.Response:
    q = request.app[QUEUE]
    return web.json_response({"status": "ok", "queued": len(q), "done": q.done, "failed": q.failed})


def make_app(settings: Settings, *, store: Store | None = None, time_scale: float = 1.0,
             shutdown_grace: float = 20.0, http_timeout: float = 60.0) -> web.Application:
    app = web.Application(client_max_size=MAX_PAYLOAD)
    app[SETTINGS] = settings
    app[STORE] = store or open_store(settings.store)

    async def on_startup(app: web.Application) -> None:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_timeout, sock_connect=10))
        app[SESSION] = session
        gh_app = GitHubApp(app_id=settings.app_id, private_key=settings.private_key, api_url=settings.api_url,
                           session=session, time_scale=time_scale)
        service = DriftService(gh_app, app[STORE], onboarding=settings.onboarding)
        app[SERVICE] = service
        queue = app[QUEUE]
        queue.runner = service.run
        queue.start()
        for job in app[STORE].take_parked_jobs():
            queue.submit(job, _key(job))

    async def on_cleanup(app: web.Application) -> None:
        handed = await app[QUEUE].stop(shutdown_grace)
        if handed:
            log.info("handed back %d job(s) for the next start", len(handed))
        await app[SESSION].close()
        app[SERVICE].close()
        if store is None:
            app[STORE].close()

    app[QUEUE] = JobQueue(lambda job: None, workers=settings.workers, park=app[STORE].park_jobs)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def _key(job: dict) -> str:
    if job["kind"] == "pull_request":
        return f"pr:{job['repo']}:{job['number']}"
    if job["kind"] in ("push", "scan"):
        return f"push:{job['repo']}"
    return f"{job['kind']}:{job.get('comment_id') or job.get('head_sha')}"
