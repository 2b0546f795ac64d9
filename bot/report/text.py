"""Findings → a terminal summary for people: one line per feature, worst first."""
from __future__ import annotations

from ..engine.model import Findings
from ..engine.scoring import band
from .common import by_score, folder_label, listing, plural, recommendation, remarks
from .markdown import Meta

COLOURS = {"Critical": "31", "High": "33", "Medium": "93", "Low": "32", "Excellent": "92", "Unknown": "37"}


def render(findings: Findings, meta: Meta, colour: bool = False, width: int = 100) -> str:
    def c(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    lines = []
    head = f"driftbot · {meta.name}" + (f" @ {meta.commit[:12]}" if meta.commit else "")
    lines.append(c(head, "1"))
    if not findings.features:
        lines.append("No feature specs found. Run `driftbot report --help` for the layouts driftbot knows.")
        if findings.unpaired.code:
            lines.append(f"Code folders without a spec: {listing((folder_label(c_ + '/') for c_ in findings.unpaired.code), 8)}")
        return "\n".join(lines) + "\n"
    overall = findings.overall_alignment
    b = band(overall)
    if overall is None:
        lines.append(f"Overall alignment unknown: no spec names anything checkable "
                     f"({plural(len(findings.features), 'feature')})")
    else:
        unknown = findings.unknown_features
        lines.append(f"Overall alignment {c(str(overall), COLOURS[b])}/100 ({b}), drift {100 - overall} % "
                     f"across {plural(len(findings.features), 'feature')}"
                     + (f" ({unknown} of unknown alignment left out)" if unknown else ""))
    lines.append("")
    idw = min(28, max(len(f.id) for f in findings.features))
    lines.append(f"{'FEATURE':<{idw}}  {'ALIGN':>5}  {'BAND':<9}  {'DONE':<6}  REMARKS")
    for f in sorted(findings.features, key=by_score):
        rem = remarks(f)
        room = max(20, width - idw - 30)
        if len(rem) > room:
            rem = rem[: room - 1] + "…"
        fid = f.id if len(f.id) <= idw else f.id[: idw - 1] + "…"
        shown = "?" if f.alignment is None else str(f.alignment)
        lines.append(f"{fid:<{idw}}  {c(f'{shown:>5}', COLOURS[f.band])}  {f.band:<9}  {f.finished:<6}  {rem}")
    worst = [f for f in sorted(findings.features, key=by_score) if f.open_gaps][:3]
    if worst:
        lines.append("")
        lines.append(c("Next steps", "1"))
        for f in worst:
            lines.append(f"  {f.id}: {recommendation(f)}")
    if findings.documents:
        read = sum(1 for d in findings.documents if d.read)
        claims = sum(1 for d in findings.documents if d.role == "claims")
        lines.append("")
        lines.append(f"Documents: {read} read as requirements, {plural(claims, 'claims document')}, "
                     f"{len(findings.documents) - read - claims} not read (the Markdown report lists each, and why)")
    if findings.claims:
        nf = sum(1 for x in findings.claims if x.verdict == "not-found")
        imp = sum(1 for x in findings.claims if x.verdict == "implemented")
        ok = sum(1 for x in findings.claims if x.verdict == "confirmed")
        lines.append(f"Claims re-checked: {len(findings.claims)} status marks — {ok} confirmed, "
                     f"{nf} claimed done but not found, {imp} claimed not done but implemented")
    u = findings.unpaired
    if u.specs or u.code:
        lines.append("")
        if u.specs:
            lines.append(f"Specs without code: {listing(u.specs, 6)}")
        if u.code:
            lines.append(f"Code without spec: {listing((folder_label(c_ + '/') for c_ in u.code), 6)}")
    if findings.warnings:
        lines.append("")
        for warning in findings.warnings[:3]:
            lines.append(f"warning: {warning}")
        if len(findings.warnings) > 3:
            lines.append(f"… and {plural(len(findings.warnings) - 3, 'more warning')} (the Markdown and JSON reports "
                         "list them all)")
    return "\n".join(lines) + "\n"
