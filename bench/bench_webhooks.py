"""Benchmark the GitHub App against the fake GitHub, all on loopback.

    python bench/bench_webhooks.py [--rate 200] [--seconds 10]

1. Acknowledgement latency (p50/p99) of signed deliveries sent at a steady rate while the
   background queue analyses the pull requests they name (target: p99 < 50 ms at 200/s).
0. Peak memory of `driftbot serve` under 40 concurrent unsigned 24 MB bodies (target: < 200 MB above
   idle).
2. GitHub API requests per pull-request event that touches one feature, for repositories of
   growing size, next to the requests of a full scan of the same repository (target: PR requests
   grow with the touched features, not with the repository).
"""
from __future__ import annotations

import argparse
from collections import Counter
import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.server import QUEUE, make_app  # noqa: E402
from bot.store import SQLiteStore  # noqa: E402
from tests import apphelpers  # noqa: E402
from tests.fakegithub import FakeGitHub, GitRepo  # noqa: E402


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def make_repo(root: Path, features: int) -> tuple[GitRepo, dict]:
    files = {"cmd/app/main.go": "package main\n\nfunc main() {}\n"}
    for i in range(features):
        files[f"docs/ideas/f{i:04d}.md"] = f"# F{i}\n\n- `GET /api/f{i}`\n- `Store{i}`\n"
        for k in range(5):
            files[f"internal/f{i:04d}/part{k}.go"] = (f"package f{i:04d}\n\ntype Store{i}x{k} struct{{}}\n"
                                                      + (f'func R(r chi.Router) {{ r.Get("/api/f{i}", h) }}\n' if k == 0 else ""))
        files[f"internal/f{i:04d}/part_test.go"] = f"package f{i:04d}\n"
    g = GitRepo(root)
    g.commit(files, "initial")
    return g, files


