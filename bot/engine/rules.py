"""Rule packs: language knowledge as data (``rules/*.yml``), loaded, validated and compiled.

A rule states its pattern as an ast-grep rule (``ast:``, matched on the file's parse tree) or as a
regular expression (``pattern:``, matched on the text: the form for languages ast-grep has no grammar
for). Every pattern is vetted when it is loaded: an ast rule must compile for each of the pack's
parsers and capture the metavariables its category needs; a regex must compile, have the named
groups its category needs, and finish quickly on inputs built to make naive patterns backtrack —
and every regex match at analysis time runs under a time limit, so a pattern that slips through
can cost a bounded amount of time, never hang a run.
"""
from __future__ import annotations

import hashlib
import re
import os
from dataclasses import dataclass, field, replace

import regex

from . import globs, grammar, yamlsrc
from .. import resources
from .errors import ConfigError, Problem

BUILTIN_DIR = resources.RULES_DIR
MATCH_TIMEOUT = None  # trusted packs (built in, or the operator's): vetted when loaded, and run without a limit
CUSTOM_MATCH_TIMEOUT = 0.05  # seconds per pattern per file for rule packs a repository brings: one repository
#                              cannot stall others (a limit costs time on every match, so only these get one)
MAX_CUSTOM_RULES = 100  # rules in one pack a repository brings
PROBE_TIMEOUT = 0.05
FLAGS = regex.MULTILINE | regex.VERSION0

# Inputs that make patterns with nested or overlapping quantifiers blow up.
_PROBES = [
    "a" * 3000 + "!",
    " " * 3000 + "!",
    "a " * 1500 + "!",
    "/a" * 1500 + "!",
    '"' + "a" * 3000,
    "aaaa.aaaa." * 300 + "!",
    "\n".join(["a" * 60] * 100) + "!",
]

def _probes_for(pattern: str) -> list[str]:
    """Inputs made of the pattern's own literal characters, repeated: what drives nested
    quantifiers over those characters into exponential backtracking; and each literal run of the
    pattern followed by such a repetition, since a blow-up behind a literal prefix
    ("/a(,|,,)+\\2X") only starts after that prefix."""
    bare = re.sub(r"\(\?P?<[^>]*>|\(\?[:=!<]+|\\[dDwWsSbBAZ0-9]", "(", pattern)  # group syntax, classes
    chars = []
    for ch in bare:
        if ch.isprintable() and ch not in "()[]|*+?^$\\" and ch not in chars:
            chars.append(ch)
    out = []
    for ch in chars[:24]:
        out.append(ch * 2000 + "\x00")
    if len(chars) >= 2:
        out.append("".join(chars[:6]) * 400 + "\x00")
    runs = [r for r in re.split(r"[()\[\]|*+?{}^$\\.]+", bare) if r][:4]
    for run in runs:
        for ch in chars[:8]:
            out.append(run + ch * 400 + "\x00")
    return out


# Named groups each category needs (a group may be repeated with a numeric suffix: name2); an ast rule
# captures the same names in upper case as metavariables ($PATH, $NAME, $TARGET).
REQUIRED_GROUPS = {"routes": ("path",), "definitions": ("name",), "references": ("target",), "markers": (),
                   "infrastructure": ()}


@dataclass(frozen=True)
class PatternRule:
    id: str
    category: str
    description: str
    pattern: str  # the regex ("" for an ast-only rule)
    compiled: regex.Pattern | None
    why: str = ""
    fix: str = ""
    style: str = ""  # references
    scope: str = ""  # markers: comment | code
    kind: str = ""  # markers
    prefix: bool = False  # routes: a router prefix (class-level mapping, router group)
    symbol: str = ""  # definitions: the kind of symbol a match defines
    ast: dict | None = field(default=None, compare=False, hash=False)  # ast-grep config
    needs: dict = field(default_factory=dict, compare=False, hash=False)  # parser → grammar.Needs
    fast: grammar.FastForm | None = field(default=None, compare=False, hash=False)
    examples: dict = field(default_factory=dict, compare=False, hash=False)
    timeout: float | None = MATCH_TIMEOUT  # per file; a repository's own packs have one (CUSTOM_MATCH_TIMEOUT)

    def finditer(self, text: str):
        if self.timeout is None:
            return self.compiled.finditer(text)
        return self.compiled.finditer(text, timeout=self.timeout)

    def find(self, root, lang: str, text: str, lower=None, idents: set | None = None) -> list:
        """ast-grep matches of the rule in a parsed file (none, unsearched, when the file lacks a word
        every match needs). ``lower()`` gives the text in lower case; ``idents``: the file's
        identifiers (None: unknown, so words are looked for in the text)."""
        needs = self.needs.get(lang)
        if needs is not None:
            if idents is None:
                needs = grammar.Needs(needs.words | needs.idents, frozenset(),
                                      tuple((a, "text" if m == "ident" else m) for a, m in needs.groups))
            if not needs.met(text, lower or text.lower, idents):
                return []
        return root.find_all(self.ast)


