"""Decisions the App makes, as pure functions: given what is known, what to do. They are tested
without HTTP; the service carries the actions out."""
from __future__ import annotations

from dataclasses import dataclass

from .records import FeatureRecord, GapIssue, GapRecord


@dataclass(frozen=True)
class File:
    """Open an issue for a gap that appeared."""
    fingerprint: str
    feature: str
    gap: GapRecord


@dataclass(frozen=True)
class Record:
    """A gap the first analysis found: remembered as the baseline, listed on the dashboard, no issue."""
    fingerprint: str
    feature: str


@dataclass(frozen=True)
class Reopen:
    """A gap whose issue was closed is back."""
    fingerprint: str
    number: int
    message: str


@dataclass(frozen=True)
class Close:
    """A gap whose issue is open is gone: resolved, or waived."""
    fingerprint: str
    number: int
    waived: bool


@dataclass(frozen=True)
class Forget:
    """A baseline gap (never filed) is gone: if it comes back, it is new."""
    fingerprint: str


Action = File | Record | Reopen | Close | Forget


def open_gaps(baseline: dict[str, FeatureRecord], kinds: set[str],
              waived: set[str]) -> dict[str, tuple[str, GapRecord]]:
    """fingerprint → (feature, gap) for every gap that may have an issue: of a kind that gets one, not
    waived, and judged with high confidence."""
    out: dict[str, tuple[str, GapRecord]] = {}
    for fid, rec in baseline.items():
        for fp, g in rec.gaps.items():
            if g.kind in kinds and not g.waived and fp not in waived and g.confidence == "high":
                out[fp] = (fid, g)
    return out


def plan_issue_sync(now: dict[str, tuple[str, GapRecord]], known: dict[str, GapIssue], waived: set[str], *, first: bool,
                    cap: int) -> list[Action]:
    """What to do with gap issues after an analysis of the default branch.

    ``now``: the open gaps (``open_gaps``); ``known``: fingerprint → what was done before (``state``:
    baseline | claimed | open | closed, and the issue ``number``). The first analysis records its gaps
    as the baseline. Later ones file an issue per new gap, most severe first, at most ``cap`` (the
    rest on later pushes); reopen the issue of a gap that is back; close the issue of a gap that is
    gone (waived or resolved); forget baseline gaps that are gone."""
    if first:
        return [Record(fp, fid) for fp, (fid, _gd) in now.items() if fp not in known]
    actions: list[Action] = []
    filed = 0
    for fp, (fid, gd) in sorted(now.items(), key=lambda kv: (-kv[1][1].severity, kv[0])):
        rec = known.get(fp)
        if rec is None:
            if filed < cap:
                actions.append(File(fp, fid, gd))
                filed += 1
        elif rec.state == "closed" and rec.number:
            actions.append(Reopen(fp, rec.number, gd.message))
    for fp, rec in known.items():
        if fp in now:
            continue
        if rec.state == "baseline":
            actions.append(Forget(fp))
        elif rec.state == "open" and rec.number:
            actions.append(Close(fp, rec.number, fp in waived))
    return actions
