"""A config proposed for a repository: what `driftbot init` prints and the App's onboarding pull
request holds.

The proposal starts from what discovery finds with no config, and makes it explicit and sharper:
features paired with their code folders; documents whose structure defines features split by it (a
roadmap's feature matrix by rows, an architecture document with a section per component by
headings, a BDD document by epics); other read documents listed, grouped by folder; generated and
vendored code excluded. Every entry carries the reason it is there, written as a comment above it,
so that whoever reviews the file can tell a guess from a fact. Pure: it reads only the snapshot.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace

import yaml

from . import documents as docs_mod, featuremap as fm_mod, globs
from .config import Config
from .model import DocEntry
from .snapshot import Snapshot

CONFIG_PATH = ".github/driftbot.yml"


@dataclass
class Entry:
    """One entry of the proposed config, with why it is there."""

    section: str  # features | documents | exclude
    body: dict | str  # the YAML value of the list item
    why: list[str]  # comment lines above it
    specs: tuple[str, ...] = ()  # the documents it reads
    ids: tuple[str, ...] = ()  # the features it declares (filled in once the proposal is evaluated)
    label: str = ""  # documents: the role of the documents, in words (roadmap, decision record, …)


@dataclass
class Proposal:
    name: str
    entries: list[Entry] = field(default_factory=list)
    not_read: list[DocEntry] = field(default_factory=list)  # documents left out, with their role and why
    claims: list[str] = field(default_factory=list)  # claims documents (re-checked, not read as requirements)

    def specs(self) -> set[str]:
        """Every document the proposed config reads."""
        return {s for e in self.entries for s in e.specs}

    def count(self, section: str) -> int:
        return sum(1 for e in self.entries if e.section == section)

    def paired(self) -> int:
        """Features paired with a code folder."""
        return sum(1 for e in self.entries if e.section == "features" and "code" in e.body)

    def unpaired(self) -> int:
        """Specs of a known layout with no folder of their name (their code is found by their requirements)."""
        return sum(1 for e in self.entries if e.section == "features" and "code" not in e.body)

    def documents_read(self) -> dict[str, int]:
        """The documents the ``documents:`` entries read, counted by role."""
        out: dict[str, int] = {}
        for e in self.entries:
            if e.section == "documents":
                out[e.label] = out.get(e.label, 0) + len(e.specs)
        return out

    def roles_phrase(self, most: int = 4) -> str:
        """“roadmap 1, architecture / design 4”: the documents read, by role (the most common few)."""
        ranked = sorted(self.documents_read().items(), key=lambda kv: (-kv[1], kv[0]))
        rest = sum(n for _l, n in ranked[most:])
        return ", ".join(f"{label} {n}" for label, n in ranked[:most]) + (f", other {rest}" if rest else "")

    def splits(self) -> set[str]:
        return {e.body.get("split") for e in self.entries if e.section == "documents" and e.body.get("split")}

    def render(self) -> str:
        """The config file: YAML, every entry under the comment that says why."""
        out = [f"# driftbot config for {self.name}, proposed by `driftbot init` from the repository's layout.",
               "# Each entry says why it is here: keep what is right, correct what is not. `driftbot validate`",
               "# checks this file against the repository; `driftbot report` shows what it finds.",
               "version: 1", ""]
        for section, intro in (
                ("features", "Features from specs of a known layout. `code:` is the folder of the same name; "
                             "without it, the code is wherever the spec's requirements are implemented."),
                ("documents", "Documents read as requirements. Without `code:` each is judged against the "
                              "repository's source, its code being wherever its requirements are implemented; "
                              "`split:` makes one feature per heading, table row or epic."),
                ("exclude", "Never read: generated or vendored code (its names would count as evidence).")):
            items = [e for e in self.entries if e.section == section]
            if not items:
                continue
            out += _comment(intro, "")
            out.append(f"{section}:")
            for e in items:
                for line in e.why:
                    out += _comment(line, "  ")
                out += _item(e.body)
            out.append("")
        if self.claims or self.not_read:
            out += _comment("Not read as requirements (driftbot report lists every document and why):", "")
            if self.claims:
                out += _comment("claims documents — status reports, changelogs, summaries: their status marks "
                                "are re-checked against the code instead: " + _paths(self.claims), "#   ")
            groups: dict[str, list[str]] = {}
            for d in self.not_read:
                groups.setdefault(d.label, []).append(d.path)
            for label, paths in sorted(groups.items()):
                out += _comment(f"{label}: {_paths(paths)}", "#   ")
        return "\n".join(out).rstrip() + "\n"


def _comment(text: str, indent: str, width: int = 100) -> list[str]:
    """``text`` as comment lines of at most ``width`` characters (``indent`` may itself start a comment)."""
    lead = indent if indent.lstrip().startswith("#") else indent + "# "
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(lead) + len(cur) + 1 + len(w) > width:
            lines.append(lead + cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(lead + cur)
    cont = re.sub(r"#   $", "#     ", lead)
    return lines[:1] + [cont + line[len(lead):] for line in lines[1:]]


def _paths(paths: list[str], most: int = 12) -> str:
    """Paths named one by one when few, else by folder, as deep as keeps the list short:
    "openspec/changes/archive/ (210 documents), docs/notes.md"."""
    if len(paths) <= 4:
        return ", ".join(paths)
    best: list[tuple[str, int]] = [("", len(paths))]
    for depth in range(1, 8):
        groups: dict[str, int] = {}
        for p in paths:
            parts = p.split("/")
            key = "/".join(parts[:depth]) + "/" if len(parts) > depth else p
            groups[key] = groups.get(key, 0) + 1
        if len(groups) > most:
            break
        best = sorted(groups.items())
        if all(n == 1 for _k, n in best):
            break
    return ", ".join(k if n == 1 else f"{k or 'the repository root/'} ({n} documents)" for k, n in best)


def _scalar(v) -> str:
    return yaml.safe_dump(v, default_style=None, width=1000).strip().removesuffix("\n...").strip()


def _item(body) -> list[str]:
    if isinstance(body, str):
        return [f"  - {_scalar(body)}"]
    lines = []
    for i, (k, v) in enumerate(body.items()):
        lead = "  - " if i == 0 else "    "
        if isinstance(v, (list, tuple)) and len(v) == 1:
            v = v[0]
        if isinstance(v, (list, tuple)):
            flow = "[" + ", ".join(_scalar(x) for x in v) + "]"
            if len(lead) + len(k) + 2 + len(flow) <= 110:
                lines.append(f"{lead}{k}: {flow}")
            else:
                lines.append(f"{lead}{k}:")
                lines += [f"      - {_scalar(x)}" for x in v]
        else:
            lines.append(f"{lead}{k}: {_scalar(v)}")
    return lines


def _glob_of(path: str) -> str:
    """A path as a glob that matches exactly it."""
    return globs.escape(path)


# --- deciding how a document defines features --------------------------------------------------------

@dataclass
class _Split:
    split: str  # none | rows | headings | epics
    level: int | None
    why: str


_ONE_DECISION = {"adr", "rfc"}
_ROWS_ROLES = {"roadmap", "plan", "spec", "requirements"}
_SECTION_ROLES = {"architecture", "component"}  # documents that describe parts of the code


def _req_lines(ps) -> list[int]:
    return [r.line for r in ps.requirements]


_EPIC_HEAD = re.compile(r"^\W*(?:epic|feature|user story|story)\s*(?:[#\d][\w.-]*\s*)?[:—–-]\s*\S", re.I)
_STAGE_HEAD = re.compile(r"^\W*(?:phase|milestone|stage|release|iteration|sprint|increment|wave|step)\s*"
                        r"[#\w.]{0,8}\s*(?:[:—–.()-]|$)", re.I)


def _split_of(ps, role: str, folders_by_key) -> _Split:
    """How a document defines features: by the rows of a feature matrix, by its phases or milestones,
    by a section per epic or per component, or as a whole."""
    if ps is None or not ps.requirements or role in _ONE_DECISION:
        return _Split("none", None, "")  # a decision record is one decision, whatever its tables hold
    req = _req_lines(ps)
    rows = [t for t, _r in fm_mod.sections(ps, "rows") if t != fm_mod.REST] if ps.matrix_rows else []
    claimed = sum(1 for line, _k, claim, _s in ps.rows if claim and line in ps.matrix_rows)
    enough = 3 if role in ("roadmap", "plan") else 5  # a spec's small status table is not its feature list
    if role in _ROWS_ROLES and len(rows) >= enough and claimed * 2 >= len(rows):
        return _Split("rows", None, f"a feature matrix (a table with a Status column): one feature per row "
                                    f"({len(rows)} rows)")
    heads = ps.headings
    if role in _ROWS_ROLES:
        stages = _level_of(heads, _STAGE_HEAD)
        if stages:
            level, n = stages
            return _Split("headings", level, f"a plan by stages: one feature per phase or milestone "
                                             f"({n} level-{level} headings)")
    epics = _level_of(heads, _EPIC_HEAD)
    if epics:
        level, n = epics
        return _Split("headings", level, f"one feature per epic or story ({n} level-{level} headings)")
    if role not in _SECTION_ROLES:
        return _Split("none", None, "")
    best = None
    for level in sorted({h[0] for h in heads if h[0] >= 2}):
        if best:
            break  # the broadest level whose sections are components
        parts = [(t, rng) for t, rng in fm_mod.sections(ps, "headings", level) if t not in ("(introduction)", fm_mod.REST)]
        if len(parts) < 3:
            continue
        with_reqs = [t for t, rng in parts if any(a <= line <= b for a, b in rng for line in req)]
        named = [t for t in with_reqs if _names_folder(t, folders_by_key)]
        distinct = {_names_folder(t, folders_by_key) for t in named}
        if len(distinct) >= 3 and len(named) * 4 >= len(parts) and len(with_reqs) * 2 >= len(parts):
            best = (level, len(named), len(parts), named)
    if best:
        level, n, total, named = best
        sample = ", ".join(f"“{t}”" for t in named[:3])
        return _Split("headings", level, f"a section per component: one feature per level-{level} heading "
                      f"({total} sections; {n} name a code folder or module, e.g. {sample})")
    return _Split("none", None, "")


def _level_of(heads, pattern: re.Pattern) -> tuple[int, int] | None:
    """The heading level at which most headings match ``pattern``, when at least three do and they
    are most of that level's headings: (level, how many)."""
    best = None
    for level in sorted({h[0] for h in heads}):
        at = [h for h in heads if h[0] == level]
        hits = sum(1 for h in at if pattern.match(h[1]))
        if hits >= 3 and hits * 2 >= len(at) and (best is None or hits > best[1]):
            best = (level, hits)
    return best


