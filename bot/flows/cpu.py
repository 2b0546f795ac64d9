"""Where the engine runs for the App: in worker processes (the default for `driftbot serve`), or on
one thread beside the event loop.

In processes, an analysis cannot hold the event loop's interpreter (webhooks are answered at once
whatever runs), and one repository's long analysis occupies one worker while the others go on.
Each worker keeps its own engine and caches; what an analysis needs (the snapshot with the files
fetched so far, the config) is sent with each call, and its results come back.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

from ..engine import Engine

_ENGINE: Engine | None = None  # the engine of this worker process


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


class Runner:
    """Runs engine work off the event loop: ``processes`` workers, or 0 for one thread (then the
    given engine is used, in this process)."""

    def __init__(self, engine: Engine, processes: int = 0):
        self.processes = processes
        self.engine = engine if not processes else None
        self.pool: Executor
        if processes:
            self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
        else:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftbot-engine")

    async def engine_call(self, method: str, *args, budget: float | None = None, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(call_engine, self.engine, method, args, kwargs, budget))

    async def with_engine(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(call_with_engine, self.engine, fn, args, kwargs))

    async def call(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.pool, partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
