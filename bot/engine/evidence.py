"""Matching a requirement against the code: met, partial or missing, with path:line and a confidence.

Two scopes are searched: the feature's own (non-test) code, where an anchor is *met*, and the rest
of the repository. *Partial* has real reasons only: the thing exists but only in tests, only some
of its named parts exist, it is stubbed, it is defined but nothing uses it, it lives elsewhere than
the spec says, or the route is registered under another method. Mentioned only in docs or comments
is *missing*. Prose requirements are judged by retrieval over the code's terms (``retrieval``).
The rest of the repository is read through its lookup (``lookup.RepoLookup``): every wanted name, route
and term found in one pass, and kept up to date from one version of the repository to the next.
"""
from __future__ import annotations

import bisect
import difflib
import posixpath
import re
from dataclasses import dataclass, field, replace

from . import retrieval
from .index import FileIndex, norm_route, resolve_ref
from .lookup import Hit, RepoLookup, _symbols
from .model import Anchor, Evidence, Kind, Requirement, RequirementResult, Status
from .terms import split_identifier

MAX_EVIDENCE = 3
# a requirement about the infrastructure (its manifests, images, charts) is judged against those files too
_INFRA_WORDS = re.compile(r"\b(?:kubernetes|k8s|kubectl|helm|manifests?|pods?|probes?|replicas?|dockerfile|docker|"
                          r"compose|terraform|kustomize|autoscal\w*)\b", re.I)
_INFRA_KINDS = re.compile(r"\b(?:Deployment|ConfigMap|Secret|StatefulSet|DaemonSet|CronJob|Ingress|Service|"
                          r"HorizontalPodAutoscaler|PersistentVolumeClaim|ServiceMonitor|Namespace)\b")


def about_infra(text: str) -> bool:
    """Does a requirement's sentence speak of infrastructure (Kubernetes objects, images, charts)?"""
    return bool(_INFRA_WORDS.search(text) or _INFRA_KINDS.search(text))


_METRIC_SUFFIX = re.compile(r"_(?:total|seconds|count|bytes|ms|ratio|bucket|sum|gauge|info|histogram)$")


_SHELL_VAR = re.compile(r"\$\{?[A-Z][A-Z0-9_]*\}?")  # `$PWD`, `${HOME}`


def anchor_names(a: Anchor) -> tuple[str, ...]:
    """The names a symbol anchor can be found under: full, without (), last component, its owner."""
    s = a.value[:-2] if a.value.endswith("()") else a.value
    names = [s]
    last = re.split(r"\.|::|#|->", s)[-1]
    if last != s:
        names.append(last)
    if _SHELL_VAR.fullmatch(s):  # `$PWD`: the variable, as the code reads it
        names.append(s.strip("${}"))
    if a.owner and re.match(r"^[A-Za-z_]\w*$", a.owner):
        names.append(a.owner)
    if a.subkind == "metric":
        core = _METRIC_SUFFIX.sub("", s)
        if core != s:
            names.append(core)
    if a.subkind == "state":
        names += [s.lower(), s.upper()]
        for p in a.parts:  # the diagram's other states, to tell which enum it draws
            names += [p.upper(), p.lower(), p.capitalize()]
    return tuple(dict.fromkeys(n for n in names if n))


def flag_names(a: Anchor) -> tuple[str, ...]:
    bare = a.value.lstrip("-")
    return (bare, "--" + bare, "-" + bare, bare.replace("_", "-"), "--" + bare.replace("_", "-"),
            bare.replace("-", "_"))


def command_names(a: Anchor) -> tuple[str, ...]:
    out = []
    for p in a.parts[1:]:
        if p.startswith("--"):
            out += [p, p[2:], p[2:].replace("-", "_")]
        else:
            out += [p, p.replace("-", "_")]
    if a.subkind == "program" and a.parts:
        out.append(a.parts[0])
    return tuple(dict.fromkeys(out))


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


def route_tails(norm: str) -> list[str]:
    """/api/users/{} → [/users/{}, /{}, /]: what a router registers when it is mounted at the rest
    (``_mounted``); with ``route_suffixes``, what the lookup keeps."""
    segs = norm.strip("/").split("/")
    return ["/" + "/".join(segs[i:]) for i in range(1, len(segs))] + ["/"]


def _mounted(norm: str, scope: "Scope") -> list[tuple[int, str | None, Hit, Hit]]:
    """Routes registered on a router that a file mounts under the rest of the path and imports from
    the route's file (``app.use('/api/users', users)``, ``users`` registering ``/:id``):
    (1, method, route hit, mount hit)."""
    if not scope.repo.mounts:
        return []
    segs = norm.strip("/").split("/")
    out = []
    for j in range(len(segs)):  # (the application itself may sit under a prefix set elsewhere)
        for k in range(j + 1, len(segs) + 1):
            mounts = scope.repo.mounts.get("/" + "/".join(segs[j:k]))
            if not mounts:
                continue
            rest = "/" + "/".join(segs[k:])
            routes = scope.repo.routes.get(rest, [])
            for _, mount in mounts:
                imported = _imported_by(mount.path, scope)
                out.extend((1, m, h, mount) for m, h in routes if h.path != mount.path and _in_modules(h.path, imported))
    return out


def _imported_by(path: str, scope: "Scope"):
    """What the file at ``path`` imports: (targets, the names it uses, whether a folder is a package)."""
    fi = scope.repo._files.get(path)
    if fi is None or fi.kind != "code":
        return [], frozenset(), False
    return [resolve_ref(r, path) for r in fi.refs], fi.tokens, fi.lang == "go"


def _in_modules(path: str, imported) -> bool:
    """Is ``path`` a module the importing file imports? A folder it imports holds the module when the
    folder is the package (Go), the file is the folder's own (index.js, __init__.py), or the importer
    names the file's module (``from . import orders`` … ``orders.router``)."""
    targets, names, folders_are_packages = imported
    mod, folder = posixpath.splitext(path)[0], posixpath.dirname(path)
    stem = posixpath.basename(mod)
    for t, relative in targets:
        if not t:
            continue
        if t == mod or (not relative and mod.endswith("/" + t)):
            return True
        if (t == folder or (not relative and (folder.endswith("/" + t) or t.endswith("/" + folder)))) and \
                (folders_are_packages or stem in ("index", "__init__") or stem in names):
            return True
    return False


SHARED_FILES = 200  # a feature's code of this many files or more is worth sharing between features


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
    read: object = None  # path -> text of a small file (Makefile, package.json), or ""
    programs: dict = field(default_factory=dict)  # command-line programs the repository defines -> their files
    languages: frozenset = frozenset()  # the rule packs of the repository's code files (python, go …)
    cited: dict = field(default_factory=dict)  # requirement ID (FR-004) -> where the code cites it
    test_code: bool = False  # the feature's own code is test code: what its tests define counts
    located: bool = False  # the code is the repository's source, searched for what the spec names
    infra: dict = field(default_factory=dict)  # infrastructure files searched with the source
    infra_topic: bool = False  # the requirement being judged speaks of infrastructure (set per requirement)
    home: str = ""  # a located feature's own folder (a folder README's), if it has one
    corpora: dict | None = None  # one evaluation's large structures (corpora, definitions, strings), by their
    #                              files (``retrieval.holder``): features whose code is the same share them
    dir_names: dict = field(default_factory=dict)  # a folder's own name -> the folders of that name
    _corpus: object = None
    _defs: object = None
    _strings: object = None

    def describe(self) -> str:
        n = len(self.code)

        def label(root: str) -> str:  # a folder ends in /, a file (Dockerfile, core.py) does not
            return root if root in self.code or root in self.all_paths else f"{root.rstrip('/')}/"
        if self.located:
            shown = self.code_roots[:4]
            roots = ", ".join(label(r) for r in shown) + \
                (f" and {len(self.code_roots) - 4} more" if len(self.code_roots) > 4 else "")
            out = f"the repository's source: {n} code file{'' if n == 1 else 's'}" + (f" in {roots}" if roots else "")
            if self.infra:  # "; 20 infrastructure files (k8s/, Dockerfile)"
                tops = sorted({p.split("/", 1)[0] + ("/" if "/" in p else "") for p in self.infra})
                out += f"; {len(self.infra)} infrastructure file{'' if len(self.infra) == 1 else 's'} (" + \
                    ", ".join(tops[:3]) + (f" and {len(tops) - 3} more" if len(tops) > 3 else "") + ")"
            return out
        if not n:
            return "the whole repository (the feature has no code of its own)"
        roots = ", ".join(label(r) for r in self.code_roots) or "the feature's files"
        return f"{n} code file{'' if n == 1 else 's'} in {roots}, then the rest of the repository"

    def shared(self, what: str, build):
        """``build()``, worked out once per evaluation for a large body of code that several features
        share (located ones search the whole source): kept in ``corpora`` by the code's files."""
        if self.corpora is None or len(self.code) < SHARED_FILES:
            return build()
        key = (what,) + tuple((p, id(fi)) for p, fi in self.code.items())
        found = self.corpora.get(key)
        if found is None:
            found = self.corpora[key] = build()
        return found

    def definitions(self) -> tuple[dict, dict]:
        """The feature's definitions by each word of their name and by their first three letters."""
        if self._defs is None:
            self._defs = self.shared("definitions", self._definitions)
        return self._defs

    def _definitions(self) -> tuple[dict, dict]:
        by_word: dict[str, list] = {}
        by_start: dict[str, list] = {}
        for path, fi in self.code.items():
            for d, line in fi.defs.items():
                if len(d) < 4:
                    continue
                entry = (d, path, line)
                for w in set(split_identifier(d)):
                    by_word.setdefault(w, []).append(entry)
                by_start.setdefault(d[:3].lower(), []).append(entry)
        return by_word, by_start

    def corpus(self, infra: bool = False) -> retrieval.Corpus:
        """The feature's code as documents for prose matching; ``infra``: with the infrastructure files."""
        about = infra and bool(self.infra)
        if self._corpus is None:
            self._corpus = {}
        if about not in self._corpus:
            files = [(p, fi) for p, fi in sorted(({**self.code, **self.infra} if about else self.code).items())
                     if fi.kind == "code"]
            self._corpus[about] = retrieval.corpus_of(files, self.corpora)
        return self._corpus[about]


