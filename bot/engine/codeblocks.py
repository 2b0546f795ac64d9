"""What a fenced code block in a spec asks of the code, by language.

Specs show code far more often than they backtick names: a class with its fields, a SQL table,
a config sample, the commands to run, a sequence or state diagram, a file tree. Each block is
read with a reader for its language (a real parser for programming languages, the YAML/JSON/TOML
loaders for data, ``shlex`` for shell) and yields *drafts*: checkable anchors with the line they
sit on. Example values, placeholders and third-party calls are not anchors.
"""
from __future__ import annotations

import json
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field

import yaml

from .model import Anchor, Kind
from .terms import key_terms

_PY_BUILTINS = frozenset(__import__("builtins").__dict__)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s*=\s*(.*)$")
_METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_HTTP_LINE = re.compile(rf"^\s*({_METHODS})\s+(/\S*)")
_ENDPOINT_IN = re.compile(rf"\b({_METHODS})\s+(/[\w\-./{{}}:<>\[\]*$]*)")
_TREE_LINK = re.compile(r"[├└]──|^[\s│|]*(?:\||`)--")
_BOX_ONLY = re.compile(r"[┌┐┘┬┴┼═║╔╗╚╝►▼◄▲→←↓↑]")
_BOX_CHARS = re.compile(r"[┌┐┘┬┴┼─═║╔╗╚╝►▼◄▲→←↓↑]")
_CODEISH = re.compile(
    r"(?<![\w./-])(?:[A-Za-z_][A-Za-z0-9]*\(\)|[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|"
    r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?![\w-])")
_PLACEHOLDER = re.compile(r"^(?:<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\$\{?\w+\}?|[A-Z][A-Z_]*|\.\.\.|…)$")
_FILE_EXT = re.compile(r"\.(?:py|go|js|jsx|ts|tsx|mjs|java|kt|rb|rs|cs|php|sh|bash|sql|ya?ml|json|toml|ini|cfg|"
                       r"env|md|txt|proto|tf|html|css|vue|svelte|jsonl|csv|lock|xml|conf)$", re.I)

