"""The data driftbot ships beside its code: rule packs, JSON Schemas, the App's manifest.

They are package data (``bot/_data/``), read through importlib.resources, so an installed wheel
finds them exactly as a checkout does.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """The path of a shipped file or folder: ``data_path("rules")``, ``data_path("schema", "x.json")``."""
    return Path(str(files("bot").joinpath("_data", *parts)))


RULES_DIR = data_path("rules")
SCHEMA_DIR = data_path("schema")
MANIFEST = data_path("app.yml")
