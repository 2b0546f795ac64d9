"""Slash commands: one parser, the help text, and the replies that need no GitHub access (pure)."""
from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass

from ..engine.model import FeatureResult
from ..records import FeatureRecord, HistoryPoint
from ..engine.scoring import band, mean, sort_key
from .common import Link, loc, plural, recommendation, score, status_mark
from .markdown import BAND_ICON, _req_text, esc, inline

HELP = """\
**driftbot commands** (first line of a comment, on any issue or pull request):

| Command | What it does |
|---|---|
| `/drift help` | this list |
| `/drift report [feature]` | the current scores of the default branch, or one feature in detail |
| `/drift explain <feature>` | one feature: its score terms, every requirement with evidence, its gaps |
| `/drift recheck` | analyse again (this pull request, or the default branch on an issue) |
| `/drift waive <gap> <reason> [until YYYY-MM-DD]` | accept a gap by its fingerprint; it stops counting as open |
| `/drift unwaive <gap>` | count a waived gap again |

`recheck`, `waive` and `unwaive` need write, maintain or admin access."""

_FP = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Command:
    name: str
    feature: str = ""
    gap: str = ""
    reason: str = ""
    until: str | None = None
    error: str = ""


_COMMAND = re.compile(r"/drift(?:\s|$)", re.I)


def is_command(body: str | None) -> bool:
    """Does the comment's first line start with the command word `/drift` (not `/driftwood`)?"""
    first = (body or "").lstrip().split("\n", 1)[0].strip()
    return bool(_COMMAND.match(first))


def code_span(text: str, limit: int = 80) -> str:
    """Something a user typed, shown as one code span: nothing in it can close the span, render or
    link, whatever it holds."""
    text = re.sub(r"[`\x00-\x1f\u202a-\u202e\u2066-\u2069]", "", text or "").strip()
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return f"`{text}`" if text else "(nothing)"


def quote_command(body: str) -> str:
    """The command as a code span for the reply: whatever it holds (mentions, images, HTML, backticks)
    is shown, never rendered or notified."""
    first = (body or "").lstrip().split("\n", 1)[0].strip()
    first = re.sub(r"[`\x00-\x1f\u202a-\u202e\u2066-\u2069]", "", first)
    if len(first) > 120:
        first = first[:119] + "…"
    return f"`{first}`"


def parse_command(body: str, today: dt.date | None = None) -> Command:
    """Parse the first line of a comment. Unknown or malformed commands come back with an error."""
    first = body.lstrip().split("\n", 1)[0].strip()
    if not _COMMAND.match(first):
        return Command("none", error="Not a driftbot command.")
    rest = first[len("/drift"):].strip()
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    if not words:
        return Command("help")
    name, args = words[0].lower(), words[1:]
    if name == "help":
        return Command("help")
    if name == "recheck":
        return Command("recheck")
    if name in ("report", "explain"):
        if name == "explain" and not args:
            return Command(name, error="`/drift explain` needs a feature id, e.g. `/drift explain auth`.")
        return Command(name, feature=args[0] if args else "")
    if name in ("waive", "unwaive"):
        if not args or not _FP.match(args[0].lower()):
            return Command(name, error=f"`/drift {name}` needs a gap fingerprint (12 hex characters, as shown in "
                                       "the check or the gap's issue).")
        gap = args[0].lower()
        if name == "unwaive":
            return Command(name, gap=gap)
        rest_words = args[1:]
        until = None
        if len(rest_words) >= 2 and rest_words[-2].lower() == "until":
            try:
                until_date = dt.date.fromisoformat(rest_words[-1])
            except ValueError:
                return Command(name, error=f"{code_span(rest_words[-1])} is not a date; write `until YYYY-MM-DD`.")
            if today and until_date < today:
                return Command(name, error=f"{until_date} is in the past; a waiver must end in the future.")
            until = until_date.isoformat()
            rest_words = rest_words[:-2]
        reason = " ".join(rest_words).strip()
        if not reason:
            return Command(name, error="A waiver needs a reason: `/drift waive <gap> <reason> [until YYYY-MM-DD]`.")
        return Command(name, gap=gap, reason=reason[:500], until=until)
    return Command(name, error=f"Unknown command {code_span(name, 40)}.")


def summary_table(baseline: dict[str, FeatureRecord], history: list[HistoryPoint]) -> str:
    if not baseline:
        return "driftbot has not analysed the default branch yet; push to it or comment `/drift recheck` on an issue."
    overall = mean(f.alignment for f in baseline.values())
    b = band(overall)
    head = f"**Overall alignment {overall}/100 — {BAND_ICON[b]} {b}**" if overall is not None else \
        "**Overall alignment unknown** (no spec names anything checkable)"
    lines = [head + f" ({plural(len(baseline), 'feature')}"
             + (f", at `{history[0].sha[:7]}`" if history else "") + ")", "",
             "| Feature | Alignment | Drift % | Open gaps |", "|---|---|---|---|"]
    for fid, f in sorted(baseline.items(), key=lambda kv: (*sort_key(kv[1].alignment), kv[0]))[:60]:
        lines.append(f"| {esc(fid)} | {BAND_ICON[f.band]} {score(f.alignment)} | {score(f.drift)} | {f.open_gaps} |")
    if len(baseline) > 60:
        lines.append(f"\n_… and {len(baseline) - 60} more features: see the Drift dashboard issue._")
    lines.append("\n`/drift explain <feature>` shows one feature in detail.")
    return "\n".join(lines)


def explain_feature(f: FeatureResult, commit: str, link: Link | None = None) -> str:
    title = f"{f.alignment}/100 {BAND_ICON[f.band]} {f.band} (drift {f.drift} %)" if f.alignment is not None else \
        f"alignment unknown {BAND_ICON[f.band]}"
    lines = [f"### {inline(f.id)} — {title} at `{commit[:7]}`",
             "", "| Signal | Weight | Value | Evidence |", "|---|---|---|---|"]
    for t in f.terms:
        lines.append(f"| {t.signal} | {t.weight:g} | {f'{t.value:.2f}' if t.applicable else 'n/a'} | {esc(t.explanation)} |")
    if f.requirements:
        lines += ["", "| ID | Requirement | Status | Evidence |", "|---|---|---|---|"]
        for r in f.requirements[:80]:
            ev = "<br>".join(f"{loc(e.path, e.line, link, cell=True)} {esc(e.note)}" for e in r.evidence[:2]) or esc(r.detail)
            lines.append(f"| {r.requirement.id} | {_req_text(r.requirement)} "
                         f"({loc(r.requirement.spec_path, r.requirement.line, link, cell=True)}) "
                         f"| {status_mark(r.status)} | {ev} |")
    if f.open_gaps:
        lines += ["", "Open gaps:"] + [f"- `{g.fingerprint}` {g.kind.value} — {inline(g.message)}" for g in f.open_gaps[:40]]
    lines += ["", f"Next: {recommendation(f)}"]
    return "\n".join(lines)
