"""Matching a requirement's anchors against the code: met, partial or missing, with path:line.

Two scopes are searched: the feature's own (non-test) code, where an anchor is *met*, and
everything else — other code, tests, comments, docs — where it is only *partial*. The
repository-wide scope is searched once per analysis for all wanted anchors together.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from .index import FileIndex, norm_route
from .model import Anchor, Evidence, Kind, Requirement, RequirementResult, Status

MAX_EVIDENCE = 3


def anchor_names(a: Anchor) -> tuple[str, ...]:
    """The names a symbol anchor can be found under: full, without (), last component."""
    s = a.value[:-2] if a.value.endswith("()") else a.value
    names = [s]
    last = re.split(r"\.|::|#|->", s)[-1]
    if last != s:
        names.append(last)
    return tuple(dict.fromkeys(names))


def flag_names(a: Anchor) -> tuple[str, ...]:
    bare = a.value.lstrip("-")
    return (bare, "--" + bare, "-" + bare)


def split_endpoint(a: Anchor) -> tuple[str | None, str]:
    method, _, path = a.value.partition(" ")
    return (None if method == "ANY" else method), norm_route(path)


def route_suffixes(norm: str) -> list[str]:
    """/api/v1/agents/{}/x → [/api/v1/agents/{}/x, /v1/agents/{}/x, /agents/{}/x]: routers mount prefixes."""
    segs = norm.strip("/").split("/")
    out = []
    for i in range(len(segs)):
        rest = segs[i:]
        if i and (len(rest) < 2 or all(s == "{}" for s in rest)):
            break
        out.append("/" + "/".join(rest))
    return out


@dataclass
class Hit:
    path: str
    line: int
    how: str  # defined, string, used, comment, doc, test, route
    name: str = ""


@dataclass
class Wanted:
    names: set[str] = field(default_factory=set)
    routes: set[str] = field(default_factory=set)


class RepoLookup:
    """Repository-wide occurrences of the wanted names and routes, gathered in one pass."""

    def __init__(self, wanted: Wanted, files: dict[str, FileIndex], is_test):
        self.names: dict[str, list[Hit]] = {}
        self.routes: dict[str, list[tuple[str | None, Hit]]] = {}
        names, routes = wanted.names, wanted.routes
        for path, fi in files.items():
            if fi.kind == "doc":
                for n in names & fi.tokens:
                    self._add(self.names, n, Hit(path, 0, "doc", n))
                continue
            if fi.kind != "code":
                continue
            test = is_test(path)
            if names:
                for n in names & fi.defs.keys():
                    self._add(self.names, n, Hit(path, fi.defs[n], "test" if test else "defined", n))
                for n in names & fi.strings.keys():
                    self._add(self.names, n, Hit(path, fi.strings[n], "test" if test else "string", n))
                for n in names & fi.tokens:
                    self._add(self.names, n, Hit(path, 0, "test" if test else "used", n))
                for n in names & fi.comment_tokens:
                    self._add(self.names, n, Hit(path, 0, "comment", n))
            if routes:
                for r in fi.routes:
                    if r.norm in routes:
                        self.routes.setdefault(r.norm, []).append((r.method, Hit(path, r.line, "test" if test else "route")))

    @staticmethod
    def _add(d, key, hit, cap=50):
        lst = d.setdefault(key, [])
        if len(lst) < cap:
            lst.append(hit)


@dataclass
class Scope:
    """The feature's own files and what the rest of the repository offers."""

    feature: str
    code: dict[str, FileIndex]  # non-test code files of the feature
    tests: dict[str, FileIndex]
    all_paths: set[str]
    dirs: set[str]
    basenames: dict[str, list[str]]
    repo: RepoLookup
    code_roots: tuple[str, ...]
    spec_paths: tuple[str, ...]
    locate: object = None  # (path, name) -> first line that names it, or 0

    def describe(self) -> str:
        roots = ", ".join(f"{r}/" for r in self.code_roots) or "no code folder"
        n = len(self.code)
        return f"{n} code file{'' if n == 1 else 's'} in {roots}, then the rest of the repository"


def _in_feature(scope: Scope, hits: list[Hit], hows: tuple[str, ...]) -> list[Hit]:
    return [h for h in hits if h.path in scope.code and h.how in hows]


def _ev(h: Hit, note: str, scope: "Scope | None" = None) -> Evidence:
    line = h.line
    if not line and h.name and scope is not None and scope.locate:
        line = scope.locate(h.path, h.name)
    return Evidence(h.path, line, note)


def match_anchor(a: Anchor, scope: Scope) -> tuple[Status, list[Evidence], str]:
    if a.kind is Kind.ENDPOINT:
        return _match_endpoint(a, scope)
    if a.kind is Kind.PATH:
        return _match_path(a, scope)
    if a.kind is Kind.FLAG:
        return _match_names(a, flag_names(a), scope, string_ok=True)
    return _match_names(a, anchor_names(a), scope,
                        string_ok=a.subkind in ("env", "config", "metric", "word", "identifier"),
                        read_ok=a.subkind == "env")


