"""What every Store backend must do. A new backend adds a factory to STORES and passes all of it.

The PostgreSQL store runs against a real server: $DRIFTBOT_TEST_POSTGRES (an address whose user may
create databases), else one started from the pgserver wheel the test extra installs."""
import itertools
import os
import threading

import pytest

from bot.records import FeatureRecord, GapRecord
from bot.store import SQLiteStore, StoredWaiver

_databases = itertools.count(1)


def _postgres(request, tmp):
    """A new database on the test server, and a store on it (``tmp / "location"`` says where)."""
    psycopg = pytest.importorskip("psycopg")
    from bot.store_pg import PostgresStore
    server = request.getfixturevalue("postgres_server")
    name = f"driftbot_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    location = _with_database(server, name)
    (tmp / "location").write_text(location)
    return PostgresStore(location)


def _with_database(uri: str, name: str) -> str:
    head, sep, query = uri.partition("?")
    base = head.rsplit("/", 1)[0] if head.count("/") > 2 else head
    return f"{base}/{name}{sep}{query}"


STORES = {
    "sqlite-memory": lambda request, tmp: SQLiteStore(":memory:"),
    "sqlite-file": lambda request, tmp: SQLiteStore(str(tmp / "s.db")),
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(STORES))
def store(request, tmp_path):
    made = STORES[request.param](request, tmp_path)
    yield made
    made.close()


