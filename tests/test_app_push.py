"""Default branch: baseline, one issue per new gap (never a duplicate), close/reopen, dashboard."""
import asyncio

from bot.report.issues import DASHBOARD_MARKER, gap_fingerprint
from tests.apphelpers import comment_event, deliver, for_repo, payload, push_event
from tests.conftest import settle
from tests.test_app_pr import ROUTES_BOTH, ROUTES_GET, base_files


def gap_issues(repo):
    return {gap_fingerprint(i["body"]): i for i in repo.issues.values() if gap_fingerprint(i["body"])}


def dashboard(repo):
    (d,) = [i for i in repo.issues.values() if DASHBOARD_MARKER in i["body"]]
    return d


async def test_push_files_issues_once_and_keeps_a_dashboard(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    issues = gap_issues(repo)
    kinds = sorted(i["title"] for i in issues.values())
    assert kinds == ["Drift in agents: `POST /api/agents/{id}/heartbeat` is not implemented",
                     "Drift in billing: `POST /api/invoices` is not implemented",
                     "Drift in billing: no code implements this spec (no code folder of the same name)"]
    assert all(i["labels"] == ["drift"] for i in issues.values())
    dash = dashboard(repo)
    assert "Overall alignment" in dash["body"] and "| agents |" in dash["body"]
    assert all(f"#{i['number']}" in dash["body"] for i in issues.values())

    # the same delivery again, and the same commit under new delivery ids, at once: still one issue per gap
    event = push_event(repo, "0" * 40, first)
    await asyncio.gather(*(deliver(bot, "push", event, delivery=d) for d in ("x1", "x2", "x2", "x3")))
    await settle(bot)
    assert len(gap_issues(repo)) == 3
    assert len([i for i in repo.issues.values() if DASHBOARD_MARKER in i["body"]]) == 1

    # the heartbeat lands: its issue closes, naming the commit
    fixed = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "heartbeat")
    await deliver(bot, "push", push_event(repo, first, fixed))
    await settle(bot)
    closed = [i for i in gap_issues(repo).values() if i["state"] == "closed"]
    (issue,) = closed
    assert "heartbeat" in issue["title"]
    note = [c for c in repo.comments.values() if c["issue_number"] == issue["number"]][-1]
    assert f"resolved in {fixed[:12]}" in note["body"]
    assert len(repo.issues) == 4  # 3 gaps + dashboard: no new issue
    history_line = dashboard(repo)["body"]
    assert "Trend (oldest → newest)" in history_line

    # and it is removed again: the same issue reopens
    broken = g.commit({"internal/agents/routes.go": ROUTES_GET}, "revert")
    await deliver(bot, "push", push_event(repo, fixed, broken))
    await settle(bot)
    assert issue["state"] == "open" and len(repo.issues) == 4
    assert "The gap is back" in [c for c in repo.comments.values() if c["issue_number"] == issue["number"]][-1]["body"]


async def test_pushes_to_other_branches_are_ignored(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    event = push_event(repo, "0" * 40, first)
    event["ref"] = "refs/heads/feature"
    await deliver(bot, "push", event)
    await settle(bot)
    assert not repo.issues and github.count() == 0


async def test_installation_scans_each_repository_once(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    event = for_repo(payload("installation.created.json"), repo)
    event["repositories"] = [{"id": repo.id, "name": repo.name, "full_name": repo.full_name, "private": False,
                              "node_id": "R_x"}]
    await deliver(bot, "installation", event)
    await settle(bot)
    assert "Overall alignment" in dashboard(repo)["body"]
    assert len(gap_issues(repo)) == 3


async def test_waive_by_command_closes_the_issue_and_is_respected(bot, github, repo_factory, store):
    repo, g, first = repo_factory(base_files())
    repo.permissions["alice"] = "write"
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    fp, issue = next((fp, i) for fp, i in gap_issues(repo).items() if "invoices" in i["title"])
    await deliver(bot, "issue_comment", comment_event(repo, issue["number"], f"/drift waive {fp} billing moves to "
                                                      "the ERP until 2099-01-01", "alice", on_pr=False))
    await settle(bot)
    assert issue["state"] == "closed" and issue["state_reason"] == "not_planned"
    assert store.waivers(repo.full_name)[0].until == "2099-01-01"
    # a later push keeps it closed and the dashboard lists the waiver
    again = g.commit({"README.md": "hi\n"}, "docs")
    await deliver(bot, "push", push_event(repo, first, again))
    await settle(bot)
    assert issue["state"] == "closed"
    assert f"`{fp}` — billing moves to the ERP (until 2099-01-01)" in dashboard(repo)["body"]
    open_section = dashboard(repo)["body"].split("### Open gaps")[1].split("### Waivers")[0]
    assert fp not in open_section