@dataclass
class Verdict:
    status: Status
    evidence: list[Evidence]
    why: str = ""
    low: str = ""  # a reason for low confidence, if any


def _ev(h: Hit, note: str, scope: "Scope | None" = None) -> Evidence:
    line = h.line
    if not line and h.name and scope is not None and scope.locate:
        line = scope.locate(h.path, h.name)
    return Evidence(h.path, line, note)


# ---- anchors -----------------------------------------------------------------------------------
def match_anchor(a: Anchor, scope: Scope) -> Verdict:
    named = _named_folder(a, scope) or _shell_variable(a, scope)
    if named is not None:
        return named
    v = _match_anchor(a, scope)
    if v.status is Status.MET and v.evidence:
        v = _refine(a, v, scope)
    return v


def _shell_variable(a: Anchor, scope: Scope) -> Verdict | None:
    """`$PWD`, `${HOME}`: an environment variable, met where the feature's code reads it by its name
    (os.environ["PWD"], var_os("PWD")); otherwise judged as written (it may be only an example)."""
    if a.kind is not Kind.SYMBOL or not _SHELL_VAR.fullmatch(a.value):
        return None
    bare = a.value.strip("${}")
    v = _match_names(replace(a, value=bare, subkind="env"), (bare,), scope, string_ok=True, read_ok=True)
    return v if v.status is Status.MET else None


def _named_folder(a: Anchor, scope: Scope) -> Verdict | None:
    """A dotted name that is the name of a folder in the repository (`AppIcon.appiconset`,
    `Runner.xcodeproj`) names that folder, not a member of a class: met where it is."""
    if a.kind is not Kind.SYMBOL or "." not in a.value or not re.fullmatch(r"[\w.-]+", a.value):
        return None
    folders = scope.dir_names.get(a.value)
    if not folders or scope.basenames.get(a.value):
        return None  # (a file named by its bare name is judged with the symbols)
    roots = tuple(r.rstrip("/") + "/" for r in scope.code_roots if r.strip("./"))
    mine = folders if scope.located or not roots else [d for d in folders if (d + "/").startswith(roots)]
    if mine:
        return Verdict(Status.MET, [Evidence(d + "/", 0, "folder exists") for d in mine[:MAX_EVIDENCE]])
    return Verdict(Status.PARTIAL, [Evidence(d + "/", 0, "a folder of that name exists elsewhere")
                                    for d in folders[:MAX_EVIDENCE]],
                   f"not in the feature's code; a folder of that name is at {folders[0]}/")


def _refine(a: Anchor, v: Verdict, scope: Scope) -> Verdict:
    """A met anchor whose code is not the whole story: a class that lacks members the spec lists, a
    setting whose default differs from the spec's, code nothing calls, or code with a TODO or stub in it."""
    ev = v.evidence[0]
    if a.default and scope.read:
        for e in v.evidence[:MAX_EVIDENCE]:  # the first place that gives a literal default decides
            differs = _default_differs(a, e, scope) if e.line else None
            if differs:
                return Verdict(Status.PARTIAL, [e] + [x for x in v.evidence if x is not e], differs)
            if differs == "":
                break
    if a.kind is Kind.SYMBOL and a.subkind == "type" and a.parts:
        owner = next((h for h in scope.repo.names.get(a.value, []) if h.how == "defined"
                      and h.path == ev.path), None)
        members = _members(owner, scope) if owner is not None and owner.symbol is not None else {}
        if members:
            lacking = [p for p in a.parts if p not in members]
            if lacking:
                shown = ", ".join(f"`{p}`" for p in lacking[:4]) + (" …" if len(lacking) > 4 else "")
                return Verdict(Status.PARTIAL, v.evidence, f"{a.value} lacks {shown}")
    if a.calls and ev.line and scope.read:
        lacking = _not_called(a, ev, scope)
        if lacking:
            return Verdict(Status.PARTIAL, v.evidence, f"`{a.value}` does not call {lacking}, as the spec's sample does")
    fi = scope.code.get(ev.path)
    if fi is None or not ev.line or a.kind is not Kind.SYMBOL:
        return v
    region = _region_at(fi, ev.line)
    if region is not None:
        mark = next((m for m in fi.markers if region.line <= m[0] <= region.end_line), None)
        if mark is not None and region.kind in ("function", "method"):
            return Verdict(Status.PARTIAL, v.evidence + [Evidence(ev.path, mark[0], f"{mark[1]}: {mark[2]}")],
                           f"the code that does it has a {mark[1]} note at {ev.path}:{mark[0]}")
    dead = _dead_at(fi, ev.path, ev.line, region, scope) if ev.note.startswith("named") and not scope.test_code \
        else ""
    if dead:
        return Verdict(Status.PARTIAL, v.evidence, dead,
                       "nothing in the repository calls it; it may be called dynamically or be public API")
    return v


_UNLIMITED = {"unlimited", "no limit", "none", "unset", "empty", "∞", "infinite", "off", "disabled", "no"}
_NOTHING = {"none", "null", "nil", "", "0", "-1", "math.inf", "float('inf')", 'float("inf")', "false"}


def _default_differs(a: Anchor, ev: Evidence, scope: Scope) -> str | None:
    """Compare the default the spec states with the literal default next to where the code reads the
    setting (``getenv("X", "30")``, ``SetDefault("x", 30)``, ``default=30``, ``x: int = 30``)."""
    text = scope.read(ev.path)
    if not text:
        return None
    lines = text.splitlines()
    window = "\n".join(lines[ev.line - 1: ev.line + 3])
    name = re.escape(a.value.lstrip("-") if a.kind is Kind.FLAG else a.value.rsplit(".", 1)[-1])
    lit = r"(?P<d>\"[^\"\n]*\"|'[^'\n]*'|-?[\d.]+|True|False|true|false|None|nil|null)"
    m = re.search(rf"\(\s*[\"']{name}[\"']\s*,\s*(?:default\s*=\s*)?{lit}\s*[,)]", window) or \
        re.search(rf"[\"']{name}[\"']\s*,\s*[\"']\w?[\"']\s*,\s*{lit}\s*[,)]", window) or \
        re.search(rf"{name}[\"'][^\n]{{0,120}}?\bdefault\s*=\s*{lit}", window) or \
        re.search(rf"\b{name}\s*(?::\s*[\w\[\]., |]+)?\s*=\s*{lit}\s*(?:#.*)?$", window, re.M)
    if not m:
        return None
    code = m.group("d").strip("\"'")
    spec = a.default.strip()
    if _same_default(spec, code):
        return ""
    return f"the code's default is {code or 'empty'}, the spec says {spec}"


def _same_default(spec: str, code: str) -> bool:
    s, c = spec.lower().rstrip("/"), code.lower().rstrip("/")
    if s == c:
        return True
    if s in _UNLIMITED:
        return c in _NOTHING
    try:
        return float(s.rstrip("s%").replace("_", "")) == float(c.replace("_", ""))
    except ValueError:
        pass
    if s in ("true", "yes", "on", "enabled") or s in ("false", "no", "off", "disabled"):
        return (s in ("true", "yes", "on", "enabled")) == (c in ("true", "1", "yes", "on"))
    if " " in s or not re.match(r"^[\w.:/@-]+$", s):
        return True  # a description, not a value: nothing to compare
    return False


