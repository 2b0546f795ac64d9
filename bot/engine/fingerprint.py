"""Stable gap fingerprints: feature + kind + normalised anchor, never a line number."""
from __future__ import annotations

import hashlib
import re


def normalise_text(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def fingerprint(feature: str, kind: str, anchor: str) -> str:
    key = f"{feature}\0{kind}\0{anchor.strip().lower()}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
