"""Specs → requirements, from markdown-it-py's token tree (and a small Gherkin reader).

Everything a spec states that names something checkable is a requirement with its own line:
- sentences and list items: their code spans, endpoints, file paths and unformatted identifiers
  are anchors; a sentence that names things only in plain words is a *prose* requirement judged
  by its terms;
- table rows: the header says what each column holds (an endpoint, a setting, a metric, a member
  of the class the section is about, a feature name, a status, an example value); only the key
  columns give anchors, example and default values never do; a status column is a *claim*;
- headings that name an endpoint or a symbol; fenced code blocks, read by language
  (``codeblocks``); spec-kit FR-### and T### items, checklists, OpenSpec requirements and
  scenarios, Gherkin scenarios.
Sections, rows and documents marked planned / proposed / future give *planned* requirements;
nothing under a Non-goals / Out of scope heading counts; rationale sections (Context, Motivation,
Consequences …) give no prose requirements.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt

from . import codeblocks
from .model import Anchor, Kind, Requirement
from .terms import key_terms

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")  # HTML (comments) = own tokens, skipped

METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_ENDPOINT_CODE = re.compile(rf"^({METHODS})\s+(/\S*)$")
_ENDPOINT_TEXT = re.compile(rf"\b({METHODS})\s+`?(/[\w\-./{{}}:<>\[\]*$]*)")
_FLAG = re.compile(r"^--[a-zA-Z][\w-]*(?:[= ]\S*)?$")
_SYMBOL = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|#|->)[A-Za-z_$][\w$]*)*(?:\(\))?$")
_SIGNATURE = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*)\s*\((?P<args>[^()]*)\)"
                        r"(?:\s*(?:->|:)\s*[\w\[\], .|]+)?$")
_ASSIGN = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)\s*=\s*\S")
_FILE_EXT = re.compile(
    r"\.(?:go|py|pyi|js|jsx|ts|tsx|mjs|cjs|java|kt|rb|rs|c|h|cc|cpp|hpp|cs|swift|php|scala|md|rst|txt|ya?ml|"
    r"json|jsonl|toml|ini|cfg|conf|env|sql|proto|graphql|sh|bash|ps1|tf|hcl|html|css|scss|vue|svelte|feature|"
    r"lock|xml|gradle|mod|sum|csv|dockerfile)$", re.I)
_DOC_EXT = re.compile(r"\.(?:md|markdown|rst|txt|adoc)$", re.I)
_TEXT_PATH = re.compile(r"(?<![\w/.@:-])((?:[\w.-]+/)+[\w.-]+\.[A-Za-z]\w{0,9})(?![\w/])")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_PLAIN_IDENT = re.compile(
    r"(?<![\w`./$-])(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|(?:[A-Z][a-z0-9]+){2,}|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|"
    r"[a-z_][A-Za-z0-9_]*\(\))(?![\w`/-])")
_MIME = re.compile(r"^(?:application|text|image|audio|video|multipart|font)/[\w.+-]+$")
_KEYS = re.compile(r"^(?:(?:ctrl|cmd|alt|shift|option|meta|super|enter|esc|escape|tab|space|backspace|up|down|"
                   r"left|right|home|end|pgup|pgdn|f\d{1,2})\b[+/-]?)+\w?$|^[a-z]/[a-z]$|^[a-z]$", re.I)
_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")
_TASK = re.compile(r"^(T\d{3,})\b")
_FR = re.compile(r"^\W*(FR-\d{2,})\b")
_NORMATIVE = re.compile(r"\b(must|shall|should|required|requires|needs? to)\b", re.I)
_EXCLUDED = re.compile(
    r"\b(non[- ]?goals?|out of scope|not in scope|won'?t (do|have|fix)|not planned|alternatives considered|"
    r"considered alternatives|rejected alternatives|open questions|anti[- ]patterns?|superseded)\b", re.I)
_PLANNED = re.compile(
    r"\b(planned|future|deferred|upcoming|proposed|proposals?|backlog|wish ?list|next steps|coming soon|"
    r"not (?:yet )?implemented|to ?do|roadmap items?|someday|icebox|nice to have|under consideration)\b|📋|🔮|🗓",
    re.I)
_DONE_HEADING = re.compile(r"\b(completed?|done|shipped|implemented|released|current|available|finished)\b|✅",
                           re.I)
_RATIONALE = re.compile(
    r"^(?:\d+[.)]\s*)?(context|background|motivation|problem(?: statement)?|rationale|consequences|why\b.*|"
    r"references?|glossary|changelog|change log|history|related(?: work| documents?)?|see also|faq|"
    r"troubleshooting|appendix.*|acknowledg\w*|license|contributing|table of contents|contents|pros|cons|"
    r"trade-?offs|risks?|lessons learned|credits|authors?|status|metadata|revision history|document history|"
    r"next steps|summary|tl;?dr)\s*:?$", re.I)
_OS_REQ = re.compile(r"^Requirement:\s*(.+)$", re.I)
_OS_SCEN = re.compile(r"^Scenario:\s*(.+)$", re.I)
_GHERKIN_SCEN = re.compile(r"^\s*(Scenario Outline|Scenario Template|Scenario|Example):\s*(.*)$")
_GHERKIN_STEP = re.compile(r"^\s*(Given|When|Then|And|But|\*)\s+(.*)$")
_GHERKIN_SKIP_TAGS = {"@wip", "@skip", "@ignore", "@future", "@pending", "@manual", "@todo"}
_SQL_WORDS = re.compile(r"^(?:[A-Z]{2,}\s+){1,}[A-Z]{2,}$")

# A status a spec gives itself: in a status column, a badge or a checkbox.
_CLAIM_DONE = re.compile(r"✅|✔|☑|🟢|\b(done|complete[d]?|implemented|shipped|released|live|yes|available|"
                         r"finished|stable|ga)\b", re.I)
_CLAIM_PLANNED = re.compile(r"📋|🔜|🗓|🔮|⏳|\b(planned|todo|to do|not started|backlog|proposed|future|later|"
                            r"scheduled|next|deferred|open|idea|tbd)\b", re.I)
_CLAIM_PROGRESS = re.compile(r"🚧|🟡|⚠|\b(in progress|wip|partial(?:ly)?|started|ongoing|beta|alpha|"
                             r"experimental|preview)\b", re.I)
_CLAIM_MISSING = re.compile(r"❌|✗|✘|🔴|\b(missing|not implemented|no|absent|broken|blocked)\b", re.I)

_BADGE_DONE = re.compile(r"✅|✔|☑|🟢")
_BADGE_MISSING = re.compile(r"❌|✗|✘|🔴|⛔")
_BADGE_PROGRESS = re.compile(r"🚧|🟡|⚠")
_BADGE_PLANNED = re.compile(r"📋|🔜|🗓|🔮|⏳")

STOPWORDS = {
    "true", "false", "null", "nil", "none", "yes", "no", "on", "off", "ok", "json", "yaml", "yml", "toml", "http",
    "https", "id", "ids", "url", "uri", "api", "cli", "todo", "main", "master", "string", "int", "bool", "float",
    "str", "dict", "list", "map", "array", "object", "void", "any", "error", "err", "self", "this", "new",
    "get", "post", "put", "patch", "delete", "head", "options", "and", "or", "not", "utf-8", "utf8", "ascii", "n/a",
    "tbd", "etc", "foo", "bar", "baz", "example", "value", "key", "name", "type", "data", "text", "date", "time",
    "int32", "int64", "uint", "number", "boolean", "integer", "bytes", "uuid", "datetime", "timestamp", "double",
    "optional", "required", "default", "unlimited", "auto", "enabled", "disabled", "localhost",
}
MAX_TEXT = 240


def claim_of(text: str) -> str:
    """done | planned | in-progress | missing | "" — what a status cell or badge says."""
    t = text.strip()
    if not t:
        return ""
    # a badge says more than the words beside it ("✅ Preview generation" is done, not a preview)
    badges = [(m.start(), kind) for kind, rx in (("done", _BADGE_DONE), ("missing", _BADGE_MISSING),
                                                   ("in-progress", _BADGE_PROGRESS), ("planned", _BADGE_PLANNED))
              for m in rx.finditer(t)]
    if badges:
        return min(badges)[1]
    if _CLAIM_PROGRESS.search(t):
        return "in-progress"
    if _CLAIM_DONE.search(t):
        return "done"
    if _CLAIM_PLANNED.search(t):
        return "planned"
    if _CLAIM_MISSING.search(t):
        return "missing"
    return ""


def classify(code: str) -> Anchor | None:
    """What a backticked span names, if anything checkable."""
    s = code.strip()
    if not s or len(s) > 200:
        return None
    m = _ENDPOINT_CODE.match(s)
    if m:
        return Anchor(Kind.ENDPOINT, f"{m.group(1)} {m.group(2)}")
    if _MIME.match(s) or _KEYS.match(s):
        return None
    if s.startswith("/") and " " not in s and len(s) > 1 and "://" not in s and "{{" not in s:
        last = s.rstrip("/").rsplit("/", 1)[-1]
        if "." in last or _HOST_DIR.match(s):
            return None  # /etc/app.conf, /usr/bin/rsync: a host path, not a repo path or a route
        return Anchor(Kind.ENDPOINT, f"ANY {s}")
    if _FLAG.match(s):
        return Anchor(Kind.FLAG, re.split(r"[= ]", s, maxsplit=1)[0])
    if _PLACEHOLDER_VALUE.search(s):
        return None  # <name>, {{var}}, vX.Y.Z, example.com/…: an example or a placeholder
    m = _SIGNATURE.match(s)
    if m and " " not in m.group("name"):
        name = m.group("name")
        params = tuple(p for p in (_param_name(a) for a in m.group("args").split(",")) if p)
        sub = "type" if name.split(".")[-1][:1].isupper() else "function"
        return _dotted(Anchor(Kind.SYMBOL, name if params or m.group("args").strip() else name + "()", sub,
                              parts=params))
    m = _ASSIGN.match(s)
    if m and _ENV_NAME.match(m.group("name")):
        return Anchor(Kind.SYMBOL, m.group("name"), "env")
    if " " in s or "://" in s or s.startswith("$ "):
        if _SQL_WORDS.match(s):
            return Anchor(Kind.LITERAL, s, "sql")
        return None
    if "{" in s and ":" in s and re.search(r"\w+:\{", s):
        return Anchor(Kind.LITERAL, s, "pattern")  # urn:{source}:{id} — a format the code builds
    if "/" in s or _FILE_EXT.search(s):
        if s.startswith(("~", "$", "<", "{")) or "*" in s or s.startswith("http") or "{" in s:
            return None
        if not re.search(r"[A-Za-z]", s):
            return None  # `0/6`, `3/4`: a count or a ratio
        p = s[2:] if s.startswith("./") else s
        if p.startswith((".git/", "node_modules/", ".venv/", "venv/", "__pycache__/")):
            return None  # a tool's working files, never in the repository's tree
        return Anchor(Kind.PATH, p) if p.strip("./") else None
    if _SYMBOL.match(s):
        bare = s[:-2] if s.endswith("()") else s
        if bare.lower() in STOPWORDS or len(bare) < 3 or bare.isdigit():
            return None
        return _dotted(Anchor(Kind.SYMBOL, s, symbol_subkind(s)))
    return None


def _dotted(a: Anchor) -> Anchor:
    """``src.connectors.outlook.OutlookConnector`` names a class and its module; ``Saga.run()`` a
    method and its class."""
    bare = a.value[:-2] if a.value.endswith("()") else a.value
    parts = re.split(r"\.|::", bare)
    if len(parts) < 2 or a.subkind in ("config", "metric", "env"):
        return a
    if all(p[:1].islower() or p[:1] == "_" for p in parts[:-1]) and len(parts) >= 3:
        sub = "type" if parts[-1][:1].isupper() else "function"
        return Anchor(Kind.SYMBOL, parts[-1] + ("()" if a.value.endswith("()") else ""), sub,
                      parts=a.parts, where=".".join(parts[:-1]))
    if parts[-2][:1].isupper():
        return Anchor(Kind.SYMBOL, a.value, "method", owner=parts[-2], parts=a.parts)
    return a


_HOST_DIR = re.compile(r"^/(?:home|root|etc|usr|var|tmp|opt|bin|sbin|dev|proc|sys|mnt|srv|media|boot|lib|lib64|run|"
                       r"snap|Users|Library|Applications|Volumes|System|private|data|app|workspace|\.[\w-]+)(?:/|$)")
_PLACEHOLDER_VALUE = re.compile(r"[<>]|\{\{|\}\}|\.\.\.|…|\b[vV]?[xX]\.[yY](?:\.[zZ])?\b|\bexample\.(?:com|org|net)\b|"
                                r"\byour[-_]|(?<![\w-])(?:FuncName|foo|bar|baz)(?![\w-])")  # not `capture-bar.tsx`


def _param_name(arg: str) -> str:
    a = arg.strip().lstrip("*").split("=")[0].split(":")[0].strip()
    if a in ("self", "cls", "...", "…") or not re.match(r"^[A-Za-z_]\w*$", a):
        return ""
    return a


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
    if re.fullmatch(r"[a-z]+|[A-Z]{2,}\d*", s):
        return "word"  # a plain word or an acronym (CORE, JSON): a name only when the sentence says so
    return "identifier"


@dataclass
class ParsedSpec:
    path: str
    title: str = ""
    requirements: list[Requirement] = field(default_factory=list)
    excluded: int = 0
    planned_doc: bool = False  # the whole document is a proposal / draft
    warnings: list[str] = field(default_factory=list)
    headings: list[tuple[int, str, int]] = field(default_factory=list)  # (level, title, line), in order
    rows: list[tuple[int, str, str, str]] = field(default_factory=list)  # table rows: (line, key cell, claim, section)
    matrix_rows: set[int] = field(default_factory=set)  # lines of rows in feature matrices (a thing per row, a Status column)
    lines: int = 0  # how many lines the document has


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
               r"scope|channel|collection|schema|migration|hook|job|task|worker|service|handler|component|verb|"
               r"action|exchange|stream|status|state")
_NOUN_AFTER = re.compile(rf"^\s*({_CODE_NOUNS})s?\b", re.I)
_NOUN_BEFORE = re.compile(rf"\b({_CODE_NOUNS})s?\s*$", re.I)


@dataclass
class _Piece:
    """One sentence of an inline run: its text (code spans in backticks), anchors with lines."""
    text: str
    line: int
    anchors: list[tuple[Anchor, int]]
    plain: str  # the words outside code spans
    spans: list = field(default_factory=list)  # (index in anchors, start, end in text) of each code span's anchor


# What a sentence says is gone or must not be used: the anchor's presence is then the gap. Read around
# the code span itself — "`a.ts` no longer exists", "`a.ts` and `b.ts` are deleted", "Remove `x`",
# "does not require `token`" — and not from a clause about what happens at run time ("when the
# `Session` is deleted", "`Job` is removed after 30 days"), where the named thing must exist.
_CLAUSE_END = re.compile(r"[;.!?]|\s(?:but|while|whereas|WHEN|THEN|AND|BUT)\s")  # (not at commas: lists of names)
_THING = (r"(?:(?:file|folder|directory|module|package|class|function|method|component|table|column|endpoint|"
          r"route|hook|script|type|interface|field|property|variable|constant|flag|option|setting|dependency|"
          r"helper|handler|wrapper|middleware|test|struct|enum|alias|export|import|call)s?\b\s*)?")
_MORE = r"(?:\s*(?:,\s*(?:and|or)?|and|or|&)\s*`x*`)*"  # "`a`, `b`, and `c` are deleted"
_LIST_BEFORE = r"(?:`x*`\s*(?:,\s*(?:and|or)?|and|or|&)\s*)*$"  # "Remove `a`, `b` and `c`": the names before this one
# what follows a removal when it happens at run time ("is deleted on logout", "from Redis", "and recreated")
_AT_RUN_TIME = r"(?!\s+(?:on|after|when|once|if|before|upon|every|each|within|at|by|during|while|via|unless|" \
               r"until|except|as|outside|" \
               r"automatically|(?:and|or|then)\s+(?:re-?\w+|then|later|immediately|again)|" \
               r"from\s+(?!the\s+(?:code|codebase|repo|repository|project|source|tree|package|module)))\b)"
_GONE_AFTER = re.compile(
    r"^" + _MORE + r"\s*" + _THING +
    r"(?:(?:is|are|was|were|has been|have been|gets?|got)\s+(?:now\s+|fully\s+|also\s+)?"
    r"(?:deleted|removed|dropped|retired|gone)|no longer exists?|(?:does|do|shall|must|should|will)\s+not\s+exist|"
    r"(?:shall|must|should|will|can|is to|are to)\s+(?:be\s+(?:fully\s+)?(?:deleted|removed|dropped|retired)|"
    r"no longer exist))\b" + _AT_RUN_TIME, re.I)
_GONE_BEFORE = re.compile(r"^\s*(?:\[[ xX]\]\s*)?(?:[A-Z]+-?\d+[:.]?\s+)?(?:\[[^\]]*\]\s*)*"
                          r"(?:(?:then|and|also|finally)\s+)?(?:delete|remove|drop|retire)\s+(?:the\s+)?"
                          r"(?:(?:old|legacy|obsolete|deprecated|unused|dead|stale|placeholder|temporary|duplicate|"
                          r"stub|empty|orphaned|redundant|outdated)\s+){0,2}" + _THING +  # "Remove placeholder `add()`"
                          _LIST_BEFORE, re.I)
# what may follow the name a task removes: nothing more, its kind, or where it goes from ("Delete `Session`
# on logout" is run time; "Remove `Cache` entries" removes the entries, not `Cache`)
_GONE_TASK_AFTER = re.compile(r"^" + _MORE + r"\s*" + _THING + r"(?:$|[,;.(:—–]|\s*(?:(?:and|or|if|entirely|"
                              r"completely)\b|from\s+(?:the\s+)?(?:code|codebase|repo|repository|project|source)))",
                              re.I)
_UNUSED_BEFORE = re.compile(
    r"(?<!\bthat )(?<!\bwhich )(?<!\bwho )"  # "packages that don't use `x`": which ones, not what is forbidden
    r"\b(?:(?:does|do|did|shall|must|should|will|may|can|need)\s*(?:not|n't)|no longer|never)\s+"
    r"(?:use|require|need|import|ship|depend on|reference|branch on|rely on)s?\s+"  # what code is built from, not
    r"(?:(?:the|any|a|an|its|their|legacy|old|deprecated)\s+){0,2}" +              # what it does (send, expose)
    _LIST_BEFORE, re.I)
_UNUSED_AFTER = re.compile(r"^" + _MORE + r"\s*" + _THING +
                           r"(?:(?:is|are)\s+no longer\s+(?:used|imported|referenced)|"
                           r"(?:must|shall|should)\s+(?:not|no longer)\s+be\s+(?:used|imported|required))\b", re.I)
_CONDITION = re.compile(r"(?:^|[^\w`])(?:when|whenever|if|after|once|before|until|unless|upon)\s", re.I)

# a use that is forbidden only somewhere or for something ("must not use `print()` except in cli.py")
_ONLY_SOME = re.compile(r"^\s*(?:\w+\s+)?(?:except|for|in|outside|unless|when|inside|within|on|to)\b", re.I)
# what the code does before the change ("Expected: FAIL — current code doesn't check `x`"), not what it must not
_AS_IT_IS = re.compile(r"\b(?:current(?:ly)?|today|at present|right now|yet|expected)\b", re.I)


def _polarity(piece: _Piece, imperative: bool = False) -> None:
    """Mark the anchors the sentence says are gone (``Anchor.absent``). ``imperative``: a task or a
    checklist item, whose "Remove `x`" is work to do (in a guide it tells the reader what to do).
    A file or a route is removed from the code whatever the verb; a name (`Session`) that a sentence
    says is deleted is mostly a thing the program deletes at run time: a name is removed only when it
    "no longer exists" or a task removes it, and never in a sentence under a condition."""
    if not piece.spans:
        return
    masked = re.sub(r"`[^`]*`", lambda m: "`" + "x" * (len(m.group()) - 2) + "`", piece.text)
    for i, start, end in piece.spans:
        a, ln = piece.anchors[i]
        if a.kind not in (Kind.PATH, Kind.SYMBOL, Kind.ENDPOINT) or a.subkind in ("mention", "scope"):
            continue
        sentence = masked[:start]
        if _CONDITION.search(sentence):
            continue  # a condition on what happens at run time, or on the change ("once `x` is removed")
        cut = max((m.end() for m in _CLAUSE_END.finditer(sentence)), default=0)
        before, after = sentence[cut:], masked[end:]
        gone = _GONE_AFTER.match(after)
        if gone and a.kind is Kind.SYMBOL and not re.search(r"no longer exist|not exist", gone.group(), re.I):
            gone = None  # "the `Session` is deleted": what the program does
        task = imperative and _GONE_BEFORE.match(before) and (a.kind is Kind.PATH or _GONE_TASK_AFTER.match(after))
        if gone or task:
            piece.anchors[i] = (replace(a, absent="removed"), ln)
        elif a.kind is Kind.SYMBOL and not _AS_IT_IS.search(before) and not _ONLY_SOME.match(after) and \
                (_UNUSED_BEFORE.search(before) or _UNUSED_AFTER.match(after)):
            piece.anchors[i] = (replace(a, absent="unused"), ln)


def _inline_pieces(inline, base_line: int, split: bool = True) -> list[_Piece]:
    """Split an inline token into sentences, each with its anchors (softbreaks advance the line)."""
    pieces: list[_Piece] = []
    cur = _Piece("", base_line, [], "")
    line = base_line
    children = inline.children or []
    in_link_to_doc = False
    for i, c in enumerate(children):
        if c.type in ("softbreak", "hardbreak"):
            line += 1
            cur.text += " "
            cur.plain += " "
        elif c.type == "link_open":
            href = c.attrGet("href") or ""
            in_link_to_doc = bool(_DOC_EXT.search(href.split("#")[0])) or href.startswith(("http", "#"))
        elif c.type == "link_close":
            in_link_to_doc = False
        elif c.type == "code_inline":
            if not cur.text.strip():
                cur.line = line
            start = len(cur.text)
            cur.text += f"`{c.content}`"
            a = classify(c.content)
            if a is None:
                a = _code_phrase(c.content)
            if a and a.kind is Kind.PATH and in_link_to_doc and _DOC_EXT.search(a.value):
                a = None
            if a and a.subkind == "word":
                before = children[i - 1].content if i and children[i - 1].type == "text" else ""
                after = children[i + 1].content if i + 1 < len(children) and children[i + 1].type == "text" else ""
                noun = _NOUN_AFTER.search(after) or _NOUN_BEFORE.search(before)
                if noun:  # "the `invoices` table": a name in code (a table's: no function of that name)
                    a = replace(a, subkind="table" if noun.group(1).lower() == "table" else "identifier")
            if a:
                cur.spans.append((len(cur.anchors), start, len(cur.text)))
                cur.anchors.append((a, line))
        elif c.type == "text":
            content = c.content
            segs = re.split(r"(?<=[.!?])\s+(?=[A-Z(\"“])", content) if split else [content]
            for k, seg in enumerate(segs):
                if k:
                    if cur.text.strip():
                        pieces.append(cur)
                    cur = _Piece("", line, [], "")
                if not cur.text.strip() and seg.strip():
                    cur.line = line
                cur.text += seg
                cur.plain += seg
                for m in _ENDPOINT_TEXT.finditer(seg):
                    cur.anchors.append((Anchor(Kind.ENDPOINT, f"{m.group(1)} {m.group(2).rstrip('.,;:`')}"), line))
                if not in_link_to_doc:
                    for m in _TEXT_PATH.finditer(seg):
                        p = m.group(1)
                        if not _DOC_EXT.search(p) and not p.startswith(("http", "www.")):
                            cur.anchors.append((Anchor(Kind.PATH, p), line))
                    for m in _PLAIN_IDENT.finditer(seg):
                        tok = m.group()
                        if tok.endswith("()"):
                            cur.anchors.append((Anchor(Kind.SYMBOL, tok, "mention"), line))
                        elif _ENV_NAME.match(tok):
                            cur.anchors.append((Anchor(Kind.SYMBOL, tok, "mention"), line))
                        elif "_" in tok or re.match(r"^(?:[A-Z][a-z0-9]+){2,}$", tok):
                            cur.anchors.append((Anchor(Kind.SYMBOL, tok, "mention"), line))
        elif c.type == "image":
            continue
    if cur.text.strip():
        pieces.append(cur)
    for p in pieces:
        _polarity(p)
    return pieces


def _code_phrase(content: str) -> Anchor | None:
    """A code span that is more than a name: a command, a set of identifiers."""
    s = content.strip()
    if _PLACEHOLDER_VALUE.search(s):
        return None
    if re.match(r"^(?:python3?|make|npm|yarn|pnpm|uv run|poetry run|\./)\b", s) or \
            re.match(r"^[a-z][\w.-]*(?: [a-z][\w-]*)+(?: --?[\w-]+(?:[= ]\S+)?)*$", s) and " " in s:
        d = codeblocks._command(s, 0)  # `driftbot report --format json`: a command, if the program is the project's
        if d:
            found = [a for a in d.anchors if a.kind in (Kind.COMMAND, Kind.PATH)]
            return found[0] if found else None
    idents = re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", s)
    if idents and re.match(r"^[({\[]", s):
        return Anchor(Kind.SYMBOL, idents[0], "identifier")
    return None


def _clip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


# ---- tables ------------------------------------------------------------------------------------
_ROLE_WORDS = [  # first match wins, in this order
    ("status", r"status|state|done|implemented|progress|complete|availability"),
    ("endpoint", r"endpoint|route|url|uri"),
    ("env", r"env(?:ironment)?(?: var(?:iable)?)?|variable|env var"),
    ("metric", r"metric|gauge|counter|histogram"),
    ("member", r"attribute|field|property|member|column|param(?:eter)?|argument|arg|option|flag|key|setting|"
               r"config(?:uration)?(?: key)?"),
    ("symbol", r"class|function|method|hook|callback|listener|handler|module|event|command|verb|action|tool|"
               r"interface|api|signature|operation|shortcut|keybinding|key binding|binding"),
    ("file", r"file|filename|location|source|module path|where|package"),
    ("value", r"default|example|value|values|type|format|unit|priority|version|owner|sprint|date|eta|effort|adr|"
              r"required|range|size|phase|release|target|since|added|link|issue|pr|ticket|estimate"),
    ("feature", r"feature|capability|item|requirement|name|story|epic|task|deliverable|milestone|area|title|"
                r"component|service|goal|scenario|use case|function(?:ality)?"),
    ("description", r"description|purpose|details|meaning|summary|behaviou?r|when|trigger|rationale|comment|what|"
                    r"why|effect|result|returns?|explanation|notes?|remarks?|gaps?|missing"),
]


def _role(header: str) -> str:
    h = re.sub(r"[*_`]", "", header).strip().lower()
    if not h:
        return "feature"
    for role, words in _ROLE_WORDS:
        if re.fullmatch(rf"(?:\W*)(?:{words})s?(?:\W.*)?", h) or re.search(rf"\b(?:{words})s?\b", h) and \
                role in ("status", "endpoint", "env", "metric"):
            return role
    return "description"


def _roles(header: list[str]) -> list[str]:
    """Column roles; a "Path" column is an endpoint beside a "Method" column, a file path elsewhere."""
    roles = [_role(h) for h in header]
    has_method = any(re.fullmatch(r"\W*(?:http )?(?:method|verb)s?\W*", h.strip().lower()) for h in header)
    for i, h in enumerate(header):
        if re.fullmatch(r"\W*(?:url )?paths?\W*", h.strip().lower()):
            roles[i] = "endpoint" if has_method else "file"
    return roles


class _Table:
    def __init__(self):
        self.header: list[str] = []
        self.roles: list[str] = []
        self.in_head = False
        self.row: list[tuple[str, list[_Piece], object]] | None = None
        self.row_line = 0


# ---- the walker --------------------------------------------------------------------------------
@dataclass
class _Heading:
    level: int
    title: str
    excluded: bool
    planned: bool
    done: bool
    rationale: bool
    owner: str


class _Builder:
    def __init__(self, path: str):
        self.spec = ParsedSpec(path)
        self.best: dict[tuple, tuple[int, int]] = {}  # anchor key -> (priority, index of its requirement)
        self.keys: dict[int, tuple] = {}  # index of a single-anchor requirement -> its anchor key

    def add_anchored(self, key: tuple, prio: int, **kw):
        """A requirement about one anchor. A spec often names the same thing several times (a heading,
        a table row, a class in a code block, a usage example); the strongest occurrence is the
        requirement, the others are dropped at the end (or kept as prose when they say more)."""
        before = len(self.spec.requirements)
        self.add(**kw)
        if len(self.spec.requirements) == before:
            return
        idx = before
        self.keys[idx] = key
        cur = self.best.get(key)
        if cur is None or prio > cur[0]:
            self.best[key] = (prio, idx)

    def finish(self):
        keep = []
        for i, r in enumerate(self.spec.requirements):
            key = self.keys.get(i)
            if key is None or self.best[key][1] == i:
                keep.append(r)
            elif len(r.terms) >= 2 and r.origin in ("list", "prose"):
                # "Automatic rotation based on `KEY_ROTATION_DAYS`": the sentence asks for more than the name
                keep.append(replace(r, kind=Kind.PROSE, anchors=tuple(replace(a, subkind="mention")
                                                                      for a in r.anchors if a.kind is Kind.SYMBOL)))
        self.spec.requirements = sorted(keep, key=lambda r: r.line)

    def add(self, kind: Kind, text: str, line: int, section: str, anchors=(), checked=None, label="",
            excluded=False, terms=(), planned=False, claim="", origin=""):
        if excluded:
            self.spec.excluded += 1
            return
        self.spec.requirements.append(Requirement(
            id="", kind=kind, text=_clip(text), spec_path=self.spec.path, line=line, section=section,
            anchors=tuple(dict.fromkeys(anchors)), checked=checked, label=label, terms=tuple(terms),
            planned=(planned or self.spec.planned_doc) and claim != "done", claim=claim, origin=origin))


_DOC_STATUS = re.compile(r"^\s*(?:[-*]\s*)?\**status\**\s*[:：]\s*\**\s*(?P<s>[\w -]+)", re.I | re.M)
_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n.*?\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _blank_front_matter(text: str) -> tuple[str, str]:
    """YAML/TOML front matter (docs sites) is metadata, not requirements: blank it, keep line numbers.
    Returns (text, front matter)."""
    m = _FRONT_MATTER.match(text)
    return ("\n" * m.group().count("\n") + text[m.end():], m.group()) if m else (text, "")


def doc_status(text: str, front: str = "") -> str:
    """planned | excluded | "" from a document's own status line (ADRs, RFCs, design docs)."""
    m = _DOC_STATUS.search(front) or _DOC_STATUS.search("\n".join(text.splitlines()[:40]))
    if not m:
        heading = re.search(r"^#{1,3}\s*status\s*\n+\s*\**(?P<s>[\w -]+)", "\n".join(text.splitlines()[:60]),
                            re.I | re.M)
        if not heading:
            return ""
        m = heading
    s = m.group("s").strip().lower()
    if re.match(r"(proposed|draft|planned|rfc|under review|in review|not started|pending|future|idea)", s):
        return "planned"
    if re.match(r"(superseded|deprecated|rejected|withdrawn|obsolete|abandoned)", s):
        return "excluded"
    return ""


