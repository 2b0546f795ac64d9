"""What a rule pack knows about a language's parse tree, and every call into ast-grep.

ast-grep-py bundles tree-sitter grammars for the languages in ``LANGUAGES`` and works offline. A pack
names its parser (``parser: go``) and, under ``syntax.tree``, which node kinds of that grammar are
comments, strings, identifiers, decorators, parameter lists, bodies and definitions. Rules written
as ast-grep rules (``ast:``) are compiled here too: checked against every parser of the pack when
the pack loads, so a bad rule is a config error with its line, never a failure at analysis time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ast_grep_py import SgNode, SgRoot

# Grammars ast-grep-py bundles (checked: each parses here without a network).
LANGUAGES = frozenset({
    "bash", "c", "cpp", "csharp", "css", "dart", "elixir", "go", "haskell", "hcl", "html", "java", "javascript",
    "json", "kotlin", "lua", "nix", "php", "python", "ruby", "rust", "scala", "solidity", "swift", "tsx",
    "typescript", "yaml",
})

SYMBOL_KINDS = ("class", "interface", "struct", "enum", "trait", "module", "function", "method", "constructor",
                "field", "constant", "variable", "type", "enum_member", "table", "column", "target")
CLASS_LIKE = frozenset({"class", "interface", "struct", "enum", "trait", "module"})
FUNCTION_LIKE = frozenset({"function", "method", "constructor"})

# Patterns compare named nodes only: `f($A, $$$)` also matches `f(a)`, and comments inside a call do not
# break a match. Operators are unnamed too, so a pattern should not rely on them.
STRICTNESS = "relaxed"
_METAVAR = re.compile(r"\$+[A-Z_][A-Z0-9_]*|\$\$\$")
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class GrammarError(ValueError):
    """A rule or node kind the grammar rejects; the caller turns it into a ConfigError with a location."""


def parse(text: str, lang: str) -> SgNode:
    return SgRoot(text, lang).root()


def _call(fn, *args):
    """ast-grep raises RuntimeError, ValueError or a pyo3 PanicException (a BaseException) on bad input."""
    try:
        return fn(*args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - PanicException derives from BaseException
        raise GrammarError(_reason(exc)) from None


def parser_failure(exc: BaseException) -> bool:
    """Whether an exception is ast-grep failing (an error it raises, or a Rust panic), not a bug here."""
    return isinstance(exc, (RuntimeError, ValueError)) or type(exc).__name__ == "PanicException"


def _reason(exc: BaseException) -> str:
    """ast-grep's message and its causes on one line, without the stack trace."""
    text = str(exc).split("Stack backtrace:")[0]
    lines = [re.sub(r"^\d+:\s*", "", ln.strip()) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and ln != "Caused by:"]
    return "; ".join(lines) or type(exc).__name__


# ---- ast rules -------------------------------------------------------------------------------------
def compile_ast(ast, constraints: dict | None, transform: dict | None) -> dict:
    """A rule pack's ``ast:`` (a pattern string or an ast-grep rule mapping) as an ast-grep config,
    with every pattern set to the relaxed strictness and \\w, \\d in constraint regexes made ASCII
    (ast-grep compiles a rule on every search, and a Unicode \\w costs a millisecond to compile)."""
    rule = {"pattern": ast} if isinstance(ast, str) else ast
    config = {"rule": _relax(rule)}
    if constraints:
        config["constraints"] = {k: _ascii(_relax(v)) for k, v in constraints.items()}
    if transform:
        config["transform"] = transform
    return config


def _ascii(rule):
    if isinstance(rule, dict):
        return {k: (_ascii_regex(v) if k == "regex" and isinstance(v, str) else _ascii(v)) for k, v in rule.items()}
    if isinstance(rule, list):
        return [_ascii(x) for x in rule]
    return rule


_CLASSES = {"w": ("[0-9A-Za-z_]", "0-9A-Za-z_"), "d": ("[0-9]", "0-9")}


def _ascii_regex(rx: str) -> str:
    out, i, depth = [], 0, 0
    while i < len(rx):
        ch = rx[i]
        if ch == "\\" and i + 1 < len(rx):
            nxt = rx[i + 1]
            if nxt in _CLASSES:
                out.append(_CLASSES[nxt][1 if depth else 0])
            else:
                out.append(rx[i:i + 2])
            i += 2
            continue
        if ch == "[" and not depth:
            depth = 1
        elif ch == "]" and depth and not (out and out[-1] in ("[", "[^")):
            depth = 0
        out.append(ch)
        i += 1
    return "".join(out)


