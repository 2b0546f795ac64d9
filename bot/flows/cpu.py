"""Where the engine runs for the App: in worker processes (the default for `driftbot serve`), or on
one thread beside the event loop.

In processes, an analysis cannot hold the event loop's interpreter (webhooks are answered at once
whatever runs), and one repository's long analysis occupies one worker while the others go on.
Each worker keeps its own engine and caches; what an analysis needs (the snapshot with the files
fetched so far, the config) is sent with each call, and its results come back.
"""
from __future__ import annotations

import asyncio
import contextvars
import multiprocessing
import time
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

from ..engine import Engine

_ENGINE: Engine | None = None  # the engine of this worker process
TENANT: contextvars.ContextVar = contextvars.ContextVar("driftbot_tenant", default=None)  # the job's installation


def _engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def _budget_stop(budget: float | None):
    """A stop() for the engine that ends the work ``budget`` seconds after it began (the clock starts
    at the first question, when the work begins here, not while the call waited for a worker)."""
    if not budget:
        return None
    started: list[float] = []

    def stop():
        now = time.monotonic()
        if not started:
            started.append(now)
        elif now - started[0] > budget:
            return f"the analysis took longer than its {budget:g} s budget"
        return None
    return stop


def call_engine(engine: Engine | None, method: str, args: tuple, kwargs: dict, budget: float | None):
    """``engine.method(*args, **kwargs)``, with a time budget for evaluate. In a worker process the
    engine is the worker's own."""
    eng = engine or _engine()
    if method == "evaluate":
        kwargs = {**kwargs, "stop": _budget_stop(budget)}
    return getattr(eng, method)(*args, **kwargs)


def call_with_engine(engine: Engine | None, fn, args: tuple, kwargs: dict):
    """``fn(engine, *args, **kwargs)`` for functions that take the engine first (propose)."""
    return fn(engine or _engine(), *args, **kwargs)


class FairSlots:
    """``size`` slots shared by tenants (installations), handed out in turn: when a slot frees, the
    tenant that has waited since its last turn longest gets it, however many calls another has queued.
    One installation's burst of analyses cannot keep the others waiting behind all of it."""

    def __init__(self, size: int):
        self.free = size
        self._waiting: dict[object, deque] = {}  # tenant → futures, in arrival order
        self._turns: deque = deque()  # tenants with waiters, in the order they get their turn

    async def acquire(self, tenant) -> None:
        if self.free and not self._turns:
            self.free -= 1
            return
        future = asyncio.get_running_loop().create_future()
        if tenant not in self._waiting:
            self._waiting[tenant] = deque()
            self._turns.append(tenant)
        self._waiting[tenant].append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted as it was cancelled: pass the slot on
            else:
                queue = self._waiting.get(tenant)
                if queue and future in queue:
                    queue.remove(future)
            raise

    def release(self) -> None:
        while self._turns:
            tenant = self._turns.popleft()
            queue = self._waiting.get(tenant)
            while queue and queue[0].done():
                queue.popleft()
            if not queue:
                self._waiting.pop(tenant, None)
                continue
            future = queue.popleft()
            if queue:
                self._turns.append(tenant)  # its next call waits for the others' turns
            else:
                self._waiting.pop(tenant, None)
            future.set_result(None)
            return
        self.free += 1


class Runner:
    """Runs engine work off the event loop: ``processes`` workers, or 0 for one thread (then the
    given engine is used, in this process). Calls take the workers in turn by installation."""

    def __init__(self, engine: Engine, processes: int = 0):
        self.processes = processes
        self.engine = engine if not processes else None
        self.pool: Executor
        if processes:
            self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
        else:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftbot-engine")
        self.slots = FairSlots(processes or 1)

    async def _run(self, tenant, fn):
        await self.slots.acquire(tenant if tenant is not None else TENANT.get())
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn)
        finally:
            self.slots.release()

    async def engine_call(self, method: str, *args, budget: float | None = None, tenant=None, **kwargs):
        return await self._run(tenant, partial(call_engine, self.engine, method, args, kwargs, budget))

    async def with_engine(self, fn, *args, tenant=None, **kwargs):
        return await self._run(tenant, partial(call_with_engine, self.engine, fn, args, kwargs))

    async def call(self, fn, *args, tenant=None, **kwargs):
        return await self._run(tenant, partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