def parse_markdown(path: str, text: str) -> ParsedSpec:
    text, front = _blank_front_matter(text)
    b = _Builder(path)
    status = doc_status(text, front)
    if status == "excluded":
        b.spec.warnings.append(f"{path}: the document says it is superseded or rejected; its requirements "
                               "are not counted")
        b.spec.excluded += 1
        return b.spec
    b.spec.planned_doc = status == "planned"
    b.spec.lines = text.count("\n") + 1
    try:
        tokens = _MD.parse(text)
    except Exception as exc:  # markdown-it is lenient; this is a last resort for pathological input
        b.spec.warnings.append(f"{path}: could not be parsed as Markdown ({exc.__class__.__name__})")
        return b.spec
    _Walker(b, tokens).run()
    b.finish()
    _fold_scenarios(b.spec)
    _drop_scaffolding(b.spec)
    return b.spec


def _drop_scaffolding(spec: ParsedSpec) -> None:
    """What spec-kit's templates add that asks nothing of the code. A plan's Constitution Check and
    Complexity Tracking gate the process. A task list (``tasks.md`` with numbered checkbox tasks) asks for its tasks;
    the rest is the template's scaffolding: the format legend, each phase's purpose, goal and checkpoint,
    the dependencies, parallel opportunities, strategy and notes. Read as requirements, their words
    (parallel, checkpoint, refactor) are missing from any code."""
    name = posixpath.basename(spec.path).lower()
    if name == "plan.md":  # a plan's gates on the process, not on the code
        spec.requirements[:] = [r for r in spec.requirements if not _PLAN_GATES.search(r.section)]
        return
    if name != "tasks.md" or sum(1 for r in spec.requirements if r.kind is Kind.TASK) < 3:
        return
    # (what names something checkable stays: a task's details, an endpoint, an FR line)
    spec.requirements[:] = [r for r in spec.requirements if r.kind in (Kind.TASK, Kind.CHECKLIST, Kind.FR) or
                            any(a.subkind not in ("mention", "scope") for a in r.anchors)]


