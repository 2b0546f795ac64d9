"""Per-file evidence index: what one file defines, registers, reads, imports and leaves unfinished.

Code in a language with a parser (``parser:`` in its rule pack) is indexed from its parse tree, built
once per file by ast-grep (``treeindex``); a pack without a parser is read with regular expressions
over the text (below). An index depends only on the file's bytes and the rule packs, so the engine
caches it by (blob hash, rule-set key): an unchanged file is never parsed twice.
"""
from __future__ import annotations

import bisect
import marshal
import operator
import posixpath
import re
import sys
import zlib
from collections import Counter, deque
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice

from . import dataindex, grammar, sqlddl
from .terms import _HUMP, split_identifier, split_parts as _split
from .rules import RulePack, RuleSet, group
from .snapshot import decode

MAX_LINE = 4000  # a file with a longer line is treated as generated/minified
MAX_STRING = 200
MAX_REGION_WORDS = 400
DOC_EXTENSIONS = {".md", ".markdown", ".rst", ".txt", ".adoc", ".feature"}
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_PARTS = _HUMP
_intern = sys.intern


@dataclass(frozen=True)
class Route:
    method: str | None  # None: any method
    raw: str
    norm: str
    line: int


@dataclass(frozen=True)
class Ref:
    style: str  # module | dotted
    target: str  # as written
    line: int


def _by_fields(cls):
    """Pickle a slotted dataclass as its class and field values: loading one then runs in C's call
    path instead of dataclasses' generic __setstate__ (twice as fast for the content cache)."""
    get = operator.attrgetter(*cls.__slots__)
    cls.__reduce__ = lambda self: (cls, get(self))
    return cls


# Symbols and regions are never changed once built, but are not frozen dataclasses: a frozen one's
# __init__ sets every field through object.__setattr__, which made building them five times slower
# (an index read back from its compact form builds them all again). They hash by value as before.
@_by_fields
@dataclass(slots=True, unsafe_hash=True)
class Symbol:
    """One definition. kind: class | interface | struct | enum | trait | module | function | method | field |
    constant | variable | type | enum_member | table | column | target."""
    name: str
    kind: str
    owner: str  # enclosing class / struct / impl / receiver type ("" at top level); a column's table
    line: int  # of the name
    end_line: int
    params: tuple[str, ...] = ()  # functions: parameter names (no self); classes: constructor parameters
    #                               and fields; tables: column names
    abstract: bool = False  # @abstractmethod, abstract keyword, interface method, Protocol member
    stub: bool = False  # the body only passes or raises "not implemented" (never when abstract)
    decorated: bool = False  # has decorators / annotations / attributes (often wired by a framework)


@_by_fields
@dataclass(slots=True, unsafe_hash=True)
class Region:
    """A stretch of code for text retrieval: a class (interface, struct, enum, trait), function or method —
    kind is the symbol's kind — or the whole file (kind "module": its path's parts, leading comment or
    docstring and top-level names; Rust and Ruby modules get no region of their own). words: lower-case
    word parts of its name, the identifiers inside it, its docstring and comments (those right above it
    included), and its string literals, in that order; single letters dropped; at most 400."""
    kind: str
    name: str
    owner: str
    line: int
    end_line: int
    words: tuple[str, ...]


