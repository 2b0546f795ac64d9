"""The webhook server: ``make_app(settings) -> web.Application`` with POST /webhook and GET /healthz.

Every delivery is verified (X-Hub-Signature-256), de-duplicated by X-GitHub-Delivery, turned into
a job by the handlers and answered 202 at once; the work happens in the background queue.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import asyncio
import collections
import html
import time
from dataclasses import dataclass, field
from functools import partial

import aiohttp
from aiohttp import web
from gidgethub import sansio

from .github.client import GitHubApp
from .handlers import router
from . import metrics as metrics_mod
from .jobkinds import Job
from .jobs import JobQueue, not_started
from .service import DriftService
from .settings import Settings, SettingsError
from .store import Store, open_store

log = logging.getLogger(__name__)

MAX_PAYLOAD = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
SETTINGS = web.AppKey("settings", Settings)
QUEUE = web.AppKey("queue", JobQueue)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", DriftService)
SESSION = web.AppKey("session", aiohttp.ClientSession)
READ_GATE = web.AppKey("read_gate", asyncio.Semaphore)
METRICS = web.AppKey("metrics", metrics_mod.Metrics)
RECENT = web.AppKey("recent", collections.deque)
ACCEPTOR = web.AppKey("acceptor", object)
READ_STATS = web.AppKey("read_stats", dict)
MAX_ATTEMPTS = 3  # starts a job may be resumed at
READ_TIMEOUT = 10.0  # seconds to wait for a reading slot and read a body (GitHub gives up after 10)
READERS = 4  # bodies read at once, before their signature is known (4 × 25 MB at worst)


MAX_DEPTH = 64  # GitHub's payloads nest about 10 deep; deeper is hostile


@dataclass
class HandlerContext:
    """What a handler gets: a way to ask for a job. Jobs are stored with their delivery before it is
    acknowledged, then queued."""

    jobs: list[tuple[str, dict]] = field(default_factory=list)

    def submit(self, job: Job) -> None:
        self.jobs.append((job.key, job.record()))


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class _Unsigned(Exception):
    pass


async def _read_signed(request: web.Request, secret: str, signature: str) -> bytes:
    """The body, read in chunks with its HMAC computed on the way. At most MAX_PAYLOAD bytes, and at
    most READERS bodies at once: before the signature is checked nobody is trusted, so unsigned
    floods cost a bounded amount of memory."""
    gate: asyncio.Semaphore = request.app[READ_GATE]
    async with asyncio.timeout(READ_TIMEOUT), gate:  # a slow sender holds a slot 10 s at most
        mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        buf = bytearray()
        stats = request.app[READ_STATS]
        stats["inflight"] += 1
        stats["peak"] = max(stats["peak"], stats["inflight"])
        try:
            async for chunk in request.content.iter_chunked(64 * 1024):
                if len(buf) + len(chunk) > MAX_PAYLOAD:
                    raise web.HTTPRequestEntityTooLarge(max_size=MAX_PAYLOAD, actual_size=len(buf) + len(chunk))
                mac.update(chunk)
                buf += chunk
        finally:
            stats["inflight"] -= 1
        if not hmac.compare_digest("sha256=" + mac.hexdigest(), signature.strip()):
            raise _Unsigned()
        return bytes(buf)


async def _webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    signature = request.headers.get("X-Hub-Signature-256") or ""
    if not signature.startswith("sha256="):  # refused before a byte of the body is read
        log.warning("rejected delivery: missing signature", extra={"delivery_id": request.headers.get("X-GitHub-Delivery")})
        return _problem(401, "missing or invalid X-Hub-Signature-256")
    if (request.content_length or 0) > MAX_PAYLOAD:
        return _problem(413, "payload larger than 25 MB")
    if not signature.isascii():
        return _problem(401, "missing or invalid X-Hub-Signature-256")
    try:
        body = await _read_signed(request, settings.webhook_secret, signature)
    except TimeoutError:
        return _problem(408, "the body did not arrive in time")
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "payload larger than 25 MB")
    except _Unsigned:
        log.warning("rejected delivery: bad signature", extra={"delivery_id": request.headers.get("X-GitHub-Delivery")})
        return _problem(401, "missing or invalid X-Hub-Signature-256")
    event_name = request.headers.get("X-GitHub-Event")
    delivery = (request.headers.get("X-GitHub-Delivery") or "")[:200]
    if not event_name or not delivery:
        return _problem(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _problem(400, "body is not JSON")
    if not isinstance(data, dict):
        return _problem(400, "body is not a JSON object")
    if _deeper_than(data, MAX_DEPTH):
        return _problem(400, f"payload nests deeper than {MAX_DEPTH} levels")
    event = sansio.Event(data, event=event_name, delivery_id=delivery)
    ctx = HandlerContext()
    installation = data.get("installation")
    extra = {"delivery_id": delivery, "event": event_name,
             "installation_id": installation.get("id") if isinstance(installation, dict) else None}
    try:
        await router.dispatch(event, ctx)
    except (KeyError, TypeError, AttributeError) as exc:
        log.warning("malformed payload", extra={**extra, "error": repr(exc)})
        return _problem(400, f"payload is missing a field the {event_name} event needs")
    except Exception:  # a bug in a handler: say so, but never as a 500 that makes GitHub retry forever
        log.exception("handler failed", extra=extra)
        return _problem(400, "driftbot could not handle this delivery")
    queue = request.app[QUEUE]
    try:  # stored before the answer, with the delivery id, off the event loop, committed in groups
        ids = await request.app[ACCEPTOR].accept(delivery, ctx.jobs)
    except Exception:
        log.exception("could not store a delivery", extra=extra)
        return _problem(503, "driftbot could not store this delivery; GitHub will let you redeliver it")
    if ids is None:
        return web.json_response({"status": "duplicate delivery, ignored"}, status=200)
    if not ids and ctx.jobs:
        return web.json_response({"status": "already queued"}, status=202)
    for (key, job), job_id in zip(ctx.jobs, ids):
        state = queue.submit(job, key, job_id)
        log.debug("job %s", state, extra={"job_kind": job["kind"], "repo": job.get("repo"), "job_id": job_id})
    return web.json_response({"status": "queued" if event_name != "ping" else "pong"}, status=202)


_OUTCOMES = {202: "accepted", 200: "duplicate", 401: "refused", 400: "invalid", 413: "too large",
             408: "too slow", 503: "not stored"}
KNOWN_EVENTS = frozenset({"check_run", "check_suite", "installation", "installation_repositories", "issue_comment",
                          "issues", "ping", "pull_request", "push", "repository"})


async def webhook(request: web.Request) -> web.Response:
    """POST /webhook: every delivery, counted by outcome and kept in the list of recent ones."""
    response = await _webhook(request)
    outcome = _OUTCOMES.get(response.status, "other")
    event = request.headers.get("X-GitHub-Event") or "none"
    if outcome in ("refused", "other", "too large") or event not in KNOWN_EVENTS:
        event = "other"  # labels come only from signed deliveries of known events: a bounded set
    request.app[METRICS].deliveries.labels(event, outcome).inc()
    request.app[RECENT].appendleft((time.time(), event, (request.headers.get("X-GitHub-Delivery") or "")[:40],
                                    outcome))
    return response


class Acceptor:
    """Stores deliveries and their jobs in groups: while one commit runs, the deliveries that arrive
    wait for the next, which stores them all in one transaction. Each delivery is still answered only
    once its own jobs are stored."""

    def __init__(self, store: Store):
        self.store = store
        self._waiting: list[tuple[str, list, asyncio.Future]] = []
        self._busy = False

    async def accept(self, delivery: str, jobs: list) -> list[int] | None:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, jobs, future))
        if not self._busy:
            self._busy = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await loop.run_in_executor(None, self.store.accept_deliveries,
                                                         [(d, jobs) for d, jobs, _f in batch])
                except Exception as exc:
                    for _d, _j, f in batch:
                        if not f.done():
                            f.set_exception(exc)
                    continue
                for (_d, _j, f), result in zip(batch, results):
                    if not f.done():
                        f.set_result(result)
        finally:
            self._busy = False


def _deeper_than(data, limit: int) -> bool:
    """Does a parsed payload nest deeper than ``limit``? (Iterative: a hostile payload cannot make it
    recurse.)"""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text format."""
    body = request.app[METRICS].render(request.app[QUEUE])
    return web.Response(body=body, headers={"Content-Type": metrics_mod.CONTENT_TYPE})