def _match_calls(a: Anchor, scope: Scope) -> Verdict:
    """A sentence introducing a code sample ("Add a budget check in job execution:") asks for what the
    sample does: its function must make the calls the sample makes."""
    defs = [h for h in scope.repo.names.get(a.value, []) if h.how == "defined"]
    defs.sort(key=lambda h: h.path not in scope.code)
    if not defs:
        return Verdict(Status.MISSING, [], f"no `{a.value}` is defined")
    best = None
    for h in defs[:5]:
        lacking = _not_called(a, Evidence(h.path, h.line, ""), scope)
        done = len(a.calls) - (lacking.count("`") // 2)
        if best is None or done > best[0]:
            best = (done, h, lacking)
    done, h, lacking = best
    if not lacking:
        return Verdict(Status.MET, [_ev(h, f"{a.value} calls {', '.join(a.calls)}", scope)])
    status = Status.PARTIAL if done else Status.MISSING
    return Verdict(status, [_ev(h, f"{a.value} is defined here", scope)],
                   f"`{a.value}` ({h.path}:{h.line}) does not call {lacking}")


def _not_called(a: Anchor, ev: Evidence, scope: Scope) -> str:
    """The names a spec's sample function calls that the real function's body never mentions."""
    fi = scope.code.get(ev.path) or scope.repo._files.get(ev.path)
    sym = next((s for s in _symbols(fi) if s.name == a.value and s.line == ev.line), None) if fi else None
    text = scope.read(ev.path) if sym is not None else ""
    if not text:
        return ""
    body = "\n".join(text.splitlines()[sym.line - 1: sym.end_line])
    lacking = [c for c in a.calls if not re.search(rf"(?<![\w.]){re.escape(c)}\b", body)]
    return ", ".join(f"`{c}`" for c in lacking)


def _region_at(fi: FileIndex, line: int):
    """The innermost function, method or class region around a line."""
    best = None
    for r in getattr(fi, "regions", ()) or ():
        if r.kind != "module" and r.line <= line <= r.end_line and (best is None or r.line >= best.line):
            best = r
    return best


def _dead_at(fi: FileIndex, path: str, line: int, region, scope: Scope) -> str:
    """Why the code at ``path:line`` can never run, or "": the function around it (or the constant it
    defines) is referenced by nothing outside tests."""
    syms = _symbols(fi)
    here = next((s for s in syms if s.line == line and s.kind in ("constant", "field", "enum_member", "variable")
                 and len(s.name.strip("_")) > 1), None)
    if here is not None and _dead_name(here, path) and not scope.repo.is_referenced(here.name):
        return f"`{here.name}` is defined, but nothing outside tests uses it"
    if region is None or region.line == line:
        return ""
    sym = next((s for s in syms if s.name == region.name and s.line == region.line), None)
    if sym is not None and _dead(sym, path) and not scope.repo.is_referenced(sym.name):
        return f"only `{sym.name}` uses it, and nothing outside tests calls `{sym.name}`"
    return ""


def _caveat(doc, scope: Scope) -> str:
    """Why the code region a prose requirement matched does not fully deliver it: nothing calls it, or
    it carries a TODO or stub note. "" when neither."""
    fi = scope.code.get(doc.path)
    if fi is None or scope.test_code:
        return ""
    if doc.line <= 1 and doc.path.endswith(".py") and not _entry_module(doc.path, fi) and \
            not scope.repo.is_imported(doc.path):
        return f"nothing outside tests imports {doc.path}"
    sym = next((s for s in _symbols(fi) if s.name == doc.name and s.line == doc.line), None)
    if sym is None:
        return ""
    if sym.kind in ("function", "method"):
        mark = next((m for m in fi.markers if sym.line <= m[0] <= sym.end_line), None)
        if mark is not None:
            return f"`{sym.name}` carries a {mark[1]} note ({doc.path}:{mark[0]})"
    if _dead(sym, doc.path) and not scope.repo.is_referenced(sym.name):
        return f"the code that does it, `{sym.name}` ({doc.path}:{sym.line}), is never called outside tests"
    return ""


def _orphan_module(path: str, scope: Scope) -> bool:
    """A Python module that nothing outside tests imports and that does not run by itself: left-over code."""
    fi = scope.code.get(path) or scope.repo._files.get(path)
    return path.endswith(".py") and fi is not None and not _entry_module(path, fi) and \
        not scope.repo.is_imported(path)


_ENTRY_NAMES = {"__init__", "__main__", "main", "app", "cli", "manage", "conftest", "setup", "wsgi", "asgi", "server",
                "run", "settings", "config", "urls", "views", "models", "admin", "tasks", "celery"}


def _entry_module(path: str, fi: FileIndex) -> bool:
    """A module that runs by itself or is loaded by a framework rather than imported: a script, a
    `__main__` guard, routes or decorated handlers a framework registers."""
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return stem in _ENTRY_NAMES or "__main__" in fi.strings or path.startswith(("scripts/", "bin/", "tools/")) \
        or "/scripts/" in path or "/migrations/" in path or bool(fi.routes) or \
        any(getattr(s, "decorated", False) for s in _symbols(fi))


def _dead_name(s, path: str) -> bool:
    ext = posixpath.splitext(path)[1]
    return ext in (".py", ".rb") or (ext == ".go" and ("/internal/" in f"/{path}" or s.name[:1].islower()))


def _match_anchor(a: Anchor, scope: Scope) -> Verdict:
    if a.kind is Kind.ENDPOINT:
        return _match_endpoint(a, scope)
    if a.kind is Kind.PATH:
        return _match_path(a, scope)
    if a.kind is Kind.FLAG:
        return _match_names(a, flag_names(a), scope, string_ok=True)
    if a.kind is Kind.COMMAND:
        return _match_command(a, scope)
    if a.kind is Kind.LITERAL:
        return _match_literal(a, scope)
    if a.subkind == "param":
        return _match_param(a, scope)
    if a.subkind == "calls":
        return _match_calls(a, scope)
    if a.subkind == "state" and len(a.parts) >= 3:
        v = _match_state(a, scope)
        if v is not None:
            return v
    if a.owner and a.subkind in ("member", "field", "method") and a.owner[:1].isupper():
        return _match_member(a, scope)
    if a.owner and a.subkind == "method" and a.owner.isidentifier():
        v = _match_receiver(a, scope)
        if v is not None:
            return v
    v = _match_names(a, anchor_names(a), scope,
                     string_ok=a.subkind in ("env", "config", "metric", "word", "identifier", "state", "table",
                                             "column", "constant", "mention", "heading"),
                     read_ok=a.subkind == "env")
    if v.status is not Status.MET and _FILE_NAME.match(a.value):
        # `requirements.in`, `terraform.tfvars`, `Dockerfile`: a file's name, and the file is there; in the
        # feature's own folders it is met, elsewhere it is only a file of that name
        files = sorted(p for p in scope.basenames.get(a.value, ()) if p not in scope.spec_paths)
        if scope.located:  # the whole source, or a component's own folder
            mine = [p for p in files if p.startswith(scope.home + "/")] if scope.home else files
        else:
            roots = tuple(r.rstrip("/") + "/" for r in scope.code_roots if r.strip("./"))
            mine = [p for p in files if p in scope.code or (roots and p.startswith(roots))]
        if mine:
            return Verdict(Status.MET, [Evidence(p, 0, "the file exists") for p in mine[:MAX_EVIDENCE]], "")
        if files and v.status is Status.MISSING:
            return Verdict(Status.PARTIAL, [Evidence(files[0], 0, "a file of that name")],
                           f"a file of that name is at {files[0]}, outside the feature's code")
    return v


# a file's name as specs write it: name.ext (a short extension), or a conventional name without one
_FILE_NAME = re.compile(r"^(?:[\w-]+(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,9}|(?:Docker|Make|Proc|Jenkins|Vagrant|Gem|Rake|"
                        r"Brew|Pip|Berks|Cart|Pod|Guard|Cask)file|Containerfile|LICENSE|CODEOWNERS)$")


def _match_endpoint(a: Anchor, scope: Scope) -> Verdict:
    method, norm = split_endpoint(a)
    candidates = []
    for i, suffix in enumerate(route_suffixes(norm)):
        for m, h in scope.repo.routes.get(suffix, []):
            candidates.append((i, m, h))
    mounted = {}
    if not candidates:
        for i, m, h, mount in _mounted(norm, scope):
            candidates.append((i, m, h))
            mounted.setdefault(id(h), mount)
    if not candidates:
        candidates = [(0, m, h) for m, r, h in _by_parameters(norm, scope)]
    if not candidates and method is None:  # `/specs/001-x/`: a folder of the repository, named from its root
        local = a.value.partition(" ")[2].strip("/")
        if local in scope.dirs or local in scope.all_paths:
            return Verdict(Status.MET, [Evidence(local + ("/" if local in scope.dirs else ""), 0,
                                                 "folder exists" if local in scope.dirs else "file exists")])
    if not candidates:
        under = [(m, h) for m, h in scope.repo.prefixed.get(norm, []) if h.how == "route"] if method is None else []
        if under:
            inside = [x for x in under if x[1].path in scope.code] or under
            m, h = inside[0]
            return Verdict(Status.MET if h.path in scope.code else Status.PARTIAL,
                           [_ev(h, f"{len(under)} route(s) registered under this prefix")],
                           "" if h.path in scope.code else "routes under it are registered outside the feature")
        if method is None:  # a bare path: the code may request it, serve it as a file, or read it
            named = _in_strings(a.value.partition(" ")[2], scope) if len(norm) > 3 else None
            if named:
                return Verdict(Status.MET, [Evidence(named.path, named.line, "the code names this path")], "",
                               "named in code, not registered as a route")
        if method is None and scope.located and scope.repo.infra_strings.get(norm):
            h = scope.repo.infra_strings[norm][0]  # a probe, a scrape target, a setting: the program must serve it
            return Verdict(Status.MISSING, [Evidence(h.path, h.line, "the infrastructure names this path")],
                           f"{h.path}:{h.line} names {norm}, but no route registration serves it")
        near = _nearest_route(norm, scope)
        if near:
            m, r, h = near
            return Verdict(Status.MISSING, [_ev(h, f"nearest registered route: {(m or 'ANY')} {r}")],
                           f"no route registration matches {a.value.partition(' ')[2]}; "
                           f"did you mean {(m or 'ANY')} {r}?")
        low = "" if scope.repo.registered_routes else "the repository registers no HTTP routes driftbot can see"
        return Verdict(Status.MISSING, [], f"no route registration matches {a.value.partition(' ')[2]}", low)
    ok_method = [c for c in candidates if method is None or c[1] is None or c[1] == method]
    inside = [c for c in ok_method if c[2].path in scope.code]
    if inside:
        inside.sort(key=lambda c: (c[0], c[1] is None))
        i, m, h = inside[0]
        mount = mounted.get(id(h))
        if mount is not None:
            return Verdict(Status.MET, [_ev(h, "route registered on a mounted router"),
                                        _ev(mount, "the router mounted under its prefix")])
        note = "route registered" + (" under a router prefix" if i else "")
        return Verdict(Status.MET, [_ev(h, note)])
    wrong_method = [c for c in candidates if c[2].path in scope.code and c not in ok_method]
    if wrong_method:
        _, m, h = wrong_method[0]
        return Verdict(Status.PARTIAL, [_ev(h, f"registered for {m}, spec says {method}")],
                       f"method differs ({m} ≠ {method})")
    elsewhere = [c for c in ok_method if c[2].how == "route"]
    if elsewhere:
        _, m, h = elsewhere[0]
        return Verdict(Status.PARTIAL, [_ev(h, "route registered outside the feature's code")],
                       "registered outside the feature")
    _, m, h = candidates[0]
    return Verdict(Status.PARTIAL, [_ev(h, "only in tests")], "only tests register it")


MAX_PARAMETER_SHAPES = 1024  # more shapes than this (or than routes of that length): read the routes instead


def _by_parameters(norm: str, scope: Scope) -> list[tuple[str | None, str, Hit]]:
    """Routes whose parameters stand where the spec gives example values (/pillars/alpha-1 ↔
    /pillars/{id}), the fewest parameters first; never an all-parameter match."""
    want = norm.strip("/").split("/")
    routes = scope.repo.routes_by_len.get(len(want), [])
    if not routes:
        return []
    literal = [k for k, w in enumerate(want) if w != "{}"]
    if 2 ** len(literal) <= min(MAX_PARAMETER_SHAPES, len(routes)):
        # a match is the wanted route with some of its literal segments turned into parameters: look
        # each such shape up, instead of reading every route of that length
        by_shape = _by_shape(routes)
        candidates = []
        for mask in range(2 ** len(literal)):
            shape = list(want)
            for bit, k in enumerate(literal):
                if mask >> bit & 1:
                    shape[k] = "{}"
            candidates.extend(by_shape.get(tuple(shape), ()))
    else:
        candidates = [(i, r.strip("/").split("/"), m, r, h) for i, (m, r, h) in enumerate(routes)]
    out = []
    for i, got, m, r, h in sorted(candidates, key=lambda c: c[0]):  # in the order the routes are listed
        if got == want:
            continue
        if all(g == w or g == "{}" for g, w in zip(got, want)) and any(g == w for g, w in zip(got, want)):
            out.append((sum(g == "{}" for g in got), m, r, h))
    out.sort(key=lambda x: x[0])
    return [(m, r, h) for _, m, r, h in out[:3]]


_shapes: dict[int, tuple[list, dict]] = {}


def _by_shape(routes: list) -> dict[tuple, list]:
    """A list of routes of one length by their segments (parameters as {}), worked out once per list
    (a lookup's lists are replaced, never changed, when it is brought up to date)."""
    held = _shapes.get(id(routes))
    if held is None or held[0] is not routes:
        index: dict[tuple, list] = {}
        for i, (m, r, h) in enumerate(routes):
            got = r.strip("/").split("/")
            index.setdefault(tuple(got), []).append((i, got, m, r, h))
        if len(_shapes) >= 8:  # a few lengths of route are asked for at a time; hold no more
            _shapes.clear()
        held = _shapes[id(routes)] = (routes, index)
    return held[1]


def _nearest_route(norm: str, scope: Scope):
    """A registered route that differs from the wanted one by little: a renamed segment or prefix."""
    want = norm.strip("/").split("/")
    best, best_score = None, 0.0
    for m, r, h in scope.repo.routes_by_last.get(want[-1], ())[:2000]:  # the last segment must agree
        got = r.strip("/").split("/")
        if not any(s != "{}" and s in got for s in want):
            continue  # only parameters in common (`/{}` for /chat/{}): nothing near
        score = difflib.SequenceMatcher(None, want, got).ratio()
        if score > best_score and score >= 0.6:
            best, best_score = (m, r, h), score
    return best


def _match_path(a: Anchor, scope: Scope) -> Verdict:
    p = a.value.rstrip("/")
    if not p:
        return Verdict(Status.MISSING, [], "empty path")
    candidates = [p] + [f"{r}/{p}" for r in scope.code_roots]
    for c in candidates:
        if c in scope.all_paths:
            return Verdict(Status.MET, [Evidence(c, 0, "file exists")])
        if c in scope.dirs:
            return Verdict(Status.MET, [Evidence(c + "/", 0, "folder exists")])
    # the feature's own file, named relative to somewhere else in the spec ("connectors/registry.py")
    own = [f for f in scope.code if f.endswith("/" + p)]
    if own:
        return Verdict(Status.MET, [Evidence(own[0], 0, "file exists")])
    dir_hits = [d for d in scope.dirs if d.endswith("/" + p)]
    if dir_hits and "/" in p:
        return Verdict(Status.MET, [Evidence(sorted(dir_hits)[0] + "/", 0, "folder exists")])
    # a runtime path: a file the code writes or reads is met where the code names it
    named = _runtime_path(p, scope)
    if named:
        return Verdict(Status.MET, [named])
    others = [o for o in scope.basenames.get(posixpath.basename(p), []) if o not in scope.spec_paths
              and _related(o, p)]
    if others:
        return Verdict(Status.PARTIAL, [Evidence(o, 0, "a file of that name exists elsewhere") for o in others[:MAX_EVIDENCE]],
                       f"not at {p}; a file of that name is at {others[0]}")
    return Verdict(Status.MISSING, [], f"no file or folder {p} in the repository")


_ROOT_DIRS = {"src", "lib", "app", "apps", "pkg", "internal", "packages", "source", "main", "java", "python", "go",
              "cmd", "services", "modules", "components", "."}


def _related(found: str, wanted: str) -> bool:
    """Is a file of the same name the file the spec means? Only if it sits in a folder the spec's
    path names too (connectors/email.py for connectors/adapters/email.py), or the spec gives no folder."""
    want_dirs = {d.lower() for d in wanted.split("/")[:-1]} - _ROOT_DIRS
    if not want_dirs:
        return True
    return bool(want_dirs & {d.lower() for d in found.split("/")[:-1]})


def _runtime_path(p: str, scope: Scope) -> Evidence | None:
    base = posixpath.basename(p)
    stem = base.split("{")[0].split("<")[0].split("YYYY")[0]
    for path, fi in scope.code.items():
        for s, line in fi.strings.items():
            if p in s or (len(base) > 4 and s.endswith(base)) or (len(stem) > 5 and stem in s and
                                                                 posixpath.splitext(s)[1] == posixpath.splitext(p)[1]):
                return Evidence(path, line, "the code names this path (a file it writes or reads)")
    return None


def _defined(hits: list[Hit]) -> list[Hit]:
    return [h for h in hits if h.how == "defined"]


def _quality(h: Hit, scope: Scope) -> tuple[str, str, str]:
    """A definition that is not the whole story: a stub, or something nothing uses.
    Returns (what, why, reason for low confidence)."""
    s = h.symbol
    if s is not None and getattr(s, "stub", False) and not getattr(s, "abstract", False):
        return "stub", "defined as a stub (no implementation yet)", ""
    if s is not None and not scope.test_code and _dead(s, h.path) and not scope.repo.referenced.get(h.name):
        return ("unused", "defined, but nothing outside tests uses it",
                "nothing in the repository calls it; it may be called dynamically or be public API")
    return "", "", ""


def _dead(s, path: str) -> bool:
    """Could nothing referencing this definition mean it is never used? Only where the language has
    no export list that makes it public API: Python and Ruby callables and classes, Go's unexported
    names and anything under internal/. Decorated definitions are wired by a framework."""
    if getattr(s, "decorated", False) or getattr(s, "abstract", False) or s.kind not in ("function", "method", "class"):
        return False
    name = s.name
    if s.kind == "method" and not name.startswith("_"):
        return False  # a public method is called through objects, often by code outside the repository
    if name.startswith("__") or name in ("main", "run", "setup", "teardown") or name.startswith("test"):
        return False
    ext = posixpath.splitext(path)[1]
    if ext in (".py", ".rb"):
        return True
    if ext == ".go":
        return "/internal/" in f"/{path}" or name[:1].islower()
    return False


def _match_names(a: Anchor, names: tuple[str, ...], scope: Scope, string_ok: bool, read_ok: bool = False) -> Verdict:
    hits: list[Hit] = []
    for n in names[:2] if a.subkind not in ("metric", "state") else names:
        # a setting a manifest outside the feature sets (k8s/configmap.yaml) is not code that reads it
        hits.extend(h for h in scope.repo.names.get(n, []) if h.path not in scope.spec_paths and
                    (h.path in scope.code or h.path not in scope.repo.data_paths))
    if scope.test_code:  # the feature is its tests: a name its test files define is defined in the feature
        hits = [replace(h, how=h.was) if h.how == "test" and h.was and h.path in scope.code else h for h in hits]
    primary = [h for h in hits if h.name in names[:2]]
    if a.subkind == "table":  # a table is a schema's, a model's or a string's: a function of that name is not it
        primary = [h for h in primary if not (h.how == "defined" and h.symbol is not None and
                                              getattr(h.symbol, "kind", "") in ("function", "method"))]
    where = a.where
    if where:
        placed = _placed(primary, where, scope, usage=a.subkind in ("env", "config", "constant", "mention"),
                         name=names[0])
        if placed is not None:
            return placed
    for how, note in (("defined", "defined"), ("string", "named in code"), ("used", "read (process.env / settings)")):
        if (how == "string" and not string_ok) or (how == "used" and not read_ok):
            continue
        inside = [h for h in primary if h.path in scope.code and h.how == how]
        if inside:
            ev = [_ev(h, note, scope) for h in inside[:MAX_EVIDENCE]]
            if how == "defined":
                q, why, low = _quality(inside[0], scope)
                if q:
                    return Verdict(Status.PARTIAL, [_ev(inside[0], why, scope)], why, low)
            return Verdict(Status.MET, ev)
    defined_anywhere = [h for h in primary if h.how == "defined"]
    used_here = [h for h in primary if h.how == "used" and h.path in scope.code]
    if used_here and (defined_anywhere or a.subkind != "table"):
        # the feature uses what the spec names: a library's symbol, or a shared type (a table no schema
        # defines is not one: `log` of console.log is no log table)
        note = (f"used in the feature's code (defined in {defined_anywhere[0].path})" if defined_anywhere else
                "used in the feature's code (defined outside the repository)")
        return Verdict(Status.MET, [_ev(h, note, scope) for h in used_here[:MAX_EVIDENCE]], "",
                       "" if defined_anywhere else "defined outside the repository")
    if string_ok:  # a setting or name inside a longer string: "LISTEN " + ch, `yaml:"is_array"`
        inside = _in_strings(names[0], scope)
        if inside:
            return Verdict(Status.MET, [inside])
    ranked = [  # (how, the evidence's note, why it is not met, …): the note alone read as if it were
        ("string", "named in the feature's code", "only a string in the feature's code names it; nothing defines it",
         True, Status.PARTIAL),
        ("defined", "defined outside the feature's code", "defined outside the feature's code", False, Status.PARTIAL),
        ("string", "named outside the feature's code", "only a string outside the feature's code names it", False,
         Status.PARTIAL),
        ("used", "used outside the feature's code", "used outside the feature's code", False, Status.PARTIAL),
        ("test", "mentioned only in tests", "mentioned only in tests", None, Status.PARTIAL),
    ]
    setting = a.subkind in ("env", "config", "flag") or a.kind is Kind.FLAG
    # the infrastructure is searched for located features (the App fetches it for those alone)
    infra = [h for n in names[:2] for h in scope.repo.infra_set.get(n, []) if h.path not in scope.spec_paths] \
        if scope.located else []
    if setting and infra and not any(h.how in ("defined", "string", "used") for h in primary):
        h = sorted(infra, key=lambda h: (h.path not in scope.infra, h.path, h.line))[0]
        if a.subkind == "env":  # the environment is the program's to read
            return Verdict(Status.MISSING, [Evidence(h.path, h.line, "set here")],
                           f"set in {h.path}:{h.line}, never read by the code")
        # a key of the infrastructure's own (an alert rule's, a chart's): the program need not read it, and
        # a key name alone does not show the spec's setting is the one there
        return Verdict(Status.MISSING, [Evidence(h.path, h.line, "a key of this name is set here")],
                       f"not in the code; a key of this name is set in {h.path}:{h.line} (infrastructure)",
                       low="the infrastructure sets a key of this name, which may be the setting the spec means")
    if scope.infra_topic and infra and not setting and not any(h.how in ("defined", "string", "used") for h in primary):
        # a sentence about the infrastructure naming one of its objects (a Service, a LoadBalancer, a key)
        h = sorted(infra, key=lambda h: (h.path not in scope.infra, h.path, h.line))[0]
        return Verdict(Status.MET, [Evidence(h.path, h.line, "declared in the infrastructure")], "")
    for how, note, why, in_feature, status in ranked:
        sel = [h for h in primary if h.how == how and (in_feature is None or (h.path in scope.code) == in_feature)]
        if sel:
            if how == "test" and setting:  # tests set it, but no code reads it
                return Verdict(Status.MISSING, [_ev(h, "only tests name it", scope) for h in sel[:1]],
                               "only tests name it; no code reads it")
            return Verdict(status, [_ev(h, note, scope) for h in sel[:MAX_EVIDENCE]], why)
    if a.subkind == "metric":
        core = [h for h in hits if h.name not in names[:2] and h.how in ("defined", "used", "string")]
        if core:
            h = core[0]
            return Verdict(Status.PARTIAL, [_ev(h, f"the count exists as `{h.name}`, not exported as this metric",
                                                scope)], f"no metric named {a.value}; the count exists as {h.name}")
        similar = _similar_metric(a, scope)
        if similar:
            return similar
    comments = [h for h in primary if h.how in ("comment", "doc")]
    suggestion = _did_you_mean(names[0], scope)
    why = "nothing in the code defines or names it"
    if comments:
        why = "mentioned only in " + ("comments" if any(h.how == "comment" for h in comments) else "docs")
    if suggestion:
        why += f"; did you mean `{suggestion[0]}`?"
        return Verdict(Status.MISSING, [Evidence(suggestion[1], suggestion[2], f"a similar name: {suggestion[0]}")], why)
    ev = [_ev(h, why, scope) for h in comments[:1] if h.how == "comment"]
    return Verdict(Status.MISSING, ev, why)


def _short(s: str) -> bool:
    """A short, one-line string: a docstring or message that mentions a name is not code using it."""
    return len(s) <= 100 and "\n" not in s and s.count(" ") <= 6


def _short_strings(scope: Scope) -> tuple[str, list[int], list[tuple[str, str, int]]]:
    """The feature's code's short, one-line string literals (path, text, line), in file order, and
    all of them in one text, a newline apart, with where each starts: one search finds a name in any."""
    def build():
        items = [(path, s, line) for path, fi in scope.code.items() for s, line in fi.strings.items() if _short(s)]
        starts, pos = [], 0
        for _, s, _ in items:
            starts.append(pos)
            pos += len(s) + 1
        return "\n".join(s for _, s, _ in items), starts, items
    if scope._strings is None:
        scope._strings = scope.shared("short strings", build)
    return scope._strings


def _in_strings(name: str, scope: Scope) -> Evidence | None:
    """A name inside a short string literal of the feature's code, as a whole word: the first
    string, in file order, that holds it."""
    if len(name) < 4:
        return None
    rx = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")
    if scope.corpora is None or len(scope.code) < SHARED_FILES:  # a feature's few files: read them in turn
        for path, fi in scope.code.items():
            for s, line in fi.strings.items():
                if name in s and _short(s) and rx.search(s):
                    return Evidence(path, line, "named in a string in code")
        return None
    text, starts, items = _short_strings(scope)
    at = text.find(name)
    while at >= 0:
        k = bisect.bisect_right(starts, at) - 1
        path, s, line = items[k]
        if name in s and rx.search(s):
            return Evidence(path, line, "named in a string in code")
        at = text.find(name, starts[k + 1]) if k + 1 < len(starts) else -1
    return None


_DATA_FILE = re.compile(r"\.(?:ya?ml|json|toml|ini|cfg|conf|env|properties|md|txt|example|sample|dist)$|"
                        r"(?:^|/)(?:Dockerfile|Makefile|\.env[\w.]*)$", re.I)


def _placed(hits: list[Hit], where: str, scope: Scope, usage: bool = False, name: str = "") -> Verdict | None:
    """The spec says where the symbol lives (``from a.b import X``, "in `src/x.py`")."""
    if _DATA_FILE.search(where):  # a config file or document: read it
        name = name or (hits[0].name if hits else "")
        if where not in scope.all_paths or not scope.read or not name:
            return None
        text = scope.read(where)
        m = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) if text else None
        if m:
            return Verdict(Status.MET, [Evidence(where, text.count("\n", 0, m.start()) + 1, "named where the spec says")])
        return None
    target = where.replace(".", "/") if "/" not in where and not where.endswith(".py") else where
    target = posixpath.splitext(target)[0] if "/" in where or posixpath.splitext(where)[1] in (
        ".py", ".go", ".ts", ".js", ".java", ".rs", ".rb", ".cs", ".tsx", ".jsx", ".sh", ".ps1", ".kt") else target
    defs = [h for h in hits if h.how == "defined"]

    def at(h: Hit) -> bool:
        p = posixpath.splitext(h.path)[0]
        return p == target or p.endswith("/" + target) or p == target + "/__init__" or \
            p.endswith("/" + target + "/__init__") or posixpath.dirname(h.path).endswith(target)
    good = [h for h in defs if at(h)]
    if good:
        h = good[0]
        q, why, low = _quality(h, scope)
        if q:
            return Verdict(Status.PARTIAL, [_ev(h, why, scope)], why, low)
        return Verdict(Status.MET, [_ev(h, "defined where the spec says", scope)])
    def exactly_at(h: Hit) -> bool:  # that file, not a folder whose name ends the same way
        p = posixpath.splitext(h.path)[0]
        return p == target or p.endswith("/" + target)
    tested = [h for h in hits if h.how == "test" and h.was in ("used", "string") and exactly_at(h)]
    if defs and tested:  # "write a test for `detect()` in tests/integration.rs": the test there uses it
        return Verdict(Status.MET, [_ev(tested[0], "used by the test where the spec says", scope),
                                    _ev(defs[0], "defined", scope)])
    if defs:
        h = sorted(defs, key=lambda h: h.path not in scope.code)[0]
        if all(_orphan_module(d.path, scope) for d in defs):
            return Verdict(Status.MISSING, [_ev(h, f"a copy in {h.path}, which nothing imports", scope)],
                           f"not in {where}; the only definition is in {h.path}, which nothing outside tests imports")
        return Verdict(Status.PARTIAL, [_ev(h, f"defined in {h.path}, not in {where}", scope)],
                       f"lives in {h.path}, not in {where}")
    strings_there = [h for h in hits if h.how in ("string", "used") and at(h)]
    if strings_there:
        return Verdict(Status.MET, [_ev(strings_there[0], "named where the spec says", scope)])
    if usage and any(p for p in scope.all_paths if at(Hit(p, 0, ""))):
        named = [h for h in hits if h.how in ("string", "used", "defined")]
        note = f"; it is named in {named[0].path}" if named else ""
        return Verdict(Status.MISSING, [_ev(named[0], f"named here, not in {where}", scope)] if named else [],
                       f"{where} does not name it{note}")
    return None