_PLAN_GATES = re.compile(r"\b(?:constitution check|complexity tracking)\b", re.I)


class _Walker:
    def __init__(self, b: _Builder, tokens):
        self.b = b
        self.tokens = tokens
        self.headings: list[_Heading] = []
        self.unit = None  # open OpenSpec / Markdown scenario block: dict
        self.table: _Table | None = None
        self.items: list[dict] = []  # per open list item: {"seen": bool, "where": str}
        self.pseudo: str = ""  # a bold-only paragraph acting as a heading ("**Focus**")
        self.intro = None  # a paragraph ending in ":" right before a code block

    # context
    def section(self) -> str:
        return " › ".join(h.title for h in self.headings)

    def excluded(self) -> bool:
        return any(h.excluded for h in self.headings)

    def planned(self) -> bool:
        for h in reversed(self.headings):
            if h.done:
                return False
            if h.planned:
                return True
        return bool(self.pseudo and _PLANNED.search(self.pseudo))

    def rationale(self) -> bool:
        """Rationale, context and the lead paragraph under the title: they explain, they do not ask."""
        if self.headings and self.headings[-1].level == 1 and not self.items and not self.table:
            return True
        return bool(self.headings and self.headings[-1].rationale) or bool(
            self.pseudo and _RATIONALE.match(self.pseudo.strip("*: ")))

    def owner(self) -> str:
        return self.headings[-1].owner if self.headings else ""

    def where(self) -> str:
        """The file an enclosing list item names for the items nested in it."""
        for it in reversed(self.items[:-1]):
            if it.get("where"):
                return it["where"]
        return ""

    def flush_unit(self):
        u = self.unit
        if u:
            anchors = list(dict.fromkeys(a for a, _ in u["anchors"]))
            terms = key_terms(u["title"] + " " + " ".join(u["text"]))
            self.b.add(u["kind"], u["title"] + (": " + " ".join(u["text"]) if u["text"] else ""),
                       u["line"], u["section"], anchors, None, u["label"], u["excluded"], terms=terms,
                       planned=u["planned"], origin="openspec")
        self.unit = None

    def run(self):
        toks = self.tokens
        i = 0
        while i < len(toks):
            t = toks[i]
            if t.type == "heading_open":
                self.heading(t, toks[i + 1])
                i += 3
                continue
            if t.type == "list_item_open":
                self.items.append({"seen": False, "where": ""})
            elif t.type == "list_item_close":
                item = self.items.pop()
                if item.get("pending"):
                    self.emit_summary(item)
                if item.get("lead_file") and not item.get("lead_used"):
                    a, line, body, section, planned = item["lead_file"]
                    self.emit_anchor(a, line, body, section, origin="list", planned=planned)
            elif t.type == "table_open":
                self.table = _Table()
            elif t.type == "table_close":
                self.table = None
            elif t.type == "thead_open" and self.table:
                self.table.in_head = True
            elif t.type == "thead_close" and self.table:
                self.table.in_head = False
                self.table.roles = _roles(self.table.header)
            elif t.type == "tr_open" and self.table:
                self.table.row = []
                self.table.row_line = (t.map[0] + 1) if t.map else 0
            elif t.type == "tr_close" and self.table and self.table.row is not None:
                if not self.table.in_head:
                    self.table_row(self.table)
                self.table.row = None
            elif t.type == "fence":
                self.fence(t)
            elif t.type == "code_block":
                self.fence(t, indented=True)
            elif t.type == "inline":
                nxt = toks[i + 2] if i + 2 < len(toks) else None
                if not self.items and not self.table and self.unit is None and nxt is not None and \
                        nxt.type == "fence" and _plain(t).rstrip().endswith(":") and toks[i - 1].type == "paragraph_open":
                    self.intro = t  # "Add a budget check in job execution:" + a code sample: judged by the sample
                else:
                    self.inline(t)
            i += 1
        self.flush_unit()

    def heading(self, t, inline):
        level = int(t.tag[1])
        title = _plain(inline).replace("`", "")
        line = (t.map[0] + 1) if t.map else 0
        self.pseudo = ""
        if self.unit and level <= self.unit["level"]:
            self.flush_unit()
        while self.headings and self.headings[-1].level >= level:
            self.headings.pop()
        if not self.b.spec.title and level == 1:
            self.b.spec.title = title
        self.b.spec.headings.append((level, title, line))
        m_req, m_scen = _OS_REQ.match(title), _OS_SCEN.match(title)
        owner = ""
        bare = re.sub(r"^[\d.)\s]+", "", title).strip()
        bare = re.sub(r"\s*\(.*\)$", "", bare)
        if re.fullmatch(r"[A-Za-z_][\w.]*(?:\(\))?", bare) and not re.fullmatch(r"[A-Z][a-z]+s?|[a-z]+", bare) or \
                re.fullmatch(r"[A-Z][a-z]{2,}", bare):
            owner = bare.rstrip("()")
        titled = bool(m_req or m_scen)  # a requirement's own title says what it does, not its status
        h = _Heading(level, title, not titled and bool(_EXCLUDED.search(title)),
                     not titled and bool(_PLANNED.search(title)), not titled and bool(_DONE_HEADING.search(title)),
                     bool(_RATIONALE.match(re.sub(r"^[\d.\s]+", "", title))), owner)
        if m_req or m_scen:
            in_req = any(_OS_REQ.match(x.title) for x in self.headings)
            kind = Kind.OPENSPEC_REQUIREMENT if m_req else (Kind.OPENSPEC_SCENARIO if in_req else Kind.SCENARIO)
            if self.unit:
                self.flush_unit()
            pieces = _inline_pieces(inline, line, split=False)
            self.unit = {"kind": kind, "title": title, "label": (m_req or m_scen).group(1).strip(), "line": line,
                         "level": level, "section": self.section(), "anchors": [x for p in pieces for x in p.anchors],
                         "text": [], "excluded": self.excluded() or h.excluded,
                         "planned": self.planned() or h.planned}
            self.headings.append(h)
            return
        # a heading that names an endpoint or a symbol is a requirement of its own
        pieces = _inline_pieces(inline, line, split=False)
        anchors = [a if a.subkind != "mention" else replace(a, subkind="heading")
                   for p in pieces for a, _ in p.anchors if a.kind is Kind.ENDPOINT or
                   (a.kind is Kind.SYMBOL and a.subkind not in ("word",))]
        if not anchors and owner and re.fullmatch(r"(?:[A-Z][a-z0-9]+){2,}|[A-Za-z_]\w*\(\)", bare):
            anchors = [Anchor(Kind.SYMBOL, bare, "heading")]
        section = self.section()
        self.headings.append(h)
        for a in anchors[:3]:
            self.emit_anchor(a, line, title, section, origin="heading", prio=codeblocks.MENTION)

    def emit_anchor(self, a: Anchor, line: int, text: str, section: str, *, terms=(), claim="", origin="",
                    planned=None, prio: int = codeblocks.MENTION):
        key = (a.kind, a.value.lower(), a.owner.lower(), a.subkind == "param", a.where)
        self.b.add_anchored(key, prio, kind=a.kind, text=text, line=line, section=section, anchors=[a],
                            excluded=self.excluded(), terms=terms,
                            planned=self.planned() if planned is None else planned, claim=claim, origin=origin)

    def fence(self, t, indented: bool = False):
        base = (t.map[0] + 1) if t.map else 0
        info = "" if indented else t.info
        intro, self.intro = self.intro, None
        if intro is not None:
            drafts = codeblocks.extract(info, t.content, base + 1, self.owner()) if not self.excluded() else []
            defined = [a for d in drafts if d.prio >= codeblocks.DEFINES for a in d.anchors
                       if a.kind is Kind.SYMBOL and a.subkind in ("function", "type") and "." not in a.value]
            # what the sentence asks is what the sample's functions do: the calls they make
            doing = [replace(a, subkind="calls") for a in defined if a.calls]
            if doing:
                line = (intro.map[0] + 1) if intro.map else base
                self.b.add(Kind.SYMBOL, _plain(intro), line, self.section(), doing[:3], excluded=self.excluded(),
                           terms=key_terms(_plain(intro)), planned=self.planned(), origin="prose")
            else:
                self.inline(intro)
        if info.strip().lower() in ("gherkin", "cucumber", "feature"):
            for req in parse_gherkin(self.b.spec.path, t.content, line_offset=base).requirements:
                self.b.spec.requirements.append(replace(req, planned=req.planned or self.planned()))
            return
        if self.excluded():
            return
        first = base + (0 if indented else 1)
        section = self.section()
        for d in codeblocks.extract(info, t.content, first, self.owner()):
            if d.origin == "markdown":  # a plan pasted in a plain block: read it as the Markdown it is
                inner = parse_markdown(self.b.spec.path, "\n" * (d.line - 1) + d.text)
                for r in inner.requirements:
                    self.b.add(r.kind, r.text, r.line, section + (" › " + r.section if r.section else ""),
                               r.anchors, r.checked, r.label, self.excluded(), terms=r.terms,
                               planned=r.planned or self.planned(), claim=r.claim, origin=r.origin)
                continue
            if d.group:
                self.b.add(Kind.SYMBOL if d.anchors else Kind.PROSE, d.text, d.line, section,
                           [a for a in d.anchors], excluded=self.excluded(), terms=d.terms,
                           planned=self.planned(), origin=d.origin + ("~" if d.low else ""))
                continue
            if d.origin == "code-comment" or not d.anchors:
                if not self.rationale() and len(d.terms) >= 2:
                    self.b.add(Kind.PROSE, d.text, d.line, section, (), terms=d.terms, planned=self.planned(),
                               origin=d.origin)
                continue
            for a in d.anchors:
                if a.subkind in ("mention",):
                    continue
                if self.where() and a.kind is Kind.SYMBOL and not a.where:
                    a = replace(a, where=self.where())
                self.emit_anchor(a, d.line, d.text, section, terms=d.terms,
                                 origin=d.origin + ("~" if d.low else ""), prio=d.prio)

    def inline(self, t):
        line = (t.map[0] + 1) if t.map else (self.table.row_line if self.table else 0)
        if self.table and self.table.row is not None:
            pieces = _inline_pieces(t, self.table.row_line or line, split=False)
            if self.table.in_head:
                self.table.header.append(_plain(t))
            else:
                self.table.row.append((_plain(t), pieces, t))
            return
        text = _plain(t)
        if self.unit is not None:
            self.unit["anchors"].extend(x for p in _inline_pieces(t, line, split=False) for x in p.anchors)
            self.unit["text"].append(text)
            return
        # a paragraph that is only bold text acts as a heading for what follows ("**Focus**")
        kids = [c for c in (t.children or []) if c.type != "softbreak"]
        if kids and kids[0].type == "strong_open" and kids[-1].type == "strong_close" and \
                sum(1 for c in kids if c.type == "strong_open") == 1 and not self.items:
            self.pseudo = text.strip("*: ")
            return
        first_in_item = bool(self.items) and not self.items[-1]["seen"]
        if self.items:
            self.items[-1]["seen"] = True
            for it in self.items[:-1]:
                if it.get("pending"):
                    it["children"].append(text)
        self.unit_text(t, text, line, first_in_item)

    def emit_summary(self, item: dict):
        """A list item that introduces a nested list ("3 workflows live:") asks for what its children
        name: its terms are its own words and theirs."""
        text, line, section, terms, planned = item["pending"]
        extra = key_terms(" ".join(item["children"]))
        if not item["children"]:
            if len(terms) >= 2:
                self.b.add(Kind.PROSE, text, line, section, (), excluded=self.excluded(), terms=terms,
                           planned=planned, origin="list")
            return
        self.b.add(Kind.PROSE, text, line, section, (), excluded=self.excluded(),
                   terms=list(dict.fromkeys(list(terms) + extra)), planned=planned, origin="list")

    def unit_text(self, t, text: str, line: int, first_in_item: bool):
        section = self.section()
        cb = _CHECKBOX.match(text)
        body = text[cb.end():] if cb else text
        pieces = _inline_pieces(t, line)
        all_anchors = [x for p in pieces for x in p.anchors]
        planned = self.planned()
        if cb:
            for p in pieces:
                _polarity(p, imperative=True)
            all_anchors = [x for p in pieces for x in p.anchors]
            checked = cb.group(1).lower() == "x"
            tm = _TASK.match(body)
            kind, label = (Kind.TASK, tm.group(1)) if tm else (Kind.CHECKLIST, "")
            anchors = [a for a, _ in all_anchors if a.subkind != "mention"] or \
                      [a for a, _ in all_anchors]
            self.b.add(kind, body, line, section, _qualify(anchors), checked, label, self.excluded(),
                       terms=key_terms(_plain_words(pieces)), planned=not checked,
                       claim="done" if checked else "planned", origin="list")
            return
        fm = _FR.match(body)
        if fm:
            self.b.add(Kind.FR, body, line, section, _qualify([a for a, _ in all_anchors]), None, fm.group(1),
                       self.excluded(), terms=key_terms(_plain_words(pieces)), planned=planned, origin="list")
            return
        # a list item that introduces a nested list with a file: "Create `src/x.py` with:" — the
        # symbols below live in that file
        heading_like = len(_plain_words(pieces).split()) <= 6  # "**API endpoints** (`src/webapi.py`)"
        if self.items and first_in_item and (text.rstrip().endswith(":") or heading_like):
            files = [a for a, _ in all_anchors if a.kind is Kind.PATH and _FILE_EXT.search(a.value)
                     and not _DOC_EXT.search(a.value)]
            if len(files) == 1 and len(all_anchors) == 1:
                self.items[-1]["where"] = files[0].value
                # the file is where the nested items' symbols live; it is a requirement of its own only if
                # no nested item names a symbol in it (decided when the item closes)
                self.items[-1]["lead_file"] = (files[0], line, body, section, planned)
                pieces = [replace(p, anchors=[(a, ln) for a, ln in p.anchors if a is not files[0]]) for p in pieces]
        if self.items and first_in_item and text.rstrip().endswith(":") and not self.items[-1].get("lead_file") and \
                not any(a.subkind != "mention" for a, _ in all_anchors) and not self.rationale():
            self.items[-1]["pending"] = (body, line, section, key_terms(_plain_words(pieces)), planned)
            self.items[-1]["children"] = []
            return
        claim = claim_of(text) if re.search(r"✅|❌|⚠|🚧|📋|\((?:done|planned|todo|wip)\)", text, re.I) else ""
        said = _DEFAULT_IN_TEXT.search(text)
        if claim == "planned":
            planned = True
        origin = "list" if self.items else "prose"
        placeholder = False  # after "TBD - created by archiving change x.": "Update Purpose after archive."
        for p in pieces:
            strong = [(a, ln) for a, ln in p.anchors if a.subkind != "mention"]
            terms = key_terms(p.plain)
            if strong:
                anchors = _qualify([a for a, _ in strong], where=self.where())
                if said and len(anchors) == 1 and anchors[0].subkind in ("env", "config", "identifier") or \
                        said and len(anchors) == 1 and anchors[0].kind is Kind.FLAG:
                    anchors = [replace(anchors[0], default=_default_value(said.group(1)))]
                for it in self.items[:-1]:
                    if it.get("where") and any(a.where == it["where"] for a in anchors):
                        it["lead_used"] = True
                lines = {a: ln for a, ln in strong}
                for a in anchors:
                    base = a if a in lines else next((x for x in lines if x.value == a.value), a)
                    self.emit_anchor(a, lines.get(base, p.line), p.text, section, terms=terms, claim=claim,
                                     origin=origin, planned=planned)
                continue
            if self.rationale() and not _NORMATIVE.search(p.text):
                continue
            if self.items and self.items[-1].get("lead_file") and p.text.rstrip().endswith(":"):
                continue  # "Create `x.py` with:" — its nested items are the requirements
            if _LEAD_IN.match(p.text) or _TBD.search(p.text) or placeholder and not _NORMATIVE.search(p.text):
                placeholder = placeholder or bool(_TBD.search(p.text))
                continue  # "Acceptance scenarios:", "Plans: TBD": a label or a placeholder (and what it says next)
            if not p.anchors and (p.text.rstrip().endswith(":") and not _NORMATIVE.search(p.text)
                                  or _ABOUT_ITSELF.match(p.text)):
                continue  # "It keeps two horizons in view:", "This document defines …": it introduces, not asks
            mentions = [a for a, _ in p.anchors]
            if self.where():  # under an item that names the file: the sentence is about that file
                mentions.append(Anchor(Kind.PATH, self.where(), "scope"))
                for it in self.items[:-1]:
                    if it.get("where") == self.where():
                        it["lead_used"] = True
            enough = 2 if self.items or _NORMATIVE.search(p.text) else 3  # narrative prose needs more to say
            if len(terms) >= enough or mentions or (_NORMATIVE.search(p.text) and len(p.text) > 12):
                if not terms and not mentions and not _NORMATIVE.search(p.text):
                    continue
                if not self.items and _is_label(p.text, t) and not mentions:
                    continue
                self.b.add(Kind.PROSE, p.text, p.line, section, tuple(dict.fromkeys(mentions)),
                           excluded=self.excluded(), terms=terms, planned=planned, claim=claim, origin=origin)

    def table_row(self, table: _Table):
        cells = table.row or []
        if not cells:
            return
        roles = table.roles + ["description"] * (len(cells) - len(table.roles))
        line = table.row_line
        section = self.section()
        status = [claim_of(c[0]) for c, r in zip(cells, roles) if r == "status"]
        claim = next((s for s in status if s), "")
        if not claim:
            badge = [claim_of(c[0]) for c in cells if re.search(r"✅|❌|⚠|🚧|📋|⏳|🔜", c[0])]
            claim = next((s for s in badge if s), "")
        planned = claim == "planned" or (self.planned() and claim not in ("done", "in-progress", "missing"))
        key_idx = next((k for k, r in enumerate(roles) if r in ("endpoint", "env", "metric", "member", "symbol")), None)
        if key_idx is None:
            key_idx = next((k for k, r in enumerate(roles) if r == "feature"), 0)
        key_role = roles[key_idx]
        text = " · ".join(c[0] for c in cells if c[0])
        feature_idx = next((k for k, r in enumerate(roles) if r == "feature"), key_idx)
        self.b.spec.rows.append((line, cells[feature_idx][0] if feature_idx < len(cells) else "", claim, section))
        if "status" in roles[1:len(cells)] and roles[0] in ("feature", "description", "value", "symbol"):
            self.b.spec.matrix_rows.add(line)  # a feature matrix: what is planned or done, one thing per row
        anchors: list[Anchor] = []
        if key_role == "endpoint":
            method = next((c[0].strip("` ").upper() for c, r in zip(cells, roles)
                           if re.fullmatch(rf"`?({METHODS})`?", c[0].strip(), re.I)), None)
            for a, _ in (x for p in cells[key_idx][1] for x in p.anchors):
                if a.kind is Kind.ENDPOINT:
                    if method and a.value.startswith("ANY "):
                        a = Anchor(Kind.ENDPOINT, f"{method} {a.value[4:]}")
                    anchors.append(a)
            if not anchors:
                m = re.search(r"(/[\w\-./{}:<>\[\]*]+)", cells[key_idx][0])
                if m:
                    anchors.append(Anchor(Kind.ENDPOINT, f"{method or 'ANY'} {m.group(1)}"))
        else:
            for a, _ in (x for p in cells[key_idx][1] for x in p.anchors):
                anchors.append(a)
            if not anchors and key_role in ("feature", "description"):
                # a comparison table ("| **Examples** | `LoggingSagaListener` | …"): the names sit in the other cells
                for k, (c, r) in enumerate(zip(cells, roles)):
                    if k != key_idx and r not in ("value", "status"):
                        anchors += [a for p in c[1] for a, _ in p.anchors
                                    if a.kind in (Kind.SYMBOL, Kind.PATH) and a.subkind not in ("mention", "word")]
            if not anchors and key_role in ("env", "metric", "member", "symbol"):
                raw = cells[key_idx][0].strip("`*_ ")
                m = re.fullmatch(r"`?([A-Za-z_][\w.\-]*(?:\(\))?)`?", raw)
                if m and m.group(1).lower() not in STOPWORDS:
                    anchors.append(Anchor(Kind.SYMBOL, m.group(1), symbol_subkind(m.group(1))))
        # endpoints written in any non-value cell count too ("| List users | GET /users |")
        for k, (c, r) in enumerate(zip(cells, roles)):
            if k != key_idx and r not in ("value", "status"):
                anchors += [a for p in c[1] for a, _ in p.anchors if a.kind is Kind.ENDPOINT]
        owner = self.owner()
        default = next((_default_value(c[0]) for c, h in zip(cells, table.header + [""] * len(cells))
                        if re.search(r"\bdefault", h, re.I)), "")
        where = next((a.value for k, (c, r) in enumerate(zip(cells, roles)) if r == "file" and k != key_idx
                      for p in c[1] for a, _ in p.anchors if a.kind is Kind.PATH), "")
        out = []
        for a in anchors:
            if a.kind is Kind.SYMBOL:
                if key_role == "env" and _ENV_NAME.match(a.value):
                    a = replace(a, subkind="env")
                elif key_role == "metric":
                    a = replace(a, subkind="metric")
                elif key_role == "member" and owner and "." not in a.value and a.subkind != "env":
                    a = replace(a, value=f"{owner}.{a.value}", subkind="member", owner=owner)
                elif key_role == "member" and a.subkind == "word":
                    a = replace(a, subkind="config")
                elif key_role == "symbol" and a.subkind == "word":
                    a = replace(a, subkind="identifier")
                if where and not a.where:
                    a = replace(a, where=where)
            if default and (a.kind is Kind.FLAG or a.subkind in ("env", "config", "member", "identifier")):
                a = replace(a, default=default)
            out.append(a)
        for c, r in zip(cells, roles):  # names a description cell gives in code formatting count too
            if r == "description":
                for a, _ in (x for p in c[1] for x in p.anchors):
                    if a.kind in (Kind.SYMBOL, Kind.PATH, Kind.FLAG) and a.subkind not in ("word", "mention") \
                            and a not in out:
                        self.emit_anchor(a, line, text, section, claim=claim, origin="table", planned=planned)
        desc_terms = key_terms(" ".join(c[0] for c, r in zip(cells, roles) if r == "description"))
        key_terms_ = key_terms(cells[key_idx][0])
        if out:
            for a in out:
                self.emit_anchor(a, line, text, section, terms=key_terms_ or desc_terms, claim=claim,
                                 origin="table", planned=planned, prio=codeblocks.TABLE_ROW)
            return
        if key_role in ("value", "status") or not key_terms_:
            return
        terms = key_terms_ if len(key_terms_) >= 2 else list(dict.fromkeys(key_terms_ + desc_terms))
        mentions = [a for p in cells[key_idx][1] for a, _ in p.anchors]
        self.b.add(Kind.PROSE, text, line, section, tuple(mentions), excluded=self.excluded(), terms=terms,
                   planned=planned, claim=claim, origin="table")