def _names_folder(title: str, folders_by_key) -> str:
    """Does a heading's subject name a code folder or module: its first word, or its first two
    ("Outbox Components" → sagaz/outbox/, "Compensation Graph" → compensation_graph.py)? A heading
    that only mentions one further on ("Option B — Prometheus first") is about something else."""
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"^[\d.)\s]+", "", title.lower())) if w]
    cands = words[:1] + ([words[0] + words[1]] if len(words) > 1 else [])
    return next((fm_mod.norm_name(c) for c in cands if len(c) >= 4 and fm_mod.norm_name(c) in folders_by_key), "")


# --- generated and vendored code ----------------------------------------------------------------------

_GENERATED_SUFFIXES = (("**/*.pb.go", "generated by protoc (Go)"), ("**/*_pb2.py", "generated by protoc (Python)"),
                       ("**/*_pb2_grpc.py", "generated by gRPC (Python)"),
                       ("**/*.pb.ts", "generated by protoc (TypeScript)"),
                       ("**/*_grpc.pb.go", "generated by gRPC (Go)"),
                       ("**/zz_generated*.go", "generated by Kubernetes code generators"),
                       ("**/*.generated.*", "generated code (its name says so)"),
                       ("**/*_generated.*", "generated code (its name says so)"),
                       ("**/*.gen.go", "generated code (its name says so)"),
                       ("**/*.g.dart", "generated by Dart build_runner"),
                       ("**/*.Designer.cs", "generated by a .NET designer"),
                       ("**/*.min.js", "minified: a vendored library or a build output"),
                       ("**/*.min.css", "minified: a vendored library or a build output"))
