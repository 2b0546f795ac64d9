"""The alignment badge: a shields.io endpoint document, and the same badge as a small SVG."""
from __future__ import annotations

from xml.sax.saxutils import escape

from ..engine.scoring import band

LABEL = "design alignment"
COLOURS = {"Excellent": "brightgreen", "Low": "green", "Medium": "yellow", "High": "orange", "Critical": "red",
           "Unknown": "lightgrey"}
_HEX = {"brightgreen": "#4c1", "green": "#97ca00", "yellow": "#dfb317", "orange": "#fe7d37", "red": "#e05d44",
        "lightgrey": "#9f9f9f"}


def endpoint(alignment: int | None) -> dict:
    """shields.io's endpoint badge (https://shields.io/badges/endpoint-badge)."""
    message = "unknown" if alignment is None else f"{alignment}/100"
    return {"schemaVersion": 1, "label": LABEL, "message": message, "color": COLOURS[band(alignment)]}


def _width(text: str) -> int:
    """About how wide Verdana 11px sets the text (narrow, wide and average glyphs), plus padding."""
    narrow, wide = set("fijlrt1/ ."), set("mwMW%")
    return int(sum(4 if c in narrow else 10 if c in wide else 7 for c in text)) + 10


def svg(alignment: int | None) -> str:
    doc = endpoint(alignment)
    label, message, colour = doc["label"], doc["message"], _HEX[doc["color"]]
    lw, mw = _width(label), _width(message)
    total = lw + mw
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
            f'aria-label="{escape(label)}: {escape(message)}"><title>{escape(label)}: {escape(message)}</title>'
            f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
            f'<rect x="{lw}" width="{mw}" height="20" fill="{colour}"/>'
            f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
            f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
            f'<text x="{lw / 2:.1f}" y="14">{escape(label)}</text>'
            f'<text x="{lw + mw / 2:.1f}" y="14">{escape(message)}</text></g></svg>')
