"""Every surface driftbot writes, fed hostile and ordinary findings, is free of the defects that make
people stop trusting the numbers beside them: holes where an anchor was, HTML entities inside code
spans, wrong singular/plural, a trailing slash on a file, a cut list that does not say how much
was cut, a name said twice ("driftbot: driftbot …"), and a resolved gap stated as if still open."""
import re

import pytest

from bot.checkout import load_directory
from bot.codeowners import parse as parse_codeowners
from bot.engine import Engine, load_config
from bot.engine.config import AppPolicy
from bot.engine.delta import diff
from bot.records import HistoryPoint
from bot.report import actions, commands, markdown, pr, sarif, text
from bot.report.markdown import inline
from bot.report.issues import dashboard_body, feature_record, gap_body, gap_owners, gap_title
from tests.conftest import ROOT, analyse

# a spec whose sentences lose their anchors if a renderer drops them, with angle brackets in code,
# a feature whose code is one file, and one feature with many missing parts (cut lists)
HOSTILE = {
    ".github/driftbot.yml": "version: 1\nfeatures:\n"
                            "  - id: registry\n    spec: docs/features/registry.md\n    code: lib/registry.py\n"
                            "  - id: graph\n    spec: docs/features/graph.md\n    code: [graph/]\n",
    "docs/features/registry.md": "# Registry\n\n"
                                 "- The `Registry` type owns the registry.\n"
                                 "- It refreshes every `REFRESH_SECONDS` seconds.\n"
                                 "- The `Registry.prune` method drops entries older than `MAX_AGE`.\n"
                                 "- Logs go to `logs/graph/<tenant>/` per tenant.\n",
    "lib/registry.py": "REFRESH_SECONDS = 30\n\n\nclass Registry:\n    def add(self, x):\n        return x\n",
    "tests/test_registry.py": "from lib.registry import Registry\n\n\ndef test_add():\n    assert Registry().add(1) == 1\n",
    "docs/features/graph.md": "# Graph\n\n" + "".join(f"- `GET /api/graph/<tenant>/n{i}` lists nodes of kind {i}.\n"
                                                     for i in range(12)),
    "graph/server.py": "from aiohttp import web\n\n\nasync def nodes(request):\n    return web.json_response([])\n\n\n"
                       "def routes(app):\n    app.router.add_get('/api/graph/{tenant}/n0', nodes)\n",
}

from bot.report.markdown import _SPAN  # noqa: E402 - code spans as CommonMark finds them
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+);")
# "1 gaps", "1 changed files" … and "3 gap", "2 file" — the nouns the surfaces count
_NOUNS = ("feature", "gap", "requirement", "file", "item", "warning", "issue", "change", "commit",
          "line", "document", "spec", "folder", "annotation", "marker", "stub", "claim", "route", "more line")
_ONE_MANY = re.compile(r"(?<![\d.,/#-])\b1 (?:changed |test |code |new |open |resolved |spec )?(?:%s)s\b" % "|".join(_NOUNS))
_MANY_ONE = re.compile(r"(?<![\d.,/#-])\b(?:[02-9]|\d{2,}) (?:changed |test |code |new |open |resolved |spec )?(?:%s)\b(?![-\w/])"
                       % "|".join(_NOUNS))


def _prose(markdown_text: str) -> list[str]:
    """The lines a person reads as sentences: not fenced code, not HTML comments; code spans removed."""
    out, fenced = [], False
    for line in markdown_text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.lstrip().startswith("<!--"):
            continue
        out.append(_SPAN.sub("`…`", line))
    return out


def check_surface(name: str, body: str, *, padded_tables: bool = False) -> None:
    """The defects every renderer must be free of, for one rendered body."""
    assert body.strip(), f"{name}: empty"
    for line in body.splitlines():  # a code span never crosses a table row or a list item
        for span in _SPAN.finditer(line):
            assert not _ENTITY.search(span.group(2)), f"{name}: an entity inside a code span: {span.group(0)[:80]}"
    for line in _prose(body):
        stripped = line.strip()
        holes = re.findall(r"\S( {2,})(?=\S)", stripped)
        if padded_tables and len(holes) >= 2:
            continue  # a row of a text table: columns padded with spaces
        assert not holes, f"{name}: a double space (a hole where a name was?): {stripped[:160]}"
        assert not _ONE_MANY.search(line), f"{name}: '1 …s': {stripped[:160]}"
        assert not _MANY_ONE.search(line), f"{name}: a count without its plural: {stripped[:160]}"
    assert "lib/registry.py/" not in body, f"{name}: a file shown as a folder"
    assert not re.search(r"\bdriftbot: driftbot\b", body, re.I), f"{name}: the name said twice"
    for line in body.splitlines():
        if "resolved" in line.lower() and "is not implemented" in line:
            assert "was:" in line, f"{name}: a resolved gap stated as current: {line[:160]}"


def _hostile():
    findings = analyse(HOSTILE)
    before = analyse({**HOSTILE, "lib/registry.py": HOSTILE["lib/registry.py"] + "\nMAX_AGE = 3600\n"})
    return before, findings


