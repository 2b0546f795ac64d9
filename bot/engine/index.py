"""Per-file evidence index: what one file defines, registers, reads, imports and leaves unfinished.

An index depends only on the file's bytes and the rule packs, so the engine caches it by
(blob hash, rule-set key): an unchanged file is never parsed twice.
"""
from __future__ import annotations

import bisect
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache

from .rules import RulePack, RuleSet, group
from .snapshot import decode

MAX_LINE = 4000  # a file with a longer line is treated as generated/minified
MAX_STRING = 200
DOC_EXTENSIONS = {".md", ".markdown", ".rst", ".txt", ".adoc", ".feature"}
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_WORD = re.compile(r"[A-Za-z_][\w-]*")


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


@dataclass(frozen=True)
class FileIndex:
    kind: str  # "code", "doc", "other", "minified", "binary"
    lang: str | None
    lines: int  # non-blank lines
    defs: dict
    routes: tuple[Route, ...]
    strings: dict
    tokens: frozenset  # identifiers in code (outside comments and strings); words for docs
    comment_tokens: frozenset
    markers: tuple[tuple[int, str, str], ...]  # (line, kind, text)
    refs: tuple[Ref, ...]
    lossy: bool = False
    timeouts: tuple[str, ...] = ()


EMPTY = FileIndex("other", None, 0, {}, (), {}, frozenset(), frozenset(), (), ())


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


class _Lines:
    def __init__(self, text: str):
        self.text = text
        self._nl: list[int] | None = None

    def at(self, offset: int) -> int:
        if self._nl is None:
            self._nl = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_right(self._nl, offset - 1) + 1


def _split(text: str, tok: re.Pattern | None):
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
        return EMPTY
    if re.search(f"[^\\n]{{{MAX_LINE + 1}}}", text):
        return FileIndex("minified", pack.name, 0, {}, (), {}, frozenset(), frozenset(), (), (), lossy=dec.lossy)
    return _index_code(text, pack, ruleset, dec.lossy)


def _index_code(text: str, pack: RulePack, ruleset: RuleSet, lossy: bool) -> FileIndex:
    syn = pack.syntax
    code, bare, comments, strs = _split(text, _tokenizer(syn["line_comment"], syn["block_comment"], syn["strings"]))
    lines = _Lines(text)
    code_lines = _Lines(code)
    comment_lines = _Lines(comments)
    text_lines = text.splitlines()
    timeouts: list[str] = []

    def run(rule, target_text):
        try:
            return list(rule.finditer(target_text))
        except TimeoutError:
            timeouts.append(rule.id)
            return []

    defs: dict[str, int] = {}
    for rule in pack.definitions:
        for m in run(rule, code):
            name = group(m, "name")
            if name and name not in defs:
                defs[name] = code_lines.at(_pos(m))
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
            method = group(m, "method")
            method = method.upper() if method else None
            if method in ("ALL", "REQUEST", "ROUTE", "ANY"):
                method = None
            plain.append((m.start(), Route(method, raw, norm_route(raw), code_lines.at(_pos(m)))))
    prefixes.sort()
    for off, r in plain:
        routes.append(r)
        before = [p for o, p in prefixes if o < off]
        if before:
            full = before[-1].rstrip("/") + "/" + r.raw.lstrip("/")
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
    return FileIndex(
        kind="code", lang=pack.name, lines=n_lines, defs=defs, routes=tuple(routes), strings=strings,
        tokens=frozenset(_IDENT.findall(bare)), comment_tokens=frozenset(_IDENT.findall(comments)),
        markers=tuple(dict.fromkeys(markers)), refs=tuple(refs), lossy=lossy, timeouts=tuple(timeouts),
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
