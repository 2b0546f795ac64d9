"""Configuration and infrastructure files as evidence: YAML, JSON, TOML, env and INI files,
Dockerfiles, Compose files, shell and PowerShell scripts.

A feature whose code globs name such files (a deployment feature, a CI action, a settings file)
is implemented partly or wholly in them. They have no rule pack — they define no routes or
classes — but they do define names: keys, environment variables, build arguments, script
functions. This reader indexes those names (``defs``), the values (``strings``) and their words
(one region), so requirements about them are checked like any other.
"""
from __future__ import annotations

import json
import posixpath
import re
import tomllib

import yaml

DATA_EXTENSIONS = {".yml", ".yaml", ".json", ".toml", ".env", ".ini", ".cfg", ".conf", ".properties", ".sh",
                   ".bash", ".ps1", ".psm1", ".tf", ".tfvars", ".hcl"}
DATA_NAMES = re.compile(r"(?:^|/)(?:Dockerfile(?:\.[\w.-]+)?|[\w.-]*\.Dockerfile|Containerfile|\.env(?:\.[\w.-]+)?|"
                        r"[\w.-]*compose[\w.-]*\.ya?ml|Procfile|Vagrantfile|Jenkinsfile)$")
MAX_DATA = 512_000

_KEY_LINE = re.compile(r"^\s*(?:-\s+)?[\"']?([A-Za-z_][\w.-]*)[\"']?\s*[:=]")
_ENV_LINE = re.compile(r"^\s*(?:export\s+|set\s+|\$env:)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_DOCKER = re.compile(r"^\s*(ENV|ARG|LABEL|EXPOSE|ENTRYPOINT|CMD|FROM|COPY|RUN|WORKDIR)\s+(.*)$", re.I)
_SHELL_FN = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*(?:\(\s*\))?\s*\{", re.M)
_PS_FN = re.compile(r"^\s*function\s+([\w-]+)", re.I | re.M)
_QUOTED = re.compile(r"\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'")
_WORD = re.compile(r"[A-Za-z_][\w-]*")


_NAME_STARTS = ("dockerfile", "containerfile", ".env", "procfile", "vagrantfile", "jenkinsfile")


def is_data(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    if dot > 0 and base[dot:].lower() in DATA_EXTENSIONS:
        return True
    low = base.lower()
    return (low.startswith(_NAME_STARTS) or "compose" in low or low.endswith(".dockerfile")) and \
        bool(DATA_NAMES.search(path))


def index_data(path: str, text: str, make, region, split, infra: bool = False) -> object:
    """``make(**fields)`` builds the FileIndex, ``region(name, line, end, words)`` a Region and
    ``split(s)`` splits an identifier; passed in so this module needs nothing from the index.
    ``infra``: a rule pack's infrastructure rule claims the file (its language is then "infra")."""
    defs: dict[str, int] = {}
    strings: dict[str, int] = {}
    ext = posixpath.splitext(path)[1].lower()
    lines = text.splitlines()

    def define(name: str, line: int):
        if name and name not in defs:
            defs[name] = line

    def value(v: str, line: int):
        v = v.strip().strip("\"'")
        if 0 < len(v) <= 200 and v not in strings:
            strings[v] = line

    base = posixpath.basename(path)
    if ext in (".yml", ".yaml", ".json") or (ext == "" and "compose" in base):
        _structured(text, define, value)
    if ext == ".toml":
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            pass
    for n, ln in enumerate(lines, start=1):
        s = ln.strip()
        if not s or s.startswith(("#", "//", ";")):
            continue
        m = _DOCKER.match(ln) if base.lower().startswith(("dockerfile", "containerfile")) or \
            base.endswith(".Dockerfile") else None
        if m:
            word, rest = m.group(1).upper(), m.group(2)
            if word in ("ENV", "ARG", "LABEL"):
                for part in re.split(r"\s+(?=[A-Za-z_][\w.]*=)", rest):
                    define(part.split("=", 1)[0].split()[0], n)
                    if "=" in part:
                        value(part.split("=", 1)[1], n)
            elif word == "EXPOSE":
                for port in rest.split():
                    value(port, n)
            else:
                value(rest, n)
            continue
        m = _ENV_LINE.match(ln)
        if m and (ext in (".env", ".properties", ".sh", ".bash", ".ps1", ".ini", ".cfg", ".conf", ".tfvars")
                  or base.startswith(".env")):
            define(m.group(1), n)
            value(m.group(2).split(" #")[0], n)
            continue
        m = _KEY_LINE.match(ln)
        if m and (ext in (".toml", ".ini", ".cfg", ".conf", ".properties", ".tf", ".hcl") or
                  infra and ext not in DATA_EXTENSIONS):  # a format only a pack's infrastructure rule knows
            define(m.group(1), n)
            value(ln.split("=", 1)[-1] if "=" in ln else ln.split(":", 1)[-1], n)
    if ext in (".sh", ".bash") or text.startswith("#!"):
        for m in _SHELL_FN.finditer(text):
            define(m.group(1), text.count("\n", 0, m.start()) + 1)
    if ext in (".ps1", ".psm1"):
        for m in _PS_FN.finditer(text):
            define(m.group(1), text.count("\n", 0, m.start()) + 1)
    for m in _QUOTED.finditer(text):
        value(m.group(1) or m.group(2), text.count("\n", 0, m.start()) + 1)
    tokens = frozenset(_WORD.findall(text))
    words = [w for name in list(defs)[:300] for w in split(name)] + \
            [w for s in list(strings)[:200] for w in split(s)] + split(posixpath.splitext(base)[0])
    regions = (region(base, 1, max(1, len(lines)), tuple(words[:400])),)
    return make(kind="code", lang="infra" if infra else "data", lines=sum(1 for ln in lines if ln.strip()),
                defs=defs, strings=strings, tokens=tokens, regions=regions)


_YAML_LINE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$")


def _lines(text: str, define, value) -> None:
    """Keys and values of YAML that does not parse as it stands (a Helm template: ``{{ … }}``), line by line."""
    for n, ln in enumerate(text.splitlines(), start=1):
        m = _YAML_LINE.match(ln)
        if not m:
            continue
        key, rest = m.group(1), (m.group(2) or "").strip()
        define(key, n)
        if rest and "{{" not in rest and not rest.startswith(("|", ">")):
            value(rest, n)
            if key == "name" and re.match(r"^[A-Z][A-Z0-9_]+$", rest.strip("\"'")):
                define(rest.strip("\"'"), n)  # env: [{name: X, value: …}]


_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> list:
    """The documents' node trees: by libyaml when present (seven times faster, the same nodes and
    lines on every real file tried), else, or when libyaml refuses the text, by the pure loader."""
    if _FAST is not yaml.SafeLoader:
        try:
            return list(yaml.compose_all(text, Loader=_FAST))
        except yaml.YAMLError:
            pass
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def _structured(text: str, define, value, nesting: int = 0) -> None:
    """Keys of a YAML or JSON document (every level), with their lines; scalar values as strings.
    A block of YAML inside a value (a kustomize patch) is read too, at its own lines."""
    try:
        docs = _compose(text)
    except (yaml.YAMLError, RecursionError):  # not YAML, or nested deeper than a parser goes
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            if "{{" in text:
                _lines(text, define, value)
        return

    seen: set[int] = set()
    for d in docs:
        _walk(d, define, value, nesting, seen)


def _walk(node, define, value, nesting: int, seen: set[int], depth: int = 0) -> None:
    """One node of a YAML document for ``_structured``, and the nodes under it (a function of the
    module, not a closure: one that calls itself is a cycle the collector alone would free)."""
    if depth > 40 or id(node) in seen:  # aliases share nodes: visit each once (no alias bombs)
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                define(str(k.value), k.start_mark.line + 1)
                if isinstance(v, yaml.ScalarNode):
                    value(str(v.value), v.start_mark.line + 1)
                    if str(k.value) == "name" and re.match(r"^[A-Z][A-Z0-9_]+$", str(v.value)):
                        define(str(v.value), v.start_mark.line + 1)  # env: [{name: X, value: …}]
                    if nesting < 2 and v.style in ("|", ">") and ":" in str(v.value):
                        at = v.start_mark.line + 1  # a block scalar's text starts on the next line
                        _structured(str(v.value), lambda nm, ln, at=at: define(nm, ln + at),
                                    lambda vl, ln, at=at: value(vl, ln + at), nesting + 1)
            _walk(v, define, value, nesting, seen, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                s = str(item.value)
                m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", s)  # compose environment: ["X=1"]
                if m:
                    define(m.group(1), item.start_mark.line + 1)
                value(s, item.start_mark.line + 1)
            _walk(item, define, value, nesting, seen, depth + 1)