@dataclass(frozen=True)
class GlobRule:
    id: str
    description: str
    glob: str
    why: str = ""
    fix: str = ""
    examples: dict = field(default_factory=dict, compare=False, hash=False)

    def matches(self, path: str) -> bool:
        return globs.match(self.glob, path)


@dataclass(frozen=True)
class InfraRule:
    """Which files are infrastructure (manifests, charts, images, pipelines): searched with the source
    for the requirements about them, never counted as the program's code. A rule matches by ``glob``
    and, when it has ``content`` patterns, only files whose text matches every one; an ``exclude`` rule
    keeps the files its glob matches out, whatever the other rules say."""
    id: str
    description: str
    glob: str
    content: tuple = ()  # compiled patterns the text must all match
    exclude: bool = False
    why: str = ""
    fix: str = ""
    examples: dict = field(default_factory=dict, compare=False, hash=False)
    timeout: float | None = MATCH_TIMEOUT

    def matches(self, path: str, text: str | None = None) -> bool:
        """Whether the rule claims ``path`` (with ``text``: its content patterns too). A content pattern
        that runs out of time raises TimeoutError: the caller says so (``RuleSet.infra_rule``)."""
        if not globs.match(self.glob, path):
            return False
        if text is None or not self.content:
            return True
        return all(rx.search(text, timeout=self.timeout) for rx in self.content)


@dataclass
class RulePack:
    name: str
    description: str
    source: str
    extensions: tuple[str, ...]
    extends: tuple[str, ...]
    syntax: dict
    tests: list[GlobRule]
    routes: list[PatternRule]
    definitions: list[PatternRule]
    references: list[PatternRule]
    markers: list[PatternRule]
    digest: str
    filenames: tuple[str, ...] = ()
    infrastructure: list = field(default_factory=list)  # InfraRule
    parser: dict = field(default_factory=dict)  # extension ("" = any) → ast-grep language
    tree: grammar.TreeSyntax | None = None

    def language(self, path: str) -> str | None:
        """The parser for a file, or None: the pack's regex rules read it."""
        if not self.parser:
            return None
        return self.parser.get(os.path.splitext(path)[1].lower()) or self.parser.get("")

    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.parser.values()))

    def all_rules(self):
        yield from self.tests
        yield from self.routes
        yield from self.definitions
        yield from self.references
        yield from self.markers
        yield from self.infrastructure


def group(m: regex.Match, name: str) -> str | None:
    """The first non-empty of the groups ``name``, ``name2``, ``name3`` …"""
    d = m.groupdict()
    for key in (name, name + "2", name + "3"):
        v = d.get(key)
        if v:
            return v
    return None


def vet_pattern(pattern: str, category: str, filename: str, path: str, line: int, col: int) -> regex.Pattern:
    try:
        compiled = regex.compile(pattern, FLAGS)
    except regex.error as exc:
        raise ConfigError(Problem(filename, line, col, path, f"pattern does not compile: {exc}")) from None
    names = set(compiled.groupindex)
    for need in REQUIRED_GROUPS.get(category, ()):
        if need not in names:
            raise ConfigError(Problem(filename, line, col, path,
                                      f"a {category} pattern needs a named group (?P<{need}>…)"))
    for probe in _PROBES + _probes_for(pattern):
        try:
            for _ in compiled.finditer(probe, timeout=PROBE_TIMEOUT):
                pass
        except TimeoutError:
            raise ConfigError(Problem(
                filename, line, col, path,
                "pattern backtracks catastrophically (it ran too long on a 3,000-character test input)",
                "avoid nested quantifiers such as (a+)+ and alternatives that overlap")) from None
    return compiled


