"""Findings → one self-contained HTML page: the summary, a sortable feature table, each feature's
requirements with their evidence (linked to the lines on GitHub when the remote is known), and — with
history — the trend of overall and per-feature alignment over the last commits. No script or style is
fetched from anywhere: the page works offline and from a CI artifact."""
from __future__ import annotations

import re
from html import escape

from ..engine.model import Findings, Status
from ..engine.scoring import band
from .common import Link, band_counts, by_score, plural, recommendation, remarks, score
from .markdown import Meta

STATUS_MARK = {Status.MET: ("✔", "met"), Status.PARTIAL: ("◐", "partial"), Status.MISSING: ("✘", "missing"),
               Status.UNVERIFIABLE: ("?", "unverifiable")}
BAND_CLASS = {"Excellent": "b-ex", "Low": "b-lo", "Medium": "b-me", "High": "b-hi", "Critical": "b-cr", "Unknown": "b-un"}
TREND_FEATURES = 6  # feature lines drawn besides the overall one: those that moved most

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.meta{color:#59636e;margin-bottom:1rem}.big{font-size:2.2rem;font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #eaeef2;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}code{font:12px ui-monospace,monospace;background:#f6f8fa;padding:0 .2rem;border-radius:3px}
.band{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:12px;color:#fff}
.b-ex{background:#1a7f37}.b-lo{background:#4c9a2a}.b-me{background:#bf8700}.b-hi{background:#d1570f}.b-cr{background:#cf222e}.b-un{background:#8c959f}
.met{color:#1a7f37}.partial{color:#bf8700}.missing{color:#cf222e}.unverifiable{color:#59636e}
details{border:1px solid #d0d7de;border-radius:6px;margin:.5rem 0;padding:.3rem .8rem}summary{cursor:pointer;font-weight:600}
.ev{color:#59636e;font-size:12px}code.judged{outline:1px solid #0969da;background:#ddf4ff}svg.trend{width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px}
.legend span{display:inline-block;margin-right:1rem;font-size:12px}.legend i{display:inline-block;width:1rem;height:3px;vertical-align:middle;margin-right:.3rem}
"""

_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function(table){
  table.querySelectorAll("th").forEach(function(th, col){
    th.addEventListener("click", function(){
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var down = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("th").forEach(function(h){ h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      rows.sort(function(a, b){
        var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
        var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return down ? -c : c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""

_PALETTE = ["#0969da", "#8250df", "#bf3989", "#1a7f37", "#bc4c00", "#57606a"]


_CODE = re.compile(r"`([^`\n]+)`")


def _inline(text: str, judged: frozenset = frozenset()) -> str:
    """Text with its `code spans` shown as code; everything escaped. Spans named in ``judged`` (what a
    requirement checks, when its sentence names several) are marked."""
    def code(m):
        mark = ' class="judged" title="what this row checks"' if judged and m.group(1) in judged else ""
        return f"<code{mark}>{m.group(1)}</code>"
    return _CODE.sub(code, escape(text))


def _band(b: str, suffix: str = "") -> str:
    label = b + (suffix if b != "Unknown" else "")
    return f'<span class="band {BAND_CLASS.get(b, "b-un")}" title="drift: {escape(b.lower())}">{escape(label)}</span>'


def _where(path: str, line: int | None, link: Link | None) -> str:
    label = f"{path}:{line}" if line else path
    url = link(path, line or 0) if link else None
    text = f"<code>{escape(label)}</code>"
    return f'<a href="{escape(url, quote=True)}">{text}</a>' if url else text


def trend_svg(history, width: int = 960, height: int = 260) -> str:
    """Overall alignment (thick) and the features that moved most, one point per commit."""
    points = [p for p in history if p.overall is not None or p.features]
    if len(points) < 2:
        return ""
    left, right, top, bottom = 44, 16, 14, 34
    w, h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + w * i / (len(points) - 1)

    def y(v: int) -> float:
        return top + h * (1 - v / 100)

    out = [f'<svg class="trend" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'aria-label="alignment over the last {len(points)} commits">']
    for v in (0, 25, 50, 75, 100):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eaeef2"/>'
                   f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#59636e">{v}</text>')
    step = max(1, len(points) // 8)
    for i, p in enumerate(points):
        if i % step == 0 or i == len(points) - 1:
            anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
            out.append(f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="{anchor}" fill="#59636e">'
                       f'{escape(p.sha[:7])}</text>')
    moved = {}
    for fid in {f for p in points for f in p.features}:
        vals = [p.features.get(fid) for p in points if p.features.get(fid) is not None]
        if len(vals) >= 2:
            moved[fid] = max(vals) - min(vals)
    chosen = sorted(moved, key=lambda f: (-moved[f], f))[:TREND_FEATURES]
    legend = ['<span><i style="background:#1f2328;height:4px"></i>overall</span>']
    for n, fid in enumerate(chosen):
        colour = _PALETTE[n % len(_PALETTE)]
        out.append(_polyline([(x(i), y(p.features[fid])) for i, p in enumerate(points)
                              if p.features.get(fid) is not None], colour, 1.5, fid))
        legend.append(f'<span><i style="background:{colour}"></i>{escape(fid)}</span>')
    out.append(_polyline([(x(i), y(p.overall)) for i, p in enumerate(points) if p.overall is not None],
                         "#1f2328", 3, "overall"))
    for i, p in enumerate(points):
        if p.overall is not None:
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(p.overall):.1f}" r="3.5" fill="#1f2328"><title>'
                       f'{escape(p.sha[:7])} {escape(p.date[:10])}: {p.overall}/100 — {escape(p.subject[:80])}'
                       f'</title></circle>')
    out.append("</svg>")
    return "".join(out) + f'<div class="legend">{"".join(legend)}</div>'


def _polyline(pts, colour: str, width: float, title: str) -> str:
    if len(pts) < 2:
        return ""
    coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
    return (f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="{width}" '
            f'stroke-linejoin="round"><title>{escape(title)}</title></polyline>')


def render(findings: Findings, meta: Meta, link: Link | None = None, history=None) -> str:
    overall = findings.overall_alignment
    b = band(overall)
    feats = sorted(findings.features, key=by_score)
    stamp = f"commit {meta.commit[:12]}" if meta.commit else "working tree (not a git commit)"
    open_gaps = sum(len(f.open_gaps) for f in findings.features)
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width,initial-scale=1">',
           f"<title>Drift report: {escape(meta.name)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>Design–implementation drift report: {escape(meta.name)}</h1>",
           f'<div class="meta">driftbot {escape(meta.version or "")} · {escape(stamp)}'
           + (f" · {escape(meta.generated)}" if meta.generated else "") + "</div>",
           '<div class="cards">',
           f'<div class="card"><div>Overall alignment</div><div class="big">{escape(score(overall))}</div>{_band(b, " drift")}</div>',
           f'<div class="card"><div>Features</div><div class="big">{len(findings.features)}</div></div>',
           f'<div class="card"><div>Open gaps</div><div class="big">{open_gaps}</div></div>']
    counts = band_counts(findings)
    spread = ", ".join(f"{n} {escape(k.lower())}" for k, n in counts.items() if n)
    out.append(f'<div class="card"><div>Drift by feature</div><div>{spread or "—"}</div></div></div>')
    trend = trend_svg(history or [])
    if trend:
        out += [f"<h2>Trend over the last {plural(len(history), 'commit')}</h2>", trend]
    out += ["<h2>Features</h2>", '<table class="sortable"><thead><tr><th>Feature</th><th>Alignment</th>'
            "<th>Drift %</th><th>Band</th><th>Finished?</th><th>Open gaps</th><th>Remarks</th></tr></thead><tbody>"]
    for f in feats:
        sort_align = -1 if f.alignment is None else f.alignment
        out.append(f'<tr><td><a href="#f-{escape(f.id, quote=True)}">{escape(f.id)}</a></td>'
                   f'<td class="num" data-sort="{sort_align}">{escape(score(f.alignment))}</td>'
                   f'<td class="num" data-sort="{-1 if f.drift is None else f.drift}">{escape(score(f.drift))}</td>'
                   f"<td>{_band(f.band)}</td><td>{escape(f.finished.capitalize())}</td>"
                   f'<td class="num">{len(f.open_gaps)}</td><td>{_inline(remarks(f))}</td></tr>')
    out.append("</tbody></table><h2>Requirements and evidence</h2>")
    for n, f in enumerate(feats):
        opened = " open" if n == 0 else ""  # the feature that needs the most work is shown open
        out.append(f'<details id="f-{escape(f.id, quote=True)}"{opened}><summary>{escape(f.id)} — '
                   f"{escape(score(f.alignment))} {_band(f.band)} · {plural(len(f.requirements), 'requirement')}, "
                   f"{plural(len(f.open_gaps), 'open gap')}</summary>")
        specs = ", ".join(_where(s, None, link) for s in f.spec)
        out.append(f"<p>Spec: {specs or '—'}<br>Next: {_inline(recommendation(f))}</p>")
        if f.requirements:
            out.append('<table><thead><tr><th></th><th>Requirement</th><th>Evidence</th></tr></thead><tbody>')
            for r in f.requirements:
                mark, cls = STATUS_MARK[r.status]
                q = r.requirement
                ev = "<br>".join(f"{_where(e.path, e.line, link)} <span class=\"ev\">{escape(e.note)}</span>"
                                 for e in r.evidence[:5])
                detail = f'<div class="ev">{_inline(r.detail)}</div>' if r.detail else ""
                judged = frozenset(escape(a.value) for a in q.anchors) if q.text.count("`") > 2 else frozenset()
                out.append(f'<tr><td class="{cls}" title="{cls}">{mark}</td><td>{_inline(q.text, judged)} '
                           f'<span class="ev">({_where(q.spec_path, q.line, link)})</span>{detail}</td>'
                           f"<td>{ev or '—'}</td></tr>")
            out.append("</tbody></table>")
        out.append("</details>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
