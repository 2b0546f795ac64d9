"""Globs from configs are user input: they are checked, never crash, and match like wcmatch."""
import io

from hypothesis import given, settings, strategies as st

from bot.engine import globs

PATHS = ["internal/auth/a.go", "internal/authz/b.go", ".github/driftbot.yml", "docs/ideas/x.md", "a.go"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab*?/[]{},!.-\\^$()+|")), max_size=40))
def test_checked_globs_never_crash_when_matched(pattern):
    if globs.check(pattern) is None:
        index = globs.PathIndex(PATHS)
        got = index.glob(pattern)
        assert set(got) <= set(PATHS)
        assert all(globs.match(pattern, p) for p in got)


def test_folder_and_prefix_semantics():
    index = globs.PathIndex(PATHS)
    assert index.glob("internal/auth/") == ["internal/auth/a.go"]
    assert index.glob("internal/auth/**") == ["internal/auth/a.go"]
    assert index.glob("./docs/**/*.md") == ["docs/ideas/x.md"]
    assert index.glob("**/*.{go,yml}") == [".github/driftbot.yml", "a.go", "internal/auth/a.go", "internal/authz/b.go"]
    assert globs.root_of("internal/{name}/**".replace("{name}", "auth")) == "internal/auth"
    assert globs.check("{" * 300 + "}" * 300) is not None


def test_progress_shows_on_a_terminal_after_half_a_second(monkeypatch):
    from bot import cli
    buf = io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", buf)
    p = cli._Progress(True)
    p("index", 10, 100)
    assert buf.getvalue() == ""  # fast runs stay quiet
    p.start -= 1
    p("index", 500, 1000)
    p.done()
    assert "Indexing … 500/1,000" in buf.getvalue() and buf.getvalue().endswith("\r\033[K")
    quiet = cli._Progress(False)
    quiet.start -= 1
    quiet("index", 1, 2)
    assert buf.getvalue().count("Indexing") == 1


SHORTCUT_PATHS = ["test/a.go", "tests/x/y.py", "src/test_auth.py", "pkg/auth_test.go", "docs/testing.md", "a/.hidden/test/b.go",
         "k8s/deploy.yaml", "chart/values.yml", "Dockerfile", "svc/Dockerfile.prod", ".github/workflows/ci.yml",
         "internal/res0001/part00.go", "internal/res0001/sub/x.go", "internal/res00011/y.go", "internal/res0001",
         "TEST/UPPER.go", "src/ax/b.c", "src/bx/c.c", "weird[1]/x.go", "a b/c.md"]
GLOBS = ["**/test/**", "**/tests/**", "**/test_*.py", "**/*_test.go", "**/*.{yaml,yml}", "**/Dockerfile*",
         "{.github/workflows/*.{yml,yaml},**/Jenkinsfile}", "internal/res0001/**", "internal/res0001/",
         "internal/res0001", "Dockerfile", "src/[ab]x/**", "**/*", "**/TEST/**", "weird\\[1\\]/*.go", "a b/c.md",
         "nothing/here/**", "internal/res0001/part00.go"]


def test_shortcuts_find_what_the_globs_regex_finds():
    index = globs.PathIndex(SHORTCUT_PATHS)
    for g in GLOBS:
        rx = globs._compile(globs.normalise(g))
        assert index.glob(g) == [p for p in sorted(SHORTCUT_PATHS) if rx.match(p)], g


def test_the_word_test_before_the_regex_changes_no_answer():
    from bot.engine.rules import _AnyGlob
    for group in (GLOBS[:4], GLOBS[4:7], GLOBS[7:12], GLOBS, ["**/TEST/**"], ["src/[ab]x/**", "**/*_test.go"]):
        any_glob = _AnyGlob(group)
        for p in SHORTCUT_PATHS:
            assert bool(any_glob.match(p)) == bool(any_glob.rx.match(p)), (group, p)
    assert globs.needed_words("**/*.{yaml,yml}") == [".yaml", ".yml"]
    assert globs.needed_words("**/*") is None  # nothing to test first: every path goes to the regex
    assert _AnyGlob(["**/*_test.go"])._need is not None and _AnyGlob(["**/*_test.go", "**/*"])._need is None