_NOT_A_RENAME = {"error", "exception", "test", "tests", "mock", "fake", "stub", "base", "abstract", "impl",
                 "mixin", "protocol", "interface", "factory", "builder", "config", "settings", "options"}


def _did_you_mean(name: str, scope: Scope):
    """A close name defined in the feature's code: a rename ("did you mean `SagaCompensationGraph`?").
    A name that adds a role (``…Error``, ``…Test``, ``Base…``) is another thing, not a rename."""
    if len(name) < 4:
        return None
    want = split_identifier(name)
    want_set = set(want)
    upper = name[:1].isupper()
    low = name.lower()
    by_word, by_start = scope.definitions()
    # candidates share a word or the first three letters: nothing else can be a rename
    cands = {c for w in want_set for c in by_word.get(w, ())} | set(by_start.get(low[:3], ()))
    best = None
    m = difflib.SequenceMatcher(None, "", low)  # the wanted name is the second sequence: analysed once
    chars = set(low)
    for d, path, line in sorted(cands):  # in a fixed order: a tie goes to the same name on every run
        if d == name or d[:1].isupper() != upper or abs(len(d) - len(name)) > max(8, len(name)):
            continue
        d_low = d.lower()
        if d_low == low:
            continue
        got = set(split_identifier(d))
        extra = got - want_set
        if extra & _NOT_A_RENAME:
            continue
        contains = len(want) > 1 and want_set <= got and len(extra) <= 1
        if not contains:
            if 2 * min(len(d_low), len(low)) / (len(d_low) + len(low)) < 0.82:
                continue
            dc = set(d_low)
            if len(dc & chars) / len(dc | chars) < 0.6:
                continue
        m.set_seq1(d_low)
        if not contains and m.quick_ratio() < 0.82:
            continue
        score = max(m.ratio(), 0.9 if contains else 0)
        if score >= 0.82 and (best is None or score > best[0]):
            best = (score, d, path, line)
    return best[1:] if best else None