_VENDOR_DIRS = {"third_party": "vendored third-party code", "third-party": "vendored third-party code",
                "thirdparty": "vendored third-party code", "external": "vendored third-party code",
                "generated": "generated code", "__generated__": "generated code", "_generated": "generated code"}
_GO_GENERATED = re.compile(rb"^// Code generated .* DO NOT EDIT\.$", re.M)


def _excludes(snapshot: Snapshot, paths: list[str], is_code) -> list[Entry]:
    out: list[Entry] = []
    covered: set[str] = set()
    # .gitattributes: what the repository itself marks generated or vendored
    try:
        attrs = snapshot.read(".gitattributes").decode("utf-8", "replace") \
            if ".gitattributes" in paths and snapshot.available(".gitattributes") else ""
    except KeyError:
        attrs = ""
    for line in attrs.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0].startswith("#"):
            continue
        marks = [a for a in parts[1:] if a.split("=")[0] in ("linguist-generated", "linguist-vendored")
                 and not a.endswith(("=false", "-false"))]
        if not marks:
            continue
        g = parts[0].lstrip("/")
        g = g if "/" in parts[0].rstrip("/") or g.startswith("**") else f"**/{g}"
        g = g + "**" if g.endswith("/") else g
        if globs.check(g) is None:
            hits = [p for p in paths if globs.match(g, p)]
            if hits:
                kind = "generated" if "linguist-generated" in marks[0] else "vendored"
                out.append(Entry("exclude", g, [f"{kind} code: .gitattributes marks it {marks[0].split('=')[0]} "
                                                f"({len(hits)} file{'s' if len(hits) != 1 else ''})"]))
                covered.update(hits)
    for g, what in _GENERATED_SUFFIXES:
        hits = [p for p in paths if p not in covered and not docs_mod.is_doc(p) and globs.match(g, p)]
        if hits and g.endswith(".*") and any(docs_mod.is_doc(p) and globs.match(g, p) for p in paths):
            # a document matches too (docs/schema/_generated.md): only the code's extensions
            exts = sorted({posixpath.splitext(p)[1] for p in hits if posixpath.splitext(p)[1]})
            g = g[:-2] + (exts[0] if len(exts) == 1 else "{" + ",".join(exts) + "}")
        if hits:
            out.append(Entry("exclude", g, [f"{_cap(what)} ({len(hits)} file{'s' if len(hits) != 1 else ''}, "
                                            f"e.g. {hits[0]})"]))
            covered.update(hits)
    dirs: dict[str, int] = {}
    for p in paths:
        if p in covered or not is_code(p):
            continue
        parts = p.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.lower() in _VENDOR_DIRS:
                d = "/".join(parts[:i + 1])
                dirs[d] = dirs.get(d, 0) + 1
                break
    for d, n in sorted(dirs.items()):
        out.append(Entry("exclude", f"{d}/**", [f"{_VENDOR_DIRS[posixpath.basename(d).lower()]}: the folder's name "
                                                 f"({n} code file{'s' if n != 1 else ''})"]))
        covered.update(p for p in paths if p.startswith(d + "/"))
    # Go's convention: a first-line comment "Code generated … DO NOT EDIT."
    gen: dict[str, list[str]] = {}
    for p in paths:
        if p.endswith(".go") and p not in covered and snapshot.available(p):
            try:
                head = snapshot.read(p)[:400]
            except KeyError:
                continue
            if _GO_GENERATED.search(head):
                gen.setdefault(posixpath.dirname(p), []).append(p)
    for d, files in sorted(gen.items()):
        in_dir = [p for p in paths if posixpath.dirname(p) == d and p.endswith(".go")]
        if len(files) == len(in_dir) and len(files) > 1 and d:
            out.append(Entry("exclude", f"{d}/*.go", [f"generated: all {len(files)} Go files in {d}/ say "
                                                       "“Code generated … DO NOT EDIT.”"]))
        else:
            for p in files[:20]:
                out.append(Entry("exclude", _glob_of(p), ["generated: it says “Code generated … DO NOT EDIT.”"]))
    return out


