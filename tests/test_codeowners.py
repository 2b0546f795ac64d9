"""CODEOWNERS as GitHub reads it: last match wins, "dir/*" is one level, no negation, comments."""
from bot import codeowners

EXAMPLE = r"""
# the default owners
*           @global-owner
*.js        @js-owner  # an inline comment
/build/logs/ @doctocat
docs/*      docs@example.com
apps/       @octocat
/apps/github
/scripts/   @doctocat @octocat
!generated/ @nobody
[abc].txt   @nobody
notes\#1.md @hash
"""


def test_the_last_matching_pattern_wins():
    co = codeowners.parse(EXAMPLE, ".github/CODEOWNERS")
    assert co.owners_of("main.go") == ("@global-owner",)
    assert co.owners_of("web/app.js") == ("@js-owner",)
    assert co.owners_of("build/logs/today.txt") == ("@doctocat",)
    assert co.owners_of("scripts/deploy.sh") == ("@doctocat", "@octocat")
    assert co.owners_of("src/apps/x.go") == ("@octocat",)  # no leading slash: at any depth


def test_github_rules_that_differ_from_gitignore():
    co = codeowners.parse(EXAMPLE)
    assert co.owners_of("docs/intro.md") == ("docs@example.com",)
    assert co.owners_of("docs/guides/intro.md") == ("@global-owner",)  # docs/* is one level only
    assert co.owners_of("apps/github/main.go") == ()  # a pattern without owners leaves a path unowned
    assert co.owners_of("notes#1.md") == ("@hash",)  # \# is a literal hash, not a comment
    assert co.owners_of("generated/x.js") == ("@js-owner",)  # negation is not supported: the line is skipped
    assert co.skipped == 2


def test_owners_for_several_paths_orders_by_how_much_each_owns_and_only_people_are_assignable():
    co = codeowners.parse("* @all\n/src/ @alice @acme/core\n/src/ui/ @bob\n")
    owners = co.owners_for(["src/a.py", "src/b.py", "src/ui/c.ts", "README.md"])
    assert owners[:2] == ("@alice", "@acme/core") and set(owners) == {"@alice", "@acme/core", "@bob", "@all"}
    assert codeowners.users(owners) == ["alice", "bob", "all"]
    assert codeowners.users(("dev@example.com", "@org/team")) == []


def test_github_reads_the_first_of_its_three_places():
    assert codeowners.find(["CODEOWNERS", "docs/CODEOWNERS", ".github/CODEOWNERS"]) == ".github/CODEOWNERS"
    assert codeowners.find(["docs/CODEOWNERS", "CODEOWNERS"]) == "CODEOWNERS"
    assert codeowners.find(["src/CODEOWNERS"]) is None


def test_hostile_input_is_read_without_error():
    text = "\x00\n" + "[" * 500 + " @x\n" + "** ** ** @y\n" + "/a/**/b/**/c/**/d @z\n" * 3
    co = codeowners.parse(text)
    assert co.owners_of("a/b/c/d") == ("@z",)


def test_an_escaped_space_is_part_of_the_pattern_and_a_huge_file_keeps_its_deciding_lines():
    co = codeowners.parse("/docs/my\\ file.md @alice\n")
    assert co.owners_of("docs/my file.md") == ("@alice",)
    big = "* @everyone\n" + "".join(f"/generated/x{i}/ @bot\n" for i in range(codeowners.MAX_RULES + 10)) + \
        "/internal/ @carol\n"
    co = codeowners.parse(big)
    assert co.owners_of("internal/a.go") == ("@carol",)  # the last rules win, so they are the ones kept
    assert co.skipped == 12  # 5,012 rules, the first 12 dropped
