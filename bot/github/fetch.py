"""Snapshots of a commit on GitHub: the tree (every path and blob sha) plus only the blobs a job
needs. Blobs are cached by (installation, blob sha), so a file is downloaded once however many
commits and pull requests share it."""
from __future__ import annotations

import asyncio
import base64
import logging
import tarfile
import tempfile
import time
import zlib

import aiohttp
from cachetools import LRUCache

from ..engine.model import Skipped
from ..engine.snapshot import DEFAULT_SIZE_CAP, FileEntry, Snapshot, blob_sha

log = logging.getLogger(__name__)

FETCH_CONCURRENCY = 8
BLOB_CACHE_BYTES = 256 * 1024 * 1024
# More blobs than this to fetch: download the commit's archive once instead (one request, however
# large the repository: a full scan of 3,000 files would otherwise spend 3,000 of the installation's
# 5,000 requests an hour).
ARCHIVE_AFTER = 40
# A small repository's archive is cheap to download: past a few blobs, one request does instead.
ARCHIVE_SMALL_AFTER = 5
ARCHIVE_SMALL_BYTES = 16 * 1024 * 1024  # the files of the tree, uncompressed
ARCHIVE_MAX_TREE_BYTES = 64 * 1024 * 1024  # a larger tree is fetched blob by blob (and never fills the cache)
ARCHIVE_MAX_BYTES = 512 * 1024 * 1024  # compressed download, at most
ARCHIVE_RETRY_AFTER = 600.0  # an archive that could not be had is not asked for again this soon
ARCHIVE_MAX_FILES = 300_000
ARCHIVE_TIMEOUT = 300.0


