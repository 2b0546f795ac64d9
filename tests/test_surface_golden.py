"""Golden files for what a maintainer reads on GitHub: the PR comment, the check run's summary and a
gap issue, for one pull request on the demo repository (regenerate with UPDATE_GOLDEN=1, then read
them as a user would). docs/pr-comment.md and docs/gap-issue.md show the same text."""
import os
from pathlib import Path

from bot.checkout import load_directory
from bot.codeowners import parse as parse_codeowners
from bot.engine import Engine, load_config
from bot.engine.config import AppPolicy
from bot.engine.delta import diff
from bot.engine.rules import select
from bot.report import pr
from bot.report.issues import gap_body, gap_owners, gap_title
from tests.conftest import ROOT

GOLDEN = Path(__file__).resolve().parent / "golden"
DOCS = ROOT / "docs"
HEAD = "4f9c2e1b7a3d5c8e9f0a1b2c3d4e5f60718293a4"
REPO = "https://github.com/acme/fleet"
CODEOWNERS = "*                  @acme/platform\n/internal/auth/    @dana @acme/security\n/internal/agents/  @lee\n"

# the pull request: logout is added to auth, the agent list route is dropped, the alerts spec grows
CHANGE = {
    "internal/auth/login.go": lambda t: t.replace('mux.HandleFunc("POST /api/login", login)',
                                                  'mux.HandleFunc("POST /api/login", login)\n'
                                                  '\tmux.HandleFunc("POST /api/logout", logout)')
                                        + "\nfunc logout(w http.ResponseWriter, r *http.Request) {\n"
                                          "\tw.WriteHeader(http.StatusNoContent)\n}\n",
    "internal/agents/routes.go": lambda t: t.replace('\tmux.HandleFunc("GET /api/agents", s.list)\n', ""),
    "docs/ideas/alerts.md": lambda t: t + "- `GET /api/alerts/{id}` returns one alert with its delivery status.\n",
}


def link(path: str, line: int) -> str:
    return f"{REPO}/blob/{HEAD}/{path}" + (f"#L{line}" if line else "")


def _pull_request():
    base = load_directory(ROOT / "examples" / "demo-repo")
    head = base.with_changes({p: edit(base.read(p).decode()) for p, edit in CHANGE.items()})
    config = load_config(base)
    engine = Engine()
    touched = engine.touched(config, sorted(CHANGE), base, head)  # as the App does: only what the change touches
    before, after = engine.evaluate(base, config, features=touched), engine.evaluate(head, config, features=touched)
    return head, config, engine, before, after, len(engine.feature_map(head, config).features)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; read it as a user would, then UPDATE_GOLDEN=1"


def test_the_pull_request_comment_and_check():
    _, _, _, before, after, total = _pull_request()
    deltas = diff(before, after)
    comment = pr.comment_body(deltas, HEAD, f"{REPO}/runs/1", total_features=total, link=link,
                              overall=(50, 49), dashboard=12)
    _check("pr-comment.md", comment)
    out = pr.check_output(deltas, AppPolicy(fail_on=("regressions",)), total_features=total, link=link,
                          changed={"internal/agents/routes.go": 9})
    _check("check-run.md", f"# {out.title}\n\n{out.summary}\n\n{out.text}\n")
    assert out.conclusion == "failure"
    # what the scenario is for: one gap resolved, one regression, one new gap
    assert "POST /api/logout" in comment and "GET /api/alerts/{id}" in comment and "GET /api/agents" in comment


def test_a_gap_issue():
    head, config, engine, _, after, _ = _pull_request()
    auth = next(f for f in after.features if f.id == "auth")
    gap = next(g for g in auth.gaps if "LoginLimiter" in g.message)
    owners = parse_codeowners(CODEOWNERS, ".github/CODEOWNERS")
    rules = select(config.packs, head.paths(), config.custom_packs)
    body = gap_body(gap, auth, HEAD, link, rules=rules, owners=gap_owners(gap, auth, owners),
                    owners_file=owners.path)
    _check("gap-issue.md", f"# {gap_title(gap)}\n\n{body}\n")
    assert "`@dana`, `@acme/security`" in body and "### How to fix" in body


def test_the_docs_show_the_golden_text():
    for doc, golden in (("pr-comment.md", "pr-comment.md"), ("pr-comment.md", "check-run.md"),
                        ("gap-issue.md", "gap-issue.md")):
        page = (DOCS / doc).read_text(encoding="utf-8")
        assert (GOLDEN / golden).read_text(encoding="utf-8").strip() in page, f"docs/{doc} is out of date"
