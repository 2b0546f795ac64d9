"""Which specs belong to which code: from the config, from {name} patterns, or discovered.

Discovery knows the common layouts: one Markdown spec per feature under docs/{ideas,features,
specs,design}/ paired with a code folder of the same name (internal/, pkg/, src/, lib/, app/,
a Python package, a Java package); spec-kit ``specs/NNN-<f>/``; OpenSpec
``openspec/specs/<f>/spec.md``; BDD ``features/<f>.feature``.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from . import globs
from .config import Config

SPEC_DOC_DIRS = ("ideas", "features", "specs", "design", "rfcs", "proposals")
CODE_ROOTS = ("internal", "pkg", "src", "lib", "app", "apps", "packages", "services", "modules", "cmd", "components")
# spec-kit: the requirements, the tasks and the data model; plan/research/quickstart describe the stack
SPECKIT_FILES = {"spec.md", "tasks.md", "data-model.md"}
_SKIP_SPEC_NAMES = {"readme", "index", "template", "_template", "overview", "glossary", "changelog", "summary"}
_SPECKIT_DIR = re.compile(r"^specs/(\d{3,})-([^/]+)/")
_OPENSPEC = re.compile(r"^openspec/specs/([^/]+)/spec\.md$")
_DOCS_SPEC = re.compile(r"^docs/(" + "|".join(SPEC_DOC_DIRS) + r")/([^/]+)\.md$", re.I)
_DOCS_SPEC_DIR = re.compile(r"^docs/(" + "|".join(SPEC_DOC_DIRS) + r")/([^/]+)/(?:README|index|spec|design)\.md$", re.I)
_BDD = re.compile(r"^(?:.*/)?features/(?:.*/)?([^/]+)\.feature$")


@dataclass(frozen=True)
class FeatureDef:
    id: str
    spec: tuple[str, ...]  # spec files (existing paths)
    code: tuple[str, ...]  # code globs
    tests: tuple[str, ...] = ()  # test globs (empty: the default rule)
    wired_from: tuple[str, ...] = ()
    source: str = "config"  # config | pattern | layout name

    @property
    def code_roots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(globs.root_of(g) for g in self.code if globs.root_of(g)))


@dataclass
class FeatureMap:
    features: list[FeatureDef] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    unpaired_specs: list[str] = field(default_factory=list)
    unpaired_code: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def get(self, fid: str) -> FeatureDef | None:
        return next((f for f in self.features if f.id == fid), None)


def norm_name(name: str) -> str:
    n = re.sub(r"[\s_.\-]+", "", name.lower())
    return n


def _name_keys(name: str) -> set[str]:
    n = norm_name(name)
    keys = {n}
    if n.endswith("s") and len(n) > 3:
        keys.add(n[:-1])
    else:
        keys.add(n + "s")
    return keys


def code_folders(paths: list[str], is_code) -> dict[str, list[str]]:
    """Candidate feature code folders → code files under them.

    A candidate is a direct child folder of a code root (internal/x, pkg/x, src/x …), of a
    Python package at the top level (or under src/), or of a Java/Kotlin base package.
    """
    dirs_with_init = {posixpath.dirname(p) for p in paths if p.endswith("/__init__.py")}
    py_roots = {d for d in dirs_with_init if d and "/" not in d} | \
               {d for d in dirs_with_init if d.startswith("src/") and d.count("/") == 1}
    folders: dict[str, list[str]] = {}
    java: list[str] = []  # files under src/main/<lang>/<package path>/
    for p in paths:
        if not is_code(p) or _NOT_SPECS.search(p):
            continue
        parts = p.split("/")
        if len(parts) < 3:
            continue
        if "src/main/" in p and len(p[p.index("src/main/"):].split("/")) >= 5:
            java.append(p)
            continue
        cand = None
        if parts[0] in CODE_ROOTS:
            cand = f"{parts[0]}/{parts[1]}"
            if parts[0] == "src" and cand in py_roots and len(parts) >= 4:
                cand = f"src/{parts[1]}/{parts[2]}"  # src/<package>/<feature>/
        elif parts[0] in py_roots:
            cand = f"{parts[0]}/{parts[1]}"
        if cand and not cand.endswith((".py", ".go", ".js", ".ts", ".java")):
            folders.setdefault(cand, []).append(p)
    if java:
        # src/main/java/com/acme/<feature>/X.java: features are the children of the deepest shared package
        pkg_dirs = sorted({posixpath.dirname(p) for p in java})
        base = posixpath.commonpath(pkg_dirs) if len(pkg_dirs) > 1 else posixpath.dirname(pkg_dirs[0])
        for p in java:
            d = posixpath.dirname(p)
            if d.startswith(base + "/"):
                folders.setdefault(f"{base}/{d[len(base) + 1:].split('/')[0]}", []).append(p)
    return folders


_NOT_SPECS = re.compile(r"(?:^|/)(?:fixtures?|testdata|test-data|vendor|node_modules|third_party|examples?|"
                        r"samples?)/")


def _discover_specs(paths: list[str]) -> list[tuple[str, tuple[str, ...], str]]:
    """(name, spec files, layout) for every spec the common layouts hold (test fixtures, vendored
    code and examples excepted)."""
    found: dict[str, tuple[str, list[str], str]] = {}
    for p in paths:
        if _NOT_SPECS.search(p):
            continue
        m = _DOCS_SPEC.match(p)
        if m and m.group(2).lower() not in _SKIP_SPEC_NAMES and not m.group(2).startswith("_"):
            key = f"docs:{p}"
            found[key] = (m.group(2), [p], f"docs/{m.group(1)}/<feature>.md")
            continue
        m = _DOCS_SPEC_DIR.match(p)
        if m and not m.group(2).startswith("_"):
            found.setdefault(f"docsdir:{m.group(1)}/{m.group(2)}", (m.group(2), [p], f"docs/{m.group(1)}/<feature>/README.md"))
            continue
        m = _SPECKIT_DIR.match(p)
        if m and posixpath.basename(p) in SPECKIT_FILES:
            key = f"speckit:{m.group(1)}-{m.group(2)}"
            entry = found.setdefault(key, (m.group(2), [], "spec-kit specs/NNN-<feature>/"))
            entry[1].append(p)
            continue
        m = _OPENSPEC.match(p)
        if m:
            found[f"openspec:{m.group(1)}"] = (m.group(1), [p], "OpenSpec openspec/specs/<feature>/spec.md")
            continue
        m = _BDD.match(p)
        if m:
            found[f"bdd:{p}"] = (m.group(1), [p], "BDD features/<feature>.feature")
    # order spec-kit files: spec.md, plan.md, tasks.md, then the rest
    order = {"spec.md": 0, "plan.md": 1, "tasks.md": 2}
    out = []
    for name, files, layout in found.values():
        files.sort(key=lambda f: (order.get(posixpath.basename(f), 9), f))
        out.append((name, tuple(files), layout))
    out.sort(key=lambda t: (t[1][0]))
    return out


def _unique_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "feature"
    fid, n = base, 2
    while fid in taken:
        fid, n = f"{base}-{n}", n + 1
    taken.add(fid)
    return fid


def _fill(patterns: tuple[str, ...], name: str) -> tuple[str, ...]:
    return tuple(g.replace("{name}", name) for g in patterns)


def _pattern_regex(spec_pattern: str) -> re.Pattern:
    before, after = spec_pattern.split("{name}", 1)
    # translate the two halves around the placeholder separately
    left = _glob_fragment(before)
    right = _glob_fragment(after)
    return re.compile(f"^{left}(?P<name>[^/]+){right}$")


def _glob_fragment(g: str) -> str:
    out = []
    i = 0
    while i < len(g):
        if g.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif g[i] == "*":
            out.append("[^/]*")
            i += 1
        elif g[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(g[i]))
            i += 1
    return "".join(out)


def resolve(config: Config, paths: list[str], is_code) -> FeatureMap:
    """Build the feature map for a snapshot's paths."""
    fmap = FeatureMap()
    index = globs.PathIndex(paths)
    taken: set[str] = set()
    claimed_specs: set[str] = set()
    for f in config.features:
        specs = index.glob_many(f.spec)
        if not specs:
            fmap.warnings.append(f"feature '{f.id}': no file matches spec {', '.join(f.spec)}")
        claimed_specs.update(specs)
        taken.add(f.id)
        fmap.features.append(FeatureDef(f.id, tuple(specs), f.code, f.tests, f.wired_from, "config"))
    if config.features:
        fmap.layouts.append("declared in config")
    for pat in config.patterns:
        rx = _pattern_regex(pat.spec)
        hits = 0
        for p in index.under(globs.literal_prefix(pat.spec.split("{name}")[0] + "*")):
            m = rx.match(p)
            if not m or p in claimed_specs:
                continue
            name = m.group("name")
            hits += 1
            fid = _unique_id(name, taken)
            claimed_specs.add(p)
            fmap.features.append(FeatureDef(fid, (p,), _fill(pat.code, name), _fill(pat.tests, name),
                                            _fill(pat.wired_from, name), "pattern"))
        fmap.layouts.append(f"pattern {pat.spec} ↔ {', '.join(pat.code)}")
        if not hits:
            fmap.warnings.append(f"pattern {pat.spec}: no file matches")
    folders = code_folders(paths, is_code)
    if config.discover:
        _discover(fmap, paths, folders, claimed_specs, taken)
    # code folders no feature claims
    claimed_roots = set()
    for f in fmap.features:
        for g in f.code:
            claimed_roots.add(globs.root_of(g))
    for folder in sorted(folders):
        if folder.startswith("cmd/"):
            continue  # entry points, not features
        if folder in claimed_roots or any(folder.startswith(r + "/") or r.startswith(folder + "/")
                                          for r in claimed_roots if r):
            continue
        fmap.unpaired_code.append(folder)
    for f in fmap.features:
        if f.code and not any(index.glob(g) for g in f.code):
            fmap.unpaired_specs.extend(f.spec[:1])
        elif not f.code:
            fmap.unpaired_specs.extend(f.spec[:1])
    return fmap