_COUNTED_NOUNS = {"events", "event", "requests", "request", "items", "messages", "message", "records", "jobs",
                  "calls", "operations", "tasks", "errors"}
_MEASURES = {"count", "total", "num", "number", "size", "len", "length", "gauge", "counter", "stats", "rate"}


def _similar_metric(a: Anchor, scope: Scope) -> Verdict | None:
    """A metric whose measurement exists under another name (an internal counter, a query method)."""
    core = [w for w in split_identifier(_METRIC_SUFFIX.sub("", a.value)) if len(w) > 2]
    if len(core) < 2:
        return None
    want = set(core[1:]) if len(core) > 2 else set(core)  # drop a namespace prefix (outbox_, http_)
    # what is counted, without the nouns every count has: outbox_pending_events ~ get_pending_count
    what = want - _COUNTED_NOUNS - _MEASURES
    best = None
    for path, fi in scope.code.items():
        for name, line in list(fi.defs.items()) + [(t, 0) for t in fi.tokens]:
            words = set(split_identifier(name))
            hit = want <= words or (what and what <= words and words & (_MEASURES | _COUNTED_NOUNS) and
                                    len(words) >= 2)
            if hit and (best is None or len(name) < len(best[0])):
                best = (name, path, line)
    if best:
        name, path, line = best
        return Verdict(Status.PARTIAL, [Evidence(path, line or (scope.locate(path, name) if scope.locate else 0),
                                                 f"the measurement exists as `{name}`, not exported as a metric")],
                       f"no metric named {a.value}; the measurement exists as {name}")
    return None


