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

from . import dataindex, documents as docs_mod, globs
from .config import Config, DocumentDecl
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


def _fill(patterns: tuple[str, ...], name: str, dir_case: dict[str, str] | None = None) -> tuple[str, ...]:
    """The globs with {name} filled in. The name is matched to folders the way discovery matches it,
    regardless of case: docs/{name}.md → src/{name}/** finds src/compliance/ for docs/COMPLIANCE.md."""
    out = []
    for g in patterns:
        filled = g.replace("{name}", name)
        if dir_case and "{name}" in g:
            head = globs.literal_prefix(filled).rstrip("/")
            real = dir_case.get(head.lower())
            if real and real != head:
                filled = real + filled[len(head):]
            elif not real and head:
                # docs/CONNECTORS_GMAIL.md → src/connectors-gmail/: the same name, other separators
                parent, _, leaf = head.rpartition("/")
                want = norm_name(leaf)
                alt = next((d for lo, d in dir_case.items() if posixpath.dirname(lo) == parent.lower()
                            and norm_name(posixpath.basename(lo)) == want), None)
                if alt:
                    filled = alt + filled[len(head):]
        out.append(filled)
    return tuple(out)


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


def resolve(config: Config, paths: list[str], is_code, *, read=None, parse=None) -> FeatureMap:
    """Build the feature map for a snapshot's paths.

    ``read(path)`` returns a document's text (None when it is not at hand: its role is then decided
    from its path); ``parse(path)`` returns its ParsedSpec, for documents split into sections."""
    read = read or (lambda _p: None)
    fmap = FeatureMap()
    index = globs.PathIndex(paths)
    taken: set[str] = set()
    claimed_specs: set[str] = set()
    fmap.source = source_globs(paths, is_code)
    for f in config.features:
        specs = index.glob_many(f.spec)
        if not specs:
            fmap.warnings.append(f"feature '{f.id}': no file matches spec {', '.join(f.spec)}")
        claimed_specs.update(specs)
        taken.add(f.id)
        fmap.features.append(FeatureDef(f.id, tuple(specs), f.code, f.tests, f.wired_from, "config"))
    if config.features:
        fmap.layouts.append("declared in config")
    dir_case = _dir_case(paths)
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
            fmap.features.append(FeatureDef(fid, (p,), _fill(pat.code, name, dir_case), _fill(pat.tests, name, dir_case),
                                            _fill(pat.wired_from, name, dir_case), "pattern"))
        fmap.layouts.append(f"pattern {pat.spec} ↔ {', '.join(pat.code)}")
        if not hits:
            fmap.warnings.append(f"pattern {pat.spec}: no file matches")
    for decl in config.documents:
        _declared_documents(fmap, decl, index, claimed_specs, taken, parse)
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


def _dir_case(paths: list[str]) -> dict[str, str]:
    """Folder path in lower case → as spelt in the repository (first seen)."""
    out: dict[str, str] = {}
    for p in paths:
        d = posixpath.dirname(p)
        while d and d.lower() not in out:
            out[d.lower()] = d
            d = posixpath.dirname(d)
    return out


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
            code = fmap.source if any(globs.match(g, folder + "/x") for g in fmap.source) else \
                (f"{folder}/**",) + fmap.source
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
        for line, key, _claim, _section in ps.rows:
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
        return out
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
    return out


def _declared_documents(fmap: FeatureMap, decl: DocumentDecl, index, claimed_specs, taken, parse) -> None:
    matched = index.glob_many(decl.spec)
    if not matched:
        fmap.warnings.append(f"documents: no file matches {', '.join(decl.spec)}")
        return
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
