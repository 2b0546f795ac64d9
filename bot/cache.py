"""The content cache: what the engine derives from one file (its index, its parsed spec) kept on
disk, so a repeated run — the CLI again on the same checkout, or the App after a restart — pays only
for the files that changed.

Entries are content-addressed: the key is the file's blob hash plus what the result depends on
(the rule packs' digest, the file's path) under the engine's own digest, so a changed engine or
rule pack never reads an old entry. Values are compressed pickles (indexes: marshalled plain values,
``index.pack``, whose bulk is compressed already); the cache lives in a directory only its owner can write (it is refused otherwise),
like any other cache of a program's own. Findings of whole runs are kept too (``prewarm.evaluate``).

Storage is one SQLite file (WAL): several runs may share it at once; a run that cannot write (the
file is locked for long, the disk is full) simply writes nothing. It is bounded: past its size,
the entries used longest ago are removed. Bulk reads and writes (one statement per few hundred
keys) keep a warm run of 30,000 files to a fraction of a second of cache I/O.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sqlite3
import sys
import time
import zlib
from importlib import metadata
from pathlib import Path
from typing import Callable

from .engine import index as index_mod

log = logging.getLogger(__name__)

FILE_NAME = "content-v1.sqlite"
DEFAULT_MB = 1024
CHUNK = 400  # keys per statement (SQLite allows 32,766 parameters; small chunks keep statements cheap)
TOUCH_AFTER = 24 * 3600  # a hit marks its entry as used again at most once a day (reads stay reads)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER NOT NULL,
                                    used REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_used ON entries (used);
"""

_digest: str | None = None


def _pickle(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


# how each kind of result is written and read, and whether the bytes are compressed on top: pickles
# are; indexes are kept in their compact form, whose bulk is one compressed block already (compressing
# it again saved nothing and cost a sixth of indexing a file). What is not compressed carries a checksum
# instead, as zlib's stream does: a damaged entry must be a miss when read, not a failure when the
# packed block is unpacked in the middle of an evaluation.
FORMAT = 2  # how entries are encoded: part of every key, so entries written another way are never read
_PICKLE: tuple[Callable[[object], bytes], Callable[[bytes], object], bool] = (_pickle, pickle.loads, True)
_CODECS = {"index": (index_mod.dumps, index_mod.loads, False)}


def encode(kind: str, value: object) -> bytes:
    """``value`` as the cache stores a result of ``kind`` (an indexing worker encodes its indexes
    once: the parent reads them back with ``decode`` and keeps the same bytes)."""
    dump, _, compressed = _CODECS.get(kind, _PICKLE)
    data = dump(value)
    return zlib.compress(data, 1) if compressed else data + zlib.adler32(data).to_bytes(4, "big")


def decode(kind: str, blob: bytes) -> object:
    """The value ``encode`` wrote; raises ValueError (or zlib.error) for damaged bytes."""
    _, load, compressed = _CODECS.get(kind, _PICKLE)
    if compressed:
        return load(zlib.decompress(blob))
    data = blob[:-4]
    if len(blob) < 4 or zlib.adler32(data).to_bytes(4, "big") != blob[-4:]:
        raise ValueError("damaged entry: its checksum does not match")
    return load(data)

# every library whose behaviour the engine's results depend on (what bot/engine imports, and what
# those compute with): a new version of any of them may judge differently, so nothing cached before counts
_ENGINE_DISTRIBUTIONS = ("ast-grep-py", "markdown-it-py", "pyyaml", "jsonschema", "wcmatch", "bracex", "regex",
                         "snowballstemmer", "cachetools", "bm25s", "numpy")


def engine_digest() -> str:
    """What every cached result depends on besides its inputs: the engine's own code, the versions of
    the libraries it computes with, the Python that pickled it, and how the cache encodes entries."""
    global _digest
    if _digest is None:
        h = hashlib.sha256(f"format {FORMAT}".encode())
        engine = Path(__file__).resolve().parent / "engine"
        for src in sorted(engine.glob("*.py")):
            h.update(src.name.encode())
            h.update(src.read_bytes())
        for dist in _ENGINE_DISTRIBUTIONS:
            try:
                h.update(f"{dist}={metadata.version(dist)}".encode())
            except metadata.PackageNotFoundError:
                h.update(dist.encode())
        h.update(sys.version.encode())
        _digest = h.hexdigest()[:16]
    return _digest


def default_location() -> str:
    """$DRIFTBOT_CACHE, else the user's cache directory (XDG_CACHE_HOME, else ~/.cache) /driftbot."""
    set_to = os.environ.get("DRIFTBOT_CACHE")
    if set_to is not None:
        return set_to
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "driftbot")


def disabled(location: str | None) -> bool:
    return location is None or location.strip().lower() in ("", "0", "off", "false", "no", "none")


