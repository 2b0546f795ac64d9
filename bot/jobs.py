"""Background work: a queue with bounded concurrency that coalesces bursts for the same key
(only the newest job for a pull request runs) and, at shutdown, finishes what it can and hands
back the rest to the store, to be picked up at the next start."""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

Runner = Callable[[dict], Awaitable[None]]


class JobQueue:
    def __init__(self, runner: Runner, *, workers: int = 4, park: Callable[[list[dict]], None] | None = None):
        self.runner = runner
        self.workers = workers
        self.park = park
        self._pending: "OrderedDict[str, dict]" = OrderedDict()
        self._running: dict[str, dict] = {}
        self._rerun: dict[str, dict] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._current: dict[asyncio.Task, str] = {}
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self.done = 0
        self.failed = 0

    def __len__(self) -> int:
        return len(self._pending) + len(self._running)

    def submit(self, job: dict, key: str | None = None) -> str:
        """Queue a job. A newer job with the same key replaces one still waiting; one that arrives
        while its key is running waits and runs once after it. Returns "queued", "coalesced" or
        "deferred"."""
        key = key or f"job:{id(job)}"
        if self._closing:
            if self.park:
                self.park([job])
            return "parked"
        self._idle.clear()
        if key in self._running:
            self._rerun[key] = job
            return "deferred"
        state = "coalesced" if key in self._pending else "queued"
        self._pending[key] = job
        self._pending.move_to_end(key)
        self._wake.set()
        return state

    def start(self) -> None:
        for n in range(self.workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"driftbot-worker-{n}"))

    async def _worker(self) -> None:
        while True:
            while not self._pending:
                self._wake.clear()
                if not self._running and not self._pending:
                    self._idle.set()
                await self._wake.wait()
            key, job = self._pending.popitem(last=False)
            self._running[key] = job
            task = asyncio.current_task()
            self._current[task] = key
            try:
                await self.runner(job)
                self.done += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # a job's failure must not stop the worker
                self.failed += 1
                log.exception("job failed", extra={"job_kind": job.get("kind"), "repo": job.get("repo")})
            finally:
                self._running.pop(key, None)
                self._current.pop(task, None)
                again = self._rerun.pop(key, None)
                if again is not None and not self._closing:
                    self.submit(again, key)
                elif again is not None and self.park:
                    self.park([again])
                if not self._pending and not self._running:
                    self._idle.set()

    async def join(self, timeout: float | None = None) -> None:
        """Wait until nothing is queued or running."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def stop(self, grace: float = 20.0) -> list[dict]:
        """Stop taking work; let running jobs finish for up to ``grace`` seconds; hand back the
        rest (waiting jobs and jobs cut off) through ``park``. Returns what was handed back."""
        self._closing = True
        handed = list(self._pending.values())
        self._pending.clear()
        if self._running:
            try:
                await asyncio.wait_for(self._idle_running(), grace)
            except asyncio.TimeoutError:
                handed += list(self._running.values())
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        handed += list(self._rerun.values())
        self._rerun.clear()
        if handed and self.park:
            self.park(handed)
        return handed

    async def _idle_running(self) -> None:
        while self._running:
            await asyncio.sleep(0.01)