def vet_ast(item: dict, category: str, langs: tuple[str, ...], filename: str, path: tuple, marks) -> dict:
    """An ast rule as an ast-grep config, compiled for every parser of the pack."""
    line, col = marks.get(path + ("ast",), marks.get(path, (0, 0)))
    where = yamlsrc.format_path(path + ("ast",))
    if not langs:
        raise ConfigError(Problem(filename, line, col, where, "an ast rule needs the pack to name its `parser`",
                                  "a pack that extends another names the parser too"))
    config = grammar.compile_ast(item["ast"], item.get("constraints"), item.get("transform"))
    try:
        grammar.vet_ast(config, langs)
    except grammar.GrammarError as exc:
        raise ConfigError(Problem(filename, line, col, where, str(exc),
                                  "see https://ast-grep.github.io/reference/rule.html")) from None
    have = grammar.metavariables(config)
    for need in REQUIRED_GROUPS.get(category, ()):
        if need.upper() not in have:
            raise ConfigError(Problem(filename, line, col, where,
                                      f"a {category} ast rule needs the metavariable ${need.upper()}"))
    return config


def _parsers(data: dict, filename: str, marks) -> dict:
    raw = data.get("parser")
    if raw is None:
        return {}
    mapping = {"": raw} if isinstance(raw, str) else {k.lower(): v for k, v in raw.items()}
    for ext, lang in mapping.items():
        if lang not in grammar.LANGUAGES:
            path = ("parser",) if not ext else ("parser", ext)
            line, col = marks.get(path, (0, 0))
            raise ConfigError(Problem(filename, line, col, yamlsrc.format_path(path),
                                      f"ast-grep has no parser '{lang}'",
                                      "one of " + ", ".join(sorted(grammar.LANGUAGES))))
    return mapping