_DEFAULT_IN_TEXT = re.compile(r"\(\s*default(?:s to|:|\s+is)?\s*`?([^`),;]+?)`?\s*\)", re.I)
_NO_DEFAULT = re.compile(r"^(?:-|—|–|n/?a|none given|required|\(?required\)?|auto(?:[- ]?generated)?|computed|"
                         r"see .*|varies|\s*)$", re.I)


def _default_value(cell: str) -> str:
    """The default a spec states, as comparable text; "" when it states none (—, required, auto)."""
    v = cell.strip().strip("`*_ ").strip("\"'")
    if _NO_DEFAULT.match(v) or len(v) > 40:
        return ""
    return v


_LEAD_IN = re.compile(r"^\W*(?:\w+\W+){0,4}\w+\s*:\s*$")
_ABOUT_ITSELF = re.compile(r"^\W*(?:this|the present|the following)\s+(?:document|doc|guide|page|file|section|"
                           r"chapter|spec(?:ification)?|readme|plan|roadmap|runbook|report|note|overview|proposal|rfc|"
                           r"adr|design|write-?up|checklist)\b", re.I)
_TBD = re.compile(r"\b(?:TBD|TBA|to be (?:decided|determined|defined))\b", re.I)


def _plain_words(pieces: list[_Piece]) -> str:
    return " ".join(p.plain for p in pieces)


