"""Reading a local checkout: files git already knows are identified by their blob hash, unread."""
import os

from bot.checkout import git_clean_blobs, load_directory
from bot.engine.snapshot import blob_sha
from tests.fakegithub import git


def make_repo(root):
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    (root / "src").mkdir()
    (root / "src" / "a.go").write_text("package a\n")
    (root / "src" / "b.go").write_text("package b\n")
    (root / "README.md").write_text("# r\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")


def test_unchanged_files_are_listed_by_their_git_hash_and_read_only_when_needed(tmp_path):
    make_repo(tmp_path)
    (tmp_path / "src" / "b.go").write_text("package b\n\nfunc B() {}\n")  # changed in the work tree
    (tmp_path / "src" / "c.go").write_text("package c\n")  # untracked
    known = git_clean_blobs(tmp_path)
    assert sorted(known) == ["README.md", "src/a.go"]
    snap = load_directory(tmp_path)
    for path in ("README.md", "src/a.go", "src/b.go", "src/c.go"):
        assert snap.entry(path).sha == blob_sha((tmp_path / path).read_bytes()), path
    assert "src/a.go" not in snap._contents and "src/b.go" in snap._contents
    assert snap.read("src/a.go") == b"package a\n"


def test_a_subfolder_checkout_and_a_staged_change(tmp_path):
    make_repo(tmp_path)
    (tmp_path / "src" / "a.go").write_text("package a // staged\n")
    git(tmp_path, "add", "src/a.go")
    snap = load_directory(tmp_path / "src")
    assert sorted(snap.paths()) == ["a.go", "b.go"]
    assert snap.entry("a.go").sha == blob_sha(b"package a // staged\n")
    assert snap.read("b.go") == b"package b\n"


def test_a_file_touched_without_change_is_read_and_still_matches(tmp_path):
    make_repo(tmp_path)
    st = os.stat(tmp_path / "src" / "a.go")
    os.utime(tmp_path / "src" / "a.go", (st.st_atime + 100, st.st_mtime + 100))
    snap = load_directory(tmp_path)
    assert snap.entry("src/a.go").sha == blob_sha(b"package a\n")


def test_outside_git_every_file_is_read(tmp_path):
    (tmp_path / "x.md").write_text("# x\n")
    assert git_clean_blobs(tmp_path) == {}
    snap = load_directory(tmp_path)
    assert snap.entry("x.md").sha == blob_sha(b"# x\n") and "x.md" in snap._contents


def test_files_git_is_told_not_to_look_at_are_read(tmp_path):
    make_repo(tmp_path)
    git(tmp_path, "update-index", "--skip-worktree", "src/a.go")
    git(tmp_path, "update-index", "--assume-unchanged", "src/b.go")
    (tmp_path / "src" / "a.go").write_text("package a // edited locally\n")
    (tmp_path / "src" / "b.go").write_text("package b // edited locally\n")
    assert sorted(git_clean_blobs(tmp_path)) == ["README.md"]
    snap = load_directory(tmp_path)
    assert snap.entry("src/a.go").sha == blob_sha(b"package a // edited locally\n")
    assert snap.entry("src/b.go").sha == blob_sha(b"package b // edited locally\n")
