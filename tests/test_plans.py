"""The App's decisions, without HTTP."""
from bot import plans
from bot.records import FeatureRecord, GapIssue, GapRecord


def gap(kind="missing", severity=3, waived=False, confidence="high", message="`X` is not implemented"):
    return GapRecord(kind, message, "docs/x.md", 3, severity=severity, waived=waived, confidence=confidence)


BASELINE = {"auth": FeatureRecord(50, gaps={"a1": gap(severity=5), "a2": gap(kind="partial"),
                                            "a3": gap(confidence="low"), "a4": gap(waived=True)}),
            "billing": FeatureRecord(70, gaps={"b1": gap(severity=1), "b2": gap(severity=4)})}


def test_only_issue_worthy_gaps_are_open():
    now = plans.open_gaps(BASELINE, {"missing"}, waived={"b2"})
    assert sorted(now) == ["a1", "b1"]  # not partial, not low confidence, not waived either way


def test_the_first_analysis_records_its_gaps_without_issues():
    now = plans.open_gaps(BASELINE, {"missing"}, set())
    actions = plans.plan_issue_sync(now, {"b1": GapIssue("b1", None, "baseline", "billing")}, set(), first=True, cap=25)
    assert actions == [plans.Record("a1", "auth"), plans.Record("b2", "billing")]


def test_new_gaps_are_filed_most_severe_first_up_to_the_cap():
    now = plans.open_gaps(BASELINE, {"missing"}, set())
    actions = plans.plan_issue_sync(now, {}, set(), first=False, cap=2)
    assert [(type(a), a.fingerprint) for a in actions] == [(plans.File, "a1"), (plans.File, "b2")]


def test_back_gone_and_waived():
    now = {"a1": ("auth", gap())}
    known = {"a1": GapIssue("a1", 7, "closed", "auth"), "b1": GapIssue("b1", 8, "open", "billing"),
             "b2": GapIssue("b2", 9, "open", "billing"), "c1": GapIssue("c1", None, "baseline", "x"),
             "c2": GapIssue("c2", None, "claimed", "x")}
    actions = plans.plan_issue_sync(now, known, {"b2"}, first=False, cap=25)
    assert actions == [plans.Reopen("a1", 7, "`X` is not implemented"), plans.Close("b1", 8, False),
                       plans.Close("b2", 9, True), plans.Forget("c1")]


def test_jobs_own_their_keys():
    from bot.jobkinds import CommandJob, CommitCheckJob, PullRequestJob, PushJob, ScanJob
    assert PushJob(1, "o/r", "abc").key == ScanJob(1, "o/r").key == "push:o/r"  # one baseline job at a time
    pr = PullRequestJob(1, "o/r", 7, "h1", "b1")
    assert pr.key == PullRequestJob(1, "o/r", 7, "h2", "b1", force=True).key == "pr:o/r:7"  # the newest head wins
    assert CommitCheckJob(1, "o/r", "h1", "main").key == "commit:o/r:h1"
    assert CommandJob(1, "o/r", 3, 11, "bob", True, "/drift help").key != CommandJob(1, "o/r", 3, 12, "bob", True,
                                                                                    "/drift help").key
    assert pr.record() == {"kind": "pull_request", "installation": 1, "repo": "o/r", "number": 7, "head_sha": "h1",
                           "base_sha": "b1", "force": False}


async def test_engine_slots_go_round_the_installations():
    """One installation's burst of analyses cannot keep another waiting behind all of it."""
    import asyncio

    from bot.flows.cpu import FairSlots
    slots = FairSlots(1)
    order = []

    async def analysis(tenant, n):
        await slots.acquire(tenant)
        order.append((tenant, n))
        await asyncio.sleep(0.01)
        slots.release(tenant)
    busy = [asyncio.ensure_future(analysis("busy", n)) for n in range(6)]
    await asyncio.sleep(0.001)  # the busy installation has queued six
    other = asyncio.ensure_future(analysis("other", 0))
    await asyncio.gather(*busy, other)
    assert order.index(("other", 0)) <= 2  # served within one turn, not after all six
    assert [n for t, n in order if t == "busy"] == list(range(6))  # each keeps its own order



async def test_one_installation_never_holds_every_worker():
    import asyncio

    from bot.flows.cpu import FairSlots
    slots = FairSlots(2)
    started = []

    async def analysis(tenant, n, seconds):
        await slots.acquire(tenant)
        started.append((tenant, n, asyncio.get_running_loop().time()))
        await asyncio.sleep(seconds)
        slots.release(tenant)
    t0 = asyncio.get_running_loop().time()
    busy = [asyncio.ensure_future(analysis("busy", n, 0.3)) for n in range(4)]
    await asyncio.sleep(0.01)
    await analysis("other", 0, 0.01)
    other_start = next(at for t, _n, at in started if t == "other")
    assert other_start - t0 < 0.1  # a worker was free for it at once: busy holds one of the two
    await asyncio.gather(*busy)
    assert slots.held == {} and not slots._waiting


def test_a_shared_engine_judges_only_what_it_was_sent():
    """Engines in worker processes take turns on one job: a file one of them indexed earlier must not
    change a verdict when this call was not sent it."""
    from bot.engine import Engine, Snapshot, load_config
    from tests.test_app_pr import ROUTES_BOTH, base_files
    files = {**base_files(), "internal/agents/routes.go": ROUTES_BOTH}
    full = Snapshot.from_texts(files)
    warm = Engine(shared=True)
    warm.evaluate(full, load_config(full))  # this worker has seen every file
    entries = Snapshot.from_texts(files)
    partial = Snapshot(list(entries), contents={p: files[p].encode() for p in files if p != "internal/agents/routes.go"},
                       partial=True)

    def verdicts(engine):
        return {(r.requirement.line, r.status) for f in engine.evaluate(partial, load_config(partial)).features
                for r in f.requirements}
    assert verdicts(warm) == verdicts(Engine(shared=True))  # as a cold worker would judge it


async def test_a_worker_that_dies_fails_only_its_call():
    import os

    import pytest

    from bot.engine import Engine
    from bot.flows.cpu import Runner
    runner = Runner(Engine(), processes=1)
    try:
        with pytest.raises(RuntimeError, match="analysis worker stopped unexpectedly"):
            await runner.call(os._exit, 3)  # the worker process dies mid-call
        assert await runner.call(sum, [1, 2, 3]) == 6  # a new worker takes the next call
        assert runner.slots.held == {}
    finally:
        runner.close()


def test_the_dashboard_draws_the_trend_as_a_mermaid_chart():
    from bot.records import HistoryPoint
    from bot.report.issues import dashboard_body
    history = [HistoryPoint(f"{i:040x}", a, 2, 1000.0 - i) for i, a in enumerate([70, 64, None, 60])]  # newest first
    body = dashboard_body(BASELINE, history, {}, [], "a" * 40)
    chart = body.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.startswith("xychart-beta") and 'y-axis "alignment" 0 --> 100' in chart
    assert "line [60, 64, 70]" in chart  # oldest first; a commit whose alignment was unknown is left out
    assert dashboard_body(BASELINE, history[:1], {}, [], "a" * 40).count("```mermaid") == 0
