"""Alignment score from a feature's signals, with the arithmetic kept for the report."""
from __future__ import annotations

from .model import ScoreTerm

BANDS = (("Excellent", 90), ("Low", 80), ("Medium", 60), ("High", 40), ("Critical", 0))
BAND_ORDER = [b for b, _ in BANDS][::-1]  # Critical first
UNKNOWN = "Unknown"


def band(alignment: int | None) -> str:
    if alignment is None:
        return UNKNOWN
    for name, floor in BANDS:
        if alignment >= floor:
            return name
    return "Critical"


def band_range(name: str) -> str:
    floors = dict(BANDS)
    lo = floors[name]
    higher = [f for _, f in BANDS if f > lo]
    hi = min(higher) - 1 if higher else 100
    return f"{lo}–{hi}"


def mean(values) -> int | None:
    """The rounded mean of the known values (None: unknown, left out); None when none is known."""
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known)) if known else None


def sort_key(alignment: int | None) -> tuple:
    """Worst first; unknown after every known score."""
    return (alignment is None, alignment or 0)


def alignment(terms: list[ScoreTerm]) -> int | None:
    """The weighted mean of the applicable signals — unknown (None) when no requirement could be
    checked: code, tests and wiring alone say nothing about whether the design was built."""
    if not any(t.applicable for t in terms if t.signal == "requirements"):
        return None
    total = sum(t.weight for t in terms if t.applicable)
    if total <= 0:
        return 0
    return round(100 * sum(t.weight * t.value for t in terms if t.applicable) / total)
