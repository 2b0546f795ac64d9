"""Background work: a queue with bounded concurrency that coalesces bursts for the same key (only
the newest job for a pull request runs).

Every job is stored before its delivery is acknowledged (``Store.accept_delivery``) and carries its
store id here; ``finished(id)`` is called once the job ran, failed for good, or was replaced by a
newer job for the same key. A job cut off by a shutdown or a crash is never finished, so it is
resumed at the next start. Workers are supervised: one that ends for any reason is replaced.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

Runner = Callable[[dict], Awaitable[None]]
Finished = Callable[..., Awaitable[None]]


async def _nothing(_job_id: int, done: bool = True) -> None:
    return None


async def not_started(job: dict) -> None:
    """A queue's runner until the app has started."""
    raise RuntimeError("the queue runs jobs only once the app has started")


def ask_gate(gate: Callable[[dict], float | None] | None, job: dict) -> float | None:
    """Seconds ``job`` should wait before it starts (None: run it now). A gate that fails lets it run."""
    if gate is None:
        return None
    try:
        return gate(job)
    except Exception as exc:
        _log_safely("could not ask whether a job should wait", exc)
        return None


async def record_finished(finished: Finished, job_id: int | None, done: bool = True) -> None:
    """Tell the store a job ran (or failed for good); if that fails, the job stays stored and runs again."""
    if job_id is None:
        return
    try:
        await finished(job_id, done)
    except Exception as exc:
        _log_safely("could not record a finished job", exc)


