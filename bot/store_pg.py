"""The store on PostgreSQL, for several replicas sharing one database (``DRIFTBOT_STORE=postgresql://…``).

Same contract as the embedded SQLite store (``tests/test_store_conformance.py`` runs against both).
Where two replicas could race, a transaction takes an advisory lock first — per delivery when jobs are
accepted or finished, per repository when a baseline moves, per key for quotas — so each decision is
made once, by one replica, whichever it is. The schema is migrated at start, under a lock of its own,
so replicas that start together migrate it once.

Needs the ``postgres`` extra: ``pip install 'driftbot[postgres]'`` (psycopg 3 and its pool).
"""
from __future__ import annotations

import json
import time

from .records import FeatureRecord, GapIssue, HistoryPoint, StoredWaiver
from .store import DELIVERY_TTL, PRUNE_EVERY, Store, StoreError

MIGRATION_LOCK = 0x64726966  # "drif": one replica migrates at a time
POOL_SIZE = 4

# Each entry moves the schema from the version before it to its own; never edit one that shipped.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE deliveries (id TEXT PRIMARY KEY, seen DOUBLE PRECISION NOT NULL);
    CREATE INDEX deliveries_seen ON deliveries (seen);
    CREATE TABLE baselines (repo TEXT, feature TEXT, sha TEXT, alignment INTEGER, data TEXT,
                            updated DOUBLE PRECISION, PRIMARY KEY (repo, feature));
    CREATE TABLE history (repo TEXT, sha TEXT, alignment INTEGER, features INTEGER, at DOUBLE PRECISION,
                          seq BIGSERIAL);
    CREATE INDEX history_repo ON history (repo, at);
    CREATE TABLE waivers (repo TEXT, fingerprint TEXT, reason TEXT, until TEXT, by TEXT, at DOUBLE PRECISION,
                          PRIMARY KEY (repo, fingerprint));
    CREATE TABLE gap_issues (repo TEXT, fingerprint TEXT, number INTEGER, state TEXT, feature TEXT,
                             PRIMARY KEY (repo, fingerprint));
    CREATE TABLE kv (repo TEXT, key TEXT, value TEXT, PRIMARY KEY (repo, key));
    CREATE TABLE quota (repo TEXT, key TEXT, expires DOUBLE PRECISION);
    CREATE INDEX quota_key ON quota (repo, key, expires);
    CREATE TABLE jobs (id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, job TEXT NOT NULL, delivery TEXT NOT NULL,
                       at DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX jobs_delivery ON jobs (delivery);
    """,
    """
    CREATE INDEX jobs_key ON jobs (key);
    """,
]


def _where(location: str) -> str:
    """The address without its password (in the URL, its query or keyword form), for messages."""
    try:
        from psycopg.conninfo import conninfo_to_dict
        parts = conninfo_to_dict(location)
    except Exception:  # noqa: BLE001 - unparseable: say nothing of it rather than leak it
        return "(an address that could not be read)"
    shown = {k: v for k, v in parts.items() if k in ("host", "port", "dbname", "user")}
    return "postgresql://" + (f"{shown['user']}@" if shown.get("user") else "") + str(shown.get("host", "")) + \
        (f":{shown['port']}" if shown.get("port") else "") + f"/{shown.get('dbname', '')}"


def _secret(location: str) -> str | None:
    try:
        from psycopg.conninfo import conninfo_to_dict
        return conninfo_to_dict(location).get("password") or None
    except Exception:  # noqa: BLE001
        return None


def _first_line_without(exc: BaseException, location: str) -> str:
    """An error's first line, with the password taken out wherever the driver repeated it."""
    text = _first_line(exc)
    secret = _secret(location)
    if secret:
        from urllib.parse import quote
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, "***")
    return text


