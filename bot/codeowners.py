"""A repository's CODEOWNERS file: who owns which paths (pure).

GitHub reads the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS``. Each line is
a gitignore-style pattern followed by owners (``@user``, ``@org/team`` or an e-mail address); the
last pattern that matches a path wins, and a pattern with no owners leaves the path unowned. Two
rules differ from gitignore: ``docs/*`` owns only the files directly in ``docs/``, and there is no
``!`` negation (such lines are ignored, as GitHub ignores them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
MAX_BYTES = 3 * 1024 * 1024  # GitHub ignores a CODEOWNERS file larger than 3 MB
MAX_RULES = 5_000
_WORDS = re.compile(r"(?<!\\)\s+")


@dataclass(frozen=True)
class _Rule:
    pattern: GitIgnoreSpecPattern
    direct_only: bool  # "dir/*": the files directly in dir/, not below it
    owners: tuple[str, ...]


class CodeOwners:
    def __init__(self, path: str, rules: list[_Rule], skipped: int = 0):
        self.path = path  # the file the rules came from
        self.rules = rules
        self.skipped = skipped  # lines GitHub would not accept either (bad patterns, negations)

    def owners_of(self, path: str) -> tuple[str, ...]:
        """The owners of ``path`` (repository-relative; a folder ends with "/"): the last matching rule's."""
        for rule in reversed(self.rules):
            m = rule.pattern.match_file(path)
            if m is None:
                continue
            if rule.direct_only and m.match.groupdict().get("ps_d"):
                continue  # "docs/*" matched a folder inside docs/
            return rule.owners
        return ()

    def owners_for(self, paths, limit: int = 10) -> tuple[str, ...]:
        """The owners of several paths, in order of how many of them each owns (then first seen)."""
        counts: dict[str, int] = {}
        for p in paths:
            for o in self.owners_of(p):
                counts[o] = counts.get(o, 0) + 1
        return tuple(sorted(counts, key=lambda o: -counts[o])[:limit])


def parse(text: str, path: str = "CODEOWNERS") -> CodeOwners:
    """The rules of a CODEOWNERS file. Beyond MAX_RULES lines, the last ones are kept: the last
    matching rule wins, so those are the ones that decide."""
    rules: list[_Rule] = []
    skipped = 0
    lines = [ln for ln in (_strip_comment(raw).strip() for raw in text.splitlines()) if ln]
    if len(lines) > MAX_RULES:
        skipped += len(lines) - MAX_RULES
        lines = lines[-MAX_RULES:]
    for line in lines:
        parts = _WORDS.split(line)  # "\ " is a space inside a pattern
        pattern = parts[0].replace("\\ ", " ")
        owners = tuple(o for o in parts[1:] if _owner(o))
        if pattern.startswith("!") or "[" in pattern:
            skipped += 1
            continue
        try:
            compiled = GitIgnoreSpecPattern(pattern)
        except Exception:  # noqa: BLE001 - pathspec's errors differ by version; a bad line is skipped
            skipped += 1
            continue
        if compiled.include is None:
            skipped += 1
            continue
        rules.append(_Rule(compiled, pattern.endswith("/*") and "*" not in pattern[:-1], owners))
    return CodeOwners(path, rules, skipped)


def _strip_comment(line: str) -> str:
    """A line without its comment; "\\#" is a literal "#"."""
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == "#":
            out.append("#")
            i += 2
            continue
        if ch == "#":
            break
        out.append(ch)
        i += 1
    return "".join(out)


def _owner(token: str) -> bool:
    return (token.startswith("@") and len(token) > 1) or ("@" in token and "." in token.split("@")[-1])


def users(owners) -> list[str]:
    """The owners that can be assigned an issue: people (``@login``), not teams or e-mail addresses."""
    return [o[1:] for o in owners if o.startswith("@") and "/" not in o]


def find(snapshot_paths) -> str | None:
    """The CODEOWNERS file GitHub reads, among ``snapshot_paths``."""
    present = set(snapshot_paths)
    return next((p for p in PATHS if p in present), None)
