"""The repository's config (``.github/driftbot.yml`` or ``.driftbot.yml``), validated into a model."""
from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from dataclasses import dataclass, field

import yaml

from . import globs, rules as rules_mod, yamlsrc
from .errors import ConfigError, Problem
from .snapshot import Snapshot, decode

MAX_CUSTOM_PACKS = 10  # rule pack files one repository may bring
CONFIG_PATHS = (".github/driftbot.yml", ".github/driftbot.yaml", ".driftbot.yml", ".driftbot.yaml")
# Derived from the labelled development set (docs/accuracy.md, "Scoring"): what a spec asks for carries most
DEFAULT_WEIGHTS = {"requirements": 70.0, "code": 9.0, "tests": 9.0, "markers": 6.0, "wiring": 6.0}
DEFAULT_MARKER_COST = 0.2


@dataclass(frozen=True)
class FeatureDecl:
    id: str
    spec: tuple[str, ...]
    code: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    wired_from: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class PatternDecl:
    spec: str
    code: tuple[str, ...]
    tests: tuple[str, ...] = ()
    wired_from: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class DocumentDecl:
    """A document whose structure defines features: its headings, its table rows or its epics."""

    spec: tuple[str, ...]
    split: str = "none"  # none | headings | rows | epics
    level: int | None = None
    code: tuple[str, ...] = ()  # where to look (default: the repository's source)
    tests: tuple[str, ...] = ()
    id: str = ""  # prefix of the features' ids (default: the document's name)
    line: int = 0


@dataclass(frozen=True)
class Waiver:
    fingerprint: str
    reason: str
    until: _dt.date | None = None
    line: int = 0

    def active(self, today: _dt.date | None) -> bool:
        return self.until is None or today is None or today <= self.until


DEFAULT_ISSUE_KINDS = ("missing", "claimed-done", "no-code", "not-wired")


@dataclass(frozen=True)
class AppPolicy:
    """How the GitHub App reports: the check's conclusion, the PR comment, gap issues."""

    fail_on: tuple[str, ...] = ()
    max_drift_increase: int = 0
    annotations: int = 200
    comment_mode: str = "on-change"
    issues_enabled: bool = True
    issue_labels: tuple[str, ...] = ("drift",)
    issue_kinds: tuple[str, ...] = DEFAULT_ISSUE_KINDS
    dashboard: bool = True
    assign_owners: bool | None = None  # assign gap issues to the code owners; None: yes, unless a fork


@dataclass
class Config:
    source: str | None = None  # path of the config file, None when absent
    features: list[FeatureDecl] = field(default_factory=list)
    patterns: list[PatternDecl] = field(default_factory=list)
    documents: list[DocumentDecl] = field(default_factory=list)
    discover: bool = True
    exclude: tuple[str, ...] = ()
    packs: list[str] | None = None
    custom_packs: list[rules_mod.RulePack] = field(default_factory=list)
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    marker_cost: float = DEFAULT_MARKER_COST
    waivers: list[Waiver] = field(default_factory=list)
    policy: AppPolicy = field(default_factory=AppPolicy)
    raw: dict = field(default_factory=dict)  # the validated mapping, for sections other layers read
    marks: dict = field(default_factory=dict)


def _list(v) -> tuple[str, ...]:
    if v is None:
        return ()
    return (v,) if isinstance(v, str) else tuple(v)


def find_config_path(paths) -> str | None:
    present = set(paths)
    for p in CONFIG_PATHS:
        if p in present:
            return p
    return None


def config_inputs(snapshot: Snapshot, explicit_path: str | None = None, *, packs: bool = True) -> list[str]:
    """The files ``load_from_snapshot`` reads, as far as they are known: the config file and, once its
    text is at hand, the rule packs it names. A partial snapshot (the App's) is filled with these,
    then asked again, until nothing new is needed."""
    path = explicit_path or find_config_path(snapshot.paths())
    if path is None or snapshot.entry(path) is None:
        return []
    if not packs or not snapshot.available(path):
        return [path]
    dec = decode(snapshot.read(path))
    return [path] + ([] if dec.binary else _custom_pack_paths(dec.text, path, snapshot))


def _custom_pack_paths(text: str, path: str, snapshot: Snapshot) -> list[str]:
    """Files that `rules.custom` names, read from the raw YAML (errors are left to parse_config)."""
    try:
        data, _ = yamlsrc.parse(text, path)
    except ConfigError:
        return []
    return _custom_pack_paths_of(data, snapshot)


