"""Words shared by every reporter: remarks, recommendations and observations written from the
actual gaps of each feature — never boilerplate."""
from __future__ import annotations

import re

from collections import Counter
from typing import Callable

from ..engine.model import GAP_TITLES, FeatureResult, Findings, Gap, GapKind, Kind, Status
from ..engine.scoring import BAND_ORDER, UNKNOWN, band, band_range, sort_key

Link = Callable[[str, int], str]

# What to do about each gap kind across features (cross-cutting recommendations).
CROSS_CUTTING = {
    GapKind.NO_CODE: "Decide for each spec whether it is still planned: implement it, or move it under a "
                     "\"Future work\" heading so it stops counting as drift.",
    GapKind.MISSING: "Work through the missing anchors in spec order; each one names the route, symbol or file "
                     "to add.",
    GapKind.CLAIMED_DONE: "Uncheck the boxes whose evidence is missing, or point them at the code that does the "
                          "work (a backticked symbol or path).",
    GapKind.STALE_SPEC: "Check the boxes of items that exist: a spec that under-reports progress hides real gaps.",
    GapKind.NO_TESTS: "Add at least one test file per feature (the rule packs list the names they recognise).",
    GapKind.MARKER: "Turn TODO/FIXME notes into issues and implement or delete the stubs before calling a "
                    "feature done.",
    GapKind.NOT_WIRED: "Reference each feature from the places that should reach it (router, main, UI), or "
                       "declare `wired_from:` for it in the config.",
    GapKind.PARTIAL: "Move implementations into the feature's own code, or fix the spec where the code is "
                     "right and the spec is not.",
}


def loc(path: str | None, line: int | None, link: Link | None = None, *, cell: bool = False) -> str:
    """`path:line`, linked when a link maker is given. ``cell``: for a table cell, where GitHub splits on
    every unescaped | (inside code spans too); elsewhere a backslash would show."""
    if not path:
        return ""
    label = f"{path}:{line}" if line else path
    if link:
        url = link(path, line or 0)
        if url:
            out = f"[`{label}`]({url.replace('|', '%7C')})"
            return out.replace("|", "\\|") if cell else out
    return f"`{label}`".replace("|", "\\|") if cell else f"`{label}`"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def remarks(f: FeatureResult) -> str:
    """One short line on what the evidence says about a feature."""
    c = f.signals.requirements
    verifiable = c["met"] + c["partial"] + c["missing"]
    parts = []
    if f.scope == "located" and f.located:
        parts.append(located_phrase(f))
    elif f.signals.code_files == 0:
        parts.append("no code found")
    if verifiable:
        parts.append(f"{c['met']}/{verifiable} requirements met" + (f", {c['partial']} partial" if c["partial"] else ""))
    elif c["unverifiable"]:
        parts.append(f"{plural(c['unverifiable'], 'requirement')} without anchors")
    else:
        parts.append("spec names nothing checkable")
    kinds = Counter(g.kind for g in f.open_gaps)
    if kinds[GapKind.CLAIMED_DONE]:
        parts.append(f"{kinds[GapKind.CLAIMED_DONE]} checked as done without evidence")
    if kinds[GapKind.STALE_SPEC]:
        n = kinds[GapKind.STALE_SPEC]
        parts.append(f"{plural(n, 'open item')} already {'exists' if n == 1 else 'exist'}")
    if f.signals.code_files:
        if not f.signals.test_files:
            parts.append("no tests")
        stubs = sum(1 for m in f.signals.markers if m.kind == "stub")
        notes = len(f.signals.markers) - stubs
        if stubs:
            parts.append(plural(stubs, "stub"))
        if notes:
            parts.append(plural(notes, "TODO marker"))
        if kinds[GapKind.NOT_WIRED]:
            parts.append("not referenced from outside")
    waived = len(f.gaps) - len(f.open_gaps)
    if waived:
        parts.append(f"{waived} waived")
    return "; ".join(parts)