LANG_ALIASES = {
    "py": "python", "python3": "python", "pycon": "python", "ipython": "python",
    "golang": "go", "ts": "typescript", "js": "javascript", "jsx": "javascript", "mjs": "javascript",
    "node": "javascript", "kt": "kotlin", "rs": "rust", "cs": "csharp", "c#": "csharp", "rb": "ruby",
    "postgres": "sql", "postgresql": "sql", "mysql": "sql", "sqlite": "sql", "plpgsql": "sql", "psql": "sql",
    "yml": "yaml", "jsonc": "json", "json5": "json", "dotenv": "env", "properties": "env", "ini": "ini",
    "cfg": "ini", "conf": "ini", "sh": "shell", "bash": "shell", "zsh": "shell", "console": "shell",
    "shell-session": "shell", "shellsession": "shell", "terminal": "shell", "cmd": "shell", "powershell": "shell",
    "ps1": "shell", "fish": "shell", "rest": "http", "httpie": "shell", "txt": "text", "plain": "text",
    "plaintext": "text", "ascii": "text", "": "text", "tree": "text", "mmd": "mermaid",
}
_MARKDOWNISH = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+.*`[^`\n]+`", re.M)
_PARSED = {"python", "go", "typescript", "tsx", "javascript", "java", "kotlin", "rust", "csharp", "ruby", "php",
           "swift", "scala"}


@dataclass
class Draft:
    line: int
    anchors: list[Anchor] = field(default_factory=list)
    text: str = ""
    terms: list[str] = field(default_factory=list)
    origin: str = ""
    low: bool = False  # read from a drawing or a guess at the block's language: weaker evidence
    prio: int = 2  # when a spec names the same thing twice, the occurrence with the higher priority counts
    group: bool = False  # one requirement with all its anchors (a state transition), not one per anchor


# How strongly an occurrence states a requirement, for choosing among repeated mentions.
DEFINES, TABLE_ROW, SAMPLE, MENTION, USAGE, DRAWING = 5, 4, 3, 2, 1, 0


def language(info: str, content: str) -> str:
    name = (info.strip().split() or [""])[0].lower().strip("{}.")
    name = LANG_ALIASES.get(name, name)
    return _sniff(content) if name == "text" else name


def _sniff(content: str) -> str:
    lines = [ln for ln in content.splitlines() if ln.strip()]
    if not lines:
        return "text"
    if sum(bool(_TREE_LINK.search(ln)) for ln in lines) >= max(2, len(lines) // 4) and \
            not any(_BOX_ONLY.search(ln) for ln in lines):
        return "tree"
    if sum(bool(_BOX_CHARS.search(ln)) for ln in lines) >= max(2, len(lines) // 3):
        return "diagram"
    if all(_ENV_LINE.match(ln) or ln.lstrip().startswith("#") for ln in lines):
        return "env"
    first = lines[0].strip()
    if _HTTP_LINE.match(first):
        return "http"
    if first.startswith("$ ") or re.match(r"^(?:python3?|make|npm|npx|yarn|pnpm|pip|uv|poetry|go run|cargo|curl|"
                                          r"docker|kubectl|helm|git|export|streamlit|uvicorn|gunicorn)\b", first):
        return "shell"
    if re.match(r"^(?:class|def|async def|from \w|import \w)", first):
        return "python"
    if re.match(r"^(?:CREATE|ALTER|SELECT|INSERT)\b", first, re.I):
        return "sql"
    if re.match(r"^(?:sequenceDiagram|stateDiagram|flowchart|graph)\b", first):
        return "mermaid"
    return "text"


def _find_kind(root, kind: str) -> list:
    try:
        return root.find_all(kind=kind)
    except RuntimeError:
        return []


def extract(info: str, content: str, first_line: int, owner: str = "") -> list[Draft]:
    """Drafts for one fenced block whose first content line is ``first_line`` (1-based).
    ``owner`` is the symbol the enclosing section is about, if any (``### SagaContext``)."""
    lang = language(info, content)
    try:
        if lang == "python":
            return _python(content, first_line, owner)
        if lang == "text" and _MARKDOWNISH.search(content):
            return [Draft(first_line, [], content, [], "markdown")]  # a prompt or plan pasted as a block
        if lang in _PARSED:
            return _declarations(lang, content, first_line)
        reader = _READERS.get(lang)
        return reader(content, first_line) if reader else []
    except (RecursionError, ValueError, TypeError, RuntimeError):  # a reader choking on odd input (or a
        return []  # grammar without the node kind asked for) skips the block


# ---- comments: prose inside code ---------------------------------------------------------------
def _comment_draft(text: str, line: int, origin: str) -> Draft | None:
    body = text.strip().lstrip("#/*-; ").rstrip("*/ ").strip()
    terms = key_terms(body)
    if len(terms) < 2 or len(body) < 8:
        return None
    return Draft(line, [], body, terms, origin, low=True)


# ---- Python, by its parse tree -----------------------------------------------------------------
_SIG_NO_COLON = re.compile(r"^(\s*(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->\s*[^:#]+?)?)\s*(#.*)?$")
_CLASS_NO_COLON = re.compile(r"^(\s*class\s+\w+(?:\s*\([^)]*\))?)\s*(#.*)?$")


def _fix_python(content: str) -> str:
    """Doc snippets often list signatures without bodies (``def get(self, key) -> Any``): add the
    colon and an ellipsis so the parser reads them as definitions."""
    out = []
    for ln in content.splitlines():
        m = _SIG_NO_COLON.match(ln) or _CLASS_NO_COLON.match(ln)
        if m and not ln.rstrip().endswith(":"):
            ln = m.group(1) + ": ..." + (("  " + m.group(2)) if m.group(2) else "")
        out.append(ln)
    return "\n".join(out)


def _name_of(node) -> str:
    n = node.field("name")
    return n.text() if n is not None else ""


def _params(node) -> list[str]:
    ps = node.field("parameters")
    if ps is None:
        return []
    out = []
    for c in ps.children():
        if not c.is_named():
            continue
        if c.kind() == "identifier":
            out.append(c.text())
        else:
            ident = c.find(kind="identifier")
            if ident is not None:
                out.append(ident.text())
    return [p for p in out if p not in ("self", "cls")]


def _python(content: str, first: int, owner: str) -> list[Draft]:
    from ast_grep_py import SgRoot

    text = _fix_python(content)
    root = SgRoot(text, "python").root()
    lines = content.splitlines()
    drafts: dict[int, Draft] = {}
    local_names: set[str] = set()
    imported: dict[str, str] = {}  # local name -> module
    for node in root.find_all(kind="function_definition"):
        local_names.add(_name_of(node))
    for node in root.find_all(kind="class_definition"):
        local_names.add(_name_of(node))

    def draft(line0: int, origin: str, prio: int = USAGE) -> Draft:
        d = drafts.get(line0)
        if d is None:
            src = lines[line0] if line0 < len(lines) else ""
            code, _, comment = src.partition("  #")
            d = drafts[line0] = Draft(first + line0, [], src.strip(), key_terms(comment) if comment else [], origin,
                                      prio=prio)
        return d

    def add(line0: int, anchor: Anchor, origin: str = "code:python", prio: int = USAGE):
        d = draft(line0, origin, prio)
        d.prio = max(d.prio, prio)
        if anchor not in d.anchors:
            d.anchors.append(anchor)

    # imports of the project's own modules
    for imp in root.find_all(kind="import_from_statement"):
        mod = imp.field("module_name")
        module = mod.text() if mod is not None else ""
        if not module or module.split(".")[0] in _STDLIB or module.startswith("__"):
            continue
        for n in imp.children():
            if n.kind() in ("dotted_name", "aliased_import") and n != mod:
                ident = n.text().split(" as ")[0].strip()
                imported[ident.split(".")[-1]] = module
                add(n.range().start.line, Anchor(Kind.SYMBOL, ident, _kind_of_name(ident), where=module), prio=SAMPLE)
    for imp in root.find_all(kind="import_statement"):
        for n in imp.children():
            if n.kind() in ("dotted_name", "aliased_import"):
                module = n.text().split(" as ")[0].strip()
                if module.split(".")[0] not in _STDLIB:
                    imported[module.split(".")[0]] = module
    # definitions: classes with their members, functions with their parameters
    for cls in root.find_all(kind="class_definition"):
        name = _name_of(cls)
        if not name or cls.ancestors() and any(a.kind() == "function_definition" for a in cls.ancestors()):
            continue
        members: list[str] = []
        body = cls.field("body")
        for stmt in body.children() if body is not None else ():
            target = stmt
            if stmt.kind() == "decorated_definition":
                target = stmt.field("definition") or stmt
            if target.kind() == "function_definition":
                m = _name_of(target)
                if m and not (m.startswith("__") and m != "__init__"):
                    members.append(m)
                    add(target.range().start.line, Anchor(Kind.SYMBOL, f"{name}.{m}", "method", owner=name,
                                                          parts=tuple(_params(target))), prio=DEFINES)
            elif stmt.kind() == "expression_statement":
                asg = stmt.find(kind="assignment")
                left = asg.field("left") if asg is not None else None
                if left is not None and left.kind() == "identifier":
                    members.append(left.text())
                    add(stmt.range().start.line, Anchor(Kind.SYMBOL, f"{name}.{left.text()}", "field", owner=name),
                        prio=DEFINES)
        add(cls.range().start.line, Anchor(Kind.SYMBOL, name, "type", parts=tuple(members)), prio=DEFINES)
    for fn in root.find_all(kind="function_definition"):
        if any(a.kind() in ("class_definition", "function_definition") for a in fn.ancestors()):
            continue
        name = _name_of(fn)
        if name and name not in ("main",) and not name.startswith("_"):
            # what the sample's body calls of the project (imported names): the real function must call them too
            called = []
            for c in fn.find_all(kind="call"):
                f = c.field("function")
                callee = f.text() if f is not None and f.kind() == "identifier" else ""
                if callee and callee in imported and callee not in called:
                    called.append(callee)
            add(fn.range().start.line, Anchor(Kind.SYMBOL, name, "function", parts=tuple(_params(fn)),
                                              calls=tuple(called)), prio=DEFINES)
    # calls: methods on objects, the project's functions and classes, keyword arguments
    for call in root.find_all(kind="call"):
        fn = call.field("function")
        if fn is None:
            continue
        line0 = fn.range().end.line
        if fn.kind() == "attribute":
            obj, attr = fn.field("object"), fn.field("attribute")
            if attr is None:
                continue
            recv = obj.text() if obj is not None else ""
            base = recv.split(".")[0].split("(")[0]
            if base in _STDLIB or base in _PY_BUILTINS and base not in imported:
                continue
            callee = attr.text()
            if callee.startswith("__"):
                continue
            kind = "type" if callee[:1].isupper() else "method"
            anchor = Anchor(Kind.SYMBOL, callee if kind == "type" else f"{recv}.{callee}" if recv.isidentifier()
                            else callee, kind, owner="" if kind == "type" else recv)
        elif fn.kind() == "identifier":
            callee = fn.text()
            if callee in _PY_BUILTINS or callee in local_names and callee not in imported:
                continue
            anchor = Anchor(Kind.SYMBOL, callee, "type" if callee[:1].isupper() else "function")
        else:
            continue
        if _route_call(call, first, drafts, lines):
            continue
        add(line0, anchor)
        args = call.field("arguments")
        for arg in args.children() if args is not None else ():
            if arg.kind() == "keyword_argument":
                kw = arg.field("name")
                if kw is not None:
                    d = Draft(first + arg.range().start.line, [
                        Anchor(Kind.SYMBOL, kw.text(), "param", owner=callee)],
                        lines[arg.range().start.line].strip() if arg.range().start.line < len(lines) else "",
                        [], "code:python", prio=SAMPLE)
                    src = lines[arg.range().start.line] if arg.range().start.line < len(lines) else ""
                    if "#" in src:
                        d.terms = key_terms(src.split("#", 1)[1])
                    key = -(first + arg.range().start.line)  # its own draft, apart from the call's
                    drafts[key] = d
    for c in root.find_all(kind="comment"):
        line0 = c.range().start.line
        src = lines[line0] if line0 < len(lines) else ""
        if src.strip().startswith("#"):
            d = _comment_draft(c.text(), first + line0, "code-comment")
            if d:
                drafts[-(10_000_000 + line0)] = d
    return sorted((d for d in drafts.values() if d.anchors or d.origin == "code-comment"), key=lambda d: d.line)


def _route_call(call, first: int, drafts: dict, lines: list[str]) -> bool:
    """``@app.get("/x")`` / ``router.add_route("GET", "/x")`` in a snippet: the spec shows a route."""
    fn = call.field("function")
    name = fn.text().rsplit(".", 1)[-1].lower() if fn is not None else ""
    if name not in ("get", "post", "put", "patch", "delete", "head", "options", "route", "api_route"):
        return False
    args = call.field("arguments")
    s = args.find(kind="string") if args is not None else None
    path = s.text().strip("\"'") if s is not None else ""
    if not path.startswith("/"):
        return False
    method = name.upper() if name not in ("route", "api_route") else "ANY"
    line0 = call.range().start.line
    drafts[-(20_000_000 + line0)] = Draft(first + line0, [Anchor(Kind.ENDPOINT, f"{method} {path}")],
                                          lines[line0].strip() if line0 < len(lines) else "", [], "code:python",
                                          prio=DEFINES)
    return True


def _kind_of_name(name: str) -> str:
    if _ENV_NAME.match(name):
        return "constant"
    return "type" if name[:1].isupper() else "function"


# ---- other programming languages: declarations only ----------------------------------------------
_DECL = {  # node kind -> symbol kind; containers hold members
    "class_declaration": "type", "class_definition": "type", "interface_declaration": "type",
    "struct_item": "type", "enum_item": "type", "trait_item": "type", "enum_declaration": "type",
    "type_spec": "type", "type_alias_declaration": "type", "record_declaration": "type",
    "struct_declaration": "type", "object_declaration": "type", "protocol_declaration": "type",
    "function_declaration": "function", "function_item": "function", "function_definition": "function",
    "method_declaration": "method", "method_definition": "method", "method_signature": "method",
    "method_elem": "method", "function_signature_item": "method", "abstract_method_signature": "method",
    "property_signature": "field", "field_declaration": "field", "public_field_definition": "field",
    "property_declaration": "field",
}
_NAME_KINDS = ("identifier", "type_identifier", "field_identifier", "property_identifier", "simple_identifier",
               "constant", "name")


def _decl_name(node) -> str:
    n = node.field("name")
    if n is not None:
        return n.text()
    for c in node.children():
        if c.kind() in _NAME_KINDS:
            return c.text()
        if c.kind() in ("variable_declarator", "field_identifier_list"):
            inner = c.find(kind="identifier") or c.find(kind="field_identifier")
            if inner is not None:
                return inner.text()
    return ""


def _declarations(lang: str, content: str, first: int) -> list[Draft]:
    from ast_grep_py import SgRoot

    root = SgRoot(content, lang).root()
    lines = content.splitlines()
    out: list[Draft] = []

    def owner_of(node) -> str:
        if node.kind() == "method_declaration" and lang == "go":
            recv = node.field("receiver")
            t = recv.find(kind="type_identifier") if recv is not None else None
            return t.text() if t is not None else ""
        for a in node.ancestors():
            if _DECL.get(a.kind()) == "type" or a.kind() == "impl_item":
                if a.kind() == "impl_item":
                    t = a.field("type")
                    return t.text() if t is not None else ""
                return _decl_name(a)
        return ""

    def walk(node):
        kind = _DECL.get(node.kind())
        if kind:
            name = _decl_name(node)
            if name and not name.startswith("_"):
                own = owner_of(node)
                line0 = node.range().start.line
                if kind == "field" and not own:
                    kind = "variable"
                value = f"{own}.{name}" if own and kind in ("method", "field") else name
                sub = kind if kind != "variable" else "identifier"
                out.append(Draft(first + line0, [Anchor(Kind.SYMBOL, value, sub, owner=own if kind in
                                                        ("method", "field") else "")],
                                 lines[line0].strip() if line0 < len(lines) else "", [], f"code:{lang}",
                                 prio=DEFINES))
        for c in node.children():
            walk(c)

    walk(root)
    try:
        comments = root.find_all(kind="comment")
    except RuntimeError:  # a grammar that names its comments otherwise (line_comment, block_comment)
        comments = [n for k in ("line_comment", "block_comment") for n in _find_kind(root, k)]
    for c in comments:
        line0 = c.range().start.line
        src = lines[line0] if line0 < len(lines) else ""
        if src.strip().startswith(("//", "#", "/*", "*")):
            d = _comment_draft(c.text(), first + line0, "code-comment")
            if d:
                out.append(d)
    return sorted(out, key=lambda d: d.line)


# ---- SQL -----------------------------------------------------------------------------------------
_SQL_STMT = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+|TEMP(?:ORARY)?\s+)?(?P<what>TABLE|VIEW|INDEX|UNIQUE\s+INDEX|TYPE|"
    r"FUNCTION|MATERIALIZED\s+VIEW|SEQUENCE|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:CONCURRENTLY\s+)?"
    r"(?P<name>[\w.\"`]+)|\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<table>[\w.\"`]+)\s+ADD\s+(?:COLUMN\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?P<col>[\w\"`]+)", re.I)
