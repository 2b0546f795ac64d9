"""Reading a local checkout into a Snapshot. This is the CLI's I/O; the engine never reads files."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from .engine.model import Skipped
from .engine.snapshot import DEFAULT_SIZE_CAP, FileEntry, Snapshot, blob_sha

# Directories never worth reading.
IGNORED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox",
                ".mypy_cache", ".pytest_cache", ".idea", ".vscode", "dist", "build", "target",
                "vendor", ".next", ".gradle", "coverage", ".hypothesis", ".ruff_cache"}


# A checkout's own git config must never run anything: core.fsmonitor names a program git runs on
# every status-like command (ls-files included), hooks run on some. These settings override them.
_SAFE = ("-c", "core.fsmonitor=", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false",
         "-c", "diff.external=", "-c", "core.pager=cat")


def git(root: Path) -> list[str]:
    """The start of a git command run in ``root`` that ignores the repository's executable settings."""
    return ["git", "-C", str(root), *_SAFE]


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run([*git(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def git_files(root: Path) -> list[str] | None:
    """Files git would consider in a work tree (tracked, plus untracked that .gitignore does not
    exclude), relative to ``root``; None when ``root`` is not in a git work tree."""
    try:
        out = subprocess.run([*git(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                              "--full-name", "."], capture_output=True, timeout=60)
        top = subprocess.run([*git(root), "rev-parse", "--show-toplevel"], capture_output=True,
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


def git_clean_blobs(root: Path) -> dict[str, str]:
    """Blob hashes git already knows for files unchanged in the work tree (path relative to ``root`` →
    sha), from the index: such a file need not be read to be identified, so a run whose indexes are
    all cached reads only what changed. Files git reports as changed (or may have changed: its stat
    cache is stale) are left out and read. Empty when git cannot tell."""
    try:
        staged = subprocess.run([*git(root), "ls-files", "-s", "-v", "-z", "--full-name", "."], capture_output=True,
                                timeout=60)
        changed = subprocess.run([*git(root), "diff-files", "--name-only", "-z", "--ignore-submodules=all",
                                  "--", "."], capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return {}
    if staged.returncode != 0 or changed.returncode != 0:
        return {}
    pre = repo_prefix(root)
    dirty = {raw.decode("utf-8", errors="surrogateescape") for raw in changed.stdout.split(b"\0") if raw}
    out: dict[str, str] = {}
    for rec in staged.stdout.split(b"\0"):
        if not rec:
            continue
        meta, _, raw = rec.partition(b"\t")
        fields = meta.split()
        if len(fields) != 4 or fields[0] != b"H" or fields[1] not in (b"100644", b"100755") or fields[3] != b"0":
            # read: links, submodules, files in a merge conflict (stages 1-3), and files git is told not
            # to look at (skip-worktree "S", assume-unchanged in lower case): their bytes may differ
            continue
        path = raw.decode("utf-8", errors="surrogateescape")
        if path not in dirty and path.startswith(pre):
            out[path[len(pre):]] = fields[2].decode()
    return out


class _Reader:
    """Reads files into snapshot entries: size cap, unreadable files skipped and counted, progress.
    A file whose blob hash git already knows (``known``) is listed with it and read only if needed."""

    def __init__(self, root: Path, size_cap: int, progress, known: dict[str, str] | None = None):
        self.root, self.size_cap, self.progress = root, size_cap, progress
        self.entries: list[FileEntry] = []
        self.contents: dict[str, bytes] = {}
        self.skipped: list[Skipped] = []
        self.known = known or {}
        self.full: dict[str, str] = {}  # path → file of the entries not read yet
        # entries whose bytes, once read, did not match the hash they were listed with (line endings
        # or filters git applies, a file changed or gone since): nothing derived from them is kept
        self.unverified: set[str] = set()

    def read(self, rel: str, full: str, size: int) -> None:
        if size > self.size_cap:
            self.skipped.append(Skipped(rel, f"larger than {self.size_cap // 1024} KiB"))
            return
        sha = self.known.get(rel)
        if sha is not None:
            self.entries.append(FileEntry(rel, sha, size))
            self.full[rel] = full
            if self.progress and len(self.entries) % 500 == 0:
                self.progress(len(self.entries))
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

    def load(self, rel: str) -> bytes:
        """The bytes of an entry listed by its known hash, read when first needed."""
        try:
            with open(self.full[rel], "rb") as fh:
                data = fh.read(self.size_cap + 1)
        except OSError:
            self.unverified.add(rel)
            return b""  # gone or unreadable since it was listed: read as empty
        if blob_sha(data) != self.known.get(rel):
            self.unverified.add(rel)
        return data

    def snapshot(self) -> Snapshot:
        snap = Snapshot(self.entries, self.load if self.full else None, contents=self.contents, skipped=self.skipped,
                        commit=git_commit(self.root), root_label=str(self.root))
        snap.unverified = self.unverified  # type: ignore[attr-defined] - filled as files are read
        return snap


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
    reader = _Reader(root, size_cap, progress, git_clean_blobs(root))
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
            if not folder_ok(folder):
                reader.skipped.append(Skipped(rel, _link_reason(root, full)))
                continue
            st = os.lstat(full)  # one call: is it a link, a regular file, and its size
        except FileNotFoundError:
            continue  # listed by git, deleted in the work tree
        except OSError as exc:
            reader.skipped.append(Skipped(rel, f"unreadable ({exc.strerror or exc.__class__.__name__})"))
            continue
        if stat.S_ISLNK(st.st_mode):
            reader.skipped.append(Skipped(rel, _link_reason(root, full)))
        elif stat.S_ISREG(st.st_mode):
            reader.read(rel, full, st.st_size)
    return reader.snapshot()


def _link_reason(root: Path, full: str) -> str:
    try:
        target = Path(os.path.realpath(full))
        target.relative_to(root)
        return "symlink (not followed)"
    except ValueError:
        return "symlink outside the repository (not followed)"


class _CatFile:
    """One `git cat-file --batch` process serving blobs by sha."""

    def __init__(self, root: Path):
        self.proc = subprocess.Popen([*git(root), "cat-file", "--batch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def read(self, sha: str) -> bytes:
        self.proc.stdin.write(sha.encode() + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) < 3:
            raise OSError(f"git cat-file: no object {sha}")
        data = self.proc.stdout.read(int(header[2]))
        self.proc.stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(10)


def load_git_commit(root: str | os.PathLike, ref: str, *, size_cap: int = DEFAULT_SIZE_CAP) -> Snapshot:
    """A snapshot of a commit of the git repository at ``root``; blobs are read when needed.
    Raises ValueError when ``ref`` does not name a commit."""
    root = Path(root).resolve()
    try:
        sha = subprocess.run([*git(root), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ValueError(f"git is not available: {exc}") from None
    if not sha:
        raise ValueError(f"{ref!r} is not a commit in {root}")
    return _load_tree(root, sha, size_cap, commit=sha, label=f"{root}@{ref}")


def load_git_index(root: str | os.PathLike, *, size_cap: int = DEFAULT_SIZE_CAP) -> Snapshot:
    """A snapshot of what is staged for commit (git's index): what the next commit will hold, without
    untracked files or edits not added. Raises ValueError when git cannot write the index as a tree
    (a merge with unresolved conflicts)."""
    root = Path(root).resolve()
    try:
        out = subprocess.run([*git(root), "write-tree"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ValueError(f"git is not available: {exc}") from None
    tree = out.stdout.strip()
    if out.returncode != 0 or not tree:
        why = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "git write-tree failed"
        raise ValueError(f"cannot read what is staged in {root}: {why} (resolve the conflicts first)")
    return _load_tree(root, tree, size_cap, commit=None, label=f"{root}@index")


def _load_tree(root: Path, sha: str, size_cap: int, *, commit: str | None, label: str) -> Snapshot:
    """The files of the tree (or commit) ``sha`` below the checkout's current folder; blobs read when needed."""
    prefix = subprocess.run([*git(root), "rev-parse", "--show-prefix"], capture_output=True, text=True,
                            timeout=30).stdout.strip()
    out = subprocess.run([*git(root), "ls-tree", "-r", "-l", "-z", sha, "--", "."], capture_output=True,
                         timeout=120).stdout
    entries, skipped = [], []
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, typ, bsha, size = meta.split()
        rel = path.decode("utf-8", errors="surrogateescape")[len(prefix):]
        if typ != b"blob":
            skipped.append(Skipped(rel, "submodule (not read)"))
        elif mode == b"120000":
            skipped.append(Skipped(rel, "symlink (not followed)"))
        elif int(size) > size_cap:
            skipped.append(Skipped(rel, f"larger than {size_cap // 1024} KiB"))
        else:
            entries.append(FileEntry(rel, bsha.decode(), int(size)))
    cat = _CatFile(root)
    shas = {e.path: e.sha for e in entries}
    snap = Snapshot(entries, lambda p: cat.read(shas[p]), skipped=skipped, commit=commit, root_label=label)
    snap.close = cat.close  # type: ignore[attr-defined]
    return snap


def merge_base(root: str | os.PathLike, ref: str) -> str:
    """The commit where HEAD branched from ``ref``. Raises ValueError saying what went wrong: not a
    git checkout, a ref git does not know, a shallow clone without the shared history, or two
    histories that never met."""
    def run(*args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([*git(root), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValueError(f"git is not available: {exc}") from None

    if run("rev-parse", "--git-dir").returncode != 0:
        raise ValueError(f"{root} is not a git checkout: `driftbot check` compares commits (use `driftbot report` "
                         "for a folder)")
    if run("rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode != 0:
        raise ValueError("the checkout has no commit yet: commit first, then compare")
    if run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        hint = f" (fetch it first: git fetch {ref.split('/', 1)[0]} {ref.split('/', 1)[1]})" if ref.startswith("origin/") \
            and "/" in ref else ""
        raise ValueError(f"unknown ref {ref!r}: git knows no branch, tag or commit by that name{hint}")
    out = run("merge-base", ref, "HEAD")
    if out.returncode == 0:
        return out.stdout.strip()
    if run("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise ValueError(f"{ref!r} and HEAD share no history in this shallow clone: fetch the whole history "
                         "(actions/checkout: `fetch-depth: 0`) or deepen it (git fetch --deepen=200)")
    raise ValueError(f"{ref!r} and HEAD share no history (they were never branched from one another)")


def work_tree_dirty(root: str | os.PathLike) -> bool:
    """Does the work tree differ from HEAD (changed, staged or new files)?"""
    try:
        out = subprocess.run([*git(Path(root)), "status", "--porcelain", "--untracked-files=normal"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and bool(out.stdout.strip())


def repo_prefix(root: str | os.PathLike) -> str:
    """The checked folder's path inside its git repository ("" at the top, "services/api/" below it):
    what tools that read the repository's paths (code scanning, annotations, links) need before ours."""
    try:
        out = subprocess.run([*git(Path(root)), "rev-parse", "--show-prefix"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def web_link(root: str | os.PathLike, commit: str | None):
    """A link maker for files at ``commit`` on the repository's GitHub page (from the ``origin`` remote),
    or None when there is no GitHub remote or no commit."""
    if not commit:
        return None
    try:
        out = subprocess.run([*git(Path(root)), "remote", "get-url", "origin"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    url = out.stdout.strip() if out.returncode == 0 else ""
    for prefix in ("git@github.com:", "ssh://git@github.com/", "https://github.com/", "http://github.com/"):
        if url.startswith(prefix):
            slug = url[len(prefix):].removesuffix("/").removesuffix(".git")
            if slug.count("/") == 1 and all(part and part not in (".", "..") for part in slug.split("/")):
                web = f"https://github.com/{slug}"
                prefix = repo_prefix(root)
                from urllib.parse import quote
                return lambda path, line: f"{web}/blob/{commit}/{quote(prefix + path)}" + (f"#L{line}" if line else "")
    return None
