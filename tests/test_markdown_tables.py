"""Every Markdown table driftbot writes keeps its shape: an unescaped | from spec or code text would
silently break a table on GitHub."""
import re

from bot.checkout import load_directory
from bot.engine import Engine, load_config
from bot.engine.delta import diff
from bot.report import markdown, pr
from bot.report.issues import dashboard_body, feature_record
from tests.conftest import FIXTURES, ROOT, analyse

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def check_tables(text: str) -> int:
    tables = 0
    in_code = False
    width = None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("|"):
            width = None
            continue
        # GFM splits cells on every unescaped pipe, inside code spans too
        cells = len(_CELL_SPLIT.split(line)) - 2
        if width is None:
            width, tables = cells, tables + 1
        assert cells == width, f"line {n} has {cells} cells, the table has {width}: {line[:120]}"
    return tables


def test_reports_keep_their_tables():
    for root in (ROOT / "examples" / "demo-repo", FIXTURES / "corpus"):
        snap = load_directory(root)
        findings = Engine().evaluate(snap, load_config(snap))
        assert check_tables(markdown.render(findings, markdown.Meta(name="x"))) >= 4


def test_hostile_spec_text_cannot_break_tables():
    files = {
        "docs/ideas/pipes.md": "# Pipes | and <b>tags</b>\n\n| Endpoint | Note |\n|---|---|\n"
                               "| `GET /a|b` | a \\| b `x|y` |\n\n- `Foo|Bar` and `Baz`\n- [x] done | really `Qux`\n"
                               "- `GET /x|y` lists things\n",
        "internal/pipes/p.go": "package pipes\n\n// TODO: a | b\ntype Baz struct{}\n",
        "internal/pipes/we|ird.go": "package pipes\n\ntype Qux struct{}\n",
    }
    findings = analyse(files)
    assert check_tables(markdown.render(findings, markdown.Meta(name="x"))) >= 4
    deltas = diff(None, findings)
    out = pr.check_output(deltas, load_config_default(), total_features=1)
    check_tables(out.summary)
    check_tables(out.text)
    comment = pr.comment_body(deltas, "a" * 40, None, total_features=1)
    check_tables(comment)
    assert "— `GET /x|y` is not implemented" in comment  # list items keep code spans as written
    check_tables(dashboard_body({f.id: feature_record(f) for f in findings.features}, [], {}, [], "a" * 40))


def load_config_default():
    from bot.engine.config import AppPolicy
    return AppPolicy()


def test_neutralised_bodies_stay_within_githubs_limits_and_keep_links_and_code():
    from bot.engine.model import Gap, GapKind
    from bot.report.common import neutralise
    from bot.report.issues import MAX_BODY, gap_body
    text = "see https://npmjs.com/package/@acme/x and `@GetMapping(\"/x\")`, ask @octocat ![i](https://e/p.png)"
    out = neutralise(text)
    assert "https://npmjs.com/package/@acme/x" in out and '`@GetMapping("/x")`' in out
    assert "@octocat" not in out and "![" not in out and "mail@example.com" in neutralise("mail@example.com")
    g = Gap("0123456789ab", GapKind.MISSING, "auth", "`X` is missing: " + "@a " * 30000, "R1", "docs/a.md", 1)
    assert len(gap_body(g, None, "a" * 40)) <= MAX_BODY


def test_code_spans_in_cells_keep_their_text():
    from bot.report.markdown import esc
    cell = esc("run `cat runs/<file>.json | jq` when a < b, and `C:\\tmp`")
    assert "`cat runs/<file>.json \\| jq`" in cell  # no entity inside the span; the pipe escaped for the table
    assert "a &lt; b" in cell and "`C:\\tmp`" in cell  # outside it, text is escaped; inside, kept as typed


def test_where_a_feature_was_searched_names_files_without_a_slash_and_says_how_many_more():
    from tests.conftest import analyse
    findings = analyse({"docs/features/x.md": "# X\n\n- `POST /api/x` is served\n",
                        "Dockerfile": "FROM python:3.12\n", "a/m.py": "x = 1\n", "b/m.py": "x = 1\n",
                        "c/m.py": "x = 1\n", "d/m.py": "x = 1\n", "e/m.py": "x = 1\n",
                        ".github/driftbot.yml": "version: 1\nfeatures:\n  - id: x\n    spec: docs/features/x.md\n"})
    searched = findings.features[0].requirements[0].searched
    assert searched == ("the repository's source: 5 code files in a/, b/, c/, d/ and 2 more; "
                        "1 infrastructure file (Dockerfile)"), searched
    assert "Dockerfile/" not in findings.features[0].requirements[0].detail


def test_a_feature_whose_code_is_a_file_is_searched_in_that_file_not_a_folder_of_its_name():
    from tests.conftest import analyse
    findings = analyse({"docs/features/x.md": "# X\n\n- `POST /api/x` is served\n", "lib/core.py": "x = 1\n",
                        ".github/driftbot.yml": "version: 1\nfeatures:\n  - id: x\n    spec: docs/features/x.md\n"
                                                "    code: lib/core.py\n"})
    searched = findings.features[0].requirements[0].searched
    assert searched == "1 code file in lib/core.py, then the rest of the repository", searched


def test_the_advice_for_partly_implemented_requirements_follows_their_causes():
    from bot.engine.model import Gap, GapKind
    from bot.report.common import partial_advice

    def gap(message):
        return Gap("f" * 12, GapKind.PARTIAL, "x", message)
    advice = partial_advice([gap("`POST /a` is only partly implemented: registered for GET, spec says POST"),
                             gap("`b` is only partly implemented: nothing outside tests uses it"),
                             gap("`c` is only partly implemented: nothing outside tests uses it")])
    assert advice == ("Wire in 2 pieces of code that nothing outside tests reaches; register 1 route for the "
                      "method the spec names.")
    assert "Move implementations" not in advice
