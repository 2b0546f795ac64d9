"""A snapshot is the engine's only view of a repository: paths, blob hashes and bytes.

It is pure data. Where the bytes come from (a local checkout, the GitHub API) is the
caller's business; see ``bot.checkout`` for the local one.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from .model import Skipped

# Files larger than this are skipped and counted, never parsed.
DEFAULT_SIZE_CAP = 1024 * 1024


def blob_sha(data: bytes) -> str:
    """The git blob hash of ``data`` (what ``git hash-object`` prints)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


@dataclass(frozen=True)
class FileEntry:
    path: str  # repo-relative, forward slashes
    sha: str  # blob hash: the cache key for everything derived from the content
    size: int


class Snapshot:
    """Paths → entries, plus a way to get the bytes of an entry when they are needed.

    ``loader(path) -> bytes`` is called at most once per path; the result is kept only as
    long as the snapshot lives. Entries listed in ``skipped`` are known to exist but were
    not read (binary, too large, unreadable); they still count as "the path exists".
    """

    def __init__(
        self,
        entries: Iterable[FileEntry],
        loader: Callable[[str], bytes] | None = None,
        *,
        contents: Mapping[str, bytes] | None = None,
        skipped: Iterable[Skipped] = (),
        commit: str | None = None,
        root_label: str = ".",
        partial: bool = False,
    ):
        self._entries: dict[str, FileEntry] = {e.path: e for e in entries}
        self._loader = loader
        self._contents: dict[str, bytes] = dict(contents or {})
        self.skipped: tuple[Skipped, ...] = tuple(skipped)
        self._skipped_paths = {s.path for s in self.skipped}
        self.commit = commit
        self.root_label = root_label
        # A partial snapshot knows every path and blob hash but holds the bytes of only some files
        # (the GitHub adapter fetches what the touched features need); the rest are unavailable.
        self.partial = partial

    @classmethod
    def from_texts(cls, files: Mapping[str, str | bytes], **kw) -> "Snapshot":
        """Build a snapshot from in-memory contents (tests, the GitHub adapter)."""
        data = {p: (v.encode("utf-8") if isinstance(v, str) else v) for p, v in files.items()}
        entries = [FileEntry(p, blob_sha(b), len(b)) for p, b in data.items()]
        return cls(entries, contents=data, **kw)

    def __contains__(self, path: str) -> bool:
        return path in self._entries or path in self._skipped_paths

    def __iter__(self) -> Iterator[FileEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def paths(self) -> list[str]:
        return list(self._entries)

    def all_paths(self) -> list[str]:
        """Readable paths and skipped ones: everything that exists."""
        return list(self._entries) + [s.path for s in self.skipped]

    def entry(self, path: str) -> FileEntry | None:
        return self._entries.get(path)

    def provide(self, path: str, data: bytes) -> None:
        """Hand over the bytes of a listed file (the GitHub adapter fills partial snapshots)."""
        self._contents[path] = data

    def available(self, path: str) -> bool:
        """Can read() return this file's bytes? Always, unless the snapshot is partial."""
        return not self.partial or path in self._contents

    def fetched(self):
        """The paths whose bytes are at hand (of a partial snapshot: what was fetched), as a set-like view."""
        return self._contents.keys() if self.partial else self._entries.keys()

    def read(self, path: str) -> bytes:
        data = self._contents.get(path)
        if data is None:
            if self._loader is None:
                raise KeyError(path)
            data = self._loader(path)
            self._contents[path] = data
        return data

    def with_changes(self, changed: Mapping[str, str | bytes | None]) -> "Snapshot":
        """A new snapshot with some files replaced, added (bytes/str) or deleted (None)."""
        entries = dict(self._entries)
        contents: dict[str, bytes] = {}
        for path, value in changed.items():
            if value is None:
                entries.pop(path, None)
                continue
            b = value.encode("utf-8") if isinstance(value, str) else value
            entries[path] = FileEntry(path, blob_sha(b), len(b))
            contents[path] = b
        base = self

        def loader(p: str) -> bytes:
            return contents[p] if p in contents else base.read(p)

        return Snapshot(entries.values(), loader, skipped=self.skipped, commit=None, root_label=self.root_label)


def line_counts(snapshot: Snapshot, paths) -> dict[str, int]:
    """Lines of each of ``paths`` that the snapshot holds (files gone, or not fetched, are left out)."""
    out = {}
    for p in paths:
        if snapshot.entry(p) is not None and snapshot.available(p):
            data = snapshot.read(p)
            out[p] = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return out


def changed_paths(base: Snapshot, head: Snapshot) -> list[str]:
    """Paths added, removed or changed between two snapshots, by blob hash: exact, with no limit on
    the number of files (GitHub's own listings stop at 300 or 3,000)."""
    out = []
    for p in set(base.all_paths()) | set(head.all_paths()):
        a, b = base.entry(p), head.entry(p)
        if (a.sha if a else None) != (b.sha if b else None):
            out.append(p)
    return sorted(out)


@dataclass
class Decoded:
    text: str
    lossy: bool = False  # invalid UTF-8 replaced
    binary: bool = False


def decode(data: bytes) -> Decoded:
    """Bytes → text. NUL bytes mean binary; invalid UTF-8 is replaced, and said so."""
    if b"\0" in data[:8192]:
        return Decoded("", binary=True)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Decoded(data.decode("utf-8", errors="replace"), lossy=True)
