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
import os
import time
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from ..engine import Engine

_ENGINE: Engine | None = None  # the engine of this worker process
WORKER_NICENESS = 5  # engine workers run below the server process
TENANT: contextvars.ContextVar = contextvars.ContextVar("driftbot_tenant", default=None)  # the job's installation


def _engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine(shared=True)  # calls of one job may land on different workers
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


_CACHE: list = []  # this process's content cache (opened once; None when turned off)


def _content_cache():
    if not _CACHE:
        from ..cache import ContentCache
        try:
            _CACHE.append(ContentCache.open())
        except Exception as exc:  # noqa: BLE001 - analyses run without a cache rather than not at all
            import logging
            logging.getLogger(__name__).warning("content cache off: %s", exc)
            _CACHE.append(None)
    return _CACHE[0]


def call_engine(engine: Engine | None, method: str, args: tuple, kwargs: dict, budget: float | None):
    """``engine.method(*args, **kwargs)``, with a time budget for evaluate. In a worker process the
    engine is the worker's own. An evaluation reads the indexes it needs from the content cache
    and keeps those it built there, so a restarted App pays only for files it has never seen."""
    eng = engine or _engine()
    if method == "evaluate":
        from ..prewarm import paused_gc, warm
        kwargs = {**kwargs, "stop": _budget_stop(budget)}
        built = eng.stats["files_indexed"]
        try:
            with paused_gc(), warm(eng, args[0], args[1], _content_cache(), parallel=False):
                built = eng.stats["files_indexed"]  # (those read from the cache are counted: not parsed here)
                return eng.evaluate(*args, **kwargs)
        finally:
            if eng.stats["files_indexed"] - built >= TRIM_AFTER:
                give_back_memory()
    return getattr(eng, method)(*args, **kwargs)


_TRIM: list = []  # the C library's malloc_trim, or None where it has none
TRIM_AFTER = 200  # files an evaluation indexed itself: below, it freed too little to be worth the trim


def give_back_memory() -> bool:
    """Return the memory an evaluation freed to the system. Parsing a repository makes and frees
    hundreds of megabytes in the C heap (parse trees, the parser's buffers); the C library keeps
    them, so a long-lived worker stayed at its largest repository's size: 715 MB after five real
    repositories in turn, 412 MB when each evaluation that parsed them gave it back (up to 40 ms
    each). glibc only; elsewhere nothing is done."""
    if not _TRIM:
        try:
            import ctypes
            trim = ctypes.CDLL(None).malloc_trim  # (Windows: CDLL(None) is a TypeError; musl, macOS: no such symbol)
            trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
            _TRIM.append(trim)
        except Exception:  # noqa: BLE001 - no way to give memory back here: nothing is lost but the memory
            _TRIM.append(None)
    if _TRIM[0] is None:
        return False
    _TRIM[0](0)
    return True


def call_with_engine(engine: Engine | None, fn, args: tuple, kwargs: dict):
    """``fn(engine, *args, **kwargs)`` for functions that take the engine first (propose)."""
    return fn(engine or _engine(), *args, **kwargs)


class FairSlots:
    """``size`` slots shared by tenants (installations), handed out in turn: when a slot frees, the
    tenant that has waited since its last turn longest gets it, however many calls another has queued.
    With two slots or more, one tenant holds at most all but one, so another tenant's analysis always
    finds a worker at once, whatever the first one runs."""

    def __init__(self, size: int):
        self.size = size
        self.cap = max(1, size - 1)  # slots one tenant may hold at once
        self.held: dict[object, int] = {}
        self._waiting: dict[object, deque] = {}  # tenant → futures, in arrival order
        self._turns: deque = deque()  # tenants with waiters, in the order they get their turn

    def _in_use(self) -> int:
        return sum(self.held.values())

    async def acquire(self, tenant) -> None:
        if self._in_use() < self.size and tenant not in self._waiting and self.held.get(tenant, 0) < self.cap:
            self.held[tenant] = self.held.get(tenant, 0) + 1
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
                self.release(tenant)  # granted as it was cancelled: pass the slot on
            else:
                queue = self._waiting.get(tenant)
                if queue and future in queue:
                    queue.remove(future)
            raise

    def release(self, tenant) -> None:
        if not self.held.get(tenant):
            raise RuntimeError(f"slot released by {tenant!r}, which holds none")
        self.held[tenant] -= 1
        if not self.held[tenant]:
            del self.held[tenant]
        self._grant()

    def _grant(self) -> None:
        """Give free slots to waiting tenants, in turn, within each one's cap."""
        for _ in range(len(self._turns)):
            if self._in_use() >= self.size:
                return
            tenant = self._turns.popleft()
            queue = self._waiting.get(tenant)
            while queue and queue[0].done():
                queue.popleft()
            if not queue:
                self._waiting.pop(tenant, None)
                continue
            if self.held.get(tenant, 0) >= self.cap:
                self._turns.append(tenant)  # at its cap: one of its own must finish first
                continue
            future = queue.popleft()
            self.held[tenant] = self.held.get(tenant, 0) + 1
            future.set_result(None)
            if queue:
                self._turns.append(tenant)  # its next call waits for the others' turns
            else:
                self._waiting.pop(tenant, None)


