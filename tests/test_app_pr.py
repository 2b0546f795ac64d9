"""Pull requests end to end: signed real payloads → the server → the queue → the fake GitHub."""

from tests.apphelpers import deliver, pr_event
from tests.conftest import settle

SPEC = """# Agents

## API

- `GET /api/agents` lists agents.
- `POST /api/agents/{id}/heartbeat` records a heartbeat.
- `AgentService` owns the registry.
"""
ROUTES_GET = 'package agents\n\nfunc Register(r *mux.Router) {\n\tr.HandleFunc("/api/agents", list).Methods("GET")\n}\n'
ROUTES_BOTH = ('package agents\n\nfunc Register(r *mux.Router) {\n\tr.HandleFunc("/api/agents", list).Methods("GET")\n'
               '\tr.HandleFunc("/api/agents/{id}/heartbeat", beat).Methods("POST")\n}\n')
SERVICE = "package agents\n\ntype AgentService struct{}\n"
MAIN = 'package main\n\nimport "example.com/fleet/internal/agents"\n\nfunc main() { agents.Register(nil) }\n'


def base_files():
    return {"docs/ideas/agents.md": SPEC, "internal/agents/routes.go": ROUTES_GET,
            "internal/agents/service.go": SERVICE, "internal/agents/service_test.go": "package agents\n",
            "cmd/fleet/main.go": MAIN, "docs/ideas/billing.md": "# Billing\n\n`POST /api/invoices`\n"}


def guarded_files() -> dict:
    """The base files with both routes implemented, and a config that fails a check on a regression."""
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    files[".github/driftbot.yml"] = "version: 1\nchecks:\n  fail_on: [regressions]\n"
    return files


def open_heartbeat_pr(github, repo, g) -> tuple[str, int]:
    """A pull request that adds the heartbeat route the spec lists: (head sha, PR number)."""
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "add", branch="feature")
    return head, github.open_pull(repo, "main", "feature")


def only_run(repo):
    (run,) = repo.check_runs.values()
    return run


