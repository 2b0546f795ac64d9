"""Index one file from its parse tree (ast-grep): symbols, references, regions, routes, markers.

The file is parsed once. One search collects every node of the kinds the pack's ``syntax.tree``
names — identifiers, comments, strings, decorators, definitions — in document order; the pack's
ast rules (routes, imports, stub markers) run on the same tree, each skipped when a word it needs
is not in the file. Everything else is derived from those nodes' kinds, texts and offsets.
"""
from __future__ import annotations

import bisect
import posixpath
import re
from collections import Counter
from itertools import chain, islice, repeat
from operator import attrgetter

from . import grammar, sqlddl
from .grammar import CLASS_LIKE, FUNCTION_LIKE, DefSpec, TreeSyntax
from .index import (MAX_REGION_WORDS, MAX_STRING, FileIndex, Ref, Region, Route, Symbol, word_parts, LineIndex, take_words,
                    first_lines, fit_words, join_route, make_route, norm_route, path_words, region_words, route_method,
                    table_symbols, unquote, words_of)
from .rules import PatternRule, RulePack, RuleSet, group

MAX_STRINGS = 2000
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_CAPS = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_TEXT = attrgetter("text")
_SHORT_BODY = 400  # a body with no stub marker and longer than this holds more than `pass`
_TUPLES = frozenset({"pattern_list", "tuple_pattern", "expression_list"})
_QUALIFIED = frozenset({"scope_resolution", "scoped_identifier", "qualified_name", "scoped_type_identifier"})
# Nodes that only hold statements: a body made of one of them holding one statement is that statement.
_BLOCKS = frozenset({
    "block", "statement_block", "compound_statement", "statement_list", "statements", "body_statement",
    "function_body", "constructor_body", "arrow_expression_clause", "expression_statement", "do_block",
    "parenthesized_expression",
})


class _Text:
    __slots__ = ("start", "end", "line", "text")

    def __init__(self, start: int, end: int, line: int, text: str):
        self.start, self.end, self.line, self.text = start, end, line, text


class _Def:
    """A definition while the file is walked; becomes one Symbol per name, and a Region."""
    __slots__ = ("node", "start", "end", "end_line", "header", "names", "kind", "owner", "parent", "params",
                 "abstract", "stub", "decorated", "children", "doc", "trivial")

    def __init__(self, node, start, end):
        self.node, self.start, self.end = node, start, end
        self.end_line = 0
        self.header = start
        self.names: list[tuple[str, int, int]] = []  # (name, start offset, line)
        self.kind = ""
        self.owner = ""
        self.parent: _Def | None = None
        self.params: list[str] = []
        self.abstract = self.stub = self.decorated = self.trivial = False
        self.children: list[_Def] = []
        self.doc: _Text | None = None  # a docstring


class _Match:
    __slots__ = ("rule", "start", "end", "line", "caps")

    def __init__(self, rule: PatternRule, start: int, end: int, line: int, caps: dict):
        self.rule, self.start, self.end, self.line, self.caps = rule, start, end, line, caps


def index_tree(path: str, text: str, pack: RulePack, ruleset: RuleSet, lang: str, lossy: bool) -> FileIndex:
    return _FileWalk(path, text, pack, ruleset, lang).index(lossy)


