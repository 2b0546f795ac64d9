"""Index a large checkout on all cores before the engine evaluates it.

The engine is pure and single-threaded; indexing every file of a cold checkout is most of a full
report's time. Here forked workers, one per core, index the files in chunks (the snapshot is
inherited through fork) and send the indexes back, and the engine adopts them. Small checkouts
(fewer than ``MIN_FILES`` files to index, holding less than ``MIN_BYTES``), and systems without
fork, skip this.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os

from . import cache as cache_mod
from .engine import Engine
from .engine.config import Config
from .engine import index as index_mod
from .engine.engine import read_spec
from .engine.model import Findings
from .engine.snapshot import Snapshot

log = logging.getLogger(__name__)
# Below both, starting workers costs more than it saves. Bytes count too: a repository of large
# files (prometheus: 1,119 files, 14 MB) took 16.4 s and 632 MB indexed in this process, and 12.5 s
# and 290 MB in workers (its parser's garbage stayed in this process's heap); 249 files of 1.5 MB:
# 3.2 s and 144 MB, against 2.7 s and 113 MB.
MIN_FILES, MIN_BYTES = 2000, 1 << 20
CHUNK, MIN_CHUNK = 1000, 64  # the most and the fewest files a worker indexes before it sends them back

_job: tuple | None = None  # (snapshot, ruleset) for the forked workers


def _work(task: tuple[list[str], list[str]]) -> tuple[list, list, list]:
    paths, specs = task
    gc.disable()  # a short-lived worker: collecting would only touch (and copy) the parent's pages
    snapshot, ruleset = _job
    # encoded as the content cache keeps them: the parent reads them back and can keep the same bytes
    indexed = [(p, cache_mod.encode("index", index_mod.build_index(p, snapshot.read(p), ruleset))) for p in paths]
    parsed = [(p, read_spec(p, snapshot.read(p))) for p in specs]
    # the files whose bytes, read here, did not match their listed hash: the parent must know them too
    return indexed, parsed, sorted(getattr(snapshot, "unverified", ()))


def _chunks(todo: list[str], specs: list[str], cores: int) -> list[tuple[list[str], list[str]]]:
    """The files in consecutive chunks, the specs dealt out among them: small enough chunks that the
    workers end together and this process reads back as they go."""
    size = max(MIN_CHUNK, min(CHUNK, -(-len(todo) // (cores * 8))))
    n = max(1, -(-len(todo) // size))
    return [(todo[i * size:(i + 1) * size], specs[i::n]) for i in range(n)]


class paused_gc:
    """No cyclic garbage collection during one evaluation: it builds millions of small objects (and
    unpacks packed indexes, which lets go of as many), and the collector would rescan everything that
    lives, again and again, for nothing (at 30,000 files: 7.5 s of CPU for a full evaluate instead of
    4.5 s). Reference counting still frees everything; what cycles an evaluation leaves, the next
    collection after it takes. For a long-lived process (the App's workers)."""

    def __enter__(self):
        self._was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc):
        if self._was:
            gc.enable()
        return False


class quiet_gc(paused_gc):
    """``paused_gc`` for a batch job (a CLI run): afterwards what was built is also frozen (kept out
    of later collections, which would otherwise scan it all at once)."""

    def __exit__(self, *exc):
        gc.freeze()
        return super().__exit__(*exc)


def prewarm(engine: Engine, snapshot: Snapshot, config: Config, workers: int | None = None,
            encoded: dict[str, bytes] | None = None) -> int:
    """Index the files a full evaluation needs, in parallel. Returns how many the workers indexed.

    Every core gets a worker; this process only reads back what they send, encoded as the content
    cache keeps them, chunk by chunk as they finish. Its heap then holds the indexes alone, packed
    (``index.PackedIndex``), and none of the parsers' garbage. ``encoded`` gets the bytes of each
    index not cut short by a rule's time limit, so they need not be encoded again; those of files
    whose bytes did not match their listed hash (``snapshot.unverified``) must not be cached."""
    global _job
    frozen = False
    ruleset, todo = engine.unindexed(snapshot, config)
    specs = engine.unparsed_specs(snapshot, config)
    cores = workers or (os.cpu_count() or 1)
    if cores < 2 or "fork" not in mp.get_all_start_methods():
        return 0
    if len(todo) < MIN_FILES and sum(e.size for p in todo if (e := snapshot.entry(p)) is not None) < MIN_BYTES:
        return 0
    tasks = _chunks(todo, specs, cores)
    _job = (snapshot, ruleset)
    gc.freeze()  # keep the parent's objects out of the workers' collections (fewer copied pages)
    frozen = True
    try:
        ctx = mp.get_context("fork")
        with ctx.Pool(cores) as pool:
            for indexed, parsed, found in pool.imap(_work, tasks):
                if found:  # only a snapshot read from disk can find changed bytes
                    snapshot.unverified.update(found)
                for p, blob in indexed:
                    fi = cache_mod.decode("index", blob)
                    engine.adopt(snapshot, ruleset, p, fi)
                    if encoded is not None and not fi.timeouts:  # the caller drops what was not read as listed
                        encoded[p] = blob
                for p, ps in parsed:
                    engine.adopt_spec(snapshot, p, ps)
    except (OSError, mp.ProcessError) as exc:  # no fork, no pipes: the engine indexes on its own
        log.warning("parallel indexing unavailable", extra={"error": str(exc)})
        return 0
    finally:
        _job = None
        if frozen and gc.isenabled():
            gc.unfreeze()
    return len(todo)