class ContentCache:
    """Results by content key, on disk. ``get_many`` / ``put_many`` never raise: a cache that stops
    working logs once and behaves as empty."""

    def __init__(self, directory: str | os.PathLike, max_mb: int = DEFAULT_MB):
        self.directory = Path(os.path.expanduser(str(directory)))  # never raises, unlike Path.expanduser
        self.max_bytes = max(1, max_mb) * 1024 * 1024
        self.prefix = engine_digest() + ":"
        self.hits = self.misses = self.written = 0
        self._db: sqlite3.Connection | None = None
        self._broken = False

    @classmethod
    def open(cls, location: str | None = None, max_mb: int | None = None) -> ContentCache | None:
        """The cache at ``location`` (default: ``default_location()``); None when it is turned off."""
        location = default_location() if location is None else location
        if disabled(location):
            return None
        if max_mb is None:
            try:
                max_mb = int(os.environ.get("DRIFTBOT_CACHE_MB", DEFAULT_MB))
            except ValueError:
                log.warning("DRIFTBOT_CACHE_MB is not a number of megabytes; using %d", DEFAULT_MB)
                max_mb = DEFAULT_MB
        return cls(location, max_mb)

    # ---- connection -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.directory / FILE_NAME
            for p in (self.directory, path):
                if p.exists():
                    st = p.stat()
                    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                        return self._fail(f"{p} is writable by others or owned by another user; a cache "
                                          "must be its owner's alone")
            db = sqlite3.connect(str(path), timeout=5, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            os.chmod(path, 0o600)
            self._db = db
        except (OSError, sqlite3.Error) as exc:
            return self._fail(f"cannot open {self.directory / FILE_NAME}: {exc}")
        return self._db

    def _fail(self, why: str) -> None:
        if not self._broken:
            log.warning("content cache off for this run: %s (set DRIFTBOT_CACHE to another folder, or to "
                        "'off')", why)
        self._broken = True
        self.close()
        return None

    # ---- reads and writes ---------------------------------------------------------------------
    def _row(self, kind: str, key: str) -> str:
        """The row's key: ``key`` as it is, or its digest when it holds what UTF-8 cannot spell (a
        file name git stores in another encoding, read as surrogate escapes)."""
        row = f"{self.prefix}{kind}:{key}"
        if not row.isascii():
            try:
                row.encode("utf-8")
            except UnicodeEncodeError:
                return f"{self.prefix}{kind}:sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return row

    def get_many(self, kind: str, keys: list[str]) -> dict[str, object]:
        """The cached results among ``keys`` (keys of one ``kind``: "index", "spec", …)."""
        db = self._conn()
        if db is None or not keys:
            self.misses += len(keys)
            return {}
        full = {self._row(kind, k): k for k in keys}
        found: dict[str, object] = {}
        stale: list[str] = []
        now = time.time()
        try:
            names = list(full)
            for i in range(0, len(names), CHUNK):
                part = names[i:i + CHUNK]
                rows = db.execute(f"SELECT key, value, used FROM entries WHERE key IN ({','.join('?' * len(part))})",
                                  part).fetchall()
                for key, value, used in rows:
                    try:
                        found[full[key]] = decode(kind, value)
                    except Exception:  # noqa: BLE001 - a damaged entry is a miss, and is replaced
                        continue
                    if used < now - TOUCH_AFTER:
                        stale.append(key)
            if stale:
                self._touch(db, stale, now)
        except sqlite3.Error as exc:
            self._fail(f"reading failed: {exc}")
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def _touch(self, db: sqlite3.Connection, keys: list[str], now: float) -> None:
        try:
            db.execute("BEGIN")
            for i in range(0, len(keys), CHUNK):
                part = keys[i:i + CHUNK]
                db.execute(f"UPDATE entries SET used = ? WHERE key IN ({','.join('?' * len(part))})", [now, *part])
            db.execute("COMMIT")
        except sqlite3.OperationalError:  # busy: another run writes; marking use can wait
            if db.in_transaction:
                db.execute("ROLLBACK")

    def put_many(self, kind: str, items: dict[str, object], encoded: dict[str, bytes] | None = None) -> bool:
        """Keep these results, and those ``encoded`` already (``encode``), in one write; then, if the
        cache is over its size, drop the least recently used. Returns whether they were written (not
        when the cache is off, broken, or busy with another run's write for longer than its timeout)."""
        if not (items or encoded) or (db := self._conn()) is None:
            return False
        blobs = dict(encoded or {})
        for key, value in items.items():
            try:
                blobs[key] = encode(kind, value)
            except Exception:  # noqa: BLE001 - what cannot be pickled is simply not kept
                continue
        if not blobs:
            return False
        now = time.time()
        rows = [(self._row(kind, key), blob, len(blob), now) for key, blob in blobs.items()]
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._write_failed(db, exc, f"{len(rows)} results not kept this time")
            return False
        self.written += len(rows)
        try:
            self._evict(db)
        except sqlite3.Error as exc:  # what was written stays; making room can wait for the next write
            self._write_failed(db, exc, "old entries not removed this time")
        return True

    def _write_failed(self, db: sqlite3.Connection, exc: sqlite3.Error, what: str) -> None:
        if db.in_transaction:
            db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            log.info("content cache busy; %s", what)
        else:
            self._fail(f"writing failed: {exc}")

    def _evict(self, db: sqlite3.Connection) -> None:
        total = db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]
        if total <= self.max_bytes:
            return
        target = int(self.max_bytes * 0.8)  # room to grow before the next eviction
        db.execute("BEGIN IMMEDIATE")
        freed, doomed = 0, []
        for key, size in db.execute("SELECT key, size FROM entries ORDER BY used"):
            if total - freed <= target:
                break
            doomed.append((key,))
            freed += size
        db.executemany("DELETE FROM entries WHERE key = ?", doomed)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def size_bytes(self) -> int:
        db = self._conn()
        if db is None:
            return 0
        return db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
