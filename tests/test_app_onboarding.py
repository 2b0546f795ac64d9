"""Onboarding: a repository installed without a config gets one pull request that proposes it; the
pull request is never opened twice, and it is tidied away once a config lands."""
import base64

import pytest
import yaml

from bot.engine import Snapshot, parse_config
from bot.report.onboarding import BRANCH, MARKER
from bot.settings import Settings, SettingsError
from tests.apphelpers import deliver, for_repo, payload, push_event
from tests.conftest import settle
from tests.fakegithub import git
from tests.test_app_pr import base_files

ROADMAP = """# Roadmap

| Feature | Status | Notes |
|---|---|---|
| Agent list | ✅ Done | `GET /api/agents` |
| Heartbeats | ✅ Done | `POST /api/agents/{id}/heartbeat` |
| Invoices | 📋 Planned | `POST /api/invoices` |
"""


def files():
    f = base_files()
    f["docs/ROADMAP.md"] = ROADMAP
    return f


async def install(bot, repo, event="installation"):
    if event == "installation":
        data = for_repo(payload("installation.created.json"), repo)
        data["repositories"] = [{"id": repo.id, "name": repo.name, "full_name": repo.full_name, "private": True,
                                 "node_id": "R_x"}]
    else:
        data = for_repo(payload("installation_repositories.added.json"), repo)
        data["repositories_added"] = [{"id": repo.id, "name": repo.name, "full_name": repo.full_name,
                                       "private": True, "node_id": "R_x"}]
    r = await deliver(bot, event, data)
    assert r.status == 202
    await settle(bot)


def onboarding_pulls(repo):
    return {n: p for n, p in repo.pulls.items() if p["head_ref"] == BRANCH}


def branch_exists(repo) -> bool:
    return bool(git(repo.git.path, "branch", "--list", BRANCH).strip())


async def test_a_repository_without_a_config_gets_one_pull_request_proposing_it(bot, github, repo_factory):
    repo, g, first = repo_factory(files())
    await install(bot, repo)
    ((number, pr),) = onboarding_pulls(repo).items()
    assert pr["base_ref"] == "main" and pr["state"] == "open"
    assert pr["title"] == "Add a driftbot config (.github/driftbot.yml)"
    body = pr["body"]
    assert body.startswith(MARKER) and "**With it:** overall alignment **" in body
    assert "**1 feature paired with code**" in body and "**1 spec with no folder of its name**" in body
    assert "**1 document read as requirements** (roadmap 1)" in body
    assert "a feature matrix gives a feature per row" in body
    assert "will not open this pull request again" in body
    # the branch holds exactly one new file, the proposed config, on top of the default branch
    assert git(repo.git.path, "diff", "--name-only", f"main...{BRANCH}").split() == [".github/driftbot.yml"]
    text = git(repo.git.path, "show", f"{BRANCH}:.github/driftbot.yml")
    assert text.startswith("# driftbot config for fleet")
    data = yaml.safe_load(text)
    assert data["features"][0]["id"] == "agents" and data["documents"][0] == {"spec": "docs/ROADMAP.md",
                                                                              "split": "rows"}
    snap = Snapshot.from_texts({**files(), ".github/driftbot.yml": text})
    assert parse_config(text, ".github/driftbot.yml", snap).source == ".github/driftbot.yml"
    assert github.count("pulls/create") == 1 and github.count("git/create-ref") == 1

    # the repository is added again, or the installation is re-created: still one pull request
    await install(bot, repo, "installation_repositories")
    await install(bot, repo)
    assert len(onboarding_pulls(repo)) == 1 and github.count("pulls/create") == 1


async def test_it_is_not_offered_twice_even_when_the_store_is_lost(bot, github, repo_factory, store):
    repo, g, first = repo_factory(files())
    await install(bot, repo)
    ((number, pr),) = onboarding_pulls(repo).items()
    pr["state"] = "closed"  # the maintainers said no
    store._x("DELETE FROM kv WHERE key = 'onboarding'")
    await install(bot, repo)
    assert len(onboarding_pulls(repo)) == 1 and github.count("pulls/create") == 1


