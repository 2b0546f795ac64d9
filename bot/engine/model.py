"""Immutable records the engine produces: requirements, evidence, gaps, feature results.

Everything here is plain data. Reporters read these records and nothing else, so every
number in a report can be traced back to the evidence that produced it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    MET = "met"
    PARTIAL = "partial"
    MISSING = "missing"
    UNVERIFIABLE = "unverifiable"


class Kind(str, Enum):
    ENDPOINT = "endpoint"
    PATH = "path"
    SYMBOL = "symbol"
    FLAG = "flag"
    CHECKLIST = "checklist"
    FR = "fr"  # spec-kit functional requirement FR-###
    TASK = "task"  # spec-kit task T###
    OPENSPEC_REQUIREMENT = "openspec-requirement"
    OPENSPEC_SCENARIO = "openspec-scenario"
    SCENARIO = "scenario"  # Gherkin
    COMMAND = "command"  # a shell command the spec shows: script, subcommand, flags
    LITERAL = "literal"  # a string the code must contain: SQL clause, key pattern, exchange name
    PROSE = "prose"  # a sentence naming concrete things without code formatting: judged by its terms


class GapKind(str, Enum):
    MISSING = "missing"  # a requirement with no implementation
    PARTIAL = "partial"  # found, but not where it should be
    CLAIMED_DONE = "claimed-done"  # checked box without evidence
    STALE_SPEC = "stale-spec"  # open box whose anchor exists
    NO_CODE = "no-code"  # spec without code
    NO_TESTS = "no-tests"
    MARKER = "marker"  # an unfinished-work note or a stub left in the feature's code
    NOT_WIRED = "not-wired"  # nothing outside the feature references it


# How a gap kind reads to a person, in the singular and as a recommendation verb phrase.
GAP_TITLES = {
    GapKind.MISSING: "requirement not implemented",
    GapKind.PARTIAL: "requirement only partly implemented",
    GapKind.CLAIMED_DONE: "checked as done, but no evidence",
    GapKind.STALE_SPEC: "spec still lists as open what exists",
    GapKind.NO_CODE: "spec without code",
    GapKind.NO_TESTS: "no tests",
    GapKind.MARKER: "TODO / stub marker in code",
    GapKind.NOT_WIRED: "code not referenced from outside the feature",
}

# Severity for ordering (higher is worse).
GAP_SEVERITY = {
    GapKind.NO_CODE: 6,
    GapKind.CLAIMED_DONE: 5,
    GapKind.MISSING: 4,
    GapKind.NOT_WIRED: 3,
    GapKind.NO_TESTS: 3,
    GapKind.MARKER: 2,
    GapKind.PARTIAL: 2,
    GapKind.STALE_SPEC: 1,
}


@dataclass(frozen=True)
class Anchor:
    """Something concrete in a spec that code can be checked against."""

    kind: Kind  # ENDPOINT, PATH, SYMBOL, FLAG, COMMAND or LITERAL
    value: str  # as written, e.g. "POST /api/agents/{id}/heartbeat"
    subkind: str = ""  # for symbols: type, function, method, field, param, env, config, metric, table, state …
    owner: str = ""  # the class, table or callable the symbol belongs to ("OutboxConfig" for a keyword argument)
    parts: tuple[str, ...] = ()  # what it is made of: a class's members, a table's columns, a command's words
    where: str = ""  # the file or module the spec places it in ("src/security/authz.py", "sagaz.outbox")
    default: str = ""  # the default value the spec gives a setting ("30", "unlimited"), to compare with the code's
    calls: tuple[str, ...] = ()  # for a function a code sample defines: the project's names its body calls
    # "removed" (the spec says it is gone: deleted, no longer exists) or "unused" (the code must not use or
    # require it): then its presence is the gap, and its absence meets it. Not part of what the anchor is
    # (equal anchors fold into one, and a gap's fingerprint stays what it was)
    absent: str = field(default="", compare=False)

    @property
    def norm(self) -> str:
        return f"{self.kind.value}:{self.value.strip().lower()}"


@dataclass(frozen=True)
class Evidence:
    path: str
    line: int
    note: str  # e.g. "route registered", "defined", "mentioned in a comment"

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "note": self.note}


@dataclass(frozen=True)
class Requirement:
    id: str  # stable within a feature: e.g. "R3" or "FR-001" or "T012"
    kind: Kind
    text: str
    spec_path: str
    line: int
    section: str = ""
    anchors: tuple[Anchor, ...] = ()
    checked: bool | None = None  # for checklist items and tasks: True done, False open
    label: str = ""  # FR-001, T012, scenario title …
    terms: tuple[str, ...] = ()  # the sentence's content words (normalised), for prose matching
    planned: bool = False  # a roadmap item, proposal or open task: reported, never a gap or scored
    claim: str = ""  # what the spec says of itself: done, planned, in-progress, missing (status column, box)
    origin: str = ""  # where in the spec: prose, list, table, heading, code:<lang>, tree, diagram

    @property
    def removal(self) -> bool:
        """Whatever it names, the spec says is gone: the work it asks for is a removal."""
        named = [a for a in self.anchors if a.subkind not in ("mention", "scope")]
        return bool(named) and all(a.absent == "removed" for a in named)


@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: Status
    evidence: tuple[Evidence, ...] = ()
    searched: str = ""  # where we looked, in words
    detail: str = ""  # why this status, in words
    confidence: str = "high"  # high | low — low-confidence verdicts never file issues or fail checks
    confidence_reason: str = ""
    matched: tuple[str, ...] = ()  # the requirement's terms that the evidence contains

    @property
    def planned(self) -> bool:
        return self.requirement.planned


@dataclass(frozen=True)
class Gap:
    fingerprint: str
    kind: GapKind
    feature: str
    message: str
    requirement: str | None = None  # requirement id
    path: str | None = None  # where to annotate
    line: int | None = None
    waived: bool = False
    waiver_reason: str = ""
    marker: str = ""  # for marker gaps: todo, fixme, wip, stub …
    confidence: str = "high"  # low: shown, but never files an issue or fails a check

    @property
    def severity(self) -> int:
        return GAP_SEVERITY[self.kind]

    @property
    def actionable(self) -> bool:
        """Worth an issue or a failing check: not waived, and not a low-confidence verdict."""
        return not self.waived and self.confidence == "high"


@dataclass(frozen=True)
class Marker:
    path: str
    line: int
    kind: str  # todo, fixme, wip, stub …
    text: str


@dataclass(frozen=True)
class Signals:
    code_files: int
    code_lines: int
    test_files: int
    markers: tuple[Marker, ...]
    referenced_from: tuple[Evidence, ...]  # outside references (first few)
    referenced_count: int
    wired_from_missing: tuple[str, ...]  # wired_from globs with no reference
    requirements: dict  # counts by status
    tests: tuple[str, ...] = ()  # the covering test files (first few): named after the feature or importing it

    def as_dict(self) -> dict:
        return {
            "code_files": self.code_files,
            "code_lines": self.code_lines,
            "test_files": self.test_files,
            "markers": [
                {"path": m.path, "line": m.line, "kind": m.kind, "text": m.text} for m in self.markers
            ],
            "referenced_from": [e.as_dict() for e in self.referenced_from],
            "referenced_count": self.referenced_count,
            "wired_from_missing": list(self.wired_from_missing),
            "requirements": dict(self.requirements),
            "tests": list(self.tests),
        }


@dataclass(frozen=True)
class ScoreTerm:
    signal: str  # requirements, code, tests, markers, wiring
    weight: float
    value: float  # 0..1
    applicable: bool
    explanation: str


@dataclass(frozen=True)
class FeatureResult:
    id: str
    spec: tuple[str, ...]
    code: tuple[str, ...]  # code globs as declared/discovered
    code_roots: tuple[str, ...]  # folders, for display
    source: str  # "config", "pattern", or the discovered layout name
    alignment: int | None  # None: unknown — nothing in the spec could be checked
    band: str  # Critical … Excellent, or Unknown
    finished: str  # "yes", "partly", "no", "unknown"
    signals: Signals
    terms: tuple[ScoreTerm, ...]
    requirements: tuple[RequirementResult, ...]
    gaps: tuple[Gap, ...]
    excluded_requirements: int = 0  # found in Non-goals / Out of scope / Future sections
    scope: str = "declared"  # declared: `code` is the feature's code; located: its code is what the evidence locates
    document: str = ""  # a section feature: the document it is part of …
    section: str = ""  # … and its heading or row
    located: tuple[tuple[str, int], ...] = ()  # located features: (folder/, requirements with evidence there)
    located_of: int = 0  # … out of this many checkable requirements
    home: str = ""  # the code folder named like it, if any
    parts: tuple[tuple[int, int], ...] = ()  # the line ranges of its document it covers

    @property
    def drift(self) -> int | None:
        return None if self.alignment is None else 100 - self.alignment

    @property
    def open_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if not g.waived)


@dataclass(frozen=True)
class Unpaired:
    specs: tuple[str, ...] = ()
    code: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str  # "binary", "too large", "invalid utf-8 (decoded with replacement)", "unreadable", "symlink outside repo"


@dataclass(frozen=True)
class DocEntry:
    """One document of the repository and what was done with it."""

    path: str
    role: str  # spec, roadmap, plan, architecture, adr, rfc, guide, reference, runbook, component, config,
    #            claims, index, meta, archived, superseded, skipped
    label: str  # the role in words
    why: str
    features: tuple[str, ...] = ()  # the features it is a spec of (empty: not read as requirements)
    title: str = ""

    @property
    def read(self) -> bool:
        return bool(self.features)


@dataclass(frozen=True)
class ClaimCheck:
    """One status mark in a claims document (a status report, a changelog, a hand-written drift
    report), re-checked against the code."""

    path: str
    line: int
    text: str
    claim: str  # done | in-progress | missing — what the document says
    status: Status  # what the code shows
    verdict: str  # confirmed | not-found | partial | implemented | unverifiable
    evidence: tuple[Evidence, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class Findings:
    """The engine's whole answer for one snapshot."""

    features: tuple[FeatureResult, ...]
    unpaired: Unpaired
    layouts: tuple[str, ...]  # which layouts were found (or "config")
    config_source: str | None
    weights: dict
    skipped: tuple[Skipped, ...] = ()
    files_scanned: int = 0
    bytes_scanned: int = 0
    warnings: tuple[str, ...] = field(default=())
    documents: tuple[DocEntry, ...] = ()  # every document considered, with its role and why
    claims: tuple[ClaimCheck, ...] = ()  # status marks of claims documents, re-checked
    source: tuple[str, ...] = ()  # the repository's source globs (where located features look)
    # files a rule ran out of time on (what it would have found there is missing): findings that depend
    # on the machine's speed, never kept for a later run
    timed_out: tuple[str, ...] = ()

    @property
    def overall_alignment(self) -> int | None:
        """The mean over features whose alignment is known; None when none is."""
        known = [f.alignment for f in self.features if f.alignment is not None]
        return round(sum(known) / len(known)) if known else None

    @property
    def overall_drift(self) -> int | None:
        a = self.overall_alignment
        return None if a is None else 100 - a

    @property
    def unknown_features(self) -> int:
        return sum(1 for f in self.features if f.alignment is None)