class _FileWalk:
    def __init__(self, path: str, text: str, pack: RulePack, ruleset: RuleSet, lang: str):
        self.path, self.text, self.pack, self.ruleset, self.lang = path, text, pack, ruleset, lang
        self.tree: TreeSyntax = pack.tree
        self.root = grammar.parse(text, lang)
        self._lines: LineIndex | None = None
        self.idents: list[str] = []  # the text of every identifier, in document order
        self._blank: str | None = None  # the text with comments and strings blanked
        self.comments: list[_Text] = []
        self.strings: list[_Text] = []
        self.decorators: list[int] = []
        self.timeouts: list[str] = []
        self.members: list[_Def] = []  # enum members read from an enum's body (not definitions themselves)
        self._code: str | None = None
        self._lower: str | None = None
        self.fast_nodes: dict[str, list] = {}

    # ---- the one pass over the tree ----------------------------------------------------------------
    def collect(self) -> list[tuple]:
        t = self.tree
        ident, comment, string, deco, defs = t.identifier, t.comment, t.string, t.decorator, t.definitions
        found = []
        self.collected = t.collected[self.lang]
        extra = t.rule_kinds[self.lang]
        fast_nodes = self.fast_nodes
        add_ident = self.idents.append
        for n in self.root.find_all(t.collect[self.lang]):
            k = n.kind()
            if k in ident and k not in defs:  # the most common node: its text is all we need
                add_ident(n.text())
                continue
            if k in extra:  # read by a rule's FastForm
                fast_nodes.setdefault(k, []).append(n)
                continue
            r = n.range()
            s, e = r.start, r.end
            if k in ident:
                add_ident(n.text())
            elif k in comment:
                self.comments.append(_Text(s.index, e.index, s.line + 1, n.text()))
            elif k in string:
                self.strings.append(_Text(s.index, e.index, s.line + 1, n.text()))
            elif k in deco:
                self.decorators.append(s.index)
            if k in defs:
                found.append((n, defs[k], s.index, e.index, e.line + 1))
        self.string_starts = [x.start for x in self.strings]
        self.ident_set = set(self.idents)
        return found

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    def matches(self, rules) -> list[_Match]:
        out = []
        for rule in rules:
            fast = rule.fast
            if fast is not None and fast.kind in self.collected:
                out.extend(self.fast_matches(rule, fast))
            elif rule.ast is not None:
                for m in rule.find(self.root, self.lang, self.text, self.lower, self.ident_set):
                    r = m.range()
                    out.append(_Match(rule, r.start.index, r.end.index, r.start.line + 1, _captures(m, rule)))
            elif rule.compiled is not None:
                try:
                    for m in rule.finditer(self.code_text()):
                        caps = {k.upper(): v for k in ("path", "method", "name", "target", "kind")
                                if (v := group(m, k)) is not None}
                        if "PATH" in caps:
                            span = next(m.span(g) for g in ("path", "path2", "path3") if g in m.groupdict()
                                        and m.group(g))
                            caps["_PATH_SPAN"] = span
                            caps["_PATH_LINE"] = self.lines.at(span[0])
                        start = m.start() + (len(m.group()) - len(m.group().lstrip()))
                        out.append(_Match(rule, start, m.end(), self.lines.at(start), caps))
                except TimeoutError:
                    self.timeouts.append(rule.id)
        return out

    def fast_matches(self, rule: PatternRule, fast) -> list[_Match]:
        out = []
        for n in self.fast_nodes.get(fast.kind, ()):
            if fast.field:
                child = n.field(fast.field)
            else:
                child = next((c for c in n.children() if c.kind() == fast.child_kind), None)
            if child is None:
                continue
            value = child.text()
            if fast.regex is not None and not fast.regex.search(value):
                continue
            r = n.range()
            out.append(_Match(rule, r.start.index, r.end.index, r.start.line + 1, {fast.var: value}))
        return out

    def code_text(self) -> str:
        """The text with comments blanked (newlines kept): what a regex rule of a parsed pack reads."""
        if self._code is None:
            parts, pos = [], 0
            for c in self.comments:
                if c.start < pos:
                    continue
                parts.append(self.text[pos:c.start])
                parts.append(re.sub(r"[^\n]", " ", self.text[c.start:c.end]))
                pos = c.end
            parts.append(self.text[pos:])
            self._code = "".join(parts)
        return self._code

    # ---- definitions ------------------------------------------------------------------------------
    def definitions(self, found, stub_spans: list[tuple[int, int]]) -> list[_Def]:
        out: list[_Def] = []
        stack: list[_Def] = []
        for node, spec, start, end, end_line in found:
            while stack and stack[-1].end <= start:
                stack.pop()
            parent = stack[-1] if stack else None
            d = self.definition(node, spec, start, end, parent, stub_spans)
            if d is None:
                continue
            d.end_line, d.parent = end_line, parent
            if parent is not None:
                parent.children.append(d)
            stack.append(d)
            out.append(d)
        return out

    def definition(self, node, spec: DefSpec, start: int, end: int, parent: _Def | None, stub_spans) -> _Def | None:
        t = self.tree
        d = _Def(node, start, end)
        if spec.scope:
            d.kind = "scope"
            d.owner = _type_name(node.field(spec.owner), t) if spec.owner else ""
            return d
        names = self.names(node, spec)
        if not names:
            return None
        d.names = names
        name_start = names[0][1]
        if t.wrappers:
            p = node.parent()
            if p is not None and p.kind() in t.wrappers:
                d.header = p.range().start.index
        if t.decorator:
            prev = node.prev()
            while prev is not None and (prev.kind() in t.decorator or prev.kind() in t.comment):
                if prev.kind() in t.decorator:
                    d.header = prev.range().start.index
                prev = prev.prev()
        header = set(_WORDS.findall(self.text[d.header:name_start]))
        i = bisect.bisect_left(self.decorators, d.header)
        d.decorated = i < len(self.decorators) and self.decorators[i] < name_start
        kind = spec.kind
        if spec.kind_by_child:
            for c in node.children():
                if c.kind() in spec.kind_by_child:
                    kind = spec.kind_by_child[c.kind()]
                    break
        for word, k in spec.kind_by_word.items():
            if word in header:
                kind = k
        bases: set[str] = set()
        if spec.bases:
            b = node.field(spec.bases)
            if b is not None:
                bases = set(_WORDS.findall(b.text()))
                for base, k in spec.kind_by_base.items():
                    if base in bases:
                        kind = k
        fn_node = node
        if spec.value:
            v = node.field(spec.value)
            if v is not None and v.kind() in t.functions:
                kind, fn_node = "function", v
        name = names[0][0]
        if kind == "variable" and _CAPS.match(name):
            kind = "constant"
        # where it stands: a local of a function is no symbol; a member takes its owner's name
        pk = parent.kind if parent is not None else ""
        if pk in FUNCTION_LIKE:
            if kind not in FUNCTION_LIKE and kind not in CLASS_LIKE:
                return None
        elif pk == "module":  # a Rust or Ruby module: its functions and variables stay what they are
            d.owner = parent.names[0][0]
        elif parent is not None:
            d.owner = parent.owner if pk == "scope" else parent.names[0][0]
            if kind == "function":
                kind = "method"
            elif kind in ("variable", "constant", "field") and pk == "enum":
                kind = "enum_member"
            elif kind == "variable":
                kind = "field"
            elif kind == "field" and "static" in header and _CAPS.match(name):
                kind = "constant"
        if spec.owner:
            d.owner = _type_name(node.field(spec.owner), t) or d.owner
            if kind == "function" and d.owner:
                kind = "method"
        d.kind = kind
        if kind in FUNCTION_LIKE:
            d.params = self.params(_params_node(fn_node, t))
            body = fn_node.field("body") or _child_of(fn_node, t.body)
            d.abstract = bool(header & t.abstract) or (body is None and not t.empty_without_body)
            if body is not None:
                r = body.range()
                b0, b1 = r.start.index, r.end.index
                d.doc = self.docstring(b0, b1)
                interface = pk in ("interface", "trait")
                inner = [span for span in stub_spans if b0 <= span[0] and span[1] <= b1]
                short = t.stub_statements and b1 - (d.doc.end if d.doc else b0) < _SHORT_BODY
                if interface or inner or short:  # the body may be a stub: look at its statements
                    stmts = self.statements(body, d)
                    if interface and (not stmts or _trivial(stmts, t)):
                        d.abstract = True
                    if not d.abstract and len(stmts) == 1:
                        r = stmts[0].range()
                        d.trivial = stmts[0].kind() in t.stub_statements
                        d.stub = d.trivial or any(r.start.index <= a and b <= r.end.index for a, b in inner)
        elif kind in CLASS_LIKE:
            d.abstract = kind in ("interface", "trait") or bool((header | bases) & t.abstract)
            own = _params_node(node, t)
            if own is not None:
                d.params = self.params(own)
            body = None
            if t.docstrings or spec.members:
                body = node.field("body") or _child_of(node, t.body)
            if body is not None and t.docstrings:
                r = body.range()
                d.doc = self.docstring(r.start.index, r.end.index)
            if spec.members:
                for c in body.named_children() if body is not None else ():
                    if c.kind() in spec.members:
                        m = c if c.kind() in t.identifier else (c.field("name") or _child_of(c, t.identifier))
                        if m is not None:
                            r = m.range()
                            member = _Def(c, r.start.index, r.end.index)
                            member.names = [(m.text(), r.start.index, r.start.line + 1)]
                            member.kind, member.owner, member.parent = "enum_member", name, d
                            member.end_line = r.end.line + 1
                            d.children.append(member)
                            self.members.append(member)
        return d

    def names(self, node, spec: DefSpec) -> list[tuple[str, int, int]]:
        t = self.tree
        nodes = [node]
        for step in spec.name:
            nxt = []
            for n in nodes:
                found = n.field_children(step)
                if not found:
                    found = [c for c in n.named_children() if c.kind() == step]
                nxt.extend(found)
            nodes = nxt
        if not nodes and spec.name == ("name",):
            c = _child_of(node, t.identifier)
            nodes = [c] if c is not None else []
        out = []
        for n in nodes:
            k = n.kind()
            if k in _TUPLES:  # a, b = …
                n_list = [c for c in n.named_children() if c.kind() in t.identifier]
            elif k in _QUALIFIED:  # class A::B
                last = n.field("name") or ([c for c in n.named_children() if c.kind() in t.identifier] or [None])[-1]
                n_list = [last] if last is not None else []
            elif k in t.identifier:
                n_list = [n]
            else:  # obj.attr = …, {a, b} = …: not a definition of a name
                n_list = []
            for c in n_list:
                r = c.range()
                out.append((c.text(), r.start.index, r.start.line + 1))
        return out

    def params(self, plist) -> list[str]:
        if plist is None:
            return []
        t = self.tree
        out = []
        for c in plist.named_children():
            k = c.kind()
            if k in t.comment or k in t.decorator:
                continue
            if k in t.identifier:
                names = [c]
            else:
                names = c.field_children("name") or [x for x in (c.field("pattern"), c.field("left")) if x]
                if not names or names[0].kind() not in t.identifier:
                    first = _child_of(names[0] if names else c, t.identifier)
                    if first is None and names:
                        first = _child_of(c, t.identifier)
                    names = [first] if first is not None else []
            for n in names:
                v = n.text()
                if v not in t.self_names:
                    out.append(v)
        return out

    def docstring(self, start: int, end: int) -> _Text | None:
        """A string that is a body's first statement, for grammars with docstrings (read from the
        strings already collected: no walk)."""
        if not self.tree.docstrings:
            return None
        i = bisect.bisect_left(self.string_starts, start)
        if i == len(self.strings):
            return None
        s = self.strings[i]
        if s.start >= end or self.text[start:s.start].strip():
            return None
        nl = self.text.find("\n", s.end)
        rest = self.text[s.end:nl if nl >= 0 else len(self.text)]
        return s if rest.strip() in ("", ";") or rest.lstrip().startswith("#") else None

    def statements(self, body, d: _Def) -> list:
        """The statements of a body, docstring and comments left out, single wrappers unwrapped."""
        t = self.tree
        if body.kind() not in _BLOCKS and body.kind() not in t.body:
            return [body]
        kids = [c for c in body.named_children() if c.kind() not in t.comment]
        if t.docstrings and kids and kids[0].kind() == "expression_statement":
            inner = kids[0].named_children()
            if len(inner) == 1 and inner[0].kind() in t.string:
                r = inner[0].range()
                d.doc = _Text(r.start.index, r.end.index, r.start.line + 1, inner[0].text())
                kids = kids[1:]
        while len(kids) == 1 and kids[0].kind() in _BLOCKS:
            kids = [c for c in kids[0].named_children() if c.kind() not in t.comment]
        return kids

    # ---- the index ---------------------------------------------------------------------------------
    def index(self, lossy: bool) -> FileIndex:
        defs: list[_Def] = []
        try:
            return self._index(lossy, defs)
        finally:
            # a definition and its parent refer to each other: without this, each file's definitions
            # (and through their nodes, its whole parse tree) waited for the cyclic collector, which an
            # indexing worker does not run (600 prometheus files: 39,000 objects and 310 MB held)
            for d in defs:
                d.children.clear()

    def _index(self, lossy: bool, defs: list[_Def]) -> FileIndex:
        found = self.collect()
        pack = self.pack
        stub_matches = self.matches(self.ruleset.code_markers(pack))
        stub_spans = [(m.start, m.end) for m in stub_matches]
        defs.extend(self.definitions(found, stub_spans))
        symbols, def_names, regions = self.symbols(defs)
        for m in self.matches(pack.definitions):
            name = m.caps.get("NAME")
            if name:
                symbols.append(Symbol(name, m.rule.symbol or "function", "", m.line, self.lines.at(m.end)))
        if sqlddl.has_ddl(self.text):
            for s in self.strings:
                if sqlddl.has_ddl(s.text):
                    symbols.extend(table_symbols(s.text, s.start, self.lines.at))
        # a name that occurs more often than it is defined is referenced (a definition's name is an identifier too)
        used = Counter(self.idents)
        used.subtract(def_names)
        refnames = {name for name, n in used.items() if n > 0}
        refnames |= self.exported(defs)
        strings: dict[str, int] = {}
        for s in self.strings[:MAX_STRINGS]:
            v = unquote(s.text)
            if 0 < len(v) <= MAX_STRING and v not in strings:
                strings[v] = s.line
        text_lines = self.text.splitlines()
        routes, mounts = self.routes()
        return FileIndex(
            kind="code", lang=pack.name, lines=sum(map(bool, map(str.strip, text_lines))), defs=first_lines(symbols),
            routes=routes, mounts=mounts, strings=strings, tokens=frozenset(self.ident_set),
            comment_tokens=frozenset(_IDENT.findall("\n".join(c.text for c in self.comments))),
            markers=self.markers(stub_matches, defs, text_lines), refs=self.refs(), lossy=lossy,
            timeouts=tuple(dict.fromkeys(self.timeouts)), symbols=tuple(symbols), refnames=frozenset(refnames),
            regions=tuple(regions),
        )

    def symbols(self, defs: list[_Def]) -> tuple[list[Symbol], list[str], list[Region]]:
        """Symbols, the names at definition sites (to tell references from them), and regions."""
        t = self.tree
        symbols: list[Symbol] = []
        def_names: list[str] = []
        regions: list[Region] = [self.module_region(defs)]
        comment_starts = [c.start for c in self.comments]
        string_starts = self.string_starts
        for d in defs + self.members:
            if d.kind == "scope":
                continue
            if d.kind in CLASS_LIKE:
                params = list(d.params)
                for c in d.children:
                    if c.kind == "constructor" or (c.kind == "method" and c.names[0][0] in t.constructors):
                        params.extend(c.params)
                for c in d.children:
                    if c.kind in ("field", "constant"):
                        params.extend(n for n, _, _ in c.names)
                d.params = list(dict.fromkeys(params))
            end_line = d.end_line
            for name, start, line in d.names:
                def_names.append(name)
                if d.kind == "constructor":
                    continue
                symbols.append(Symbol(name, d.kind, d.owner, line, end_line, tuple(d.params), d.abstract,
                                      d.stub, d.decorated))
            if (d.kind in CLASS_LIKE and d.kind != "module") or d.kind in FUNCTION_LIKE:
                # (a Rust or Ruby module gets no region: kind "module" is the file's; its members have theirs)
                regions.append(self.region(d, end_line, comment_starts, string_starts))
        return symbols, def_names, regions

    def region(self, d: _Def, end_line: int, comment_starts, string_starts) -> Region:
        lo, hi = d.header, d.end
        name = d.names[0][0]
        words = _IDENT.findall(self.blank(), lo, hi)
        if name in words:
            words.remove(name)  # the name leads the words already
        # each identifier's parts (a keyword, not an identifier anywhere in the file, has none)
        id_w = list(islice(chain.from_iterable(map(self.ident_words.get, words, repeat(()))), MAX_REGION_WORDS))
        docs = self.doc_comments(lo, comment_starts)
        if d.doc is not None:
            docs.append(d.doc)
        if self.comments:
            docs += self.comments[bisect.bisect_left(comment_starts, lo):bisect.bisect_left(comment_starts, hi)]
        strs = self.strings[bisect.bisect_left(string_starts, lo):bisect.bisect_left(string_starts, hi)]
        if d.doc is not None and d.doc in strs:
            strs.remove(d.doc)
        return Region(d.kind, name, d.owner, d.names[0][2], end_line,
                      fit_words(word_parts(name), id_w,
                                take_words(map(_TEXT, docs), words_of, MAX_REGION_WORDS) if docs else [],
                                take_words(map(_TEXT, strs), words_of, MAX_REGION_WORDS) if strs else []))

    def blank(self) -> str:
        """The text with comments and strings blanked: what a region's identifiers are read from."""
        if self._blank is None:
            parts, pos = [], 0
            for start, end in sorted([(c.start, c.end) for c in self.comments] + [(x.start, x.end) for x in self.strings]):
                if start >= pos:
                    parts.append(self.text[pos:start])
                    parts.append(" " * (end - start))
                    pos = end
            parts.append(self.text[pos:])
            self._blank = "".join(parts)
            self.ident_words = {w: word_parts(w) for w in self.ident_set}
        return self._blank

    def doc_comments(self, start: int, comment_starts) -> list[_Text]:
        """The comments on the lines right above a definition, each on a line of its own."""
        out = []
        text = self.text
        j = bisect.bisect_left(comment_starts, start) - 1
        cur = text.rfind("\n", 0, start) + 1  # from the start of its line: `type` before a Go type_spec
        while j >= 0:
            c = self.comments[j]
            line_start = text.rfind("\n", 0, c.start) + 1
            if text[c.end:cur].strip() or text[line_start:c.start].strip():
                break
            out.append(c)
            cur = line_start
            j -= 1
        out.reverse()
        return out

    def module_region(self, defs: list[_Def]) -> Region:
        docs = []
        pos = 0
        for c in self.comments:  # the comment block the file opens with (a licence, a package doc)
            if self.text[pos:c.start].strip():
                break
            docs.append(c.text)
            pos = c.end
        if self.tree.docstrings and self.strings:
            s = self.strings[0]
            before = "\n".join(ln for ln in self.text[:s.start].splitlines() if not ln.lstrip().startswith("#"))
            if not before.strip():
                docs.append(s.text)
        top = [n for d in defs if d.parent is None and d.kind != "scope" for n, _, _ in d.names]
        return Region("module", posixpath.basename(self.path), "", 1, self.text.count("\n") + 1,
                      region_words("", path_words(self.path) + top, docs, []))

    def exported(self, defs: list[_Def]) -> set[str]:
        """String items of a module-level ``__all__`` (or the like) name what the module offers."""
        out: set[str] = set()
        if not self.tree.exports:
            return out
        for d in defs:
            if d.parent is None and d.names and d.names[0][0] in self.tree.exports:
                for s in self.strings:
                    if d.start <= s.start < d.end:
                        out.add(unquote(s.text))
        return out

    def markers(self, stub_matches: list[_Match], defs: list[_Def], text_lines) -> tuple:
        def line_text(ln: int) -> str:
            return text_lines[ln - 1].strip()[:160] if 0 < ln <= len(text_lines) else ""

        out: list[tuple[int, str, str]] = []
        comment_rules = self.ruleset.comment_markers(self.pack)
        if comment_rules and self.comments:
            # all comments at once, a newline apart; a match is placed back in its comment
            joined = "\n".join(c.text for c in self.comments)
            starts, pos = [], 0
            for c in self.comments:
                starts.append(pos)
                pos += len(c.text) + 1
            for rule in comment_rules:
                try:
                    for m in rule.finditer(joined):
                        i = bisect.bisect_right(starts, m.start()) - 1
                        c = self.comments[i]
                        kind = rule.kind or (group(m, "kind") or "todo").lower()
                        ln = c.line + c.text.count("\n", 0, m.start() - starts[i])
                        out.append((ln, kind, line_text(ln)))
                except TimeoutError:
                    self.timeouts.append(rule.id)
        abstract = [(d.start, d.end) for d in defs if d.abstract and d.kind in FUNCTION_LIKE]
        for m in stub_matches:
            if any(a <= m.start and m.end <= b for a, b in abstract):
                continue  # an abstract method says what subclasses must do; it is not unfinished
            kind = m.rule.kind or (m.caps.get("KIND") or "todo").lower()
            out.append((m.line, kind, line_text(m.line)))
        for d in defs:
            if d.trivial:
                out.append((d.names[0][2], "stub", line_text(d.names[0][2])))
        out.sort()
        return tuple(dict.fromkeys(out))

    def refs(self) -> tuple[Ref, ...]:
        out = []
        for m in self.matches(self.pack.references):
            target = m.caps.get("TARGET")
            if target:
                out.append(Ref(m.rule.style, unquote(target), m.line))
        return tuple(out)

    def routes(self) -> tuple[tuple[Route, ...], tuple[tuple[str, int], ...]]:
        """The routes the file registers, and the prefixes it mounts routers at whose routes it does
        not register itself (``FileIndex.mounts``)."""
        prefixes, plain = [], []
        for m in self.matches(self.pack.routes):
            raw = m.caps.get("PATH")
            if raw is None:
                continue
            (prefixes if m.rule.prefix else plain).append(m)
        scoped = [p for p in prefixes if not p.caps.get("RECV")]
        bound = [p for p in prefixes if p.caps.get("RECV")]
        out: list[Route] = []
        for m in plain:
            raw = unquote(m.caps["PATH"])
            pre = _recv_prefix(bound, scoped, m.caps["RECV"], m) if m.caps.get("RECV") else None
            if pre is None:
                pre = _scope_prefix(scoped, m)
            method = route_method(m.caps.get("METHOD"))
            line = m.caps.get("_PATH_LINE", m.line)  # a chained call starts lines above its path
            if raw:
                out.append(make_route(method, raw, line))
            if pre:
                r = make_route(method, raw, line)
                full = join_route(pre, r.raw)
                out.append(Route(r.method, full, norm_route(full), line))
        # a router mounted here whose routes are registered elsewhere (app.use('/api/users', users) with
        # users' routes in the module it imports): the prefix, for the routes of the files this one imports
        used = {m.caps["RECV"] for m in plain if m.caps.get("RECV")} | \
            {p.caps["PARENT"] for p in bound if p.caps.get("PARENT")}
        mounts = []
        for p in bound:
            raw = unquote(p.caps["PATH"])
            if p.caps["RECV"] not in used and raw:
                pre = _scope_prefix(scoped, p)
                mounts.append((norm_route(join_route(pre, raw) if pre else raw), p.caps.get("_PATH_LINE", p.line)))
        return tuple(out), tuple(dict.fromkeys(mounts))