_SQL_NOT_COLUMN = {"primary", "foreign", "unique", "constraint", "check", "index", "key", "exclude", "like"}


def sql_tables(content: str) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """(offset, what, name, columns) for each CREATE / ALTER … ADD statement in SQL text."""
    out = []
    for m in _SQL_STMT.finditer(content):
        if m.group("table"):
            out.append((m.start(), "column", f"{_unquote(m.group('table'))}.{_unquote(m.group('col'))}", ()))
            continue
        what = re.sub(r"\s+", " ", m.group("what").lower())
        name = _unquote(m.group("name"))
        cols: tuple[str, ...] = ()
        if what == "table":
            cols = tuple(_columns(content, m.end()))
        out.append((m.start(), what.replace("unique ", ""), name, cols))
    return out


def _unquote(s: str) -> str:
    return s.replace('"', "").replace("`", "").split(".")[-1]


def _columns(content: str, pos: int) -> list[str]:
    start = content.find("(", pos)
    if start < 0 or content[pos:start].strip():
        return []
    depth, i, buf, cols = 0, start, [], []
    while i < len(content):
        ch = content[i]
        if ch == "(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        if ch == "," and depth == 1:
            cols.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    cols.append("".join(buf))
    out = []
    for c in cols:
        c = re.sub(r"--[^\n]*", "", c).strip()
        word = c.split()[0].strip('"`') if c.split() else ""
        if word and word.lower() not in _SQL_NOT_COLUMN and re.match(r"^\w+$", word):
            out.append(word)
    return out


