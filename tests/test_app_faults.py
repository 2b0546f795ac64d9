"""Faults at the HTTP boundary: responses lost after GitHub did the work must never make duplicates,
and nobody else's issue is ever taken for one of driftbot's."""
from bot.report.issues import DASHBOARD_MARKER, gap_fingerprint
from tests.apphelpers import deliver, pr_event, push_event
from tests.conftest import settle
from tests.test_app_pr import ROUTES_BOTH, ROUTES_GET, base_files


def gap_issues(repo):
    return [i for i in repo.issues.values() if gap_fingerprint(i["body"]) and i.get("author") is None]


def dashboards(repo):
    return [i for i in repo.issues.values() if DASHBOARD_MARKER in i["body"]]


async def test_lost_responses_to_creates_make_no_duplicates(bot, github, repo_factory):
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    repo, g, first = repo_factory(files)
    github.fail("issues/create", status=502, after=True, times=1)  # the dashboard's answer is lost
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    assert len(dashboards(repo)) == 1
    # a push that opens three gaps; every create's answer is lost once
    spec = files["docs/ideas/agents.md"] + "- `GET /api/agents/{id}/logs`\n- `DELETE /api/agents/{id}`\n"
    second = g.commit({"docs/ideas/agents.md": spec}, "spec")
    github.fail("issues/create", status=502, after=True, times=2)
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    assert sorted(i["title"] for i in gap_issues(repo)) == [
        "Drift in agents: `DELETE /api/agents/{id}` is not implemented",
        "Drift in agents: `GET /api/agents/{id}/logs` is not implemented"]
    assert len(dashboards(repo)) == 1
    # a pull request: the check run's and the comment's answers are lost
    head = g.commit({"internal/agents/routes.go": ROUTES_GET}, "drop heartbeat", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    github.fail("checks/create", status=502, after=True, times=1)
    github.fail("issues/create-comment", status=504, after=True, times=1)
    await deliver(bot, "pull_request", pr_event(repo, number, second, head))
    await settle(bot)
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert run["output"]["title"].startswith("1 regression")
    assert len([c for c in repo.comments.values() if c["issue_number"] == number]) == 1


async def test_an_issue_someone_else_wrote_with_a_gap_marker_is_not_adopted(bot, github, repo_factory, store):
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    repo, g, first = repo_factory(files)
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    spec = files["docs/ideas/agents.md"] + "- `GET /api/agents/{id}/logs`\n"
    second = g.commit({"docs/ideas/agents.md": spec}, "spec")
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    (ours,) = gap_issues(repo)
    # somebody copies the issue's body, marker included, into an issue of their own; the store is lost
    forged = github.add_issue(repo, "copied", ours["body"], "mallory")
    store._x("DELETE FROM gap_issues")
    ours["state"] = "closed"
    third = g.commit({"docs/ideas/agents.md": spec + "\n"}, "touch")
    await deliver(bot, "push", push_event(repo, second, third))
    await settle(bot)
    assert repo.issues[forged]["state"] == "open" and not [c for c in repo.comments.values()
                                                            if c["issue_number"] == forged]
    # the gap is still open: driftbot's own issue for it is the one it files or reopens, never mallory's
    assert all(rec.number != forged for rec in store.gap_issues(repo.full_name).values())


async def test_a_lost_store_finds_the_dashboard_again(bot, github, repo_factory, store):
    repo, g, first = repo_factory(base_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    store._x("DELETE FROM kv")
    store._x("DELETE FROM baselines")
    second = g.commit({"internal/agents/more.go": "package agents\n"}, "more")
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    (dash,) = dashboards(repo)
    assert second[:12] in dash["body"]


async def test_spec_text_quoted_in_issues_checks_and_comments_mentions_nobody(bot, github, repo_factory):
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    repo, g, first = repo_factory(files)
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    hostile = "- `GET /api/agents/{id}/logs` must notify @octocat ![x](https://evil.example/p.png)\n"
    second = g.commit({"docs/ideas/agents.md": files["docs/ideas/agents.md"] + hostile}, "spec")
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    head = g.commit({"docs/ideas/agents.md": files["docs/ideas/agents.md"] + hostile.replace("logs", "stats")},
                    "more", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, second, head))
    await settle(bot)
    texts = [i["body"] for i in repo.issues.values()] + [i["title"] for i in repo.issues.values()]
    texts += [c["body"] for c in repo.comments.values()]
    for run in repo.check_runs.values():
        texts += [run["output"].get("summary", ""), run["output"].get("text") or ""]
        texts += [a["message"] for a in run["annotations"]]
    assert any("octocat" in t for t in texts)  # the text is there …
    assert not any("@octocat" in t or "![" in t for t in texts)  # … but mentions nobody, shows no image


async def test_concurrent_pushes_on_two_processes_leave_the_store_at_head(github, repo_factory, aiohttp_client,
                                                                          tmp_path):
    import asyncio

    from bot.server import QUEUE, make_app
    from bot.store import SQLiteStore
    from tests import apphelpers
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    repo, g, first = repo_factory(files)
    path = str(tmp_path / "shared.db")
    apps = [make_app(apphelpers.settings(github.url), store=SQLiteStore(path), time_scale=0.001) for _ in range(2)]
    one, two = [await aiohttp_client(a) for a in apps]
    await deliver(one, "push", push_event(repo, "0" * 40, first))
    await apps[0][QUEUE].join(30)
    # c1 opens a gap, c2 (its child) closes it again; the process holding c1 is slow
    spec = files["docs/ideas/agents.md"] + "- `GET /api/agents/{id}/logs`\n"
    c1 = g.commit({"docs/ideas/agents.md": spec}, "spec")
    c2 = g.commit({"docs/ideas/agents.md": files["docs/ideas/agents.md"]}, "revert spec")
    slow = asyncio.ensure_future(deliver(one, "push", push_event(repo, first, c1)))
    github.fail("git/get-tree", status=502, delay=1.0, times=1)  # holds the first job's tree read
    await asyncio.sleep(0.05)
    await deliver(two, "push", push_event(repo, first, c2))
    await slow
    await asyncio.gather(apps[0][QUEUE].join(30), apps[1][QUEUE].join(30))
    store = SQLiteStore(path)
    assert store.get_value(repo.full_name, "baseline-sha") == c2
    assert [i for i in gap_issues(repo) if i["state"] == "open"] == []  # no issue for a gap absent at HEAD
    await one.close()
    await two.close()


async def test_an_analysis_over_its_time_budget_gives_up_and_says_so(github, repo_factory, aiohttp_client):
    from bot.server import QUEUE, make_app
    from tests import apphelpers
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "add", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    app = make_app(apphelpers.settings(github.url, analysis_seconds=1e-6), time_scale=0.001)
    client = await aiohttp_client(app)
    await deliver(client, "pull_request", pr_event(repo, number, base, head))
    await app[QUEUE].join(30)
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert "too slow, gave up" in run["output"]["summary"]
    assert app[QUEUE].failed == 0  # it is an outcome, not a crash
    await client.close()


async def test_analyses_in_worker_processes_give_the_same_verdicts_and_keep_their_budget(github, repo_factory,
                                                                                       aiohttp_client):
    from bot.server import QUEUE, make_app
    from tests import apphelpers
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "add", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    app = make_app(apphelpers.settings(github.url, engine_processes=1), time_scale=0.001)
    client = await aiohttp_client(app)
    await deliver(client, "pull_request", pr_event(repo, number, base, head))
    await app[QUEUE].join(60)
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "success" and run["output"]["title"] == "0 new gaps, 1 resolved"
    await client.close()
    slow = make_app(apphelpers.settings(github.url, engine_processes=1, analysis_seconds=1e-6), time_scale=0.001)
    client = await aiohttp_client(slow)
    head2 = g.commit({"internal/agents/more.go": "package agents\n"}, "more", branch="feature")
    await deliver(client, "pull_request", pr_event(repo, number, base, head2, action="synchronize"))
    await slow[QUEUE].join(60)
    last = max(repo.check_runs.values(), key=lambda r: r["id"])
    assert last["conclusion"] == "neutral" and "too slow, gave up" in last["output"]["summary"]
    await client.close()
