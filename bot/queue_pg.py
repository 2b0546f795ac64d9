"""The job queue several replicas share: procrastinate on the PostgreSQL database the store uses.

A delivery's jobs are stored first (``Store.accept_delivery``), as with the in-process queue. Then a
procrastinate job is deferred for the job's queue key, with that key as both its queueing lock and its
lock: one job per key waits (a burst for one pull request coalesces into it), and jobs with one key
never run at once, on any replica. The task runs the newest stored job of its key and finishes the
older ones it replaces, so whichever replica takes it, each stored job runs once.

Every replica also keeps the queue honest, every few seconds:
- a stored job whose key has no waiting or running procrastinate job (its replica died between
  storing and deferring) is deferred again;
- a running job whose worker stopped sending heartbeats (its replica was killed) is put back to
  run elsewhere. Its stored job was started, not finished, so it runs again; a job that takes down
  MAX_ATTEMPTS replicas in a row is given up.

Needs the ``postgres`` extra (procrastinate, psycopg 3 and its pool).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from functools import partial
from typing import Awaitable, Callable

from .jobs import _log_safely, _nothing, ask_gate, not_started, record_finished
from .store import Store

log = logging.getLogger(__name__)

TASK = "driftbot.run_key"
QUEUE = "driftbot"
SCHEMA_LOCK = 0x64726971  # "driq": one replica installs procrastinate's schema
MAX_ATTEMPTS = 3  # the same limit as the in-process queue's resume at start
HELD = "held:"  # store value (repository "") naming until when a key's job waits for its gate (the API budget)
RECONCILE_LOCK = 0x64726972  # "drir": one replica reconciles at a time


class SharedQueue:
    """The in-process JobQueue's interface (submit, start, stop, join and the figures the status page
    and metrics read), backed by procrastinate so that N replicas share the work."""

    resumes_itself = True  # the reconciler defers stored jobs: the server need not resubmit them

    def __init__(self, location: str, store: Store, *, workers: int = 4,
                 reconcile_every: float = 10.0, stalled_after: float = 30.0, heartbeat: float = 5.0):
        try:
            import procrastinate
        except ImportError as exc:  # pragma: no cover - the postgres extra brings it
            raise RuntimeError("a shared queue needs the postgres extra: pip install 'driftbot[postgres]'") from exc
        self._procrastinate = procrastinate
        self.location = location
        self.store = store
        self.workers = workers
        self.runner: Callable[[dict], Awaitable[None]] = not_started
        self.finished: Callable[..., Awaitable[None]] = _nothing
        self.started: Callable[[int], Awaitable[None]] | None = None
        self.gate: Callable[[dict], float | None] | None = None
        self.held: dict = {}  # held jobs wait in the store (marked until when), not here
        self.reconcile_every = reconcile_every
        self.stalled_after = stalled_after
        self.heartbeat = heartbeat
        self.grace = max(1.0, stalled_after - 10.0)  # a stopping replica's jobs end before others take them
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=location, min_size=1, max_size=workers + 2))
        self.task = self.app.task(name=TASK, queue=QUEUE)(self._run_key)
        self.done = 0
        self.failed = 0
        self.restarted = 0
        self._running = 0
        self._waiting = 0  # jobs waiting in the database (counted by the reconciler)
        self._oldest = 0.0
        self._tasks: set[asyncio.Task] = set()
        self._worker: asyncio.Task | None = None
        self._closing = False
        self._ready = asyncio.Event()

    # ---- the figures the status page and metrics read -------------------------------------------
    def __len__(self) -> int:
        return self._waiting + self._running

    @property
    def alive(self) -> int:
        return self.workers if self._worker is not None and not self._worker.done() else 0

    def oldest_age(self) -> float:
        return self._oldest

    # ---- submitting -------------------------------------------------------------------------------
    def submit(self, job: dict, key: str | None = None, job_id: int | None = None) -> str:
        """Queue the stored job ``job_id`` under ``key``. It is in the store already, so this only
        asks procrastinate to run its key; should that fail, the reconciler asks again."""
        if self._closing:
            return "left for the next start"
        key = key or f"job:{job_id}"
        self._spawn(self._defer(key))
        return "queued"

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _defer(self, key: str) -> str:
        await self._ready.wait()
        try:
            await self.task.configure(lock=key, queueing_lock=key).defer_async(key=key)
            return "queued"
        except self._procrastinate.exceptions.AlreadyEnqueued:
            return "coalesced"  # one waits for this key already: it runs the newest stored job
        except Exception as exc:  # noqa: BLE001 - the job is stored: the reconciler defers it again
            _log_safely(f"could not queue {key}; it is stored and queued again shortly", exc)
            return "stored"

    # ---- running ----------------------------------------------------------------------------------
    async def _run_key(self, key: str) -> None:
        """The procrastinate task: run the newest stored job of ``key``, finish those it replaces."""
        loop = asyncio.get_running_loop()
        jobs = await loop.run_in_executor(None, partial(self.store.jobs_for_key, key, max_attempts=MAX_ATTEMPTS))
        if not jobs:
            return  # another run of this key did the work already
        job_id, job, _attempts = jobs[-1]
        wait = ask_gate(self.gate, job)
        if wait:  # work that can wait (the API budget is low): it stays stored, and the reconcilers leave
            # its key alone until then; a newer job for the key (a push) is queued and runs at once
            until = time.time() + min(max(wait, 1.0), 3600.0)
            await loop.run_in_executor(None, self.store.set_value, "", HELD + key, f"{until:.0f}")
            log.info("job held back", extra={"kind": job.get("kind"), "repo": job.get("repo"), "seconds": round(wait)})
            return
        if await loop.run_in_executor(None, self.store.get_value, "", HELD + key) not in (None, "0"):
            await loop.run_in_executor(None, self.store.set_value, "", HELD + key, "0")  # held no more
        self._running += 1
        try:
            if self.started is not None:
                await self.started(job_id)
            ok = True
            try:
                await self.runner(job)
                self.done += 1
            except asyncio.CancelledError:
                raise  # stopping: the job stays stored and runs again (here or elsewhere)
            except Exception as exc:  # a job's failure must not fail the task: it is not retried blindly
                ok = False
                self.failed += 1
                _log_safely(f"job failed ({job.get('kind')} for {job.get('repo')})", exc)
            for older_id, _job, _a in jobs[:-1]:
                await self._finish(older_id, True)  # the newest did their work
            await self._finish(job_id, ok)
        finally:
            self._running -= 1

    async def _finish(self, job_id: int, done: bool) -> None:
        await record_finished(self.finished, job_id, done)  # on failure, stays stored: queued again

    # ---- life cycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._spawn(self._main())

    def _new_worker(self):
        from procrastinate import worker as worker_mod
        return worker_mod.Worker(
            app=self.app, queues=[QUEUE], concurrency=self.workers, install_signal_handlers=False, wait=True,
            listen_notify=True, update_heartbeat_interval=self.heartbeat, stalled_worker_timeout=self.stalled_after,
            delete_jobs="always", name="driftbot", shutdown_graceful_timeout=self.grace)

    async def _main(self) -> None:
        delay = 1.0
        while not self._closing:  # the database may not answer yet (or be full): try again, and say so
            try:
                await self.app.open_async()
                await self._install_schema()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried
                _log_safely(f"the shared queue cannot reach its database; trying again in {delay:.0f} s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        self._ready.set()
        self._procrastinate_worker = self._new_worker()
        self._worker = asyncio.get_running_loop().create_task(self._procrastinate_worker.run())
        while not self._closing:
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                _log_safely("could not reconcile the shared queue", exc)
            if self._worker.done() and not self._closing:  # the worker ended: start another
                self.restarted += 1
                _log_safely("the queue's worker ended unexpectedly; starting another",
                            None if self._worker.cancelled() else self._worker.exception())
                self._procrastinate_worker = self._new_worker()
                self._worker = asyncio.get_running_loop().create_task(self._procrastinate_worker.run())
            await asyncio.sleep(self.reconcile_every)

    async def _install_schema(self) -> None:
        """procrastinate's tables, installed once however many replicas start together."""
        import psycopg
        async with await psycopg.AsyncConnection.connect(self.location, autocommit=True) as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
                if row[0] is None:
                    await conn.execute(self.app.schema_manager.get_schema())
                    log.info("installed the job queue's tables")
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    async def reconcile(self) -> dict:
        """Put back the jobs of replicas that died; queue stored jobs nothing waits for. One replica
        does it at a time (an advisory lock), so a job is never put back twice. Returns what it did."""
        async with self.app.connector.pool.connection() as conn:
            await conn.set_autocommit(True)
            got = (await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (RECONCILE_LOCK,))).fetchone())[0]
            if not got:
                await self._count(conn)
                return {"retried": 0, "queued": 0}
            try:
                retried = await self._put_back(conn)
                active = await self._count(conn)
                loop = asyncio.get_running_loop()
                keys = await loop.run_in_executor(None, self.store.unfinished_keys)
                queued, now = 0, time.time()
                for key in keys:
                    if key in active:
                        continue
                    until = await loop.run_in_executor(None, self.store.get_value, "", HELD + key)
                    if until and float(until) > now:
                        continue  # held back for the API budget (its gate is asked again then)
                    if await self._defer(key) == "queued":
                        queued += 1
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (RECONCILE_LOCK,))
        if retried:
            log.info("%d job(s) of a replica that stopped answering put back", retried)
        if queued:
            log.info("queued %d stored job key(s) nothing was waiting for", queued)
        return {"retried": retried, "queued": queued}

    async def _put_back(self, conn) -> int:
        """The running jobs of workers whose heartbeats stopped, back to waiting (or dropped, when a
        job for the same key waits already: that one runs the newest stored job). Each is checked
        again as it is changed, so a job a live worker holds is never touched."""
        import psycopg
        stale = ("(worker_id IS NULL OR worker_id IN (SELECT id FROM procrastinate_workers "
                 "WHERE last_heartbeat < now() - make_interval(secs => %s)))")
        ids = [r[0] for r in await (await conn.execute(
            f"SELECT id FROM procrastinate_jobs WHERE queue_name = %s AND status = 'doing' AND {stale}",
            (QUEUE, self.stalled_after))).fetchall()]
        retried = 0
        for job_id in ids:
            try:
                cur = await conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'todo', worker_id = NULL, scheduled_at = NULL, "
                    f"attempts = attempts + 1 WHERE id = %s AND status = 'doing' AND {stale}",
                    (job_id, self.stalled_after))
                retried += cur.rowcount
            except psycopg.errors.UniqueViolation:
                await conn.execute(f"DELETE FROM procrastinate_jobs WHERE id = %s AND status = 'doing' AND {stale}",
                                   (job_id, self.stalled_after))
        return retried

    async def _count(self, conn) -> dict:
        """Which keys have a job waiting or running, and the figures the status page shows."""
        rows = await (await conn.execute(
            "SELECT j.queueing_lock, j.lock, j.status, extract(epoch FROM now() - min(e.at)) "
            "FROM procrastinate_jobs j LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred' "
            "WHERE j.queue_name = %s AND j.status IN ('todo', 'doing') GROUP BY j.id", (QUEUE,))).fetchall()
        active = {}
        for queueing_lock, lock, status, _age in rows:
            active[lock or queueing_lock] = status
        self._waiting = sum(1 for _q, _l, s, _a in rows if s == "todo")
        ages = [float(a) for _q, _l, s, a in rows if s == "todo" and a is not None]
        self._oldest = max(0.0, max(ages)) if ages else 0.0
        return active

    async def join(self, timeout: float | None = None) -> None:
        """Wait until no stored job is left (on any replica)."""
        async def idle():
            loop = asyncio.get_running_loop()
            while True:
                if not await loop.run_in_executor(None, self.store.unfinished_keys) and not self._running:
                    return
                await asyncio.sleep(0.05)
        await asyncio.wait_for(idle(), timeout)

    async def stop(self, grace: float = 20.0) -> list[dict]:
        """Stop taking work; give running jobs ``grace`` seconds, then cancel them: what did not run
        stays stored and runs on another replica (once its job here is given up), or here at the next
        start. The grace stays below the time after which other replicas take a silent worker's jobs,
        so a job never runs on two replicas at once."""
        self._closing = True
        worker = getattr(self, "_procrastinate_worker", None)
        if worker is not None:
            worker.shutdown_graceful_timeout = min(grace, self.grace)
            worker.stop()  # no new job is taken from now on
        if self._worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), min(grace, self.grace) + 5)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping anyway
                pass
        for task in [self._worker, *self._tasks]:
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in [self._worker, *self._tasks] if t is not None), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.app.close_async()
        return []