def _owner_symbols(owner: str, scope: Scope) -> list[Hit]:
    return [h for h in scope.repo.names.get(owner, []) if h.how == "defined"]


def _members(owner_hit: Hit, scope: Scope) -> dict[str, tuple[int, object]]:
    """name -> (line, symbol) of the members of the owner defined at ``owner_hit``."""
    fi = scope.code.get(owner_hit.path) or scope.tests.get(owner_hit.path) or scope.repo._files.get(owner_hit.path)
    out = {}
    if fi is None:
        return out
    syms = _symbols(fi)
    for s in syms:
        if s.owner == owner_hit.name:
            out.setdefault(s.name, (s.line, s))
        if s.name == owner_hit.name and getattr(s, "params", None):
            for p in s.params:
                out.setdefault(p, (s.line, None))
    return out


def _match_state(a: Anchor, scope: Scope) -> Verdict | None:
    """A state of a state diagram belongs to the enum the diagram draws: the enum sharing the most
    states with the diagram. A state that enum lacks is missing, even if another enum has a member of
    that name (a step's TIMEOUT is not the saga's TIMEOUT)."""
    states = {s.upper() for s in a.parts}
    enums: dict[tuple[str, str], dict[str, int]] = {}  # (path, enum) -> MEMBER -> line
    for st in states:
        for h in scope.repo.names.get(st, []) + scope.repo.names.get(st.lower(), []) + \
                scope.repo.names.get(st.capitalize(), []):
            s = h.symbol
            if h.how == "defined" and s is not None and getattr(s, "owner", "") and \
                    s.kind in ("enum_member", "constant", "field", "variable"):
                enums.setdefault((h.path, s.owner), {})[st] = h.line
    if not enums:
        return None
    (path, enum), members = max(enums.items(), key=lambda kv: (len(kv[1]), kv[0][0] in scope.code))
    if len(members) < 2 or len(members) * 2 < len(states):
        return None
    want = a.value.upper()
    if want in members:
        return Verdict(Status.MET, [Evidence(path, members[want], f"a member of {enum}")])
    return Verdict(Status.MISSING, [Evidence(path, min(members.values()), f"{enum} draws this diagram, without {a.value}")],
                   f"the diagram's states are those of `{enum}` ({len(members)} of {len(states)}), which has no "
                   f"`{a.value}`")


def _match_receiver(a: Anchor, scope: Scope) -> Verdict | None:
    """``storage.mark_sent()`` in a code sample: the variable is named after its class. When classes of
    that name exist (OutboxStorage, PostgreSQLOutboxStorage …) the method must be one of theirs."""
    recv = a.owner.lower().strip("_")
    method = _last(a.value)
    if len(recv) < 4 or recv in ("self", "this", "cls", "client", "app", "api", "obj", "instance"):
        return None
    owners = [h for key, hits in scope.repo.classes.items() if key.endswith(recv) for h in hits]
    if not owners:
        return None
    for h in sorted(owners, key=lambda h: h.path not in scope.code):
        members = _members(h, scope)
        if method in members:
            line, sym = members[method]
            return Verdict(Status.MET, [Evidence(h.path, line, f"a method of {h.name}")])
    elsewhere = [x for x in scope.repo.names.get(method, []) if x.how == "defined"]
    names = ", ".join(sorted({h.name for h in owners})[:3])
    why = f"no {names} defines `{method}`"
    if elsewhere and elsewhere[0].symbol is not None and getattr(elsewhere[0].symbol, "owner", ""):
        why += f" ({elsewhere[0].symbol.owner}.{method} exists at {elsewhere[0].path}:{elsewhere[0].line})"
    return Verdict(Status.MISSING, [_ev(owners[0], f"{owners[0].name} is defined here, without {method}", scope)],
                   why)


def _match_member(a: Anchor, scope: Scope) -> Verdict:
    owner = a.owner
    member = _last(a.value)
    owners = _owner_symbols(owner, scope)
    if not owners:
        v = _match_names(a, (member,), scope, string_ok=False)
        if v.status is Status.MET:
            return Verdict(Status.PARTIAL, v.evidence, f"`{member}` exists, but no `{owner}` is defined")
        where = {h.path for h in scope.repo.names.get(owner, []) if h.how == "used" and h.path in scope.code}
        used = [h for h in scope.repo.names.get(member, []) if h.how == "used" and h.path in where]
        if used:
            # a type the feature's code uses but the repository does not define (Path::components, a
            # library's client), and the method called: all the code can show
            return Verdict(Status.MET, [_ev(h, f"calls {member} (of {owner}, defined outside the repository)", scope)
                                        for h in used[:MAX_EVIDENCE]], "", f"{owner} is defined outside the repository")
        return Verdict(Status.MISSING, [], f"no `{owner}` is defined, nor `{member}`")
    for h in sorted(owners, key=lambda h: h.path not in scope.code):
        members = _members(h, scope)
        if not members and h.symbol is None:  # no structural index: fall back to the file's definitions
            fi = scope.code.get(h.path)
            if fi and member in fi.defs:
                return Verdict(Status.MET, [Evidence(h.path, fi.defs[member], f"defined with {owner}")], "",
                               "member found in the same file (no parse tree)")
            continue
        if member in members:
            line, sym = members[member]
            if sym is not None and getattr(sym, "stub", False) and not getattr(sym, "abstract", False):
                return Verdict(Status.PARTIAL, [Evidence(h.path, line, f"{owner}.{member} is a stub")],
                               f"{owner}.{member} is a stub")
            return Verdict(Status.MET, [Evidence(h.path, line, f"a member of {owner}")])
    h = owners[0]
    sugg = difflib.get_close_matches(member, list(_members(h, scope)), n=1, cutoff=0.75)
    why = f"`{owner}` ({h.path}:{h.line}) has no member `{member}`" + (f"; did you mean `{sugg[0]}`?" if sugg else "")
    return Verdict(Status.MISSING, [_ev(h, f"{owner} is defined here, without {member}", scope)], why)


def _last(value: str) -> str:
    """A member's own name: `Saga.run()` → run, `Ctx::detect()` → detect."""
    return re.split(r"\.|::|#|->", value)[-1].removesuffix("()")