def _match_endpoint(a: Anchor, scope: Scope):
    method, norm = split_endpoint(a)
    candidates = []
    for i, suffix in enumerate(route_suffixes(norm)):
        for m, h in scope.repo.routes.get(suffix, []):
            candidates.append((i, m, h))
    if not candidates:
        return Status.MISSING, [], f"no route registration matches {a.value.partition(' ')[2]}"
    ok_method = [c for c in candidates if method is None or c[1] is None or c[1] == method]
    inside = [c for c in ok_method if c[2].path in scope.code]
    if inside:
        inside.sort(key=lambda c: (c[0], c[1] is None))
        i, m, h = inside[0]
        note = "route registered" + (" under a router prefix" if i else "")
        return Status.MET, [_ev(h, note)], ""
    wrong_method = [c for c in candidates if c[2].path in scope.code and c not in ok_method]
    if wrong_method:
        _, m, h = wrong_method[0]
        return Status.PARTIAL, [_ev(h, f"registered for {m}, spec says {method}")], f"method differs ({m} ≠ {method})"
    elsewhere = [c for c in ok_method if c[2].how == "route"]
    if elsewhere:
        _, m, h = elsewhere[0]
        return Status.PARTIAL, [_ev(h, "route registered outside the feature's code")], "registered outside the feature"
    _, m, h = candidates[0]
    return Status.PARTIAL, [_ev(h, "only in tests")], "only tests register it"


def _match_path(a: Anchor, scope: Scope):
    p = a.value.rstrip("/")
    candidates = [p] + [f"{r}/{p}" for r in scope.code_roots]
    for c in candidates:
        if c in scope.all_paths:
            return Status.MET, [Evidence(c, 0, "file exists")], ""
        if c in scope.dirs:
            return Status.MET, [Evidence(c + "/", 0, "folder exists")], ""
    others = scope.basenames.get(posixpath.basename(p), [])
    if others:
        return Status.PARTIAL, [Evidence(o, 0, "a file of that name exists elsewhere") for o in others[:MAX_EVIDENCE]], \
            f"not at {p}"
    return Status.MISSING, [], f"no file or folder {p} in the repository"


def _match_names(a: Anchor, names: tuple[str, ...], scope: Scope, string_ok: bool, read_ok: bool = False):
    hits: list[Hit] = []
    for n in names:
        hits.extend(scope.repo.names.get(n, []))
    for how, note in (("defined", "defined"), ("string", "named in code"), ("used", "read (process.env / settings)")):
        if (how == "string" and not string_ok) or (how == "used" and not read_ok):
            continue
        inside = _in_feature(scope, hits, (how,))
        if inside:
            return Status.MET, [_ev(h, note, scope) for h in inside[:MAX_EVIDENCE]], ""
    defined_anywhere = any(h.how == "defined" for h in hits)
    used_here = [h for h in hits if h.how == "used" and h.path in scope.code]
    if used_here and not defined_anywhere:  # a library's symbol: the feature uses what the spec names
        return Status.MET, [_ev(h, "used in the feature's code (defined outside the repository)", scope)
                            for h in used_here[:MAX_EVIDENCE]], ""
    ranked = [
        ("used", "used in the feature's code, not defined there", True),
        ("string", "named in the feature's code", True),
        ("defined", "defined outside the feature's code", False),
        ("string", "named outside the feature's code", False),
        ("used", "used outside the feature's code", False),
        ("test", "mentioned only in tests", None),
        ("comment", "mentioned only in comments", None),
        ("doc", "mentioned only in docs", None),
    ]
    for how, note, in_feature in ranked:
        sel = [h for h in hits if h.how == how and h.path not in scope.spec_paths and
               (in_feature is None or (h.path in scope.code) == in_feature)]
        if sel:
            return Status.PARTIAL, [_ev(h, note, scope) for h in sel[:MAX_EVIDENCE]], note
    return Status.MISSING, [], "nothing in the repository defines, names or mentions it"


def _vague_and_absent(a: Anchor, scope: Scope) -> bool:
    """A backticked plain word (`postgres`, `pending`) that nothing names is more likely a tool or a
    value than a missing symbol: it does not count, rather than count as a false gap."""
    if a.kind is not Kind.SYMBOL or a.subkind != "word":
        return False
    return not any(h.path not in scope.spec_paths for h in scope.repo.names.get(a.value, ()))


def evaluate_requirement(req: Requirement, scope: Scope, scenario_match) -> RequirementResult:
    searched = scope.describe()
    if not req.anchors:
        if req.kind in (Kind.SCENARIO, Kind.OPENSPEC_SCENARIO) and req.label:
            ev = scenario_match(req.label)
            if ev:
                return RequirementResult(req, Status.MET, (ev,), f"tests of {scope.feature}", "a test names this scenario")
            return RequirementResult(req, Status.UNVERIFIABLE, (), f"tests of {scope.feature}",
                                     "no anchors, and no test names this scenario")
        return RequirementResult(req, Status.UNVERIFIABLE, (), "", "no concrete anchor to check")
    statuses, evidence, details = [], [], []
    anchors = [a for a in req.anchors if not _vague_and_absent(a, scope)]
    if not anchors:
        return RequirementResult(req, Status.UNVERIFIABLE, (), searched,
                                 "names only plain words that nothing in the repository uses (tools or values?)")
    for a in anchors:
        st, ev, why = match_anchor(a, scope)
        statuses.append(st)
        evidence.extend(ev)
        if st is not Status.MET:
            details.append(f"{a.value}: {why}" if len(anchors) > 1 else why)
    if all(s is Status.MET for s in statuses):
        status = Status.MET
    elif all(s is Status.MISSING for s in statuses):
        status = Status.MISSING
    else:
        status = Status.PARTIAL
    return RequirementResult(req, status, tuple(evidence[: MAX_EVIDENCE * 2]), searched, "; ".join(details))