def _sql(content: str, first: int) -> list[Draft]:
    out = []
    for off, what, name, cols in sql_tables(content):
        line = first + content.count("\n", 0, off)
        sub = {"table": "table", "column": "column", "index": "index", "view": "table",
               "materialized view": "table"}.get(what, "identifier")
        owner, _, col = name.partition(".") if what == "column" else ("", "", "")
        out.append(Draft(line, [Anchor(Kind.SYMBOL, name, sub, owner=owner, parts=cols)],
                         content.splitlines()[line - first].strip(), [], "code:sql", prio=DEFINES))
    for n, ln in enumerate(content.splitlines()):
        if ln.strip().startswith("--"):
            d = _comment_draft(ln.strip()[2:], first + n, "code-comment")
            if d:
                out.append(d)
    return out


# ---- data: YAML, JSON, TOML, env, ini --------------------------------------------------------------
def _looks_like_manifest(data) -> bool:
    """Another tool's file format (Kubernetes, Compose, CI workflows, OpenAPI): its keys are that
    tool's, not this project's settings; only the environment variables in it count."""
    if not isinstance(data, dict):
        return False
    keys = set(data)
    return bool(("apiVersion" in keys and "kind" in keys) or isinstance(data.get("services"), dict) or
                "jobs" in keys or "steps" in keys or "runs-on" in keys or True in keys or "on" in keys or
                keys & {"openapi", "swagger", "paths", "components", "securitySchemes", "stages", "pipeline",
                        "workflow", "runs", "inputs", "outputs", "branding", "image", "volumes", "spec"})