def _custom_pack_paths_of(data, snapshot: Snapshot) -> list[str]:
    rules_cfg = data.get("rules") if isinstance(data, dict) else None
    custom = rules_cfg.get("custom") if isinstance(rules_cfg, dict) else None
    pats = [custom] if isinstance(custom, str) else [c for c in custom or [] if isinstance(c, str)] \
        if isinstance(custom, list) else []
    found = [p for p in snapshot.paths() if any(globs.match(g, p) for g in pats)]
    return found if len(found) <= MAX_CUSTOM_PACKS else []  # too many: parse_config says so


def _pack_problems(data, snapshot: Snapshot | None) -> list[Problem]:
    """What is wrong in the rule pack files a config names, read even when the config itself has errors."""
    if snapshot is None:
        return []
    out: list[Problem] = []
    for path in _custom_pack_paths_of(data, snapshot):
        dec = decode(snapshot.read(path)) if snapshot.available(path) else None
        if dec is None or dec.binary:
            continue
        try:
            rules_mod.load_pack(dec.text, path, trusted=False)
        except ConfigError as exc:
            out.extend(exc.problems)
    return out


def load_from_snapshot(snapshot: Snapshot, explicit_path: str | None = None, *, packs: bool = True) -> Config:
    """The config the repository declares, or the default (discovery) when it declares none. The
    CLI and the App both load configs here. ``packs=False``: an untrusted config (a pull request's)
    is checked, never run — the rule packs it names are not loaded."""
    path = explicit_path or find_config_path(snapshot.paths())
    if path is None:
        return Config()
    if path not in snapshot or snapshot.entry(path) is None:
        raise ConfigError(Problem(path, 0, 0, "", "config file could not be read (missing, too large or not a file)"))
    dec = decode(snapshot.read(path))
    if dec.binary:
        raise ConfigError(Problem(path, 0, 0, "", "config file is binary, expected YAML text"))
    return parse_config(dec.text, path, snapshot, packs=packs)