class PostgresStore(Store):
    def __init__(self, location: str, *, pool_size: int = POOL_SIZE):
        try:  # imported here, so the message can say what to install
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise StoreError(f"DRIFTBOT_STORE={_where(location)}: PostgreSQL needs driftbot's postgres extra; "
                             "install it with: pip install 'driftbot[postgres]'") from None
        self._errors = psycopg.Error
        self.location = location
        try:
            psycopg.connect(location, connect_timeout=10).close()  # fails at once when it cannot work
            # every connection is checked before use: after a database restart the next call reconnects
            self._pool = ConnectionPool(location, min_size=1, max_size=pool_size, open=True, timeout=15,
                                        kwargs={"autocommit": False}, check=ConnectionPool.check_connection)
            self._pool.wait(timeout=15)
        except Exception as exc:  # noqa: BLE001 - bad address, no server, refused: say so plainly
            raise StoreError(f"DRIFTBOT_STORE={_where(location)}: cannot connect to PostgreSQL "
                             f"({_first_line_without(exc, location)}); "
                             "check the address, that the server runs, and the user's password") from None
        self._deliveries = 0
        self._quota_uses = 0
        try:
            self.migrate()
        except StoreError:
            self._pool.close()
            raise
        except self._errors as exc:
            self._pool.close()
            raise StoreError(f"DRIFTBOT_STORE={_where(location)}: could not prepare the database "
                             f"({_first_line_without(exc, location)}); the user needs CREATE on its schema") from None

    # ---- plumbing ----------------------------------------------------------------------------
    def _tx(self):
        """A connection in one transaction: committed when the block ends, rolled back on error."""
        return _Transaction(self._pool)

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns it. Safe from several replicas at once."""
        with self._tx() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            db.execute("CREATE TABLE IF NOT EXISTS driftbot_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM driftbot_schema").fetchone()
            version = row[0] if row else 0
            if version > len(MIGRATIONS):
                raise StoreError(f"DRIFTBOT_STORE={_where(self.location)}: the database was prepared by a newer "
                                 f"driftbot (schema {version}, this one knows {len(MIGRATIONS)}); upgrade this one")
            if row is None:
                db.execute("INSERT INTO driftbot_schema VALUES (0)")
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                db.execute(sql)
                db.execute("UPDATE driftbot_schema SET version = %s", (number,))
            return len(MIGRATIONS)

    @staticmethod
    def _lock(db, *parts: str) -> None:
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("\x1f".join(parts),))

    # ---- baselines and history -----------------------------------------------------------------
    def baseline(self, repo: str) -> dict[str, FeatureRecord]:
        with self._tx() as db:
            rows = db.execute("SELECT feature, sha, alignment, data FROM baselines WHERE repo = %s", (repo,)).fetchall()
        return {f: FeatureRecord.from_data(json.loads(d), alignment=a, sha=sha) for f, sha, a, d in rows}

    def save_baseline(self, repo: str, sha: str, features: dict[str, FeatureRecord], removed=(), *,
                      expected: str | None = None) -> bool:
        now = time.time()
        with self._tx() as db:
            self._lock(db, "baseline", repo)
            row = db.execute("SELECT value FROM kv WHERE repo = %s AND key = 'baseline-sha'", (repo,)).fetchone()
            if (row[0] if row else None) != expected:
                return False
            db.execute("INSERT INTO kv VALUES (%s, 'baseline-sha', %s) ON CONFLICT (repo, key) DO UPDATE "
                       "SET value = EXCLUDED.value", (repo, sha))
            for fid, rec in features.items():
                db.execute("INSERT INTO baselines VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (repo, feature) DO UPDATE "
                           "SET sha = EXCLUDED.sha, alignment = EXCLUDED.alignment, data = EXCLUDED.data, "
                           "updated = EXCLUDED.updated", (repo, fid, sha, rec.alignment, json.dumps(rec.to_data()), now))
            for fid in removed:
                db.execute("DELETE FROM baselines WHERE repo = %s AND feature = %s", (repo, fid))
            rows = db.execute("SELECT alignment FROM baselines WHERE repo = %s", (repo,)).fetchall()
            known = [r[0] for r in rows if r[0] is not None]
            if rows:
                overall = round(sum(known) / len(known)) if known else None
                db.execute("INSERT INTO history (repo, sha, alignment, features, at) VALUES (%s, %s, %s, %s, %s)",
                           (repo, sha, overall, len(rows), now))
            return True

    def history(self, repo: str, limit: int = 30) -> list[HistoryPoint]:
        with self._tx() as db:
            rows = db.execute("SELECT sha, alignment, features, at FROM history WHERE repo = %s "
                              "ORDER BY at DESC, seq DESC LIMIT %s", (repo, limit)).fetchall()
        return [HistoryPoint(*r) for r in rows]

    # ---- waivers -----------------------------------------------------------------------------------
    def waivers(self, repo: str) -> list[StoredWaiver]:
        with self._tx() as db:
            rows = db.execute("SELECT fingerprint, reason, until, by FROM waivers WHERE repo = %s ORDER BY at",
                              (repo,)).fetchall()
        return [StoredWaiver(*r) for r in rows]

    def add_waiver(self, repo: str, waiver: StoredWaiver) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO waivers VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (repo, fingerprint) DO UPDATE "
                       "SET reason = EXCLUDED.reason, until = EXCLUDED.until, by = EXCLUDED.by, at = EXCLUDED.at",
                       (repo, waiver.fingerprint, waiver.reason, waiver.until, waiver.by, time.time()))

    def remove_waiver(self, repo: str, fingerprint: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM waivers WHERE repo = %s AND fingerprint = %s",
                              (repo, fingerprint)).rowcount > 0

    # ---- gap issues -------------------------------------------------------------------------------
    def claim_gap_issue(self, repo: str, fingerprint: str, feature: str) -> bool:
        with self._tx() as db:
            return db.execute("INSERT INTO gap_issues VALUES (%s, %s, NULL, 'claimed', %s) ON CONFLICT DO NOTHING",
                              (repo, fingerprint, feature)).rowcount == 1

    def set_gap_issue(self, repo: str, fingerprint: str, number: int | None, state: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE gap_issues SET number = %s, state = %s WHERE repo = %s AND fingerprint = %s",
                       (number, state, repo, fingerprint))

    def release_gap_issue(self, repo: str, fingerprint: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM gap_issues WHERE repo = %s AND fingerprint = %s AND number IS NULL",
                       (repo, fingerprint))

    def gap_issues(self, repo: str) -> dict[str, GapIssue]:
        with self._tx() as db:
            rows = db.execute("SELECT fingerprint, number, state, feature FROM gap_issues WHERE repo = %s",
                              (repo,)).fetchall()
        return {r[0]: GapIssue(*r) for r in rows}

    # ---- values ----------------------------------------------------------------------------------
    def get_value(self, repo: str, key: str) -> str | None:
        with self._tx() as db:
            row = db.execute("SELECT value FROM kv WHERE repo = %s AND key = %s", (repo, key)).fetchone()
        return row[0] if row else None

    def set_value(self, repo: str, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO kv VALUES (%s, %s, %s) ON CONFLICT (repo, key) DO UPDATE SET value = EXCLUDED.value",
                       (repo, key, value))

    def claim_value(self, repo: str, key: str, value: str) -> bool:
        with self._tx() as db:
            return db.execute("INSERT INTO kv VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                              (repo, key, value)).rowcount == 1

    def release_value(self, repo: str, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM kv WHERE repo = %s AND key = %s AND value = %s", (repo, key, value))

    def take_quota(self, repo: str, key: str, limit: int, window: float) -> bool:
        now = time.time()
        with self._tx() as db:
            self._lock(db, "quota", repo, key)
            self._quota_uses += 1
            if self._quota_uses % PRUNE_EVERY == 0:
                db.execute("DELETE FROM quota WHERE expires <= %s", (now,))
            used = db.execute("SELECT COUNT(*) FROM quota WHERE repo = %s AND key = %s AND expires > %s",
                              (repo, key, now)).fetchone()[0]
            if used < limit:
                db.execute("DELETE FROM quota WHERE repo = %s AND key = %s AND expires <= %s", (repo, key, now))
                db.execute("INSERT INTO quota VALUES (%s, %s, %s)", (repo, key, now + window))
            return used < limit

    # ---- durable jobs -----------------------------------------------------------------------------
    def accept_delivery(self, delivery_id: str, jobs: list[tuple[str, dict]]) -> list[int] | None:
        return self.accept_deliveries([(delivery_id, jobs)])[0]

    def accept_deliveries(self, batch: list[tuple[str, list[tuple[str, dict]]]]) -> list[list[int] | None]:
        now = time.time()
        out: list[list[int] | None] = []
        with self._tx() as db:
            for delivery_id in sorted({d for d, _jobs in batch}):  # in one order everywhere: no deadlock
                self._lock(db, "delivery", delivery_id)  # another replica accepting it waits, then sees it
            for delivery_id, jobs in batch:
                if db.execute("SELECT 1 FROM deliveries WHERE id = %s", (delivery_id,)).fetchone():
                    ids = None
                elif db.execute("SELECT 1 FROM jobs WHERE delivery = %s LIMIT 1", (delivery_id,)).fetchone():
                    ids = []
                else:
                    ids = [db.execute("INSERT INTO jobs (key, job, delivery, at) VALUES (%s, %s, %s, %s) RETURNING id",
                                      (key, json.dumps(job), delivery_id, now)).fetchone()[0] for key, job in jobs]
                    if not ids:
                        self._seen(db, delivery_id, now)
                out.append(ids)
        return out

    def _seen(self, db, delivery_id: str, now: float) -> None:
        db.execute("INSERT INTO deliveries VALUES (%s, %s) ON CONFLICT DO NOTHING", (delivery_id, now))
        self._deliveries += 1
        if self._deliveries % PRUNE_EVERY == 0:  # GitHub redelivers within days: older ids can go
            db.execute("DELETE FROM deliveries WHERE seen < %s", (now - DELIVERY_TTL,))

    def finish_job(self, job_id: int, *, done: bool = True) -> None:
        with self._tx() as db:
            row = db.execute("SELECT delivery FROM jobs WHERE id = %s", (job_id,)).fetchone()
            if row is None:
                return
            self._lock(db, "delivery", row[0])  # its last two jobs may finish on two replicas at once
            db.execute("DELETE FROM jobs WHERE id = %s", (job_id,))
            if done and not db.execute("SELECT 1 FROM jobs WHERE delivery = %s LIMIT 1", (row[0],)).fetchone():
                self._seen(db, row[0], time.time())

    def start_job(self, job_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = %s", (job_id,))

    def unfinished_jobs(self, *, max_attempts: int | None = None) -> list[tuple[int, str, dict]]:
        with self._tx() as db:
            if max_attempts is not None:
                db.execute("DELETE FROM jobs WHERE attempts >= %s", (max_attempts,))
            rows = db.execute("SELECT id, key, job FROM jobs ORDER BY id").fetchall()
        return [(i, k, json.loads(j)) for i, k, j in rows]

    def jobs_for_key(self, key: str, *, max_attempts: int | None = None) -> list[tuple[int, dict, int]]:
        with self._tx() as db:
            if max_attempts is not None:
                db.execute("DELETE FROM jobs WHERE key = %s AND attempts >= %s", (key, max_attempts))
            rows = db.execute("SELECT id, job, attempts FROM jobs WHERE key = %s ORDER BY id", (key,)).fetchall()
        return [(i, json.loads(j), a) for i, j, a in rows]

    def unfinished_keys(self) -> list[str]:
        with self._tx() as db:
            return [k for (k,) in db.execute("SELECT DISTINCT key FROM jobs ORDER BY key").fetchall()]

    def close(self) -> None:
        self._pool.close()


class _Transaction:
    def __init__(self, pool):
        self._pool = pool

    def __enter__(self):
        self._cm = self._pool.connection()
        self._conn = self._cm.__enter__()  # the pool commits when the block ends, rolls back on error
        return self._conn

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