def _is_label(text: str, inline) -> bool:
    """"**Target window:** Sprints 24–25", "**Owner:** platform team": metadata, not a requirement."""
    t = text.strip()
    kids = inline.children or []
    if not kids or kids[0].type != "strong_open":
        return False
    m = re.match(r"^[\w /&-]{2,30}:\s*(.*)$", t)
    return bool(m) and len(m.group(1).split()) <= 4 and not _NORMATIVE.search(t)


_SCRIPT = re.compile(r"\.(?:py|sh|bash|js|mjs|ts|rb|pl|ps1)$")


def _qualify(anchors: list[Anchor], where: str = "") -> list[Anchor]:
    """A sentence naming one code file and some symbols places the symbols in that file: the
    file is where to look, not a requirement of its own."""
    files = [a for a in anchors if a.kind is Kind.PATH and _FILE_EXT.search(a.value) and not _DOC_EXT.search(a.value)
             and not a.value.endswith("/")]
    flags = [a for a in anchors if a.kind is Kind.FLAG]
    scripts = [a for a in files if _SCRIPT.search(a.value)]
    if len(scripts) == 1 and flags:
        # "`src/run_workflow.py`: add `--require_citations`": the script must take the flag
        cmd = Anchor(Kind.COMMAND, " ".join([scripts[0].value] + [f.value for f in flags]), "script",
                     parts=tuple([scripts[0].value] + [f.value for f in flags]))
        anchors = [cmd] + [a for a in anchors if a is not scripts[0] and a.kind is not Kind.FLAG]
        files = [a for a in files if a is not scripts[0]]
    symbols = [a for a in anchors if a.kind is Kind.SYMBOL and a.subkind not in ("mention", "word")]
    if len(files) == 1 and symbols:
        loc = files[0].value
        return [replace(a, where=a.where or loc) if a.kind is Kind.SYMBOL else a
                for a in anchors if a is not files[0]]
    if where:
        return [replace(a, where=a.where or where) if a.kind is Kind.SYMBOL else a for a in anchors]
    return anchors


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
            body = scen["title"] + (": " + " ".join(scen["steps"]) if scen["steps"] else "")
            b.add(Kind.SCENARIO, body, scen["line"], scen["section"], scen["anchors"], None, scen["label"],
                  scen["excluded"], terms=key_terms(" ".join([scen["label"]] + scen["steps"])), origin="gherkin")
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
            b.spec.headings.append((1, b.spec.title, ln))
            feature_tags, tags = tags, set()
            section = b.spec.title
            continue
        if line.startswith("Rule:"):
            flush()
            section = line.split(":", 1)[1].strip()
            b.spec.headings.append((2, section, ln))
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
                scen["anchors"].append(Anchor(Kind.ENDPOINT, f"{em.group(1)} {em.group(2).rstrip('.,;:`')}"))
    flush()
    b.spec.lines = text.count("\n") + 1
    return b.spec


def parse_spec(path: str, text: str) -> ParsedSpec:
    if path.lower().endswith(".feature"):
        return parse_gherkin(path, text)
    return parse_markdown(path, text)
