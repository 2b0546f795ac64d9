"""What the App remembers between deliveries, as typed records. They become plain data (JSON,
table rows) only inside a store; everything above the store reads and writes these."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from .engine.model import Gap, GapKind


@dataclass(frozen=True)
class GapRecord:
    """One gap as the baseline keeps it: enough to list it, rank it and file its issue."""
    kind: str
    message: str
    path: str | None
    line: int | None
    requirement: str | None = None
    waived: bool = False
    severity: int = 3
    confidence: str = "high"
    marker: str = ""

    @classmethod
    def of(cls, g: Gap) -> GapRecord:
        return cls(g.kind.value, g.message, g.path, g.line, g.requirement, g.waived, g.severity, g.confidence,
                   g.marker)

    def gap(self, fingerprint: str, feature: str) -> Gap:
        """The engine's gap again, to render its issue."""
        return Gap(fingerprint, GapKind(self.kind), feature, self.message, self.requirement, self.path, self.line,
                   self.waived, marker=self.marker, confidence=self.confidence)

    @classmethod
    def from_data(cls, data: dict) -> GapRecord:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**{"path": None, "line": None, **known})


@dataclass(frozen=True)
class FeatureRecord:
    """One feature of the default branch's baseline: its scores and its gaps by fingerprint."""
    alignment: int | None
    drift: int | None = None
    band: str = "Unknown"
    finished: str = "no"
    remarks: str = ""
    spec: tuple[str, ...] = ()
    gaps: dict[str, GapRecord] = field(default_factory=dict)
    sha: str | None = None  # the commit it was last evaluated at (set by the store)

    @property
    def open_gaps(self) -> int:
        return sum(1 for g in self.gaps.values() if not g.waived)

    def waiving(self, fingerprints: set[str]) -> FeatureRecord:
        """The same record with these gaps counted as waived (waivers set after it was evaluated)."""
        if not any(fp in fingerprints and not g.waived for fp, g in self.gaps.items()):
            return self
        return replace(self, gaps={fp: replace(g, waived=True) if fp in fingerprints else g
                                   for fp, g in self.gaps.items()})

    def to_data(self) -> dict:
        """Plain data for a store (without ``sha`` and ``alignment``, which stores keep as columns)."""
        data = asdict(self)
        for k in ("sha", "alignment"):
            data.pop(k)
        data["spec"] = list(self.spec)
        return data

    @classmethod
    def from_data(cls, data: dict, *, alignment: int | None, sha: str | None = None) -> FeatureRecord:
        gaps = {fp: GapRecord.from_data(g) for fp, g in (data.get("gaps") or {}).items()}
        return cls(alignment, data.get("drift"), data.get("band", "Unknown"), data.get("finished", "no"),
                   data.get("remarks", ""), tuple(data.get("spec") or ()), gaps, sha)


@dataclass(frozen=True)
class HistoryPoint:
    """The overall alignment of one analysed commit of the default branch."""
    sha: str
    alignment: int | None
    features: int
    at: float


@dataclass(frozen=True)
class StoredWaiver:
    fingerprint: str
    reason: str
    until: str | None  # YYYY-MM-DD
    by: str


@dataclass(frozen=True)
class GapIssue:
    fingerprint: str
    number: int | None  # None while the issue is being created
    state: str  # baseline | claimed | open | closed
    feature: str
