"""Before → after: what a change did to each touched feature (pure)."""
from __future__ import annotations

from dataclasses import dataclass

from .model import Evidence, FeatureResult, Findings, Gap, RequirementResult, Status


def requirement_key(r: RequirementResult) -> tuple:
    q = r.requirement
    anchors = tuple(sorted(a.norm for a in q.anchors))
    return (q.kind.value, anchors or (q.label.lower() or q.text.lower(),))


@dataclass(frozen=True)
class Regression:
    gap: Gap  # the new gap at head
    was: tuple[Evidence, ...]  # where the requirement was implemented at base


@dataclass(frozen=True)
class FeatureDelta:
    id: str
    before: FeatureResult | None
    after: FeatureResult | None
    new_gaps: tuple[Gap, ...]
    resolved_gaps: tuple[Gap, ...]
    regressions: tuple[Regression, ...]

    @property
    def drift_before(self) -> int | None:
        return self.before.drift if self.before else None

    @property
    def drift_after(self) -> int | None:
        return self.after.drift if self.after else None

    @property
    def drift_change(self) -> int:
        if not (self.before and self.after) or self.drift_before is None or self.drift_after is None:
            return 0
        return self.drift_after - self.drift_before

    @property
    def changed(self) -> bool:
        return bool(self.new_gaps or self.resolved_gaps or self.drift_change or (self.before is None) != (self.after is None))


def diff(before: Findings | None, after: Findings) -> list[FeatureDelta]:
    """Compare the touched features' findings at the base and at the head of a change."""
    base = {f.id: f for f in before.features} if before else {}
    head = {f.id: f for f in after.features}
    out = []
    for fid in sorted(set(base) | set(head)):
        b, h = base.get(fid), head.get(fid)
        b_open = {g.fingerprint: g for g in (b.open_gaps if b else ())}
        h_open = {g.fingerprint: g for g in (h.open_gaps if h else ())}
        new = tuple(g for fp, g in h_open.items() if fp not in b_open)
        resolved = tuple(g for fp, g in b_open.items() if fp not in h_open)
        regressions = []
        if b and h:
            base_reqs = {requirement_key(r): r for r in b.requirements}
            head_reqs = {r.requirement.id: r for r in h.requirements}
            for g in new:
                r = head_reqs.get(g.requirement) if g.requirement else None
                if r is None:
                    continue
                was = base_reqs.get(requirement_key(r))
                if was is not None and was.status is Status.MET and r.status is not Status.MET:
                    regressions.append(Regression(g, was.evidence))
        out.append(FeatureDelta(fid, b, h, new, resolved, tuple(regressions)))
    return out
