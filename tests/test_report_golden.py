"""Golden files for the reports of the demo repository (regenerate with UPDATE_GOLDEN=1)."""
import os
from pathlib import Path

import pytest

from bot.checkout import load_directory
from bot.engine import Engine, load_config
from bot.report import jsonout, markdown, text
from tests.conftest import ROOT

GOLDEN = Path(__file__).resolve().parent / "golden"
META = markdown.Meta(name="demo-repo", commit="0123456789abcdef0123456789abcdef01234567", generated="2026-01-01",
                     version="test")


@pytest.fixture(scope="module")
def findings():
    snap = load_directory(ROOT / "examples" / "demo-repo")
    return Engine().evaluate(snap, load_config(snap))


@pytest.mark.parametrize("name,render", [
    ("demo-report.md", lambda f: markdown.render(f, META)),
    ("demo-report.json", lambda f: jsonout.render(f, META)),
    ("demo-report.txt", lambda f: text.render(f, META)),
])
def test_golden(findings, name, render):
    got = render(findings)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), f"{name} changed; review and rerun with UPDATE_GOLDEN=1"


def test_links_are_used_when_given(findings):
    md = markdown.render(findings, META, link=lambda p, line: f"https://example.test/{p}#L{line}")
    assert "[`internal/agents/routes.go:7`](https://example.test/internal/agents/routes.go#L7)" in md


def test_table_cells_are_escaped():
    assert markdown.esc("a | b\nc <script>") == "a \\| b c &lt;script>"