@dataclass(frozen=True)
class FileIndex:
    kind: str  # "code", "doc", "other", "minified", "binary"
    lang: str | None  # the rule pack's name
    lines: int  # non-blank lines
    defs: dict  # name -> first line it is defined on
    routes: tuple[Route, ...]
    strings: dict  # literal -> line
    tokens: frozenset  # identifiers in code (outside comments and strings); words for docs
    comment_tokens: frozenset
    markers: tuple[tuple[int, str, str], ...]  # (line, kind, text)
    refs: tuple[Ref, ...]  # imports
    lossy: bool = False
    timeouts: tuple[str, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    refnames: frozenset = frozenset()  # identifiers used as references (not where they are defined)
    regions: tuple[Region, ...] = ()
    mounts: tuple[tuple[str, int], ...] = ()  # (route prefix, line): routers mounted here, registered elsewhere


EMPTY = FileIndex("other", None, 0, {}, (), {}, frozenset(), frozenset(), (), ())


# ---- the compact form an index is stored and sent in ------------------------------------------------
# Plain tuples, sets and dicts with their names interned, for ``marshal``: it keeps the interning, so
# the names of every loaded index are one string each in the process (pickle makes a copy per file),
# and it reads them back faster. The content cache and the indexing workers use it.
#
# What a file defines, names and says (``HEAVY``: most of an index's memory) travels as one compressed
# block of its own. An index read back from the compact form (``PackedIndex``) keeps that block as it
# came and unpacks it when one of those fields is first read; only the last ``DECODED`` unpacked ones
# stay unpacked (more while a feature's code is larger: ``keep_unpacked``). A whole repository's
# indexes then cost about their compressed size: at 30,000 files the blocks are 14 MB, and the report
# process held 160 MB after indexing instead of 351 MB. Reading a field of an index that was let go
# unpacks it again (about 30 microseconds).
PACKED_VERSION = 3
HEAVY = ("defs", "strings", "tokens", "comment_tokens", "symbols", "refnames", "regions")
DECODED = 1024


def _names(values) -> frozenset:
    return frozenset(map(_intern, values))


def _heavy_block(fi: FileIndex) -> bytes:
    return zlib.compress(marshal.dumps((
        {_intern(k): v for k, v in fi.defs.items()}, dict(fi.strings), _names(fi.tokens), _names(fi.comment_tokens),
        tuple((_intern(y.name), y.kind, _intern(y.owner), y.line, y.end_line, tuple(map(_intern, y.params)),
               y.abstract, y.stub, y.decorated) for y in fi.symbols),
        _names(fi.refnames),
        tuple((r.kind, _intern(r.name), _intern(r.owner), r.line, r.end_line, tuple(map(_intern, r.words)))
              for r in fi.regions))), 1)


def pack(fi: FileIndex) -> tuple:
    """``fi`` as plain values (``unpack`` gives back an equal index)."""
    block = fi.__dict__.get("_block") if type(fi) is PackedIndex else None
    return (PACKED_VERSION, fi.kind, fi.lang, fi.lines, tuple((r.method, r.raw, r.norm, r.line) for r in fi.routes),
            tuple(fi.markers), tuple((r.style, r.target, r.line) for r in fi.refs), fi.lossy, tuple(fi.timeouts),
            tuple(fi.mounts), block if block is not None else _heavy_block(fi))


def unpack(t: tuple) -> "PackedIndex":
    version = t[0] if isinstance(t, tuple) and t else None
    if version != PACKED_VERSION or len(t) != 11 or not isinstance(t[10], bytes):
        raise ValueError(f"packed index version {version}, expected {PACKED_VERSION}")
    _, kind, lang, lines, routes, markers, refs, lossy, timeouts, mounts, block = t
    fi = object.__new__(PackedIndex)
    fi.__dict__.update(kind=kind, lang=lang, lines=lines, routes=tuple(Route(*r) for r in routes), markers=markers,
                       refs=tuple(Ref(*r) for r in refs), lossy=lossy, timeouts=timeouts, mounts=mounts, _block=block,
                       _heavy=None)
    return fi


_decoded: deque = deque()  # the packed indexes whose heavy fields are unpacked, oldest first
_room = DECODED


def _unpacked(fi: "PackedIndex") -> tuple:
    defs, strings, tokens, comment_tokens, symbols, refnames, regions = marshal.loads(zlib.decompress(fi._block))
    heavy = (defs, strings, tokens, comment_tokens, tuple(Symbol(*y) for y in symbols), refnames,
             tuple(Region(*r) for r in regions))
    fi.__dict__["_heavy"] = heavy
    _decoded.append(fi)
    _let_go()
    return heavy


def _let_go() -> None:
    """Pack the oldest unpacked indexes again, down to the room there is."""
    while len(_decoded) > _room:
        _decoded.popleft().__dict__["_heavy"] = None


def keep_unpacked(n: int) -> None:
    """Keep ``n`` packed indexes unpacked, and ``DECODED`` more, until the enclosing ``unpacking``
    block ends: a feature whose code is larger than ``DECODED`` files would otherwise unpack its files
    again for every name it looks for. The room beyond its own files is for what it reads elsewhere
    (the owner of a method in another package): with none, one such read let the feature's oldest
    file go, and the next pass over its files unpacked every one of them in turn."""
    global _room
    _room = max(_room, n + DECODED)


def unpacked_room() -> int:
    """How many packed indexes stay unpacked now."""
    return _room


class unpacking:
    """A block (one evaluation) after which the packed indexes kept unpacked are ``DECODED`` again."""

    def __enter__(self):
        self._was = _room
        return self

    def __exit__(self, *exc):
        global _room
        _room = self._was
        _let_go()
        return False


def _heavy_field(i: int, name: str) -> property:
    def get(self):
        heavy = self.__dict__["_heavy"]
        return (heavy if heavy is not None else _unpacked(self))[i]
    get.__name__ = name
    return property(get, doc=f"``{name}``, unpacked on first use")


class PackedIndex(FileIndex):
    """An index read back from its compact form (``unpack``). It equals the index it was packed from;
    ``dataclasses.replace`` on it makes an ordinary ``FileIndex``."""

    def __new__(cls, *args, **kwargs):  # dataclasses.replace calls the class with every field
        return FileIndex(*args, **kwargs)

    def __eq__(self, other):
        if not isinstance(other, FileIndex):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in FileIndex.__dataclass_fields__)

    __hash__ = None

    def __reduce__(self):
        return loads, (dumps(self),)

    def __repr__(self):
        return "Packed" + FileIndex.__repr__(self)


