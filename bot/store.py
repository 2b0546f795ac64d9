"""State the app keeps between deliveries: deliveries seen, baselines and history per feature,
waivers, gap ↔ issue mapping, the dashboard and PR comments, and jobs handed back at shutdown.

``Store`` is the interface; ``SQLiteStore`` is the embedded default (no server to install). A
deployment with several replicas implements ``Store`` on a shared database: every method is a
single atomic statement or transaction, and the two "claim" methods are the only places where
replicas race — they must be compare-and-set there too.
"""
from __future__ import annotations

import abc
import asyncio
import json
import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from .records import FeatureRecord, GapIssue, HistoryPoint, StoredWaiver

__all__ = ["AsyncStore", "GapIssue", "SQLiteStore", "Store", "StoreError", "StoredWaiver", "open_store"]


class Store(abc.ABC):
    # baselines and history
    @abc.abstractmethod
    def baseline(self, repo: str) -> dict[str, FeatureRecord]:
        """feature id → its record, ``sha`` set to the commit it was last evaluated at"""

    @abc.abstractmethod
    def save_baseline(self, repo: str, sha: str, features: dict[str, FeatureRecord], removed: list[str] = (), *,
                      expected: str | None = None) -> bool:
        """Record ``sha`` as the repository's baseline with these features, atomically, only if the
        baseline is still at ``expected`` (None: none yet). False when another job moved it first."""

    @abc.abstractmethod
    def history(self, repo: str, limit: int = 30) -> list[HistoryPoint]:
        """Overall alignment per analysed commit, newest first."""

    # waivers set with /drift waive
    @abc.abstractmethod
    def waivers(self, repo: str) -> list[StoredWaiver]: ...

    @abc.abstractmethod
    def add_waiver(self, repo: str, waiver: StoredWaiver) -> None: ...

    @abc.abstractmethod
    def remove_waiver(self, repo: str, fingerprint: str) -> bool: ...

    # gap issues
    @abc.abstractmethod
    def claim_gap_issue(self, repo: str, fingerprint: str, feature: str) -> bool:
        """Reserve the right to create the issue for a gap; only one caller ever gets True."""

    @abc.abstractmethod
    def set_gap_issue(self, repo: str, fingerprint: str, number: int | None, state: str) -> None: ...

    @abc.abstractmethod
    def release_gap_issue(self, repo: str, fingerprint: str) -> None:
        """Give up a claim whose issue could not be created, so a later run tries again."""

    @abc.abstractmethod
    def gap_issues(self, repo: str) -> dict[str, GapIssue]: ...

    # singletons per repository
    @abc.abstractmethod
    def get_value(self, repo: str, key: str) -> str | None: ...

    @abc.abstractmethod
    def set_value(self, repo: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def claim_value(self, repo: str, key: str, value: str) -> bool:
        """Set key only if unset; True when this call set it."""

    @abc.abstractmethod
    def release_value(self, repo: str, key: str, value: str) -> None:
        """Unset key if it still holds ``value`` (give up a claim, so a later run tries again)."""

    @abc.abstractmethod
    def take_quota(self, repo: str, key: str, limit: int, window: float) -> bool:
        """Count one use of ``key`` if fewer than ``limit`` were counted in the last ``window`` seconds,
        atomically; True when counted. Uses older than their window are forgotten."""

    # durable jobs: a delivery's jobs are stored before it is acknowledged, and it counts as seen
    # only once they are all finished, so nothing accepted is lost to a crash
    @abc.abstractmethod
    def accept_delivery(self, delivery_id: str, jobs: list[tuple[str, dict]]) -> list[int] | None:
        """In one transaction: None when the delivery was handled before (a duplicate); [] when its
        jobs are stored and not finished yet (a redelivery: they run, or resume at the next start);
        else the ids of its jobs, now stored. A delivery with no jobs is handled at once."""

    def accept_deliveries(self, batch: list[tuple[str, list[tuple[str, dict]]]]) -> list[list[int] | None]:
        """accept_delivery for several deliveries, each as if alone (a backend may commit them together)."""
        return [self.accept_delivery(d, jobs) for d, jobs in batch]

    @abc.abstractmethod
    def finish_job(self, job_id: int, *, done: bool = True) -> None:
        """A job ran (or a newer job for the same key replaced it): forget it; its delivery is handled
        once it has no other job left. ``done=False``: it failed for good; forget it, but leave its
        delivery unseen, so GitHub's Redeliver runs it again."""

    @abc.abstractmethod
    def start_job(self, job_id: int) -> None:
        """A job is about to run: count the attempt."""

    @abc.abstractmethod
    def unfinished_jobs(self, *, max_attempts: int | None = None) -> list[tuple[int, str, dict]]:
        """(id, key, job) of every job not finished, oldest first: what to resume at start. With
        ``max_attempts``, those started that often already (each start ended by a crash) are given up
        — forgotten, their delivery left unseen — instead of returned."""

    @abc.abstractmethod
    def jobs_for_key(self, key: str, *, max_attempts: int | None = None) -> list[tuple[int, dict, int]]:
        """(id, job, attempts) of the unfinished jobs with one queue key, oldest first: what a shared
        queue's task for that key runs (the newest) and replaces (the rest). With ``max_attempts``, as
        for unfinished_jobs, those started that often already are given up first."""

    @abc.abstractmethod
    def unfinished_keys(self) -> list[str]:
        """The queue keys that have unfinished jobs (what a shared queue makes sure is queued)."""

    def close(self) -> None:  # noqa: B027 - optional hook: stores without resources need nothing
        """Release connections; the default store closes its database."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS baselines (repo TEXT, feature TEXT, sha TEXT, alignment INTEGER, data TEXT,
                                      updated REAL, PRIMARY KEY (repo, feature));
CREATE TABLE IF NOT EXISTS history (repo TEXT, sha TEXT, alignment INTEGER, features INTEGER, at REAL);
CREATE INDEX IF NOT EXISTS history_repo ON history (repo, at);
CREATE TABLE IF NOT EXISTS waivers (repo TEXT, fingerprint TEXT, reason TEXT, until TEXT, by TEXT, at REAL,
                                    PRIMARY KEY (repo, fingerprint));
CREATE TABLE IF NOT EXISTS gap_issues (repo TEXT, fingerprint TEXT, number INTEGER, state TEXT, feature TEXT,
                                       PRIMARY KEY (repo, fingerprint));
CREATE TABLE IF NOT EXISTS kv (repo TEXT, key TEXT, value TEXT, PRIMARY KEY (repo, key));
CREATE TABLE IF NOT EXISTS quota (repo TEXT, key TEXT, expires REAL);
CREATE INDEX IF NOT EXISTS quota_key ON quota (repo, key, expires);
CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, job TEXT NOT NULL,
                                 delivery TEXT NOT NULL, at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_delivery ON jobs (delivery);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key);
"""

DELIVERY_TTL = 7 * 24 * 3600
PRUNE_EVERY = 1000  # deliveries between two prunes of old delivery ids


class SQLiteStore(Store):
    def __init__(self, path: str = ":memory:"):
        if path.startswith("sqlite:///"):
            path = path[len("sqlite:///"):]
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        self._claims = 0
        self._quota_uses = 0
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                # a commit survives a crash of the process (kill -9) without an fsync each time; only
                # a power cut can lose the last commits, and GitHub keeps those deliveries to redeliver
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            cols = {r[1] for r in self._db.execute("PRAGMA table_info(jobs)")}
            if "attempts" not in cols:  # a store made by an earlier version
                self._db.execute("ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")

    def _x(self, sql: str, args=()):
        with self._lock:
            return self._db.execute(sql, args)

    def claim_delivery(self, delivery_id: str) -> bool:
        now = time.time()
        with self._lock:
            cur = self._db.execute("INSERT OR IGNORE INTO deliveries (id, seen) VALUES (?, ?)", (delivery_id, now))
            self._claims += 1
            if self._claims % PRUNE_EVERY == 0:  # GitHub redelivers within days: older ids can go
                self._db.execute("DELETE FROM deliveries WHERE seen < ?", (now - DELIVERY_TTL,))
            return cur.rowcount == 1

    def release_delivery(self, delivery_id: str) -> None:
        self._x("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def baseline(self, repo: str) -> dict[str, FeatureRecord]:
        rows = self._x("SELECT feature, sha, alignment, data FROM baselines WHERE repo = ?", (repo,)).fetchall()
        return {f: FeatureRecord.from_data(json.loads(d), alignment=a, sha=sha) for f, sha, a, d in rows}

    def save_baseline(self, repo: str, sha: str, features: dict[str, FeatureRecord], removed=(), *,
                      expected: str | None = None) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT value FROM kv WHERE repo = ? AND key = 'baseline-sha'", (repo,)).fetchone()
                if (row[0] if row else None) != expected:
                    self._db.execute("ROLLBACK")
                    return False
                self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, 'baseline-sha', ?)", (repo, sha))
                for fid, rec in features.items():
                    self._db.execute("INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?, ?)",
                                     (repo, fid, sha, rec.alignment, json.dumps(rec.to_data()), now))
                for fid in removed:
                    self._db.execute("DELETE FROM baselines WHERE repo = ? AND feature = ?", (repo, fid))
                rows = self._db.execute("SELECT alignment FROM baselines WHERE repo = ?", (repo,)).fetchall()
                known = [r[0] for r in rows if r[0] is not None]
                if rows:
                    overall = round(sum(known) / len(known)) if known else None
                    self._db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?)", (repo, sha, overall, len(rows), now))
                self._db.execute("COMMIT")
                return True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def history(self, repo: str, limit: int = 30) -> list[HistoryPoint]:
        rows = self._x("SELECT sha, alignment, features, at FROM history WHERE repo = ? ORDER BY at DESC, rowid DESC "
                       "LIMIT ?", (repo, limit)).fetchall()
        return [HistoryPoint(*r) for r in rows]

    def waivers(self, repo: str) -> list[StoredWaiver]:
        rows = self._x("SELECT fingerprint, reason, until, by FROM waivers WHERE repo = ? ORDER BY at", (repo,))
        return [StoredWaiver(*r) for r in rows.fetchall()]

    def add_waiver(self, repo: str, waiver: StoredWaiver) -> None:
        self._x("INSERT OR REPLACE INTO waivers VALUES (?, ?, ?, ?, ?, ?)",
                (repo, waiver.fingerprint, waiver.reason, waiver.until, waiver.by, time.time()))

    def remove_waiver(self, repo: str, fingerprint: str) -> bool:
        return self._x("DELETE FROM waivers WHERE repo = ? AND fingerprint = ?", (repo, fingerprint)).rowcount == 1

    def claim_gap_issue(self, repo: str, fingerprint: str, feature: str) -> bool:
        cur = self._x("INSERT OR IGNORE INTO gap_issues VALUES (?, ?, NULL, 'claimed', ?)", (repo, fingerprint, feature))
        return cur.rowcount == 1

    def set_gap_issue(self, repo: str, fingerprint: str, number: int | None, state: str) -> None:
        self._x("UPDATE gap_issues SET number = ?, state = ? WHERE repo = ? AND fingerprint = ?",
                (number, state, repo, fingerprint))

    def release_gap_issue(self, repo: str, fingerprint: str) -> None:
        self._x("DELETE FROM gap_issues WHERE repo = ? AND fingerprint = ? AND number IS NULL", (repo, fingerprint))

    def gap_issues(self, repo: str) -> dict[str, GapIssue]:
        rows = self._x("SELECT fingerprint, number, state, feature FROM gap_issues WHERE repo = ?", (repo,)).fetchall()
        return {r[0]: GapIssue(*r) for r in rows}

    def get_value(self, repo: str, key: str) -> str | None:
        row = self._x("SELECT value FROM kv WHERE repo = ? AND key = ?", (repo, key)).fetchone()
        return row[0] if row else None

    def set_value(self, repo: str, key: str, value: str) -> None:
        self._x("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (repo, key, value))

    def claim_value(self, repo: str, key: str, value: str) -> bool:
        return self._x("INSERT OR IGNORE INTO kv VALUES (?, ?, ?)", (repo, key, value)).rowcount == 1

    def release_value(self, repo: str, key: str, value: str) -> None:
        self._x("DELETE FROM kv WHERE repo = ? AND key = ? AND value = ?", (repo, key, value))

    def take_quota(self, repo: str, key: str, limit: int, window: float) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._quota_uses += 1
                if self._quota_uses % PRUNE_EVERY == 0:
                    self._db.execute("DELETE FROM quota WHERE expires <= ?", (now,))
                used = self._db.execute("SELECT COUNT(*) FROM quota WHERE repo = ? AND key = ? AND expires > ?",
                                        (repo, key, now)).fetchone()[0]
                if used < limit:
                    self._db.execute("DELETE FROM quota WHERE repo = ? AND key = ? AND expires <= ?", (repo, key, now))
                    self._db.execute("INSERT INTO quota VALUES (?, ?, ?)", (repo, key, now + window))
                self._db.execute("COMMIT")
                return used < limit
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def accept_delivery(self, delivery_id: str, jobs: list[tuple[str, dict]]) -> list[int] | None:
        return self.accept_deliveries([(delivery_id, jobs)])[0]

    def accept_deliveries(self, batch: list[tuple[str, list[tuple[str, dict]]]]) -> list[list[int] | None]:
        now = time.time()
        out: list[list[int] | None] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for delivery_id, jobs in batch:
                    if self._db.execute("SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,)).fetchone():
                        ids = None
                    elif self._db.execute("SELECT 1 FROM jobs WHERE delivery = ?", (delivery_id,)).fetchone():
                        ids = []
                    else:
                        ids = [self._db.execute("INSERT INTO jobs (key, job, delivery, at) VALUES (?, ?, ?, ?)",
                                                (key, json.dumps(job), delivery_id, now)).lastrowid
                               for key, job in jobs]
                        if not ids:
                            self._seen(delivery_id, now)
                    out.append(ids)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return out

    def _seen(self, delivery_id: str, now: float) -> None:
        self._db.execute("INSERT OR IGNORE INTO deliveries (id, seen) VALUES (?, ?)", (delivery_id, now))
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:  # GitHub redelivers within days: older ids can go
            self._db.execute("DELETE FROM deliveries WHERE seen < ?", (now - DELIVERY_TTL,))

    def finish_job(self, job_id: int, *, done: bool = True) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT delivery FROM jobs WHERE id = ?", (job_id,)).fetchone()
                self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
                if done and row and not self._db.execute("SELECT 1 FROM jobs WHERE delivery = ?", (row[0],)).fetchone():
                    self._seen(row[0], time.time())
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def start_job(self, job_id: int) -> None:
        self._x("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?", (job_id,))

    def unfinished_jobs(self, *, max_attempts: int | None = None) -> list[tuple[int, str, dict]]:
        with self._lock:
            if max_attempts is not None:
                self._db.execute("DELETE FROM jobs WHERE attempts >= ?", (max_attempts,))
            rows = self._db.execute("SELECT id, key, job FROM jobs ORDER BY id").fetchall()
        return [(i, k, json.loads(j)) for i, k, j in rows]

    def jobs_for_key(self, key: str, *, max_attempts: int | None = None) -> list[tuple[int, dict, int]]:
        with self._lock:
            if max_attempts is not None:
                self._db.execute("DELETE FROM jobs WHERE key = ? AND attempts >= ?", (key, max_attempts))
            rows = self._db.execute("SELECT id, job, attempts FROM jobs WHERE key = ? ORDER BY id", (key,)).fetchall()
        return [(i, json.loads(j), a) for i, j, a in rows]

    def unfinished_keys(self) -> list[str]:
        with self._lock:
            return [k for (k,) in self._db.execute("SELECT DISTINCT key FROM jobs ORDER BY key")]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class AsyncStore:
    """A Store whose methods are awaited: each call runs on one thread of the store's own, in the
    order made, so the event loop never waits on the database."""

    def __init__(self, store: Store):
        self.sync = store
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftbot-store")

    def __getattr__(self, name: str):
        method = getattr(self.sync, name)

        async def call(*args, **kwargs):
            return await asyncio.get_running_loop().run_in_executor(self._thread, partial(method, *args, **kwargs))
        call.__name__ = name
        return call


class StoreError(ValueError):
    """The store cannot be opened or used; the message names DRIFTBOT_STORE and what to do."""


def open_store(location: str) -> Store:
    """DRIFTBOT_STORE: a file path or sqlite:///path (the embedded store), or postgresql://… (a database
    several replicas share)."""
    if location.startswith(("postgresql://", "postgres://")) or re.match(r"\s*(host|dbname|user|port)\s*=", location):
        from .store_pg import PostgresStore
        return PostgresStore(location)
    if "://" in location and not location.startswith("sqlite:///"):
        raise StoreError(f"DRIFTBOT_STORE={location.split('://')[0]}://…: not a store driftbot knows; use a file path "
                         "(or sqlite:///path) for the embedded store, or postgresql://user:password@host/db")
    path = location[len("sqlite:///"):] if location.startswith("sqlite:///") else location
    if path != ":memory:":
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StoreError(f"DRIFTBOT_STORE={location}: the folder {folder} does not exist; create it, or point "
                             "DRIFTBOT_STORE at a file in an existing folder")
        if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
            raise StoreError(f"DRIFTBOT_STORE={location}: the file is not readable and writable by this user; fix "
                             "its permissions")
        if not os.path.exists(path) and not os.access(folder, os.W_OK):
            raise StoreError(f"DRIFTBOT_STORE={location}: cannot create the file, the folder {folder} is not "
                             "writable by this user")
    try:
        store = SQLiteStore(location)
        store._x("SELECT count(*) FROM jobs").fetchone()  # reads the file: a corrupt one fails here
        return store
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"DRIFTBOT_STORE={location}: not a driftbot store, or damaged ({exc}); move it aside "
                         "and start again (driftbot rebuilds its state from GitHub: baselines on the next "
                         "push, issues and comments found by their markers)") from None
