"""Gap issues and the drift dashboard (pure renderers)."""
from __future__ import annotations

import datetime as _dt
import re

from ..engine.model import GAP_TITLES, FeatureResult, Gap
from ..records import FeatureRecord, GapRecord, HistoryPoint
from ..engine.scoring import band, mean, sort_key
from .common import Link, loc, neutralise, plural, remarks, score, sentence
from .markdown import BAND_ICON, esc, inline
from .pr import MAX_BODY, _fit, fit_lines

GAP_MARKER = "<!-- driftbot:gap {fingerprint} -->"
DASHBOARD_MARKER = "<!-- driftbot:dashboard -->"
DASHBOARD_TITLE = "Drift dashboard"
_GAP_RX = re.compile(r"<!-- driftbot:gap ([0-9a-f]{12}) -->")


def gap_fingerprint(body: str | None) -> str | None:
    m = _GAP_RX.search(body or "")
    return m.group(1) if m else None


def gap_title(g: Gap) -> str:
    msg = g.message.split(":")[0] if g.kind.value in ("missing", "partial") else g.message
    title = f"Drift in {g.feature}: {msg}"
    return neutralise(title if len(title) <= 200 else title[:199] + "…")


def gap_body(g: Gap, feature: FeatureResult | None, commit: str, link: Link | None = None) -> str:
    lines = [GAP_MARKER.format(fingerprint=g.fingerprint), "",
             f"**{sentence(GAP_TITLES[g.kind])}** "
             f"in feature **{inline(g.feature)}**, found at `{commit[:12]}`.", "",
             f"> {g.message.replace('<', '&lt;')}", ""]
    if g.path:
        lines.append(f"- Where: {loc(g.path, g.line, link)}")
    if feature is not None:
        req = next((r for r in feature.requirements if r.requirement.id == g.requirement), None)
        if req is not None:
            q = req.requirement
            lines.append(f"- Requirement {q.id} ({q.kind.value}): {q.text.replace('<', '&lt;')}")
            if req.evidence:
                lines.append("- Evidence: " + "; ".join(f"{loc(e.path, e.line, link)} {inline(e.note)}" for e in req.evidence[:4]))
            if req.searched:
                lines.append(f"- Searched: {inline(req.searched)}")
        lines.append(f"- Feature alignment: {score(feature.alignment, '/100')} ({feature.band}); spec: "
                     + ", ".join(loc(s, None, link) for s in feature.spec))
    lines += ["", f"driftbot closes this issue when the gap is resolved on the default branch. To accept the gap, "
              f"comment `/drift waive {g.fingerprint} <reason> [until YYYY-MM-DD]`.", "",
              f"<sub>Gap fingerprint `{g.fingerprint}` (feature + kind + anchor; it survives line moves).</sub>"]
    return _fit(neutralise("\n".join(lines)), MAX_BODY)


def feature_record(f: FeatureResult) -> FeatureRecord:
    """What the store keeps per feature, and what the dashboard is drawn from."""
    return FeatureRecord(f.alignment, f.drift, f.band, f.finished, remarks(f), tuple(f.spec),
                         {g.fingerprint: GapRecord.of(g) for g in f.gaps})


TREND_POINTS = 30
RECHECK_BOX = "<!-- driftbot:recheck -->"
WAIVE_BOX = "<!-- driftbot:waive:{fp} -->"
_TICKED = re.compile(r"^\s*[-*] \[[xX]\] <!-- driftbot:(recheck|waive:([0-9a-f]{6,64})) -->", re.M)


def ticked(body: str | None) -> tuple[bool, list[str]]:
    """What a person ticked on the dashboard: (recheck?, fingerprints to waive)."""
    recheck, waive = False, []
    for m in _TICKED.finditer(body or ""):
        if m.group(1) == "recheck":
            recheck = True
        elif m.group(2) not in waive:
            waive.append(m.group(2))
    return recheck, waive


def trend_chart(history: list[HistoryPoint]) -> list[str]:
    """The overall alignment of the last analysed commits as a Mermaid chart, which GitHub draws."""
    points = [h for h in reversed(history[:TREND_POINTS]) if h.alignment is not None]
    if len(points) < 2:
        return []
    labels = ", ".join(f'"{h.sha[:7]}"' for h in points)  # commit ids: hex, nothing to escape
    values = ", ".join(str(int(h.alignment)) for h in points)
    return ["", "```mermaid", "xychart-beta", '    title "Overall alignment, last analysed commits"',
            f"    x-axis [{labels}]", '    y-axis "alignment" 0 --> 100', f"    line [{values}]", "```"]