def load_pack(text: str, filename: str, *, trusted: bool = True) -> RulePack:
    """A rule pack from its YAML. ``trusted`` is False for a pack a repository brings: its rules
    get a tighter time limit per file, and there may be at most MAX_CUSTOM_RULES of them."""
    data, marks = yamlsrc.parse(text, filename)
    if not isinstance(data, dict):
        raise ConfigError(Problem(filename, 1, 1, "", "a rule pack must be a YAML mapping"))
    yamlsrc.validate(data, marks, yamlsrc.load_schema("rulepack.schema.json"), filename)
    count = sum(len(v) for v in (data.get("rules") or {}).values() if isinstance(v, list))
    if not trusted and count > MAX_CUSTOM_RULES:
        raise ConfigError(Problem(filename, *marks.get(("rules",), (1, 1)), "rules",
                                  f"{count} rules; a repository's pack may hold at most {MAX_CUSTOM_RULES}",
                                  "split it, or keep the rules that find what your specs name"))
    parser = _parsers(data, filename, marks)
    langs = tuple(dict.fromkeys(parser.values()))
    rules = data.get("rules", {})
    tree_data = data.get("syntax", {}).get("tree")  # identifier kinds sharpen the rules' pre-check
    built: dict[str, list] = {"tests": [], "routes": [], "definitions": [], "references": [], "markers": [],
                              "infrastructure": []}
    seen_ids: set[str] = set()
    for category, items in rules.items():
        for i, item in enumerate(items):
            path = ("rules", category, i)
            line, col = marks.get(path, (0, 0))
            if item["id"] in seen_ids:
                raise ConfigError(Problem(filename, line, col, yamlsrc.format_path(path + ("id",)),
                                          f"duplicate rule id '{item['id']}'"))
            seen_ids.add(item["id"])
            common = dict(id=item["id"], description=item["description"], why=item.get("why", ""),
                          fix=item.get("fix", ""), examples=item.get("examples", {}))
            if category == "tests":
                reason = globs.check(item["glob"])
                if reason:
                    pl, pc = marks.get(path + ("glob",), (line, col))
                    raise ConfigError(Problem(filename, pl, pc, yamlsrc.format_path(path + ("glob",)), reason))
                built["tests"].append(GlobRule(glob=item["glob"], **common))
                continue
            if category == "infrastructure":
                reason = globs.check(item["glob"])
                if reason:
                    pl, pc = marks.get(path + ("glob",), (line, col))
                    raise ConfigError(Problem(filename, pl, pc, yamlsrc.format_path(path + ("glob",)), reason))
                content = []
                for j, pattern in enumerate(item.get("content", [])):
                    pl, pc = marks.get(path + ("content", j), (line, col))
                    content.append(vet_pattern(pattern, category, filename,
                                               yamlsrc.format_path(path + ("content", j)), pl, pc))
                built["infrastructure"].append(InfraRule(
                    glob=item["glob"], content=tuple(content), exclude=bool(item.get("exclude", False)),
                    timeout=MATCH_TIMEOUT if trusted else CUSTOM_MATCH_TIMEOUT, **common))
                continue
            compiled, ast, needs = None, None, {}
            if "pattern" in item:
                pl, pc = marks.get(path + ("pattern",), (line, col))
                compiled = vet_pattern(item["pattern"], category, filename,
                                       yamlsrc.format_path(path + ("pattern",)), pl, pc)
            if "ast" in item:
                ast = vet_ast(item, category, langs, filename, path, marks)
                idents = tree_data.get("identifier", ()) if isinstance(tree_data, dict) else ()
                needs = {lang: grammar.needs(ast, lang, frozenset(idents)) for lang in langs}
            built[category].append(PatternRule(
                category=category, pattern=item.get("pattern", ""), compiled=compiled, ast=ast, needs=needs,
                style=item.get("style", ""), scope=item.get("scope", ""), kind=item.get("kind", ""),
                prefix=bool(item.get("prefix", False)), symbol=item.get("symbol", ""),
                fast=grammar.fast_form(ast) if ast else None,
                timeout=MATCH_TIMEOUT if trusted else CUSTOM_MATCH_TIMEOUT, **common))
    syntax = data.get("syntax", {})
    if langs and "tree" not in syntax and not data.get("extends"):
        line, col = marks.get(("parser",), (0, 0))
        raise ConfigError(Problem(filename, line, col, "syntax.tree",
                                  "a pack with a parser says what its parse tree's nodes are in syntax.tree",
                                  "or extends a pack that does; see docs/rule-packs.md"))
    tree = None
    if "tree" in syntax:
        if not langs:
            line, col = marks.get(("syntax", "tree"), (0, 0))
            raise ConfigError(Problem(filename, line, col, "syntax.tree", "syntax.tree needs the pack to name its `parser`"))
        fast_kinds = [r.fast.kind for cat in built.values() for r in cat if getattr(r, "fast", None)]
        tree, problems = grammar.load_tree(syntax["tree"], langs, fast_kinds)
        if problems:
            raise ConfigError([Problem(filename, *marks.get(("syntax", "tree") + p, marks.get(("syntax", "tree"), (0, 0))),
                                       yamlsrc.format_path(("syntax", "tree") + p), msg) for p, msg in problems])
    return RulePack(
        name=data["pack"], description=data["description"], source=filename,
        extensions=tuple(e.lower() for e in data.get("extensions", [])),
        filenames=tuple(data.get("filenames", [])),
        extends=tuple(data.get("extends", [])),
        syntax={"line_comment": tuple(syntax.get("line_comment", ())),
                "block_comment": tuple(tuple(b) for b in syntax.get("block_comment", ())),
                "strings": tuple(syntax.get("strings", ()))},
        parser=parser, tree=tree,
        digest=hashlib.sha1(text.encode("utf-8")).hexdigest()[:12],
        **built,
    )


_builtin_cache: dict[str, RulePack] | None = None


def builtin_packs() -> dict[str, RulePack]:
    """The packs shipped in ``rules/``, loaded once per process."""
    global _builtin_cache
    if _builtin_cache is None:
        packs = {}
        for f in sorted(BUILTIN_DIR.glob("*.yml")):
            pack = load_pack(f.read_text(encoding="utf-8"), f"rules/{f.name}")
            packs[pack.name] = pack
        _builtin_cache = packs
    return _builtin_cache


_builtin_digest: str | None = None


def builtin_digest() -> str:
    """A digest of the packs shipped in ``rules/``, from their bytes (without loading them)."""
    global _builtin_digest
    if _builtin_digest is None:
        h = hashlib.sha256()
        for f in sorted(BUILTIN_DIR.glob("*.yml")):
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        _builtin_digest = h.hexdigest()[:16]
    return _builtin_digest


