"""Creating things on GitHub exactly once.

A POST whose response is lost (a timeout, a dropped connection, a 5xx from a proxy) may or may not
have created its check run, comment, issue or pull request. Retrying it blindly makes duplicates;
giving up loses work. ``create_once`` does neither: after such a failure it looks the object up —
by a marker or id that only this app writes, and by the app's own authorship — and creates it again
only when it is not there.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Awaitable, Callable, TypeVar

import aiohttp
from gidgethub import GitHubBroken

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 4


class MaybeApplied(Exception):
    """A request that changes something failed in a way that does not tell whether it took effect."""


def uncertain(exc: BaseException) -> bool:
    """Did this failure possibly happen after GitHub acted on the request?"""
    return isinstance(exc, (MaybeApplied, GitHubBroken, aiohttp.ServerDisconnectedError,
                            aiohttp.ClientPayloadError, asyncio.TimeoutError))


async def create_once(create: Callable[[], Awaitable[T]], find: Callable[[], Awaitable[T | None]], *,
                      what: str, attempts: int = ATTEMPTS, sleep=asyncio.sleep) -> T:
    """``create()``; after an uncertain failure, ``find()`` what it may have made, and create again
    only when nothing is found. Certain failures (4xx) are raised at once."""
    for attempt in range(1, attempts + 1):
        try:
            return await create()
        except Exception as exc:
            if not uncertain(exc) or attempt == attempts:
                raise
            log.warning("create may have happened; looking it up", extra={"what": what, "error": repr(exc)})
        await sleep(min(8.0, random.uniform(0.25, 1.0) * 2 ** (attempt - 1)))
        found = await find()
        if found is not None:
            return found
    raise AssertionError("unreachable")