async def test_repositories_with_a_config_or_nothing_to_check_get_no_pull_request(bot, github, repo_factory):
    configured, _g, _ = repo_factory({**files(), ".github/driftbot.yml": "version: 1\n"}, name="configured")
    bare, _g2, _ = repo_factory({"main.py": "print('hi')\n"}, name="bare")
    await install(bot, configured)
    await install(bot, bare)
    assert not configured.pulls and not bare.pulls
    assert github.count("git/create-ref") == 0 and github.count("repos/create-or-update-file-contents") == 0


async def test_merging_it_deletes_its_branch(bot, github, repo_factory, store):
    repo, g, first = repo_factory(files())
    await install(bot, repo)
    ((number, _pr),) = onboarding_pulls(repo).items()
    merged = github.merge_pull(repo, number)
    await deliver(bot, "push", push_event(repo, first, merged))
    await settle(bot)
    assert not branch_exists(repo)
    assert store.get_value(repo.full_name, "onboarding") == "merged"
    assert not repo.comments  # nothing to say: the pull request did its job


async def test_a_config_that_lands_another_way_closes_it_with_a_word(bot, github, repo_factory, store):
    repo, g, first = repo_factory(files())
    await install(bot, repo)
    ((number, pr),) = onboarding_pulls(repo).items()
    g.checkout("main")
    after = g.commit({".github/driftbot.yml": "version: 1\nfeatures:\n  - id: agents\n    spec: docs/ideas/agents.md\n"
                                              "    code: internal/agents/\n"}, "hand-written config")
    await deliver(bot, "push", push_event(repo, first, after))
    await settle(bot)
    assert pr["state"] == "closed" and not branch_exists(repo)
    (comment,) = [c for c in repo.comments.values() if c["issue_number"] == number]
    assert "reached the default branch another way" in comment["body"] and after[:12] in comment["body"]
    assert store.get_value(repo.full_name, "onboarding") == "superseded"
    # later pushes leave it alone
    again = g.commit({"internal/agents/extra.go": "package agents\n"}, "more")
    await deliver(bot, "push", push_event(repo, after, again))
    await settle(bot)
    assert github.count("pulls/update") == 1


async def test_a_failed_attempt_is_retried_without_a_second_branch_or_file(bot, github, repo_factory, store):
    repo, g, first = repo_factory(files())
    github.fail("pulls/create", status=422, times=1)  # e.g. the base branch was being renamed
    bot.expected_failures = 1  # the scan job fails, and says so in the log
    await install(bot, repo)
    assert not onboarding_pulls(repo) and store.get_value(repo.full_name, "onboarding") is None
    assert branch_exists(repo)  # left from the failed attempt
    await install(bot, repo, "installation_repositories")
    assert len(onboarding_pulls(repo)) == 1
    # the branch was reused and the file updated in place (with its sha), not written twice
    assert git(repo.git.path, "diff", "--name-only", f"main...{BRANCH}").split() == [".github/driftbot.yml"]
    assert github.count("repos/create-or-update-file-contents") == 2


def test_onboarding_can_be_turned_off():
    from tests.apphelpers import keypair
    env = {"APP_ID": "1", "WEBHOOK_SECRET": "x", "PRIVATE_KEY": keypair()[0]}
    assert Settings.from_env(env).onboarding is True
    assert Settings.from_env({**env, "DRIFTBOT_ONBOARDING": "off"}).onboarding is False
    with pytest.raises(SettingsError, match="DRIFTBOT_ONBOARDING must be on or off"):
        Settings.from_env({**env, "DRIFTBOT_ONBOARDING": "later"})


def test_the_file_the_fake_writes_is_what_was_sent():
    # the fake's contents endpoint decodes base64 like GitHub does: a sanity check of the harness
    assert base64.b64decode(base64.b64encode("é".encode())).decode() == "é"