class RuleSet:
    """The packs in force for one analysis, with lookups by file extension."""

    def __init__(self, packs: list[RulePack]):
        resolved: dict[str, RulePack] = {}
        for p in packs:
            resolved[p.name] = p
        self.packs = resolved
        self.generic = [p for p in resolved.values() if not p.extensions and not p.filenames]
        self.by_ext: dict[str, RulePack] = {}
        self.by_name: dict[str, RulePack] = {}
        for p in resolved.values():
            for ext in p.extensions:
                self.by_ext[ext] = p
            for name in p.filenames:
                self.by_name[name] = p
        self.key = hashlib.sha1("|".join(f"{p.name}:{p.digest}" for p in resolved.values()).encode()).hexdigest()[:16]
        self._test_memo: dict[str, bool] = {}
        self._pack_memo: dict[str, RulePack | None] = {}
        self._code_markers: dict[str, list[PatternRule]] = {}
        self._comment_markers: dict[str, list[PatternRule]] = {}
        test_globs = [r.glob for p in resolved.values() for r in p.tests]
        self._test_rx = _any_glob(test_globs)
        infra = [r for p in resolved.values() for r in p.infrastructure]
        self.infra_rules = [r for r in infra if not r.exclude]
        self._infra_rx = _any_glob([r.glob for r in self.infra_rules])
        self._infra_out_rx = _any_glob([r.glob for r in infra if r.exclude])
        self._infra_memo: dict[str, bool] = {}

    def code_markers(self, pack: RulePack) -> list[PatternRule]:
        """The marker rules that read code, not comments, for files of ``pack`` (generic ones included)."""
        rules = self._code_markers.get(pack.name)
        if rules is None:
            rules = self._code_markers[pack.name] = [r for p in (pack, *self.generic) for r in p.markers
                                                     if r.scope != "comment"]
        return rules

    def comment_markers(self, pack: RulePack) -> list[PatternRule]:
        """The marker rules (regexes) that read comments, for files of ``pack`` (generic ones included)."""
        rules = self._comment_markers.get(pack.name)
        if rules is None:
            rules = self._comment_markers[pack.name] = [r for p in (pack, *self.generic) for r in p.markers
                                                        if r.scope == "comment" and r.compiled is not None]
        return rules

    def pack_for(self, path: str) -> RulePack | None:
        try:
            return self._pack_memo[path]
        except KeyError:
            pass
        pack = self.by_name.get(path.rsplit("/", 1)[-1]) if self.by_name else None
        if pack is None:
            pack = self.by_ext.get(os.path.splitext(path)[1].lower())
        if len(self._pack_memo) > MEMO_PATHS:  # a long-lived process sees many repositories
            self._pack_memo.clear()
            self._test_memo.clear()
        self._pack_memo[path] = pack
        return pack

    def is_code(self, path: str) -> bool:
        return self.pack_for(path) is not None

    def is_test(self, path: str) -> bool:
        hit = self._test_memo.get(path)
        if hit is None:
            hit = self._test_memo[path] = bool(self._test_rx and self._test_rx.match(path))
        return hit

    def infra_candidate(self, path: str) -> bool:
        """Could ``path`` be infrastructure (by its path; rules with content patterns decide on the text)?
        Never a file a pack reads as code."""
        hit = self._infra_memo.get(path)
        if hit is None:
            if len(self._infra_memo) > MEMO_PATHS:
                self._infra_memo.clear()
            hit = self._infra_memo[path] = bool(
                self._infra_rx and self._infra_rx.match(path) and not self.is_code(path)
                and not (self._infra_out_rx and self._infra_out_rx.match(path)))
        return hit

    def infra_by_path(self, path: str) -> InfraRule | None:
        """An infrastructure rule that claims ``path`` by its path alone (no content patterns)."""
        if not self.infra_candidate(path):
            return None
        return next((r for r in self.infra_rules if not r.content and r.matches(path)), None)

    def infra_rule(self, path: str, text: str, timed_out: list[str] | None = None) -> InfraRule | None:
        """The infrastructure rule that claims the file ``path`` holding ``text``, if any. A rule whose
        patterns run out of time claims nothing; when no other rule claims the file, the ids of those
        rules go to ``timed_out`` (the answer might have been another on a faster machine)."""
        if not self.infra_candidate(path):
            return None
        slow = []
        for r in self.infra_rules:
            try:
                if r.matches(path, text):
                    return r
            except TimeoutError:
                slow.append(r.id)
        if timed_out is not None:
            timed_out.extend(slow)
        return None

    def names(self) -> list[str]:
        return sorted(self.packs)