def _demo():
    snap = load_directory(ROOT / "examples" / "demo-repo")
    return None, Engine().evaluate(snap, load_config(snap))


def _link(path: str, line: int) -> str:
    return f"https://github.test/acme/x/blob/{'a' * 40}/{path}" + (f"#L{line}" if line else "")


@pytest.fixture(params=["hostile", "demo"])
def case(request):
    return _hostile() if request.param == "hostile" else _demo()


def test_the_markdown_and_text_reports(case):
    _, findings = case
    meta = markdown.Meta(name="x", commit="b" * 40)
    check_surface("markdown report", markdown.render(findings, meta))
    check_surface("markdown report with links", markdown.render(findings, meta, link=_link))
    check_surface("text report", text.render(findings, meta), padded_tables=True)


@pytest.mark.parametrize("direction", ["forward", "back"])
def test_the_pull_request_comment_check_run_and_job_summary(case, direction):
    before, findings = case
    if direction == "back":  # the change undone: what was new is resolved
        if before is None:
            pytest.skip("no second commit in this case")
        before, findings = findings, before
    deltas = diff(before, findings)
    out = pr.check_output(deltas, AppPolicy(fail_on=("new-gaps",)), total_features=len(findings.features),
                          link=_link, changed={"lib/registry.py": 7})
    check_surface("check title", out.title)
    check_surface("check summary", out.summary)
    if out.text:
        check_surface("check text", out.text)
    for a in pr.annotations(deltas, _link):
        check_surface("annotation", a["message"])
        check_surface("annotation title", a.get("title", "x"))
    comment = pr.comment_body(deltas, "c" * 40, "https://github.test/checks/1", total_features=len(findings.features),
                              link=_link, overall=(61, 58), dashboard=7)
    check_surface("PR comment", comment)
    check_surface("job summary", pr.comment_body(deltas, "c" * 40, None, total_features=len(findings.features), app=False))
    for command in actions.workflow_commands(out):
        check_surface("workflow command", command)
    # a resolved gap's message is only ever given as what it was
    for g in (g for d in deltas for g in d.resolved_gaps):
        for name, body in (("check text", out.text), ("PR comment", comment)):
            for m in re.finditer(re.escape(inline(g.message)), body):
                assert body[:m.start()].endswith("(was: "), f"{name}: resolved gap stated as current: {g.message}"


def test_gap_issues_the_dashboard_and_command_replies(case):
    _, findings = case
    owners = parse_codeowners("* @acme/all\n/lib/ @alice\n/graph/ @bob @acme/graph\n")
    gaps = [(g, f) for f in findings.features for g in f.gaps]
    assert gaps
    for g, f in gaps:
        check_surface("gap title", gap_title(g))
        check_surface("gap issue", gap_body(g, f, "d" * 40, _link, owners=gap_owners(g, f, owners),
                                           owners_file=".github/CODEOWNERS"))
    records = {f.id: feature_record(f) for f in findings.features}
    history = [HistoryPoint("e" * 40, 61, 2, 1_764_547_200.0), HistoryPoint("f" * 40, 64, 2, 1_764_460_800.0)]
    check_surface("dashboard", dashboard_body(records, history, {gaps[0][0].fingerprint: 12}, [], "d" * 40))
    check_surface("/drift report", commands.summary_table(records, history))
    for f in findings.features:
        check_surface("/drift explain", commands.explain_feature(f, "d" * 40, _link))
    check_surface("/drift help", commands.HELP)


def test_sarif_messages(case):
    import json
    _, findings = case
    log = json.loads(sarif.render(findings, markdown.Meta(name="x", version="1")))
    for result in log["runs"][0]["results"]:
        check_surface("SARIF result", result["message"]["text"])


def test_the_hostile_case_exercises_what_the_checks_look_for():
    """The checks above can fail: the hostile findings hold every kind of text they guard."""
    before, findings = _hostile()
    report = markdown.render(findings, markdown.Meta(name="x"))
    assert "`logs/graph/<tenant>/`" in report  # angle brackets in a code span, kept as typed
    assert re.search(r"and \d+ more", report)  # a cut list says how much was cut
    assert "`lib/registry.py`" in report  # a feature whose code is a file
    registry = next(f for f in findings.features if f.id == "registry")
    texts = [r.requirement.text for r in registry.requirements]
    assert any("The `Registry` type owns the registry" in t for t in texts), texts  # anchors stay in the sentence
    resolved = [g for d in diff(before, findings) for g in d.resolved_gaps]
    comment = pr.comment_body(diff(findings, before), "c" * 40, None, total_features=2)
    assert resolved or "resolved" in comment
    with pytest.raises(AssertionError):
        check_surface("planted", "The  type owns the registry")
    with pytest.raises(AssertionError):
        check_surface("planted", "Implement `logs/graph/&lt;tenant>/`")
    with pytest.raises(AssertionError):
        check_surface("planted", "1 changed files")
    with pytest.raises(AssertionError):
        check_surface("planted", "code in `lib/registry.py/`")
    with pytest.raises(AssertionError):
        check_surface("planted", "✅ resolved: `POST /api/logout` is not implemented")
