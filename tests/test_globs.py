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
