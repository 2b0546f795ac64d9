"""Findings → SARIF 2.1.0, for GitHub code scanning and every tool that reads static-analysis results.

One rule per kind of gap, its help written for the person who will fix it (with the fix guidance of
the rule packs in use for the kinds their rules decide); one result per gap at its spec line, with
the code the verdict rests on as related locations; the gap's fingerprint as its partial fingerprint,
so code scanning follows a gap across commits; waived gaps as suppressed results with the reason.
"""
from __future__ import annotations

import json
from urllib.parse import quote

from ..engine.model import GAP_SEVERITY, GAP_TITLES, Findings, GapKind
from .guidance import HELP, pack_fixes
from .markdown import Meta

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "driftbotGap/v1"
MAX_RELATED = 10

def _rule(kind: GapKind, packs) -> dict:
    what, fix = HELP[kind]
    guidance = pack_fixes(kind, packs, limit=12)
    markdown = f"{what}\n\n**How to fix:** {fix}"
    if guidance:
        markdown += "\n\n**What the rule packs look for:**\n" + "\n".join(f"- {g}" for g in guidance)
    title = GAP_TITLES[kind]
    return {
        "id": f"drift/{kind.value}",
        "name": "".join(w.capitalize() for w in kind.value.split("-")),
        "shortDescription": {"text": title[:1].upper() + title[1:]},
        "fullDescription": {"text": what},
        "help": {"text": f"{what} How to fix: {fix}", "markdown": markdown},
        "defaultConfiguration": {"level": _level(kind, "high")},
        "properties": {"tags": ["drift", "design"], "precision": "high" if kind is not GapKind.PARTIAL else "medium"},
    }


def _level(kind: GapKind, confidence: str) -> str:
    if confidence != "high":
        return "note"
    return "warning" if GAP_SEVERITY[kind] >= 4 else "note"


def _location(path: str, line: int | None, message: str | None = None, prefix: str = "") -> dict:
    physical: dict = {"artifactLocation": {"uri": quote(prefix + path), "uriBaseId": "%SRCROOT%"}}
    if line and line > 0:
        physical["region"] = {"startLine": line}
    loc: dict = {"physicalLocation": physical}
    if message:
        loc["message"] = {"text": message}
    return loc


def render(findings: Findings, meta: Meta, packs=(), only: set[str] | None = None, prefix: str = "") -> str:
    """The SARIF log of ``findings``; ``only``: just the gaps with these fingerprints (the new gaps of
    a change, for `driftbot check`). ``prefix``: the checked folder's path in its repository (paths in
    the log are the repository's, as code scanning reads them)."""
    kinds = [k for k in GapKind]
    index = {k: i for i, k in enumerate(kinds)}
    results = []
    placeless = 0
    for f in findings.features:
        evidence = {r.requirement.id: r.evidence for r in f.requirements}
        for g in f.gaps:
            if only is not None and g.fingerprint not in only:
                continue
            text = f"{f.id}: {g.message}"
            result: dict = {
                "ruleId": f"drift/{g.kind.value}",
                "ruleIndex": index[g.kind],
                "level": _level(g.kind, g.confidence),
                "message": {"text": text},
                "partialFingerprints": {FINGERPRINT_KEY: g.fingerprint},
                "properties": {"feature": f.id, "confidence": g.confidence, "alignment": f.alignment},
            }
            # a result needs a place (code scanning refuses the whole log otherwise): the gap's line, else
            # the feature's spec, else its code, else the config that declares it
            place = g.path or next(iter(f.spec), None) or next(iter(f.code_roots), None) or findings.config_source
            if not place:
                placeless += 1
                continue
            result["locations"] = [_location(place.rstrip("/") or ".", g.line if g.path else None, prefix=prefix)]
            related = [_location(e.path, e.line, e.note, prefix) for e in evidence.get(g.requirement or "", ())
                       if e.path and e.path != g.path][:MAX_RELATED]
            if related:
                for i, loc in enumerate(related):
                    loc["id"] = i + 1
                result["relatedLocations"] = related
            if g.waived:
                result["suppressions"] = [{"kind": "external", "status": "accepted",
                                           "justification": g.waiver_reason or "waived in the driftbot config"}]
            results.append(result)
    run: dict = {
        "tool": {"driver": {"name": "driftbot", "version": meta.version or "0.0.0",
                            "semanticVersion": meta.version or "0.0.0",
                            "rules": [_rule(k, packs) for k in kinds]}},
        "automationDetails": {"id": "driftbot/"},
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The root of the repository checkout."}}},
        "results": results,
        "properties": {"overallAlignment": findings.overall_alignment, "features": len(findings.features)},
    }
    if placeless:
        run["properties"]["gapsWithoutAPlace"] = placeless
    if meta.commit:
        run["properties"]["commit"] = meta.commit
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