def _yaml(content: str, first: int) -> list[Draft]:
    out: list[Draft] = []
    lines = content.splitlines()
    try:
        docs = list(yaml.compose_all(content, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return _yaml_lines(content, first)
    for n, ln in enumerate(lines):
        if ln.strip().startswith("#"):
            d = _comment_draft(ln, first + n, "code-comment")
            if d:
                out.append(d)
    for doc in docs:
        if doc is None:
            continue
        try:
            manifest = _looks_like_manifest(yaml.safe_load(yaml.serialize(doc)))
        except yaml.YAMLError:
            manifest = False
        _walk_yaml(doc, [], manifest, first, lines, out)
    return out


def _walk_yaml(node, keys: list[str], manifest: bool, first: int, lines: list[str], out: list[Draft]):
    if isinstance(node, yaml.MappingNode):
        pairs = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        name = pairs.get("name")
        if isinstance(name, yaml.ScalarNode) and _ENV_NAME.match(str(name.value)) and \
                ("value" in pairs or "valueFrom" in pairs):
            out.append(_data_draft(name.start_mark.line, first, lines, [Anchor(Kind.SYMBOL, name.value, "env")]))
            return
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                continue
            key = str(k.value)
            anchors = []
            if _ENV_NAME.match(key):
                anchors.append(Anchor(Kind.SYMBOL, key, "env"))
                if isinstance(v, yaml.ScalarNode) and str(v.value).startswith("/") and " " not in str(v.value) \
                        and re.search(r"path|route|endpoint|url", key, re.I) and "." not in str(v.value)[-6:]:
                    d = _data_draft(k.start_mark.line, first, lines, [Anchor(Kind.ENDPOINT, f"ANY {v.value}")])
                    d.prio = USAGE  # a value in a sample: the weakest statement of the endpoint
                    out.append(d)
            elif not manifest and isinstance(v, yaml.ScalarNode) and re.match(r"^[A-Za-z_][\w-]*$", key):
                dotted = ".".join(keys + [key])
                anchors.append(Anchor(Kind.SYMBOL, dotted, "config"))
            if anchors:
                out.append(_data_draft(k.start_mark.line, first, lines, anchors))
            _walk_yaml(v, keys + [key], manifest, first, lines, out)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and manifest:
                m = _ENV_LINE.match(str(item.value))
                if m:
                    out.append(_data_draft(item.start_mark.line, first, lines, [Anchor(Kind.SYMBOL, m.group(1), "env")]))
            else:
                _walk_yaml(item, keys, manifest, first, lines, out)


_YAML_ENV_KEY = re.compile(r"^\s*(?:-\s+)?(?:name:\s*)?[\"']?(?P<key>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[\"']?\s*(?::\s*(?P<v>.*))?$")


def _yaml_lines(content: str, first: int) -> list[Draft]:
    """YAML the loader refuses (snippets with typos): read UPPER_SNAKE keys line by line."""
    out = []
    lines = content.splitlines()
    for n, ln in enumerate(lines):
        m = _YAML_ENV_KEY.match(ln.split(" #")[0])
        if not m:
            continue
        out.append(_data_draft(n, first, lines, [Anchor(Kind.SYMBOL, m.group("key"), "env")]))
        v = (m.group("v") or "").strip().strip("\"'")
        if v.startswith("/") and " " not in v and re.search(r"path|route|endpoint|url", m.group("key"), re.I):
            d = _data_draft(n, first, lines, [Anchor(Kind.ENDPOINT, f"ANY {v}")])
            d.prio = USAGE
            out.append(d)
    for n, ln in enumerate(lines):
        if ln.strip().startswith("#"):
            d = _comment_draft(ln, first + n, "code-comment")
            if d:
                out.append(d)
    return out


def _data_draft(line0: int, first: int, lines: list[str], anchors: list[Anchor], origin: str = "code:yaml") -> Draft:
    src = lines[line0] if line0 < len(lines) else ""
    comment = src.split(" #", 1)[1] if " #" in src else ""
    return Draft(first + line0, anchors, src.strip(), key_terms(comment) if comment else [], origin, prio=SAMPLE)


def _json(content: str, first: int) -> list[Draft]:
    try:
        json.loads(content)
    except ValueError:
        return []
    return _yaml(content, first)  # JSON is YAML: the composer gives the lines


def _toml(content: str, first: int) -> list[Draft]:
    try:
        tomllib.loads(content)
    except tomllib.TOMLDecodeError:
        return []
    return _ini(content, first)


def _env(content: str, first: int) -> list[Draft]:
    out = []
    lines = content.splitlines()
    for n, ln in enumerate(lines):
        m = _ENV_LINE.match(ln)
        if m:
            out.append(_data_draft(n, first, lines, [Anchor(Kind.SYMBOL, m.group(1), "env")], "code:env"))
        elif ln.strip().startswith("#"):
            d = _comment_draft(ln, first + n, "code-comment")
            if d:
                out.append(d)
    return out


def _ini(content: str, first: int) -> list[Draft]:
    out = []
    section = ""
    lines = content.splitlines()
    for n, ln in enumerate(lines):
        s = ln.strip()
        if s.startswith("[") and s.endswith("]"):
            section = s.strip("[]").strip()
            continue
        m = re.match(r"^([A-Za-z_][\w.-]*)\s*[=:]", s)
        if m:
            key = m.group(1)
            anchor = Anchor(Kind.SYMBOL, key, "env") if _ENV_NAME.match(key) else \
                Anchor(Kind.SYMBOL, f"{section}.{key}" if section else key, "config")
            out.append(_data_draft(n, first, lines, [anchor], "code:config"))
    return out


# ---- shell ---------------------------------------------------------------------------------------
_THIRD_PARTY_TOOLS = {
    "cd", "ls", "cat", "echo", "cp", "mv", "rm", "mkdir", "touch", "chmod", "sudo", "source", ".", "git", "docker",
    "docker-compose", "kubectl", "helm", "kind", "minikube", "brew", "apt", "apt-get", "yum", "pip", "pip3",
    "pipx", "conda", "npm", "npx", "yarn", "pnpm", "go", "cargo", "rustup", "mvn", "gradle", "java", "node",
    "deno", "bun", "terraform", "aws", "gcloud", "az", "ssh", "scp", "tar", "unzip", "wget", "grep", "sed", "awk",
    "find", "tail", "head", "less", "watch", "export", "set", "unset", "psql", "redis-cli", "mysql", "openssl",
    "jq", "yq", "pytest", "tox", "nox", "ruff", "black", "mypy", "flake8", "uvicorn", "gunicorn", "hypercorn",
    "alembic", "celery", "streamlit", "flask", "django-admin", "http", "https", "curl", "systemctl", "journalctl",
    "open", "code", "vim", "nano", "exit", "time", "env", "xargs", "sort", "uniq", "wc", "diff", "kill", "ps",
    "top", "nc", "ping", "dig", "base64", "sha256sum", "shasum", "gpg", "make", "just", "task", "uv", "poetry",
    "pre-commit", "hatch", "pdm", "rye", "python", "python3", "py", "ipython", "gh", "hub", "kustomize", "skaffold",
    "tilt", "k6", "locust", "ab", "wrk", "hey", "vegeta", "bash", "sh", "zsh",
}
_RUNNERS = {"uv": "run", "poetry": "run", "pipenv": "run", "hatch": "run", "pdm": "run", "rye": "run"}


def _shell_lines(content: str) -> list[tuple[int, str]]:
    """Logical command lines (backslash continuations joined), prompts stripped."""
    out, buf, start = [], "", 0
    for n, raw in enumerate(content.splitlines()):
        ln = raw.rstrip()
        if not buf:
            start = n
            s = ln.lstrip()
            if s.startswith(("$ ", "% ", "> ", "PS> ")):
                ln = s.split(" ", 1)[1]
        if ln.endswith("\\"):
            buf += ln[:-1] + " "
            continue
        buf += ln
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def _shell(content: str, first: int) -> list[Draft]:
    out = []
    for n, cmd in _shell_lines(content):
        if cmd.startswith("#"):
            out_ = re.match(r"^#\s*(?:→|->|=>|returns?:?|output:?|prints?:?)\s*(.+)$", cmd, re.I)
            if out_:  # "# → {"error": "unauthorized"}": the output the command must give
                lit = re.findall(r"\"([^\"]{3,60})\"", out_.group(1))
                words = [w for w in lit if not re.match(r"^[a-z_]+$", w) or len(lit) == 1]
                if words:
                    out.append(Draft(first + n, [Anchor(Kind.LITERAL, words[-1], "output")], cmd, [], "code:shell",
                                     low=True, prio=SAMPLE))
            continue  # a caption for the command below it ("# with chaos mode"), not a requirement
        code, _, comment = cmd.partition(" #")
        for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", code):
            d = _command(part, first + n)
            if d:
                d.terms = key_terms(comment) if comment else []
                out.append(d)
    return out


def _command(cmd: str, line: int) -> Draft | None:
    try:
        words = shlex.split(cmd, comments=False)
    except ValueError:
        words = cmd.split()
    anchors: list[Anchor] = []
    while words and _ENV_LINE.match(words[0]):  # VAR=value cmd …
        anchors.append(Anchor(Kind.SYMBOL, _ENV_LINE.match(words[0]).group(1), "env"))
        words = words[1:]
    if not words:
        return Draft(line, anchors, cmd, [], "code:shell", prio=SAMPLE) if anchors else None
    prog = words[0]
    if prog == "export" and len(words) > 1:
        m = _ENV_LINE.match(" ".join(words[1:]))
        return Draft(line, [Anchor(Kind.SYMBOL, m.group(1), "env")], cmd, [], "code:shell", prio=SAMPLE) if m else None
    if prog in _RUNNERS and len(words) > 2 and words[1] == _RUNNERS[prog]:
        words = words[2:]
        prog = words[0]
    if prog in ("curl", "http", "https", "wget", "xh"):
        return _http_client(words, cmd, line, anchors)
    if prog in ("python", "python3", "py") and len(words) > 1:
        rest = words[1:]
        while rest and rest[0].startswith("-") and rest[0] != "-m":
            rest = rest[1:]
        if not rest:
            return None
        if rest[0] == "-m" and len(rest) > 1:
            target, args = rest[1], rest[2:]
            if target.split(".")[0] in _STDLIB or target in ("pip", "pytest", "venv", "http.server", "uvicorn",
                                                             "streamlit", "black", "mypy", "ruff", "build", "twine"):
                return None
            return _cmd_draft(line, cmd, "python -m", target, args, anchors)
        if _FILE_EXT.search(rest[0]):
            return _cmd_draft(line, cmd, "python", rest[0], rest[1:], anchors)
        return None
    if prog in ("make", "just", "task") and len(words) > 1:
        targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if targets:
            return Draft(line, anchors + [Anchor(Kind.COMMAND, f"{prog} {targets[0]}", prog, parts=(targets[0],))],
                         cmd, [], "code:shell", prio=SAMPLE)
        return None
    if prog in ("npm", "yarn", "pnpm", "bun") and len(words) > 1:
        if words[1] == "run":
            named = [w for w in words[2:] if not w.startswith("-")]
            if not named:
                return None  # `bun run` alone lists the scripts: nothing to check
            script = named[0]
        else:
            script = words[1]
        if words[1] == "run" or prog != "npm" and not script.startswith("-") and script not in (
                "install", "add", "remove", "init", "create", "dlx", "exec", "test", "build", "start", "dev"):
            return Draft(line, anchors + [Anchor(Kind.COMMAND, f"{prog} run {script}", "npm", parts=(script,))],
                         cmd, [], "code:shell", prio=SAMPLE)
        return None
    if prog in ("bash", "sh", "zsh", "source", ".") and len(words) > 1 and _FILE_EXT.search(words[1]):
        return _cmd_draft(line, cmd, prog, words[1], words[2:], anchors)
    if prog.startswith(("./", "bin/", "scripts/")) or ("/" in prog and _FILE_EXT.search(prog)):
        return _cmd_draft(line, cmd, "", prog, words[1:], anchors)
    if prog in _THIRD_PARTY_TOOLS or not re.match(r"^[a-z][\w.-]*$", prog):
        files = [w for w in words[1:] if _FILE_EXT.search(w) and not w.startswith(("-", "/", "~", "$", "http"))]
        if files:  # `streamlit run main.py`: the file must exist
            return Draft(line, anchors + [Anchor(Kind.PATH, files[0].lstrip("./") if files[0].startswith("./")
                                                 else files[0])], cmd, [], "code:shell", prio=SAMPLE)
        return Draft(line, anchors, cmd, [], "code:shell", prio=SAMPLE) if anchors else None
    # an unknown program: perhaps the project's own command-line tool (checked against the repository)
    return _cmd_draft(line, cmd, "program", prog, words[1:], anchors)


def _cmd_draft(line: int, cmd: str, runner: str, target: str, args: list[str], env: list[Anchor]) -> Draft:
    sub: list[str] = []
    flags: list[str] = []
    for i, w in enumerate(args):
        w = w.strip("[]")
        if w.startswith("--") and len(w) > 2:
            flags.append(w.split("=", 1)[0])
        elif w.startswith("-") or _PLACEHOLDER.match(w) or "=" in w or "/" in w or "." in w:
            continue
        elif not flags and len(sub) < 3 and re.match(r"^[a-z][\w-]*$", w) and (not sub or i == len(sub)):
            sub.append(w)  # leading bare words: a subcommand (and sub-subcommands, or values)
    target = target[2:] if target.startswith("./") else target
    parts = tuple([target] + sub + flags)
    value = " ".join(x for x in ([runner] if runner and runner != "program" else []) + list(parts))
    return Draft(line, env + [Anchor(Kind.COMMAND, value, runner or "script", parts=parts)], cmd, [], "code:shell", prio=SAMPLE)


# Hosts that serve code, packages and cloud APIs: a request to them fetches something, it is not a route the
# project serves (its own API is reached at localhost, a variable, or a placeholder domain)
_PUBLIC_HOST = re.compile(r"(?:^|\.)(?:github\.com|githubusercontent\.com|gitlab\.com|bitbucket\.org|pypi\.org|"
                          r"pythonhosted\.org|npmjs\.(?:com|org)|docker\.(?:io|com)|quay\.io|gcr\.io|ghcr\.io|"
                          r"googleapis\.com|amazonaws\.com|azure\.com|microsoft\.com|google\.com|cloudflare\.com|"
                          r"openai\.com|anthropic\.com|slack\.com|notion\.com|sh\.rustup\.rs|golang\.org|go\.dev|"
                          r"astral\.sh|get\.docker\.com|deb\.nodesource\.com|brew\.sh|hashicorp\.com)$", re.I)
_DOWNLOAD = re.compile(r"\.(?:tar\.gz|tgz|tar\.xz|zip|deb|rpm|exe|msi|dmg|pkg|whl|jar|sh|ps1|gz|bz2|xz|7z|"
                       r"AppImage|iso)$", re.I)


def _http_client(words: list[str], cmd: str, line: int, env: list[Anchor]) -> Draft | None:
    method = None
    for i, w in enumerate(words):
        if w in ("-X", "--request") and i + 1 < len(words):
            method = words[i + 1].upper()
        elif w.upper() in _METHODS.split("|") and i == 1:
            method = w.upper()
    for w in words[1:]:
        m = re.match(r"^(?:https?://)?(localhost|127\.0\.0\.1|0\.0\.0\.0|\$\{?\w+\}?|[\w.-]+\.\w+)(?::\d+)?(/[^\s?#]*)", w)
        if m and (_PUBLIC_HOST.search(m.group(1)) or _DOWNLOAD.search(m.group(2)) or
                  words[0] == "wget" and not re.match(r"localhost|127\.|0\.0\.|\$", m.group(1))):
            return Draft(line, env, cmd, [], "code:shell", prio=SAMPLE) if env else None  # a download, not a route
        if m and len(m.group(2)) > 1:
            if method is None:
                method = "POST" if any(x in words for x in ("-d", "--data", "--data-raw", "-F", "--json")) else "GET"
            return Draft(line, env + [Anchor(Kind.ENDPOINT, f"{method} {m.group(2)}")], cmd, [], "code:shell", prio=SAMPLE)
    return Draft(line, env, cmd, [], "code:shell", prio=SAMPLE) if env else None


# ---- HTTP, mermaid, trees, drawings ----------------------------------------------------------------
def _http(content: str, first: int) -> list[Draft]:
    out = []
    for n, ln in enumerate(content.splitlines()):
        m = _HTTP_LINE.match(ln)
        if m:
            out.append(Draft(first + n, [Anchor(Kind.ENDPOINT, f"{m.group(1)} {m.group(2).split('?')[0]}")],
                             ln.strip(), [], "code:http", prio=SAMPLE))
    return out


_MERMAID_STATE = re.compile(r"^\s*(\[\*\]|[\w.]+)\s*-+>\s*(\[\*\]|[\w.]+)\s*(?::\s*(.*))?$")
_MERMAID_MSG = re.compile(r"^\s*[\w .]+?\s*-[-)x>]*>[>+-]?\s*[\w .]+?\s*:\s*(.+)$")


def _mermaid(content: str, first: int) -> list[Draft]:
    lines = content.splitlines()
    kind = (lines[0].strip().split() or [""])[0] if lines else ""
    out = []
    seen: set[str] = set()
    states = tuple(dict.fromkeys(st for ln in lines[1:] for m in [_MERMAID_STATE.match(ln)] if m
                                 for st in (m.group(1), m.group(2)) if st != "[*]"))
    for n, ln in enumerate(lines[1:], start=1):
        if kind.startswith("stateDiagram"):
            m = _MERMAID_STATE.match(ln)
            if not m:
                continue
            # each state carries the diagram's states: together they say which enum the diagram draws
            anchors = [Anchor(Kind.SYMBOL, st, "state", parts=states) for st in (m.group(1), m.group(2))
                       if st != "[*]"]
            terms = key_terms(m.group(3) or "")
            fresh = [a for a in anchors if a.value not in seen]
            seen.update(a.value for a in anchors)
            if fresh or terms:  # a transition: the states it introduces (or both), and its label's words
                out.append(Draft(first + n, fresh or anchors, ln.strip(), terms, "diagram", low=True, prio=SAMPLE,
                                 group=True))
        elif kind.startswith("sequenceDiagram"):
            m = _MERMAID_MSG.match(ln)
            if not m:
                continue
            msg = m.group(1)
            anchors = [Anchor(Kind.ENDPOINT, f"{e.group(1)} {e.group(2).rstrip('.,;:')}")
                       for e in _ENDPOINT_IN.finditer(msg)]
            anchors += [Anchor(Kind.SYMBOL, c[:-2], "function") for c in re.findall(r"\b[A-Za-z_]\w*\(\)", msg)]
            out.append(Draft(first + n, anchors, ln.strip(), key_terms(msg) if not anchors else [], "diagram",
                             low=True, prio=DRAWING))
    return [d for d in out if d.anchors or len(d.terms) >= 2]


_TREE_ENTRY = re.compile(r"^(?P<prefix>(?:[│\s]|\|(?!--))*+)(?:[├└]──+|[|`]--+)\s*(?P<name>[^\s#]+)\s*(?:#\s*(?P<c>.*))?$")


def _tree(content: str, first: int) -> list[Draft]:
    """An ASCII file tree: each entry's full path from its depth, with its comment as terms."""
    out = []
    stack: list[tuple[int, str]] = []  # (depth, folder)
    root = ""
    for n, ln in enumerate(content.splitlines()):
        m = _TREE_ENTRY.match(ln)
        if not m:
            s = ln.strip().split("#")[0].strip()
            if s and not stack and re.match(r"^[\w.\-/]+/?$", s) and not root:
                root = s.rstrip("/")
                if root in (".", "..") or root.lower() in ("root", "project", "repo", "repository"):
                    root = ""
            continue
        depth = len(m.group("prefix").expandtabs(4)) // 4
        name = m.group("name").rstrip("/")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents = [f for _, f in stack]
        full = "/".join(([root] if root else []) + parents + [name])
        is_dir = m.group("name").endswith("/") or not ("." in name and not name.startswith("."))
        if is_dir:
            stack.append((depth, name))
        if name in ("...", "…") or "*" in name or "<" in name or "{" in name:
            continue
        terms = key_terms(m.group("c") or "")
        out.append(Draft(first + n, [Anchor(Kind.PATH, full + ("/" if is_dir else ""))], ln.strip(), terms, "tree",
                         prio=SAMPLE))
    return out


def _drawing(content: str, first: int) -> list[Draft]:
    """Boxes and arrows: only the code-looking words inside them count (snake_case, CamelCase,
    UPPER_CASE, call() and kebab-case names), as weak anchors."""
    out = []
    for n, ln in enumerate(content.splitlines()):
        anchors = []
        for tok in _CODEISH.findall(ln):
            if tok.endswith("()"):
                anchors.append(Anchor(Kind.SYMBOL, tok[:-2], "function"))
            elif "-" in tok:
                anchors.append(Anchor(Kind.LITERAL, tok, "name"))
            elif _ENV_NAME.match(tok):
                anchors.append(Anchor(Kind.SYMBOL, tok, "constant"))
            else:
                anchors.append(Anchor(Kind.SYMBOL, tok, "identifier"))
        words = re.sub(r"[^\w\s/()'-]", " ", ln)
        if anchors:
            out.append(Draft(first + n, list(dict.fromkeys(anchors)), ln.strip(), key_terms(words), "diagram",
                             low=True, prio=DRAWING, group=True))
        elif len(key_terms(words)) >= 3:  # a step of a flow drawn in words
            out.append(Draft(first + n, [], " ".join(words.split()), key_terms(words), "code-comment", low=True))
    return out


def _text(content: str, first: int) -> list[Draft]:
    lines = content.splitlines()
    if sum(1 for ln in lines if _ENV_LINE.match(ln)) >= max(1, len(lines) // 2):
        return _env(content, first)
    return []


_READERS = {
    "sql": _sql, "yaml": _yaml, "json": _json, "toml": _toml, "env": _env, "ini": _ini, "shell": _shell,
    "http": _http, "mermaid": _mermaid, "tree": _tree, "diagram": _drawing, "text": _text,
}
