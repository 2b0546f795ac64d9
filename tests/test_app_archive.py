"""A full scan reads the repository from one archive, not one request per file; what the archive
holds differently from the tree, or an archive that cannot be had, falls back to blobs."""
import io
import tarfile

import pytest

from bot.engine.snapshot import blob_sha
from bot.github.fetch import read_archive
from tests.apphelpers import deliver, for_repo, payload
from tests.conftest import settle
from tests.test_app_pr import base_files
from tests.test_app_push import dashboard


def many_files(n: int = 60) -> dict:
    files = base_files()
    for i in range(n):
        files[f"internal/agents/part{i:02d}.go"] = f"package agents\n\nfunc Part{i}() int {{ return {i} }}\n"
    return files


async def scan(bot, repo):
    event = for_repo(payload("installation.created.json"), repo)
    event["repositories"] = [{"id": repo.id, "name": repo.name, "full_name": repo.full_name, "private": False,
                              "node_id": "R_x"}]
    await deliver(bot, "installation", event)
    await settle(bot)


async def test_a_full_scan_downloads_one_archive_instead_of_every_blob(bot, github, repo_factory):
    files = many_files()
    files[".github/driftbot.yml"] = "version: 1\n"  # configured: no onboarding pull request
    repo, g, _ = repo_factory(files)
    await scan(bot, repo)
    assert github.count("repos/download-tarball-archive") == 1 and github.count("codeload") == 1
    assert github.count("git/get-blob") == 0
    assert "Overall alignment" in dashboard(repo)["body"]
    api = [r[0] for r in github.requests if r[0] != "codeload"]
    # the commit, its tree, its archive; the dashboard looked for, then opened (plus a token and the
    # app's own name, each asked once for many jobs)
    assert sorted(api) == sorted(["apps/create-installation-access-token", "apps/get-authenticated",
                                  "repos/get-commit", "git/get-tree", "repos/download-tarball-archive",
                                  "issues/list-for-repo", "issues/create"]), api


async def test_files_the_archive_changes_are_fetched_as_blobs(bot, github, repo_factory):
    files = many_files()
    files[".gitattributes"] = "internal/agents/version.go export-subst\n"
    files["internal/agents/version.go"] = 'package agents\n\nconst Version = "$Format:%H$"\n'
    repo, g, _ = repo_factory(files)
    await scan(bot, repo)
    assert github.count("repos/download-tarball-archive") == 1
    fetched = [r[2] for r in github.requests if r[0] == "git/get-blob"]
    assert len(fetched) == 1  # the one file whose archived text differs from its blob


@pytest.mark.parametrize("fault", ["broken", "refused"])
async def test_an_archive_that_cannot_be_had_falls_back_to_blobs(bot, github, repo_factory, fault):
    repo, g, _ = repo_factory(many_files())
    github.archive_fault = fault
    await scan(bot, repo)
    assert github.count("repos/download-tarball-archive") == 1
    assert github.count("git/get-blob") > 40
    assert "Overall alignment" in dashboard(repo)["body"]


def tar_of(members) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
    buf.seek(0)
    return buf


def test_reading_an_archive_keeps_only_regular_files_the_tree_lists_with_the_same_hash():
    good, other = b"package a\n", b"changed by export-subst\n"
    archive = tar_of([("top-abc/a.go", "file", good),
                      ("top-abc/b.go", "file", other),
                      ("top-abc/link.go", "symlink", "/etc/passwd"),
                      ("top-abc/hard.go", "hardlink", "top-abc/a.go"),
                      ("top-abc/../../etc/passwd", "file", b"root:x:0:0\n"),
                      ("top-abc/big.go", "file", b"x" * 5000)])
    wanted = {"a.go": blob_sha(good), "b.go": blob_sha(b"the tree's text\n"), "link.go": "0" * 40,
              "hard.go": blob_sha(good), "etc/passwd": blob_sha(b"root:x:0:0\n"), "big.go": blob_sha(b"x" * 5000)}
    found = read_archive(archive, wanted, size_cap=1000)
    # b.go differs from its blob, links are not files, a ../ name is no tree path, big.go is over the cap
    assert found == {"a.go": good}


def test_a_truncated_archive_raises_a_tar_error_the_fetch_handles():
    import os
    data = tar_of([("top/a.go", "file", os.urandom(100_000))]).getvalue()[:50_000]
    with pytest.raises((tarfile.TarError, EOFError, OSError)):
        read_archive(io.BytesIO(data), {"a.go": "0" * 40}, 1_000_000)


async def test_a_typical_pull_request_costs_at_most_ten_requests(bot, github, repo_factory):
    from tests.apphelpers import pr_event
    from tests.test_app_pr import open_heartbeat_pr
    repo, g, base = repo_factory(many_files())
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    (run,) = repo.check_runs.values()
    assert run["output"]["title"] == "0 new gaps, 1 resolved"
    api = [r[0] for r in github.requests if r[0] not in ("codeload", "apps/create-installation-access-token")]
    assert "pulls/list-files" not in api  # the comparison with the merge base lists the changed files
    assert len(api) <= 10, " ".join(api)


async def test_scans_wait_while_the_api_budget_is_low_and_the_dashboard_says_so(bot, github, repo_factory):
    import time

    from bot.server import QUEUE
    from tests.apphelpers import push_event
    busy, g1, first = repo_factory(many_files(), name="busy")
    github.rate_left, github.rate_reset = 120, time.time() + 60
    await deliver(bot, "push", push_event(busy, "0" * 40, first))  # a push runs: the budget is noted
    await settle(bot)
    body = dashboard(busy)["body"]
    assert "Updates paused until" in body and "120 of its 5,000" in body
    quiet, g2, _ = repo_factory(many_files(), name="quiet")
    await scan(bot, quiet)
    queue = bot.server.app[QUEUE]
    assert list(queue.held) and not any(i for i in quiet.issues.values())  # held back: nothing spent
    # a pull request is never held back
    from tests.apphelpers import pr_event
    from tests.test_app_pr import open_heartbeat_pr
    head, number = open_heartbeat_pr(github, busy, g1)
    await deliver(bot, "pull_request", pr_event(busy, number, first, head))
    await settle(bot)
    assert [r for r in busy.check_runs.values() if r["head_sha"] == head][0]["status"] == "completed"


async def test_a_held_scan_runs_once_the_hour_it_waited_for_is_over(bot, github, repo_factory):
    import asyncio
    import time

    from bot.server import QUEUE
    from tests.apphelpers import push_event
    busy, g1, first = repo_factory(many_files(), name="busy")
    github.rate_left, github.rate_reset = 120, time.time() + 1.5
    await deliver(bot, "push", push_event(busy, "0" * 40, first))
    await settle(bot)
    quiet, g2, _ = repo_factory(many_files(), name="quiet")
    github.rate_left = None  # the next answers say nothing of the budget: the old hour ends
    await scan(bot, quiet)
    assert list(bot.server.app[QUEUE].held)
    await asyncio.sleep(2.5)
    await settle(bot)
    assert not bot.server.app[QUEUE].held
    assert "Overall alignment" in dashboard(quiet)["body"]


async def test_a_large_repository_is_never_downloaded_whole(bot, github, repo_factory, monkeypatch):
    from bot.github import fetch
    monkeypatch.setattr(fetch, "ARCHIVE_MAX_TREE_BYTES", 1000)  # the tree's files add up to more
    repo, g, _ = repo_factory(many_files())
    await scan(bot, repo)
    assert github.count("repos/download-tarball-archive") == 0 and github.count("git/get-blob") > 40
    assert "Overall alignment" in dashboard(repo)["body"]
