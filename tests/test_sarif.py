"""SARIF output: valid against the official 2.1.0 schema, and true to the findings."""
import json
from pathlib import Path

import jsonschema

from bot.cli import main
from tests.conftest import ROOT

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text())


def validate(log: dict) -> None:
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errors[:5]]


def test_the_demo_report_as_sarif_is_valid_and_has_a_result_per_gap(capsys):
    assert main(["report", str(ROOT / "examples" / "demo-repo"), "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    validate(log)
    assert main(["report", str(ROOT / "examples" / "demo-repo"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    gaps = [g for f in report["features"] for g in f["gaps"]]
    (run,) = log["runs"]
    assert len(run["results"]) == len(gaps) > 0
    fingerprints = [r["partialFingerprints"]["driftbotGap/v1"] for r in run["results"]]
    assert sorted(fingerprints) == sorted(g["fingerprint"] for g in gaps)
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        # the repository's paths: the demo lives in this repository's examples/demo-repo/
        assert uri.startswith("examples/demo-repo/") and (ROOT / uri).exists(), uri
    # rules carry fix guidance, some of it from the rule packs in use
    missing = next(r for r in rules if r["id"] == "drift/missing")
    assert "How to fix" in missing["help"]["markdown"] and "(`go-" in missing["help"]["markdown"]


def test_waived_gaps_are_suppressed_with_their_reason(tmp_path, capsys):
    repo = tmp_path / "r"
    (repo / "docs/features").mkdir(parents=True)
    (repo / "internal/auth").mkdir(parents=True)
    (repo / "docs/features/auth.md").write_text("# Auth\n\n- `POST /api/login` signs in\n- `POST /api/logout` signs out\n")
    (repo / "internal/auth/routes.go").write_text(
        'package auth\n\nfunc R(r Router) { r.HandleFunc("POST /api/login", login) }\n')
    assert main(["report", str(repo), "--format", "json"]) == 0
    gap = next(g for f in json.loads(capsys.readouterr().out)["features"] for g in f["gaps"]
               if "logout" in g["message"])
    (repo / ".github").mkdir()
    (repo / ".github/driftbot.yml").write_text(
        f"version: 1\nwaivers:\n  - fingerprint: {gap['fingerprint']}\n    reason: logout ships with sessions v2\n")
    assert main(["report", str(repo), "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    validate(log)
    (result,) = [r for r in log["runs"][0]["results"] if r["partialFingerprints"]["driftbotGap/v1"] == gap["fingerprint"]]
    assert result["suppressions"][0]["justification"] == "logout ships with sessions v2"


def test_check_as_sarif_holds_only_the_new_gaps(tmp_path, capsys):
    from tests.fakegithub import GitRepo
    from tests.test_app_pr import ROUTES_BOTH, ROUTES_GET, base_files
    g = GitRepo(tmp_path / "r")
    files = base_files()
    files["internal/agents/routes.go"] = ROUTES_BOTH
    g.commit(files, "base")
    g.commit({"internal/agents/routes.go": ROUTES_GET}, "drop the heartbeat route", branch="feature")
    main(["check", str(tmp_path / "r"), "--base", "main", "--format", "sarif"])
    log = json.loads(capsys.readouterr().out)
    validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == 1 and "heartbeat" in results[0]["message"]["text"]


def test_paths_are_the_repositorys_when_a_subfolder_is_checked(tmp_path, capsys):
    import shutil
    from tests.fakegithub import GitRepo
    shutil.copytree(ROOT / "examples" / "demo-repo", tmp_path / "mono" / "services" / "fleet")
    GitRepo(tmp_path / "mono").commit({}, "monorepo")
    assert main(["report", str(tmp_path / "mono" / "services" / "fleet"), "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]]
    assert uris and all(u.startswith("services/fleet/") for u in uris)
    assert all((tmp_path / "mono" / u.split("#")[0]).exists() for u in uris)
    assert all(r["locations"] for r in log["runs"][0]["results"])  # every result has a place