# --- the proposal ----------------------------------------------------------------------------------------

def propose(engine, snapshot: Snapshot, name: str = "this repository") -> Proposal:
    """The config driftbot would write for ``snapshot``: discovery's findings made explicit."""
    config = Config()
    fmap = engine.feature_map(snapshot, config)
    ruleset = engine.rule_set(snapshot, config)
    paths = snapshot.paths()
    folders = fm_mod.code_folders(paths, ruleset.is_code)
    # what a heading may name: a code folder, or a module (a code file's name: compensation_graph.py)
    folders_by_key = fm_mod._folder_keys(list(folders) + [posixpath.splitext(p)[0] for p in paths
                                                          if ruleset.is_code(p) and "/" in p])
    prop = Proposal(name)
    by_path = {d.path: d for d in fmap.documents}

    def parsed(path):
        return engine.spec(snapshot, path) if snapshot.available(path) else None

    grouped: dict[tuple[str, str], list[str]] = {}  # (folder, role) → documents read whole
    empty: list[DocEntry] = []
    for f in fmap.features:
        doc = by_path.get(f.spec[0]) if f.spec else None
        role = doc.role if doc else "spec"
        blank = [s for s in f.spec if (ps := parsed(s)) is not None and not ps.requirements]
        for s in blank:  # nothing in it to check: reading it would only add a feature of unknown alignment
            empty.append(DocEntry(s, "empty", "states nothing checkable",
                                  "it names no endpoint, file, symbol, setting or command, and no sentence in it "
                                  "says what the code must do"))
        if blank:
            if len(blank) == len(f.spec):
                continue
            f = replace(f, spec=tuple(s for s in f.spec if s not in blank))
        if f.scope == "declared" and f.code:
            body = {"id": f.id, "spec": [_glob_of(s) for s in f.spec], "code": list(f.code)}
            if f.tests:
                body["tests"] = list(f.tests)
            folders_named = ", ".join(globs.root_of(c) + "/" for c in f.code)
            why = [f"{f.spec[0]} ↔ {folders_named}: a code folder of the same name ({_layout(f.source)})"]
            if len(f.spec) > 1:
                joined = [s for s in f.spec[1:] if by_path.get(s) and "joins" in by_path[s].why]
                if joined:
                    why.append(f"{', '.join(joined)} is about the same feature, so it is a second spec")
            prop.entries.append(Entry("features", body, why, tuple(f.spec), (f.id,)))
            continue
        if f.source.startswith("spec-kit") or (doc is None or doc.role == "spec") and len(f.spec) > 1 \
                or f.source.startswith(("docs/", "OpenSpec", "BDD")):
            # a spec of a known layout with no folder of its name: its code is found by its requirements
            body = {"id": f.id, "spec": [_glob_of(s) for s in f.spec]}
            how = "the files its tasks name, else wherever its requirements are implemented" \
                if f.source.startswith("spec-kit") else "wherever its requirements are implemented"
            why = [f"{f.spec[0]} ({_layout(f.source)}): discovery paired no code folder with it by name, so no "
                   f"`code:`; its code is {how}"]
            if len(f.spec) > 1 and not f.source.startswith("spec-kit"):
                why.append(f"It reads {', '.join(f.spec[1:])} too: same name, same feature")
            prop.entries.append(Entry("features", body, why, tuple(f.spec), (f.id,)))
            continue
        path = f.spec[0]
        split = _split_of(parsed(path), role, folders_by_key)
        label = docs_mod.ROLE_NAMES.get(role, role)
        if role == "component" and f.home:
            body = {"spec": _glob_of(path), "code": [f"{f.home}/**", *[c for c in f.code if c != f"{f.home}/**"]]}
            if split.split != "none":
                body["split"] = split.split
                if split.level:
                    body["level"] = split.level
            why = [f"{path}: the README of {f.home}/, so its code is looked for there first, then in the source"]
            if split.why:
                why.append(_cap(split.why))
            prop.entries.append(Entry("documents", body, why, (path,), (f.id,), label))
            continue
        if split.split != "none":
            body = {"spec": _glob_of(path), "split": split.split}
            if split.level:
                body["level"] = split.level
            prop.entries.append(Entry("documents", body, [_what(path, label, doc), _cap(split.why)], (path,),
                                      (f.id,), label))
            continue
        grouped.setdefault((posixpath.dirname(path), label), []).append(path)
    for (folder, label), paths_ in grouped.items():
        paths_.sort()
        ids = tuple(f.id for f in fmap.features if f.spec and f.spec[0] in paths_)
        where = f"{folder}/" if folder else "the repository root"
        if len(paths_) == 1:
            why = [_what(paths_[0], label, by_path.get(paths_[0])),
                   "One feature, its code being wherever its requirements are implemented"]
        else:
            why = [f"{len(paths_)} documents ({label}) in {where}: one feature each, its code being wherever "
                   "its requirements are implemented"]
        spec = [_glob_of(p) for p in paths_]
        prop.entries.append(Entry("documents", {"spec": spec if len(spec) > 1 else spec[0]}, why, tuple(paths_), ids,
                                  label))
    prop.entries += _excludes(snapshot, paths, ruleset.is_code)
    read = prop.specs()
    prop.claims = list(fmap.claims)
    prop.not_read = [d for d in fmap.documents if d.path not in read and d.role != "claims" and not d.read] + empty
    return prop