def together(*calls) -> None:
    """Run each (function, args) on a thread of its own, all at once, and wait for them."""
    threads = [threading.Thread(target=fn, args=args) for fn, args in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def another(store, tmp_path):
    """A second store on the same database, as another replica would open it (None: not shareable)."""
    if isinstance(store, SQLiteStore):
        path = tmp_path / "s.db"
        return SQLiteStore(str(path)) if path.exists() else None
    from bot.store_pg import PostgresStore
    return PostgresStore((tmp_path / "location").read_text())


def test_a_delivery_is_seen_once_its_jobs_are_done(store):
    ids = store.accept_delivery("d1", [("pr:a/b:1", {"kind": "pull_request", "n": 1}), ("push:a/b", {"kind": "push"})])
    assert len(ids) == 2
    assert store.accept_delivery("d1", [("pr:a/b:1", {"kind": "pull_request"})]) == []  # stored, not done
    assert [(k, j["kind"]) for _i, k, j in store.unfinished_jobs()] == [("pr:a/b:1", "pull_request"),
                                                                        ("push:a/b", "push")]
    store.finish_job(ids[0])
    assert store.accept_delivery("d1", []) == []  # one job left
    store.finish_job(ids[1])
    assert store.unfinished_jobs() == []
    assert store.accept_delivery("d1", [("x", {})]) is None  # done: a duplicate
    assert store.accept_delivery("ping", []) == [] and store.accept_delivery("ping", []) is None


def test_accepting_is_atomic_under_concurrency(store):
    results = []

    def accept():
        results.append(store.accept_delivery("same", [("k", {"kind": "push"})]))
    threads = [threading.Thread(target=accept) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if r) == 1 and len(store.unfinished_jobs()) == 1


def test_baselines_advance_only_from_where_they_were(store):
    feats = {"a": FeatureRecord(80)}
    assert store.save_baseline("o/r", "c1", feats, expected=None)
    assert not store.save_baseline("o/r", "c2", feats, expected=None)  # someone else moved it first
    assert store.get_value("o/r", "baseline-sha") == "c1"
    assert store.save_baseline("o/r", "c2", {"a": FeatureRecord(60)}, expected="c1")
    assert store.baseline("o/r")["a"].alignment == 60
    assert [h.sha for h in store.history("o/r")] == ["c2", "c1"]
    assert store.save_baseline("o/r", "c3", {}, ["a"], expected="c2") and store.baseline("o/r") == {}


def test_a_baseline_record_comes_back_as_it_was_saved(store):
    gap = GapRecord("missing", "`POST /x` is not implemented", "docs/a.md", 12, "a-r1", severity=5,
                    confidence="low", marker="")
    rec = FeatureRecord(40, 60, "red", "no", "1 gap", ("docs/a.md",), {"fp1": gap})
    assert store.save_baseline("o/r", "c1", {"a": rec}, expected=None)
    back = store.baseline("o/r")["a"]
    assert back.sha == "c1" and back.gaps["fp1"] == gap
    assert back == FeatureRecord(40, 60, "red", "no", "1 gap", ("docs/a.md",), {"fp1": gap}, sha="c1")
    point = store.history("o/r")[0]
    assert (point.sha, point.alignment, point.features) == ("c1", 40, 1)


def test_claims_are_compare_and_set(store):
    assert store.claim_value("o/r", "dashboard", "pending")
    assert not store.claim_value("o/r", "dashboard", "pending")
    store.release_value("o/r", "dashboard", "other")  # only the value it holds is released
    assert store.get_value("o/r", "dashboard") == "pending"
    store.release_value("o/r", "dashboard", "pending")
    assert store.get_value("o/r", "dashboard") is None
    assert store.claim_gap_issue("o/r", "fp1", "a") and not store.claim_gap_issue("o/r", "fp1", "a")
    store.release_gap_issue("o/r", "fp1")
    assert store.claim_gap_issue("o/r", "fp1", "a")
    store.set_gap_issue("o/r", "fp1", 7, "open")
    store.release_gap_issue("o/r", "fp1")  # a claim with an issue number is kept
    assert store.gap_issues("o/r")["fp1"].number == 7


def test_waivers_and_values_are_per_repository(store):
    store.add_waiver("o/r", StoredWaiver("0123456789ab", "because", None, "alice"))
    assert [w.fingerprint for w in store.waivers("o/r")] == ["0123456789ab"] and store.waivers("o/x") == []
    assert store.remove_waiver("o/r", "0123456789ab") and not store.remove_waiver("o/r", "0123456789ab")
    store.set_value("o/r", "k", "1")
    assert store.get_value("o/r", "k") == "1" and store.get_value("o/x", "k") is None


def test_deliveries_accepted_together_are_each_judged_alone(store):
    store.accept_delivery("old", [])
    results = store.accept_deliveries([("a", [("k", {"kind": "push"})]), ("old", [("k", {})]), ("b", []),
                                       ("a", [("k", {"kind": "push"})])])
    assert len(results[0]) == 1 and results[1] is None and results[2] == [] and results[3] == []
    assert [k for _i, k, _j in store.unfinished_jobs()] == ["k"]


def test_a_quota_counts_uses_within_its_window(store, monkeypatch):
    import bot.store as store_mod
    clock = [1000.0]
    monkeypatch.setattr(store_mod.time, "time", lambda: clock[0])
    assert [store.take_quota("o/r", "reply:7:ann", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert store.take_quota("o/r", "reply:7:bob", 3, 60)  # another key has its own count
    clock[0] += 30
    assert not store.take_quota("o/r", "reply:7:ann", 3, 60)
    clock[0] += 31  # the first three uses are older than the window now
    assert [store.take_quota("o/r", "reply:7:ann", 3, 60) for _ in range(4)] == [True, True, True, False]


@pytest.fixture
def other(store, tmp_path):
    """A second store on the store's database: another replica."""
    made = another(store, tmp_path)
    if made is None:
        pytest.skip("an in-memory store has no second replica")
    yield made
    made.close()


def test_two_replicas_accept_a_delivery_once_and_finish_it_once(store, other):
    results: list = []
    barrier = threading.Barrier(8)

    def accept(s):
        barrier.wait()
        results.append(s.accept_delivery("shared", [("pr:a/b:1", {"kind": "pull_request"}),
                                                    ("push:a/b", {"kind": "push"})]))
    together(*[(accept, (store if i % 2 else other,)) for i in range(8)])
    (ids,) = [r for r in results if r]
    assert len(other.unfinished_jobs()) == 2
    together(*[(s.finish_job, (i,)) for s, i in zip((store, other), ids)])
    assert store.accept_delivery("shared", [("x", {})]) is None  # seen, by whichever finished last


def test_two_replicas_move_a_baseline_once(store, other):
    won: list = []
    barrier = threading.Barrier(2)

    def save(s, sha):
        barrier.wait()
        won.append(s.save_baseline("o/r", sha, {"a": FeatureRecord(50)}, expected=None))
    together((save, (store, "c1")), (save, (other, "c2")))
    assert sorted(won) == [False, True] and len(store.history("o/r")) == 1


def test_replicas_starting_together_migrate_the_schema_once(request, tmp_path):
    psycopg = pytest.importorskip("psycopg")
    from bot.store_pg import MIGRATIONS, PostgresStore
    first = _postgres(request, tmp_path)  # a new database, migrated by its first store
    location = (tmp_path / "location").read_text()
    with psycopg.connect(location, autocommit=True) as db:
        db.execute("DROP TABLE driftbot_schema, deliveries, baselines, history, waivers, gap_issues, kv, quota, jobs")
    first.close()
    opened, errors = [], []
    barrier = threading.Barrier(4)

    def start():
        barrier.wait()
        try:
            opened.append(PostgresStore(location))
        except Exception as exc:  # noqa: BLE001 - collected, then asserted absent
            errors.append(exc)
    together(*[(start, ()) for _ in range(4)])
    assert errors == [] and len(opened) == 4
    with psycopg.connect(location) as db:
        assert db.execute("SELECT version FROM driftbot_schema").fetchall() == [(len(MIGRATIONS),)]
    for s in opened:
        s.close()


def test_a_database_prepared_by_a_newer_driftbot_is_refused(request, tmp_path):
    psycopg = pytest.importorskip("psycopg")
    from bot.store import StoreError
    from bot.store_pg import MIGRATIONS, PostgresStore
    _postgres(request, tmp_path).close()
    location = (tmp_path / "location").read_text()
    with psycopg.connect(location, autocommit=True) as db:
        db.execute("UPDATE driftbot_schema SET version = %s", (len(MIGRATIONS) + 1,))
    with pytest.raises(StoreError, match="prepared by a newer driftbot"):
        PostgresStore(location)
