"""Bad input never crashes: binary, huge, invalid UTF-8, symlinks, unreadable files, empty repos,
non-Markdown specs, minified code, and patterns that would backtrack."""
import os

import pytest

from bot.checkout import load_directory
from bot.engine import Engine, Status, load_config
from bot.engine.snapshot import Snapshot
from tests.conftest import analyse, feature


def write(root, rel, data):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def run(root):
    snap = load_directory(root)
    return snap, Engine().evaluate(snap, load_config(snap))


def test_binary_huge_and_invalid_utf8_files(tmp_path):
    write(tmp_path, "docs/ideas/img.md", "# Img\n\n`Resize`\n")
    write(tmp_path, "internal/img/logo.go", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    write(tmp_path, "internal/img/big.go", b"package img\n" + b"// x\n" * 300_000)
    write(tmp_path, "internal/img/resize.go", "package img\n\n// caf\xe9 \nfunc Resize() {}\n\nvar _ = Resize\n".encode("latin-1"))
    snap, findings = run(tmp_path)
    reasons = {s.path: s.reason for s in findings.skipped}
    assert reasons["internal/img/big.go"].startswith("larger than")
    assert reasons["internal/img/logo.go"] == "binary"
    f = feature(findings, "img")
    assert f.requirements[0].status is Status.MET
    assert any("invalid UTF-8" in w for w in findings.warnings)


def test_symlinks_are_never_followed_out_of_the_repo(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.go", "package secret\nfunc Leak() {}\n")
    repo = tmp_path / "repo"
    write(repo, "docs/ideas/a.md", "# A\n\n`Leak`\n")
    write(repo, "internal/a/a.go", "package a\n")
    os.symlink(outside / "secret.go", repo / "internal/a/link.go")
    os.symlink(outside, repo / "internal/a/dir")
    snap, findings = run(repo)
    reasons = {s.path: s.reason for s in findings.skipped}
    assert "outside the repository" in reasons["internal/a/link.go"]
    assert "outside the repository" in reasons["internal/a/dir"]
    assert feature(findings, "a").requirements[0].status is Status.MISSING


def test_unreadable_file_is_skipped_and_counted(tmp_path, monkeypatch):
    write(tmp_path, "docs/ideas/a.md", "# A\n")
    write(tmp_path, "internal/a/a.go", "package a\n")
    real_open = open

    def fake_open(path, *a, **kw):
        if str(path).endswith("a.go"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **kw)

    monkeypatch.setattr("builtins.open", fake_open)
    _, findings = run(tmp_path)
    assert [(s.path, s.reason) for s in findings.skipped] == [("internal/a/a.go", "unreadable (Permission denied)")]


def test_empty_and_non_markdown_specs():
    findings = analyse({
        "docs/ideas/empty.md": "",
        "docs/ideas/junk.md": b"\x00\x01\x02\xff",
        "docs/ideas/html.md": "<html><body><p>not markdown really</p></body></html>",
        "internal/empty/e.go": "package empty\n",
    })
    assert {f.id for f in findings.features} == {"empty", "junk", "html"}
    assert any("spec is empty" in w for w in findings.warnings)
    assert any("binary" in w for w in findings.warnings)
    assert all(not f.requirements for f in findings.features)


def test_repo_without_specs_or_code():
    assert analyse({}).features == ()
    only_code = analyse({"internal/a/a.go": "package a\n"})
    assert only_code.features == () and only_code.unpaired.code == ("internal/a",)
    only_spec = analyse({"docs/features/a.md": "# A\n\n`POST /x/y`\n"})
    (f,) = only_spec.features
    assert f.alignment == 0 and f.finished == "no"


def test_minified_files_are_not_scanned():
    findings = analyse({
        "docs/features/ui.md": "# UI\n\n`renderAll`\n",
        "src/ui/bundle.js": "function renderAll(){}" + ";var a=1" * 1000,
    })
    assert any("minified" in s.reason for s in findings.skipped)


def test_long_lines_do_not_hang_patterns():
    # a rule-pack pattern over a long line of near-matches finishes (bounded by line cap + timeouts)
    line = "r.HandleFunc(" + '"/a' * 1300 + "\n"
    findings = analyse({"docs/ideas/a.md": "# A\n\n`GET /zzz`\n", "internal/a/a.go": "package a\n" + line})
    assert feature(findings, "a").requirements[0].status is Status.MISSING


def test_snapshot_skips_count_as_existing_paths():
    from bot.engine.model import Skipped
    snap = Snapshot.from_texts({"docs/ideas/a.md": "# A\n\n`internal/a/data.bin`\n", "internal/a/a.go": "package a\n"},
                               skipped=[Skipped("internal/a/data.bin", "binary")])
    f = Engine().evaluate(snap, load_config(snap)).features[0]
    assert f.requirements[0].status is Status.MET


@pytest.mark.parametrize("text", ["version: [", "version: 1\nfeatures: {", "\t- x", "version: 1\n\x00"])
def test_broken_yaml_is_a_config_error(text):
    from bot.engine import ConfigError
    snap = Snapshot.from_texts({".driftbot.yml": text})
    with pytest.raises(ConfigError) as e:
        load_config(snap)
    assert e.value.first.file == ".driftbot.yml"


def test_git_checkout_respects_gitignore_and_never_follows_linked_folders(tmp_path):
    import subprocess
    outside = tmp_path / "outside"
    write(outside, "x.go", "package x\nfunc Secret() {}\n")
    repo = tmp_path / "repo"
    write(repo, ".gitignore", "build/\n")
    write(repo, "docs/ideas/a.md", "# A\n\n`Secret`\n")
    write(repo, "internal/a/a.go", "package a\n")
    write(repo, "build/gen/a.go", "package gen\nfunc Secret() {}\n")
    os.symlink(outside, repo / "internal" / "a" / "linked")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    snap, findings = run(repo)
    assert "build/gen/a.go" not in snap and "internal/a/a.go" in snap
    assert any(s.path.startswith("internal/a/linked") and "outside" in s.reason for s in snap.skipped)
    assert feature(findings, "a").requirements[0].status is Status.MISSING


def test_a_checkouts_git_config_never_runs_anything(tmp_path):
    """core.fsmonitor names a program git runs on ls-files; a checkout under review must not run it."""
    import subprocess

    from bot.cli import main
    repo = tmp_path / "r"
    repo.mkdir()
    run = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)
    run("init", "-q")
    marker = tmp_path / "pwned"
    hook = tmp_path / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    (repo / "docs" / "ideas").mkdir(parents=True)
    (repo / "docs" / "ideas" / "a.md").write_text("# A\n\n`POST /api/a`\n")
    run("add", "-A")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x")
    run("config", "core.fsmonitor", str(hook))
    for args in (["report", str(repo), "-q"], ["validate", str(repo)], ["init", str(repo)]):
        main(args)
    assert not marker.exists()


def test_deep_yaml_and_non_finite_numbers_are_config_errors(tmp_path, capsys):
    from bot.cli import main
    (tmp_path / ".github").mkdir()
    cfg = tmp_path / ".github" / "driftbot.yml"
    cfg.write_text("version: 1\nfeatures: " + "[" * 900 + "]" * 900 + "\n")
    assert main(["validate", str(tmp_path)]) == 2
    assert "nested deeper than 40 levels" in capsys.readouterr().err
    cfg.write_text("version: 1\nscoring:\n  weights: {requirements: .nan}\n")
    assert main(["report", str(tmp_path), "-q"]) == 2
    assert "scoring.weights.requirements: expected a finite number, got .nan" in capsys.readouterr().err


def test_an_internal_error_is_one_line_with_its_own_exit_code(tmp_path, capsys, monkeypatch):
    from bot import cli

    def broken(_args):
        raise ValueError("something impossible")
    monkeypatch.setattr(cli, "cmd_report", broken)
    monkeypatch.delenv("DRIFTBOT_DEBUG", raising=False)
    assert cli.main(["report", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("driftbot: internal error (ValueError at test_badinput.py:") and err.count("\n") == 1
    assert "Traceback" not in err
