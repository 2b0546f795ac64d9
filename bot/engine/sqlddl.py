"""``CREATE TABLE`` statements in any text: the tables a migration or a string in code creates, and
their columns. A scanner, not an SQL parser: it reads the statement head and the column list and
skips table constraints, which is what a spec naming a table or a column needs."""
from __future__ import annotations

import re
from dataclasses import dataclass

_CREATE = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:(?:global\s+|local\s+)?temp(?:orary)?\s+|unlogged\s+|virtual\s+)?table\s+"
    r"(?:if\s+not\s+exists\s+)?(?P<name>(?:[`\"\[]?[\w$]+[`\"\]]?\s*\.\s*)*[`\"\[]?[\w$]+[`\"\]]?)\s*(?P<open>\()?",
    re.IGNORECASE)
_NOT_COLUMN = re.compile(r"(?:constraint|primary|foreign|unique|check|index|key|exclude|like|fulltext|spatial|"
                         r"period)\b", re.IGNORECASE)
_COLUMN = re.compile(r"(?P<name>`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|[\w$]+)")
_LEAD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)
MAX_BODY = 20_000


@dataclass(frozen=True)
class Table:
    name: str
    offset: int  # of the table name in the text
    end: int  # just past the column list (or the name)
    columns: tuple[tuple[str, int], ...]  # (column, offset)


def has_ddl(text: str) -> bool:
    return ("table" in text or "TABLE" in text or "Table" in text) and _CREATE.search(text) is not None


def tables(text: str) -> list[Table]:
    out = []
    for m in _CREATE.finditer(text):
        name = _unquote(re.split(r"\s*\.\s*", m.group("name"))[-1])
        if not m.group("open"):
            out.append(Table(name, m.start("name"), m.end("name"), ()))
            continue
        body_start = m.end()
        cols, end = _columns(text, body_start)
        out.append(Table(name, m.start("name"), end, tuple(cols)))
    return out


def _columns(text: str, start: int) -> tuple[list[tuple[str, int]], int]:
    """Split the parenthesised list at top-level commas; the first word of each item is a column
    unless the item is a table constraint."""
    cols: list[tuple[str, int]] = []
    depth, item_start, quote = 0, start, ""
    limit = min(len(text), start + MAX_BODY)
    i = start
    while i < limit:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch in ",)" and not depth:
            _item(text, item_start, i, cols)
            if ch == ")":
                return cols, i + 1
            item_start = i + 1
        i += 1
    return cols, i


def _item(text: str, start: int, end: int, cols: list) -> None:
    lead = _LEAD.match(text, start, end)
    pos = lead.end() if lead else start
    if _NOT_COLUMN.match(text, pos, end):
        return
    m = _COLUMN.match(text, pos, end)
    if m:
        name = _unquote(m.group("name"))
        if name and not name.isdigit():
            cols.append((name, m.start("name")))


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] in "`\"[" and name[-1] in "`\"]":
        return name[1:-1]
    return name
