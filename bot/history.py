"""Alignment over a checkout's history: each of the last commits of the current branch (first parents
only: the branch's own line) read from git and evaluated with its own config. Files unchanged from one
commit to the next come from the content cache, so walking 20 commits costs little more than one report
once the first has been read."""
from __future__ import annotations

import datetime as _dt
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .checkout import git, load_git_commit
from .engine import ConfigError, Engine, load_config
from .prewarm import evaluate


@dataclass(frozen=True)
class Point:
    sha: str
    date: str  # ISO 8601, the commit's
    subject: str
    overall: int | None
    features: dict[str, int | None] = field(default_factory=dict)
    error: str = ""  # why this commit has no figures (an invalid config then)


def commits(root: Path, limit: int, since: str | None = None) -> list[tuple[str, str, str]]:
    """(sha, date, subject) of the branch's last ``limit`` commits, oldest first."""
    args = [*git(root), "log", "--first-parent", "--format=%H%x09%cI%x09%s", f"-n{max(1, limit)}"]
    if since:
        args.append(f"--since={since}")
    out = subprocess.run([*args, "HEAD", "--"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise ValueError(f"{root} has no history to walk (not a git checkout, or no commit yet)")
    rows = [line.split("\t", 2) for line in out.stdout.splitlines() if line.count("\t") >= 2]
    return [(sha, date, subject) for sha, date, subject in reversed(rows)]


def walk(root: Path, limit: int = 20, since: str | None = None, cache=None, today: _dt.date | None = None,
         progress=None) -> list[Point]:
    """The alignment of each of the last commits, oldest first."""
    points = []
    listed = commits(root, limit, since)
    engine = Engine()
    for n, (sha, date, subject) in enumerate(listed, 1):
        snap = load_git_commit(root, sha)
        try:
            try:
                config = load_config(snap)
            except ConfigError as exc:
                points.append(Point(sha, date, subject, None, error=f"invalid config: {exc.first}"))
                continue
            findings = evaluate(engine, snap, config, cache, today=today or _dt.date.today(), parallel=False)
        finally:
            snap.close()
        points.append(Point(sha, date, subject, findings.overall_alignment,
                            {f.id: f.alignment for f in findings.features}))
        if progress:
            progress(n, len(listed))
    return points
