"""Slash commands: parsing, permissions, reactions and replies."""
import datetime as dt

from bot.report.commands import parse_command
from tests.apphelpers import comment_event, deliver, pr_event, push_event
from tests.conftest import settle
from tests.test_app_pr import base_files, open_heartbeat_pr


def replies(repo, number, raw=False):
    """Reply bodies, with the word joiners that keep quoted @names from notifying taken out."""
    return [c["body"] if raw else c["body"].replace("\u2060", "") for c in repo.comments.values()
            if c["issue_number"] == number and "driftbot:" not in c["body"]]


def test_parser():
    assert parse_command("/drift help").name == "help"
    assert parse_command("/DRIFT Recheck\nplease").name == "recheck"
    assert parse_command("/drift").name == "help"
    assert parse_command("/drift explain auth").feature == "auth"
    assert parse_command("/drift explain").error
    w = parse_command('/drift waive 0123456789AB "served by the gateway" until 2031-05-01')
    assert (w.gap, w.reason, w.until) == ("0123456789ab", "served by the gateway", "2031-05-01")
    assert "not a date" in parse_command("/drift waive 0123456789ab r until soon").error
    assert "in the past" in parse_command("/drift waive 0123456789ab r until 2020-01-01", today=dt.date(2026, 1, 1)).error
    assert "needs a reason" in parse_command("/drift waive 0123456789ab").error
    assert "fingerprint" in parse_command("/drift waive nothex reason").error
    assert "Unknown command" in parse_command("/drift frobnicate").error
    assert parse_command("please /drift help").name == "none"
    assert parse_command("/driftwood help").name == "none"


async def test_help_and_unknown_commands_get_the_help_text(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    repo.permissions["bob"] = "write"
    await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift help", "bob", comment_id=1))
    await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift dance", "bob", comment_id=2))
    await settle(bot)
    help_reply, unknown_reply = replies(repo, 3)
    assert "/drift waive <gap>" in help_reply
    assert "Unknown command `dance`" in unknown_reply and "/drift explain" in unknown_reply
    assert sorted(repo.reactions) == [(1, "eyes"), (2, "eyes")]


async def test_read_only_users_are_refused_politely(bot, github, repo_factory, store):
    repo, g, first = repo_factory(base_files())
    repo.permissions["eve"] = "read"
    await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift waive 0123456789ab because", "eve"))
    await settle(bot)
    (reply,) = replies(repo, 3)
    assert reply.startswith("`/drift waive") and "Sorry @eve" in reply and "write, maintain or admin" in reply
    assert store.waivers(repo.full_name) == []


async def test_bots_and_plain_comments_are_ignored(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift help", "other[bot]", user_type="Bot"))
    await deliver(bot, "issue_comment", comment_event(repo, 3, "looks good to me", "bob", comment_id=9))
    await settle(bot)
    assert github.count() == 0


async def test_recheck_report_and_explain(bot, github, repo_factory):
    repo, g, base = repo_factory(base_files())
    repo.permissions["alice"] = "admin"
    repo.permissions["bob"] = "write"  # three commands in one thread: a collaborator's are all answered
    await deliver(bot, "push", push_event(repo, "0" * 40, base))
    await settle(bot)
    head, number = open_heartbeat_pr(github, repo, g)
    await deliver(bot, "pull_request", pr_event(repo, number, base, head))
    await settle(bot)
    runs_before = len(repo.check_runs)
    await deliver(bot, "issue_comment", comment_event(repo, number, "/drift recheck", "alice", comment_id=11))
    await deliver(bot, "issue_comment", comment_event(repo, number, "/drift report", "bob", comment_id=12))
    await deliver(bot, "issue_comment", comment_event(repo, number, "/drift explain agents", "bob", comment_id=13))
    await deliver(bot, "issue_comment", comment_event(repo, number, "/drift explain nope", "bob", comment_id=14))
    await settle(bot)
    assert len(repo.check_runs) == runs_before + 1
    texts = replies(repo, number)
    assert any(t.startswith("`/drift recheck") and f"Rechecked `{head[:7]}`" in t for t in texts)
    assert any("| billing |" in t and "Overall alignment" in t for t in texts)
    explain = next(t for t in texts if t.startswith("`/drift explain agents"))
    assert "### agents" in explain and "`POST /api/agents/{id}/heartbeat`" in explain
    assert any("No feature `nope`" in t and "agents, billing" in t for t in texts)


async def test_a_waiver_that_already_expired_is_refused(bot, github, repo_factory, store):
    repo, g, first = repo_factory(base_files())
    repo.permissions["alice"] = "write"
    await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift waive 0123456789ab old news until 2001-01-01",
                                                      "alice"))
    await settle(bot)
    (reply,) = replies(repo, 3)
    assert "2001-01-01 is in the past" in reply
    assert store.waivers(repo.full_name) == []


async def test_a_flood_of_commands_from_an_outsider_gets_one_reply(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    for i in range(30):
        await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift explain agents", "mallory", comment_id=100 + i))
    await settle(bot)
    assert len(replies(repo, 3)) == 1
    assert github.count("issues/create-comment") == 1 and github.count("reactions/create-for-issue-comment") == 1
    # a collaborator is answered more often, up to a limit
    repo.permissions["bob"] = "write"
    for i in range(15):
        await deliver(bot, "issue_comment", comment_event(repo, 3, "/drift help", "bob", comment_id=300 + i))
    await settle(bot)
    assert len(replies(repo, 3)) == 1 + 10


async def test_replies_never_render_or_notify_what_the_command_quoted(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    hostile = "/drift explain @octocat ![x](https://evil.example/p.png) `x` <img src=y>"
    await deliver(bot, "issue_comment", comment_event(repo, 3, hostile, "bob", comment_id=7))
    await deliver(bot, "issue_comment", comment_event(repo, 4, "/driftwood is nice", "bob", comment_id=8))
    await settle(bot)
    (reply,) = replies(repo, 3, raw=True)
    first_line = reply.split("\n", 1)[0]
    assert first_line.startswith("`/drift explain @octocat ![x]") and first_line.endswith("`")
    assert first_line.count("`") == 2  # one code span: GitHub neither mentions nor renders inside it
    outside = "".join(reply.split("`")[0::2])
    assert "@octocat" not in outside and "![" not in outside  # and nothing outside code spans does either
    assert replies(repo, 4) == []



async def test_what_a_user_typed_is_echoed_as_inert_text(bot, github, repo_factory):
    repo, g, first = repo_factory(base_files())
    hostile = "/drift explain 'x` <img src=\"https://evil.example/t.png\"> [Re-authorize](https://evil.example/l) `y'"
    await deliver(bot, "issue_comment", comment_event(repo, 3, hostile, "bob", comment_id=7))
    await deliver(bot, "issue_comment", comment_event(repo, 4, "/drift da`nce <b>x</b>", "bob", comment_id=8))
    await settle(bot)
    for thread in (3, 4):
        (reply,) = replies(repo, thread)
        for line in reply.split("\n"):
            # every backtick pair is balanced, so the HTML and the link stay inside code spans
            assert line.count("`") % 2 == 0, line
        outside = "".join(reply.split("`")[0::2])
        assert "<img" not in outside and "](https://evil" not in outside and "<b>" not in outside