def _scope_prefix(scoped: list[_Match], m: _Match) -> str:
    """The prefix of the blocks (``r.Route("/api", …)``) a route is registered inside."""
    pre = ""
    for p in scoped:  # outermost first: matches come in document order
        if p.start <= m.start and m.end <= p.end and not _inside(m.caps["_PATH_SPAN"], p.caps["_PATH_SPAN"]):
            pre = join_route(pre, unquote(p.caps["PATH"])) if pre else unquote(p.caps["PATH"])
    return pre


def _recv_prefix(bound: list[_Match], scoped: list[_Match], recv: str, m: _Match, depth: int = 0) -> str | None:
    """The prefix of the router group ``recv`` a route is registered on (``v1 := r.Group("/v1")``),
    the groups it was made from included; None when ``recv`` is no group."""
    same = [p for p in bound if p.caps["RECV"] == recv and p is not m]
    if not same:
        return None
    before = [p for p in same if p.start < m.start]
    p = before[-1] if before else same[0]
    base = None
    if p.caps.get("PARENT") and depth < 5:
        base = _recv_prefix(bound, scoped, p.caps["PARENT"], p, depth + 1)
    if base is None:
        base = _scope_prefix(scoped, p)
    raw = unquote(p.caps["PATH"])
    return join_route(base, raw) if base else raw