class JobQueue:
    def __init__(self, runner: Runner, *, workers: int = 4, finished: Finished = _nothing,
                 started: Callable[[int], Awaitable[None]] | None = None,
                 gate: Callable[[dict], float | None] | None = None):
        self.runner = runner
        self.workers = workers
        self.finished = finished
        self.started = started  # told before a stored job runs (attempts are counted)
        # asked before a job starts: seconds it should wait (work that can wait, while the API budget
        # is low), or None to run it now; a held job stays stored and is asked again then
        self.gate = gate
        self.held: dict[str, tuple] = {}  # key → (entry, when it is asked again (monotonic), timer)
        self._pending: "OrderedDict[str, tuple[int | None, dict, float]]" = OrderedDict()
        self._running: dict[str, tuple[int | None, dict, float]] = {}
        self._rerun: dict[str, tuple[int | None, dict, float]] = {}
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self.done = 0
        self.failed = 0
        self.restarted = 0  # workers replaced after ending unexpectedly

    def __len__(self) -> int:
        return len(self._pending) + len(self._running)

    @property
    def alive(self) -> int:
        """Workers running now."""
        return sum(1 for t in self._tasks if not t.done())

    def oldest_age(self) -> float:
        """Seconds the oldest waiting job has waited (0 when none waits)."""
        waiting = [at for _i, _j, at in self._pending.values()]
        return max(0.0, time.monotonic() - min(waiting)) if waiting else 0.0

    def submit(self, job: dict, key: str | None = None, job_id: int | None = None) -> str:
        """Queue a job. A newer job with the same key replaces one still waiting; one that arrives
        while its key is running waits and runs once after it. Returns "queued", "coalesced",
        "deferred" or, while stopping, "left for the next start"."""
        key = key or f"job:{id(job)}"
        if self._closing:
            return "left for the next start"  # stored, so resumed at the next start
        self._idle.clear()
        entry = (job_id, job, time.monotonic())
        held = self.held.get(key)
        if held is not None:  # a job for this key waits for its gate: the newer of the two stays
            if _older(entry, held[0]):
                self._forget(entry)
                return "coalesced"
            del self.held[key]
            held[2].cancel()
            self._forget(held[0])
        if key in self._running:
            replaced = self._rerun.get(key)
            if _older(entry, replaced):  # two deliveries resumed out of order: the newer one stays
                self._forget(entry)
                return "coalesced"
            self._rerun[key] = entry
            self._forget(replaced)
            return "deferred"
        replaced = self._pending.get(key)
        if _older(entry, replaced):
            self._forget(entry)
            return "coalesced"
        self._pending[key] = entry
        self._pending.move_to_end(key)
        self._forget(replaced)
        self._wake.set()
        return "coalesced" if replaced else "queued"

    def _forget(self, entry) -> None:
        """A job a newer one replaced is finished: the newer one does its work."""
        if entry is not None and entry[0] is not None:
            asyncio.get_running_loop().create_task(self._finish(entry[0]))

    async def _finish(self, job_id: int | None, done: bool = True) -> None:
        await record_finished(self.finished, job_id, done)

    def start(self) -> None:
        for _ in range(self.workers):
            self._spawn()

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(self._worker())
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if self._closing or task.cancelled():
            return
        self.restarted += 1
        _log_safely("a worker ended unexpectedly; starting another", task.exception())
        self._spawn()

    async def _worker(self) -> None:
        while True:
            while not self._pending:
                self._wake.clear()
                if not self._running and not self._pending:
                    self._idle.set()
                await self._wake.wait()
            key = self._next_key()
            if key is None:  # every waiting job's installation runs all workers but one: wait for one to end
                self._wake.clear()
                await self._wake.wait()
                continue
            entry = self._pending.pop(key)
            job_id, job, _at = entry
            wait = self._gated(job)
            if wait:
                self._hold(key, entry, wait)
                continue
            self._running[key] = entry
            try:
                if self.started is not None and job_id is not None:
                    await self.started(job_id)
                await self.runner(job)
                self.done += 1
                await self._finish(job_id)
            except asyncio.CancelledError:
                raise  # stopping: the job stays stored and resumes at the next start
            except Exception as exc:  # a job's failure must not stop the worker
                self.failed += 1
                _log_safely(f"job failed ({job.get('kind')} for {job.get('repo')})", exc)
                await self._finish(job_id, done=False)  # its delivery stays unseen: Redeliver runs it again
            finally:
                self._running.pop(key, None)
                self._wake.set()  # a cap may have lifted for a waiting job
                again = self._rerun.pop(key, None)
                if again is not None and not self._closing:
                    self.submit(again[1], key, again[0])
                if not self._pending and not self._running:
                    self._idle.set()

    def _gated(self, job: dict) -> float | None:
        return ask_gate(self.gate, job)

    def _hold(self, key: str, entry, wait: float) -> None:
        """Put a job back for ``wait`` seconds. It stays stored: a restart meanwhile asks again. A job
        for the same key that arrives meanwhile replaces it (``submit``), as in the queue."""
        wait = min(max(wait, 1.0), 3600.0)

        def again() -> None:
            held = self.held.pop(key, None)
            if held is not None and not self._closing:
                self.submit(held[0][1], key, held[0][0])
        timer = asyncio.get_running_loop().call_later(wait, again)
        self.held[key] = (entry, time.monotonic() + wait, timer)
        log.info("job held back", extra={"kind": entry[1].get("kind"), "repo": entry[1].get("repo"),
                                         "seconds": round(wait)})
        if not self._pending and not self._running:
            self._idle.set()

    def _next_key(self) -> str | None:
        """The waiting job to run next: the oldest of the installation with the fewest jobs running,
        never one whose installation already runs all workers but one: a worker is always there for
        another installation's job, however big the first one's burst. (Jobs mostly wait on GitHub;
        the CPU they share is handed out by FairSlots, which lends idle workers.)"""
        running: dict = {}
        for _i, job, _a in self._running.values():
            running[job.get("installation")] = running.get(job.get("installation"), 0) + 1
        cap = max(1, self.workers - 1)
        best, best_load = None, None
        for key, (_i, job, _a) in self._pending.items():
            load = running.get(job.get("installation"), 0)
            if load >= cap:
                continue
            if best is None or load < best_load:
                best, best_load = key, load
                if load == 0:
                    break
        return best

    async def join(self, timeout: float | None = None) -> None:
        """Wait until nothing is queued or running."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def stop(self, grace: float = 20.0) -> list[dict]:
        """Stop taking work; let running jobs finish for up to ``grace`` seconds; cancel the rest.
        What did not run stays stored and resumes at the next start. Returns those jobs."""
        self._closing = True
        left = [j for _i, j, _a in self._pending.values()]
        self._pending.clear()
        if self._running:
            try:
                await asyncio.wait_for(self._idle_running(), grace)
            except asyncio.TimeoutError:
                left += [j for _i, j, _a in self._running.values()]
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        left += [j for _i, j, _a in self._rerun.values()] + [h[0][1] for h in self.held.values()]
        self._rerun.clear()
        for h in self.held.values():
            h[2].cancel()
        self.held.clear()
        return left

    async def _idle_running(self) -> None:
        while self._running:
            await asyncio.sleep(0.01)


def _older(entry, other) -> bool:
    """Was ``entry`` stored before ``other`` (by store id, the order deliveries were accepted in)?"""
    return other is not None and entry[0] is not None and other[0] is not None and entry[0] < other[0]


def _log_safely(message: str, exc: BaseException | None) -> None:
    """Log a failure with its traceback, and never raise while doing so: an exception whose
    traceback cannot be formatted (a RecursionError from a hostile payload) is logged by its type."""
    try:
        log.error(message, exc_info=exc)
    except Exception:  # the failure path must not fail
        try:
            log.error("%s: %s (its traceback could not be formatted)", message, type(exc).__name__)
        except Exception:
            pass