def parse_config(text: str, filename: str, snapshot: Snapshot | None = None, *, packs: bool = True) -> Config:
    """The config in ``text``. With ``packs=False`` the rule packs the repository brings are not loaded
    (nor their names checked): a config that is only being checked, or edited, runs nothing it names."""
    data, marks = yamlsrc.parse(text, filename)
    if data is None:
        raise ConfigError(Problem(filename, 1, 1, "", "config is empty", "start with `version: 1`"))
    if not isinstance(data, dict):
        raise ConfigError(Problem(filename, 1, 1, "", f"expected a mapping of settings, got {yamlsrc._type_name(data)}"))
    try:
        yamlsrc.validate(data, marks, yamlsrc.load_schema("driftbot.schema.json"), filename)
    except ConfigError as exc:  # say the rule packs' problems too, so one pass shows them all
        raise ConfigError(list(exc.problems) + (_pack_problems(data, snapshot) if packs else [])) from None
    problems: list[Problem] = []

    def at(path: tuple) -> tuple[int, int]:
        return yamlsrc._mark(marks, path)

    def check_globs(values, path):
        for i, g in enumerate(_list(values)):
            reason = globs.check(g)
            if reason:
                p = path + ((i,) if not isinstance(values, str) else ())
                problems.append(Problem(filename, *at(p), yamlsrc.format_path(p), reason))

    cfg = Config(source=filename, raw=data, marks=marks)
    seen_ids: dict[str, int] = {}
    for i, f in enumerate(data.get("features", [])):
        base = ("features", i)
        if f["id"] in seen_ids:
            problems.append(Problem(filename, *at(base + ("id",)), yamlsrc.format_path(base + ("id",)),
                                    f"duplicate feature id '{f['id']}' (also at line {seen_ids[f['id']]})"))
        seen_ids[f["id"]] = at(base)[0]
        for key in ("spec", "code", "tests", "wired_from"):
            check_globs(f.get(key), base + (key,))
        cfg.features.append(FeatureDecl(f["id"], _list(f["spec"]), _list(f.get("code")), _list(f.get("tests")),
                                        _list(f.get("wired_from")), at(base)[0]))
    for i, p in enumerate(data.get("patterns", [])):
        base = ("patterns", i)
        if p["spec"].count("{name}") != 1:
            problems.append(Problem(filename, *at(base + ("spec",)), yamlsrc.format_path(base + ("spec",)),
                                    "expected exactly one {name} placeholder"))
        for key in ("spec", "code", "tests", "wired_from"):
            check_globs(p.get(key), base + (key,))
        cfg.patterns.append(PatternDecl(p["spec"], _list(p["code"]), _list(p.get("tests")),
                                        _list(p.get("wired_from")), at(base)[0]))
    for i, d in enumerate(data.get("documents", [])):
        base = ("documents", i)
        for key in ("spec", "code", "tests"):
            check_globs(d.get(key), base + (key,))
        if "level" in d and d.get("split", "none") not in ("headings", "epics"):
            problems.append(Problem(filename, *at(base + ("level",)), yamlsrc.format_path(base + ("level",)),
                                    "level applies to split: headings (or epics) only",
                                    "remove it, or set split: headings"))
        cfg.documents.append(DocumentDecl(_list(d["spec"]), d.get("split", "none"), d.get("level"),
                                          _list(d.get("code")), _list(d.get("tests")), d.get("id", ""), at(base)[0]))
    cfg.discover = data.get("discover", not (cfg.features or cfg.patterns or cfg.documents))
    cfg.exclude = _list(data.get("exclude"))
    check_globs(data.get("exclude"), ("exclude",))
    scoring = data.get("scoring", {})
    cfg.weights.update({k: float(v) for k, v in scoring.get("weights", {}).items()})
    if sum(cfg.weights.values()) <= 0:
        problems.append(Problem(filename, *at(("scoring", "weights")), "scoring.weights",
                                "at least one weight must be above 0"))
    cfg.marker_cost = float(scoring.get("marker_cost", DEFAULT_MARKER_COST))
    for i, w in enumerate(data.get("waivers", [])):
        until = None
        if "until" in w:
            try:
                until = _dt.date.fromisoformat(w["until"])
            except ValueError:
                p = ("waivers", i, "until")
                problems.append(Problem(filename, *at(p), yamlsrc.format_path(p),
                                        f"'{w['until']}' is not a calendar date"))
        cfg.waivers.append(Waiver(w["fingerprint"], w["reason"], until, at(("waivers", i))[0]))
    checks, comment, issues = data.get("checks", {}), data.get("comment", {}), data.get("issues", {})
    cfg.policy = AppPolicy(
        fail_on=tuple(checks.get("fail_on", ())), max_drift_increase=checks.get("max_drift_increase", 0),
        annotations=checks.get("annotations", 200), comment_mode=comment.get("mode", "on-change"),
        issues_enabled=issues.get("enabled", True), issue_labels=tuple(issues.get("labels", ("drift",))),
        issue_kinds=tuple(issues.get("kinds", DEFAULT_ISSUE_KINDS)), dashboard=issues.get("dashboard", True),
        assign_owners=issues.get("assign_owners"))
    rules_cfg = data.get("rules", {})
    every = [p for pattern in _list(rules_cfg.get("custom")) for p in (snapshot.paths() if snapshot else [])
             if globs.match(pattern, p)] if packs else []
    if len(set(every)) > MAX_CUSTOM_PACKS:  # refused before any of them is read
        problems.append(Problem(filename, *at(("rules", "custom")), "rules.custom",
                                f"{len(set(every))} rule packs; a repository may bring at most {MAX_CUSTOM_PACKS}"))
    for i, pattern in enumerate(_list(rules_cfg.get("custom")) if packs and len(set(every)) <= MAX_CUSTOM_PACKS
                                else ()):
        matched = [p for p in (snapshot.paths() if snapshot else []) if globs.match(pattern, p)]
        if not matched:
            p = ("rules", "custom", i) if not isinstance(rules_cfg.get("custom"), str) else ("rules", "custom")
            problems.append(Problem(filename, *at(p), yamlsrc.format_path(p), f"no rule pack file matches '{pattern}'"))
        for path in matched:
            dec = decode(snapshot.read(path))
            try:
                cfg.custom_packs.append(rules_mod.load_pack(dec.text, path, trusted=False))
            except ConfigError as exc:
                problems.extend(exc.problems)
    known = sorted(set(rules_mod.builtin_packs()) | {p.name for p in cfg.custom_packs})
    for pack in cfg.custom_packs:
        for parent in pack.extends:
            if parent not in known:
                close = _closest_pack(parent, known)
                problems.append(Problem(pack.source, 0, 0, "extends", f"unknown rule pack '{parent}'",
                                        f"did you mean '{close[0]}'?" if close else "known packs: " + ", ".join(known)))
    if "packs" in rules_cfg:
        for i, name in enumerate(rules_cfg["packs"]):
            if name not in known and (packs or not rules_cfg.get("custom")):
                close = _closest_pack(name, known)
                p = ("rules", "packs", i)
                problems.append(Problem(filename, *at(p), yamlsrc.format_path(p), f"unknown rule pack '{name}'",
                                        f"did you mean '{close[0]}'?" if close else "known packs: " + ", ".join(known)))
        cfg.packs = list(rules_cfg["packs"])
    if problems:
        problems.sort(key=lambda p: (p.line, p.column))
        raise ConfigError(problems)
    return cfg


def _closest_pack(name: str, known: list[str]) -> list[str]:
    """The pack a mistyped name most likely means: one it starts with or that starts with it (golang →
    go, py → python), else the closest spelling."""
    low = name.lower()
    prefixed = sorted((k for k in known if low.startswith(k) or k.startswith(low)), key=lambda k: -len(k))
    return prefixed[:1] or difflib.get_close_matches(name, known, n=1, cutoff=0.5)


