"""The GitHub Action (action.yml), run end to end the way a runner runs its shell steps: in a shallow
clone of a local "origin", on a pull request whose branch drops a route the spec lists."""
import json
import re
import subprocess
from pathlib import Path

import yaml

from tests.apphelpers import venv_env
from tests.conftest import ROOT
from tests.fakegithub import GitRepo, git
from tests.test_app_pr import ROUTES_GET, base_files, guarded_files

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def run_action(workspace: Path, tmp: Path, inputs: dict, env: dict, context: dict | None = None) -> tuple[int, str, dict]:
    """The action's shell steps in order (setup-python and the install are the test's own venv).
    Returns the exit status of the last step run, everything it printed, and the steps' outputs."""
    defaults = {k: v.get("default", "") for k, v in ACTION["inputs"].items()}
    values = {**defaults, **inputs}
    outputs: dict[str, dict] = {}

    def expr(text: str) -> str:
        def one(m):
            name = m.group(1).strip()
            if name.startswith("inputs."):
                return values[name.split(".", 1)[1]]
            if name == "github.action_path":
                return str(ROOT)
            if name.startswith("github."):
                return (context or {}).get(name, "")
            step, _, key = name.removeprefix("steps.").partition(".outputs.")
            return outputs.get(step, {}).get(key, "")
        return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", one, str(text))

    printed = ""
    for step in ACTION["runs"]["steps"]:
        if "uses" in step or step.get("name") == "Install driftbot":
            continue
        out_file = tmp / f"output-{step.get('id', 'step')}"
        out_file.write_text("")
        step_env = venv_env({**env, "GITHUB_OUTPUT": str(out_file),
                             **{k: expr(v) for k, v in step.get("env", {}).items()}})
        cwd = workspace / expr(step.get("working-directory", "."))
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                              env=step_env, capture_output=True, text=True, timeout=300)
        printed += proc.stdout + proc.stderr
        outputs[step.get("id", "")] = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
        if proc.returncode != 0:
            return proc.returncode, printed, outputs
    return 0, printed, outputs


def test_the_action_on_a_pull_request_in_a_shallow_clone(tmp_path):
    origin = GitRepo(tmp_path / "origin")
    files = guarded_files()
    origin.commit(files, "base")
    for i in range(3):
        origin.commit({f"notes/{i}.txt": f"{i}\n"}, f"main moves on {i}")
    git(origin.path, "checkout", "-q", "-b", "feature", "HEAD~2")
    origin.commit({"internal/agents/routes.go": ROUTES_GET}, "drop the heartbeat route")
    origin.commit({"README.md": "more\n"}, "and more")
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", origin.path.as_uri(), "workspace")
    workspace = tmp_path / "workspace"
    summary = tmp_path / "summary.md"
    status, printed, outputs = run_action(workspace, tmp_path, {"sarif": str(tmp_path / "drift.sarif")},
                                          {"GITHUB_BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(summary)},
                                          {"github.event.pull_request.head.sha": "f" * 40})
    assert status == 1 and outputs["check"]["conclusion"] == "failure", printed
    assert outputs["base"]["base"] == "origin/main"
    text = summary.read_text()
    assert "agents" in text and "heartbeat" in text  # the same table the App comments
    annotations = [line for line in printed.splitlines() if line.startswith(("::error", "::warning", "::notice"))]
    assert annotations and "file=docs/ideas/agents.md,line=" in annotations[0], printed
    assert "driftbot: " in printed and "(failure)" in printed
    log = json.loads((tmp_path / "drift.sarif").read_text())  # the whole report, for code scanning
    results = log["runs"][0]["results"]
    assert any(r["ruleId"] == "drift/missing" and "heartbeat" in r["message"]["text"] for r in results)
    assert "/drift recheck" not in text  # no App here to answer commands
    assert "At `fffffff`" in text  # the pull request's head, not the merge commit checked out


def test_the_action_says_what_to_set_without_a_base(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.commit(base_files(), "one")
    status, printed, _ = run_action(tmp_path / "r", tmp_path, {}, {"GITHUB_BASE_REF": ""})
    assert status == 2 and "set the base input" in printed


def test_workflow_commands_escape_and_cap(tmp_path):
    from bot.report.actions import MAX_PER_LEVEL, workflow_commands
    from bot.report.pr import CheckOutput
    notes = [{"path": "docs/a,b.md", "start_line": i + 1, "end_line": i + 1, "annotation_level": "warning",
              "title": "gap: x", "message": "line one\nline two 100%"} for i in range(MAX_PER_LEVEL + 3)]
    lines = workflow_commands(CheckOutput("t", "s", "x", "failure", notes))
    assert lines[0] == "::warning file=docs/a%2Cb.md,line=1,endLine=1,title=gap%3A x::line one%0Aline two 100%25"
    assert len(lines) == MAX_PER_LEVEL + 1 and lines[-1].startswith("::notice") and "3 more annotations" in lines[-1]
