"""The HTML report: one self-contained page, hostile text kept inert, and — where a browser is
installed — opened in headless Chromium, with the table and the trend on the rendered page."""
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT
from tests.fakegithub import GitRepo, git

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class Parts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.sources, self.scripts = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and value.startswith(("http:", "https:", "//")) and tag != "a":
                self.sources.append(value)


def demo_history(tmp_path: Path) -> Path:
    """The demo repository as three commits: as shipped, a TODO added, billing begun."""
    repo = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "demo-repo", repo)
    g = GitRepo(repo)
    g.commit({}, "the demo as shipped")
    g.commit({"internal/agents/config.go": (repo / "internal/agents/config.go").read_text() + "// TODO: more\n"},
             "a TODO")
    g.commit({"internal/billing/routes.go": 'package billing\n\nimport "net/http"\n\nfunc Register(mux *http.ServeMux) {\n'
              '\tmux.HandleFunc("POST /api/invoices", create)\n\tmux.HandleFunc("GET /api/invoices/{id}", get)\n}\n'},
             "billing: the invoice routes")
    git(repo, "remote", "add", "origin", "https://github.com/acme/fleet.git")
    return repo


def test_the_html_report_is_one_page_with_a_table_a_trend_and_links(tmp_path, capsys):
    repo = demo_history(tmp_path)
    assert main(["report", str(repo), "--format", "html", "--history", "3", "-o", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    parts = Parts()
    parts.feed(page)
    assert parts.sources == []  # nothing fetched from anywhere
    assert {"table", "svg", "polyline", "details", "script", "style"} <= set(parts.tags)
    assert page.count("<circle") == 3  # one point per commit on the overall line
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert f'href="https://github.com/acme/fleet/blob/{head}/docs/ideas/agents.md' in page


def test_hostile_text_stays_text(tmp_path):
    repo = tmp_path / "r"
    (repo / "docs/features").mkdir(parents=True)
    (repo / "docs/features/x.md").write_text(
        '# X\n\n- `POST /a` <script>alert(1)</script> "q" & <img src=x>\n- `<b onclick=x>` is served\n')
    assert main(["report", str(repo), "--format", "html", "-o", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    assert "<script>alert(1)</script>" not in page and "<img src=x>" not in page and "<b onclick" not in page
    assert "<code>POST /a</code> alert(1) &quot;q&quot; &amp;" in page


def test_the_page_renders_in_a_headless_browser(tmp_path):
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no headless browser here (install Debian's chromium package to run this test)")
    repo = demo_history(tmp_path)
    assert main(["report", str(repo), "--format", "html", "--history", "3", "-o", str(tmp_path / "r.html")]) == 0
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1500"]
    dom = subprocess.run([browser, *flags, "--dump-dom", (tmp_path / "r.html").as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert "<table" in dom and "<svg" in dom and "Trend over the last 3 commits" in dom
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", (tmp_path / "r.html").as_uri()], capture_output=True,
                   timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real picture, not a blank page
