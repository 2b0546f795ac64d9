"""Findings → JSON (documented by schema/report.schema.json)."""
from __future__ import annotations

import json

from ..engine.model import Findings, FeatureResult
from ..engine.scoring import band
from .common import band_counts, recommendation, remarks
from .markdown import Meta

SCHEMA_VERSION = 2


def _anchor(a) -> dict:
    d = {"kind": a.kind.value, "value": a.value, "subkind": a.subkind}
    if a.owner:
        d["owner"] = a.owner
    if a.parts:
        d["parts"] = list(a.parts)
    if a.where:
        d["where"] = a.where
    if a.default:
        d["default"] = a.default
    if a.calls:
        d["calls"] = list(a.calls)
    if a.absent and a.subkind not in ("mention", "scope"):
        d["absent"] = a.absent  # removed | unused: the spec says the code must not have it
    return d


def feature_dict(f: FeatureResult) -> dict:
    return {
        "id": f.id,
        "spec": list(f.spec),
        "code": list(f.code),
        "code_roots": list(f.code_roots),
        "source": f.source,
        "alignment": f.alignment,
        "drift": f.drift,
        "band": f.band,
        "finished": f.finished,
        "remarks": remarks(f),
        "recommendation": recommendation(f),
        "score": [{"signal": t.signal, "weight": t.weight, "value": round(t.value, 4), "applicable": t.applicable,
                   "explanation": t.explanation} for t in f.terms],
        "signals": f.signals.as_dict(),
        "scope": f.scope,
        "document": f.document or None,
        "section": f.section or None,
        "lines": [list(p) for p in f.parts],
        "located": [{"folder": d, "requirements": n} for d, n in f.located],
        "located_of": f.located_of,
        "excluded_requirements": f.excluded_requirements,
        "requirements": [{
            "id": r.requirement.id,
            "kind": r.requirement.kind.value,
            "label": r.requirement.label,
            "text": r.requirement.text,
            "spec_path": r.requirement.spec_path,
            "line": r.requirement.line,
            "section": r.requirement.section,
            "checked": r.requirement.checked,
            "anchors": [_anchor(a) for a in r.requirement.anchors],
            "terms": list(r.requirement.terms),
            "origin": r.requirement.origin,
            "claim": r.requirement.claim or None,
            "planned": r.requirement.planned,
            "status": r.status.value,
            "confidence": r.confidence,
            "confidence_reason": r.confidence_reason or None,
            "matched_terms": list(r.matched),
            "detail": r.detail,
            "searched": r.searched,
            "evidence": [e.as_dict() for e in r.evidence],
        } for r in f.requirements],
        "gaps": [{
            "fingerprint": g.fingerprint,
            "kind": g.kind.value,
            "requirement": g.requirement,
            "message": g.message,
            "path": g.path,
            "line": g.line,
            "waived": g.waived,
            "waiver_reason": g.waiver_reason or None,
            "marker": g.marker or None,
            "confidence": g.confidence,
        } for g in f.gaps],
    }


def to_dict(findings: Findings, meta: Meta) -> dict:
    overall = findings.overall_alignment
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "driftbot", "version": meta.version},
        "repository": {"name": meta.name, "commit": meta.commit},
        "generated": meta.generated,
        "config": findings.config_source,
        "layouts": list(findings.layouts),
        "weights": findings.weights,
        "overall": {"alignment": overall, "drift": findings.overall_drift,
                    "band": band(overall) if findings.features else None,
                    "features": len(findings.features), "unknown_features": findings.unknown_features,
                    "bands": band_counts(findings)},
        "features": [feature_dict(f) for f in sorted(findings.features, key=lambda f: f.id)],
        "unpaired": {"specs": list(findings.unpaired.specs), "code": list(findings.unpaired.code)},
        "source": list(findings.source),
        "documents": [{"path": d.path, "role": d.role, "label": d.label, "why": d.why, "features": list(d.features),
                       "title": d.title or None} for d in findings.documents],
        "claims": [{"path": c.path, "line": c.line, "text": c.text, "claim": c.claim, "status": c.status.value,
                    "verdict": c.verdict, "detail": c.detail, "evidence": [e.as_dict() for e in c.evidence]}
                   for c in findings.claims],
        "files_scanned": findings.files_scanned,
        "bytes_scanned": findings.bytes_scanned,
        "skipped": [{"path": s.path, "reason": s.reason} for s in findings.skipped],
        "warnings": list(findings.warnings),
    }


def render(findings: Findings, meta: Meta) -> str:
    return json.dumps(to_dict(findings, meta), indent=2, ensure_ascii=False) + "\n"
