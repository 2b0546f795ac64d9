"""Replicas of `driftbot serve` on one PostgreSQL, sharing the work through its job queue.

    python bench/bench_replicas.py [--deliveries 1000] [--replicas 1,2,4] [--kill]

For each replica count: a fresh database, the fake GitHub of the tests (on its own thread) holding
several repositories with open pull requests, and N real `driftbot serve` processes on that database.
The deliveries are a mix of pull-request events, pushes and `/drift` comments; a fifth of them are
delivered again (half of those at the same moment, to another replica), as GitHub's retries and
Redeliver do. They are sent round-robin. The bench waits until no stored or queued job is left, then
checks the effects on the fake GitHub:

- every stored job finished, none stuck waiting or running;
- one check run per pull-request head, every one completed; one driftbot comment per pull request;
  one issue per gap;
- no request that breaks GitHub's OpenAPI description.

``--kill``: kill -9 the first replica when a third of the deliveries are sent; the rest go to the
others, and its jobs must still finish (after the queue notices its heartbeats stopped, 30 s).

PostgreSQL comes from $DRIFTBOT_BENCH_POSTGRES (a server URL whose user may create databases), else
from the pgserver wheel the test extra installs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_webhooks import FakeInThread, make_repo, wait_healthy  # noqa: E402
from bot.report.issues import gap_fingerprint  # noqa: E402
from bot.report.pr import COMMENT_MARKER  # noqa: E402
from tests import apphelpers  # noqa: E402
from tests.fakegithub import FakeGitHub  # noqa: E402

REPOS = 6
PULLS = 8  # open pull requests per repository


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_uri(tmp: Path) -> tuple[str, object]:
    if os.environ.get("DRIFTBOT_BENCH_POSTGRES"):
        return os.environ["DRIFTBOT_BENCH_POSTGRES"], None
    import pgserver
    server = pgserver.get_server(str(tmp / "pg"), cleanup_mode="stop")
    return server.get_uri(), server


def _database(uri: str, name: str) -> str:
    import psycopg
    with psycopg.connect(uri, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    head, sep, query = uri.partition("?")
    base = head.rsplit("/", 1)[0] if head.count("/") > 2 else head
    return f"{base}/{name}{sep}{query}"


def _left(location: str) -> tuple[int, int, int]:
    """Stored jobs, queued jobs waiting, queued jobs running."""
    import psycopg
    with psycopg.connect(location) as db:
        stored = db.execute("SELECT count(*) FROM jobs").fetchone()[0]
        waiting, running = 0, 0
        if db.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0]:
            for status, n in db.execute("SELECT status, count(*) FROM procrastinate_jobs "
                                        "WHERE status IN ('todo', 'doing') GROUP BY status"):
                waiting, running = (n, running) if status == "todo" else (waiting, n)
    return stored, waiting, running


def _scenario(tmp: Path, fake: FakeGitHub, deliveries: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """(event, body) for every delivery: pull requests (opened and synchronized), pushes, comments."""
    rnd = random.Random(seed)
    plan = []
    repos = []
    for r in range(REPOS):
        g, _files = make_repo(tmp / f"repo{r}", 12)
        repo = fake.add_repo("acme", f"svc{r}", g, apphelpers.INSTALLATION)
        base = g.commit({}, "base")
        heads = []
        for n in range(PULLS):
            head = g.commit({f"internal/f{n:04d}/part1.go": f"package f{n:04d}\n// TODO: {n}\n"}, f"pr {n}",
                            branch=f"b{n}")
            g.checkout("main")
            heads.append((fake.open_pull(repo, "main", f"b{n}"), head))
        pushes = [g.commit({f"docs/ideas/f{k:04d}.md": f"# F{k}\n\n- `GET /api/f{k}`\n- `GET /api/f{k}/new`\n"},
                           f"spec {k}") for k in range(3)]
        repos.append((repo, base, heads, pushes))
    for i in range(deliveries):
        repo, base, heads, pushes = repos[i % REPOS]
        roll = rnd.random()
        if roll < 0.6:
            number, head = rnd.choice(heads)
            action = "opened" if rnd.random() < 0.3 else "synchronize"
            plan.append(("pull_request", apphelpers.pr_event(repo, number, base, head, action=action)))
        elif roll < 0.85:
            k = rnd.randrange(len(pushes))
            before = base if k == 0 else pushes[k - 1]
            plan.append(("push", apphelpers.push_event(repo, before, pushes[k])))
        else:
            number, _head = rnd.choice(heads)
            plan.append(("issue_comment", apphelpers.comment_event(repo, number, "/drift help", "octocat",
                                                                   comment_id=100_000 + i)))
    return [(event, json.dumps(data).encode()) for event, data in plan]


async def _send(session, url: str, event: str, body: bytes, delivery: str) -> int:
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json",
               "X-Hub-Signature-256": apphelpers.sign(body)}
    for _ in range(3):
        try:
            async with session.post(url + "/webhook", data=body, headers=headers) as r:
                await r.read()
                return r.status
        except aiohttp.ClientError:
            await asyncio.sleep(0.2)  # a replica that was just killed: GitHub would retry; so does the bench
    return 0


async def run(replicas: int, deliveries: int, kill: bool, uri: str, tmp: Path) -> dict:
    fake = FakeGitHub(apphelpers.APP_ID, apphelpers.keypair()[1])
    plan = _scenario(tmp / f"r{replicas}", fake, deliveries)
    thread = FakeInThread(fake)
    location = _database(uri, f"bench_replicas_{replicas}_{os.getpid()}")
    procs, urls = [], []
    for n in range(replicas):
        port = _port()
        env = {**os.environ, "APP_ID": apphelpers.APP_ID, "WEBHOOK_SECRET": apphelpers.SECRET,
               "PRIVATE_KEY": apphelpers.keypair()[0], "GITHUB_API_URL": fake.url, "PORT": str(port),
               "DRIFTBOT_STORE": location, "DRIFTBOT_LOG_LEVEL": "ERROR", "DRIFTBOT_ONBOARDING": "off",
               "DRIFTBOT_CACHE": str(tmp / f"cache{replicas}-{n}")}
        procs.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env=env,
                                      cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(tmp / f"serve{replicas}-{n}.log", "w")))
        urls.append(f"http://127.0.0.1:{port}")
    statuses: Counter = Counter()
    killed = None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as s:
        for url in urls:
            await wait_healthy(s, url)
        rnd = random.Random(11)
        started = time.perf_counter()
        gate = asyncio.Semaphore(16)
        live = list(range(replicas))

        async def one(i: int, event: str, body: bytes) -> None:
            delivery = str(uuid.UUID(int=i))
            async with gate:
                target = live[i % len(live)]
                sends = [_send(s, urls[target], event, body, delivery)]
                if rnd.random() < 0.2:  # GitHub delivers it again: at once to another replica, or later
                    other = live[(i + 1) % len(live)]
                    sends.append(_send(s, urls[other], event, body, delivery))
                for code in await asyncio.gather(*sends):
                    statuses[code] += 1

        tasks = []
        for i, (event, body) in enumerate(plan):
            if kill and killed is None and replicas > 1 and i == len(plan) // 3:
                procs[0].send_signal(signal.SIGKILL)
                killed = 0
                live.remove(0)
            tasks.append(asyncio.create_task(one(i, event, body)))
            if len(tasks) % 50 == 0:
                await asyncio.gather(*tasks)
                tasks = []
        await asyncio.gather(*tasks)
        sent = time.perf_counter() - started
        while True:
            stored, waiting, running = await asyncio.to_thread(_left, location)
            if stored == waiting == running == 0:
                break
            if time.perf_counter() - started > 900:
                break
            await asyncio.sleep(0.25)
        finished = time.perf_counter() - started
    for n, p in enumerate(procs):
        if n != killed:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    stored, waiting, running = _left(location)
    result = _effects(fake)
    thread.stop()
    result.update(replicas=replicas, deliveries=len(plan), sent_s=sent, done_s=finished, statuses=dict(statuses),
                  left=(stored, waiting, running), killed=killed is not None)
    return result


def _effects(fake: FakeGitHub) -> dict:
    runs, comments, gaps, incomplete = Counter(), Counter(), Counter(), 0
    for repo in fake.repos.values():
        for run in repo.check_runs.values():
            runs[(repo.full_name, run["head_sha"], run["name"])] += 1
            incomplete += run["status"] != "completed"
        for c in repo.comments.values():
            if COMMENT_MARKER in c["body"]:
                comments[(repo.full_name, c["issue_number"])] += 1
        for issue in repo.issues.values():
            fp = gap_fingerprint(issue["body"])
            if fp:
                gaps[(repo.full_name, fp)] += 1
    return {"check_runs": sum(runs.values()), "duplicate_check_runs": sum(n - 1 for n in runs.values() if n > 1),
            "incomplete_check_runs": incomplete, "pr_comments": sum(comments.values()),
            "duplicate_pr_comments": sum(n - 1 for n in comments.values() if n > 1),
            "gap_issues": sum(gaps.values()), "duplicate_gap_issues": sum(n - 1 for n in gaps.values() if n > 1),
            "violations": len(fake.violations)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--replicas", default="1,2,4", help="comma-separated replica counts")
    ap.add_argument("--kill", action="store_true", help="kill -9 the first replica a third of the way in")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="driftbot-replicas-"))
    uri, server = _server_uri(tmp)
    base = None
    failed = False
    try:
        for n in (int(x) for x in args.replicas.split(",")):
            r = asyncio.run(run(n, args.deliveries, args.kill, uri, tmp))
            rate = r["deliveries"] / r["done_s"]
            if n == 1:
                base = rate
            versus = f" ({rate / base:.2f}× one replica)" if base and n != 1 else ""
            print(f"{n} replica{'s' if n != 1 else ''}{' (one killed -9)' if r['killed'] else ''}: "
                  f"{r['deliveries']} deliveries sent in {r['sent_s']:.1f} s, all work done in {r['done_s']:.1f} s "
                  f"= {rate:.1f} deliveries/s{versus}")
            print(f"   answers {r['statuses']}; left: {r['left'][0]} stored, {r['left'][1]} waiting, "
                  f"{r['left'][2]} running")
            print(f"   check runs {r['check_runs']} ({r['duplicate_check_runs']} duplicate, "
                  f"{r['incomplete_check_runs']} not completed); PR comments {r['pr_comments']} "
                  f"({r['duplicate_pr_comments']} duplicate); gap issues {r['gap_issues']} "
                  f"({r['duplicate_gap_issues']} duplicate); OpenAPI violations {r['violations']}")
            bad = [what for what, n in (("jobs left", sum(r["left"])), ("duplicate check runs", r["duplicate_check_runs"]),
                                        ("check runs not completed", r["incomplete_check_runs"]),
                                        ("duplicate PR comments", r["duplicate_pr_comments"]),
                                        ("duplicate gap issues", r["duplicate_gap_issues"]),
                                        ("OpenAPI violations", r["violations"])) if n]
            if bad:
                failed = True
                print("   FAILED: " + ", ".join(bad))
    finally:
        if server is not None:
            server.cleanup()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
