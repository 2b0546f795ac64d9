"""Pull-request surfaces, rendered from before/after deltas (pure): the check run's output and
annotations, its conclusion under the repository's policy, and the one PR comment."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.config import AppPolicy
from ..engine.delta import FeatureDelta
from ..engine.model import GapKind, Status
from .common import Link, loc, neutralise, plural, score, status_mark
from .markdown import BAND_ICON, _req_text, esc, inline

CHECK_NAME = "driftbot"
COMMENT_MARKER = "<!-- driftbot:pr-comment -->"
MAX_TEXT = 65_535  # check-run title/summary/text
MAX_BODY = 65_536  # issue and comment bodies
ANNOTATIONS_PER_REQUEST = 50

LEVEL = {"failure": 3, "warning": 2, "notice": 1}
RECHECK_ACTION = {"label": "Recheck", "identifier": "recheck", "description": "Analyse this commit again"}


@dataclass
class CheckOutput:
    title: str
    summary: str
    text: str
    conclusion: str
    annotations: list[dict] = field(default_factory=list)
    omitted: int = 0


def _pct(v: int | None) -> str:
    return "unknown" if v is None else f"{v} %"


def _arrow(d: FeatureDelta) -> str:
    if d.before is None:
        return f"new → {_pct(d.drift_after)}"
    if d.after is None:
        return f"{_pct(d.drift_before)} → removed"
    c = d.drift_change
    mark = f" ▲{c}" if c > 0 else (f" ▼{-c}" if c < 0 else "")
    return f"{_pct(d.drift_before)} → {_pct(d.drift_after)}{mark}"


def conclusion(deltas: list[FeatureDelta], policy: AppPolicy) -> tuple[str, str]:
    """(conclusion, why). Informational by default; failures only where the policy opts in."""
    new = sum(1 for d in deltas for g in d.new_gaps if g.actionable)
    regressions = sum(len(d.regressions) for d in deltas)
    worst = max((d.drift_change for d in deltas), default=0)
    if "regressions" in policy.fail_on and regressions:
        return "failure", f"{plural(regressions, 'implemented requirement')} removed (policy: fail on regressions)"
    if "new-gaps" in policy.fail_on and new:
        return "failure", f"{plural(new, 'new gap')} (policy: fail on new gaps)"
    if "drift-increase" in policy.fail_on and worst > policy.max_drift_increase:
        return "failure", (f"drift rose by {worst} points (policy: fail above {policy.max_drift_increase})")
    if new or regressions:
        found = ([plural(regressions, "regression")] if regressions else []) + [plural(new, "new gap")]
        return "neutral", (f"{' and '.join(found)}; informational (set `checks.fail_on` in "
                           "`.github/driftbot.yml` to fail the check on them)")
    return "success", "no new gaps"


def annotations(deltas: list[FeatureDelta], link: Link | None = None,
                changed: dict[str, int] | None = None) -> list[dict]:
    """Annotations on exact lines, most severe first. ``changed``: the files the change touches that are
    still there, with their line counts: a regression is annotated where the change is, too (the spec
    line is usually outside the diff)."""
    out = []
    regressed = {r.gap.fingerprint for d in deltas for r in d.regressions}
    for d in deltas:
        for r in d.regressions:
            g = r.gap
            was = ", ".join(f"{e.path}:{e.line}" if e.line else e.path for e in r.was[:2]) or "the base branch"
            out.append(_ann(g.path, g.line, "failure", f"{d.id}: implementation removed",
                            f"{g.message}\nAt the base of this pull request it was implemented at {was}; "
                            f"this pull request removes it.\nGap {g.fingerprint}"))
            for e in r.was[:2]:
                if changed and e.path in changed and e.path != g.path:
                    spec = f"{g.path}:{g.line}" if g.line else (g.path or "the spec")
                    out.append(_ann(e.path, min(max(1, e.line or 1), max(1, changed[e.path])), "failure",
                                    f"{d.id}: this change removes what the spec asks for",
                                    f"{g.message}\nBefore this change, line {e.line} of this file met the "
                                    f"requirement at {spec}.\nGap {g.fingerprint}"))
        for g in d.new_gaps:
            if g.fingerprint in regressed or not g.path:
                continue
            if g.kind is GapKind.MARKER:
                stub = g.marker == "stub"
                out.append(_ann(g.path, g.line, "warning" if stub else "notice",
                                f"{d.id}: this pull request adds a {'stub' if stub else 'TODO-style note'}",
                                f"{g.message}\nGap {g.fingerprint}"))
            elif g.confidence == "low":
                out.append(_ann(g.path, g.line, "notice", f"{d.id}: {g.kind.value} (low confidence)",
                                f"{g.message}\nJudged by the words of the spec, not a name in code: check it by "
                                f"hand.\nGap {g.fingerprint}"))
            elif g.kind in (GapKind.MISSING, GapKind.CLAIMED_DONE, GapKind.NO_CODE):
                title = {GapKind.MISSING: "requirement lacks an implementation",
                         GapKind.CLAIMED_DONE: "checked as done, no evidence",
                         GapKind.NO_CODE: "spec without code"}[g.kind]
                out.append(_ann(g.path, g.line, "warning", f"{d.id}: {title}", f"{g.message}\nGap {g.fingerprint}"))
            else:
                out.append(_ann(g.path, g.line, "notice", f"{d.id}: {g.kind.value}", f"{g.message}\nGap {g.fingerprint}"))
    out.sort(key=lambda a: (-LEVEL[a["annotation_level"]], a["path"], a["start_line"]))
    return out


def _ann(path: str, line: int | None, level: str, title: str, message: str) -> dict:
    line = max(1, line or 1)
    return {"path": path, "start_line": line, "end_line": line, "annotation_level": level,
            "title": title[:255], "message": message[:64000]}


def _gap_line(d_id: str, g, link, was=()) -> str:
    """A new gap; ``was``: where the base implemented it (a regression this change makes)."""
    where = loc(g.path, g.line, link)
    line = f"- **{inline(d_id)}** · {g.kind.value} · `{g.fingerprint}` — "
    if was:
        line += f"⚠️ regression, implemented at the base in {loc(was[0].path, was[0].line, link)}: "
    return line + inline(g.message) + (f" ({where})" if where else "")


def _resolved_line(d_id: str, g, link) -> str:
    """A gap this change closes, said in the past: what it was, not what is wrong now."""
    where = loc(g.path, g.line, link)
    return (f"- **{inline(d_id)}** · {g.kind.value} · `{g.fingerprint}` — ✅ resolved (was: {inline(g.message)})"
            + (f" ({where})" if where else ""))


def _table(deltas: list[FeatureDelta]) -> list[str]:
    rows = ["| Feature | Drift (base → head) | Band | New gaps | Resolved |", "|---|---|---|---|---|"]
    for d in sorted(deltas, key=lambda d: (-d.drift_change, d.id)):
        band = d.after.band if d.after else "—"
        icon = BAND_ICON.get(band, "")
        rows.append(f"| {esc(d.id)} | {_arrow(d)} | {icon} {band} | {len(d.new_gaps)} | {len(d.resolved_gaps)} |")
    return rows


def check_output(deltas: list[FeatureDelta], policy: AppPolicy, *, total_features: int, link: Link | None = None,
                 notes: list[str] = (), changed: dict[str, int] | None = None) -> CheckOutput:
    concl, why = conclusion(deltas, policy)
    new = sum(len(d.new_gaps) for d in deltas)
    resolved = sum(len(d.resolved_gaps) for d in deltas)
    regressions = sum(len(d.regressions) for d in deltas)
    if not deltas:
        title = "No feature touched"
    elif regressions:
        title = f"{plural(regressions, 'regression')}, {plural(new, 'new gap')}, {resolved} resolved"
    else:
        title = f"{plural(new, 'new gap')}, {resolved} resolved"
    lines = []
    if deltas:
        lines += [f"**{plural(len(deltas), 'touched feature')}** of {total_features}: "
                  f"{plural(new, 'new gap')}, {plural(resolved, 'resolved gap')}"
                  + (f", {plural(regressions, 'regression')}" if regressions else "") + f". Conclusion: {why}.", ""]
        lines += _table(deltas)
    else:
        lines.append("The changed files belong to no feature in the feature map, so nothing was recomputed.")
    lines += [""] + [f"> {n}" for n in notes]
    summary = _fit(neutralise("\n".join(lines)), MAX_TEXT)  # neutralised first: it may lengthen the text
    ann = annotations(deltas, link, changed)
    cap = policy.annotations
    omitted = max(0, len(ann) - cap)
    text = _details(deltas, link, omitted)
    ann = [{**a, "message": neutralise(a["message"]), "title": neutralise(a.get("title", ""))} for a in ann]
    return CheckOutput(title=neutralise(title)[:255], summary=summary, text=text,
                       conclusion=concl, annotations=ann[:cap],
                       omitted=omitted)


def _details(deltas: list[FeatureDelta], link, omitted: int) -> str:
    lines = []
    new = [_gap_line(d.id, g, link, {r.gap.fingerprint: r.was for r in d.regressions}.get(g.fingerprint, ()))
           for d in deltas for g in d.new_gaps]
    resolved = [_resolved_line(d.id, g, link) for d in deltas for g in d.resolved_gaps]
    if new:
        lines += ["### New gaps", ""] + new + [""]
    if resolved:
        lines += ["### Resolved gaps", ""] + resolved + [""]
    for d in deltas:
        if d.after is None:
            continue
        f = d.after
        lines += [f"### {inline(f.id)} — {score(f.alignment, '/100')} ({f.band})", ""]
        for t in f.terms:
            lines.append(f"- {t.signal}: {'n/a' if not t.applicable else f'{t.value:.2f}'} × {t.weight:g} — {inline(t.explanation)}")
        unmet = [r for r in f.requirements if r.status in (Status.MISSING, Status.PARTIAL)]
        if unmet:
            lines += ["", "| Requirement | Status | Evidence or where it was looked for |", "|---|---|---|"]
            for r in unmet[:60]:
                q = r.requirement
                ev = "<br>".join(f"{loc(e.path, e.line, link, cell=True)} {esc(e.note)}" for e in r.evidence[:2]) or \
                    esc((f"{r.detail} (searched {r.searched})" if r.detail else f"searched {r.searched}") if r.searched
                        else r.detail)
                lines.append(f"| {q.id}: {_req_text(q)} ({loc(q.spec_path, q.line, link, cell=True)}) | "
                             f"{status_mark(r.status)} | {ev} |")
            if len(unmet) > 60:
                lines.append(f"\n_… and {len(unmet) - 60} more._")
        lines.append("")
    if omitted:
        lines.append(f"_{plural(omitted, 'annotation')} not shown (the check shows the most severe first)._")
    lines.append("Waive a gap with `/drift waive <fingerprint> <reason>` in a comment; `/drift help` lists the commands.")
    return _fit(neutralise("\n".join(lines)), MAX_TEXT)


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 200]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    return cut + "\n\n_… truncated: the full details are in the report (`driftbot report`)._"


def fit_lines(head: str, lines: list[str], tail: str, limit: int, more: str) -> str:
    """head + as many of ``lines`` as fit + tail, within ``limit`` characters. What does not fit
    is replaced by one line, ``more`` formatted with the count left out. The head (summary,
    links) and the tail (controls) are always kept."""
    room = limit - len(head) - len(tail) - len(more) - 20
    shown: list[str] = []
    for i, line in enumerate(lines):
        if len(line) + 1 > room:
            shown.append(more.format(n=len(lines) - i))
            break
        shown.append(line)
        room -= len(line) + 1
    return head + ("\n".join(shown) + "\n" if shown else "") + tail


DETAILS_AFTER = 5  # gap lists longer than this fold away


def comment_body(deltas: list[FeatureDelta], head_sha: str, check_url: str | None, *, total_features: int,
                 link: Link | None = None, app: bool = True, overall: tuple | None = None,
                 dashboard: int | None = None) -> str:
    """The one PR comment: summary and links first, so truncation only ever drops detail. ``app=False``:
    the same for a CI job summary, where there is no App to answer commands or check to see.
    ``overall``: the repository's overall alignment (before, after), the untouched features as the
    default branch last had them; ``dashboard``: the drift dashboard's issue number."""
    new = sum(len(d.new_gaps) for d in deltas)
    resolved = sum(len(d.resolved_gaps) for d in deltas)
    regressions = sum(len(d.regressions) for d in deltas)
    head = [COMMENT_MARKER, "### driftbot", ""]
    if not deltas:
        head.append(f"This pull request touches no feature's spec or code (at `{head_sha[:7]}`).")
    else:
        parts = ([f"removes {plural(regressions, 'implemented requirement')}"] if regressions else []) + \
            [f"adds {plural(new, 'new gap')}", f"resolves {plural(resolved, 'gap')}"]
        verdict = ", ".join(parts[:-1]) + " and " + parts[-1]
        head.append(f"At `{head_sha[:7]}`, this pull request {verdict} across "
                    f"{plural(len(deltas), 'touched feature')} (of {total_features}).")
    if overall and overall[1] is not None:
        before, after = overall
        change = "" if before is None else (f" (▲{after - before})" if after > before else
                                            f" (▼{before - after})" if after < before else " (unchanged)")
        was = f"{before} → " if before is not None and before != after else ""
        head.append(f"Overall alignment: **{was}{after}/100**{change} across all {plural(total_features, 'feature')}.")
    links = ([f"[the driftbot check]({check_url}) for details and line annotations"] if check_url else []) + \
        ([f"the drift dashboard (#{dashboard}) for the whole repository"] if dashboard else [])
    if links:
        head.append("See " + ", and ".join(links) + ".")
    head.append("")
    if deltas:
        head += _table(deltas) + [""]
    tail = []
    if new or resolved:
        tail += [_gap_line(d.id, g, link, {r.gap.fingerprint: r.was for r in d.regressions}.get(g.fingerprint, ()))
                 for d in deltas for g in d.new_gaps]
        tail += [_resolved_line(fid, g, link) for fid, g in ((d.id, g) for d in deltas for g in d.resolved_gaps)]
    folded = len(tail) > DETAILS_AFTER
    if folded:  # a long list folds away; the comment stays about a screen long
        tail = ["", f"<details><summary>{plural(new, 'new gap')}, {resolved} resolved</summary>", ""] + tail
    elif tail:
        tail = ["", "#### Gaps", ""] + tail
    footer = ["", "<sub>Commands: `/drift recheck` · `/drift explain <feature>` · `/drift waive <gap> <reason>` · "
              "`/drift help`</sub>"] if app else \
        ["", "<sub>Waive a gap by adding its fingerprint under `waivers:` in the driftbot config.</sub>"]
    if folded:
        footer = ["", "</details>"] + footer
    return fit_lines(neutralise("\n".join(head)), [neutralise(t) for t in tail], "\n".join(footer) + "\n", MAX_BODY,
                     "- _… and {n} more: see the check._" if app else "- _… and {n} more: `driftbot check` lists them._")
