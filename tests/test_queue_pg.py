"""The queue replicas share on PostgreSQL (procrastinate): each stored job runs once whichever replica
takes it, bursts for one key coalesce into the newest job, jobs with one key never run at once, and
the jobs of a replica that dies are run by the others."""
import asyncio
import random

import pytest

from tests.test_store_conformance import _postgres

pytest.importorskip("procrastinate")


@pytest.fixture
def location(request, tmp_path):
    store = _postgres(request, tmp_path)
    store.close()
    return (tmp_path / "location").read_text()


def replica(location, runner, **kw):
    from bot.queue_pg import SharedQueue
    from bot.store_pg import PostgresStore
    store = PostgresStore(location)
    q = SharedQueue(location, store, workers=3, reconcile_every=0.2, **kw)
    q.runner = runner

    async def finished(job_id, done=True):
        await asyncio.get_running_loop().run_in_executor(None, lambda: store.finish_job(job_id, done=done))

    async def started(job_id):
        await asyncio.get_running_loop().run_in_executor(None, store.start_job, job_id)
    q.finished, q.started = finished, started
    return q, store


async def test_two_replicas_run_each_job_once_and_coalesce_bursts_per_key(location):
    ran: list[tuple[str, int]] = []
    running: set[str] = set()
    overlaps = []

    async def runner(job):
        if job["key"] in running:
            overlaps.append(job["key"])
        running.add(job["key"])
        await asyncio.sleep(random.random() * 0.02)
        running.discard(job["key"])
        ran.append((job["key"], job["n"]))

    a, store_a = replica(location, runner)
    b, store_b = replica(location, runner)
    a.start(), b.start()
    accepted = []
    for n in range(60):
        key = f"pr:acme/x:{n % 7}" if n % 3 else f"command:{n}"
        (job_id,) = store_a.accept_delivery(f"d-{n}", [(key, {"key": key, "n": n})])
        accepted.append((key, n))
        (a if n % 2 else b).submit({"key": key, "n": n}, key, job_id)
    await a.join(30)
    await asyncio.sleep(0.3)
    assert store_a.unfinished_jobs() == [] and not overlaps
    assert len(ran) == len(set(ran)), "a job ran twice"
    for key in {k for k, _n in accepted}:  # the newest job of every key ran
        assert (key, max(n for k, n in accepted if k == key)) in ran
    assert all(key in {k for k, _ in ran} for key, _ in accepted)
    assert len(ran) < len(accepted)  # bursts for one pull request coalesced
    assert a.done + b.done == len(ran) and a.failed == b.failed == 0
    await a.stop(1), await b.stop(1)
    store_a.close(), store_b.close()


async def test_the_jobs_of_a_replica_that_dies_run_on_another(location):
    hang = asyncio.Event()
    ran = []

    async def stuck(job):
        await hang.wait()  # never set: this replica "dies" holding the job

    async def runner(job):
        ran.append(job["n"])

    a, store_a = replica(location, stuck, stalled_after=1.0, heartbeat=0.2)
    a.start()
    (job_id,) = store_a.accept_delivery("d-1", [("push:acme/x", {"n": 1})])
    a.submit({"n": 1}, "push:acme/x", job_id)
    for _ in range(100):
        if a._running:
            break
        await asyncio.sleep(0.05)
    assert a._running == 1
    # the replica stops answering: its worker's heartbeats end, its job is left "doing"
    a._closing = True
    for t in [a._worker, *a._tasks]:
        t.cancel()
    b, store_b = replica(location, runner, stalled_after=1.0, heartbeat=0.2)
    b.start()
    await b.join(30)
    assert ran == [1] and store_b.unfinished_jobs() == []
    await b.stop(1)
    store_a.close(), store_b.close()


async def test_a_stored_job_nothing_queued_is_queued_by_any_replica(location):
    """A replica that stored a delivery and died before queueing it: another one finds the job."""
    ran = []

    async def runner(job):
        ran.append(job["n"])

    from bot.store_pg import PostgresStore
    lost = PostgresStore(location)
    lost.accept_delivery("d-9", [("push:acme/y", {"n": 9})])  # stored, never submitted
    lost.close()
    q, store = replica(location, runner)
    q.start()
    await q.join(30)
    assert ran == [9]
    await q.stop(1)
    store.close()


async def test_a_held_job_never_blocks_a_newer_one_for_its_key_and_a_stop_hands_work_over(location):
    """A scan held for the API budget waits in the store; a push for the same repository runs at once
    (and replaces it). A replica stopping mid-job cancels it after its grace; another runs it, never both."""
    ran, spans = [], []

    async def runner(job):
        ran.append(job["kind"])

    a, store_a = replica(location, runner)
    a.gate = lambda job: 3600.0 if job["kind"] == "scan" else None
    a.start()
    (scan,) = store_a.accept_delivery("d-scan", [("push:acme/x", {"kind": "scan"})])
    a.submit({"kind": "scan"}, "push:acme/x", scan)
    await asyncio.sleep(1.0)
    assert ran == [] and store_a.unfinished_jobs()  # held, still stored
    (push,) = store_a.accept_delivery("d-push", [("push:acme/x", {"kind": "push"})])
    a.submit({"kind": "push"}, "push:acme/x", push)
    await a.join(10)
    assert ran == ["push"] and store_a.unfinished_jobs() == []
    assert store_a.get_value("", "held:push:acme/x") == "0"  # the key is held no more

    import time as _time

    async def slow(job):
        spans.append(("a", _time.monotonic()))
        await asyncio.sleep(30)

    async def fast(job):
        spans.append(("b", _time.monotonic()))

    a.runner = slow
    b, store_b = replica(location, fast)
    b.start()
    (job_id,) = store_a.accept_delivery("d-long", [("pr:acme/x:1", {"kind": "pull_request"})])
    a.submit({"kind": "pull_request"}, "pr:acme/x:1", job_id)
    for _ in range(100):
        if spans:
            break
        await asyncio.sleep(0.05)
    started = _time.monotonic()
    await a.stop(0.5)
    assert _time.monotonic() - started < 5  # the grace is kept, not the job's 30 s
    await b.join(30)
    assert [who for who, _t in spans] == ["a", "b"] and store_b.unfinished_jobs() == []
    await b.stop(1)
    store_a.close(), store_b.close()