# ---- editing waivers in the config's text (comments and layout kept) ---------------------------

_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:")


def _waiver_item(fingerprint: str, reason: str, until: str | None, indent: str) -> list[str]:
    lines = [f"{indent}- fingerprint: {fingerprint}", f"{indent}  reason: {json.dumps(reason, ensure_ascii=False)}"]
    if until:
        lines.append(f"{indent}  until: {until}")
    return lines


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """(first, end) line indexes of a top-level key's block: its own line to the next top-level key."""
    start = next((i for i, ln in enumerate(lines) if (m := _TOP_KEY.match(ln)) and m.group("key") == key), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " \t#-"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return start, end


def _as_block(text: str) -> str:
    """The text with a flow-style waivers list (`waivers: [{...}, {...}]`, on one line or several)
    rewritten as a block list, so that items can be added and removed line by line."""
    lines = text.splitlines()
    found = _block(lines, "waivers")
    if found is None or "[" not in lines[found[0]].split("#", 1)[0]:
        return text
    start, end = found
    try:
        current = (yaml.safe_load(text) or {}).get("waivers") or []
    except yaml.YAMLError:
        return text
    if not isinstance(current, list):
        return text
    items = [ln for w in current if isinstance(w, dict)
             for ln in _waiver_item(str(w.get("fingerprint", "")), str(w.get("reason", "")),
                                    str(w["until"]) if w.get("until") else None, "  ")]
    lines[start:end] = ["waivers:"] + items
    return "\n".join(lines).rstrip("\n") + "\n"


def _waivers_of(text: str) -> list:
    try:
        return list((yaml.safe_load(text) or {}).get("waivers") or [])
    except (yaml.YAMLError, AttributeError):
        return []


def with_waiver(text: str, fingerprint: str, reason: str, until: str | None = None) -> str:
    """The config's text with one more waiver (replacing one with the same fingerprint)."""
    text = _as_block(without_waiver(text, fingerprint))
    lines = text.splitlines()
    found = _block(lines, "waivers")
    if found is None:
        out = lines + ([""] if lines and lines[-1].strip() else []) + ["waivers:"] + _waiver_item(
            fingerprint, reason, until, "  ")
    else:
        start, end = found
        head = lines[start].split("#", 1)[0]
        if "[" in head:  # flow style (waivers: []): rewrite as a block
            try:
                current = yaml.safe_load(head.split(":", 1)[1]) or []
            except yaml.YAMLError:
                current = []
            items = [ln for w in current for ln in _waiver_item(w["fingerprint"], w["reason"], w.get("until"), "  ")]
            lines[start:end] = ["waivers:"] + items
            start, end = start, start + 1 + len(items)
        item_line = next((ln for ln in lines[start + 1:end] if ln.lstrip().startswith("- ")), "  - ")
        indent = item_line[:len(item_line) - len(item_line.lstrip())]
        lines[end:end] = _waiver_item(fingerprint, reason, until, indent)
        out = lines
    return "\n".join(out).rstrip("\n") + "\n"


def without_waiver(text: str, fingerprint: str) -> str:
    """The config's text without the waiver of that fingerprint (unchanged when there is none)."""
    if not any(isinstance(w, dict) and str(w.get("fingerprint")) == fingerprint for w in _waivers_of(text)):
        return text
    text = _as_block(text)
    lines = text.splitlines()
    found = _block(lines, "waivers")
    if found is None:
        return text
    start, end = found
    i = start + 1
    while i < end:
        ln = lines[i]
        if ln.lstrip().startswith("- "):
            j = i + 1
            indent = len(ln) - len(ln.lstrip())
            while j < end and lines[j].strip() and not lines[j].lstrip().startswith("- ") and \
                    len(lines[j]) - len(lines[j].lstrip()) > indent:
                j += 1
            if re.search(rf"fingerprint:\s*['\"]?{re.escape(fingerprint)}\b", "\n".join(lines[i:j])):
                del lines[i:j]
                end -= j - i
                continue
            i = j
        else:
            i += 1
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in lines[start + 1:end]):
        del lines[start:end]  # no waiver left: no empty key
    return "\n".join(lines).rstrip("\n") + "\n"


def waivers_kept(before: str, after: str, fingerprint: str) -> bool:
    """Did an edit leave every other waiver exactly as it was?"""
    def others(text):
        return sorted(json.dumps(w, sort_keys=True, default=str) for w in _waivers_of(text)
                      if not (isinstance(w, dict) and str(w.get("fingerprint")) == fingerprint))
    return others(before) == others(after)