class Runner:
    """Runs engine work off the event loop: ``processes`` workers, or 0 for one thread (then the
    given engine is used, in this process). Calls take the workers in turn by installation."""

    def __init__(self, engine: Engine, processes: int = 0):
        self.processes = processes
        self.engine = engine if not processes else None
        self.pool: Executor
        self.pool = self._new_pool()
        self.slots = FairSlots(processes or 1)

    def _new_pool(self) -> Executor:
        if self.processes:
            pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_start, initargs=(os.getpid(),))
            # every worker starts now, not when a call first needs it: a quiet installation's first
            # call while another's work holds the running workers must not wait for an interpreter
            # to start and import the engine
            for _ in range(self.processes):
                pool.submit(_warm_up)
            return pool
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftbot-engine")

    async def _run(self, tenant, fn):
        tenant = tenant if tenant is not None else TENANT.get()
        await self.slots.acquire(tenant)
        try:
            future = asyncio.get_running_loop().run_in_executor(self.pool, fn)
        except BaseException:
            self.slots.release(tenant)
            raise
        # the slot is the worker's: it is free when the work ends, not when a caller stops waiting
        future.add_done_callback(lambda _f: self.slots.release(tenant))
        try:
            return await asyncio.shield(future)
        except BrokenProcessPool:
            # a worker died (out of memory, a crash): this call fails, the next ones get new workers
            if self.pool is not None and getattr(self.pool, "_broken", False):
                old, self.pool = self.pool, self._new_pool()
                old.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError("an analysis worker stopped unexpectedly; the next analysis starts a new one") from None

    async def engine_call(self, method: str, *args, budget: float | None = None, tenant=None, **kwargs):
        return await self._run(tenant, partial(call_engine, self.engine, method, args, kwargs, budget))

    async def with_engine(self, fn, *args, tenant=None, **kwargs):
        return await self._run(tenant, partial(call_with_engine, self.engine, fn, args, kwargs))

    async def call(self, fn, *args, tenant=None, **kwargs):
        return await self._run(tenant, partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Stop at once: work in progress is abandoned (its job stays stored and runs again at the
        next start), so a long analysis never holds up a shutdown."""
        processes = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()


def _warm_up() -> None:
    """Load what every analysis needs: the engine, its parsers and the built-in rule packs."""
    from ..engine.config import Config
    from ..engine.snapshot import Snapshot
    _engine().rule_set(Snapshot.from_texts({}), Config())
    time.sleep(0.05)  # still busy while the other warm-ups are handed out: each starts its own worker


def _worker_start(server: int | None = None) -> None:
    """In each worker process: Ctrl-C and SIGTERM are the server's to handle, not the workers'. The
    workers yield the CPU to the server process: it answers webhooks and feeds every installation's
    analyses, so busy workers must not slow it (nor, through it, a quiet installation's work)."""
    import signal
    import threading
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # not on this platform, or not allowed: run at normal priority
        pass
    # a server killed outright (kill -9, out of memory) cannot stop its workers, and a worker waiting
    # for work never learns of it (every worker holds the work queue's writing end too): each would
    # be left running, holding its memory, after every crash. The server's pid comes from the server:
    # one that died while this worker started is gone already.
    threading.Thread(target=_exit_with, args=(server or os.getppid(),), name="driftbot-parent-watch",
                     daemon=True).start()


def _exit_with(server: int, every: float = 1.0) -> None:
    """End this worker once its server process is gone (the worker is then another's child)."""
    while os.getppid() == server:
        time.sleep(every)
    os._exit(0)