def _relax(rule):
    if isinstance(rule, dict):
        out = {}
        for k, v in rule.items():
            if k == "pattern" and isinstance(v, str):
                out[k] = {"context": v, "strictness": STRICTNESS}
            elif k == "pattern" and isinstance(v, dict):
                out[k] = {"strictness": STRICTNESS, **v}
            elif k in ("all", "any") and isinstance(v, list):
                out[k] = [_relax(x) for x in v]
            elif k in ("not", "inside", "has", "precedes", "follows") or (k == "stopBy" and isinstance(v, dict)):
                out[k] = _relax(v)
            else:
                out[k] = v
        return out
    return rule


@dataclass(frozen=True)
class FastForm:
    """A rule of the common shape {kind: K, has: {field: F | kind: C, pattern: $V}} (imports, mostly):
    driftbot reads it off the nodes of kind K its one search of the file collects, instead of a
    search of its own. Same matches, a tenth of the cost."""
    kind: str
    field: str
    child_kind: str
    var: str
    regex: re.Pattern | None


_LONE_VAR = re.compile(r"^\$([A-Z_][A-Z0-9_]*)$")


def fast_form(config: dict) -> FastForm | None:
    rule = config.get("rule") or {}
    if set(config) - {"rule", "constraints"} or set(rule) != {"kind", "has"} or not isinstance(rule["kind"], str):
        return None
    has = rule["has"]
    if not isinstance(has, dict) or not (set(has) <= {"field", "kind", "pattern", "stopBy"}) or \
            has.get("stopBy", "neighbor") != "neighbor" or ("field" in has) == ("kind" in has):
        return None
    pat = has.get("pattern")
    text = pat.get("context") if isinstance(pat, dict) and set(pat) <= {"context", "strictness"} else pat
    m = _LONE_VAR.match(text) if isinstance(text, str) else None
    if not m:
        return None
    constraints = config.get("constraints") or {}
    if set(constraints) - {m.group(1)}:
        return None
    rx = None
    if constraints:
        cons = constraints[m.group(1)]
        if set(cons) != {"regex"}:
            return None
        try:
            rx = re.compile(cons["regex"])
        except re.error:
            return None
    return FastForm(rule["kind"], has.get("field", ""), has.get("kind", ""), m.group(1), rx)


def vet_ast(config: dict, langs: tuple[str, ...]) -> None:
    """Compile the rule for each parser (ast-grep compiles on first use). Raises GrammarError."""
    for lang in langs:
        root = parse("", lang)
        try:
            _call(root.find_all, config)
        except GrammarError as exc:
            raise GrammarError(f"ast rule does not compile for {lang}: {exc}") from None


def metavariables(config: dict) -> set[str]:
    """Names of the metavariables a rule captures or a transform defines ($PATH → PATH)."""
    names = {m.lstrip("$") for m in _METAVAR.findall(repr(config.get("rule")))} - {""}
    names |= set(config.get("transform") or {})
    return names


@dataclass(frozen=True)
class Needs:
    """What a file must contain for a rule to have any match there — a cheap test that spares the
    search, and ast-grep's compiling of the rule, in most files. ``words`` must all occur in the text
    and ``idents`` among the file's identifiers (the named leaves of the rule's patterns); of each
    group one alternative must occur: in the text, in the lower-cased text, or among the identifiers
    (from the literals of the regexes that constrain the rule's metavariables)."""
    words: frozenset = frozenset()
    idents: frozenset = frozenset()
    groups: tuple = ()  # ((literal, …), "text" | "lower" | "ident")

    def met(self, text: str, lower, idents) -> bool:
        for w in self.words:
            if w not in text:
                return False
        if self.idents and not self.idents <= idents:
            return False
        for alts, mode in self.groups:
            if mode == "ident":
                if idents.isdisjoint(alts):
                    return False
                continue
            t = lower() if mode == "lower" else text
            if not any(a in t for a in alts):
                return False
        return True


def needs(config: dict, lang: str, ident_kinds=frozenset()) -> Needs:
    rule = config.get("rule") or {}
    groups = []
    for var, cons in (config.get("constraints") or {}).items():
        rx = cons.get("regex") if isinstance(cons, dict) and set(cons) == {"regex"} else None
        if rx and _always_captured(rule, var):
            groups.extend(_regex_needs(rx))
    words, word_groups = _words(rule, lang, ident_kinds)
    return Needs(frozenset(w for w, ident in words if not ident), frozenset(w for w, ident in words if ident),
                 tuple(word_groups + groups))


def _always_captured(rule, var: str) -> bool:
    """Whether every match of ``rule`` captures $var (a constraint on an uncaptured variable is void)."""
    if not isinstance(rule, dict):
        return False
    pat = rule.get("pattern")
    text = pat.get("context") if isinstance(pat, dict) else pat
    if isinstance(text, str) and re.search(rf"\$+{var}\b", text):
        return True
    if any(_always_captured(sub, var) for sub in rule.get("all") or ()):
        return True
    branches = rule.get("any") or ()
    if branches and all(_always_captured(sub, var) for sub in branches):
        return True
    return any(_always_captured(rule.get(k), var) for k in ("has", "inside", "precedes", "follows"))


