"""Alignment score from a feature's signals, with the arithmetic kept for the report."""
from __future__ import annotations

from .model import ScoreTerm

BANDS = (("Excellent", 90), ("Low", 80), ("Medium", 60), ("High", 40), ("Critical", 0))
BAND_ORDER = [b for b, _ in BANDS][::-1]  # Critical first


def band(alignment: int) -> str:
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


def alignment(terms: list[ScoreTerm]) -> int:
    total = sum(t.weight for t in terms if t.applicable)
    if total <= 0:
        return 0
    return round(100 * sum(t.weight * t.value for t in terms if t.applicable) / total)