def _what(path: str, label: str, doc: DocEntry | None) -> str:
    """“docs/ROADMAP.md: roadmap — its name says “roadmap” (docs/)”."""
    if doc is None or not doc.why:
        return f"{path}: {label}"
    if label.split()[0].lower() in doc.why.lower():
        return f"{path}: {doc.why}"
    return f"{path}: {label} — {doc.why}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _layout(source: str) -> str:
    return f"layout {source}" if "<" in source or "/" in source else source


def config_of(proposal: Proposal, snapshot: Snapshot) -> Config:
    """The proposal as the engine reads it: its text parsed like any config file (so the text and the
    result can never disagree)."""
    from .config import parse_config

    return parse_config(proposal.render(), CONFIG_PATH, snapshot)


def annotate(proposal: Proposal, findings) -> Proposal:
    """Add to each entry what the report found with it: where a located feature's code is, how many
    features a split document gave and how many have something to check. Returns the proposal."""
    by_doc: dict[str, list] = {}
    by_id = {f.id: f for f in findings.features}
    for f in findings.features:
        by_doc.setdefault(f.document or (f.spec[0] if f.spec else ""), []).append(f)
    for e in proposal.entries:
        if e.section == "features":
            f = by_id.get(e.body.get("id", "")) if isinstance(e.body, dict) else None
            if f is not None and f.scope == "located":
                e.why = e.why + [f"→ {_located(f)}"]
            continue
        if e.section != "documents":
            continue
        new_ids = []
        for path in e.specs:
            feats = by_doc.get(path, [])
            new_ids += [f.id for f in feats]
            if len(e.specs) > 1:
                if feats and feats[0].scope == "located":
                    e.why = e.why + [f"→ {posixpath.basename(path)}: {_located(feats[0])}"]
                continue
            if e.body.get("split"):
                checkable = sum(1 for f in feats if f.alignment is not None)
                extra = [x for x in ("(introduction)", fm_mod.REST) if any(f.section == x for f in feats)]
                parts = len(feats) - len(extra)
                what = {"(introduction)": "the introduction", fm_mod.REST: "the rest of the document"}
                e.why = e.why + [f"→ {len(feats)} feature{'s' if len(feats) != 1 else ''}"
                                 + (f" ({parts} {'row' if e.body['split'] == 'rows' else 'section'}"
                                    f"{'s' if parts != 1 else ''} and "
                                    f"{' and '.join(what[x] for x in extra)})" if extra else "")
                                 + f", {checkable} with something to check"]
            elif feats and feats[0].scope == "located":
                e.why = e.why + [f"→ {_located(feats[0])}"]
        e.ids = tuple(new_ids) or e.ids
    return proposal


def _located(f) -> str:
    """Where a located feature's evidence lies: "code found in src/billing/ (14 of 17 requirements)"."""
    if not f.located:
        return "no code found for it yet" if f.located_of else "nothing in it names code driftbot can look for"
    req = "requirement" if f.located_of == 1 else "requirements"
    shown = [f"{d if d.strip('./') else 'the repository root'} ({n} of {f.located_of} {req})"
             for d, n in f.located[:2]]
    more = len(f.located) - 2
    return "code found in " + ", ".join(shown) + (f" and {more} more folder{'s' if more != 1 else ''}"
                                                   if more > 0 else "")
