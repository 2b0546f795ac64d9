"""The driftbot command line: formats, exit codes, validate, errors without tracebacks."""
import json
import subprocess
import sys

import jsonschema

from bot.cli import main
from tests.conftest import ROOT

DEMO = ROOT / "examples" / "demo-repo"


def test_report_markdown_on_the_demo(capsys):
    assert main(["report", str(DEMO)]) == 0
    out = capsys.readouterr().out
    for heading in ("## Executive summary", "## Scoring model", "## Critical issues", "## Findings by band",
                    "## Cross-cutting recommendations", "## Feature table", "## Feature details",
                    "## Unpaired specs and code", "## Methodology and limitations"):
        assert heading in out
    assert "| [billing](#feature-billing) | `docs/ideas/billing.md` | — | No | 100 |" in out


def test_report_json_validates_against_the_published_schema(capsys):
    assert main(["report", str(DEMO), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    schema = json.loads((ROOT / "schema" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["overall"]["drift"] == 100 - data["overall"]["alignment"]
    assert {f["id"] for f in data["features"]} == {"agents", "auth", "billing", "alerts"}


def test_text_format_and_feature_filter(capsys):
    assert main(["report", str(DEMO), "--format", "text", "--feature", "auth"]) == 0
    out = capsys.readouterr().out
    assert "auth" in out and "billing" not in out.split("Next steps")[0]


def test_output_file(tmp_path, capsys):
    dst = tmp_path / "r.json"
    assert main(["report", str(DEMO), "--format", "json", "-o", str(dst), "-q"]) == 0
    assert json.loads(dst.read_text())["schema_version"] == 2
    assert capsys.readouterr().out == ""


def test_fail_under(capsys):
    assert main(["report", str(DEMO), "--fail-under", "99", "-q"]) == 1
    assert "below --fail-under 99" in capsys.readouterr().err
    assert main(["report", str(DEMO), "--fail-under", "1", "-q"]) == 0


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert main(["report", str(DEMO), "--feature", "authh"]) == 2
    assert "did you mean 'auth'" in capsys.readouterr().err
    assert main(["report", "--fail-under", "300"]) == 2
    assert main(["report", "--format", "pdf"]) == 2


def test_config_error_exit_2_with_location(tmp_path, capsys):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "driftbot.yml").write_text("version: 1\nfeaturs: []\n")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert ".github/driftbot.yml:2:1: featurs: unknown key 'featurs' (did you mean 'features'?)" in err
    assert "Traceback" not in err


def test_validate(tmp_path, capsys):
    (tmp_path / ".driftbot.yml").write_text("version: 1\nfeatures:\n  - id: a\n    spec: docs/a.md\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n")
    assert main(["validate", str(tmp_path)]) == 0
    assert "valid. 1 feature(s) resolved" in capsys.readouterr().out
    (tmp_path / ".driftbot.yml").write_text("version: 2\n")
    assert main(["validate", str(tmp_path / ".driftbot.yml")]) == 2
    assert "expected 1 (the only schema version so far), got a number" in capsys.readouterr().err
    empty = tmp_path / "empty"
    (empty / "docs" / "ideas").mkdir(parents=True)
    (empty / "docs" / "ideas" / "x.md").write_text("# X\n")
    assert main(["validate", str(empty)]) == 0
    assert "Nothing to validate: features are discovered from the layout — 1 found" in capsys.readouterr().out


def test_schema_command(capsys):
    assert main(["schema", "config"]) == 0
    assert json.loads(capsys.readouterr().out)["title"].startswith("driftbot configuration")


def test_console_script_runs_without_a_tty():
    out = subprocess.run([sys.executable, "-m", "bot.cli", "report", str(DEMO), "--format", "text"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "\033[" not in out.stdout and out.stderr == ""


def test_manifest_page(capsys):
    import html
    import re
    assert main(["manifest", "--url", "https://drift.example.com", "--org", "acme", "--name", "acme-drift"]) == 0
    page = capsys.readouterr().out
    assert 'action="https://github.com/organizations/acme/settings/apps/new"' in page
    manifest = json.loads(html.unescape(re.search(r'name="manifest" value="([^"]*)"', page).group(1)))
    assert manifest["hook_attributes"]["url"] == "https://drift.example.com/webhook"
    assert manifest["default_permissions"] == {"checks": "write", "contents": "read", "pull_requests": "read",
                                               "issues": "write", "metadata": "read"}
    assert set(manifest["default_events"]) == {"check_run", "check_suite", "issue_comment", "pull_request", "push"}
    assert main(["manifest", "--url", "http://insecure"]) == 2


def test_check_against_a_base_ref(tmp_path, capsys):
    from tests.fakegithub import GitRepo
    from tests.test_app_pr import ROUTES_BOTH, ROUTES_GET, base_files
    g = GitRepo(tmp_path / "r")
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    files[".github/driftbot.yml"] = "version: 1\nchecks:\n  fail_on: [regressions]\n"
    g.commit(files, "base")
    g.commit({}, "work", branch="feature")
    (tmp_path / "r" / "internal" / "agents" / "routes.go").write_text(ROUTES_GET)  # uncommitted edit counts
    assert main(["check", str(tmp_path / "r"), "--base", "main", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["touched"] == ["agents"] and data["conclusion"] == "failure"
    assert data["annotations"][0]["path"] == "docs/ideas/agents.md"
    assert len(data["features"][0]["regressions"]) == 1
    assert main(["check", str(tmp_path / "r"), "--base", "nope"]) == 2
