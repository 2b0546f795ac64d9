"""The surfaces around the CLI: pre-commit hooks and the container image's recipe."""
import shlex
import subprocess
from pathlib import Path

import yaml

from tests.apphelpers import venv_env
from tests.conftest import ROOT
from tests.fakegithub import GitRepo, git
from tests.test_app_pr import ROUTES_GET, guarded_files


def hook(hook_id: str) -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return next(h for h in hooks if h["id"] == hook_id)


def run_hook(hook_id: str, cwd: Path) -> subprocess.CompletedProcess:
    h = hook(hook_id)
    assert h["language"] == "python" and h["pass_filenames"] is False
    return subprocess.run(shlex.split(h["entry"]), cwd=cwd, env=venv_env(), capture_output=True, text=True,
                          timeout=300)


def test_the_check_hook_refuses_a_staged_change_that_adds_a_gap(tmp_path):
    repo = GitRepo(tmp_path / "r")
    files = guarded_files()
    repo.commit(files, "base")
    assert run_hook("driftbot-check", repo.path).returncode == 0  # nothing staged: nothing added
    (repo.path / "internal/agents/routes.go").write_text(ROUTES_GET)
    git(repo.path, "add", "internal/agents/routes.go")
    refused = run_hook("driftbot-check", repo.path)
    assert refused.returncode == 1 and "heartbeat" in refused.stdout


def test_the_check_hook_judges_the_commit_being_made_not_the_working_tree(tmp_path):
    """pre-commit sets aside edits that are not added, but not untracked files: the hook reads what is
    staged, so neither kind counts, and a staged change counts even when the working tree differs."""
    repo = GitRepo(tmp_path / "r")
    files = guarded_files()
    repo.commit(files, "base")
    routes = repo.path / "internal/agents/routes.go"
    routes.write_text(ROUTES_GET)  # the same change, not added
    (repo.path / "docs/ideas/scratch.md").write_text("# Scratch\n\n- `POST /api/scratch` stores a draft\n")
    kept = run_hook("driftbot-check", repo.path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    git(repo.path, "add", "internal/agents/routes.go")
    routes.write_text(files["internal/agents/routes.go"])  # staged, then undone in the working tree only
    refused = run_hook("driftbot-check", repo.path)
    assert refused.returncode == 1 and "heartbeat" in refused.stdout and "what is staged for commit" in refused.stdout


def test_the_validate_hook_runs_on_the_config_and_fails_on_a_broken_one(tmp_path):
    import re
    pattern = re.compile(hook("driftbot-validate")["files"])
    assert pattern.search(".github/driftbot.yml") and pattern.search(".driftbot.yaml") and not pattern.search("a.yml")
    repo = GitRepo(tmp_path / "r")
    repo.commit({".github/driftbot.yml": "version: 1\nfeatures:\n  - id: x\n    spec: docs/x.md\n", "docs/x.md": "# x\n"}, "ok")
    assert run_hook("driftbot-validate", repo.path).returncode == 0
    (repo.path / ".github/driftbot.yml").write_text("version: 1\nfeaturez: []\n")
    broken = run_hook("driftbot-validate", repo.path)
    assert broken.returncode == 2 and "featurez" in broken.stderr


def test_the_image_runs_as_a_user_and_reports_its_health():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    instructions = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    words = [i[0] for i in instructions]
    user = words.index("USER")
    assert user < words.index("CMD") and instructions[user][1] != "root"
    health = next(line for line in lines if "/healthz" in line)
    assert "urlopen" in health and any(w == "HEALTHCHECK" for w in words)
    assert 'CMD ["driftbot", "serve"]' in lines
    copied = " ".join(i[1] for i in instructions if i[0] == "COPY")
    for needed in ("pyproject.toml", "bot", "rules", "schema", "app.yml"):  # what the wheel carries
        assert needed in copied, needed


def test_the_compose_file_runs_replicas_on_one_database_behind_one_address():
    import re
    import yaml
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    app, db, proxy = services["driftbot"], services["db"], services["proxy"]
    assert app["build"] == "." and app["deploy"]["replicas"] >= 2
    store = app["environment"]["DRIFTBOT_STORE"]
    assert store.startswith("postgresql://") and "@db:" in store and app["environment"]["DRIFTBOT_QUEUE"] == "postgres"
    assert db["image"].startswith("postgres:") and app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["environment"]["PRIVATE_KEY_PATH"].startswith("/run/secrets/") and "app_key" in compose["secrets"]
    mounted = next(v for v in proxy["volumes"] if "nginx.conf" in v).split(":")[0]
    conf = (ROOT / mounted).read_text()
    assert "server driftbot:8000 resolve" in conf and "resolver 127.0.0.11" in conf  # replicas added later get work
    assert re.search(r"client_max_body_size\s+25m", conf)  # GitHub's payload cap
    assert int(app["stop_grace_period"].rstrip("s")) > 20  # the replicas' shutdown grace fits in Docker's
    assert proxy["ports"][0].endswith(":8000")