async def status_page(request: web.Request) -> web.Response:
    """GET /: which app this is, how its queue is doing, and the last deliveries."""
    q, settings = request.app[QUEUE], request.app[SETTINGS]
    who = f"app id {settings.app_id}"
    service = request.app.get(SERVICE)
    if service is not None:
        try:
            ident = await asyncio.wait_for(service.app.identity(), 5)
            who = f"{ident.get('name') or ident.get('slug')} (app id {settings.app_id}, " \
                  f"owner {(ident.get('owner') or {}).get('login', '?')})"
        except Exception as exc:  # GitHub unreachable or the key wrong: the page still answers
            log.warning("could not ask GitHub which app this is", extra={"error": repr(exc)})
            who += " (GitHub did not say which app: check APP_ID and the private key)"
    rows = "".join(f"<tr><td>{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(at))} UTC</td><td>{html.escape(ev)}</td>"
                   f"<td><code>{html.escape(d)}</code></td><td>{html.escape(out)}</td></tr>"
                   for at, ev, d, out in request.app[RECENT])
    alive = q.alive
    page = f"""<!doctype html>
<meta charset="utf-8"><title>driftbot</title>
<style>body{{font:15px system-ui,sans-serif;margin:2em;max-width:60em}}td,th{{padding:.2em .8em;text-align:left}}</style>
<h1>driftbot</h1>
<p>Running as {html.escape(who)}, against {html.escape(settings.api_url)}.</p>
<h2>Queue</h2>
<p>{len(q)} job(s) waiting or running; the oldest has waited {q.oldest_age():.1f} s. Workers: {alive} of {q.workers}
{"" if alive == q.workers else "<b>(some are down)</b>"}. Done: {q.done}; failed: {q.failed}.</p>
<h2>Last deliveries</h2>
<table><tr><th>Received</th><th>Event</th><th>Delivery</th><th>Outcome</th></tr>{rows or '<tr><td colspan=4>none yet</td></tr>'}</table>
<p><a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p>
"""
    return web.Response(text=page, content_type="text/html")