def _match_param(a: Anchor, scope: Scope) -> Verdict:
    """``KafkaBrokerConfig(topic=…)`` in a spec: the callable must accept ``topic``."""
    owner, param = re.split(r"\.|::", a.owner)[-1], a.value
    owners = _owner_symbols(owner, scope)
    if not owners:
        return Verdict(Status.MISSING, [], f"no `{owner}` is defined")
    for h in sorted(owners, key=lambda h: h.path not in scope.code):
        members = _members(h, scope)
        if param in members:
            return Verdict(Status.MET, [Evidence(h.path, members[param][0] or h.line, f"{owner} accepts {param}")])
        if h.symbol is None:
            fi = scope.code.get(h.path)
            if fi and param in fi.tokens:
                return Verdict(Status.MET, [Evidence(h.path, h.line, f"{owner} names {param}")], "",
                               "parameter found in the same file (no parse tree)")
    h = owners[0]
    return Verdict(Status.MISSING, [_ev(h, f"{owner} is defined here, without {param}", scope)],
                   f"`{owner}` ({h.path}:{h.line}) takes no `{param}`")


def _match_literal(a: Anchor, scope: Scope) -> Verdict:
    s = a.value
    if a.subkind == "pattern":
        parts = [re.escape(p) for p in re.split(r"\{[^}]*\}", s)]
        rx = re.compile(".+?".join(parts), re.I)
        test = rx.search
    else:
        low = s.lower()
        def test(x: str) -> bool:
            return low in x.lower()
    for inside in (True, False):
        files = scope.code if inside else {}
        for path, fi in files.items():
            for lit, line in fi.strings.items():
                if test(lit):
                    return Verdict(Status.MET if inside else Status.PARTIAL,
                                   [Evidence(path, line, "the code contains this text")])
    if a.subkind == "name":
        v = _match_names(Anchor(Kind.SYMBOL, s, "identifier"), (s, s.replace("-", "_")), scope, string_ok=True)
        if v.status is not Status.MISSING:
            return v
    if scope.read and a.subkind != "pattern":  # long strings (SQL) are not kept in the index: read the code
        # words in order; a parenthesised group may sit between them (ON CONFLICT (id) DO NOTHING)
        rx = re.compile(r"\s+(?:\([^()]{0,80}\)\s+)?".join(re.escape(w) for w in s.split()), re.I)
        for path in sorted(scope.code)[:400]:
            text = scope.read(path)
            m = rx.search(text) if text else None
            if m:
                line = text.count("\n", 0, m.start()) + 1
                src = text.splitlines()[line - 1].lstrip()
                if not src.startswith(("#", "//", "*", "/*", "--")):
                    return Verdict(Status.MET, [Evidence(path, line, "the code contains this text")])
    return Verdict(Status.MISSING, [], f"no string in the feature's code contains “{s}”")


def _match_command(a: Anchor, scope: Scope) -> Verdict:
    runner = a.subkind
    parts = list(a.parts)
    if runner in ("make", "just", "task"):
        target = parts[0] if parts else ""
        for f in ("Makefile", "makefile", "GNUmakefile", "justfile", "Justfile", "Taskfile.yml"):
            if f in scope.all_paths:
                text = scope.read(f) if scope.read else ""
                m = re.search(rf"^{re.escape(target)}\s*:", text, re.M)
                if m:
                    return Verdict(Status.MET, [Evidence(f, text.count("\n", 0, m.start()) + 1, "target defined")])
                return Verdict(Status.MISSING, [Evidence(f, 0, f"no target {target}")], f"{f} has no target `{target}`")
        return Verdict(Status.MISSING, [], f"no Makefile defines `{target}`")
    if runner == "npm":
        script = parts[0] if parts else ""
        text = scope.read("package.json") if scope.read and "package.json" in scope.all_paths else ""
        if text and re.search(rf'"{re.escape(script)}"\s*:', text):
            return Verdict(Status.MET, [Evidence("package.json", 0, "script defined")])
        return Verdict(Status.MISSING, [], f"package.json defines no script `{script}`")
    if not parts:
        return Verdict(Status.MISSING, [], "empty command")
    target = parts[0]
    files: list[str] = []
    if runner == "python -m":
        mod = target.replace(".", "/")
        for c in (mod + ".py", mod + "/__main__.py", mod + "/__init__.py", "src/" + mod + ".py",
                  "src/" + mod + "/__main__.py"):
            if c in scope.all_paths:
                files = [c]
                break
    elif runner == "program":
        files = scope.programs.get(target, [])
        if not files:
            return Verdict(Status.UNVERIFIABLE, [], f"`{target}` is a program from outside the repository")
    else:
        for c in (target, *(f"{r}/{target}" for r in scope.code_roots)):
            if c in scope.all_paths:
                files = [c]
                break
    if not files:
        base = posixpath.basename(target)
        others = scope.basenames.get(base, []) if "." in base else []
        if others:
            return Verdict(Status.PARTIAL, [Evidence(others[0], 0, "a script of that name exists elsewhere")],
                           f"no {target}; a file of that name is at {others[0]}")
        return Verdict(Status.MISSING, [], f"no {target} in the repository")
    wants = [p for p in parts[1:]]
    if not wants:
        return Verdict(Status.MET, [Evidence(files[0], 0, "exists")])
    found, lost = [], []
    words_seen = 0
    for w in wants:
        hit = _handles(w, files, scope)
        if not w.startswith("-"):
            words_seen += 1
            if hit is None and words_seen > 1:
                continue  # a later bare word: a value ("drill outlook"), unless the code names it
        (found if hit else lost).append((w, hit))
    ev = [Evidence(files[0], 0, "exists")] + [h for _, h in found if h][:MAX_EVIDENCE]
    if not lost:
        return Verdict(Status.MET, ev)
    missing = ", ".join(f"`{w}`" for w, _ in lost)
    return Verdict(Status.PARTIAL, ev, f"{files[0]} exists, but nothing handles {missing}")


def _index_of(path: str, scope: Scope) -> FileIndex | None:
    return scope.tests.get(path)


def _handles(word: str, files: list[str], scope: Scope) -> Evidence | None:
    """Where the program's code handles a subcommand or flag: argparse/click/typer/cobra names it in
    a string (``add_parser("drill")``, ``Use: "serve [spec]"``, ``"--dry-run"``) or a function is named
    for it (click and typer derive command names from functions)."""
    flag = word.startswith("-")
    keys = [word, word.lstrip("-"), word.lstrip("-").replace("-", "_")] if flag else [word, word.replace("-", "_")]
    for f in files + [p for p in scope.code if p not in files]:
        fi = scope.code.get(f) or _index_of(f, scope)
        if fi is None:
            continue
        for k in keys:
            if k in fi.strings:
                return Evidence(f, fi.strings[k], f"handles {word}")
            if not flag and k in fi.defs:
                return Evidence(f, fi.defs[k], f"handles {word}")
        if not flag:
            for s, line in fi.strings.items():
                if s.startswith(word + " ") and len(s) < 80:
                    return Evidence(f, line, f"handles {word}")
    return None


# ---- requirements ------------------------------------------------------------------------------
def _strong(a: Anchor) -> bool:
    return a.subkind not in ("mention", "scope")


_BLOCK_PACK = {"python": "python", "go": "go", "typescript": "javascript", "tsx": "javascript",
               "javascript": "javascript", "java": "java", "kotlin": "java", "rust": "rust", "csharp": "csharp",
               "ruby": "ruby"}


def evaluate_requirement(req: Requirement, scope: Scope, scenario_match) -> RequirementResult:
    searched = scope.describe()
    scope.infra_topic = bool(scope.infra) and about_infra(req.text)
    lang = req.origin[5:].rstrip("~") if req.origin.startswith("code:") else ""
    if lang in _BLOCK_PACK and scope.languages and _BLOCK_PACK[lang] not in scope.languages:
        return RequirementResult(req, Status.UNVERIFIABLE, (), "",
                                 f"an example in {lang}, a language this repository has no code in",
                                 confidence="low", confidence_reason="an example for users, not this code")
    cited = _cited(req, scope)
    result = _evaluate(req, scope, scenario_match, searched)
    if cited and result.status in (Status.MISSING, Status.PARTIAL) and not [a for a in req.anchors if _strong(a)]:
        return RequirementResult(req, Status.MET, (cited,) + result.evidence[:2], searched,
                                 f"the code cites {req.label or 'this requirement'}", confidence="low",
                                 confidence_reason="the code says it implements this requirement",
                                 matched=result.matched)
    return result


def _cited(req: Requirement, scope: Scope) -> Evidence | None:
    for key in requirement_ids(req):
        hit = scope.cited.get(key)
        if hit:
            return Evidence(hit[0], hit[1], f"the code cites {key}")
    return None


_REQ_ID = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{1,4}\b|\b[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*){2,}\b")
_ID_LEAD = re.compile(r"^[\W_]*([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{1,4}|[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*){2,})"
                      r"[*_`\]) ]*[:—–]")


def requirement_ids(req: Requirement) -> list[str]:
    """IDs a spec gives its requirements (FR-004, CORE-FR-012, REQ-7), which code comments cite."""
    out = [req.label] if req.label and _REQ_ID.fullmatch(req.label) else []
    m = _ID_LEAD.match(req.text)  # "**CORE-FR-012**: …" — an ID the spec gives, not "AES-256-GCM encryption"
    if m:
        out.append(m.group(1))
    return list(dict.fromkeys(out))