def _discover(fmap: FeatureMap, paths, folders, claimed_specs, taken) -> None:
    by_key: dict[str, list[str]] = {}
    for folder in folders:
        for k in _name_keys(posixpath.basename(folder)):
            by_key.setdefault(k, []).append(folder)
    layouts_seen: dict[str, set[str]] = {}
    for name, files, layout in _discover_specs(paths):
        if any(f in claimed_specs for f in files):
            continue
        matches: list[str] = []
        for k in _name_keys(name):
            for folder in by_key.get(k, []):
                if folder not in matches:
                    matches.append(folder)
        code = tuple(f"{m}/**" for m in matches)
        fid = _unique_id(name, taken)
        fmap.features.append(FeatureDef(fid, files, code, (), (), layout))
        claimed_specs.update(files)
        roots = {posixpath.dirname(m) + "/" for m in matches}
        layouts_seen.setdefault(layout, set()).update(roots)
    for layout, roots in layouts_seen.items():
        fmap.layouts.append(f"{layout} ↔ {', '.join(sorted(r + '<feature>/' for r in roots)) or 'no code folders'}")


def touched_features(fmap: FeatureMap, changed: list[str], config_paths=()) -> list[str]:
    """Features whose spec, code or tests a change touches. A changed config touches them all."""
    changed_set = set(changed)
    if changed_set & set(config_paths):
        return [f.id for f in fmap.features]
    index = globs.PathIndex(changed)
    out = []
    for f in fmap.features:
        if changed_set & set(f.spec) or index.glob_many(f.code) or index.glob_many(f.tests) or \
                index.glob_many(f.wired_from):
            out.append(f.id)
    return out
