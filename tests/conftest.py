import shutil
from pathlib import Path

import pytest

from bot.engine import Engine, Snapshot, load_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def analyse(files: dict, **kw):
    """Run the engine on an in-memory repository."""
    snap = Snapshot.from_texts(files)
    return Engine().evaluate(snap, load_config(snap), **kw)


def feature(findings, fid):
    return next(f for f in findings.features if f.id == fid)


def requirement(feat, anchor_value):
    for r in feat.requirements:
        if any(a.value == anchor_value for a in r.requirement.anchors):
            return r
    raise AssertionError(f"no requirement names {anchor_value!r} in {feat.id}: "
                         f"{[a.value for r in feat.requirements for a in r.requirement.anchors]}")


@pytest.fixture(autouse=True, scope="session")
def _content_cache(tmp_path_factory):
    """The tests' runs share one content cache of their own, never the user's."""
    import os
    old = os.environ.get("DRIFTBOT_CACHE")
    os.environ["DRIFTBOT_CACHE"] = str(tmp_path_factory.mktemp("content-cache"))
    yield
    if old is None:
        os.environ.pop("DRIFTBOT_CACHE", None)
    else:
        os.environ["DRIFTBOT_CACHE"] = old


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A PostgreSQL server's address: $DRIFTBOT_TEST_POSTGRES (its user may create databases), else one
    started from the pgserver wheel the test extra installs."""
    import os
    if os.environ.get("DRIFTBOT_TEST_POSTGRES"):
        yield os.environ["DRIFTBOT_TEST_POSTGRES"]
        return
    pgserver = pytest.importorskip("pgserver", reason="no PostgreSQL: set DRIFTBOT_TEST_POSTGRES or install pgserver")
    server = pgserver.get_server(str(tmp_path_factory.mktemp("pg")), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def corpus(tmp_path):
    dst = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", dst)
    return dst


# ---- the GitHub App harness ------------------------------------------------------------------
import asyncio  # noqa: E402

from tests import apphelpers  # noqa: E402
from tests.fakegithub import FakeGitHub, GitRepo  # noqa: E402


@pytest.fixture
async def github(aiohttp_server):
    fake = FakeGitHub(apphelpers.APP_ID, apphelpers.keypair()[1])
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    assert fake.violations == [], "requests that break GitHub's OpenAPI description:\n" + "\n".join(fake.violations)


@pytest.fixture
def store():
    from bot.store import SQLiteStore
    return SQLiteStore(":memory:")


@pytest.fixture
async def bot(github, store, aiohttp_client):
    from bot.server import make_app
    app = make_app(apphelpers.settings(github.url), store=store, time_scale=0.001, shutdown_grace=5)
    client = await aiohttp_client(app)
    client.queue = app["queue"] if "queue" in app else None
    from bot.server import QUEUE
    client.queue = app[QUEUE]
    client.expected_failures = 0  # a test that means a job to fail says how many
    yield client
    assert client.queue.failed == client.expected_failures, \
        f"{client.queue.failed} background job(s) failed (the log above has the traceback)"


async def settle(client, timeout: float = 30):
    """Wait until the bot's queue is idle."""
    await asyncio.sleep(0.01)
    await client.queue.join(timeout)


@pytest.fixture
def repo_factory(tmp_path, github):
    def make(files: dict, name: str = "fleet", owner: str = "acme"):
        g = GitRepo(tmp_path / f"{owner}-{name}")
        sha = g.commit(files, "initial")
        return github.add_repo(owner, name, g, apphelpers.INSTALLATION), g, sha
    return make
