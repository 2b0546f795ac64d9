"""The App on the PostgreSQL store: the same flows, state in a shared database."""
import pytest

from tests.apphelpers import deliver, pr_event, push_event
from tests.conftest import settle
from tests.test_app_pr import base_files, open_heartbeat_pr
from tests.test_app_push import dashboard


@pytest.fixture
def store(request, tmp_path):
    from tests.test_store_conformance import _postgres
    made = _postgres(request, tmp_path)
    yield made
    made.close()


async def test_pull_requests_pushes_and_redeliveries_on_the_postgres_store(bot, github, repo_factory, store):
    assert type(bot.queue).__name__ == "SharedQueue"  # replicas on one database share the queue
    repo, g, base = repo_factory(base_files())
    await deliver(bot, "push", push_event(repo, "0" * 40, base))
    await settle(bot)
    assert "Overall alignment" in dashboard(repo)["body"]
    assert store.get_value(repo.full_name, "baseline-sha") == base
    head, number = open_heartbeat_pr(github, repo, g)
    event = pr_event(repo, number, base, head)
    await deliver(bot, "pull_request", event, delivery="d-1")
    await settle(bot)
    (run,) = [r for r in repo.check_runs.values() if r["head_sha"] == head]
    assert run["status"] == "completed" and run["output"]["title"] == "0 new gaps, 1 resolved"
    again = await deliver(bot, "pull_request", event, delivery="d-1")  # GitHub's redelivery of a done one: a duplicate
    await settle(bot)
    assert again.status == 200 and len([r for r in repo.check_runs.values() if r["head_sha"] == head]) == 1
    assert store.unfinished_jobs() == []