async def already_registered(request: web.Request) -> web.Response:
    """GitHub sends a manifest registration back here; this server is registered already."""
    return web.Response(status=409, content_type="text/html", text=(
        "<p>This driftbot already runs as a registered app, so it did not take the new one's "
        "credentials. To switch, stop it, move its <code>.env</code> aside (or unset APP_ID, PRIVATE_KEY and "
        "WEBHOOK_SECRET), start it again and register from its front page.</p>"))


async def healthz(request: web.Request) -> web.Response:
    """ok while every worker runs; 503 when any has died and not come back, so a supervisor restarts
    the process. Queue age is how long the oldest waiting job has waited."""
    q = request.app[QUEUE]
    alive = q.alive
    healthy = alive == q.workers
    body = {"status": "ok" if healthy else "workers down", "workers": alive, "of": q.workers,
            "queued": len(q), "oldest_wait_s": round(q.oldest_age(), 3), "done": q.done, "failed": q.failed,
            "workers_restarted": q.restarted}
    return web.json_response(body, status=200 if healthy else 503)


async def badge(request: web.Request) -> web.Response:
    """/badge/<owner>/<repo>.svg (or .json, shields.io's endpoint document): the default branch's overall
    alignment. Public repositories only; for any other the answer is the same 404 as for one unknown."""
    from .engine.scoring import mean
    from .report import badge as badge_text
    owner, name, fmt = request.match_info["owner"], request.match_info["repo"], request.match_info["fmt"]
    store = request.app[SERVICE].store
    repo = await store.get_value("", f"badge:{owner}/{name}".lower())  # public ones only, named as GitHub does
    if repo is None:
        return web.Response(status=404, text="no badge for this repository\n")
    baseline = await store.baseline(repo)
    if not baseline:
        return web.Response(status=404, text="no badge for this repository\n")
    overall = mean(f.alignment for f in baseline.values())
    headers = {"Cache-Control": "max-age=300"}
    if fmt == "json":
        return web.json_response(badge_text.endpoint(overall), headers=headers)
    return web.Response(text=badge_text.svg(overall), content_type="image/svg+xml", headers=headers)


