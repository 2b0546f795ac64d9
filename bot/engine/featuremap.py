"""Which specs belong to which code: from the config, from {name} patterns, or discovered.

Discovery knows the common layouts: one Markdown spec per feature under docs/{ideas,features,
specs,design}/ paired with a code folder of the same name (internal/, pkg/, src/, lib/, app/,
a Python package, a Java package); spec-kit ``specs/NNN-<f>/``; OpenSpec
``openspec/specs/<f>/spec.md``; BDD ``features/<f>.feature``. Every other document is given a
role (``documents.classify``): roadmaps, plans, architecture documents, ADRs, guides, references
and runbooks become features of their own, judged against the code their requirements locate;
a design document about a feature that already has a spec joins that feature; claims documents
(status reports, changelogs) are kept apart to be re-checked. ``documents:`` in the config splits
a document into features by its headings, its table rows or its epics.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace

from . import dataindex, documents as docs_mod, globs, yamlsrc
from .config import Config, DocumentDecl, PatternDecl
from .errors import Problem
from .model import DocEntry

SPEC_DOC_DIRS = ("ideas", "features", "specs", "design", "rfcs", "proposals")
CODE_ROOTS = ("internal", "pkg", "src", "lib", "app", "apps", "packages", "services", "modules", "cmd", "components")
# spec-kit: the requirements, the tasks and the data model; plan/research/quickstart describe the stack
SPECKIT_FILES = {"spec.md", "tasks.md", "data-model.md"}
_SKIP_SPEC_NAMES = {"readme", "index", "template", "_template", "overview", "glossary", "changelog", "summary"}
_SPECKIT_DIR = re.compile(r"^specs/(\d{3,})-([^/]+)/")
_OPENSPEC = re.compile(r"^openspec/specs/([^/]+)/spec\.md$")
_DOCS_SPEC = re.compile(r"^docs/(" + "|".join(SPEC_DOC_DIRS) + r")/([^/]+)\.md$", re.I)
_DOCS_SPEC_DIR = re.compile(r"^docs/(" + "|".join(SPEC_DOC_DIRS) + r")/([^/]+)/(?:README|index|spec|design)\.md$", re.I)
_DESIGN_DIR = re.compile(r"^docs/(?:design|rfcs|proposals)/", re.I)
_BDD = re.compile(r"^(?:.*/)?features/(?:.*/)?([^/]+)\.feature$")


@dataclass(frozen=True)
class FeatureDef:
    id: str
    spec: tuple[str, ...]  # spec files (existing paths)
    code: tuple[str, ...]  # code globs
    tests: tuple[str, ...] = ()  # test globs (empty: the default rule)
    wired_from: tuple[str, ...] = ()
    source: str = "config"  # config | pattern | layout name | document role
    parts: tuple[tuple[str, int, int], ...] = ()  # (spec, first line, last line): only these parts of the specs
    scope: str = "declared"  # declared: the code globs are the feature's code; located: they are where to look,
    #                          and the feature's code is what its requirements' evidence locates
    document: str = ""  # a section feature: the document it is part of …
    section: str = ""  # … and its heading or row
    home: str = ""  # a located feature's likely code folder (its name matches), for display

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
    config_warnings: list[Problem] = field(default_factory=list)  # what the config names that is not here, at
    #                                                                its line (also in ``warnings``, as text)
    documents: list[DocEntry] = field(default_factory=list)  # every document considered, read or not
    claims: list[str] = field(default_factory=list)  # claims documents whose status marks are re-checked
    source: tuple[str, ...] = ()  # the repository's source globs (where located features look)

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
        if m and (posixpath.basename(p) in SPECKIT_FILES or
                  (p[m.end():].startswith("contracts/") and p.lower().endswith(".md"))):
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


def _fill(patterns: tuple[str, ...], name: str, spelling: "_Spelling | None" = None) -> tuple[str, ...]:
    """The globs with {name} filled in, each part that holds it spelt as the repository spells it,
    regardless of case or separators: docs/{name}.md → src/{name}/** finds src/compliance/ for
    docs/COMPLIANCE.md, src/connectors-gmail/ for docs/CONNECTORS_GMAIL.md."""
    out = []
    for g in patterns:
        if spelling and "{name}" in g:
            out.append(spelling.respell(g, name))
        else:
            out.append(g.replace("{name}", name))
    return tuple(out)


class _Spelling:
    """The names of every file and folder, by folder, to find one regardless of case or separators."""

    def __init__(self, paths):
        self.children: dict[str, set[str]] = {}
        self._folded: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        for p in paths:
            parent, leaf = posixpath.split(p)
            while True:
                kids = self.children.setdefault(parent, set())
                if leaf in kids:
                    break
                kids.add(leaf)
                if not parent:
                    break
                parent, leaf = posixpath.split(parent)

    def child(self, parent: str, name: str) -> str | None:
        """``name`` as spelt in the folder ``parent``: as given, in another case, or with other
        separators (CONNECTORS_GMAIL → connectors-gmail); None when the folder holds no such name."""
        kids = self.children.get(parent)
        if not kids:
            return None
        if name in kids:
            return name
        folded = self._folded.get(parent)
        if folded is None:
            folded = self._folded[parent] = ({}, {})
            for k in sorted(kids):
                folded[0].setdefault(k.lower(), k)
                folded[1].setdefault(norm_name(k), k)
        return folded[0].get(name.lower()) or (folded[1].get(norm_name(name)) if norm_name(name) else None)

    def respell(self, glob: str, name: str | None = None) -> str:
        """``glob`` with its literal parts, up to the first wildcard, spelt as the repository spells
        them. Given a name, only the parts that hold {name} are respelt, once it is filled in."""
        tpl = glob.split("/")
        parts = [t.replace("{name}", name) for t in tpl] if name is not None else list(tpl)
        real = ""
        for i, part in enumerate(parts):
            if not part or globs._MAGIC.search(part):
                break
            if name is None or "{name}" in tpl[i]:
                hit = self.child(real, part)
                if hit is None:
                    break
                parts[i] = hit
            real = f"{real}/{parts[i]}" if real else parts[i]
        return "/".join(parts)


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


def resolve(config: Config, paths: list[str], is_code, *, read=None, parse=None, all_paths=None) -> FeatureMap:
    """Build the feature map for a snapshot's paths.

    ``read(path)`` returns a document's text (None when it is not at hand: its role is then decided
    from its path); ``parse(path)`` returns its ParsedSpec, for documents split into sections.
    ``all_paths`` are every path, excluded and unreadable ones too (default: ``paths``): a glob
    the config names is checked against them to say why it matches nothing."""
    read = read or (lambda _p: None)
    fmap = FeatureMap()
    index = globs.PathIndex(paths)
    spelling = _Spelling(paths)
    check = _ConfigCheck(config, index, paths if all_paths is None else all_paths, spelling)
    taken: set[str] = set()
    claimed_specs: set[str] = set()
    fmap.source = source_globs(paths, is_code)
    for i, f in enumerate(config.features):
        for key in ("spec", "code", "tests", "wired_from"):
            check.globs(("features", i, key), f.line, getattr(f, key))
        specs = index.glob_many(f.spec)
        claimed_specs.update(specs)
        taken.add(f.id)
        # no code given: its code is the files its tasks name, else wherever its requirements are
        fmap.features.append(FeatureDef(f.id, tuple(specs), f.code, f.tests, f.wired_from, "config",
                                        scope="declared" if f.code else "located"))
    if config.features:
        fmap.layouts.append("declared in config")
    for i, pat in enumerate(config.patterns):
        rx = _pattern_regex(pat.spec)
        found: list[tuple[str, str]] = []  # (name, spec)
        claimed = 0
        for p in index.under(globs.literal_prefix(pat.spec.split("{name}")[0] + "*")):
            m = rx.match(p)
            if not m:
                continue
            if p in claimed_specs:
                claimed += 1
                continue
            name = m.group("name")
            found.append((name, p))
            fid = _unique_id(name, taken)
            claimed_specs.add(p)
            fmap.features.append(FeatureDef(fid, (p,), _fill(pat.code, name, spelling), _fill(pat.tests, name, spelling),
                                            _fill(pat.wired_from, name, spelling), "pattern"))
        fmap.layouts.append(f"pattern {pat.spec} ↔ {', '.join(pat.code)}")
        check.pattern(i, pat, found, claimed)
    for i, decl in enumerate(config.documents):
        for key in ("spec", "code", "tests"):
            check.globs(("documents", i, key), decl.line, getattr(decl, key))
        _declared_documents(fmap, decl, index, claimed_specs, taken, parse)
    check.excludes()
    fmap.config_warnings = sorted(check.problems, key=lambda p: (p.line, p.column))
    fmap.warnings[:0] = [str(p) for p in fmap.config_warnings]
    folders = code_folders(paths, is_code)
    if config.discover:
        _discover(fmap, paths, folders, claimed_specs, taken)
        _discover_documents(fmap, paths, is_code, folders, claimed_specs, taken, read)
    _inventory(fmap, paths, is_code, read)
    # code folders no feature claims
    claimed_roots = set()
    for f in fmap.features:
        if f.scope == "declared":
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
        if f.scope == "located":
            continue
        if f.code and not any(index.glob(g) for g in f.code):
            fmap.unpaired_specs.extend(f.spec[:1])
        elif not f.code:
            fmap.unpaired_specs.extend(f.spec[:1])
    return fmap


class _ConfigCheck:
    """What the config names that is not here: every glob that matches no file, as a warning at its
    line in the config with what to do about it. Without it a misspelt path passes silently: the
    feature has no code, the pattern declares nothing, nothing is excluded."""

    def __init__(self, config: Config, index: globs.PathIndex, all_paths, spelling: _Spelling):
        self.config = config
        self.index = index  # the paths features read (exclusions applied)
        self._all_paths = all_paths
        self._everything: globs.PathIndex | None = None
        self.spelling = spelling
        self.problems: list[Problem] = []

    @property
    def everything(self) -> globs.PathIndex:
        """Every path, excluded and unreadable ones too (built when a glob first matches nothing)."""
        if self._everything is None:
            self._everything = globs.PathIndex(self._all_paths)
        return self._everything

    def warn(self, path: tuple, line: int, message: str, hint: str) -> None:
        at = yamlsrc._mark(self.config.marks, path)
        if not at[0]:
            at = (line, 0)  # a config built in code: the entry's line, if any
        self.problems.append(Problem(self.config.source or "config", *at, yamlsrc.format_path(path), message, hint))

    def _place(self, key: tuple, j: int) -> tuple:
        """Where a key's j-th glob is: an item of its list, or the key when it holds one string."""
        node = self.config.raw
        for k in key:
            if isinstance(node, dict):
                node = node.get(k)
            elif isinstance(node, list) and isinstance(k, int) and k < len(node):
                node = node[k]
            else:
                node = None
        return key if isinstance(node, str) else key + (j,)

    def _excluded(self, path: str) -> bool:
        return any(globs.match(x, path) for x in self.config.exclude)

    def state(self, g: str) -> str:
        """``found``; ``excluded`` when every file it matches is excluded; else ``none``. A glob
        that matches only unreadable files (binary, too large) still matches files."""
        if self.index.glob(g):
            return "found"
        hidden = self.everything.glob(g)
        if not hidden:
            return "none"
        return "excluded" if any(self._excluded(p) for p in hidden) else "found"

    def suggest(self, g: str, matches) -> str | None:
        """A spelling of ``g`` for which ``matches(glob)`` holds: its folders and files as the
        repository spells them, a folder's files rather than the folder, no leading ``/`` or ``../``."""
        tries = []
        for form in dict.fromkeys((g, re.sub(r"^(?:\.\.?/|/)+", "", g))):
            respelt = self.spelling.respell(form)
            tries.append(respelt)
            if not globs._MAGIC.search(respelt.replace("{name}", "")) and not respelt.endswith("/"):
                tries.append(respelt + "/")  # a folder: everything below it
        return next((t for t in dict.fromkeys(tries) if t != g and matches(t)), None)

    def case_blind(self, g: str, index: globs.PathIndex) -> str | None:
        """A file the glob matches only when case is ignored."""
        rx = re.compile(globs._compile(globs.normalise(g)).pattern, re.I)
        return next((p for p in index.paths if rx.match(p)), None)

    def hint(self, g: str, default: str, index: globs.PathIndex) -> str:
        better = self.suggest(g, lambda t: bool(index.glob(t)))
        if better:
            return f"did you mean `{better}`?"
        near = self.case_blind(g, index)
        if near:
            return f"globs are case-sensitive: `{near}` matches it only when case is ignored"
        return default

    def globs(self, key: tuple, line: int, values: tuple[str, ...]) -> None:
        for j, g in enumerate(values):
            self.glob(key, j, line, g)

    def glob(self, key: tuple, j: int, line: int, g: str) -> None:
        state = self.state(g)
        if state == "excluded":
            self.warn(self._place(key, j), line, f"every file `{g}` matches is excluded",
                      "an `exclude` glob hides them all: narrow `exclude`, or drop this glob")
        elif state == "none":
            self.warn(self._place(key, j), line, f"no file matches `{g}`",
                      self.hint(g, "is the path relative to the repository root?", self.index))

    def pattern(self, i: int, pat: PatternDecl, found: list[tuple[str, str]], claimed: int) -> None:
        """A pattern's spec glob, then each of its globs with {name} filled in for every spec it matched."""
        base = ("patterns", i)
        if not found:
            if claimed:
                self.warn(base + ("spec",), pat.line, f"every file `{pat.spec}` matches is already another "
                          "feature's spec", "so this pattern declares no feature: drop it, or the feature that "
                          "names those files")
                return
            better = self.suggest(pat.spec, lambda t: t.count("{name}") == 1 and
                                  any(_pattern_regex(t).match(p) for p in self.index.paths))
            self.warn(base + ("spec",), pat.line, f"no file matches `{pat.spec}`",
                      f"did you mean `{better}`?" if better else
                      "so this pattern declares no feature: is the path relative to the repository root?")
            return
        for key in ("code", "tests", "wired_from"):
            for j, g in enumerate(getattr(pat, key)):
                if "{name}" not in g:
                    self.glob(base + (key,), j, pat.line, g)
                    continue
                missing = [(name, spec, filled) for name, spec in found for filled in _fill((g,), name, self.spelling)
                           if self.state(filled) != "found"]
                if not missing:
                    continue
                name, spec, filled = missing[0]
                k, n = len(missing), len(found)
                example = f"`{name}` ({spec}) → `{filled}`"
                if n == 1:
                    message = f"no file matches `{g}` for its one name: {example}"
                elif k == n:
                    message = f"no file matches `{g}` for any of its {n} names, e.g. {example}"
                else:
                    message = f"no file matches `{g}` for {k} of its {n} names, e.g. {example}"
                better = self.suggest(g, lambda t: any(self.state(_fill((t,), other, self.spelling)[0]) == "found"
                                                       for other, _spec, _filled in missing))
                if self.state(filled) == "excluded":
                    hint = f"an `exclude` glob hides every file `{filled}` matches"
                elif better:
                    hint = f"did you mean `{better}`?"
                elif k == n:
                    hint = self.hint(filled, "is the path relative to the repository root?", self.index)
                else:
                    hint = "those features have none here yet, or their files are named unlike their specs"
                self.warn(self._place(base + (key,), j), pat.line, message, hint)

    def excludes(self) -> None:
        """``exclude`` globs that match no file at all: they exclude nothing."""
        for j, g in enumerate(self.config.exclude):
            if not self.everything.glob(g):
                self.warn(self._place(("exclude",), j), 0, f"no file matches `{g}`",
                          self.hint(g, "it excludes nothing: is the path relative to the repository root?",
                                    self.everything))


_LOCKFILE = re.compile(r"(?:^|/)(?:[\w.-]+\.lock|package-lock\.json|pnpm-lock\.ya?ml|npm-shrinkwrap\.json|"
                       r"go\.sum|composer\.lock|Gemfile\.lock|poetry\.lock|uv\.lock|Cargo\.lock)$")


def source_globs(paths: list[str], is_code) -> tuple[str, ...]:
    """Where a repository's own source lives: every top-level folder holding code (not documentation,
    tests, examples, vendored or generated folders), ``.github/workflows``, and the code and build
    files at the root. Folders of configuration only (k8s/, deploy/) are left out: a setting that
    only a manifest sets is not implemented until code reads it."""
    tops: set[str] = set()
    root_files: list[str] = []
    workflows = False
    for p in paths:
        if "/" not in p:
            if (is_code(p) or p.startswith(("Makefile", "Dockerfile")) or _COMPOSE.match(p)) and \
                    not _LOCKFILE.search(p):
                root_files.append(p)
            continue
        top = p.split("/", 1)[0]
        if top in tops:
            continue
        if top == ".github":
            workflows = workflows or p.startswith(".github/workflows/")
            continue
        if not is_code(p):
            continue
        low = top.lower()
        if top.startswith(".") or low in docs_mod.DOC_ROOTS or docs_mod._DOC_ROOT.match(low) or \
                low in docs_mod._SKIP_DIRS or low in docs_mod._ARCHIVE_DIRS or _NOT_SPECS.search(top + "/"):
            continue
        tops.add(top)
    out = [f"{t}/**" for t in sorted(tops)]
    if workflows:
        out.append(".github/workflows/**")
    return tuple(out + sorted(root_files))


_COMPOSE = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$")


def _discover(fmap: FeatureMap, paths, folders, claimed_specs, taken) -> None:
    by_key = _folder_keys(folders)
    layouts_seen: dict[str, set[str]] = {}
    for name, files, layout in _discover_specs(paths):
        if any(f in claimed_specs for f in files):
            continue
        matches = _matching_folders(name, by_key)
        if not matches and _DESIGN_DIR.match(files[0]):
            continue  # a design document or proposal may be about a feature specced elsewhere: read it first
        fid = _unique_id(name, taken)
        if matches:
            fmap.features.append(FeatureDef(fid, files, tuple(f"{m}/**" for m in matches), (), (), layout))
        elif layout.startswith("spec-kit"):
            # its code is the files its tasks name (read with the spec), else wherever its requirements are
            fmap.features.append(FeatureDef(fid, files, (), (), (), layout, scope="located"))
        else:
            # no folder of its name: its code is wherever its requirements are implemented
            fmap.features.append(FeatureDef(fid, files, fmap.source, (), (), layout, scope="located"))
        claimed_specs.update(files)
        roots = {posixpath.dirname(m) + "/" for m in matches}
        layouts_seen.setdefault(layout, set()).update(roots)
    for layout, roots in layouts_seen.items():
        fmap.layouts.append(f"{layout} ↔ {', '.join(sorted(r + '<feature>/' for r in roots)) or 'the code its requirements name'}")


def _folder_keys(folders) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = {}
    for folder in folders:
        for k in _name_keys(posixpath.basename(folder)):
            by_key.setdefault(k, []).append(folder)
    return by_key


def _matching_folders(name: str, by_key: dict[str, list[str]]) -> list[str]:
    matches: list[str] = []
    for k in _name_keys(name):
        for folder in by_key.get(k, []):
            if folder not in matches:
                matches.append(folder)
    return matches


_GENERIC_TITLE_WORDS = {"design", "document", "doc", "docs", "spec", "specification", "rfc", "proposal", "the", "a",
                        "an", "of", "for", "and", "overview", "technical", "architecture", "draft", "v", "notes",
                        "plan", "implementation", "feature", "system", "adr", "decision", "record"}


def _subject_words(text: str) -> list[str]:
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w and not w.isdigit()]
    return [w for w in words if w not in _GENERIC_TITLE_WORDS and not re.fullmatch(r"[a-z]?\d+[a-z]?", w)]


def _joins(title: str, name: str, features: list[FeatureDef]) -> FeatureDef | None:
    """The feature a design document is about, when its title (or, failing that, its file name) names
    exactly one feature that already has a spec: "Admin API Design Document" → admin-api."""
    for text in (title, name):
        subject = "".join(_subject_words(text))
        if len(subject) < 4:
            continue
        hits = [f for f in features if f.source not in ("config",) and not f.document
                and len(norm_name(f.id)) >= 4 and (subject in _name_keys(f.id) or norm_name(f.id) == subject)]
        if len(hits) == 1:
            return hits[0]
    return None


def _doc_id(path: str) -> str:
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem.lower() in ("readme", "index", "_index", "spec", "design", "overview") and "/" in path:
        parent = posixpath.basename(posixpath.dirname(path))
        stem = parent if stem.lower() != "overview" else f"{parent}-overview"
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-.") or "document"


def _discover_documents(fmap: FeatureMap, paths, is_code, folders, claimed_specs, taken, read) -> None:
    """Every document not yet claimed: a feature of its own when its role is read, joined to the
    feature it is about, kept aside when it is a claims document."""
    code_dirs = _code_dirs(paths, is_code)
    by_key = _folder_keys(folders)
    # a feature that is a folder (spec-kit, OpenSpec, docs/features/<f>/): the folder's other documents
    # (plan, research, quickstart, checklists) describe how it is built, not what it must do
    owned = {posixpath.dirname(f.spec[0]) + "/": f.id for f in fmap.features
             if f.spec and (f.source.startswith(("spec-kit", "OpenSpec")) or "<feature>/" in f.source)}
    found = 0
    for p in paths:
        if p in claimed_specs or not docs_mod.is_doc(p):
            continue
        owner = next((fid for d, fid in owned.items() if p.startswith(d)), None)
        if owner:
            fmap.documents.append(_entry(p, "skipped", f"in the folder of feature '{owner}': how it is built "
                                         "(plan, research, checklists), not what it must do"))
            claimed_specs.add(p)
            continue
        text = read(p)
        role = docs_mod.classify(p, text, code_dirs=code_dirs)
        if role.role == "claims":
            fmap.claims.append(p)
        if not role.read:
            continue
        claimed_specs.add(p)
        name = posixpath.splitext(posixpath.basename(p))[0]
        target = None
        if role.role in ("architecture", "spec", "rfc", "requirements") and p.lower().count("/") >= 1:
            target = _joins(role.title, name, fmap.features)
        if target is not None:
            i = fmap.features.index(target)
            fmap.features[i] = replace(target, spec=target.spec + (p,))
            fmap.documents.append(_entry(p, role.role, f"{role.why}; it is about '{target.id}', so it joins that "
                                           "feature as a second spec", (target.id,), role.title))
            continue
        fid = _unique_id(_doc_id(p), taken)
        home = next(iter(_matching_folders(_doc_id(p), by_key)), "")
        if role.role == "component":  # a folder's README: it looks in its folder first, then the source
            folder = posixpath.dirname(p)
            code = (f"{folder}/**",) + fmap.source  # its folder's files are its own code, inside the source too
            fmap.features.append(FeatureDef(fid, (p,), code, (), (), role.role, scope="located", home=folder))
        else:
            fmap.features.append(FeatureDef(fid, (p,), fmap.source, (), (), role.role, scope="located", home=home))
        fmap.documents.append(_entry(p, role.role, role.why, (fid,), role.title))
        found += 1
    if found:
        fmap.layouts.append(f"{found} document{'s' if found != 1 else ''} read as features (roadmaps, plans, "
                            "architecture, ADRs, guides, references), judged against the code their requirements name")


def _entry(path: str, role: str, why: str, features: tuple[str, ...] = (), title: str = "") -> DocEntry:
    label = "named in the config" if role == "config" else docs_mod.ROLE_NAMES.get(role, role)
    return DocEntry(path, role, label, why, features, title)


def _code_dirs(paths, is_code) -> set[str]:
    """Folders holding code or infrastructure files, at any depth."""
    out: set[str] = set()
    for p in paths:
        if "/" in p and (is_code(p) or dataindex.is_data(p)):
            d = posixpath.dirname(p)
            while d and d not in out:
                out.add(d)
                d = posixpath.dirname(d)
    return out


def _inventory(fmap: FeatureMap, paths, is_code, read) -> None:
    """Complete the list of documents: the specs features claim by config, pattern or layout, and
    every document not read, with the reason."""
    listed = {d.path for d in fmap.documents}
    by_spec: dict[str, list[str]] = {}
    source_of: dict[str, str] = {}
    for f in fmap.features:
        for sp in f.spec:
            by_spec.setdefault(sp, []).append(f.id)
            source_of.setdefault(sp, f.source)
    code_dirs = None
    for p in paths:
        if p in listed:
            continue
        if p in by_spec:
            src = source_of[p]
            why = {"config": "named in the config", "pattern": "matched by a pattern in the config"}.get(
                src, f"layout {src}" if "<" in src or "/" in src else src)
            role = "config" if src in ("config", "pattern") else "spec"
            fmap.documents.append(_entry(p, role, why, tuple(dict.fromkeys(by_spec[p]))))
            continue
        if not docs_mod.is_doc(p):
            continue
        if code_dirs is None:
            code_dirs = _code_dirs(paths, is_code)
        r = docs_mod.classify(p, read(p), code_dirs=code_dirs)
        if r.role == "claims" and p not in fmap.claims:
            fmap.claims.append(p)  # what a status report says is done is re-checked, config or not
        why = r.why if not r.read else f"{r.why}; not read: discovery is off (the config lists the features)"
        fmap.documents.append(_entry(p, r.role if not r.read else "skipped", why, (), r.title))
    fmap.documents.sort(key=lambda d: d.path)


_SPLIT_WORDS = re.compile(r"^\W*(?:epic|feature|story|capability|theme|initiative|component|service|module)\b", re.I)


def sections(ps, split: str, level: int | None = None) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    """A document's features by its structure: (title, line ranges).

    ``headings``: one per heading at ``level`` (default: the shallowest level below the title that
    has at least two headings), from the heading to the next one at that level or above;
    ``epics``: one per heading that names an epic, feature or story; ``rows``: one per table row
    with a feature name and a requirement, joined by a section whose heading names the same thing."""
    end_line = max(ps.lines, max((r.line for r in ps.requirements), default=0)) + 1
    heads = ps.headings
    if split == "rows":
        req_lines = {r.line for r in ps.requirements}
        out = []
        # the rows of feature matrices (a Status column) when the document has any: its other tables
        # (file lists, comparisons, settings) describe, they do not list features
        rows = [r for r in ps.rows if r[0] in ps.matrix_rows] or ps.rows
        for line, key, _claim, _section in rows:
            title = re.sub(r"[*_`]|\[([^\]]*)\]\([^)]*\)", r"\1", key).strip()
            if line not in req_lines or not re.search(r"[A-Za-z]{2}", title):
                continue
            ranges = [(line, line)]
            want = norm_name(title)
            for i, (lv, ht, hl) in enumerate(heads):
                hn = norm_name(re.sub(r"\s*\(.*\)$", "", ht))
                if hl != line and len(want) >= 4 and (hn == want or hn.startswith(want)):
                    nxt = next((h[2] for h in heads[i + 1:] if h[0] <= lv), end_line)
                    ranges.append((hl, nxt - 1))
                    break
            out.append((title, tuple(ranges)))
        return _with_rest(out, ps)
    if split == "epics":
        marked = [h for h in heads if _SPLIT_WORDS.match(h[1])]
        if marked:
            level = min(h[0] for h in marked)
        split = "headings"
    if split != "headings" or not heads:
        return []
    if level is None:
        counts: dict[int, int] = {}
        for lv, _t, _l in heads:
            counts[lv] = counts.get(lv, 0) + 1
        level = next((lv for lv in sorted(counts) if lv > 1 and counts[lv] >= 2), None) or \
            next((lv for lv in sorted(counts) if counts[lv] >= 2), heads[0][0])
    out = []
    at = [i for i, h in enumerate(heads) if h[0] == level]
    first = heads[at[0]][2] if at else end_line
    if any(r.line < first for r in ps.requirements):
        out.append(("(introduction)", ((1, first - 1),)))
    for i in at:
        lv, title, line = heads[i]
        nxt = next((h[2] for h in heads[i + 1:] if h[0] <= lv), end_line)
        out.append((re.sub(r"^[\d.)\s]+", "", title).strip() or title, ((line, nxt - 1),)))
    return _with_rest(out, ps)


REST = "(rest of the document)"


def _with_rest(parts: list, ps) -> list:
    """The parts, and one more for the requirements none of them covers (prose around a feature
    matrix, a section above the split level), so that splitting a document never drops any of it."""
    if not parts:
        return parts
    covered = [rng for _t, ranges in parts for rng in ranges]
    left = sorted({r.line for r in ps.requirements if not any(a <= r.line <= b for a, b in covered)})
    if not left:
        return parts
    merged: list[list[int]] = []
    for line in left:
        if merged and line <= merged[-1][1] + 1:
            merged[-1][1] = line
        else:
            merged.append([line, line])
    return parts + [(REST, tuple((a, b) for a, b in merged))]


def _declared_documents(fmap: FeatureMap, decl: DocumentDecl, index, claimed_specs, taken, parse) -> None:
    matched = index.glob_many(decl.spec)
    if not matched:
        return  # said where the config names it (_ConfigCheck)
    code = decl.code or fmap.source
    for path in matched:
        if path in claimed_specs:
            continue
        claimed_specs.add(path)
        prefix = decl.id or _doc_id(path)
        if decl.split == "none":
            fid = _unique_id(prefix if len(matched) == 1 or not decl.id else f"{prefix}-{_doc_id(path)}", taken)
            fmap.features.append(FeatureDef(fid, (path,), code, decl.tests, (), "document", scope="located",
                                            document=path))
            fmap.documents.append(_entry(path, "config", "listed under documents: in the config", (fid,)))
            continue
        ps = parse(path) if parse else None
        parts = sections(ps, decl.split, decl.level) if ps is not None else []
        ids = []
        for title, ranges in parts:
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48].strip("-") or "section"
            fid = _unique_id(f"{prefix}.{slug}", taken)
            ids.append(fid)
            fmap.features.append(FeatureDef(fid, (path,), code, decl.tests, (), f"document ({decl.split})",
                                            parts=tuple((path, a, b) for a, b in ranges), scope="located",
                                            document=path, section=title))
        if not parts:
            fmap.warnings.append(f"documents: {path} has no {_SPLIT_NOUN[decl.split]} to split into features"
                                 + ("" if ps is not None else " (it could not be read)"))
        fmap.documents.append(_entry(path, "config", f"split by {_SPLIT_NOUN[decl.split]} (documents: in the config)",
                                       tuple(ids)))
    fmap.layouts.append(f"documents {', '.join(decl.spec)} split by {_SPLIT_NOUN[decl.split]}")


_SPLIT_NOUN = {"headings": "headings", "rows": "table rows", "epics": "epics", "none": "nothing"}


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