def _evaluate(req: Requirement, scope: Scope, scenario_match, searched: str) -> RequirementResult:
    strong = [a for a in req.anchors if _strong(a)]
    weak_origin = req.origin.endswith("~") or req.origin == "heading"
    if not strong:
        if req.kind in (Kind.SCENARIO, Kind.OPENSPEC_SCENARIO) and req.label:
            ev = scenario_match(req.label)
            if ev:
                return RequirementResult(req, Status.MET, (ev,), f"tests of {scope.feature}",
                                         "a test names this scenario")
        if len(req.terms) >= 2 or (req.terms and (req.anchors or req.kind in (Kind.CHECKLIST, Kind.TASK) or
                                                   req.origin == "table")):
            return _prose(req, scope, searched)
        return RequirementResult(req, Status.UNVERIFIABLE, (), "", "names nothing checkable",
                                 confidence="low", confidence_reason="names nothing checkable")
    verdicts = []
    for a in strong:
        v = match_anchor(a, scope)
        if v.status is Status.UNVERIFIABLE:
            continue
        if _vague(a, v, scope) and not a.absent:  # (a plain word the code must no longer use: its absence counts)
            continue
        verdicts.append((a, _inverted(a, v, scope) if a.absent else v))
    if not verdicts:
        if req.terms and len(req.terms) >= 2:
            return _prose(req, scope, searched)
        return RequirementResult(req, Status.UNVERIFIABLE, (), searched,
                                 "names only tools or plain words that nothing in the repository uses",
                                 confidence="low", confidence_reason="nothing checkable")
    statuses = [v.status for _, v in verdicts]
    evidence: list[Evidence] = []
    details = []
    lows = []
    for a, v in verdicts:
        evidence.extend(v.evidence)
        if (v.status is not Status.MET or a.absent) and v.why:
            details.append(f"{a.value}: {v.why}" if len(verdicts) > 1 else v.why)
        if v.low:
            lows.append(v.low)
    if all(s is Status.MET for s in statuses):
        status = Status.MET
    elif all(s is Status.MISSING for s in statuses):
        status = Status.MISSING
    else:
        status = Status.PARTIAL
    if status is Status.MET:
        # a code name the sentence gives without code formatting (`log_type`, `IconButton`) that no code
        # has at all: the formatted name alone does not carry the whole sentence
        absent = [a.value for a in req.anchors if a.subkind == "mention" and a.kind is Kind.SYMBOL and
                  _code_shaped(a.value) and not any(h.how in ("defined", "used", "string") and
                                                    h.path not in scope.spec_paths
                                                    for h in scope.repo.names.get(a.value.rstrip("()"), []))]
        if absent:
            status = Status.PARTIAL
            details.append(", ".join(f"`{n}`" for n in absent[:3]) + " named in the spec, but nowhere in the code")
            lows.append("a name written without code formatting")  # (the code may spell it otherwise)
    if status is Status.MET and len(verdicts) == 1 and verdicts[0][0].kind is Kind.PATH and \
            not verdicts[0][0].absent and verdicts[0][1].evidence and \
            req.origin in ("list", "prose") and len(req.terms) >= 3:
        # "Enhance `src/run.py` to print per-provider token usage": the file must do what the sentence says
        caveat = _in_file(req, verdicts[0][1].evidence[0].path, scope)
        if caveat:
            status = Status.PARTIAL
            details.append(caveat)
    low = ""
    if weak_origin:
        low = "read from a drawing or a heading" if req.origin.endswith("~") else "a heading's name"
    elif lows:
        low = lows[0]
    elif any(a.subkind == "word" for a, _ in verdicts) and status is not Status.MET:
        low = "a plain word in code formatting"
    return RequirementResult(req, status, tuple(evidence[: MAX_EVIDENCE * 2]), searched, "; ".join(details),
                             confidence="low" if low else "high", confidence_reason=low)


def _code_shaped(name: str) -> bool:
    """Spelt as only code spells a name: snake_case, or camelCase (`usePlaces`). Not CapitalisedWords,
    which products are named too (YouTube, OpenSpec), nor iPhone."""
    bare = name.rstrip("()")
    return bool(re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z][a-z0-9]+(?:[A-Z][a-z0-9]+)+", bare))


def _in_file(req: Requirement, path: str, scope: Scope) -> str:
    """Judge a sentence's words inside the one file it names: "" when the file holds them, otherwise why not."""
    fi = scope.code.get(path)
    if fi is None or fi.kind != "code":
        return ""
    corpus = retrieval.Corpus(retrieval.region_docs(path, fi))
    terms = [t for t in req.terms if t not in retrieval.identifier_terms(posixpath.splitext(posixpath.basename(path))[0])]
    if len(terms) < 2:
        return ""
    v = retrieval.judge(terms, corpus, scope.repo.term_df, scope.repo.code_files, {})
    if v.top is not None and v.top_share >= 0.25:
        return _caveat(v.top, scope)
    return ""


def _inverted(a: Anchor, v: Verdict, scope: Scope) -> Verdict:
    """The verdict on an anchor the spec says is gone (``Anchor.absent``): found is the gap, not found
    meets it. Something removed that is still here is missing work; a name the code must not use that
    it still names may be only a mention (a comment, a migration reading the old name): partial, low.
    A name gone from the feature's code that only another folder still has (a prototype's copy) is gone."""
    what = {Kind.PATH: "path", Kind.ENDPOINT: "route"}.get(a.kind, "name")
    gone = "no longer exists" if a.absent == "removed" else "is not used"
    if v.status is Status.MISSING:
        return Verdict(Status.MET, [], f"the spec says it {gone}, and the code has no such {what}")
    # partly found: the same thing elsewhere is still there; only something like it (a file of that name
    # in another folder, the route for another method) is not
    similar = v.status is Status.PARTIAL and (a.kind is Kind.PATH or
                                              a.kind is Kind.ENDPOINT and v.why.startswith("method differs"))
    if similar:
        return Verdict(Status.MET, [], f"the spec says it {gone}; only something like it remains ({v.why})",
                       low="something like it remains")
    if a.kind is Kind.SYMBOL and v.evidence and not any(e.path in scope.code for e in v.evidence):
        return Verdict(Status.MET, v.evidence[:1], f"gone from the feature's code ({v.evidence[0].path} still has it)",
                       low="the name is still in the repository")
    if a.absent == "removed":
        return Verdict(Status.MISSING, v.evidence, "still there, though the spec says it is removed")
    return Verdict(Status.PARTIAL, v.evidence, "the spec says the code does not use it, but the code still names it",
                   low="the name may be only mentioned")


def _vague(a: Anchor, v: Verdict, scope: Scope) -> bool:
    """A backticked plain word (`postgres`, `pending`), or a name read from a drawing, that nothing in
    the repository names is more likely a tool or a value than a missing symbol: it does not count."""
    if v.status is not Status.MISSING:
        return False
    if a.kind is Kind.SYMBOL and a.subkind in ("word", "heading"):
        return True
    return False


def _prose(req: Requirement, scope: Scope, searched: str) -> RequirementResult:
    terms = list(req.terms)
    infra = about_infra(req.text)
    corpus = scope.corpus(infra=infra)
    within = next((a.value for a in req.anchors if a.subkind == "scope"), "")
    if within:  # the sentence is about one file: judge it there
        fi = scope.code.get(within) or scope.repo._files.get(within)
        if fi is not None and fi.kind == "code":
            corpus = retrieval.Corpus(retrieval.region_docs(within, fi))
            searched = f"{within} (the file the spec names for it)"
        elif within not in scope.all_paths:
            return RequirementResult(req, Status.MISSING, (), searched, f"{within} does not exist",
                                     confidence="low", confidence_reason="judged by the words of a sentence")
    elsewhere = {t: next((p for p in scope.repo.term_where.get(t, []) if p not in scope.code), "")
                 for t in terms}
    elsewhere = {t: p for t, p in elsewhere.items() if p}
    verdict = retrieval.judge(terms, corpus, scope.repo.term_df, scope.repo.code_files, elsewhere,
                              planned=req.planned and req.claim != "done")
    mention_ev: list[Evidence] = []
    for a in req.anchors:  # identifiers the sentence names without code formatting
        if a.subkind == "scope":
            continue
        hits = [h for h in scope.repo.names.get(a.value, []) if h.how == "defined" and h.path in scope.code]
        if not hits and infra:  # a manifest that declares the object the sentence names
            hits = [h for h in scope.repo.infra_set.get(a.value, []) if h.path in scope.infra]
        if hits:
            mention_ev.append(_ev(hits[0], f"defines {a.value}", scope))
    status = {"met": Status.MET, "partial": Status.PARTIAL, "missing": Status.MISSING}[verdict.status]
    caveat = ""
    if status is Status.MET and verdict.top is not None:
        # a caveat holds only if every region that matches about as well has it (one live match will do)
        caveats = [_caveat(d, scope) for d in [verdict.top] + [d for d in verdict.close if d is not verdict.top]]
        caveat = caveats[0] if all(caveats) else ""
    if caveat:
        status = Status.PARTIAL
    if mention_ev and status is Status.MISSING:
        status = Status.PARTIAL
    ev = list(mention_ev)
    if verdict.top is not None and status is not Status.MISSING:
        ev.insert(0, Evidence(verdict.top.path, verdict.top.line,
                              "matches " + ", ".join(t for t in verdict.matched if corpus.holds(verdict.top, t))[:120]))
    detail = caveat
    if verdict.missing:
        detail += ("; " if detail else "") + ("not in the source: " if scope.located else "not in the feature's code: ") \
            + ", ".join(verdict.missing[:6])
        if verdict.elsewhere:
            detail += " (" + "; ".join(f"{t} in {p}" for t, p in verdict.elsewhere[:2]) + ")"
    rare_missing = [t for t in verdict.missing if scope.repo.term_df.get(t, 0) == 0]
    if status is Status.MET and verdict.phrase is not None and len(verdict.matched) >= 2:
        conf, why = "high", ""
    elif status is Status.MISSING and len(rare_missing) >= 2 and not verdict.matched:
        conf, why = "high", ""
    else:
        conf, why = "low", "judged by the words of a sentence, not a name in code"
    return RequirementResult(req, status, tuple(ev[:MAX_EVIDENCE]), searched, detail, confidence=conf,
                             confidence_reason=why, matched=tuple(verdict.matched))
