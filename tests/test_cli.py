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
    assert manifest["default_permissions"] == {"checks": "write", "contents": "write", "pull_requests": "write",
                                               "issues": "write", "metadata": "read"}
    assert set(manifest["default_events"]) == {"check_run", "check_suite", "issue_comment", "issues", "pull_request", "push",
                                               "repository"}
    assert main(["manifest", "--url", "http://insecure"]) == 2


def test_check_against_a_base_ref(tmp_path, capsys):
    from tests.fakegithub import GitRepo
    from tests.test_app_pr import ROUTES_GET, guarded_files
    g = GitRepo(tmp_path / "r")
    files = guarded_files()
    g.commit(files, "base")
    g.commit({}, "work", branch="feature")
    (tmp_path / "r" / "internal" / "agents" / "routes.go").write_text(ROUTES_GET)  # uncommitted edit counts
    assert main(["check", str(tmp_path / "r"), "--base", "main", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["touched"] == ["agents"] and data["conclusion"] == "failure"
    assert data["annotations"][0]["path"] == "docs/ideas/agents.md"
    assert len(data["features"][0]["regressions"]) == 1
    assert main(["check", str(tmp_path / "r"), "--base", "nope"]) == 2


def write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_validate_warns_about_every_glob_that_matches_nothing_and_exits_0(tmp_path, capsys):
    write(tmp_path, {
        ".github/driftbot.yml": "version: 1\nfeatures:\n  - id: compliance\n    spec: docs/COMPLIANCE.md\n"
                                "    code: src/COMPLIANCE/**\n    tests: tests/compliance/**\npatterns:\n"
                                "  - spec: \"docs/ideas/{name}.md\"\n    code: \"internal/{name}/**\"\n"
                                "documents:\n  - spec: docs/ROADMAP.md\n    split: headings\n"
                                "exclude: [\"**/*.pb.go\"]\n",
        "docs/COMPLIANCE.md": "# Compliance\n\n- `record_audit_entry()` writes every change to the audit log.\n",
        "docs/ideas/billing.md": "# Billing\n\n- `POST /invoices` creates an invoice.\n",
        "src/compliance/x.py": "def record_audit_entry(entry):\n    return entry\n",
    })
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        ".github/driftbot.yml: valid. 2 feature(s) resolved.",
        "  warning: .github/driftbot.yml:5:11: features[0].code: no file matches `src/COMPLIANCE/**` "
        "(did you mean `src/compliance/**`?)",
        "  warning: .github/driftbot.yml:6:12: features[0].tests: no file matches `tests/compliance/**` "
        "(is the path relative to the repository root?)",
        "  warning: .github/driftbot.yml:9:11: patterns[0].code: no file matches `internal/{name}/**` for its one "
        "name: `billing` (docs/ideas/billing.md) → `internal/billing/**` (is the path relative to the repository "
        "root?)",
        "  warning: .github/driftbot.yml:11:11: documents[0].spec: no file matches `docs/ROADMAP.md` "
        "(is the path relative to the repository root?)",
        "  warning: .github/driftbot.yml:13:11: exclude[0]: no file matches `**/*.pb.go` "
        "(it excludes nothing: is the path relative to the repository root?)",
    ]


def test_validate_strict_exits_1_on_warnings_and_2_on_errors(tmp_path, capsys):
    write(tmp_path, {".driftbot.yml": "version: 1\nfeatures:\n  - id: a\n    spec: docs/a.md\n    code: src/b/\n",
                     "docs/a.md": "# A\n\n- `make_widget()` builds a widget.\n", "src/a/w.py": "def make_widget(): ...\n"})
    assert main(["validate", str(tmp_path), "--strict"]) == 1
    captured = capsys.readouterr()
    assert "  warning: .driftbot.yml:5:11: features[0].code: no file matches `src/b/`" in captured.out
    assert captured.err == "driftbot: failing on 1 warning (--strict)\n"
    (tmp_path / "src" / "b").mkdir()
    (tmp_path / "src" / "b" / "w.py").write_text("def make_widget(): ...\n")
    assert main(["validate", str(tmp_path), "--strict"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.out and captured.err == ""
    (tmp_path / ".driftbot.yml").write_text("version: 1\nfeatures:\n  - id: a\n    spec: docs/a.md\n    cod: src/b/\n")
    assert main(["validate", str(tmp_path), "--strict"]) == 2
    assert "unknown key 'cod'" in capsys.readouterr().err


def test_validate_warns_about_a_spec_with_no_requirement(tmp_path, capsys):
    write(tmp_path, {
        ".driftbot.yml": "version: 1\npatterns:\n  - spec: \"docs/{name}.md\"\n    code: \"src/{name}/\"\n",
        "docs/notes.md": "# Notes\n\nSome thoughts, for later.\n",
        "docs/empty.md": "",
        "docs/old.md": "# Old\n\n## Non-goals\n\n- `legacy_sync()` keeps the old client working.\n",
        "docs/audit.md": "# Audit\n\n- `record_audit_entry()` writes every change to the audit log.\n",
        "src/notes/n.py": "n = 1\n", "src/empty/e.py": "e = 1\n", "src/old/o.py": "o = 1\n",
        "src/audit/a.py": "def record_audit_entry(entry):\n    return entry\n",
    })
    assert main(["validate", str(tmp_path)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  warning:")]
    assert warnings == [
        "  warning: docs/empty.md: no requirement found in it (nothing driftbot can check: feature 'empty' reads "
        "it, but the file is empty)",
        "  warning: docs/notes.md: no requirement found in it (nothing driftbot can check: feature 'notes' reads "
        "it, but it names no endpoint, file, symbol, flag or command, and no sentence in it says what the code "
        "must do)",
        "  warning: docs/old.md: no requirement found in it (nothing driftbot can check: feature 'old' reads it, "
        "but its 1 statement is under headings such as Non-goals or Out of scope)",
    ]


def test_validate_a_config_file_checks_its_globs_against_its_repository(tmp_path, capsys):
    write(tmp_path, {".github/driftbot.yml": "version: 1\nfeatures:\n  - id: a\n    spec: docs/a.md\n"
                                             "    code: [src/a/, ../src/a/]\n",
                     "docs/a.md": "# A\n\n- `make_widget()` builds a widget.\n", "src/a/w.py": "def make_widget(): ...\n"})
    assert main(["validate", str(tmp_path / ".github" / "driftbot.yml")]) == 0
    out = capsys.readouterr().out
    assert f"  warning: {tmp_path / '.github' / 'driftbot.yml'}:5:20: features[0].code[1]: no file matches " \
           "`../src/a/` (did you mean `src/a/`?)" in out
    assert out.count("warning:") == 1


def test_validate_help_documents_strict(capsys):
    assert main(["validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--strict" in out and "exit 1 when there are warnings" in out


def test_check_says_what_went_wrong_with_git(tmp_path, capsys):
    from tests.fakegithub import GitRepo, git
    assert main(["check", str(tmp_path), "--base", "main"]) == 2
    assert "is not a git checkout" in capsys.readouterr().err
    g = GitRepo(tmp_path / "r")
    g.commit({"a.md": "# a\n"}, "one")
    g.commit({"b.md": "# b\n"}, "two")
    g.commit({"c.md": "# c\n"}, "three")
    assert main(["check", str(tmp_path / "r"), "--base", "origin/main"]) == 2
    err = capsys.readouterr().err
    assert "unknown ref 'origin/main'" in err and "git fetch origin main" in err
    # a shallow clone: the base branch is there, the history that joins it is not
    git(tmp_path / "r", "branch", "old", "HEAD~2")
    git(tmp_path, "clone", "-q", "--depth", "1", "--single-branch", "--branch", "main", (tmp_path / "r").as_uri(),
        "shallow")
    git(tmp_path / "shallow", "fetch", "-q", "--depth", "1", "origin", "old:refs/remotes/origin/old")
    assert main(["check", str(tmp_path / "shallow"), "--base", "origin/old"]) == 2
    assert "fetch-depth: 0" in capsys.readouterr().err
    other = GitRepo(tmp_path / "other")
    other.commit({"x.md": "# x\n"}, "unrelated")
    git(tmp_path / "r", "fetch", "-q", str(tmp_path / "other"), "main:unrelated")
    assert main(["check", str(tmp_path / "r"), "--base", "unrelated"]) == 2
    assert "share no history (they were never branched" in capsys.readouterr().err


def test_check_names_the_working_tree_when_it_has_changes(tmp_path, capsys):
    from tests.fakegithub import GitRepo
    g = GitRepo(tmp_path / "r")
    g.commit({"docs/features/a.md": "# A\n\n- `POST /a` works\n"}, "one")
    g.commit({"docs/features/a.md": "# A\n\n- `POST /a` works\n- `POST /b` too\n"}, "two", branch="feature")
    assert main(["check", str(tmp_path / "r"), "--base", "main"]) in (0, 1)
    out = capsys.readouterr().out
    assert "in HEAD `" in out and "1 changed file." in out
    (tmp_path / "r" / "notes.md").write_text("draft\n")
    assert main(["check", str(tmp_path / "r"), "--base", "main"]) in (0, 1)
    assert "in the working tree (HEAD and uncommitted changes): 2 changed files." in capsys.readouterr().out


def test_report_as_a_badge(capsys):
    assert main(["report", str(ROOT / "examples" / "demo-repo"), "--format", "badge"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schemaVersion"] == 1 and doc["label"] == "design alignment"
    assert doc["message"].endswith("/100") and doc["color"] in ("brightgreen", "green", "yellow", "orange", "red")


def test_check_as_text_and_to_a_file(tmp_path, capsys):
    from tests.fakegithub import GitRepo
    from tests.test_app_pr import ROUTES_GET, guarded_files
    g = GitRepo(tmp_path / "r")
    g.commit(guarded_files(), "base")
    g.commit({"internal/agents/routes.go": ROUTES_GET}, "drop the heartbeat route", branch="feature")
    assert main(["check", str(tmp_path / "r"), "--base", "main", "--format", "text"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("driftbot check: 1 regression") and "(failure)" in out
    assert "  agents: drift 0 % → " in out and "    + missing " in out and "1 changed file" in out
    assert main(["check", str(tmp_path / "r"), "--base", "main", "-o", str(tmp_path / "c.md"), "-q"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert (tmp_path / "c.md").read_text().startswith("# driftbot check: 1 regression")


def test_check_of_what_is_staged_says_so_and_refuses_an_index_in_conflict(tmp_path, capsys):
    import subprocess
    from tests.fakegithub import GitRepo, git
    g = GitRepo(tmp_path / "r")
    g.commit({"docs/features/a.md": "# A\n\n- `POST /a` works\n"}, "one")
    (tmp_path / "r" / "notes.md").write_text("draft\n")  # untracked: not part of what is staged
    assert main(["check", str(tmp_path / "r"), "--base", "main", "--staged", "--format", "text"]) in (0, 1)
    out = capsys.readouterr().out
    assert "what is staged for commit" in out and "0 changed files" in out
    g.commit({"docs/features/a.md": "# A\n\n- `POST /b` works\n"}, "theirs", branch="other")
    g.checkout("main")
    g.commit({"docs/features/a.md": "# A\n\n- `POST /c` works\n"}, "ours")
    merged = subprocess.run(["git", "-C", str(tmp_path / "r"), "merge", "-q", "other"], capture_output=True)
    assert merged.returncode != 0  # a conflict is left in the index
    assert main(["check", str(tmp_path / "r"), "--base", "main", "--staged"]) == 2
    err = capsys.readouterr().err
    assert "cannot read what is staged" in err and "resolve the conflicts first" in err
    git(tmp_path / "r", "merge", "--abort")