class warm:
    """Around an evaluation: indexes and parsed specs come from the content cache when it holds them,
    the rest is built (in parallel for a large checkout) and kept in the cache for the next run: what
    the workers sent at once, what the evaluation built after it.

        with warm(engine, snapshot, config, cache):
            findings = engine.evaluate(snapshot, config)
    """

    def __init__(self, engine: Engine, snapshot: Snapshot, config: Config, cache=None, *, parallel: bool = True):
        self.engine, self.snapshot, self.config, self.cache, self.parallel = engine, snapshot, config, cache, parallel
        self.ruleset = None
        self.missing: list[str] = []
        self.missing_specs: list[str] = []
        self.stored: set[str] = set()  # the paths whose index the workers sent, kept in the cache as it came

    def __enter__(self) -> "warm":
        engine, snap = self.engine, self.snapshot
        if self.cache is not None:
            self.ruleset, todo = engine.unindexed(snap, self.config)
            keys = {engine.content_key(snap, p, self.ruleset): p for p in todo}
            for key, fi in self.cache.get_many("index", list(keys)).items():
                engine.adopt(snap, self.ruleset, keys[key], fi)
            self.missing = [p for p in todo if not engine.has_index(snap, p, self.ruleset)]
            specs = engine.unparsed_specs(snap, self.config)
            skeys = {engine.content_key(snap, p): p for p in specs}
            for key, parsed in self.cache.get_many("spec", list(skeys)).items():
                engine.adopt_spec(snap, skeys[key], parsed)
            self.missing_specs = [p for p in specs if engine.peek_spec(snap, p) is None]
        if self.parallel:
            encoded: dict[str, bytes] = {}  # path -> its index as a worker sent it, ready for the cache
            prewarm(engine, snap, self.config, encoded=encoded if self.cache is not None else None)
            if encoded:
                # kept now, before the evaluation: the bytes are not held through it, and the indexing
                # (most of a cold run) is not lost if the evaluation fails or is stopped
                unverified = getattr(snap, "unverified", ())
                ready = {p: blob for p, blob in encoded.items() if p not in unverified}
                if self.cache.put_many("index", {}, encoded={engine.content_key(snap, p, self.ruleset): blob
                                                             for p, blob in ready.items()}):
                    self.stored = set(ready)  # (not written, the cache busy: they are offered again after)
        return self

    def __exit__(self, exc_type, *exc) -> bool:
        if self.cache is None or exc_type is not None:
            return False
        engine, snap = self.engine, self.snapshot
        # kept: what was built from bytes that match their hash, and not cut short by a rule's time limit
        # (that depends on the machine's load at the time, not on the file)
        unverified = getattr(snap, "unverified", ())
        built = {}
        for p in self.missing:
            if p in unverified or p in self.stored:
                continue
            if (fi := engine.peek_index(snap, p, self.ruleset)) is not None and not fi.timeouts:
                built[engine.content_key(snap, p, self.ruleset)] = fi
        self.cache.put_many("index", built)
        parsed = {engine.content_key(snap, p): ps for p in self.missing_specs
                  if p not in unverified and (ps := engine.peek_spec(snap, p)) is not None}
        self.cache.put_many("spec", parsed)
        return False


def evaluate(engine: Engine, snapshot: Snapshot, config: Config, cache=None, *, features=None, today=None,
             progress=None, parallel: bool = True) -> Findings:
    """``engine.evaluate`` through the content cache. When an earlier run had the very same inputs
    (every path and blob hash, the config, the rule packs, the features, which waivers have expired:
    ``Engine.run_key``), its findings are read back and nothing is evaluated; otherwise the evaluation
    runs inside ``warm`` and its findings are kept for the next run. Findings built from bytes that
    did not match their listed hash, or cut short by a rule's time limit, are not kept."""
    features = None if features is None else list(features)  # read twice: for the key, then the run
    key = engine.run_key(snapshot, config, features=features, today=today) if cache is not None else None
    if key is not None:
        found = cache.get_many("findings", [key]).get(key)
        if isinstance(found, Findings):
            engine.stats["findings_reused"] += 1
            return found
    with warm(engine, snapshot, config, cache, parallel=parallel):
        findings = engine.evaluate(snapshot, config, features=features, today=today, progress=progress)
    # not kept either: findings a rule's time limit cut short (they depend on the machine's speed)
    if key is not None and not getattr(snapshot, "unverified", ()) and not findings.timed_out:
        cache.put_many("findings", {key: findings})
    return findings