async def test_pr_that_adds_the_endpoint_resolves_a_gap(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/routes.go": ROUTES_BOTH}, "add heartbeat", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    r = await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    assert r.status == 202
    await settle(bot)
    run = only_run(repo)
    assert run["status"] == "completed" and run["conclusion"] == "success"
    assert run["head_sha"] == head
    assert run["output"]["title"] == "0 new gaps, 1 resolved"
    assert "| agents | 23 % → 0 % ▼23 |" in run["output"]["summary"]
    assert "billing" not in run["output"]["summary"]  # untouched features are not recomputed
    assert run["actions"][0]["identifier"] == "recheck"
    (comment,) = repo.comments.values()
    assert comment["body"].startswith("<!-- driftbot:pr-comment -->")
    (line,) = [ln for ln in comment["body"].splitlines() if "✅ resolved" in ln]
    assert "✅ resolved (was: `POST /api/agents/{id}/heartbeat` is not implemented" in line  # said in the past


async def test_pr_that_deletes_an_endpoint_gets_a_regression_annotation(bot, github, repo_factory):
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    repo, g, base = repo_factory(files)
    head = g.commit({"internal/agents/routes.go": ROUTES_GET}, "drop heartbeat", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert run["conclusion"] == "neutral"  # informational by default
    ann, where = sorted(run["annotations"], key=lambda a: a["path"])
    assert ann["annotation_level"] == "failure"
    assert (ann["path"], ann["start_line"]) == ("docs/ideas/agents.md", 6)
    assert "internal/agents/routes.go:5" in ann["message"] and "removes it" in ann["message"]
    # and where the change is: the file that held the route, in the diff
    assert where["path"] == "internal/agents/routes.go" and where["annotation_level"] == "failure"
    assert 1 <= where["start_line"] <= ROUTES_GET.count("\n") and "docs/ideas/agents.md:6" in where["message"]
    assert run["output"]["title"].startswith("1 regression")


async def test_policy_can_fail_the_check_and_comment_is_edited_not_duplicated(bot, github, repo_factory):
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    files[".github/driftbot.yml"] = "version: 1\nchecks:\n  fail_on: [regressions]\n"
    repo, g, base = repo_factory(files)
    head1 = g.commit({"internal/agents/routes.go": ROUTES_GET}, "drop heartbeat", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head1))
    await settle(bot)
    head2 = g.commit({"internal/agents/extra.go": "package agents\n// TODO: later\n"}, "more", branch="feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head2, action="synchronize"))
    await settle(bot)
    runs = sorted(repo.check_runs.values(), key=lambda r: r["id"])
    assert [r["conclusion"] for r in runs] == ["failure", "failure"]
    (comment,) = repo.comments.values()
    assert comment.get("edits") == 1 and head2[:7] in comment["body"]
    # the same head again: same content, so no edit
    await deliver(bot, "pull_request", pr_event(repo, number, base, head2, action="synchronize"))
    await settle(bot)
    assert comment.get("edits") == 1


async def test_bad_config_fails_the_check_with_an_annotation_on_the_line(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    head = g.commit({".github/driftbot.yml": "version: 1\nfeatures:\n  - id: a\n    spec: x.md\n    cod: src/**\n"},
                    "config", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == "Invalid driftbot config: unknown key 'cod'"
    (ann,) = run["annotations"]
    assert (ann["path"], ann["start_line"]) == (".github/driftbot.yml", 5)
    assert "did you mean 'code'" in ann["message"]
    assert not repo.comments


async def test_github_failures_are_retried(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)
    github.fail("git/get-tree", status=502, times=2)
    github.fail("repos/compare-commits", status=403, times=1, headers={"retry-after": "1"})
    github.fail("git/get-blob", status=429, times=1, headers={"retry-after": "2"})
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    assert only_run(repo)["conclusion"] == "success"
    assert github.count("git/get-tree") >= 4


async def test_a_job_that_cannot_finish_says_so(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)
    github.fail("git/get-tree", status=500, times=50)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert run["conclusion"] == "neutral"
    assert run["output"]["title"] == "Could not analyse this commit"
    assert "GitHub answered 500" in run["output"]["summary"]
    assert not repo.comments  # no comment built on partial data


async def test_fetches_only_what_the_touched_features_need(bot, github, repo_factory):
    files = base_files()
    for i in range(40):
        files[f"docs/ideas/f{i}.md"] = f"# F{i}\n\n`Thing{i}`\n"
        files[f"internal/f{i}/a.go"] = f"package f{i}\n\ntype Thing{i} struct{{}}\n"
    repo, g, base = repo_factory(files)
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    blobs = github.count("git/get-blob")
    # the agents feature (spec, 3 code files) at head and base share all but one blob; plus cmd/fleet/main.go
    assert blobs <= 7, blobs
    assert "| agents |" in only_run(repo)["output"]["summary"]


async def test_custom_rule_packs_are_fetched_and_used(bot, github, repo_factory):
    files = base_files()
    files[".github/driftbot.yml"] = "version: 1\nrules:\n  custom: .driftbot/rules/*.yml\n"
    files[".driftbot/rules/house.yml"] = (
        "pack: house\ndescription: our router\nextends: [go]\nextensions: ['.go']\nrules:\n  routes:\n"
        "    - id: house-route\n      description: House router\n"
        "      pattern: 'house\\.Route\\(\"(?P<method>[A-Z]+) (?P<path>/[^\"]*)\"'\n"
        "      examples: {pass: ['house.Route(\"GET /x\")'], fail: ['x']}\n")
    repo, g, base = repo_factory(files)
    head = g.commit({"internal/agents/beat.go": 'package agents\n\nfunc init() { house.Route("POST /api/agents/{id}/heartbeat") }\n'},
                    "house route", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert run["conclusion"] == "success" and run["output"]["title"] == "0 new gaps, 1 resolved"
    # a second pull request finds the config and the pack in the blob cache: the pack is still used
    g.checkout("main")
    head2 = g.commit({"internal/agents/beat.go": 'package agents\n\nfunc init() { house.Route("POST /api/agents/{id}/heartbeat") }\n',
                      "README.md": "again\n"}, "house route again", branch="feature2")
    number2 = github.open_pull(repo, "main", "feature2")
    await deliver(bot, "pull_request", pr_event(repo, number2, base, head2))
    await settle(bot)
    runs = [r for r in repo.check_runs.values() if r["head_sha"] == head2]
    assert len(runs) == 1 and runs[0]["conclusion"] == "success", runs
    assert runs[0]["output"]["title"] == "0 new gaps, 1 resolved"


async def test_an_internal_error_still_completes_the_check(bot, github, repo_factory, monkeypatch):
    from bot.server import SERVICE
    repo, g, base = repo_factory(base_files())
    head, number = open_heartbeat_pr(github, repo, g)

    async def broken(*a, **kw):
        raise KeyError("surprise")

    monkeypatch.setattr(bot.server.app[SERVICE], "_analyse_pr", broken)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert "an internal error (KeyError)" in run["output"]["summary"]


INVOICES = ('package agents\n\nfunc RegisterBilling(r *mux.Router) {\n'
            '\tr.HandleFunc("/api/invoices", create).Methods("POST")\n}\n')


async def test_a_change_that_implements_a_located_features_requirement_touches_it(bot, github, repo_factory):
    # docs/ideas/billing.md has no folder of its name: its code is wherever `POST /api/invoices` is
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/invoices.go": INVOICES}, "invoices", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert "| billing |" in run["output"]["summary"]
    assert "resolved" in run["output"]["title"]
    (comment,) = repo.comments.values()
    assert "POST /api/invoices" in comment["body"]


async def test_a_change_that_names_nothing_a_located_feature_asks_for_leaves_it_alone(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    head = g.commit({"internal/agents/util.go": "package agents\n\nfunc helper() {}\n"}, "helper", branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    assert "billing" not in only_run(repo)["output"]["summary"]


async def test_a_pull_request_that_changes_the_policy_is_judged_by_the_base_policy(bot, github, repo_factory):
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    files[".github/driftbot.yml"] = "version: 1\nchecks:\n  fail_on: [regressions]\n"
    repo, g, base = repo_factory(files)
    # the PR removes the heartbeat route, and tries to make that pass: no fail_on, and a waiver
    weak = ("version: 1\ndiscover: false\nexclude: [\"docs/**\"]\nwaivers:\n  - fingerprint: 0123456789ab\n"
            "    reason: not needed\n")
    head = g.commit({"internal/agents/routes.go": ROUTES_GET, ".github/driftbot.yml": weak}, "weaken",
                    branch="feature")
    number = github.open_pull(repo, "main", "feature")
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    run = only_run(repo)
    assert run["conclusion"] == "failure"  # the base branch's fail_on: [regressions]
    assert run["output"]["title"].startswith("1 regression")
    summary = run["output"]["summary"]
    assert "This pull request changes driftbot's config: `discover` (discovery), `checks` (when the check fails), " \
           "`waivers` (waivers), `exclude` (exclusions)" in summary
    assert "the change applies once it is merged" in summary


async def test_the_comment_gives_the_overall_alignment_and_links_the_dashboard(bot, github, repo_factory):
    from tests.apphelpers import push_event
    repo, g, base = repo_factory(base_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, base))  # the baseline and the dashboard
    await settle(bot)
    (board,) = [n for n, i in repo.issues.items() if "driftbot:dashboard" in i["body"]]
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    (comment,) = repo.comments.values()
    line = next(ln for ln in comment["body"].splitlines() if ln.startswith("Overall alignment:"))
    assert "▲" in line and "across all 2 features" in line, line
    assert f"the drift dashboard (#{board}) for the whole repository" in comment["body"]


def test_a_long_gap_list_folds_away_and_the_fold_always_closes():
    from bot.engine.delta import FeatureDelta
    from bot.engine.model import Gap, GapKind
    from bot.report.pr import DETAILS_AFTER, comment_body
    gaps = tuple(Gap(f"{i:012x}", GapKind.MISSING, "x", f"`GET /r{i}` is not implemented", path="docs/x.md", line=i + 1)
                 for i in range(DETAILS_AFTER + 3))
    body = comment_body([FeatureDelta("x", None, None, gaps, (), ())], "a" * 40, None, total_features=3)
    assert "<details><summary>8 new gaps, 0 resolved</summary>" in body and body.count("</details>") == 1
    short = comment_body([FeatureDelta("x", None, None, gaps[:2], (), ())], "a" * 40, None, total_features=3)
    assert "<details>" not in short and "#### Gaps" in short