class BlobCache:
    def __init__(self, max_bytes: int = BLOB_CACHE_BYTES):
        self._cache: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda b: len(b) + 64)
        self.archive_failed: LRUCache = LRUCache(maxsize=1024)  # (repository, commit) → when its archive failed

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
    many were downloaded. Many at once come from one archive of the commit; what the archive does
    not hold as the tree says (export-ignore, export-subst) is fetched blob by blob."""
    wanted = sorted(set(paths))

    def missing() -> list[FileEntry]:
        todo = []
        for p in wanted:
            entry = snapshot.entry(p)
            if entry is None or snapshot.available(p):
                continue
            data = cache.get(installation, entry.sha)
            if data is not None:
                snapshot.provide(p, data)
            else:
                todo.append(entry)
        return todo

    todo = missing()
    got = 0
    if len(todo) > ARCHIVE_AFTER or (len(todo) > ARCHIVE_SMALL_AFTER and _tree_bytes(snapshot) <= ARCHIVE_SMALL_BYTES):
        got = await from_archive(gh, repo, installation, snapshot, cache)
        todo = missing()
    sem = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(entry: FileEntry) -> None:
        async with sem:
            blob = await gh.getitem("/repos/{+repo}/git/blobs/{sha}", {"repo": repo, "sha": entry.sha})
        data = base64.b64decode(blob.get("content", "")) if blob.get("encoding") == "base64" else \
            str(blob.get("content", "")).encode()
        cache.put(installation, entry.sha, data)
        snapshot.provide(entry.path, data)

    await asyncio.gather(*(one(e) for e in todo))
    return len(todo) + got


async def prefetch(gh, repo: str, installation: int, snapshot: Snapshot, cache: BlobCache, *,
                   everything: bool = False) -> int:
    """Before a job reads a commit's files in several rounds, take them from one archive now when that
    is cheaper: for a job that reads ``everything`` (a full scan) past a few dozen files, else for a
    small repository with more than a few files new to the blob cache. Returns how many were kept."""
    if everything:
        return await from_archive(gh, repo, installation, snapshot, cache) if len(snapshot) > ARCHIVE_AFTER else 0
    if _tree_bytes(snapshot) > ARCHIVE_SMALL_BYTES:
        return 0
    new = 0
    for e in snapshot:
        if cache.get(installation, e.sha) is None:
            new += 1
            if new > ARCHIVE_SMALL_AFTER:
                return await from_archive(gh, repo, installation, snapshot, cache)
    return 0


class _TooLarge(Exception):
    pass


def _tree_bytes(snapshot: Snapshot) -> int:
    """The size of the commit's files; files over the size cap (listed as skipped, sizes unknown)
    count as the whole archive budget, so a tree with many of them is not archived."""
    return sum(e.size for e in snapshot) + ARCHIVE_SMALL_BYTES * sum(1 for s in snapshot.skipped
                                                                      if s.reason.startswith("larger than"))



async def from_archive(gh, repo: str, installation: int, snapshot: Snapshot, cache: BlobCache) -> int:
    """Download the archive of the snapshot's commit (GitHub's tarball: one API request, then the
    download it redirects to) and keep every file in it that matches the tree — same path, same
    blob hash — in the blob cache. Returns how many were kept; 0 when the archive could not be had
    (the caller fetches blob by blob then). Symlinks, links and special files are never read; sizes
    are capped like a checkout's."""
    if getattr(snapshot, "archive_read", False) or not snapshot.commit:
        return 0
    snapshot.archive_read = True  # once per snapshot, whatever comes of it
    failed_at = cache.archive_failed.get((repo, snapshot.commit))
    if failed_at is not None and time.monotonic() - failed_at < ARCHIVE_RETRY_AFTER:
        return 0
    tree = _tree_bytes(snapshot)
    if tree > ARCHIVE_MAX_TREE_BYTES:
        return 0
    wanted = {e.path: e.sha for e in snapshot if not snapshot.available(e.path)}
    url = f"{gh.base_url}/repos/{repo}/tarball/{snapshot.commit}"
    headers = {"Authorization": f"token {gh.oauth_token}", "User-Agent": gh.requester,
               "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    session: aiohttp.ClientSession = gh._session
    timeout = aiohttp.ClientTimeout(total=ARCHIVE_TIMEOUT)
    try:
        async with session.get(url, headers=headers, allow_redirects=False, timeout=timeout) as r:
            if getattr(gh, "metrics", None) is not None:
                gh.metrics.observe_api("GET", r.status, r.headers)
            if r.status not in (301, 302, 307) or not r.headers.get("Location"):
                log.info("archive not available", extra={"repo": repo, "status": r.status})
                return 0
            location = r.headers["Location"]
        # the download address carries its own short-lived token: the installation's is not sent there
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
            async with session.get(location, headers={"User-Agent": gh.requester}, timeout=timeout) as r:
                if r.status != 200:
                    log.info("archive download refused", extra={"repo": repo, "status": r.status})
                    return 0
                size, cap = 0, min(ARCHIVE_MAX_BYTES, tree + 16 * 1024 * 1024)  # gzip only makes it smaller
                async for chunk in r.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > cap:
                        raise _TooLarge(f"larger than the files it holds ({cap // 2**20} MB)")
                    spool.write(chunk)
            spool.seek(0)
            found = await asyncio.to_thread(read_archive, spool, wanted, max(_size_cap(snapshot), 1),
                                            2 * tree + 16 * 1024 * 1024)
    except (aiohttp.ClientError, asyncio.TimeoutError, tarfile.TarError, zlib.error, OSError, EOFError, _TooLarge) as exc:
        cache.archive_failed[(repo, snapshot.commit)] = time.monotonic()
        # the class and status only: an aiohttp error's text can hold the signed download address
        why = str(exc) if isinstance(exc, (_TooLarge, tarfile.TarError)) else \
            f"{exc.__class__.__name__}{' ' + str(exc.status) if hasattr(exc, 'status') else ''}"
        log.warning("archive download failed; fetching files one by one", extra={"repo": repo, "error": why})
        return 0
    for path, data in found.items():
        cache.put(installation, wanted[path], data)
    return len(found)


def _size_cap(snapshot: Snapshot) -> int:
    return max((e.size for e in snapshot), default=0)


def read_archive(fileobj, wanted: dict[str, str], size_cap: int, max_bytes: int = 2**62) -> dict[str, bytes]:
    """path → bytes for the regular files of a (gzipped) tar archive that ``wanted`` lists with the
    same blob hash. GitHub's archives put every path under one top folder, which is dropped. Read as
    a stream: nothing is extracted to disk, and no member's name is trusted as a path. Reading stops
    past ``max_bytes`` of members (an archive that unpacks to far more than its tree is not one)."""
    out: dict[str, bytes] = {}
    total = scanned = 0
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for n, member in enumerate(tar):
            scanned += member.size
            if n >= ARCHIVE_MAX_FILES or scanned > max_bytes:
                break
            if not member.isreg() or "/" not in member.name:
                continue
            path = member.name.split("/", 1)[1]
            sha = wanted.get(path)
            if sha is None or member.size > size_cap or total + member.size > BLOB_CACHE_BYTES:
                continue
            handle = tar.extractfile(member)
            data = handle.read() if handle is not None else b""
            if blob_sha(data) == sha:  # as the tree says: not changed by export-subst or line endings
                out[path] = data
                total += len(data)
    return out
