"""Default branch: baseline, one issue per new gap (never a duplicate), close/reopen, dashboard."""
import asyncio

from bot.flows import baseline as baseline_flow
from bot.report.issues import DASHBOARD_MARKER, gap_fingerprint
from tests.apphelpers import comment_event, deliver, for_repo, payload, push_event
from tests.conftest import settle
from tests.fakegithub import git
from tests.test_app_pr import ROUTES_BOTH, ROUTES_GET, SPEC, base_files

BILLING = "# Billing\n\n`POST /api/invoices`\n"


def gap_issues(repo):
    return {gap_fingerprint(i["body"]): i for i in repo.issues.values() if gap_fingerprint(i["body"])}


def dashboard(repo):
    (d,) = [i for i in repo.issues.values() if DASHBOARD_MARKER in i["body"]]
    return d


def clean_files():
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    del files["docs/ideas/billing.md"]
    return files


async def test_first_analysis_is_the_baseline_and_new_gaps_get_one_issue_each(bot, github, repo_factory):
    files = base_files()  # two gaps exist before driftbot arrives
    repo, g, first = repo_factory(files)
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    assert gap_issues(repo) == {}  # pre-existing gaps are listed on the dashboard, not filed
    dash = dashboard(repo)["body"]
    assert "POST /api/invoices" in dash and "| agents |" in dash

    # a push that opens a new gap: one issue, whatever the deliveries do
    second = g.commit({"docs/ideas/agents.md": files["docs/ideas/agents.md"] + "- `GET /api/agents/{id}/logs`\n"},
                      "spec: logs")
    event = push_event(repo, first, second)
    await asyncio.gather(*(deliver(bot, "push", event, delivery=d) for d in ("x1", "x2", "x2", "x3")))
    await settle(bot)
    (issue,) = gap_issues(repo).values()
    assert issue["title"] == "Drift in agents: `GET /api/agents/{id}/logs` is not implemented"
    assert issue["labels"] == ["drift"] and f"#{issue['number']}" in dashboard(repo)["body"]
    assert len([i for i in repo.issues.values() if DASHBOARD_MARKER in i["body"]]) == 1

    # implemented: the issue closes, naming the commit
    routes = ROUTES_GET.replace("}\n", '\tr.HandleFunc("/api/agents/{id}/logs", logs).Methods("GET")\n}\n')
    fixed = g.commit({"internal/agents/routes.go": routes}, "logs")
    await deliver(bot, "push", push_event(repo, second, fixed))
    await settle(bot)
    assert issue["state"] == "closed"
    note = [c for c in repo.comments.values() if c["issue_number"] == issue["number"]][-1]
    assert f"resolved in {fixed[:12]}" in note["body"]
    assert "Trend (oldest → newest)" in dashboard(repo)["body"]

    # and removed again: the same issue reopens
    broken = g.commit({"internal/agents/routes.go": ROUTES_GET}, "revert")
    await deliver(bot, "push", push_event(repo, fixed, broken))
    await settle(bot)
    assert issue["state"] == "open" and len(gap_issues(repo)) == 1
    assert "The gap is back" in [c for c in repo.comments.values() if c["issue_number"] == issue["number"]][-1]["body"]

    # a stale redelivery of an old push does not move the baseline back
    before = len(github.requests)
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    assert issue["state"] == "open" and not any(r[0] == "git/get-tree" for r in github.requests[before:])


async def test_a_fixed_baseline_gap_that_returns_is_new(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    fixed = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "heartbeat")
    await deliver(bot, "push", push_event(repo, first, fixed))
    await settle(bot)
    assert gap_issues(repo) == {}
    broken = g.commit({"internal/agents/routes.go": ROUTES_GET}, "revert")
    await deliver(bot, "push", push_event(repo, fixed, broken))
    await settle(bot)
    (issue,) = gap_issues(repo).values()
    assert "heartbeat" in issue["title"]


