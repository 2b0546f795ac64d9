"""Nothing accepted is lost: jobs are stored before the delivery is acknowledged, resumed after a
crash (kill -9 of the real `driftbot serve`), and a delivery counts as seen only once its jobs are done."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp

from bot.server import QUEUE, make_app
from bot.store import SQLiteStore
from tests import apphelpers
from tests.apphelpers import deliver, pr_event, sign
from tests.test_app_pr import ROUTES_BOTH, base_files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc; none where there is no /proc)."""
    out = []
    for entry in (os.listdir("/proc") if os.path.isdir("/proc") else ()):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _serve(github, store_path, port):
    env = {**os.environ, "APP_ID": apphelpers.APP_ID, "WEBHOOK_SECRET": apphelpers.SECRET,
           "PRIVATE_KEY": apphelpers.keypair()[0], "DRIFTBOT_STORE": str(store_path), "PORT": str(port),
           "GITHUB_API_URL": github.url, "DRIFTBOT_WORKERS": "2", "DRIFTBOT_ONBOARDING": "off"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _up(session, port, proc):
    deadline = time.monotonic() + 30
    while True:
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                return await r.json()
        except aiohttp.ClientConnectionError:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "driftbot serve did not answer"
            await asyncio.sleep(0.1)


async def _post(session, port, event, data, delivery):
    body = json.dumps(data).encode()
    async with session.post(f"http://127.0.0.1:{port}/webhook", data=body, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body)}) as r:
        return r.status, await r.json()


async def test_kill_9_with_queued_jobs_loses_nothing(github, repo_factory, tmp_path):
    repo, g, base = repo_factory(base_files())
    prs = []
    for i in range(6):
        g.checkout("main")
        head = g.commit({f"internal/agents/extra{i}.go": ROUTES_BOTH.replace("package agents", "package agents")},
                        f"pr {i}", branch=f"feature-{i}")
        prs.append((head, github.open_pull(repo, "main", f"feature-{i}")))
    github.fail("git/get-tree", status=500, delay=60, times=100)  # GitHub hangs: the jobs cannot finish
    store_path, port = tmp_path / "state.db", _free_port()
    proc = _serve(github, store_path, port)
    async with aiohttp.ClientSession() as s:
        try:
            await _up(s, port, proc)
            for i, (head, number) in enumerate(prs):
                status, _ = await _post(s, port, "pull_request", pr_event(repo, number, base, head), f"d-{i}")
                assert status == 202
            await asyncio.sleep(0.5)
        finally:
            workers = _children(proc.pid)
            proc.send_signal(signal.SIGKILL)  # no shutdown of any kind
            proc.wait(timeout=10)
        assert len(SQLiteStore(str(store_path)).unfinished_jobs()) == 6
        # its engine workers do not outlive it (each would hold its memory after every crash)
        deadline = time.monotonic() + 15
        while [w for w in workers if _alive(w)]:
            assert time.monotonic() < deadline, f"workers {workers} outlived the killed server"
            await asyncio.sleep(0.2)
        # restarted while GitHub still hangs: GitHub's Redeliver of a delivery whose job has not
        # finished is taken, not ignored as a duplicate
        proc = _serve(github, store_path, port)
        try:
            health = await _up(s, port, proc)
            assert health["workers"] == 2
            status, answer = await _post(s, port, "pull_request", pr_event(repo, prs[0][1], base, prs[0][0]), "d-0")
            assert (status, answer["status"]) == (202, "already queued")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        github.failures.clear()  # GitHub is back
        proc = _serve(github, store_path, port)
        try:
            await _up(s, port, proc)
            deadline = time.monotonic() + 60
            while len([r for r in repo.check_runs.values() if r["status"] == "completed"]) < 6 or \
                    SQLiteStore(str(store_path)).unfinished_jobs():
                assert time.monotonic() < deadline, [r["status"] for r in repo.check_runs.values()]
                await asyncio.sleep(0.2)
            # once done, a redelivery is a duplicate
            status, answer = await _post(s, port, "pull_request", pr_event(repo, prs[1][1], base, prs[1][0]), "d-1")
            assert (status, answer["status"]) == (200, "duplicate delivery, ignored")
        finally:
            workers = _children(proc.pid)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        deadline = time.monotonic() + 15
        while [w for w in workers if _alive(w)]:  # nor a stopped one
            assert time.monotonic() < deadline, f"workers {workers} outlived the stopped server"
            await asyncio.sleep(0.2)
    runs = list(repo.check_runs.values())
    assert {r["head_sha"] for r in runs} == {head for head, _n in prs}
    assert all(r["status"] == "completed" for r in runs)  # none left in progress
    assert len(runs) == 6  # check runs started before the crash were finished, not duplicated


async def test_a_delivery_is_stored_before_it_is_acknowledged(github, repo_factory, aiohttp_client, tmp_path):
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "add", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    store = SQLiteStore(str(tmp_path / "s.db"))
    github.fail("git/get-tree", status=500, delay=30, times=10)
    app = make_app(apphelpers.settings(github.url, workers=1), store=store, time_scale=0.001, shutdown_grace=0.1)
    client = await aiohttp_client(app)
    r = await deliver(client, "pull_request", pr_event(repo, number, base, head), delivery="one")
    assert r.status == 202
    ((_id, key, job),) = store.unfinished_jobs()  # in the store by the time the answer was sent
    assert key == f"pr:{repo.full_name}:{number}" and job["head_sha"] == head
    again = await deliver(client, "pull_request", pr_event(repo, number, base, head), delivery="one")
    assert again.status == 202 and (await again.json())["status"] == "already queued"
    await client.close()


async def test_hostile_nesting_is_refused_and_workers_survive(bot):
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    r = await deliver(bot, "pull_request", deep)
    assert r.status == 400
    nested = {"action": "opened"}
    for _ in range(200):
        nested = {"x": nested}
    r = await deliver(bot, "issue_comment", nested)
    assert r.status == 400 and "deeper than" in (await r.json())["error"]
    health = await bot.get("/healthz")
    body = await health.json()
    assert health.status == 200 and body["workers"] == body["of"] == 4 and body["oldest_wait_s"] == 0


async def test_healthz_reports_dead_workers(bot):
    queue = bot.queue
    queue.workers += 1  # one more than are running: as if one had died and not come back
    r = await bot.get("/healthz")
    assert r.status == 503 and (await r.json())["status"] == "workers down"
    queue.workers -= 1
    assert bot.app[QUEUE] is queue
