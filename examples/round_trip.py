"""One full round trip of the GitHub App against the fake GitHub (the one the tests use):
the demo repository lands on main, a pull request changes it, and every surface driftbot writes
is printed as Markdown — the check run, its annotations, the PR comment, a gap issue and the
dashboard.

    .venv/bin/python examples/round_trip.py > round-trip.md
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.report.issues import DASHBOARD_MARKER  # noqa: E402
from bot.server import QUEUE, make_app  # noqa: E402
from bot.store import SQLiteStore  # noqa: E402
from tests import apphelpers  # noqa: E402
from tests.fakegithub import FakeGitHub, GitRepo  # noqa: E402

DEMO = ROOT / "examples" / "demo-repo"


async def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    files = {str(p.relative_to(DEMO)): p.read_bytes() for p in DEMO.rglob("*") if p.is_file()}
    g = GitRepo(tmp / "fleet")
    base = g.commit(files, "fleet")
    fake = FakeGitHub(apphelpers.APP_ID, apphelpers.keypair()[1])
    repo = fake.add_repo("acme", "fleet", g, apphelpers.INSTALLATION)
    runner = web.AppRunner(fake.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    app = make_app(apphelpers.settings(fake.url), store=SQLiteStore(":memory:"))
    bot_runner = web.AppRunner(app)
    await bot_runner.setup()
    bot_site = web.TCPSite(bot_runner, "127.0.0.1", 0)
    await bot_site.start()
    url = f"http://127.0.0.1:{bot_site._server.sockets[0].getsockname()[1]}"

    async def send(s, event, data):
        body = json.dumps(data).encode()
        async with s.post(url + "/webhook", data=body, headers={
                "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": apphelpers.sign(body)}) as r:
            assert r.status == 202, await r.text()
        await app[QUEUE].join(120)

    routes = (DEMO / "internal/agents/routes.go").read_text()
    login = (DEMO / "internal/auth/login.go").read_text()
    head = g.commit({
        "internal/auth/login.go": login.replace('\tmux.HandleFunc("POST /api/login", login)\n',
                                                '\tmux.HandleFunc("POST /api/login", login)\n'
                                                '\tmux.HandleFunc("POST /api/logout", logout)\n')
        + "\nfunc logout(w http.ResponseWriter, r *http.Request) {\n\tpanic(\"not implemented\")\n}\n",
        "internal/agents/routes.go": routes.replace('\tmux.HandleFunc("GET /api/agents", s.list)\n', ""),
    }, "auth: logout; agents: drop the list route", branch="logout")
    number = fake.open_pull(repo, "main", "logout")
    async with aiohttp.ClientSession() as s:
        await send(s, "push", apphelpers.push_event(repo, "0" * 40, base))  # the baseline
        await send(s, "pull_request", apphelpers.pr_event(repo, number, base, head))
        run = [r for r in repo.check_runs.values()][-1]
        comment = next(c for c in repo.comments.values() if c["issue_number"] == number)
        g.checkout("main")  # the pull request is merged: its new gap gets an issue
        subprocess.run(["git", "-C", str(g.path), "merge", "-q", "--ff-only", "logout"], check=True)
        await send(s, "push", apphelpers.push_event(repo, base, head))
    issue = next(i for i in repo.issues.values() if DASHBOARD_MARKER not in i["body"])
    dashboard = next(i for i in repo.issues.values() if DASHBOARD_MARKER in i["body"])
    out = ["# driftbot on GitHub: one round trip", "",
           "_Produced by `examples/round_trip.py`: the demo repository against the fake GitHub of the tests._", "",
           f"## Check run `driftbot` — {run['conclusion']}: {run['output']['title']}", "",
           run["output"]["summary"], "", "### Annotations", ""]
    for a in run["annotations"]:
        out.append(f"- **{a['annotation_level']}** `{a['path']}:{a['start_line']}` — {a['title']}: "
                   + a["message"].replace("\n", " "))
    out += ["", "### Details (check run text)", "", run["output"]["text"], "",
            "## Pull-request comment", "", comment["body"], "",
            f"## A gap issue: {issue['title']}", "", issue["body"], "",
            "## Drift dashboard issue", "", dashboard["body"],
            "", f"_GitHub API requests in this round trip: {len(fake.requests)}; OpenAPI violations: "
                f"{len(fake.violations)}._"]
    print("\n".join(out))
    await bot_runner.cleanup()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
