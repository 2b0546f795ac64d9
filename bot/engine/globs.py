"""Glob matching for feature maps and rule packs (wcmatch semantics: **, {a,b}, dotfiles).

Globs are translated to regular expressions once; candidate paths are found by their literal
prefix in a sorted path list, so matching a feature's globs costs in proportion to the files
under that feature, not to the repository.
"""
from __future__ import annotations

import bisect
import re
from functools import lru_cache

import bracex
from wcmatch import glob as wcglob

FLAGS = wcglob.GLOBSTAR | wcglob.BRACE | wcglob.DOTGLOB
_MAGIC = re.compile(r"[*?\[{]")


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern:
    includes, _ = wcglob.translate(pattern, flags=FLAGS)
    return re.compile("|".join(f"(?:{p})" for p in includes))


def match(pattern: str, path: str) -> bool:
    return _compile(normalise(pattern)).match(path) is not None


def normalise(pattern: str) -> str:
    """Folder-style patterns (``internal/auth/`` or a bare folder) mean everything below it."""
    p = pattern.strip()
    while p.startswith("./"):
        p = p[2:]
    if p.endswith("/"):
        p += "**"
    return p


def escape(path: str) -> str:
    """A glob that matches exactly ``path``, whatever characters its name holds."""
    return wcglob.escape(path) if _MAGIC.search(path) else path


def literal_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard, cut back to a folder boundary."""
    p = normalise(pattern)
    m = _MAGIC.search(p)
    if not m:
        return p
    head = p[: m.start()]
    return head[: head.rfind("/") + 1]


def root_of(pattern: str) -> str:
    """The folder (or file) a code glob points at, for display and wiring: ``internal/auth``."""
    prefix = literal_prefix(pattern)
    return prefix.rstrip("/")


def needed_words(pattern: str) -> list[str] | None:
    """Words a path must hold (lower-cased) to match the glob: for each of its brace alternatives, its
    longest literal part ("test", ".yaml", "Dockerfile"). None when an alternative has none that long."""
    try:
        alternatives = bracex.expand(normalise(pattern), limit=256)
    except Exception:  # noqa: BLE001 - too many alternatives, or malformed: no shortcut
        return None
    out = []
    for alt in alternatives:
        if "\\" in alt:
            return None
        parts = [w.strip("/") for w in re.split(r"\[[^\]]*\]|[*?\[\]]", alt)]  # `**/` may match nothing
        word = max(parts, key=len, default="")
        if len(word) < 2:
            return None
        out.append(word.lower())
    return out


def check(pattern: str) -> str | None:
    """None if the glob compiles, else a reason."""
    if len(pattern) > 500:
        return "glob is longer than 500 characters"
    try:
        wcglob.translate(normalise(pattern), flags=FLAGS, limit=200)
    except Exception as exc:  # wcmatch raises several types for malformed or exploding braces
        return f"invalid glob: {exc}"
    return None


@lru_cache(maxsize=16384)
def _shape(pattern: str) -> tuple[str, str, str]:
    """(normalised glob, literal prefix, form): form is "path" (no wildcard), "folder" (``dir/**``) or
    "glob"; a glob with escapes keeps its own rules."""
    norm, prefix = normalise(pattern), literal_prefix(pattern)
    if "\\" in norm:
        return norm, prefix, "glob"
    if prefix == norm:
        return norm, prefix, "path"
    if norm == prefix + "**" and prefix.endswith("/"):
        return norm, prefix, "folder"
    return norm, prefix, "glob"


class PathIndex:
    """Sorted paths for prefix lookups."""

    def __init__(self, paths):
        self.paths = sorted(paths)

    def under(self, prefix: str) -> list[str]:
        if not prefix:
            return self.paths
        lo = bisect.bisect_left(self.paths, prefix)
        hi = bisect.bisect_left(self.paths, prefix + "\U0010ffff")
        return self.paths[lo:hi]

    def glob(self, pattern: str) -> list[str]:
        norm, prefix, form = _shape(pattern)
        if form == "path":  # that file (or nothing)
            i = bisect.bisect_left(self.paths, norm)
            return [norm] if i < len(self.paths) and self.paths[i] == norm else []
        cands = self.under(prefix)
        if form == "folder" or not cands:  # everything below it
            return cands
        rx = _compile(norm)
        return [p for p in cands if rx.match(p)]

    def glob_many(self, patterns) -> list[str]:
        out: dict[str, None] = {}
        for pat in patterns:
            for p in self.glob(pat):
                out[p] = None
        return list(out)