_WORD_ALTERNATIVES = re.compile(r"\^\((?:\?:)?([A-Za-z_][A-Za-z0-9_]*(?:\|[A-Za-z_][A-Za-z0-9_]*)*)\)\$|\^([A-Za-z_][A-Za-z0-9_]*)\$")


def _regex_needs(rx: str) -> list:
    """Literals a regex's match must contain, as ((alternatives…), mode) groups; [] when unsure. A regex
    that is a whole word or a choice of whole words (^(get|post)$) names an identifier."""
    m = _WORD_ALTERNATIVES.fullmatch(rx)
    if m:
        return [(tuple(sorted((m.group(1) or m.group(2)).split("|"))), "ident")]
    try:
        import re._parser as sre  # the standard library's own regex parser
        parsed = sre.parse(rx)
    except Exception:  # noqa: BLE001 - a regex Python cannot read gives no hint
        return []
    icase = bool(parsed.state.flags & re.IGNORECASE) or "(?i" in rx
    out = []
    for alts in _seq_needs(list(parsed), sre):
        alts = tuple(sorted({a.lower() if icase else a for a in alts}))
        out.append((alts, "lower" if icase else "text"))
    return out


def _seq_needs(seq, sre) -> list[set[str]]:
    c = sre._constants if hasattr(sre, "_constants") else sre
    out: list[set[str]] = []
    run: list[str] = []

    def flush():
        if len(run) >= 2:
            out.append({"".join(run)})
        run.clear()

    for op, av in seq:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op is c.SUBPATTERN:
            out.extend(_seq_needs(list(av[-1]), sre))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            out.extend(_seq_needs(list(av[2]), sre))
        elif op is c.BRANCH:
            alts = set()
            for branch in av[1]:
                best = [next(iter(g)) for g in _seq_needs(list(branch), sre) if len(g) == 1]
                if not best:
                    alts = set()
                    break
                alts.add(max(best, key=len))
            if alts:
                out.append(alts)
    flush()
    return out


def _words(rule, lang: str, ident_kinds) -> tuple[set, list]:
    """({(word, is_identifier)} every match contains, [groups of words one of which it contains])."""
    if not isinstance(rule, dict):
        return set(), []
    out: set = set()
    groups: list = []
    pat = rule.get("pattern")
    if isinstance(pat, dict) and set(pat) <= {"context", "strictness"}:
        pat = pat.get("context")
    if isinstance(pat, str):
        out |= _pattern_words(pat, lang, ident_kinds)
    subs = [rule.get(k) for k in ("inside", "has", "precedes", "follows")] + list(rule.get("all") or ())
    for sub in subs:
        w, g = _words(sub, lang, ident_kinds)
        out |= w
        groups += g
    branches = [_words(sub, lang, ident_kinds)[0] for sub in rule.get("any") or ()]
    if branches:
        out |= set.intersection(*branches)
        if all(branches):
            picks = {max(sorted(b), key=lambda x: len(x[0])) for b in branches}
            mode = "ident" if all(ident for _, ident in picks) else "text"
            groups.append((tuple(sorted({w for w, _ in picks})), mode))
    return out, groups


def _pattern_words(pattern: str, lang: str, ident_kinds=frozenset()) -> set[tuple[str, bool]]:
    """The named leaves of a pattern: (text, whether it is an identifier of the pack's grammar)."""
    # metavariables become plain identifiers (µ is a letter in every grammar here), as in ast-grep itself
    root = parse(pattern.replace("$", "µ"), lang)
    words = set()
    stack = [root]
    while stack:
        n = stack.pop()
        kids = n.children()
        if kids:
            stack.extend(kids)
        elif n.is_named() and n.kind() != "ERROR":
            t = n.text()
            if _WORD.match(t):
                words.add((t, n.kind() in ident_kinds))
    return words


# ---- node-kind tables --------------------------------------------------------------------------------
@dataclass(frozen=True)
class DefSpec:
    """How one definition node kind reads: its symbol kind, where its name is, what refines the kind."""
    kind: str
    name: tuple[str, ...] = ("name",)  # fields or child kinds leading to the name node(s)
    owner: str = ""  # a field whose type names the owner (a Go receiver, a Rust impl's type)
    scope: bool = False  # names the owner of the definitions inside it, defines nothing (Rust impl)
    bases: str = ""  # the field listing base classes
    kind_by_base: dict = field(default_factory=dict)  # base class name → kind (Enum → enum)
    kind_by_child: dict = field(default_factory=dict)  # child node kind → kind (struct_type → struct)
    kind_by_word: dict = field(default_factory=dict)  # modifier word → kind (const → constant)
    members: frozenset = frozenset()  # body child kinds that are enum members (TypeScript enums)
    value: str = ""  # the field holding an assigned value: a function value makes the symbol a function