class _AnyGlob:
    """Does any of the globs match a path? One regex for them all, behind a quick test: a path that
    holds none of the words the globs need ("test", ".yaml", "Dockerfile") cannot match, and is not
    run through the regex (a glob's translation costs tens of microseconds a path)."""

    def __init__(self, patterns: list[str]):
        self.rx = regex.compile("|".join(f"(?:{globs._compile(globs.normalise(g)).pattern})" for g in patterns))
        self.pattern = self.rx.pattern
        words: set[str] | None = set()
        for g in patterns:
            need = globs.needed_words(g)
            if need is None:
                words = None
                break
            words.update(need)
        self._need = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))) \
            if words else None

    def match(self, path: str):
        if self._need is not None and not self._need.search(path.lower()):
            return None
        return self.rx.match(path)


def _any_glob(patterns: list[str]) -> _AnyGlob | None:
    """What matches a path that any of the globs matches."""
    return _AnyGlob(patterns) if patterns else None


MEMO_PATHS = 500_000  # paths whose pack and test status a rule set remembers
_ruleset_cache: dict[tuple, RuleSet] = {}  # by the chosen packs' names and digests


def select(names: list[str] | None, paths, extra: list[RulePack] = ()) -> RuleSet:
    """The packs in force: by name, or (names=None) those whose extensions or file names occur in
    ``paths``; the generic pack always joins. The same choice returns the same RuleSet object, memos and all.
    Names are checked by the config (unknown ones never reach here)."""
    available = dict(builtin_packs())
    for p in extra:
        available[p.name] = p
    if names is None:
        exts, names_seen = set(), set()
        for p in paths:
            base = p.rsplit("/", 1)[-1]
            names_seen.add(base)
            exts.add(os.path.splitext(base)[1].lower())
        chosen = [p for p in available.values() if (not p.extensions and not p.filenames)
                  or exts & set(p.extensions) or names_seen & set(p.filenames)]
    else:
        chosen = [available[n] for n in names] + ([available["generic"]] if "generic" not in names else [])
    key = tuple((p.name, p.digest) for p in chosen)
    cached = _ruleset_cache.get(key)
    if cached is None:
        if len(_ruleset_cache) > 64:
            _ruleset_cache.clear()
        cached = _ruleset_cache[key] = RuleSet([_inherit(p, available, set()) for p in chosen])
    return cached


def _inherit(pack: RulePack, available: dict[str, RulePack], seen: set[str]) -> RulePack:
    """A pack with ``extends`` gets its parents' rules (its own first) and, where it has none, their
    extensions and syntax."""
    if not pack.extends or pack.name in seen:
        return pack
    seen = seen | {pack.name}
    merged = replace(pack, tests=list(pack.tests), routes=list(pack.routes), definitions=list(pack.definitions),
                     references=list(pack.references), markers=list(pack.markers),
                     infrastructure=list(pack.infrastructure))
    digest = [pack.digest]
    for parent_name in pack.extends:
        parent = available.get(parent_name)
        if parent is None:
            raise ConfigError(Problem(pack.source, 0, 0, "extends", f"unknown pack '{parent_name}' in extends"))
        parent = _inherit(parent, available, seen)
        for cat in ("tests", "routes", "definitions", "references", "markers", "infrastructure"):
            own_ids = {r.id for r in getattr(merged, cat)}
            getattr(merged, cat).extend(r for r in getattr(parent, cat) if r.id not in own_ids)
        if not merged.extensions and not merged.filenames and (parent.extensions or parent.filenames):
            merged.extensions, merged.filenames = parent.extensions, parent.filenames
        if not any(merged.syntax.values()):
            merged.syntax = parent.syntax
        if not merged.parser and parent.parser:
            merged.parser = parent.parser
        if merged.tree is None:
            merged.tree = parent.tree
        digest.append(parent.digest)
    merged.digest = hashlib.sha1("+".join(digest).encode()).hexdigest()[:12]
    return merged
