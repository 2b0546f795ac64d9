"""GitHub HTTP clients: one shared session, installation tokens cached and refreshed early,
ETag caches that never mix installations, and retries that respect GitHub's rate limits."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Mapping

import aiohttp
from cachetools import LRUCache
from gidgethub import HTTPException, apps
from gidgethub.aiohttp import GitHubAPI

from .publish import MaybeApplied

log = logging.getLogger(__name__)

REQUESTER = "driftbot"
MAX_ATTEMPTS = 5
MAX_WAIT = 60.0  # never sleep longer than this for one retry
TOKEN_REFRESH_MARGIN = 300  # refresh installation tokens 5 minutes before they expire


class RetryingGitHubAPI(GitHubAPI):
    """gidgethub's aiohttp client, plus: back-off on secondary rate limits (403/429 with
    retry-after), and jittered retries of 5xx and network errors."""

    def __init__(self, session: aiohttp.ClientSession, *args: Any, time_scale: float = 1.0, metrics=None,
                 on_headers=None, **kwargs: Any):
        super().__init__(session, *args, **kwargs)
        self.time_scale = time_scale
        self.metrics = metrics
        self.on_headers = on_headers  # told every answer's headers (the rate limit left)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.time_scale)

    async def _request(self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                answer = await super()._request(method, url, headers, body)
                if self.metrics is not None:
                    self.metrics.observe_api(method, answer[0], answer[1])
                if self.on_headers is not None:
                    self.on_headers(answer[1])
                return answer
            except (aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError, asyncio.TimeoutError) as exc:
                if _creates(method, url) and not isinstance(exc, aiohttp.ClientConnectorError):
                    # it may have reached GitHub: the caller looks before creating again (publish.py)
                    raise MaybeApplied(f"{method} {url.split('?')[0]}: {exc!r}") from exc
                if attempt == MAX_ATTEMPTS:
                    raise
                log.warning("github request failed, retrying", extra={"url": url.split("?")[0], "error": repr(exc)})
                await self.sleep(_backoff(attempt))
        raise AssertionError("unreachable")

    async def handle_rate_limit_error(self, *, method: str, url: str, exception: HTTPException, attempt: int) -> bool:
        if attempt >= MAX_ATTEMPTS:
            return False
        status = exception.status_code
        headers = getattr(exception, "headers", None) or {}
        retry_after = headers.get("retry-after")
        if status in (403, 429) and (retry_after is not None or headers.get("x-ratelimit-remaining") == "0"):
            if retry_after is not None:
                try:
                    wait = float(retry_after)
                except ValueError:
                    wait = 60.0
            else:
                reset = float(headers.get("x-ratelimit-reset", time.time() + 60))
                wait = reset - time.time()
            if wait > MAX_WAIT:
                return False  # too long to hold a job; the caller reports "could not analyse"
            log.warning("github rate limit, backing off", extra={"url": url.split("?")[0], "wait": wait})
            await self.sleep(max(0.0, wait))
            return True
        if 500 <= status < 600:
            if _creates(method, url):
                return False  # it may have been created: publish.create_once looks before trying again
            await self.sleep(_backoff(attempt))
            return True
        return False


_IDEMPOTENT_POSTS = ("/access_tokens", "/reactions", "/git/refs")


def _creates(method: str, url: str) -> bool:
    """A request that makes something new each time it is sent. Some POSTs do not: a spare
    installation token does no harm, GitHub answers a repeated reaction with the existing one, and a
    repeated ref is refused (422), which the caller reads as "it exists"."""
    path = url.split("?")[0]
    return method.upper() == "POST" and not path.endswith(_IDEMPOTENT_POSTS) and "/access_tokens" not in path


def _backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s, 4 s … with full jitter, capped."""
    return min(MAX_WAIT, random.uniform(0.25, 1.0) * (2 ** (attempt - 1)))


class GitHubApp:
    """One per process: the shared session, the app's JWT, and a client per installation."""

    def __init__(self, *, app_id: str, private_key: str, api_url: str, session: aiohttp.ClientSession,
                 time_scale: float = 1.0, metrics=None):
        self.metrics = metrics
        self.app_id = app_id
        self.private_key = private_key
        self.api_url = api_url
        self.session = session
        self.time_scale = time_scale
        self._tokens: dict[int, tuple[str, float]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._caches: dict[int, LRUCache] = {}
        self.budgets: dict[int, Budget] = {}  # the core rate limit per installation, as last answered

    def _api(self, **kw) -> RetryingGitHubAPI:
        return RetryingGitHubAPI(self.session, REQUESTER, base_url=self.api_url, time_scale=self.time_scale,
                                 metrics=self.metrics, **kw)

    async def identity(self) -> dict:
        """The app as GitHub knows it (name, slug, owner), asked once with the app's JWT."""
        if getattr(self, "_identity", None) is None:
            jwt_token = apps.get_jwt(app_id=self.app_id, private_key=self.private_key)
            self._identity = await self._api().getitem("/app", jwt=jwt_token)
        return self._identity

    async def token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached and cached[1] - TOKEN_REFRESH_MARGIN > time.time():
            return cached[0]
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - TOKEN_REFRESH_MARGIN > time.time():
                return cached[0]
            data = await apps.get_installation_access_token(
                self._api(), installation_id=str(installation_id), app_id=self.app_id, private_key=self.private_key)
            expires = _parse_time(data.get("expires_at")) or time.time() + 3600
            self._tokens[installation_id] = (data["token"], expires)
            return data["token"]

    async def installation(self, installation_id: int) -> RetryingGitHubAPI:
        """A client for one installation. Its ETag cache is that installation's own."""
        token = await self.token(installation_id)
        cache = self._caches.setdefault(installation_id, LRUCache(maxsize=2000))
        return self._api(oauth_token=token, cache=cache,
                         on_headers=lambda headers: self._note_budget(installation_id, headers))

    def _note_budget(self, installation_id: int, headers) -> None:
        if not headers or headers.get("x-ratelimit-resource", "core") != "core":
            return
        try:
            left, limit = int(headers["x-ratelimit-remaining"]), int(headers["x-ratelimit-limit"])
            reset = float(headers.get("x-ratelimit-reset", time.time() + 3600))
        except (KeyError, TypeError, ValueError):
            return
        self.budgets[installation_id] = Budget(left, limit, reset)

    def budget(self, installation_id: int) -> "Budget | None":
        """What GitHub last said of the installation's hourly requests; None before it said anything,
        or once the hour it spoke of is over."""
        b = self.budgets.get(installation_id)
        return b if b is not None and b.reset > time.time() else None


@dataclass(frozen=True)
class Budget:
    """An installation's hourly API requests: how many are left of ``limit`` until ``reset`` (epoch s)."""
    left: int
    limit: int
    reset: float

    @property
    def low(self) -> bool:
        """Too few left for work that can wait: a tenth of the hour's requests (at least 100) stay for
        pull requests and pushes."""
        return self.left < max(100, self.limit // 10)


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
