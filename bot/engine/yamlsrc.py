"""YAML text → Python data plus the line and column of every value, and schema validation
that reports problems as file:line:column, the path to the key, what was expected, and a
"did you mean" for unknown keys."""
from __future__ import annotations

import difflib
import json
import math
from typing import Any

import jsonschema
import yaml

from .. import resources
from .errors import ConfigError, Problem

MAX_NODES = 50_000  # guards against alias bombs ("billion laughs")
MAX_BYTES = 512 * 1024

Marks = dict[tuple, tuple[int, int]]  # path tuple → (line, column), 1-based

SCHEMA_DIR = resources.SCHEMA_DIR


def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES
        self.constructor = yaml.constructor.SafeConstructor()


def parse(text: str, filename: str) -> tuple[Any, Marks]:
    """Parse one YAML document. Raises ConfigError with the line and column of a syntax error."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ConfigError(Problem(filename, 0, 0, "", f"file is larger than {MAX_BYTES // 1024} KiB"))
    try:
        try:  # libyaml when present: several times faster; the pure loader words errors better
            _check_depth(text, filename, _FAST)
            node = yaml.compose(text, Loader=_FAST)
        except yaml.YAMLError:
            if _FAST is yaml.SafeLoader:
                raise
            _check_depth(text, filename)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(Problem(filename, 0, 0, "", f"nested deeper than {MAX_DEPTH} levels")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        hint = ""
        if "{" in msg or "}" in msg:
            hint = "put values that contain { } in quotes, e.g. spec: \"docs/{name}.md\""
        elif "tab" in msg.lower():
            hint = "indent with spaces, not tabs"
        raise ConfigError(Problem(filename, line, col, "", f"invalid YAML: {msg}", hint)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem(filename, 0, 0, "", f"invalid YAML: {exc}")) from None
    marks: Marks = {}
    if node is None:
        return None, marks
    data = _convert(node, (), marks, filename, _Budget())
    return data, marks


MAX_DEPTH = 40  # a driftbot config nests about 5 deep
_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_depth(text: str, filename: str, loader=yaml.SafeLoader) -> None:
    """Refuse a document nested deeper than MAX_DEPTH before the (recursive) YAML composer sees it;
    the scanner that counts is iterative, so a hostile document cannot exhaust the stack here."""
    depth = 0
    for tok in yaml.scan(text, Loader=loader):
        if isinstance(tok, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockSequenceStartToken,
                            yaml.BlockMappingStartToken)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(Problem(filename, tok.start_mark.line + 1, tok.start_mark.column + 1, "",
                                          f"nested deeper than {MAX_DEPTH} levels"))
        elif isinstance(tok, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)):
            depth -= 1


def _convert(node, path: tuple, marks: Marks, filename: str, budget: _Budget):
    budget.left -= 1
    if budget.left < 0:
        raise ConfigError(Problem(filename, node.start_mark.line + 1, node.start_mark.column + 1, "",
                                  f"document expands to more than {MAX_NODES} values (alias bomb?)"))
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for knode, vnode in node.value:
            key = _convert(knode, path + ("<key>",), {}, filename, budget)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise ConfigError(Problem(filename, knode.start_mark.line + 1, knode.start_mark.column + 1,
                                          format_path(path), "mapping keys must be plain strings"))
            key = str(key)
            if key in out:
                raise ConfigError(Problem(filename, knode.start_mark.line + 1, knode.start_mark.column + 1,
                                          format_path(path + (key,)), f"duplicate key '{key}'"))
            marks[path + (key, "<key>")] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _convert(vnode, path + (key,), marks, filename, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, path + (i,), marks, filename, budget) for i, v in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # dates stay text; the schema and the config model parse them
    try:
        value = budget.constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise ConfigError(Problem(filename, node.start_mark.line + 1, node.start_mark.column + 1,
                                  format_path(path), f"invalid value: {exc}")) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(Problem(filename, node.start_mark.line + 1, node.start_mark.column + 1,
                                  format_path(path), f"expected a finite number, got {node.value}"))
    return value


def format_path(path) -> str:
    out = ""
    for p in path:
        if p == "<key>":
            continue
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _type_name(value) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TYPE_WORDS = {"string": "a string", "array": "a list", "object": "a mapping", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "nothing"}


def _expected(schema: dict) -> str:
    if "x-expected" in schema:
        return schema["x-expected"]
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    t = schema.get("type")
    if isinstance(t, list):
        return " or ".join(_TYPE_WORDS.get(x, x) for x in t)
    if t:
        return _TYPE_WORDS.get(t, t)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_expected(s) for s in schema[key])
    return "a valid value"


def validate(data: Any, marks: Marks, schema: dict, filename: str) -> None:
    """Validate against a JSON Schema; raise ConfigError listing every problem, in file order."""
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[Problem] = []
    for err in validator.iter_errors(data):
        problems.extend(_explain(err, marks, filename))
    if problems:
        problems.sort(key=lambda p: (p.line, p.column))
        # one problem per place is enough
        seen, unique = set(), []
        for p in problems:
            if (p.line, p.column, p.path) not in seen:
                seen.add((p.line, p.column, p.path))
                unique.append(p)
        raise ConfigError(unique)


def _mark(marks: Marks, path: tuple) -> tuple[int, int]:
    while path and path not in marks:
        path = path[:-1]
    return marks.get(path, (0, 0))


def _explain(err: jsonschema.ValidationError, marks: Marks, filename: str) -> list[Problem]:
    path = tuple(err.absolute_path)
    line, col = _mark(marks, path)
    where = format_path(path)
    v = err.validator
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        out = []
        for key in err.instance:
            if key in allowed:
                continue
            kl, kc = _mark(marks, path + (key, "<key>"))
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else ("allowed keys: " + ", ".join(allowed))
            if any(ch in key for ch in "()$"):  # `{pattern: f($A, $B)}`: the comma ended the value
                hint = "in a { … } mapping, quote a value that holds a comma"
            out.append(Problem(filename, kl, kc, format_path(path + (key,)), f"unknown key '{key}'", hint))
        return out
    if v == "required":
        missing = [k for k in err.validator_value if k not in (err.instance or {})]
        return [Problem(filename, line, col, where, f"missing required key '{k}'") for k in missing]
    if v in ("anyOf", "oneOf") and err.context:
        # the one alternative of the value's own type (a mapping, say) says best what is wrong inside it
        by_alt: dict[int, list] = {}
        for sub in err.context:
            by_alt.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [subs for subs in by_alt.values()
                   if not any(e.validator == "type" and not e.relative_path for e in subs)]
        if len(fitting) == 1:
            return [p for e in fitting[0] for p in _explain(e, marks, filename)]
        return [Problem(filename, line, col, where, f"expected {_expected(err.schema)}, got {_type_name(err.instance)}")]
    if v == "type" or v == "enum" or v == "const":
        return [Problem(filename, line, col, where, f"expected {_expected(err.schema)}, got {_type_name(err.instance)}")]
    if v == "pattern":
        desc = err.schema.get("x-expected") or f"text matching {err.validator_value}"
        return [Problem(filename, line, col, where, f"expected {desc}, got {_type_name(err.instance)}")]
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [Problem(filename, line, col, where, f"expected {_expected(err.schema)} ({v} {err.validator_value}), got {err.instance!r}")]
    if v in ("minItems", "minLength", "minProperties"):
        return [Problem(filename, line, col, where, "must not be empty")]
    if v == "format":
        return [Problem(filename, line, col, where, f"expected a {err.validator_value} (e.g. 2027-01-31), got {_type_name(err.instance)}")]
    msg = err.message if len(err.message) < 200 else err.message[:200] + "…"
    return [Problem(filename, line, col, where, msg)]
