"""Reading a local checkout into a Snapshot. This is the CLI's I/O; the engine never reads files."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .engine.model import Skipped
from .engine.snapshot import DEFAULT_SIZE_CAP, FileEntry, Snapshot, blob_sha

# Directories never worth reading.
IGNORED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox",
                ".mypy_cache", ".pytest_cache", ".idea", ".vscode", "dist", "build", "target",
                "vendor", ".next", ".gradle", "coverage", ".hypothesis", ".ruff_cache"}


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def load_directory(root: str | os.PathLike, *, size_cap: int = DEFAULT_SIZE_CAP,
                   progress=None) -> Snapshot:
    """Walk ``root`` and read every regular file (up to ``size_cap``) into a Snapshot.

    Symlinks are never followed: a link that points inside the repository is recorded as
    skipped ("symlink"), one that points outside as skipped ("symlink outside the repository").
    Unreadable files and files over the cap are skipped and counted.
    """
    root = Path(root).resolve()
    entries: list[FileEntry] = []
    contents: dict[str, bytes] = {}
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        rel_dir = os.path.relpath(dirpath, root)
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                dirnames.remove(d)
                rel = _rel(rel_dir, d)
                skipped.append(Skipped(rel, _link_reason(root, full)))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = _rel(rel_dir, name)
            if os.path.islink(full):
                skipped.append(Skipped(rel, _link_reason(root, full)))
                continue
            try:
                st = os.stat(full, follow_symlinks=False)
                if not os.path.isfile(full):
                    continue
                if st.st_size > size_cap:
                    skipped.append(Skipped(rel, f"larger than {size_cap // 1024} KiB"))
                    continue
                with open(full, "rb") as fh:
                    data = fh.read(size_cap + 1)
            except OSError as exc:
                skipped.append(Skipped(rel, f"unreadable ({exc.strerror or exc.__class__.__name__})"))
                continue
            entries.append(FileEntry(rel, blob_sha(data), len(data)))
            contents[rel] = data
            if progress:
                progress(len(entries))
    return Snapshot(entries, contents=contents, skipped=skipped, commit=git_commit(root),
                    root_label=str(root))


def _rel(rel_dir: str, name: str) -> str:
    return name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")


def _link_reason(root: Path, full: str) -> str:
    try:
        target = Path(os.path.realpath(full))
        target.relative_to(root)
        return "symlink (not followed)"
    except ValueError:
        return "symlink outside the repository (not followed)"
