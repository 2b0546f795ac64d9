"""Specs → requirements, from markdown-it-py's token tree (and a small Gherkin reader).

A requirement is something a reviewer could check against code. Concrete anchors make it
checkable: endpoints, paths, backticked identifiers, CLI flags. Checklist items, spec-kit
FR-### and T### entries, OpenSpec Requirement/Scenario blocks and Gherkin scenarios are
requirements of their own, carrying the anchors they mention. Normative prose with no anchor
is kept as "unverifiable". Nothing under a Non-goals / Out of scope / Future heading counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt

from .model import Anchor, Kind, Requirement

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")  # HTML (comments) = own tokens, skipped

METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_ENDPOINT_CODE = re.compile(rf"^({METHODS})\s+(/\S*)$")
_ENDPOINT_TEXT = re.compile(rf"\b({METHODS})\s+(/[\w\-./{{}}:<>\[\]*$]*)")
_FLAG = re.compile(r"^--[a-zA-Z][\w-]*(?:[= ]\S*)?$")
_SYMBOL = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|#|->)[A-Za-z_$][\w$]*)*(?:\(\))?$")
_FILE_EXT = re.compile(
    r"\.(?:go|py|pyi|js|jsx|ts|tsx|mjs|cjs|java|kt|rb|rs|c|h|cc|cpp|hpp|cs|swift|php|scala|md|rst|txt|ya?ml|"
    r"json|toml|ini|cfg|conf|env|sql|proto|graphql|sh|bash|ps1|tf|hcl|html|css|scss|vue|svelte|feature|lock|xml|"
    r"gradle|mod|sum|csv|dockerfile)$", re.I)
_TEXT_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.[A-Za-z]\w{0,9})(?![\w/])")
_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")
_TASK = re.compile(r"^(T\d{3,})\b")
_FR = re.compile(r"^\W*(FR-\d{2,})\b")
_NORMATIVE = re.compile(r"\b(must|shall|should|required|requires|needs? to)\b", re.I)
_EXCLUDED = re.compile(
    r"\b(non[- ]?goals?|out of scope|not in scope|future( work| ideas| considerations)?|later|deferred|"
    r"won'?t (do|have)|not planned|nice to have|open questions|alternatives considered|rejected)\b", re.I)
_OS_REQ = re.compile(r"^Requirement:\s*(.+)$", re.I)
_OS_SCEN = re.compile(r"^Scenario:\s*(.+)$", re.I)
_GHERKIN_SCEN = re.compile(r"^\s*(Scenario Outline|Scenario Template|Scenario|Example):\s*(.*)$")
_GHERKIN_STEP = re.compile(r"^\s*(Given|When|Then|And|But|\*)\s+(.*)$")
_GHERKIN_SKIP_TAGS = {"@wip", "@skip", "@ignore", "@future", "@pending", "@manual", "@todo"}

STOPWORDS = {
    "true", "false", "null", "nil", "none", "yes", "no", "on", "off", "ok", "json", "yaml", "yml", "toml", "http",
    "https", "id", "ids", "url", "uri", "api", "cli", "todo", "main", "master", "string", "int", "bool", "float",
    "str", "dict", "list", "map", "array", "object", "void", "any", "error", "err", "self", "this", "new",
    "get", "post", "put", "patch", "delete", "head", "options", "and", "or", "not", "utf-8", "utf8", "ascii", "n/a",
    "tbd", "etc", "foo", "bar", "baz", "example", "value", "key", "name", "type", "data", "text", "date", "time",
}
MAX_TEXT = 240


def classify(code: str) -> Anchor | None:
    """What a backticked span names, if anything checkable."""
    s = code.strip()
    if not s or len(s) > 200:
        return None
    m = _ENDPOINT_CODE.match(s)
    if m:
        return Anchor(Kind.ENDPOINT, f"{m.group(1)} {m.group(2)}")
    if s.startswith("/") and " " not in s and len(s) > 1 and "://" not in s:
        last = s.rstrip("/").rsplit("/", 1)[-1]
        if "." in last:
            return None  # /etc/app.conf: a host path, not a repo path or a route
        return Anchor(Kind.ENDPOINT, f"ANY {s}")
    if _FLAG.match(s):
        return Anchor(Kind.FLAG, re.split(r"[= ]", s, maxsplit=1)[0])
    if " " in s or "://" in s or s.startswith("$ "):
        return None
    if "/" in s or _FILE_EXT.search(s):
        if s.startswith(("~", "$", "<", "{")) or "*" in s:
            return None
        return Anchor(Kind.PATH, s.lstrip("./") if s.startswith("./") else s)
    if _SYMBOL.match(s):
        bare = s[:-2] if s.endswith("()") else s
        if bare.lower() in STOPWORDS or len(bare) < 3 or bare.isdigit():
            return None
        return Anchor(Kind.SYMBOL, s, symbol_subkind(s))
    return None


def symbol_subkind(s: str) -> str:
    if s.endswith("()"):
        return "function"
    if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", s):
        return "env"
    if re.fullmatch(r"[a-z][a-z0-9_]*_(?:total|seconds|count|bytes|ms|ratio|bucket|sum|gauge|info)", s):
        return "metric"
    if "." in s and re.fullmatch(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)+", s):
        return "config"
    if re.fullmatch(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Z][a-z0-9]{2,}", s):
        return "type"
    if re.fullmatch(r"[a-z]+", s):
        return "word"
    return "identifier"


@dataclass
class ParsedSpec:
    path: str
    title: str = ""
    requirements: list[Requirement] = field(default_factory=list)
    excluded: int = 0
    warnings: list[str] = field(default_factory=list)


def _plain(inline) -> str:
    parts = []
    for c in inline.children or ():
        if c.type in ("text", "code_inline"):
            parts.append(c.content if c.type == "text" else f"`{c.content}`")
        elif c.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


_CODE_NOUNS = (r"table|column|field|key|setting|option|variable|var|function|method|class|type|struct|interface|"
               r"module|package|metric|gauge|counter|event|queue|topic|index|view|enum|command|subcommand|flag|"
               r"endpoint|header|parameter|param|argument|property|attribute|constant|label|bucket|role|permission|"
               r"scope|channel|collection|schema|migration|hook|job|task|worker|service|handler|component")
_NOUN_AFTER = re.compile(rf"^\s*({_CODE_NOUNS})s?\b", re.I)
_NOUN_BEFORE = re.compile(rf"\b({_CODE_NOUNS})s?\s*$", re.I)


def _anchors(inline, base_line: int, plain_paths: bool = False) -> list[tuple[Anchor, int]]:
    """Anchors in an inline token, each with its own line (softbreaks advance the line)."""
    out: list[tuple[Anchor, int]] = []
    line = base_line
    children = inline.children or []
    for i, c in enumerate(children):
        if c.type in ("softbreak", "hardbreak"):
            line += 1
        elif c.type == "code_inline":
            a = classify(c.content)
            if a and a.subkind == "word":
                before = children[i - 1].content if i and children[i - 1].type == "text" else ""
                after = children[i + 1].content if i + 1 < len(children) and children[i + 1].type == "text" else ""
                if _NOUN_AFTER.search(after) or _NOUN_BEFORE.search(before):
                    a = Anchor(a.kind, a.value, "identifier")  # "the `invoices` table": a name in code
            if a:
                out.append((a, line))
        elif c.type == "text":
            for m in _ENDPOINT_TEXT.finditer(c.content):
                out.append((Anchor(Kind.ENDPOINT, f"{m.group(1)} {m.group(2).rstrip('.,;:')}"), line))
            if plain_paths:
                for m in _TEXT_PATH.finditer(c.content):
                    out.append((Anchor(Kind.PATH, m.group(1)), line))
    return out


def _clip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class _Builder:
    def __init__(self, path: str):
        self.spec = ParsedSpec(path)
        self.seen: set[str] = set()

    def add(self, kind: Kind, text: str, line: int, section: str, anchors=(), checked=None, label="",
            excluded=False):
        if excluded:
            self.spec.excluded += 1
            return
        self.spec.requirements.append(Requirement(
            id="", kind=kind, text=_clip(text), spec_path=self.spec.path, line=line, section=section,
            anchors=tuple(dict.fromkeys(anchors)), checked=checked, label=label))

    def add_unit(self, text: str, line: int, section: str, anchors: list[tuple[Anchor, int]],
                 excluded: bool, list_item: bool):
        """A paragraph, list item or table row."""
        cb = _CHECKBOX.match(text)
        body = text[cb.end():] if cb else text
        if cb:
            checked = cb.group(1).lower() == "x"
            tm = _TASK.match(body)
            kind, label = (Kind.TASK, tm.group(1)) if tm else (Kind.CHECKLIST, "")
            self.add(kind, body, line, section, [a for a, _ in anchors], checked, label, excluded)
            return
        fm = _FR.match(body)
        if fm:
            self.add(Kind.FR, body, line, section, [a for a, _ in anchors], None, fm.group(1), excluded)
            return
        if anchors:
            for a, aline in anchors:
                if excluded:
                    self.spec.excluded += 1
                    continue
                if a.norm in self.seen:
                    continue
                self.seen.add(a.norm)
                self.add(a.kind, body, aline, section, [a])
            return
        if _NORMATIVE.search(body) and len(body) > 12:
            self.add(Kind.PROSE, body, line, section, excluded=excluded)


_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n.*?\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _blank_front_matter(text: str) -> str:
    """YAML/TOML front matter (docs sites) is metadata, not requirements: blank it, keep line numbers."""
    m = _FRONT_MATTER.match(text)
    return "\n" * m.group().count("\n") + text[m.end():] if m else text


def parse_markdown(path: str, text: str) -> ParsedSpec:
    text = _blank_front_matter(text)
    b = _Builder(path)
    try:
        tokens = _MD.parse(text)
    except Exception as exc:  # markdown-it is lenient; this is a last resort for pathological input
        b.spec.warnings.append(f"{path}: could not be parsed as Markdown ({exc.__class__.__name__})")
        return b.spec
    headings: list[tuple[int, str]] = []
    unit = None  # open OpenSpec / Markdown scenario block: dict
    row = None  # open table row: dict
    item_stack: list[bool] = []  # per open list item: has its first inline been seen?

    def section() -> str:
        return " › ".join(t for _, t in headings)

    def excluded() -> bool:
        return any(_EXCLUDED.search(t) for _, t in headings)

    def flush_unit():
        nonlocal unit
        if unit:
            anchors = list(dict.fromkeys(a for a, _ in unit["anchors"]))
            b.add(unit["kind"], unit["title"] + (": " + " ".join(unit["text"]) if unit["text"] else ""),
                  unit["line"], unit["section"], anchors, None, unit["label"], unit["excluded"])
        unit = None

    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "heading_open":
            level = int(t.tag[1])
            inline = tokens[i + 1]
            title = _plain(inline).replace("`", "")
            line = (t.map[0] + 1) if t.map else 0
            if unit and level <= unit["level"]:
                flush_unit()
            while headings and headings[-1][0] >= level:
                headings.pop()
            if not b.spec.title and level == 1:
                b.spec.title = title
            m_req, m_scen = _OS_REQ.match(title), _OS_SCEN.match(title)
            if m_req or m_scen:
                in_req = any(_OS_REQ.match(h) for _, h in headings)
                kind = Kind.OPENSPEC_REQUIREMENT if m_req else (Kind.OPENSPEC_SCENARIO if in_req else Kind.SCENARIO)
                label = (m_req or m_scen).group(1).strip()
                if unit:
                    flush_unit()
                unit = {"kind": kind, "title": title, "label": label, "line": line, "level": level,
                        "section": section(), "anchors": _anchors(inline, line), "text": [],
                        "excluded": excluded()}
            headings.append((level, title))
            i += 3
            continue
        if t.type == "list_item_open":
            item_stack.append(False)
        elif t.type == "list_item_close":
            item_stack.pop()
        elif t.type == "tr_open":
            row = {"line": (t.map[0] + 1) if t.map else 0, "text": [], "anchors": []}
        elif t.type == "tr_close" and row is not None:
            if tokens[i - 1].type != "th_close":  # header rows hold no requirements
                target = unit
                if target is not None:
                    target["anchors"].extend(row["anchors"])
                    target["text"].append(" | ".join(row["text"]))
                else:
                    b.add_unit(" | ".join(x for x in row["text"] if x), row["line"], section(), row["anchors"],
                               excluded(), False)
            row = None
        elif t.type == "fence" and t.info.strip().lower() in ("gherkin", "cucumber", "feature"):
            base = (t.map[0] + 1) if t.map else 0
            for req in parse_gherkin(path, t.content, line_offset=base).requirements:
                b.spec.requirements.append(req)
        elif t.type == "inline":
            line = (t.map[0] + 1) if t.map else (row["line"] if row else 0)
            text = _plain(t)
            first_in_item = bool(item_stack) and not item_stack[-1]
            if item_stack:
                item_stack[-1] = True
            is_task = bool(_TASK.match(_CHECKBOX.sub("", text)))
            anchors = _anchors(t, line, plain_paths=is_task)
            if row is not None:
                row["text"].append(text)
                row["anchors"].extend(anchors)
            elif unit is not None:
                unit["anchors"].extend(anchors)
                unit["text"].append(text)
            elif first_in_item or not item_stack:
                b.add_unit(text, line, section(), anchors, excluded(), bool(item_stack))
            else:  # a later paragraph of the same list item
                b.add_unit(text, line, section(), anchors, excluded(), True)
        i += 1
    flush_unit()
    _fold_scenarios(b.spec)
    return b.spec


def _fold_scenarios(spec: ParsedSpec) -> None:
    """An OpenSpec requirement is checked through its scenarios too: give it their anchors."""
    reqs = spec.requirements
    for i, r in enumerate(reqs):
        if r.kind is not Kind.OPENSPEC_REQUIREMENT:
            continue
        extra = []
        for s in reqs[i + 1:]:
            if s.kind is not Kind.OPENSPEC_SCENARIO:
                break
            extra.extend(s.anchors)
        if extra:
            reqs[i] = replace(r, anchors=tuple(dict.fromkeys(r.anchors + tuple(extra))))


def parse_gherkin(path: str, text: str, line_offset: int = 0) -> ParsedSpec:
    """Scenarios of a .feature file (or a ```gherkin block), with the anchors their steps name."""
    b = _Builder(path)
    scen = None
    tags: set[str] = set()
    feature_tags: set[str] = set()
    in_doc = False

    def flush():
        nonlocal scen
        if scen:
            b.add(Kind.SCENARIO, scen["title"] + (": " + " ".join(scen["steps"]) if scen["steps"] else ""),
                  scen["line"], scen["section"], scen["anchors"], None, scen["label"], scen["excluded"])
        scen = None

    section = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        ln = n + line_offset
        if line.startswith(('"""', "```")):
            in_doc = not in_doc
            continue
        if in_doc or not line or line.startswith("#") or line.startswith("|"):
            continue
        if line.startswith("@"):
            tags |= {t.lower() for t in line.split() if t.startswith("@")}
            continue
        if line.startswith("Feature:"):
            b.spec.title = line.split(":", 1)[1].strip()
            feature_tags, tags = tags, set()
            section = b.spec.title
            continue
        if line.startswith("Rule:"):
            flush()
            section = line.split(":", 1)[1].strip()
            tags = set()
            continue
        m = _GHERKIN_SCEN.match(line)
        if m:
            flush()
            label = m.group(2).strip()
            scen = {"title": f"{m.group(1)}: {label}", "label": label, "line": ln, "section": section,
                    "anchors": [], "steps": [],
                    "excluded": bool((tags | feature_tags) & _GHERKIN_SKIP_TAGS)}
            tags = set()
            continue
        if line.startswith(("Background:", "Examples:", "Scenarios:")):
            flush() if line.startswith("Background:") else None
            continue
        m = _GHERKIN_STEP.match(line)
        if m and scen is not None:
            step = m.group(2)
            scen["steps"].append(f"{m.group(1)} {step}")
            for cm in re.finditer(r"`([^`]+)`", step):
                a = classify(cm.group(1))
                if a:
                    scen["anchors"].append(a)
            for em in _ENDPOINT_TEXT.finditer(step):
                scen["anchors"].append(Anchor(Kind.ENDPOINT, f"{em.group(1)} {em.group(2).rstrip('.,;:')}"))
    flush()
    return b.spec


def parse_spec(path: str, text: str) -> ParsedSpec:
    if path.lower().endswith(".feature"):
        return parse_gherkin(path, text)
    return parse_markdown(path, text)
