"""Gap issues and the drift dashboard (pure renderers)."""
from __future__ import annotations

import datetime as _dt
import re

from ..engine.model import GAP_TITLES, FeatureResult, Gap, GapKind
from ..records import FeatureRecord, GapRecord, HistoryPoint
from ..engine.scoring import band, mean, sort_key
from .common import Link, kind_word, loc, neutralise, plural, remarks, score, sentence
from .guidance import fix_steps
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


def feature_files(f: FeatureResult, requirement: str | None = None) -> list[str]:
    """The files a feature's verdicts rest on: the evidence of ``requirement`` if it has any, else of
    every requirement, then its covering tests; its code folders when there is no evidence."""
    spec = set(f.spec)
    reqs = [r for r in f.requirements if r.requirement.id == requirement and r.evidence] or list(f.requirements)
    files = [e.path for r in reqs for e in r.evidence if e.path and e.path not in spec]
    files += list(f.signals.tests)
    if not files:
        files = [root if root.endswith("/") else root + "/" for root in f.code_roots]
    return list(dict.fromkeys(files))


def gap_owners(g: Gap, feature: FeatureResult | None, owners) -> tuple[str, ...]:
    """Who owns the code a gap is about, by CODEOWNERS (``owners``: codeowners.CodeOwners or None);
    the owners of its spec when the feature has no code."""
    if owners is None or feature is None:
        return ()
    return owners.owners_for(feature_files(feature, g.requirement)) or owners.owners_for(feature.spec)


def _packs_for(files: list[str], rules) -> list:
    if rules is None:
        return []
    packs = {}
    for path in files:
        pack = rules.pack_for(path) if not path.endswith("/") else None
        if pack is not None:
            packs.setdefault(pack.name, pack)
    return list(packs.values()) + list(rules.generic)


def gap_body(g: Gap, feature: FeatureResult | None, commit: str, link: Link | None = None, *,
             rules=None, owners: tuple[str, ...] = (), owners_file: str = "") -> str:
    """A gap issue: what is wrong and where, the requirement and its evidence, how to fix it (with the
    fix texts of the rule packs for the feature's code, from ``rules``, a RuleSet), the tests that
    cover the feature, and its code owners (``owners``, read from ``owners_file``)."""
    lines = [GAP_MARKER.format(fingerprint=g.fingerprint), "",
             f"**{sentence(GAP_TITLES[g.kind])}** "
             f"in feature **{inline(g.feature)}**, found at `{commit[:12]}`.", "",
             f"> {inline(g.message)}", ""]
    result = None
    if g.path:
        lines.append(f"- Where: {loc(g.path, g.line, link)}")
    if feature is not None:
        result = next((r for r in feature.requirements if r.requirement.id == g.requirement), None)
        if result is not None:
            q = result.requirement
            lines.append(f"- Requirement {q.id} ({kind_word(q.kind)}): {inline(q.text)}")
            if result.evidence:
                shown = result.evidence[:4]
                more = f" and {len(result.evidence) - len(shown)} more" if len(result.evidence) > len(shown) else ""
                lines.append("- Evidence: " + "; ".join(f"{loc(e.path, e.line, link)} {inline(e.note)}"
                                                          for e in shown) + more)
            if result.searched:
                lines.append(f"- Searched: {inline(result.searched)}")
        lines.append(f"- Feature alignment: {score(feature.alignment, '/100')} ({feature.band}); spec: "
                     + ", ".join(loc(s, None, link) for s in feature.spec))
    step, fixes = fix_steps(g, result, _packs_for(feature_files(feature, g.requirement), rules) if feature else [])
    lines += ["", "### How to fix", "", step]
    if fixes:
        lines += ["", "What the rule packs for this code look for:"] + [f"- {inline_fix(f)}" for f in fixes]
    if feature is not None and g.kind not in (GapKind.NO_TESTS, GapKind.NO_CODE):
        tests = list(feature.signals.tests)
        lines += ["", "### Tests", ""]
        if tests:
            shown = ", ".join(loc(t, None, link) for t in tests[:5])
            lines.append(f"{'This test covers' if len(tests) == 1 else 'These tests cover'} the feature: {shown}"
                         + (f" and {len(tests) - 5} more" if len(tests) > 5 else "")
                         + ". Add one that fails while this gap is open.")
        else:
            lines.append("No test covers this feature yet: add one with the fix.")
    if owners:
        lines += ["", "### Code owners", "",
                  f"{', '.join(f'`{o}`' for o in owners)}, as `{owners_file}` names them for the feature's code."]
    lines += ["", "---", "", "driftbot closes this issue when the gap is resolved on the default branch. To accept "
              f"the gap, comment `/drift waive {g.fingerprint} <reason> [until YYYY-MM-DD]`.", "",
              f"<sub>Gap fingerprint `{g.fingerprint}` (feature + kind + anchor; it survives line moves).</sub>"]
    return _fit(neutralise("\n".join(lines)), MAX_BODY)


def inline_fix(text: str) -> str:
    """A rule pack's "pack (`rule`): fix" line: the pack's words are its author's, shown as text."""
    head, _, fix = text.partition(": ")
    return f"{head}: {inline(fix)}"


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