@dataclass(frozen=True)
class TreeSyntax:
    comment: frozenset
    string: frozenset
    identifier: frozenset
    decorator: frozenset
    parameters: frozenset  # parameter-list kinds, for grammars without a `parameters` field
    body: frozenset  # body kinds, for grammars without a `body` field
    wrappers: frozenset  # nodes wrapping a definition with its decorators (decorated_definition)
    functions: frozenset  # function values (arrow_function, lambda)
    stub_statements: frozenset  # statements that do nothing (pass, ...)
    abstract: frozenset  # modifier, decorator or base-class words that make a definition abstract
    self_names: frozenset
    constructors: frozenset  # method names whose parameters are the owner's constructor parameters
    exports: frozenset  # module-level names whose string items are references (__all__)
    docstrings: bool
    empty_without_body: bool  # a function without a body is empty (Ruby `def x; end`), not abstract
    definitions: dict  # node kind → DefSpec
    collect: dict = field(default_factory=dict)  # parser → ast-grep config finding every node kind above
    collected: dict = field(default_factory=dict)  # parser → the node kinds that config finds
    rule_kinds: dict = field(default_factory=dict)  # parser → the kinds among them collected for FastForm rules

    def kinds(self) -> set[str]:
        return set(self.comment | self.string | self.identifier | self.decorator) | set(self.definitions)


_LISTS = ("comment", "string", "identifier", "decorator", "parameters", "body", "wrappers", "functions",
          "stub_statements", "abstract", "self", "constructors", "exports")


def load_tree(data: dict, langs: tuple[str, ...], extra_kinds=()) -> tuple[TreeSyntax, list[tuple[tuple, str]]]:
    """``syntax.tree`` of a pack → TreeSyntax, and the problems found as (path under tree, message).
    ``extra_kinds``: node kinds the pack's rules read off the collected nodes (FastForm)."""
    problems: list[tuple[tuple, str]] = []
    lists = {k: frozenset(data.get(k, ())) for k in _LISTS}
    defs = {}
    for kind, spec in (data.get("definitions") or {}).items():
        if isinstance(spec, str):
            spec = {"kind": spec}
        name = spec.get("name", "name")
        defs[kind] = DefSpec(
            kind=spec["kind"], name=tuple(name.split(".")) if name != "." else (), owner=spec.get("owner", ""),
            scope=bool(spec.get("scope", False)), bases=spec.get("bases", ""),
            kind_by_base=dict(spec.get("kind_by_base", {})), kind_by_child=dict(spec.get("kind_by_child", {})),
            kind_by_word=dict(spec.get("kind_by_word", {})), members=frozenset(spec.get("members", ())),
            value=spec.get("value", ""))
    tree = TreeSyntax(
        comment=lists["comment"], string=lists["string"], identifier=lists["identifier"],
        decorator=lists["decorator"], parameters=lists["parameters"], body=lists["body"],
        wrappers=lists["wrappers"], functions=lists["functions"], stub_statements=lists["stub_statements"],
        abstract=lists["abstract"], self_names=lists["self"], constructors=lists["constructors"],
        exports=lists["exports"], docstrings=bool(data.get("docstrings", False)),
        empty_without_body=data.get("missing_body", "abstract") == "empty", definitions=defs)
    # node kinds must exist in at least one of the pack's grammars; the collecting rule keeps, per
    # grammar, the kinds that grammar has (ast-grep rejects a rule naming an unknown kind)
    wanted = sorted(tree.kinds())
    valid: dict[str, list[str]] = {lang: [] for lang in langs}
    for kind in wanted:
        ok = False
        for lang in langs:
            if _kind_exists(kind, lang):
                valid[lang].append(kind)
                ok = True
        if not ok:
            where = next((k for k in ("comment", "string", "identifier", "decorator") if kind in lists[k]),
                         "definitions")
            problems.append(((where,), f"node kind '{kind}' does not exist in the {'/'.join(langs)} grammar"))
    for lang, kinds in valid.items():
        kinds = kinds + [k for k in sorted(set(extra_kinds)) if k not in kinds and _kind_exists(k, lang)]
        tree.collect[lang] = {"rule": {"any": [{"kind": k} for k in kinds]}}
        tree.collected[lang] = frozenset(kinds)
        tree.rule_kinds[lang] = frozenset(kinds) - tree.kinds()
    return tree, problems


_kind_memo: dict[tuple[str, str], bool] = {}


def _kind_exists(kind: str, lang: str) -> bool:
    key = (kind, lang)
    if key not in _kind_memo:
        try:
            _call(parse("", lang).find_all, {"rule": {"kind": kind}})
            _kind_memo[key] = True
        except GrammarError:
            _kind_memo[key] = False
    return _kind_memo[key]
