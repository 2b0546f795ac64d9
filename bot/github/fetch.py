"""Snapshots of a commit on GitHub: the tree (every path and blob sha) plus only the blobs a job
needs. Blobs are cached by (installation, blob sha), so a file is downloaded once however many
commits and pull requests share it."""
from __future__ import annotations

import asyncio
import base64
import logging

from cachetools import LRUCache

from ..engine.model import Skipped
from ..engine.snapshot import DEFAULT_SIZE_CAP, FileEntry, Snapshot

log = logging.getLogger(__name__)

FETCH_CONCURRENCY = 8
BLOB_CACHE_BYTES = 256 * 1024 * 1024


class BlobCache:
    def __init__(self, max_bytes: int = BLOB_CACHE_BYTES):
        self._cache: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda b: len(b) + 64)

    def get(self, installation: int, sha: str) -> bytes | None:
        return self._cache.get((installation, sha))

    def put(self, installation: int, sha: str, data: bytes) -> None:
        if len(data) < self._cache.maxsize:
            self._cache[(installation, sha)] = data


async def tree(gh, repo: str, commit_sha: str) -> list[dict]:
    """Every blob of a commit's tree. When GitHub truncates the recursive listing, the tree is
    walked one folder at a time instead."""
    data = await gh.getitem("/repos/{+repo}/git/trees/{sha}{?recursive}",
                            {"repo": repo, "sha": commit_sha, "recursive": "1"})
    if not data.get("truncated"):
        return [e for e in data["tree"] if e.get("type") in ("blob", "commit")]
    log.info("tree truncated, walking folders", extra={"repo": repo})
    out: list[dict] = []
    stack = [("", commit_sha)]
    while stack:
        prefix, sha = stack.pop()
        sub = await gh.getitem("/repos/{+repo}/git/trees/{sha}", {"repo": repo, "sha": sha})
        for e in sub["tree"]:
            path = prefix + e["path"]
            if e["type"] == "tree":
                stack.append((path + "/", e["sha"]))
            else:
                out.append({**e, "path": path})
    return out


def snapshot_from_tree(entries: list[dict], commit_sha: str, size_cap: int = DEFAULT_SIZE_CAP) -> Snapshot:
    files, skipped = [], []
    for e in entries:
        path, mode = e["path"], e.get("mode", "100644")
        if e.get("type") == "commit":
            skipped.append(Skipped(path, "submodule (not read)"))
        elif mode == "120000":
            skipped.append(Skipped(path, "symlink (not followed)"))
        elif (e.get("size") or 0) > size_cap:
            skipped.append(Skipped(path, f"larger than {size_cap // 1024} KiB"))
        else:
            files.append(FileEntry(path, e["sha"], e.get("size") or 0))
    return Snapshot(files, skipped=skipped, commit=commit_sha, partial=True)


async def fill(gh, repo: str, installation: int, snapshot: Snapshot, paths, cache: BlobCache) -> int:
    """Download the blobs of ``paths`` that neither the snapshot nor the cache holds. Returns how
    many were downloaded."""
    todo = []
    for p in sorted(set(paths)):
        entry = snapshot.entry(p)
        if entry is None or snapshot.available(p):
            continue
        data = cache.get(installation, entry.sha)
        if data is not None:
            snapshot.provide(p, data)
        else:
            todo.append(entry)
    sem = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(entry: FileEntry) -> None:
        async with sem:
            blob = await gh.getitem("/repos/{+repo}/git/blobs/{sha}", {"repo": repo, "sha": entry.sha})
        data = base64.b64decode(blob.get("content", "")) if blob.get("encoding") == "base64" else \
            str(blob.get("content", "")).encode()
        cache.put(installation, entry.sha, data)
        snapshot.provide(entry.path, data)

    await asyncio.gather(*(one(e) for e in todo))
    return len(todo)