def _captures(m, rule: PatternRule) -> dict:
    caps = {}
    for name in ("PATH", "METHOD", "RECV", "PARENT", "NAME", "TARGET", "KIND"):
        node = m.get_match(name)
        got = m.get_transformed(name) if rule.ast.get("transform") and name in rule.ast["transform"] else None
        if got is None and node is not None:
            got = node.text()
        if got is not None:
            caps[name] = got
    if "PATH" in caps:
        r = (m.get_match("PATH") or m).range()
        caps["_PATH_SPAN"] = (r.start.index, r.end.index)
        caps["_PATH_LINE"] = r.start.line + 1
    return caps


def _inside(span: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


def _child_of(node, kinds) -> object | None:
    if node is None or not kinds:
        return None
    for c in node.named_children():
        if c.kind() in kinds:
            return c
    return None


def _params_node(node, t: TreeSyntax):
    return node.field("parameters") or _child_of(node, t.parameters)


def _type_name(node, t: TreeSyntax) -> str:
    """The type a receiver or impl block names: `(s *Server)` → Server, `impl<T> Store<T>` → Store."""
    if node is None:
        return ""
    stack = [node]
    while stack:  # depth first, in order: the first type_identifier
        n = stack.pop()
        if n.kind() == "type_identifier":
            return n.text()
        stack.extend(reversed(n.named_children()))
    c = _child_of(node, t.identifier)
    return c.text() if c is not None else ""


def _trivial(stmts, t: TreeSyntax) -> bool:
    return all(s.kind() in t.stub_statements for s in stmts)
