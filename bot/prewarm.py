"""Index a large checkout on all cores before the engine evaluates it.

The engine is pure and single-threaded; indexing every file of a cold checkout is most of a full
report's time. Here the files are split between this process and forked workers: each worker
builds the indexes of its share (the snapshot is inherited through fork) and sends them back,
and the engine adopts them. Small checkouts, and systems without fork, skip this.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os

from .engine import Engine
from .engine.config import Config
from .engine.index import build_index
from .engine.snapshot import Snapshot

log = logging.getLogger(__name__)
MIN_FILES = 2000  # below this, starting a worker costs more than it saves

_job: tuple | None = None  # (snapshot, ruleset) for the forked workers


def _work(paths: list[str]) -> list:
    snapshot, ruleset = _job
    return [(p, build_index(p, snapshot.read(p), ruleset)) for p in paths]


def prewarm(engine: Engine, snapshot: Snapshot, config: Config, workers: int | None = None) -> int:
    """Index the files a full evaluation needs, in parallel. Returns how many were indexed here."""
    global _job
    ruleset, todo = engine.unindexed(snapshot, config)
    cores = workers or (os.cpu_count() or 1)
    if len(todo) < MIN_FILES or cores < 2 or "fork" not in mp.get_all_start_methods():
        return 0
    shares = [todo[i::cores] for i in range(cores)]
    _job = (snapshot, ruleset)
    try:
        ctx = mp.get_context("fork")
        with ctx.Pool(cores - 1) as pool:
            pending = [pool.apply_async(_work, (share,)) for share in shares[1:]]
            for p in shares[0]:  # this process takes its own share meanwhile
                engine.file_index(snapshot, p, ruleset)
            for result in pending:
                for p, fi in result.get():
                    engine.adopt(snapshot, ruleset, p, fi)
    except (OSError, mp.ProcessError) as exc:  # no fork, no pipes: the engine indexes on its own
        log.warning("parallel indexing unavailable", extra={"error": str(exc)})
        return 0
    finally:
        _job = None
    return len(todo)