for _i, _name in enumerate(HEAVY):
    setattr(PackedIndex, _name, _heavy_field(_i, _name))
del _i, _name


def dumps(fi: FileIndex) -> bytes:
    return marshal.dumps(pack(fi))


def loads(data: bytes) -> FileIndex:
    return unpack(marshal.loads(data))


@lru_cache(maxsize=1 << 16)
def word_parts(s: str) -> tuple[str, ...]:
    """split_identifier without single letters, interned: the words an identifier adds to a region."""
    return tuple(w for w in _split(s) if len(w) > 1)


@lru_cache(maxsize=1 << 15)
def words_of(text: str) -> tuple[str, ...]:
    """Word parts of free text (comments, strings), single letters dropped (strings recur: cached)."""
    return tuple([_intern(p.lower()) for p in _PARTS.findall(text) if len(p) > 1])


def region_words(name: str, idents, docs, strings, limit: int = MAX_REGION_WORDS) -> tuple[str, ...]:
    """Name parts, identifier parts, docstring and comment words, string words — in that order, at most
    ``limit``. When they do not fit, identifiers give way first (down to half the room), then comments."""
    return fit_words(word_parts(name), take_words(idents, word_parts, limit) if idents else [],
                     take_words(docs, words_of, limit) if docs else [], take_words(strings, words_of, limit) if strings else [],
                     limit)


