"""Isolation: how long a quiet repository's pull request takes while another installation's repository,
whose own rule pack is as slow as vetting lets through, has several pull requests being analysed.

    python bench/bench_isolation.py [--prs 4]

Prints the quiet repository's time alone, then with the noisy one busy (target: within 2× of alone).
Runs the real App in this process against the fake GitHub, with analyses in worker processes.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_webhooks import FakeInThread, make_repo, start  # noqa: E402
from bot.server import QUEUE, make_app  # noqa: E402
from tests import apphelpers  # noqa: E402
from tests.fakegithub import FakeGitHub  # noqa: E402

# Slow, and still accepted by the vetting of a repository's packs: about 0.05 s per rule per file.
SLOW_PACK = "pack: house\ndescription: slow\nextends: [go]\nextensions: ['.go']\nrules:\n  routes:\n" + "".join(
    f"    - id: slow-{i}\n      description: d\n"
    f"      pattern: '(?P<path>[^\\n]{{0,24}}[^\\n]{{0,24}}[^\\w\\s\\x00]){i}'\n"
    f"      examples: {{pass: ['a/{i}'], fail: ['x']}}\n" for i in range(10))


async def pr_time(session, url, fake, repo, base, head, number, installation) -> float:
    """Seconds from a pull request's delivery to its completed check run."""
    body = json.dumps(apphelpers.pr_event(repo, number, base, head)
                      | {"installation": {"id": installation, "node_id": "I"}}).encode()
    t0 = time.perf_counter()
    async with session.post(url + "/webhook", data=body, headers={
            "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": apphelpers.sign(body), "Content-Type": "application/json"}) as r:
        assert r.status == 202, await r.text()
    while True:
        runs = [c for c in repo.check_runs.values() if c["head_sha"] == head and c["status"] == "completed"]
        if runs:
            return time.perf_counter() - t0
        await asyncio.sleep(0.02)


async def main_async(prs: int, heavy: bool) -> None:
    tmp = Path(tempfile.mkdtemp())
    fake = FakeGitHub(apphelpers.APP_ID, apphelpers.keypair()[1])
    quiet_git, _ = make_repo(tmp / "quiet", 10)
    quiet = fake.add_repo("calm", "quiet", quiet_git, 1)
    noisy_git, _ = make_repo(tmp / "noisy", 60)
    long_lines = {f"internal/f{i:04d}/table.go": f"package f{i:04d}\n\n" + ("// " + "a" * 3000 + "\n") * 20
                  for i in range(60)}
    noisy_git.commit({".github/driftbot.yml": "version: 1\nrules:\n  custom: .driftbot/*.yml\n",
                      ".driftbot/house.yml": SLOW_PACK, **long_lines}, "slow pack, and files it is slow on")
    noisy = fake.add_repo("loud", "noisy", noisy_git, 2)
    heads = {}
    for name, g, repo, n in (("quiet", quiet_git, quiet, 3), ("noisy", noisy_git, noisy, prs)):
        base = g.commit({}, "base")
        for i in range(n):
            change = {f"internal/f{i:04d}/extra.go": f"package f{i:04d}\n// TODO {i}\n"}
            if name == "noisy" and heavy:  # a config change touches every feature: the heaviest analysis
                change[".github/driftbot.yml"] = f"version: 1\nrules:\n  custom: .driftbot/*.yml\n# pr {i}\n"
            head = g.commit(change, f"pr {i}", branch=f"b{i}")
            g.checkout("main")
            heads.setdefault(name, []).append((base, head, fake.open_pull(repo, "main", f"b{i}")))
    thread = FakeInThread(fake)
    app = make_app(apphelpers.settings(fake.url, engine_processes=2, workers=4))
    runner, url = await start(app)
    try:
        async with aiohttp.ClientSession() as s:
            await pr_time(s, url, fake, quiet, *heads["quiet"][0], 1)  # starts the workers, warms their caches
            base, head, number = heads["quiet"][1]
            alone = await pr_time(s, url, fake, quiet, base, head, number, 1)
            noisy_runs = [asyncio.ensure_future(pr_time(s, url, fake, noisy, b, h, n, 2)) for b, h, n in heads["noisy"]]
            await asyncio.sleep(0.5)  # the noisy installation's analyses are under way
            base, head, number = heads["quiet"][2]
            busy = await pr_time(s, url, fake, quiet, base, head, number, 1)
            noisy_times = await asyncio.gather(*noisy_runs)
    finally:
        await app[QUEUE].join(600)
        await runner.cleanup()
        thread.stop()
    print(f"isolation   quiet repository's PR: alone {alone:.2f} s, while {prs} PRs of a repository with a slow "
          f"rule pack{' that touch every feature' if heavy else ''} are analysed {busy:.2f} s ({busy / alone:.1f}× alone; target ≤ 2×); the noisy PRs took "
          f"{min(noisy_times):.1f}–{max(noisy_times):.1f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prs", type=int, default=4, help="pull requests of the noisy repository at once")
    ap.add_argument("--heavy", action="store_true", help="the noisy pull requests change the config (every "
                                                          "feature is measured)")
    a = ap.parse_args()
    asyncio.run(main_async(a.prs, a.heavy))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
