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


def git_files(root: Path) -> list[str] | None:
    """Files git would consider in a work tree (tracked, plus untracked that .gitignore does not
    exclude), relative to ``root``; None when ``root`` is not in a git work tree."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                              "--full-name", "."], capture_output=True, timeout=60)
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or top.returncode != 0:
        return None
    try:
        prefix = root.relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    except ValueError:
        return None
    prefix = "" if prefix == "." else prefix + "/"
    files = []
    for raw in out.stdout.split(b"\0"):
        if not raw:
            continue
        path = raw.decode("utf-8", errors="surrogateescape")
        if path.startswith(prefix):
            files.append(path[len(prefix):])
    return sorted(set(files))


class _Reader:
    """Reads files into snapshot entries: size cap, unreadable files skipped and counted, progress."""

    def __init__(self, root: Path, size_cap: int, progress):
        self.root, self.size_cap, self.progress = root, size_cap, progress
        self.entries: list[FileEntry] = []
        self.contents: dict[str, bytes] = {}
        self.skipped: list[Skipped] = []

    def read(self, rel: str, full: str, size: int) -> None:
        if size > self.size_cap:
            self.skipped.append(Skipped(rel, f"larger than {self.size_cap // 1024} KiB"))
            return
        try:
            with open(full, "rb") as fh:
                data = fh.read(self.size_cap + 1)
        except FileNotFoundError:
            return  # gone since it was listed
        except OSError as exc:
            self.skipped.append(Skipped(rel, f"unreadable ({exc.strerror or exc.__class__.__name__})"))
            return
        self.entries.append(FileEntry(rel, blob_sha(data), len(data)))
        self.contents[rel] = data
        if self.progress and len(self.entries) % 500 == 0:
            self.progress(len(self.entries))

    def snapshot(self) -> Snapshot:
        return Snapshot(self.entries, contents=self.contents, skipped=self.skipped, commit=git_commit(self.root),
                        root_label=str(self.root))


def load_directory(root: str | os.PathLike, *, size_cap: int = DEFAULT_SIZE_CAP,
                   progress=None, use_git: bool = True) -> Snapshot:
    """Walk ``root`` and read every regular file (up to ``size_cap``) into a Snapshot.

    Symlinks are never followed: a link that points inside the repository is recorded as
    skipped ("symlink"), one that points outside as skipped ("symlink outside the repository").
    Unreadable files and files over the cap are skipped and counted.
    """
    root = Path(root).resolve()
    listed = git_files(root) if use_git else None
    if listed:  # empty: not a work tree, or a folder git ignores (then read it as plain files)
        return _load_listed(root, listed, size_cap, progress)
    reader = _Reader(root, size_cap, progress)
    skipped = reader.skipped
    stack = [(str(root), "")]
    while stack:
        full_dir, rel_dir = stack.pop()
        try:
            with os.scandir(full_dir) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(rel_dir or ".", f"unreadable folder ({exc.strerror or exc.__class__.__name__})"))
            continue
        subdirs = []
        for entry in items:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink():
                    skipped.append(Skipped(rel, _link_reason(root, entry.path)))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in IGNORED_DIRS:
                        subdirs.append((entry.path, rel))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # sockets, fifos, devices
                size = entry.stat(follow_symlinks=False).st_size
            except OSError as exc:
                skipped.append(Skipped(rel, f"unreadable ({exc.strerror or exc.__class__.__name__})"))
                continue
            reader.read(rel, entry.path, size)
        stack.extend(reversed(subdirs))
    return reader.snapshot()


def _load_listed(root: Path, listed: list[str], size_cap: int, progress) -> Snapshot:
    """Read the files git listed. A path whose folder is a symlink is never followed."""
    reader = _Reader(root, size_cap, progress)
    real_root = str(root)
    dir_ok: dict[str, bool] = {"": True}

    def folder_ok(d: str) -> bool:
        """False when d or a parent is a symlink (git lists files behind linked folders too)."""
        if d not in dir_ok:
            parent = d.rsplit("/", 1)[0] if "/" in d else ""
            dir_ok[d] = folder_ok(parent) and not os.path.islink(os.path.join(real_root, d))
        return dir_ok[d]

    for rel in listed:
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        if any(part in IGNORED_DIRS for part in folder.split("/")):
            continue
        full = os.path.join(real_root, rel)
        try:
            if not folder_ok(folder) or os.path.islink(full):
                reader.skipped.append(Skipped(rel, _link_reason(root, full)))
                continue
            st = os.stat(full, follow_symlinks=False)
        except FileNotFoundError:
            continue  # listed by git, deleted in the work tree
        except OSError as exc:
            reader.skipped.append(Skipped(rel, f"unreadable ({exc.strerror or exc.__class__.__name__})"))
            continue
        if os.path.isfile(full):
            reader.read(rel, full, st.st_size)
    return reader.snapshot()


def _link_reason(root: Path, full: str) -> str:
    try:
        target = Path(os.path.realpath(full))
        target.relative_to(root)
        return "symlink (not followed)"
    except ValueError:
        return "symlink outside the repository (not followed)"
