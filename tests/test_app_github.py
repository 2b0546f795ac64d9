"""GitHub mechanics: tokens, ETags, annotation batches, big PRs, truncated trees, restarts."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp

from bot.engine.delta import FeatureDelta
from bot.engine.model import Gap, GapKind
from bot.report.pr import MAX_BODY, comment_body
from bot.server import QUEUE, make_app
from bot.store import SQLiteStore
from tests import apphelpers
from tests.apphelpers import deliver, pr_event, push_event
from tests.conftest import settle
from tests.fakegithub import GitRepo
from tests.test_app_pr import ROUTES_BOTH, base_files, open_heartbeat_pr


async def test_tokens_are_cached_and_etags_never_cross_installations(bot, github, repo_factory, tmp_path):
    repo, g, first = repo_factory(base_files())
    other_git = GitRepo(tmp_path / "other")
    other_git.commit(base_files(), "initial")
    other = github.add_repo("globex", "fleet", other_git, installation_id=99)
    from tests.apphelpers import for_repo, payload
    for _ in range(2):  # two full scans of each repository: the second re-reads the same trees
        for r, inst in ((repo, apphelpers.INSTALLATION), (other, 99)):
            event = for_repo(payload("installation_repositories.added.json"), r, installation=inst)
            event["repositories_added"] = [{"id": r.id, "name": r.name, "full_name": r.full_name, "private": False,
                                            "node_id": "R_x"}]
            await deliver(bot, "installation_repositories", event)
        await settle(bot)
    assert github.token_requests == 2  # one per installation, reused across deliveries
    assert github.etag_hits > 0  # repeated reads were conditional
    assert github.violations == []  # includes: no token of one installation used on the other's repo


async def test_more_than_50_annotations_go_in_follow_up_updates(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    todos = "".join(f"// TODO: step {i}\n" for i in range(120))
    head = g.commit({"internal/agents/todo.go": "package agents\n" + todos}, "todos", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    (run,) = repo.check_runs.values()
    assert len(run["annotations"]) == 120
    assert run["updates"] == 3  # 50 + 50 + 20, the conclusion with the last
    assert run["annotations"][0]["start_line"] == 2


async def test_annotation_cap_from_config(bot, github, repo_factory):
    files = base_files()
    files[".github/driftbot.yml"] = "version: 1\nchecks:\n  annotations: 10\n"
    repo, g, base = repo_factory(files)
    head = g.commit({"internal/agents/todo.go": "package agents\n" + "".join(f"// TODO: x{i}\n" for i in range(30))}, "t", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    (run,) = repo.check_runs.values()
    assert len(run["annotations"]) == 10
    assert "20 annotations not shown" in run["output"]["text"]


async def test_huge_pull_requests_fall_back_to_tree_comparison(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    many = {f"assets/file{i:03d}.txt": f"{i}\n" for i in range(310)}  # more than a comparison lists
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH, **many}, "add", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    event = pr_event(repo, number, base, head)
    event["pull_request"]["changed_files"] = 3500  # and more than the pull request's list holds
    await deliver(bot, "pull_request", event)
    await settle(bot)
    (run,) = repo.check_runs.values()
    assert github.count("pulls/list-files") == 0
    assert run["output"]["title"] == "0 new gaps, 1 resolved"
    assert "comparing the base and head trees" in run["output"]["summary"]


async def test_truncated_trees_are_walked(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    original = github.op_git_get_tree

    def truncated(r, params, query, body):
        data = original(r, params, query, body)
        if query.get("recursive"):
            return {**data, "tree": data["tree"][:1], "truncated": True}
        out = subprocess.run(["git", "-C", str(r.git.path), "ls-tree", "-l", params["tree_sha"]],
                             capture_output=True, text=True, check=True).stdout
        tree = []
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            mode, typ, sha, size = meta.split()
            tree.append({"path": path, "mode": mode, "type": typ, "sha": sha, "size": None if size == "-" else int(size)})
        return {"sha": params["tree_sha"], "url": "", "tree": tree, "truncated": False}

    github.op_git_get_tree = truncated
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    (dash,) = repo.issues.values()
    assert "| agents |" in dash["body"] and "| billing |" in dash["body"]


async def test_jobs_cut_off_at_shutdown_resume_at_the_next_start(github, repo_factory, aiohttp_client, tmp_path):
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)
    store = SQLiteStore(str(tmp_path / "state.db"))
    github.fail("git/get-tree", status=200, delay=5, times=1)  # the first job hangs on GitHub
    app = make_app(apphelpers.settings(github.url, workers=1), store=store, time_scale=0.001, shutdown_grace=0.2)
    client = await aiohttp_client(app)
    await deliver(client, "pull_request", pr_event(repo, number, base, head))
    await asyncio.sleep(0.3)
    await client.close()  # graceful shutdown: the running job is cut off, and stays stored
    assert [job["kind"] for _id, _key, job in store.unfinished_jobs()] == ["pull_request"]
    app2 = make_app(apphelpers.settings(github.url), store=store, time_scale=0.001)
    client2 = await aiohttp_client(app2)
    await asyncio.sleep(0.01)
    await app2[QUEUE].join(30)
    (run,) = repo.check_runs.values()  # the check run started before the shutdown is the one finished
    assert run["status"] == "completed" and run["conclusion"] == "success"
    assert store.unfinished_jobs() == []
    await client2.close()


def test_comment_is_truncated_keeping_summary_and_links():
    gaps = tuple(Gap(f"{i:012x}", GapKind.MISSING, "auth", "`X` is not implemented: " + "y" * 300, "R1",
                     "docs/a.md", i) for i in range(1000))
    delta = FeatureDelta("auth", None, None, gaps, (), ())
    body = comment_body([delta], "a" * 40, "https://github.test/acme/fleet/runs/1", total_features=3)
    assert len(body) <= MAX_BODY
    assert body.startswith("<!-- driftbot:pr-comment -->")
    assert "https://github.test/acme/fleet/runs/1" in body.split("\n\n")[1] + body[:600]
    assert "more: see the check" in body and body.rstrip().endswith("</sub>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_runs_answers_health_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    env = {**os.environ, "APP_ID": apphelpers.APP_ID, "WEBHOOK_SECRET": apphelpers.SECRET,
           "PRIVATE_KEY": apphelpers.keypair()[0], "DRIFTBOT_STORE": str(tmp_path / "s.db"), "PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        async with aiohttp.ClientSession() as s:
            while True:
                try:
                    async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                        assert r.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, proc.stderr.read1().decode() if proc.poll() else "no answer"
                    await asyncio.sleep(0.1)
            async with s.post(f"http://127.0.0.1:{port}/webhook", data=b"{}",
                              headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "1"}) as r:
                assert r.status == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


async def test_recheck_button_and_duplicate_announcements(bot, github, repo_factory):
    from tests.apphelpers import for_repo, payload
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    suite = for_repo(payload("check_suite.requested.json"), repo)
    suite["check_suite"]["head_sha"] = head
    suite["check_suite"]["pull_requests"] = [{"number": number, "head": {"sha": head}, "base": {"sha": base}}]
    await deliver(bot, "check_suite", suite)  # the same push, announced again
    await settle(bot)
    assert len(repo.check_runs) == 1
    action = for_repo(payload("check_run.rerequested.json"), repo)
    action["action"] = "requested_action"
    action["requested_action"] = {"identifier": "recheck"}
    action["check_run"].update({"name": "driftbot", "head_sha": head,
                                "pull_requests": [{"number": number, "head": {"sha": head}, "base": {"sha": base}}]})
    await deliver(bot, "check_run", action)
    await settle(bot)
    assert len(repo.check_runs) == 2 and all(r["conclusion"] == "success" for r in repo.check_runs.values())


async def test_comment_is_found_again_when_the_store_forgets_it(bot, github, repo_factory, store):
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    store._x("DELETE FROM kv")  # state lost (a new disk, a restore)
    head2 = g.commit({"internal/agents/x.go": "package agents\n// TODO: y\n"}, "more", branch="feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head2, action="synchronize"))
    await settle(bot)
    (comment,) = repo.comments.values()
    assert comment.get("edits") == 1 and head2[:7] in comment["body"]
    assert github.count("issues/list-comments") == 2  # once before the first post, once after the loss


async def test_comment_mode_off(bot, github, repo_factory):
    files = base_files()
    files[".github/driftbot.yml"] = "version: 1\ncomment:\n  mode: off\n"
    repo, g, base = repo_factory(files)
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    assert len(repo.check_runs) == 1 and not repo.comments


async def test_a_hanging_github_times_out_and_is_retried(github, repo_factory, aiohttp_client, store):
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)
    github.fail("repos/compare-commits", status=200, delay=3, times=1)
    app = make_app(apphelpers.settings(github.url), store=store, time_scale=0.001, http_timeout=0.5)
    client = await aiohttp_client(app)
    await deliver(client, "pull_request", pr_event(repo, number, base, head))
    await asyncio.sleep(0.01)
    await app[QUEUE].join(30)
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "success"
    assert github.count("repos/compare-commits") == 2


async def test_installation_tokens_are_refreshed_before_they_expire(github, repo_factory):
    from bot.github.client import GitHubApp
    repo_factory(base_files())
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(app_id=apphelpers.APP_ID, private_key=apphelpers.keypair()[0], api_url=github.url,
                        session=session)
        first = await app.token(apphelpers.INSTALLATION)
        assert await app.token(apphelpers.INSTALLATION) == first and github.token_requests == 1
        token, _ = app._tokens[apphelpers.INSTALLATION]
        app._tokens[apphelpers.INSTALLATION] = (token, time.time() + 200)  # inside the 5-minute margin
        assert await app.token(apphelpers.INSTALLATION) != first and github.token_requests == 2


def test_jobs_carry_ids_never_tokens():
    import inspect

    from bot.handlers import checks, commands, installation, pull_request, push
    for module in (checks, commands, installation, pull_request, push):
        src = inspect.getsource(module)
        assert "token" not in src.lower(), module.__name__


async def test_check_suite_without_a_pull_request_compares_with_the_default_branch(bot, github, repo_factory):
    from tests.apphelpers import for_repo, payload
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "add", branch="topic")
    suite = for_repo(payload("check_suite.requested.json"), repo)
    suite["check_suite"]["head_sha"] = head
    suite["check_suite"]["pull_requests"] = []
    await deliver(bot, "check_suite", suite)
    await settle(bot)
    (run,) = repo.check_runs.values()
    assert run["head_sha"] == head and run["output"]["title"] == "0 new gaps, 1 resolved"
    assert not repo.comments  # no pull request to comment on
    g.checkout("main")
    suite["check_suite"]["head_sha"] = base  # a push to main itself: nothing changed against main
    await deliver(bot, "check_suite", suite)
    await settle(bot)
    last = max(repo.check_runs.values(), key=lambda r: r["id"])
    assert last["conclusion"] == "success" and last["output"]["title"] == "No feature touched"