def dashboard_body(features: dict[str, FeatureRecord], history: list[HistoryPoint], issues: dict[str, int],
                   waivers: list[tuple[str, str, str | None]], commit: str, budget=None) -> str:
    """The drift dashboard: score and trend, the feature table, open gaps with their issues, waivers.
    ``features`` are stored records (feature_record), so untouched features cost nothing."""
    head = [DASHBOARD_MARKER, f"## {DASHBOARD_TITLE}", ""]
    if budget is not None:
        until = _dt.datetime.fromtimestamp(budget.reset, _dt.timezone.utc).strftime("%H:%M UTC")
        head += [f"> ⏸ **Updates paused until {until}.** This installation has {budget.left:,} of its "
                 f"{budget.limit:,} GitHub API requests left this hour; driftbot keeps them for pull requests "
                 "and pushes. This dashboard and repository scans resume then.", ""]
    if not features:
        head.append(f"No features found at `{commit[:12]}`. Add specs under `docs/features/` or declare them in "
                    "`.github/driftbot.yml`.")
        return "\n".join(head) + "\n"
    overall = mean(f.alignment for f in features.values())
    b = band(overall)
    trend = ""
    if len(history) >= 2 and overall is not None and history[1].alignment is not None:
        delta = overall - history[1].alignment
        change = f"▲{delta}" if delta > 0 else f"▼{-delta}" if delta < 0 else "unchanged"
        trend = f" ({change} since `{history[1].sha[:7]}`)"
    if overall is None:
        head.append(f"**Overall alignment unknown** (no spec names anything checkable) · "
                    f"{plural(len(features), 'feature')} · at `{commit[:12]}`")
    else:
        head.append(f"**Overall alignment {overall}/100 — {BAND_ICON[b]} {b}, drift {100 - overall} %**{trend} · "
                    f"{plural(len(features), 'feature')} · at `{commit[:12]}`")
    if len(history) >= 2:
        head.append("")
        head.append("Trend (oldest → newest): " + " → ".join(score(h.alignment) for h in reversed(history[:10])))
        head += trend_chart(history)
    head += ["", "| Feature | Alignment | Drift % | Finished? | Open gaps | Remarks |", "|---|---|---|---|---|---|"]
    for fid, f in sorted(features.items(), key=lambda kv: (*sort_key(kv[1].alignment), kv[0])):
        head.append(f"| {esc(fid)} | {BAND_ICON[f.band]} {score(f.alignment)} | {score(f.drift)} | "
                    f"{f.finished.capitalize()} | {f.open_gaps} | {esc(f.remarks)} |")
    head += ["", f"- [ ] {RECHECK_BOX} **Recheck**: tick to have driftbot analyse the default branch again now", ""]
    gaps = [(fid, fp, g) for fid, f in features.items() for fp, g in f.gaps.items() if not g.waived]
    body = ["### Open gaps", "", "_Tick a gap to ask for its waiver: driftbot opens (or adds it to) the waiver pull "
            "request, where you give the reason._"] if gaps else []
    by_feature: dict[str, list] = {}
    for fid, fp, g in gaps:
        by_feature.setdefault(fid, []).append((fp, g))
    for fid in sorted(by_feature, key=lambda f: (*sort_key(features[f].alignment), f)):
        body += ["", f"#### {inline(fid)} — {score(features[fid].alignment)}"]
        for fp, g in sorted(by_feature[fid], key=lambda t: (-t[1].severity, t[0])):
            ref = f" · #{issues[fp]}" if fp in issues else ""
            body.append(f"- [ ] {WAIVE_BOX.format(fp=fp)} {g.kind} · `{fp}` — {inline(g.message)}{ref}")
    if waivers:
        body += ["", "### Waivers", ""]
        for fp, reason, until in waivers:
            body.append(f"- `{fp}` — {inline(reason)}" + (f" (until {until})" if until else ""))
    body += ["", "<sub>Updated by driftbot on every push to the default branch. Comment `/drift report` on any "
             "issue for the summary, `/drift explain <feature>` for one feature.</sub>"]
    return fit_lines(neutralise("\n".join(head)) + "\n", [neutralise(b) for b in body], "", MAX_BODY,
                     "- _… {n} more lines not shown (body limit)._")