def make_app(settings: Settings, *, store: Store | None = None, time_scale: float = 1.0,
             shutdown_grace: float = 20.0, http_timeout: float = 60.0) -> web.Application:
    app = web.Application(client_max_size=MAX_PAYLOAD)
    app[READ_GATE] = asyncio.Semaphore(READERS)
    app[METRICS] = metrics_mod.Metrics()
    app[RECENT] = collections.deque(maxlen=20)
    app[READ_STATS] = {"inflight": 0, "peak": 0}
    app[SETTINGS] = settings
    app[STORE] = store or open_store(settings.store)
    app[ACCEPTOR] = Acceptor(app[STORE])

    async def on_startup(app: web.Application) -> None:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_timeout, sock_connect=10))
        app[SESSION] = session
        gh_app = GitHubApp(app_id=settings.app_id, private_key=settings.private_key, api_url=settings.api_url,
                           session=session, time_scale=time_scale, metrics=app[METRICS])
        service = DriftService(gh_app, app[STORE], onboarding=settings.onboarding,
                               budget=settings.analysis_seconds, engine_processes=settings.engine_processes)
        app[SERVICE] = service
        queue = app[QUEUE]
        measured = app[METRICS]

        async def run(job: dict) -> None:
            started = time.monotonic()
            try:
                await service.run(job)
            except Exception:
                measured.job_done(job.get("kind", "?"), "failed", started)
                raise
            measured.job_done(job.get("kind", "?"), "done", started)

        queue.runner = run
        store_ = app[STORE]

        async def finished(job_id: int, done: bool = True) -> None:
            await asyncio.get_running_loop().run_in_executor(None, partial(store_.finish_job, job_id, done=done))

        async def started(job_id: int) -> None:
            await asyncio.get_running_loop().run_in_executor(None, store_.start_job, job_id)

        queue.finished = finished
        queue.started = started
        queue.gate = service.gate
        queue.start()
        if getattr(queue, "resumes_itself", False):
            return  # the shared queue defers the stored jobs nothing waits for, on whichever replica
        # a job that was running when the process went down MAX_ATTEMPTS times is given up, not resumed
        # for ever; jobs that only waited their turn are not counted
        resumed = await asyncio.get_running_loop().run_in_executor(
            None, partial(store_.unfinished_jobs, max_attempts=MAX_ATTEMPTS))
        for job_id, key, job in resumed:  # accepted before a stop or a crash, never finished
            queue.submit(job, key, job_id)
        if resumed:
            log.info("resumed %d job(s) left unfinished", len(resumed))

    async def on_cleanup(app: web.Application) -> None:
        left = await app[QUEUE].stop(shutdown_grace)
        if left:
            log.info("%d job(s) left for the next start", len(left))
        await app[SESSION].close()
        app[SERVICE].close()
        if store is None:
            app[STORE].close()

    app[QUEUE] = _queue(settings, app[STORE])
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", status_page)
    app.router.add_get(r"/badge/{owner:[A-Za-z0-9_.-]+}/{repo:[A-Za-z0-9_.-]+}.{fmt:svg|json}", badge)
    app.router.add_get("/setup/callback", already_registered)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def _queue(settings: Settings, store: Store):
    """The in-process queue, or, with a PostgreSQL store, the queue every replica on it shares."""
    from .store_pg import PostgresStore  # the module itself needs nothing installed
    on_postgres = isinstance(store, PostgresStore)
    if settings.queue == "memory" or (settings.queue == "auto" and not on_postgres):
        return JobQueue(not_started, workers=settings.workers)
    if not on_postgres:
        raise SettingsError("DRIFTBOT_QUEUE=postgres needs DRIFTBOT_STORE=postgresql://… (the queue lives in that "
                            "database)")
    from .queue_pg import SharedQueue
    return SharedQueue(store.location, store, workers=settings.workers)