def listing(items, n: int, sep: str = ", ") -> str:
    """The first ``n`` of ``items`` joined, and how many more there are: "a, b, c and 4 more"."""
    items = list(items)
    return sep.join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def folder_label(folder: str) -> str:
    """``src/connectors/`` as written; the root folder in words."""
    return "the repository root" if folder.strip("./") == "" else folder


def located_phrase(f: FeatureResult) -> str:
    """Where a located feature's evidence lies: "code found in src/connectors/ (14 of 17 requirements)"."""
    if not f.located:
        # its folder's files may be in scope ("17 files located"): it is the requirements that found none
        return "no requirement found its code" if f.signals.code_files else "no code found"
    shown = [f"{folder_label(d)} ({n} of {f.located_of})" for d, n in f.located[:2]]
    more = f" and {len(f.located) - 2} more" if len(f.located) > 2 else ""
    return "code found in " + ", ".join(shown) + more


def _anchor_list(gaps: list[Gap], n: int = 2) -> str:
    names = []
    for g in gaps:
        if g.requirement and g.message.startswith("`"):
            names.append(g.message.split("`")[1])
        elif g.requirement and g.message.startswith("“") and "”" in g.message:
            quote = g.message[1:g.message.index("”")]
            names.append("“" + (quote if len(quote) <= 40 else quote[:39].rsplit(" ", 1)[0] + "…") + "”")
        elif g.requirement:
            names.append(g.requirement)
    names = list(dict.fromkeys(names))
    shown = ", ".join(x if x.startswith("“") or (x.startswith(("R", "FR-", "T")) and " " not in x) else f"`{x}`"
                      for x in names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def recommendation(f: FeatureResult) -> str:
    """The next thing to do for a feature, from its most severe open gaps."""
    gaps = sorted(f.open_gaps, key=lambda g: (-g.severity, g.confidence != "high"))  # sure ones named first
    if f.scope == "located":  # markers and tests of code other features share are not this feature's to-do
        gaps = [g for g in gaps if g.kind not in (GapKind.MARKER, GapKind.NO_TESTS)]
    if not gaps:
        return "None — keep the spec current as the code changes."
    by = {}
    for g in gaps:
        by.setdefault(g.kind, []).append(g)
    steps = []
    if GapKind.NO_CODE in by:
        missing = by.get(GapKind.MISSING, [])
        steps.append("Implement the spec" + (f", starting with {_anchor_list(missing)}" if missing else "")
                     + ", or mark it as future work")
    else:
        if GapKind.CLAIMED_DONE in by:
            steps.append(f"implement or uncheck {_anchor_list(by[GapKind.CLAIMED_DONE])} (checked as done)")
        if GapKind.MISSING in by:
            removals = {r.requirement.id for r in f.requirements if r.requirement.removal}
            gone = [g for g in by[GapKind.MISSING] if g.requirement in removals]
            todo = [g for g in by[GapKind.MISSING] if g.requirement not in removals]
            if todo:
                steps.append(f"implement {_anchor_list(todo)}")
            if gone:
                steps.append(f"remove {_anchor_list(gone)}, as the spec says")
        if GapKind.NO_TESTS in by:
            roots = ", ".join(folder_label(r + "/") for r in f.code_roots[:2])
            steps.append(f"add tests for {roots or f.id}")
        stubs = [g for g in by.get(GapKind.MARKER, []) if g.marker == "stub"]
        if stubs:
            steps.append(f"replace the stub at {stubs[0].path}:{stubs[0].line}")
        if GapKind.NOT_WIRED in by:
            steps.append("wire it in (nothing outside the feature references it)")
        if GapKind.PARTIAL in by and len(steps) < 2:
            steps.append(f"complete {_anchor_list(by[GapKind.PARTIAL])}")
        if GapKind.STALE_SPEC in by and len(steps) < 3:
            steps.append(f"check the done boxes of {_anchor_list(by[GapKind.STALE_SPEC])} in the spec")
        if GapKind.MARKER in by and not stubs and len(steps) < 3:
            steps.append(f"resolve {plural(len(by[GapKind.MARKER]), 'TODO marker')}")
    return sentence("; ".join(steps[:3])) + "."


def sentence(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower-case "TODO")."""
    return text[:1].upper() + text[1:]


def band_counts(findings: Findings) -> dict[str, int]:
    counts = {b: 0 for b in BAND_ORDER}
    for f in findings.features:
        counts[f.band] = counts.get(f.band, 0) + 1
    return counts


def score(a: int | None, suffix: str = "") -> str:
    """An alignment or drift for display: the number, or "unknown"."""
    return "unknown" if a is None else f"{a}{suffix}"


def by_score(f) -> tuple:
    return (*sort_key(f.alignment), f.id)


def observations(findings: Findings) -> list[str]:
    """Key observations, each computed from the findings."""
    feats = findings.features
    out: list[str] = []
    if not feats:
        return ["No feature specs were found, so there is nothing to measure yet."]
    with_code = sum(1 for f in feats if f.signals.code_files)
    finished = sum(1 for f in feats if f.finished == "yes")
    out.append(f"{with_code} of {plural(len(feats), 'feature')} {'has' if len(feats) == 1 else 'have'} code; "
               f"{finished} {'is' if finished == 1 else 'are'} finished (Excellent band, nothing missing).")
    totals = Counter()
    for f in feats:
        totals.update(f.signals.requirements)
    verifiable = totals["met"] + totals["partial"] + totals["missing"]
    if verifiable:
        out.append(f"{verifiable} checkable requirements: {totals['met']} met "
                   f"({round(100 * totals['met'] / verifiable)} %), {totals['partial']} partial, "
                   f"{totals['missing']} missing"
                   + (f"; {totals['unverifiable']} more {'is' if totals['unverifiable'] == 1 else 'are'} "
                      "prose without anchors." if totals["unverifiable"] else "."))
    gaps = Counter()
    feats_by_kind: dict[GapKind, set[str]] = {}
    for f in feats:
        for g in f.open_gaps:
            gaps[g.kind] += 1
            feats_by_kind.setdefault(g.kind, set()).add(f.id)
    if gaps:
        kind, where = max(feats_by_kind.items(), key=lambda kv: (len(kv[1]), gaps[kv[0]]))
        out.append(f"The most widespread gap is “{GAP_TITLES[kind]}”, in {plural(len(where), 'feature')}.")
    claimed = gaps[GapKind.CLAIMED_DONE]
    if claimed:
        out.append(f"{plural(claimed, 'checklist item')} claim{'s' if claimed == 1 else ''} to be done with no "
                   "code behind {}.".format("it" if claimed == 1 else "them"))
    stale = gaps[GapKind.STALE_SPEC]
    if stale:
        out.append(f"{plural(stale, 'open checklist item')} already exist{'s' if stale == 1 else ''} in code: "
                   "the specs under-report progress.")
    known = [f for f in feats if f.alignment is not None]
    if len(known) > 1:
        worst = min(known, key=lambda f: (f.alignment, f.id))
        best = max(known, key=lambda f: (f.alignment, f.id))
        if worst.alignment != best.alignment:
            out.append(f"Alignment ranges from {worst.alignment} ({worst.id}) to {best.alignment} ({best.id}).")
    unknown = [f.id for f in feats if f.alignment is None]
    if unknown:
        names = ", ".join(unknown[:4]) + (f" and {len(unknown) - 4} more" if len(unknown) > 4 else "")
        out.append(f"{plural(len(unknown), 'feature')} {'has' if len(unknown) == 1 else 'have'} unknown alignment "
                   f"({names}): {'its spec names' if len(unknown) == 1 else 'their specs name'} nothing driftbot "
                   "can check, so they are left out of the overall score.")
    planned = sum(f.signals.requirements.get("planned", 0) for f in feats)
    if planned:
        out.append(f"{plural(planned, 'requirement')} {'is' if planned == 1 else 'are'} planned (roadmap items, "
                   "proposals, open tasks): reported, not counted as drift.")
    low = sum(1 for f in feats for g in f.open_gaps if g.confidence == "low")
    if low:
        out.append(f"{plural(low, 'gap')} {'rests' if low == 1 else 'rest'} on low-confidence verdicts (judged by "
                   "the words of a sentence, or read from a drawing): shown here, never filed as issues.")
    if findings.unpaired.code:
        out.append(f"{plural(len(findings.unpaired.code), 'code folder')} {'has' if len(findings.unpaired.code) == 1 else 'have'} "
                   "no spec: design and code disagree about what the features are.")
    return out


# Why a requirement is only partly implemented, read from its gap's message, and what to do about it.
_PARTIAL_CAUSES = (
    (("not at ",), "correct {n} path{s} the spec gives: a file of that name is elsewhere"),
    (("outside the feature", "not in ", "elsewhere", "is defined in"),
     "move {n} implementation{s} into the feature's own code (or correct the spec where the code is right)"),
    (("no metric named",), "export {n} metric{s} under the name the spec gives (the measurement exists)"),
    (("mentioned only in tests",), "implement {n} thing{s} that only tests mention"),
    (("diagram's states",), "align {n} state diagram{s} with the states the code defines"),
    (("registered for",), "register {n} route{s} for the method the spec names"),
    (("only tests", "nothing outside tests", "never called", "is never", "not exported"),
     "wire in {n} piece{s} of code that nothing outside tests reaches"),
    (("stub",), "replace {n} stub{s} with the real thing"),
    (("lacks", "does not call", "nothing handles", "but no "),
     "complete {n} implementation{s} missing part of what the spec states (parameters, calls, cases)"),
)


def _partial_cause(message: str) -> int | None:
    message = message.lower()
    return next((i for i, (needles, _text) in enumerate(_PARTIAL_CAUSES) if any(n in message for n in needles)), None)


def partial_step(message: str) -> str | None:
    """What to do about one partly implemented requirement, from its gap's message (None: no known cause)."""
    i = _partial_cause(message)
    return None if i is None else sentence(_PARTIAL_CAUSES[i][1].format(n="the", s="")) + "."


def partial_advice(gaps) -> str:
    """What to do about partly implemented requirements, from their actual causes, most common first."""
    counts: Counter = Counter()
    for g in gaps:
        i = _partial_cause(g.message)
        counts[len(_PARTIAL_CAUSES) if i is None else i] += 1
    steps = []
    for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        text = "complete {n} other partly implemented requirement{s}, or correct the spec where the code is right" \
            if i == len(_PARTIAL_CAUSES) else _PARTIAL_CAUSES[i][1]
        steps.append(text.format(n=n, s="" if n == 1 else "s"))
    return sentence("; ".join(steps[:3])) + "." if steps else CROSS_CUTTING[GapKind.PARTIAL]


def cross_cutting(findings: Findings, min_features: int = 2) -> list[tuple[GapKind, list[str], int]]:
    """Gap kinds that recur across features: (kind, features, gap count), most widespread first."""
    feats: dict[GapKind, list[str]] = {}
    count = Counter()
    for f in findings.features:
        kinds = {g.kind for g in f.open_gaps}
        for g in f.open_gaps:
            count[g.kind] += 1
        for k in kinds:
            feats.setdefault(k, []).append(f.id)
    rows = [(k, sorted(v), count[k]) for k, v in feats.items() if len(v) >= min_features]
    rows.sort(key=lambda r: (-len(r[1]), -r[2], r[0].value))
    return rows


def critical_line(f: FeatureResult) -> str:
    """Why a feature is among the worst, in one line."""
    c = f.signals.requirements
    verifiable = c["met"] + c["partial"] + c["missing"]
    bits = []
    if not f.signals.code_files:
        bits.append("no code implements " + (", ".join(f.spec[:1]) or "the spec"))
    if verifiable and c["missing"]:
        bits.append(f"{c['missing']} of {plural(verifiable, 'requirement')} missing")
    claimed = sum(1 for g in f.open_gaps if g.kind is GapKind.CLAIMED_DONE)
    if claimed:
        bits.append(f"{claimed} checked as done without evidence")
    stubs = sum(1 for m in f.signals.markers if m.kind == "stub")
    if stubs:
        bits.append(plural(stubs, "stub"))
    if f.signals.code_files and not f.signals.test_files:
        bits.append("no tests")
    return "; ".join(bits) or remarks(f)


def finished_word(f: FeatureResult) -> str:
    return {"yes": "Yes", "partly": "Partly", "no": "No", "unknown": "Unknown"}[f.finished]


def status_mark(s: Status) -> str:
    return {Status.MET: "✅ met", Status.PARTIAL: "🟡 partial", Status.MISSING: "❌ missing",
            Status.UNVERIFIABLE: "⚪ unverifiable"}[s]


def kind_word(k: Kind) -> str:
    return {Kind.ENDPOINT: "endpoint", Kind.PATH: "path", Kind.SYMBOL: "symbol", Kind.FLAG: "CLI flag",
            Kind.CHECKLIST: "checklist", Kind.FR: "FR", Kind.TASK: "task",
            Kind.OPENSPEC_REQUIREMENT: "requirement", Kind.OPENSPEC_SCENARIO: "scenario",
            Kind.SCENARIO: "scenario", Kind.COMMAND: "command", Kind.LITERAL: "text",
            Kind.PROSE: "prose"}[k]


__all__ = ["CROSS_CUTTING", "UNKNOWN", "band", "band_range", "band_counts", "by_score", "cross_cutting",
           "critical_line", "finished_word", "kind_word", "listing", "loc", "observations", "plural", "recommendation", "remarks",
           "score", "status_mark"]


# ---- document matrices -------------------------------------------------------------------------
CLAIM_MARK = {"done": "✅ done", "planned": "📋 planned", "in-progress": "🚧 in progress", "missing": "❌ not done"}


class MatrixRow:
    """One line of a document's matrix: a section, a table row or a section feature, with the
    verdicts of its requirements."""

    def __init__(self, title: str, results: list, feature: FeatureResult | None = None):
        self.title = title
        self.results = results
        self.feature = feature

    @property
    def planned(self) -> str:
        claims = [r.requirement.claim for r in self.results if r.requirement.claim]
        if claims:
            return CLAIM_MARK.get(Counter(claims).most_common(1)[0][0], "—")
        if self.results and all(r.planned for r in self.results):
            return CLAIM_MARK["planned"]
        return "—"

    def counts(self) -> tuple[int, int, int]:
        scored = [r for r in self.results if not r.planned or r.status is Status.MET]
        met = sum(1 for r in scored if r.status is Status.MET)
        part = sum(1 for r in scored if r.status is Status.PARTIAL)
        miss = sum(1 for r in scored if r.status is Status.MISSING)
        return met, part, miss

    @property
    def implemented(self) -> str:
        met, part, miss = self.counts()
        n = met + part + miss
        if not n:
            planned = [r.status for r in self.results if r.planned]
            if Status.PARTIAL in planned:
                return "⚠️ partly, ahead of plan"
            if Status.MISSING in planned:
                return "❌ not yet"
            return "❔ nothing checkable"
        if met == n:
            return "✅ yes"
        if not met and not part:
            return "❌ no"
        return f"⚠️ {met} of {n} met" + (f", {part} partly" if part else "")

    @property
    def gaps(self) -> list:
        out, seen = [], set()
        for r in self.results:
            if r.status in (Status.MISSING, Status.PARTIAL) and not r.planned and short_what(r) not in seen:
                seen.add(short_what(r))
                out.append(r)
        return out

    def evidence(self):
        """The first place the code does what this row asks (path, line), or None."""
        for r in self.results:
            if r.status in (Status.MET, Status.PARTIAL) and r.evidence:
                return r.evidence[0].path, r.evidence[0].line
        return None

    def next_step(self) -> str:
        gaps = self.gaps
        claimed = [r for r in gaps if r.requirement.claim == "done" or r.requirement.checked is True]
        ahead = [r for r in self.results if r.planned and r.status is Status.MET and r.confidence == "high"]
        if claimed:
            return f"Implement or correct the claim: {short_what(claimed[0])}"
        if gaps:
            missing = [r for r in gaps if r.status is Status.MISSING]
            first = (missing or gaps)[0]
            more = f" and {len(gaps) - 1} more" if len(gaps) > 1 else ""
            verb = "Complete " if first.status is not Status.MISSING else \
                "Remove " if first.requirement.removal else "Implement "
            return verb + short_what(first) + more
        if ahead:
            return "Mark it done in the document: it is implemented"
        if self.results and all(r.planned for r in self.results):
            return "Planned: nothing to do yet"
        if not any(r.status is not Status.UNVERIFIABLE for r in self.results):
            return "Name something checkable (a route, a symbol, a file)"
        return "None"


def short_what(r) -> str:
    q = r.requirement
    if q.anchors and q.kind is not Kind.PROSE:
        return f"`{q.anchors[0].value}`"
    text = q.text.replace("`", "")
    return "“" + (text if len(text) <= 50 else text[:49].rsplit(" ", 1)[0] + "…") + "”"


def matrix_rows(f: FeatureResult) -> list[MatrixRow]:
    """A whole document's matrix: one row per table row that names a feature (a roadmap's feature
    matrix) and per section otherwise, in document order."""
    rows: dict[tuple, MatrixRow] = {}
    for r in f.requirements:
        q = r.requirement
        if q.origin == "table" and " · " in q.text and (q.kind is Kind.PROSE or q.claim):  # a feature matrix row
            key = ("row", q.spec_path, q.line)
            title = q.text.split(" · ", 1)[0].replace("`", "").replace("**", "").strip()
        else:
            parts = [p for p in q.section.split(" › ") if p]
            title = parts[1] if len(parts) >= 2 else (parts[0] if parts else "(introduction)")
            key = ("section", q.spec_path, title)
        row = rows.get(key)
        if row is None:
            row = rows[key] = MatrixRow(title or "(untitled)", [])
        row.results.append(r)
    return list(rows.values())


_MENTION = re.compile(r"(?<![\w/.@+-])@(?=[A-Za-z0-9])")  # not in e-mail addresses or URL paths
_IMAGE = re.compile(r"!(?=\[)")
_CODE_OR_URL = re.compile(r"(`+)[^`]*?\1|https?://\S+")


def neutralise(markdown: str) -> str:
    """Text bound for GitHub that quotes what others wrote (spec lines, commands): nobody is
    @mentioned and no outside image is fetched. A word joiner after "@" and "!" leaves the text
    looking the same, but GitHub no longer notifies or renders it. Code spans and URLs are left as
    they are: GitHub mentions nobody there, and a link must keep working."""
    out, last = [], 0
    for m in _CODE_OR_URL.finditer(markdown):
        out.append(_IMAGE.sub("!\u2060", _MENTION.sub("@\u2060", markdown[last:m.start()])))
        out.append(m.group(0))
        last = m.end()
    out.append(_IMAGE.sub("!\u2060", _MENTION.sub("@\u2060", markdown[last:])))
    return "".join(out)


def band_spread(features) -> str:
    """“1 Critical, 5 High, 12 Excellent”: how many features fall in each band, worst first."""
    bands: dict[str, int] = {}
    for f in features:
        bands[f.band] = bands.get(f.band, 0) + 1
    return ", ".join(f"{bands[b]} {b}" for b in [*BAND_ORDER, UNKNOWN] if bands.get(b))


def alignment_headline(findings, strong: bool = False) -> str:
    """“overall alignment 73/100, drift 27 % (band Medium), across 48 features (1 Critical, …)”;
    “48 features, none with anything checkable” when nothing can be scored. ``strong``: the figure in bold."""
    overall, n = findings.overall_alignment, len(findings.features)
    if overall is None:
        return f"{plural(n, 'feature')}, none with anything checkable"
    figure = f"**{overall}/100**" if strong else f"{overall}/100"
    return (f"overall alignment {figure}, drift {100 - overall} % (band {band(overall)}), across "
            f"{plural(n, 'feature')} ({band_spread(findings.features)})")