def fit_words(name_w, id_w: list, doc_w: list, str_w: list, limit: int = MAX_REGION_WORDS) -> tuple[str, ...]:
    room = max(0, limit - len(name_w))
    if len(id_w) + len(doc_w) + len(str_w) > room:
        id_w = id_w[:max(room - len(doc_w) - len(str_w), room // 2)]
        doc_w = doc_w[:max(room - len(id_w) - len(str_w), (room - len(id_w)) // 2)]
        str_w = str_w[:room - len(id_w) - len(doc_w)]
    return (*name_w, *id_w, *doc_w, *str_w)


def take_words(items, words, limit: int) -> list[str]:
    """The first ``limit`` words of ``words(item)`` for each item, in order."""
    return list(islice(chain.from_iterable(map(words, items)), limit))


def norm_route(path: str) -> str:
    """Canonical route: path parameters of every framework become ``{}``; no trailing slash."""
    p = path.strip().split("?", 1)[0].split("#", 1)[0]
    if not p.startswith("/"):
        p = "/" + p
    segs = []
    for seg in p.split("/"):
        if not seg:
            continue
        if (seg.startswith("{") and seg.endswith("}")) or seg.startswith(":") or \
                (seg.startswith("<") and seg.endswith(">")) or (seg.startswith("[") and seg.endswith("]")) or \
                seg in ("*", "**") or seg.startswith("$") or (seg.startswith("*") and len(seg) > 1):
            segs.append("{}")
        else:
            segs.append(seg.rstrip("$"))
    return "/" + "/".join(segs)


@lru_cache(maxsize=64)
def _tokenizer(line_comment: tuple, block_comment: tuple, strings: tuple) -> re.Pattern | None:
    alts_s, alts_c = [], []
    for q in sorted(strings, key=len, reverse=True):
        e = re.escape(q)
        if len(q) == 3 or q == "`":
            alts_s.append(f"{e}[\\s\\S]*?{e}")
        else:
            alts_s.append(f"{e}(?:[^{e}\\\\\\n]|\\\\.)*{e}")
    for lc in line_comment:
        alts_c.append(f"{re.escape(lc)}[^\\n]*")
    for start, end in block_comment:
        alts_c.append(f"{re.escape(start)}[\\s\\S]*?{re.escape(end)}")
    if not alts_s and not alts_c:
        return None
    parts = []
    if alts_s:
        parts.append("(?P<s>" + "|".join(alts_s) + ")")
    if alts_c:
        parts.append("(?P<c>" + "|".join(alts_c) + ")")
    return re.compile("|".join(parts))


class LineIndex:
    def __init__(self, text: str):
        self.text = text
        self._nl: list[int] | None = None

    def at(self, offset: int) -> int:
        if self._nl is None:
            self._nl = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_right(self._nl, offset - 1) + 1


def _split_text(text: str, tok: re.Pattern | None):
    """(code without comments, code without comments or strings, comments only, string literals)."""
    if tok is None:
        return text, text, "", []
    code, bare, comments, strs = [], [], [], []
    pos = 0
    for m in tok.finditer(text):
        s, e = m.span()
        if s > pos:
            chunk = text[pos:s]
            code.append(chunk)
            bare.append(chunk)
            comments.append("\n" * chunk.count("\n"))
        seg = m.group()
        nl = "\n" * seg.count("\n")
        if m.lastgroup == "s":
            code.append(seg)
            bare.append(" " + nl)
            comments.append(nl)
            strs.append((s, seg))
        else:
            code.append(nl)
            bare.append(nl)
            comments.append(seg)
        pos = e
    tail = text[pos:]
    code.append(tail)
    bare.append(tail)
    comments.append("")
    return "".join(code), "".join(bare), "".join(comments), strs


def _pos(m) -> int:
    """Offset of the first non-blank character of a match (patterns may start with ^\\s*)."""
    g = m.group()
    return m.start() + (len(g) - len(g.lstrip()))


def _strip_quotes(seg: str) -> str:
    for q in ('"""', "'''"):
        if seg.startswith(q) and seg.endswith(q) and len(seg) >= 6:
            return seg[3:-3]
    return seg[1:-1]


def build_index(path: str, data: bytes, ruleset: RuleSet) -> FileIndex:
    dec = decode(data)
    if dec.binary:
        return FileIndex("binary", None, 0, {}, (), {}, frozenset(), frozenset(), (), ())
    text = dec.text
    ext = posixpath.splitext(path)[1].lower()
    pack = ruleset.pack_for(path)
    if pack is None:
        if ext in DOC_EXTENSIONS:
            return FileIndex("doc", None, 0, {}, (), {}, frozenset(_WORD.findall(text)), frozenset(), (), (),
                             lossy=dec.lossy)
        if (dataindex.is_data(path) or ruleset.infra_candidate(path)) and len(text) <= dataindex.MAX_DATA:
            timed: list[str] = []
            infra = ruleset.infra_rule(path, text, timed) is not None
            return dataindex.index_data(
                path, text,
                lambda **kw: FileIndex(routes=(), comment_tokens=frozenset(), markers=(), refs=(), lossy=dec.lossy,
                                       timeouts=tuple(timed), **kw),
                lambda name, line, end, words: Region("module", name, "", line, end, words), split_identifier,
                infra=infra)
        return EMPTY
    if len(text) > MAX_LINE and re.search(f"[^\\n]{{{MAX_LINE + 1}}}", text):
        return FileIndex("minified", pack.name, 0, {}, (), {}, frozenset(), frozenset(), (), (), lossy=dec.lossy)
    lang = pack.language(path)
    if lang and pack.tree is not None:
        from .treeindex import index_tree  # treeindex builds the records defined here
        try:
            return index_tree(path, text, pack, ruleset, lang, dec.lossy)
        except BaseException as exc:  # noqa: BLE001 - ast-grep's panics derive from BaseException
            if not grammar.parser_failure(exc):
                raise
            # never seen, but one odd file must not sink a report: read its text instead
    return _index_text(path, text, pack, ruleset, dec.lossy)


# ---- shared by both readers ------------------------------------------------------------------------
_QUOTED = re.compile(r"^[A-Za-z@$#]{0,3}?(\"\"\"|'''|\"|'|`)(.*)\1#*$", re.DOTALL)
_METHOD_IN_PATH = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)$")


def unquote(literal: str) -> str:
    """The text of a string literal: quotes and prefixes (r, f, b, @, $) removed, escapes kept;
    a Ruby symbol loses its colon."""
    q = literal[:1]
    if q in ('"', "'", "`") and len(literal) >= 2 and literal[-1] == q and literal[:3] != q * 3:
        return literal[1:-1]
    if q == ":" and len(literal) > 1:
        return literal[1:]
    m = _QUOTED.match(literal.lstrip("r#") if literal.startswith("r#") else literal)
    return m.group(2) if m else literal


def route_method(text: str | None) -> str | None:
    """The HTTP method a registration names ("MapGet", "HttpPost", "add_get", "'POST'"), or None (any)."""
    if not text:
        return None
    for w in _split(unquote(text)):
        if w.upper() in HTTP_METHODS:
            return w.upper()
    return None


def make_route(method: str | None, raw: str, line: int) -> Route:
    m = _METHOD_IN_PATH.match(raw.strip())  # Go 1.22: "GET /api/x"
    if m:
        method, raw = method or m.group(1), m.group(2)
    return Route(method, raw, norm_route(raw), line)


def join_route(prefix: str, raw: str) -> str:
    return prefix.rstrip("/") + "/" + raw.lstrip("/") if raw.strip("/") else prefix


def table_symbols(text: str, base: int, line_at) -> list[Symbol]:
    """Table and column symbols of the CREATE TABLE statements in ``text`` (found at offset ``base``)."""
    out = []
    for t in sqlddl.tables(text):
        line = line_at(base + t.offset)
        end = line_at(base + t.end)
        out.append(Symbol(t.name, "table", "", line, end, tuple(c for c, _ in t.columns)))
        out.extend(Symbol(c, "column", t.name, line_at(base + off), line_at(base + off)) for c, off in t.columns)
    return out


def first_lines(symbols) -> dict[str, int]:
    defs: dict[str, int] = {}
    for s in symbols:
        if s.name and (s.name not in defs or s.line < defs[s.name]):
            defs[s.name] = s.line
    return defs


def path_words(path: str) -> list[str]:
    return [posixpath.splitext(path)[0].replace("/", " ")]


# ---- the text reader: packs without a parser ---------------------------------------------------------
def _index_text(path: str, text: str, pack: RulePack, ruleset: RuleSet, lossy: bool) -> FileIndex:
    syn = pack.syntax
    code, bare, comments, strs = _split_text(text, _tokenizer(syn["line_comment"], syn["block_comment"],
                                                              syn["strings"]))
    lines = LineIndex(text)
    code_lines = LineIndex(code)
    comment_lines = LineIndex(comments)
    text_lines = text.splitlines()
    timeouts: list[str] = []

    def run(rule, target_text):
        if rule.compiled is None:  # an ast rule: it needs a parser
            return []
        try:
            return list(rule.finditer(target_text))
        except TimeoutError:
            timeouts.append(rule.id)
            return []

    symbols: list[Symbol] = []
    def_count: Counter = Counter()
    for rule in pack.definitions:
        for m in run(rule, code):
            name = group(m, "name")
            if name:
                ln = code_lines.at(_pos(m))
                symbols.append(Symbol(name, rule.symbol or "function", "", ln, ln))
                def_count[name] += 1
    if sqlddl.has_ddl(code):
        symbols.extend(table_symbols(code, 0, code_lines.at))
    routes: list[Route] = []
    prefixes: list[tuple[int, str]] = []  # (offset, prefix path)
    plain: list[tuple[int, Route]] = []
    for rule in pack.routes:
        for m in run(rule, code):
            raw = group(m, "path")
            if raw is None:
                continue
            if rule.prefix:
                prefixes.append((m.start(), raw))
                continue
            plain.append((m.start(), make_route(route_method(group(m, "method")), raw, code_lines.at(_pos(m)))))
    prefixes.sort()
    for off, r in plain:
        routes.append(r)
        before = [p for o, p in prefixes if o < off]
        if before:
            full = join_route(before[-1], r.raw)
            routes.append(Route(r.method, full, norm_route(full), r.line))
    refs: list[Ref] = []
    for rule in pack.references:
        for m in run(rule, code):
            target = group(m, "target")
            if target:
                refs.append(Ref(rule.style, target, code_lines.at(_pos(m))))
    markers: list[tuple[int, str, str]] = []
    for p in [pack, *ruleset.generic]:
        for rule in p.markers:
            src, src_lines = (comments, comment_lines) if rule.scope == "comment" else (code, code_lines)
            for m in run(rule, src):
                kind = rule.kind or (group(m, "kind") or "todo").lower()
                ln = src_lines.at(_pos(m))
                line_text = text_lines[ln - 1].strip() if ln - 1 < len(text_lines) else ""
                markers.append((ln, kind, line_text[:160]))
    strings: dict[str, int] = {}
    for off, seg in strs[:2000]:
        s = _strip_quotes(seg)
        if 0 < len(s) <= MAX_STRING and s not in strings:
            strings[s] = lines.at(off)
    n_lines = sum(1 for ln in text_lines if ln.strip())
    markers.sort()
    idents = _IDENT.findall(bare)
    used = Counter(idents)
    refnames = frozenset(n for n, c in used.items() if c > def_count.get(n, 0))
    top = [s.name for s in symbols if not s.owner]
    module = Region("module", posixpath.basename(path), "", 1, max(1, len(text_lines)),
                    region_words("", path_words(path) + top, [comments], []))
    return FileIndex(
        kind="code", lang=pack.name, lines=n_lines, defs=first_lines(symbols), routes=tuple(routes),
        strings=strings, tokens=frozenset(idents), comment_tokens=frozenset(_IDENT.findall(comments)),
        markers=tuple(dict.fromkeys(markers)), refs=tuple(refs), lossy=lossy, timeouts=tuple(timeouts),
        symbols=tuple(symbols), refnames=refnames, regions=(module,),
    )


def resolve_ref(ref: Ref, importer: str) -> tuple[str, bool]:
    """Turn an import target into a slash path. Returns (path, is_repo_relative)."""
    t = ref.target
    if ref.style == "module":
        if t.startswith("./") or t.startswith("../"):
            base = posixpath.dirname(importer)
            return posixpath.normpath(posixpath.join(base, t)), True
        return t.lstrip("@"), False
    # dotted: a.b.c (Python, Java, C#) or a::b::c (Rust)
    t = t.replace("::", ".")
    if t.startswith("."):
        dots = len(t) - len(t.lstrip("."))
        base = posixpath.dirname(importer)
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        rest = t[dots:].replace(".", "/")
        return posixpath.normpath(posixpath.join(base, rest)) if rest else base, True
    return t.replace(".", "/"), False