async def wait_healthy(session, url: str, seconds: float = 30.0) -> None:
    """Wait until the `driftbot serve` at ``url`` answers /healthz."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with session.get(url + "/healthz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer /healthz within {seconds:.0f} s")


class FakeInThread:
    """The fake GitHub on its own thread and event loop, so it does not compete with the client."""

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner, self.fake.url = self.loop.run_until_complete(start(self.fake.app))
        self.ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


async def latency(rate: int, seconds: float) -> None:
    tmp = Path(tempfile.mkdtemp())
    fake = FakeGitHub(apphelpers.APP_ID, apphelpers.keypair()[1])
    g, _ = make_repo(tmp / "repo", 30)
    repo = fake.add_repo("acme", "fleet", g, apphelpers.INSTALLATION)
    base = g.commit({}, "base")
    prs = []
    for n in range(20):
        head = g.commit({f"internal/f{n:04d}/part1.go": f"package f{n:04d}\n// TODO: {n}\n"}, f"pr {n}", branch=f"b{n}")
        g.checkout("main")
        prs.append((fake.open_pull(repo, "main", f"b{n}"), head))
    thread = FakeInThread(fake)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "APP_ID": apphelpers.APP_ID, "WEBHOOK_SECRET": apphelpers.SECRET,
           "PRIVATE_KEY": apphelpers.keypair()[0], "GITHUB_API_URL": fake.url, "PORT": str(port),
           "DRIFTBOT_STORE": str(tmp / "state.db"), "DRIFTBOT_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env=env)
    url = f"http://127.0.0.1:{port}"
    total = int(rate * seconds)
    lat: list[float] = []
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession() as s:
        await wait_healthy(s, url)
        bodies = []
        for i in range(total):
            number, head = prs[i % len(prs)]
            body = json.dumps(apphelpers.pr_event(repo, number, base, head, action="synchronize")).encode()
            bodies.append((body, {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
                                  "X-Hub-Signature-256": apphelpers.sign(body), "Content-Type": "application/json"}))

        async def one(i: int) -> None:
            body, headers = bodies[i]
            t = time.perf_counter()
            async with s.post(url + "/webhook", data=body, headers=headers) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            lat.append((time.perf_counter() - t) * 1000)

        t0 = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        sent_for = time.perf_counter() - t0
        while True:  # wait for the queue to drain
            async with s.get(url + "/healthz") as r:
                health = await r.json()
            if health["queued"] == 0 or time.perf_counter() - t0 > 300:
                break
            await asyncio.sleep(0.2)
        drained = time.perf_counter() - t0
    server.send_signal(signal.SIGTERM)
    server.wait(60)
    thread.stop()
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    print(f"acknowledgement   {total} signed deliveries at {total / sent_for:.0f}/s to `driftbot serve`: "
          f"p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {lat[-1]:.1f} ms; statuses {statuses} (target p99 < 50 ms)")
    print(f"background        {health['done']} jobs ran (bursts per PR coalesced), {health['failed']} failed; queue "
          f"drained {drained:.1f} s after the first delivery; {len(repo.check_runs)} check runs")


async def requests_per_event(sizes: list[int]) -> None:
    """API requests (archive downloads and installation tokens aside) of a pull request that touches
    one feature, and of a full scan, for repositories of growing size; then per endpoint."""
    print("requests          features | PR event (1 touched) | full scan")
    per_endpoint: dict[int, tuple[Counter, Counter]] = {}
    for n in sizes:
        tmp = Path(tempfile.mkdtemp())
        fake = FakeGitHub(apphelpers.APP_ID, apphelpers.keypair()[1])
        fake_runner, fake.url = await start(fake.app)
        g, _ = make_repo(tmp / "repo", n)
        repo = fake.add_repo("acme", "fleet", g, apphelpers.INSTALLATION)
        base = g.commit({}, "base")
        head = g.commit({"internal/f0001/part1.go": "package f0001\n// TODO: more\n"}, "pr", branch="feature")
        g.checkout("main")
        number = fake.open_pull(repo, "main", "feature")
        app = make_app(apphelpers.settings(fake.url), store=SQLiteStore(":memory:"))
        bot_runner, url = await start(app)
        async with aiohttp.ClientSession() as s:
            async def send(event: str, data: dict) -> None:
                body = json.dumps(data).encode()
                async with s.post(url + "/webhook", data=body, headers={
                        "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": apphelpers.sign(body)}) as r:
                    assert r.status == 202, await r.text()
            await send("pull_request", apphelpers.pr_event(repo, number, base, head))
            await app[QUEUE].join(600)
            pr_ops = [r[0] for r in fake.requests if r[0] not in ("codeload", "apps/create-installation-access-token")]
            before = len(fake.requests)
            await send("push", apphelpers.push_event(repo, "0" * 40, base))
            await app[QUEUE].join(600)
            scan_ops = [r[0] for r in fake.requests[before:] if r[0] != "codeload"]
        print(f"                  {n:8d} | {len(pr_ops):20d} | {len(scan_ops):9d}")
        per_endpoint[n] = (Counter(pr_ops), Counter(scan_ops))
        await bot_runner.cleanup()
        await fake_runner.cleanup()
    largest = max(per_endpoint)
    for label, counts in (("PR event", per_endpoint[largest][0]), ("full scan", per_endpoint[largest][1])):
        print(f"  {label} at {largest} features, per endpoint: " +
              ", ".join(f"{op} {k}" for op, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))))


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def unsigned_flood(bodies: int, megabytes: int) -> None:
    """Peak memory of the real `driftbot serve` while `bodies` unsigned bodies of `megabytes` MB
    arrive at once (target: < 200 MB above idle)."""
    with socket.socket() as s_:
        s_.bind(("127.0.0.1", 0))
        port = s_.getsockname()[1]
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "APP_ID": apphelpers.APP_ID, "WEBHOOK_SECRET": apphelpers.SECRET,
           "PRIVATE_KEY": apphelpers.keypair()[0], "DRIFTBOT_STORE": f"{tmp}/s.db", "PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    body = b'{"x": "' + b"a" * (megabytes * 1024 * 1024 - 10) + b'"}'
    try:
        async with aiohttp.ClientSession() as s:
            await wait_healthy(s, url)
            await asyncio.sleep(0.5)
            idle = _rss_kb(proc.pid)

            async def one(i):
                async with s.post(url + "/webhook", data=body, headers={
                        "X-GitHub-Event": "ping", "X-GitHub-Delivery": f"flood-{i}",
                        "X-Hub-Signature-256": "sha256=" + "0" * 64}) as r:
                    return r.status
            t0 = time.perf_counter()
            statuses = await asyncio.gather(*(one(i) for i in range(bodies)))
            took = time.perf_counter() - t0
            peak = _rss_kb(proc.pid, "VmHWM")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    print(f"unsigned flood: {bodies} bodies of {megabytes} MB at once → statuses {sorted(set(statuses))} in "
          f"{took:.1f} s; RSS idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB "
          f"({(peak - idle) / 1024:.0f} MB above idle; target < 200 MB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--sizes", default="20,100,400")
    ap.add_argument("--only", choices=("flood", "latency", "requests"), help="run one of the benches")
    a = ap.parse_args()
    if a.only in (None, "flood"):
        asyncio.run(unsigned_flood(40, 24))
    if a.only in (None, "latency"):
        asyncio.run(latency(a.rate, a.seconds))
    if a.only in (None, "requests"):
        asyncio.run(requests_per_event([int(x) for x in a.sizes.split(",")]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
