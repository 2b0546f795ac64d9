"""The installed package, not the source tree: build the wheel, install it into a fresh virtual
environment, and run driftbot from there, away from the checkout."""
import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(ROOT)], capture_output=True, text=True, cwd=tmp)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob("driftbot-*.whl")
    env = tmp / "venv"
    venv.create(env, with_pip=False)
    py = env / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                          capture_output=True, text=True, cwd=tmp)
    assert done.returncode == 0, done.stderr[-2000:]
    # driftbot's dependencies come from this environment; driftbot itself only from the wheel
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return wheel, env, tmp


def run(env: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(env / "bin" / "driftbot"), *args], capture_output=True, text=True, cwd=cwd)


def test_the_wheel_holds_the_rule_packs_schemas_and_manifest(installed):
    wheel, _env, _tmp = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for pack in (ROOT / "rules").glob("*.yml"):
        assert f"bot/_data/rules/{pack.name}" in names
    for schema in (ROOT / "schema").glob("*.json"):
        assert f"bot/_data/schema/{schema.name}" in names
    assert "bot/_data/app.yml" in names


def test_the_installed_driftbot_reports_like_the_checkout(installed):
    _wheel, env, tmp = installed
    where = subprocess.run([str(env / "bin" / "python"), "-c", "import bot; print(bot.__file__)"],
                           capture_output=True, text=True, cwd=tmp, check=True).stdout
    assert str(env) in where and str(ROOT) not in where
    demo = tmp / "demo-repo"
    shutil.copytree(ROOT / "examples" / "demo-repo", demo)
    out = run(env, tmp, "report", str(demo), "--format", "json", "-q")
    assert out.returncode == 0, out.stderr
    installed_report = json.loads(out.stdout)
    here = subprocess.run([sys.executable, "-m", "bot.cli", "report", str(demo), "--format", "json", "-q"],
                          capture_output=True, text=True, cwd=ROOT)
    assert installed_report["features"] == json.loads(here.stdout)["features"]
    assert any(f["requirements"] and f["code"] for f in installed_report["features"])


def test_the_installed_driftbot_serves_schemas_the_manifest_and_help(installed):
    _wheel, env, tmp = installed
    schema = run(env, tmp, "schema", "config")
    assert schema.returncode == 0 and json.loads(schema.stdout)["$id"].startswith("urn:driftbot:schema:config")
    page = run(env, tmp, "manifest", "--url", "https://drift.example.com")
    assert page.returncode == 0 and "https://drift.example.com/webhook" in page.stdout
    helped = run(env, tmp, "serve", "--help")
    assert helped.returncode == 0 and "WEBHOOK_SECRET" in helped.stdout