async def test_a_flood_of_new_gaps_is_filed_a_few_at_a_time(bot, github, repo_factory, monkeypatch):
    monkeypatch.setattr(baseline_flow, "MAX_NEW_ISSUES", 2)
    repo, g, first = repo_factory(clean_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    second = g.commit({f"docs/ideas/new{i}.md": f"# N{i}\n\n`POST /api/new{i}`\n" for i in range(3)}, "specs")
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    assert len(gap_issues(repo)) == 2  # 6 new gaps (3 missing + 3 no-code); 2 per push
    third = g.commit({"README.md": "x\n"}, "docs")
    await deliver(bot, "push", push_event(repo, second, third))
    await settle(bot)
    assert len(gap_issues(repo)) == 4  # the rest follow, even though these features were not touched


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
    body = dashboard(repo)["body"]
    assert "Overall alignment" in body and "no code implements this spec" in body
    assert gap_issues(repo) == {}


async def test_waive_by_command_closes_the_issue_and_is_respected(bot, github, repo_factory, store):
    repo, g, first = repo_factory(clean_files())
    repo.permissions["alice"] = "write"
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    second = g.commit({"docs/ideas/billing.md": BILLING}, "billing spec")
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    fp, issue = next((fp, i) for fp, i in gap_issues(repo).items() if "invoices" in i["title"])
    await deliver(bot, "issue_comment", comment_event(repo, issue["number"], f"/drift waive {fp} billing moves to "
                                                      "the ERP until 2099-01-01", "alice", on_pr=False))
    await settle(bot)
    # the waiver goes into the config, through a pull request: the repository is the source of truth
    ((number, pr),) = [(n, p) for n, p in repo.pulls.items() if p["head_ref"] == "driftbot/waivers"]
    assert f"Opened #{number}" in [c["body"] for c in repo.comments.values()][-1]
    assert store.waivers(repo.full_name) == [] and issue["state"] == "open"  # not before it is merged
    text = git(repo.git.path, "show", "driftbot/waivers:.github/driftbot.yml")
    assert f"fingerprint: {fp}" in text and "until: 2099-01-01" in text and "billing moves to the ERP" in text
    merged = github.merge_pull(repo, number)
    await deliver(bot, "push", push_event(repo, second, merged))
    await settle(bot)
    assert issue["state"] == "closed" and issue["state_reason"] == "not_planned"
    # a later push keeps it closed and the dashboard lists the waiver
    again = g.commit({"README.md": "hi\n"}, "docs")
    await deliver(bot, "push", push_event(repo, merged, again))
    await settle(bot)
    assert issue["state"] == "closed"
    assert f"`{fp}` — billing moves to the ERP (until 2099-01-01)" in dashboard(repo)["body"]
    open_section = dashboard(repo)["body"].split("### Open gaps")[1].split("### Waivers")[0]
    assert fp not in open_section


async def test_an_issue_filed_before_the_store_was_lost_is_found_not_duplicated(bot, github, repo_factory, store):
    repo, g, first = repo_factory(clean_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    second = g.commit({"docs/ideas/billing.md": BILLING}, "billing spec")
    await deliver(bot, "push", push_event(repo, first, second))
    await settle(bot)
    filed = dict(gap_issues(repo))
    store._x("DELETE FROM gap_issues")  # the store forgets which issue belongs to which gap
    third = g.commit({"README.md": "x\n"}, "docs")
    await deliver(bot, "push", push_event(repo, second, third))
    await settle(bot)
    assert gap_issues(repo).keys() == filed.keys() and len(repo.issues) == len(filed) + 1
    assert github.count("search/issues-and-pull-requests") >= len(filed)


async def test_a_public_repository_gets_a_badge_and_a_private_one_does_not(bot, github, repo_factory):
    import xml.etree.ElementTree as ET
    repo, g, first = repo_factory(base_files())
    event = push_event(repo, "0" * 40, first)
    event["repository"]["private"] = False
    await deliver(bot, "push", event)
    await settle(bot)
    svg = await bot.get(f"/badge/{repo.full_name}.svg")
    assert svg.status == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(await svg.text())  # well-formed
    assert root.tag.endswith("svg") and "design alignment" in root.attrib["aria-label"]
    doc = await (await bot.get(f"/badge/{repo.full_name}.json")).json()
    assert doc["schemaVersion"] == 1 and doc["label"] == "design alignment" and doc["message"].endswith("/100")
    assert (await bot.get("/badge/acme/unknown.svg")).status == 404
    assert (await bot.get(f"/badge/{repo.full_name.upper()}.svg")).status == 200  # GitHub's names ignore case
    event = push_event(repo, first, g.commit({"README.md": "x\n"}, "more"))
    event["repository"]["private"] = True  # made private: the badge goes
    await deliver(bot, "push", event)
    await settle(bot)
    assert (await bot.get(f"/badge/{repo.full_name}.svg")).status == 404
    # made public again (a repository event), then the App removed from it
    shown = {"action": "publicized", "repository": event["repository"] | {"private": False},
             "installation": {"id": event["installation"]["id"], "node_id": "I"}, "sender": event["sender"]}
    await deliver(bot, "repository", shown)
    await settle(bot)
    assert (await bot.get(f"/badge/{repo.full_name}.json")).status == 200
    removed = {"action": "removed", "installation": shown["installation"], "sender": event["sender"],
               "repository_selection": "selected", "repositories_added": [],
               "repositories_removed": [{"id": repo.id, "name": repo.name, "full_name": repo.full_name,
                                         "private": False, "node_id": "R"}]}
    await deliver(bot, "installation_repositories", removed)
    await settle(bot)
    assert (await bot.get(f"/badge/{repo.full_name}.json")).status == 404


def edited(repo, issue, body: str, login: str) -> dict:
    """GitHub's issues.edited delivery for a body someone changed (checkboxes ticked)."""
    return {"action": "edited", "changes": {"body": {"from": issue["body"]}},
            "issue": {"number": issue["number"], "title": issue["title"], "body": body, "state": "open",
                      "user": {"login": "driftbot[bot]", "type": "Bot"}},
            "repository": {"id": repo.id, "name": repo.name, "full_name": repo.full_name, "private": False,
                           "owner": {"login": repo.owner}, "default_branch": "main"},
            "installation": {"id": repo.installation_id, "node_id": "I"},
            "sender": {"login": login, "type": "User"}}


async def test_ticking_boxes_on_the_dashboard_asks_for_a_waiver_and_rechecks(bot, github, repo_factory):
    from bot.report.issues import RECHECK_BOX, WAIVE_BOX
    repo, g, first = repo_factory(base_files())
    repo.permissions["alice"] = "write"
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    board = dashboard(repo)
    body = board["body"]
    open_section = body.split("### Open gaps")[1]
    assert "#### billing" in open_section and "- [ ] " + RECHECK_BOX in body  # grouped by feature, with boxes
    fp = next(line.split("`")[1] for line in open_section.splitlines() if "invoices" in line and "- [ ]" in line)
    ticked = body.replace(f"- [ ] {WAIVE_BOX.format(fp=fp)}", f"- [x] {WAIVE_BOX.format(fp=fp)}") \
        .replace(f"- [ ] {RECHECK_BOX}", f"- [x] {RECHECK_BOX}")
    # someone without write access: nothing is done, the boxes are cleared
    await deliver(bot, "issues", edited(repo, board, ticked, "mallory"))
    await settle(bot)
    assert not [p for p in repo.pulls.values() if p["head_ref"] == "driftbot/waivers"]
    assert "- [x]" not in dashboard(repo)["body"]
    # a collaborator: the waiver pull request, then a recheck that draws the dashboard again, unticked
    await deliver(bot, "issues", edited(repo, board, ticked, "alice"))
    await settle(bot)
    (pr,) = [p for p in repo.pulls.values() if p["head_ref"] == "driftbot/waivers"]
    text = git(repo.git.path, "show", "driftbot/waivers:.github/driftbot.yml")
    assert f"fingerprint: {fp}" in text and "replace this with the reason" in text
    assert "- [x]" not in dashboard(repo)["body"]
    # the App's own rewrite of the dashboard is never acted on
    bot_edit = edited(repo, board, ticked, "driftbot[bot]")
    bot_edit["sender"]["type"] = "Bot"
    requests = len(github.requests)
    await deliver(bot, "issues", bot_edit)
    await settle(bot)
    assert len(github.requests) == requests


CODEOWNERS = """# who reviews what
*                   @acme/everyone
/internal/agents/   @alice @acme/agents-team  @carol ops@acme.test
docs/*              @writer
"""


async def _new_gap_issue(bot, repo, g, first, fork: bool = False):
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    spec = SPEC + "- `GET /api/agents/{id}/logs`\n"
    second = g.commit({"docs/ideas/agents.md": spec}, "spec: logs")
    event = push_event(repo, first, second)
    event["repository"]["fork"] = fork
    await deliver(bot, "push", event)
    await settle(bot)
    (issue,) = gap_issues(repo).values()
    return issue


async def test_a_gap_issue_says_how_to_fix_it_names_the_tests_and_is_assigned_to_the_code_owners(
        bot, github, repo_factory):
    files = {**base_files(), ".github/CODEOWNERS": CODEOWNERS}
    repo, g, first = repo_factory(files)
    repo.permissions.update(alice="write", carol="read")  # GitHub assigns only people with push access
    issue = await _new_gap_issue(bot, repo, g, first)
    body = issue["body"]
    how = body.split("### How to fix", 1)[1].split("###", 1)[0]
    assert "Implement it where the feature's code lives" in how
    # the Go pack's rules for routes, since the requirement names an endpoint and the code is Go
    assert "go (`go-" in how and "definitions" not in how and "python" not in how
    assert "This test covers the feature: [`internal/agents/service_test.go`](" in body
    owners = body.split("### Code owners", 1)[1]
    assert "`@alice`, `@acme/agents-team`, `@carol`, `ops@acme.test`" in owners and "`.github/CODEOWNERS`" in owners
    assert "@writer" not in body and "@acme/everyone" not in body  # the last matching rule wins
    assert issue["assignees"] == ["alice"]
    assert github.count("issues/add-assignees") == 1 and not github.violations


async def test_a_fork_lists_code_owners_but_assigns_nobody_unless_configured(bot, github, repo_factory):
    files = {**base_files(), "CODEOWNERS": "/internal/ @alice\n"}
    repo, g, first = repo_factory(files)
    repo.permissions.update(alice="write")
    issue = await _new_gap_issue(bot, repo, g, first, fork=True)
    assert "`@alice`" in issue["body"] and issue.get("assignees", []) == []
    assert github.count("issues/add-assignees") == 0

    repo2, g2, first2 = repo_factory({**files, ".github/driftbot.yml": "version: 1\nissues:\n  assign_owners: true\n"},
                                     name="second")
    repo2.permissions.update(alice="write")
    issue2 = await _new_gap_issue(bot, repo2, g2, first2, fork=True)
    assert issue2["assignees"] == ["alice"]


async def test_without_codeowners_a_gap_issue_has_no_owner_section_and_no_assignment(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    issue = await _new_gap_issue(bot, repo, g, first)
    assert "### How to fix" in issue["body"] and "### Code owners" not in issue["body"]
    assert github.count("issues/add-assignees") == 0 and github.count("repos/get") == 0


async def test_a_failure_reading_owners_costs_the_assignment_never_the_issue(bot, github, repo_factory):
    files = {**base_files(), ".github/CODEOWNERS": CODEOWNERS}
    repo, g, first = repo_factory(files)
    repo.permissions.update(alice="write")
    await deliver(bot, "push", push_event(repo, "0" * 40, first))
    await settle(bot)
    second = g.commit({"docs/ideas/agents.md": SPEC + "- `GET /api/agents/{id}/logs`\n"}, "spec: logs")
    event = push_event(repo, first, second)
    event["repository"].pop("fork", None)  # unknown: driftbot asks GitHub, which fails
    github.fail("repos/get", 403, times=5)
    await deliver(bot, "push", event)
    await settle(bot)
    (issue,) = gap_issues(repo).values()
    assert "### How to fix" in issue["body"] and issue.get("assignees", []) == []
