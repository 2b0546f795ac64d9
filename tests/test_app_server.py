"""The webhook boundary: signatures, malformed requests, duplicates, every real payload."""
import asyncio
import json

import pytest

from bot.jobs import JobQueue
from bot.settings import Settings, SettingsError
from tests.apphelpers import SECRET, deliver, index, keypair, materialise, payload, sign
from tests.conftest import settle


async def test_bad_or_missing_signature_is_401(bot):
    body = json.dumps(payload("ping.json")).encode()
    r = await deliver(bot, "ping", body, signature="sha256=" + "0" * 64)
    assert r.status == 401
    r = await deliver(bot, "ping", body, signature="")
    assert r.status == 401
    r = await deliver(bot, "ping", body, secret="wrong-secret")
    assert r.status == 401
    r = await deliver(bot, "ping", body, signature=sign(body).replace("sha256=", "sha1="))
    assert r.status == 401


async def test_malformed_requests_are_400_never_500(bot):
    assert (await deliver(bot, "ping", b"{not json")).status == 400
    assert (await deliver(bot, "ping", b"[1, 2]")).status == 400
    body = json.dumps({"action": "opened"}).encode()  # a pull_request event without its fields
    assert (await deliver(bot, "pull_request", body)).status == 400
    r = await bot.post("/webhook", data=b"{}", headers={"X-Hub-Signature-256": sign(b"{}")})
    assert r.status == 400  # no event / delivery headers
    big = b'{"x": "' + b"a" * (26 * 1024 * 1024) + b'"}'
    r = await deliver(bot, "ping", big)
    assert r.status == 413


async def test_duplicate_deliveries_are_ignored(bot):
    body = payload("ping.json")
    assert (await deliver(bot, "ping", body, delivery="d-1")).status == 202
    r = await deliver(bot, "ping", body, delivery="d-1")
    assert r.status == 200 and "duplicate" in (await r.json())["status"]


@pytest.mark.parametrize("entry", index(), ids=lambda e: e["file"])
async def test_every_real_payload_is_accepted_and_its_jobs_run(bot, github, tmp_path, entry):
    from tests.test_app_pr import base_files
    data = materialise(github, tmp_path, payload(entry["file"]), base_files())
    r = await deliver(bot, entry["x_github_event"], data)
    assert r.status in (200, 202), await r.text()
    await settle(bot)
    assert bot.queue.failed == 0  # and the fixture checks it again


async def test_healthz(bot):
    r = await bot.get("/healthz")
    assert r.status == 200 and (await r.json())["status"] == "ok"


def test_settings_refuse_to_start_without_secret_or_key(tmp_path):
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"APP_ID": "1"})
    assert "WEBHOOK_SECRET" in str(e.value) and "PRIVATE_KEY" in str(e.value)
    assert not str(e.value).startswith("driftbot")  # the CLI puts "driftbot: " before it
    with pytest.raises(SettingsError, match="PEM"):
        Settings.from_env({"APP_ID": "1", "WEBHOOK_SECRET": "x", "PRIVATE_KEY": "nope"})
    key = tmp_path / "app.pem"
    key.write_text(keypair()[0])
    s = Settings.from_env({"APP_ID": "12", "WEBHOOK_SECRET": SECRET, "PRIVATE_KEY_PATH": str(key),
                           "GITHUB_API_URL": "https://ghe.example.com/api/v3/", "PORT": "9000"})
    assert s.api_url == "https://ghe.example.com/api/v3" and s.port == 9000
    assert "s3cret" not in repr(s) and "PRIVATE" not in repr(s)
    inline = Settings.from_env({"APP_ID": "12", "WEBHOOK_SECRET": "x",
                                "PRIVATE_KEY": keypair()[0].replace("\n", "\\n")})
    assert inline.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n")


async def test_queue_coalesces_bursts_finishes_replaced_jobs_and_leaves_the_rest_at_shutdown():
    seen, gate, finished = [], asyncio.Event(), []

    async def runner(job):
        seen.append(job["n"])
        await gate.wait()

    async def done(job_id, done=True):
        finished.append(job_id)

    q = JobQueue(runner, workers=1, finished=done)
    q.start()
    for n in range(5):
        q.submit({"n": n}, "pr:1", job_id=n)  # a burst for one PR
    await asyncio.sleep(0.05)
    assert seen == [4]  # the burst coalesced: only the newest ran
    assert sorted(finished) == [0, 1, 2, 3]  # the replaced ones count as done: the newest does their work
    states = [q.submit({"n": n}, "pr:1", job_id=n) for n in range(5, 9)]  # arrives while pr:1 runs
    assert states == ["deferred"] * 4
    q.submit({"n": 100}, "pr:2", job_id=100)
    gate.set()
    await q.join(5)
    assert seen[0] == 4 and sorted(seen[1:]) == [8, 100]  # pr:1 ran once more, with the newest job
    assert sorted(finished) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 100]
    gate.clear()
    q.submit({"n": 200}, "pr:3", job_id=200)
    q.submit({"n": 201}, "pr:4", job_id=201)
    await asyncio.sleep(0.05)
    left = await q.stop(grace=0.1)
    assert [j["n"] for j in left] == [201, 200]  # the waiting job, then the one cut off
    assert 200 not in finished and 201 not in finished  # so both resume at the next start


async def test_an_older_job_never_replaces_a_newer_one():
    seen = []

    async def runner(job):
        seen.append(job["n"])

    q = JobQueue(runner, workers=1)
    q.submit({"n": 2}, "pr:1", job_id=2)
    q.submit({"n": 1}, "pr:1", job_id=1)  # accepted first, resumed second
    q.start()
    await q.join(5)
    assert seen == [2]
    await q.stop(0.1)


async def test_a_worker_that_dies_is_replaced_and_a_failure_that_cannot_be_logged_is_survived():
    class Hostile(Exception):
        def __str__(self):
            raise RecursionError("maximum recursion depth exceeded")

    ran = []

    async def runner(job):
        ran.append(job["n"])
        if job["n"] == 1:
            raise Hostile()

    class Fatal(BaseException):
        """Something no job handler catches."""

    async def fatal(job):
        ran.append(job["n"])
        if job["n"] == 3:
            raise Fatal()

    q = JobQueue(runner, workers=2)
    q.start()
    q.submit({"n": 1}, "a")
    q.submit({"n": 2}, "b")
    await q.join(5)
    assert sorted(ran) == [1, 2]
    assert q.failed == 1 and q.alive == 2
    q.runner = fatal
    q.submit({"n": 3}, "c")  # kills the worker that takes it
    q.submit({"n": 4}, "d")
    await q.join(5)
    await asyncio.sleep(0.01)
    assert q.restarted == 1 and q.alive == 2  # replaced
    q.submit({"n": 5}, "e")
    await q.join(5)
    assert ran[-1] == 5
    await q.stop(0.1)


def test_log_lines_carry_context_and_never_secrets():
    import logging

    from bot.logs import KeyValueFormatter
    rec = logging.LogRecord("bot.server", logging.WARNING, "x", 1, "rejected delivery", (), None)
    rec.delivery_id = "abc"
    rec.repo = "acme/fleet"
    rec.token = "ghs_secret"
    line = KeyValueFormatter("%(levelname)s %(message)s").format(rec)
    assert line == "WARNING rejected delivery delivery_id=abc repo=acme/fleet token=[redacted]"


async def test_a_rejected_delivery_can_be_redelivered(bot):
    broken = json.dumps({"action": "opened"}).encode()
    assert (await deliver(bot, "pull_request", broken, delivery="same-id")).status == 400
    assert (await deliver(bot, "ping", payload("ping.json"), delivery="same-id")).status == 202


def test_old_delivery_ids_are_pruned(monkeypatch):
    from bot import store as store_mod
    s = store_mod.SQLiteStore(":memory:")
    monkeypatch.setattr(store_mod, "PRUNE_EVERY", 2)
    s._x("INSERT INTO deliveries VALUES ('ancient', 0)")
    assert s.accept_delivery("a", []) == [] and s.accept_delivery("b", []) == []
    assert s.accept_delivery("ancient", []) == []  # pruned on the second one, so it is new again
    assert s.accept_delivery("a", []) is None  # a recent one is still a duplicate


async def test_unsigned_floods_are_read_a_few_at_a_time_and_refused(bot):
    from bot.server import READ_STATS, READERS
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    bad = "sha256=" + "0" * 64
    answers = await asyncio.gather(*(deliver(bot, "ping", big, signature=bad, delivery=f"f{i}") for i in range(40)))
    assert {r.status for r in answers} == {401}
    assert bot.app[READ_STATS]["peak"] <= READERS  # never more than a few unsigned bodies in memory
    no_signature = await bot.post("/webhook", data=big, headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "z"})
    assert no_signature.status == 401
    r = await deliver(bot, "ping", payload("ping.json"))  # a signed delivery still goes through
    assert r.status == 202


def test_a_store_that_cannot_be_used_is_named_with_the_fix(tmp_path):
    from bot.store import StoreError, open_store
    with pytest.raises(StoreError, match=r"DRIFTBOT_STORE=.*the folder .* does not exist"):
        open_store(str(tmp_path / "missing" / "s.db"))
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"not sqlite at all " * 100)
    with pytest.raises(StoreError, match=r"not a driftbot store, or damaged .* move it aside"):
        open_store(str(corrupt))
    with pytest.raises(StoreError, match="not a store driftbot knows"):
        open_store("mysql://db/driftbot")
    pytest.importorskip("psycopg_pool")
    for address in ("postgresql://driftbot:s3cret@127.0.0.1:1/driftbot",
                    "postgresql://driftbot:s3c%25ret@127.0.0.1:1/driftbot",
                    "postgresql://driftbot@127.0.0.1:1/driftbot?password=s3cret",
                    "host=127.0.0.1 port=1 user=driftbot password=s3cret dbname=driftbot"):
        with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL") as failed:
            open_store(address)
        assert "s3c" not in str(failed.value) and "postgresql://driftbot@127.0.0.1:1/driftbot" in str(failed.value)
    assert open_store(str(tmp_path / "fine.db")).unfinished_jobs() == []


async def test_status_page_and_metrics(bot, github):
    await deliver(bot, "ping", payload("ping.json"), delivery="status-1")
    await deliver(bot, "ping", payload("ping.json"), delivery="status-1")
    await deliver(bot, "ping", b"{}", signature="sha256=" + "0" * 64)
    page = await bot.get("/")
    text = await page.text()
    assert page.status == 200 and "driftbot test (app id 4242, owner acme)" in text
    assert "status-1" in text and "duplicate" in text and "refused" in text
    m = await (await bot.get("/metrics")).text()
    assert 'driftbot_deliveries_total{event="ping",outcome="accepted"} 1.0' in m
    assert 'driftbot_deliveries_total{event="ping",outcome="duplicate"} 1.0' in m
    assert 'driftbot_deliveries_total{event="other",outcome="refused"} 1.0' in m  # unsigned: no label of theirs
    assert "driftbot_workers_alive 4.0" in m and "driftbot_queue_jobs 0.0" in m
    assert 'driftbot_github_requests_total{method="GET",status="200"}' in m  # asking GitHub who we are


async def test_json_logs_carry_context_and_hide_secrets(capsys):
    import json as json_
    import logging

    from bot.logs import configure
    configure("DEBUG", "json")
    logging.getLogger("bot.test").warning("rejected delivery", extra={"delivery_id": "d1", "token": "ghs_x"})
    logging.getLogger("markdown_it.rules_block").debug("chatter")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    doc = json_.loads(line)
    assert doc["message"] == "rejected delivery" and doc["delivery_id"] == "d1" and doc["token"] == "[redacted]"
    assert "chatter" not in capsys.readouterr().err
    configure("WARNING")


async def test_setup_mode_registers_the_app_and_writes_its_credentials(github, aiohttp_client, tmp_path):
    import os
    import stat

    from bot.settings import Settings
    from bot.setup import make_setup_app, read_env_file
    env_file = tmp_path / ".env"
    app = make_setup_app(api_url=github.url, github="https://github.test", env_file=env_file,
                         public_url="https://drift.example.com")
    client = await aiohttp_client(app)
    front = await (await client.get("/")).text()
    assert 'action="https://github.test/settings/apps/new?state=' in front
    assert "https://drift.example.com/setup/callback" in front and "https://drift.example.com/webhook" in front
    github.manifest_codes["c0de"] = {"id": 99, "slug": "drift-acme", "name": "drift acme", "pem": keypair()[0],
                                     "webhook_secret": "s3cr3t", "html_url": "https://github.test/apps/drift-acme"}
    state = front.split("?state=", 1)[1].split('"', 1)[0]
    forged = await client.get("/setup/callback", params={"code": "c0de"})  # not started from this page
    assert forged.status == 403 and not env_file.exists()
    done = await client.get("/setup/callback", params={"code": "c0de", "state": state})
    text = await done.text()
    assert done.status == 200 and "Registered as <b>drift acme</b>" in text
    assert "https://github.test/apps/drift-acme/installations/new" in text
    assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    values = read_env_file(env_file)
    assert values["APP_ID"] == "99" and values["WEBHOOK_SECRET"] == "s3cr3t"
    settings = Settings.from_env(values)  # what serve reads at its next start
    assert settings.app_id == "99" and settings.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    again = await client.get("/setup/callback", params={"code": "other", "state": state})  # one registration
    assert again.status == 409 and read_env_file(env_file)["APP_ID"] == "99"



async def test_slow_senders_cannot_hold_the_door(bot, monkeypatch):
    import socket as socket_mod
    from urllib.parse import urlparse

    from bot import server
    monkeypatch.setattr(server, "READ_TIMEOUT", 0.5)
    host = urlparse(str(bot.make_url("/"))).hostname
    port = bot.server.port
    stalled = []
    for i in range(server.READERS + 2):  # more slow senders than reading slots
        sock = socket_mod.create_connection((host, port))
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n"
                     b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: slow%d\r\nContent-Length: 1000\r\n\r\nab" % i)
        stalled.append(sock)
    await asyncio.sleep(0.05)
    t = asyncio.get_running_loop().time()
    r = await deliver(bot, "ping", payload("ping.json"))
    assert r.status == 202 and asyncio.get_running_loop().time() - t < 5
    for sock in stalled:
        sock.close()
    odd = await bot.post("/webhook", data=b"{}", headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "u",
                                                          "X-Hub-Signature-256": "sha256=\u00e9\u00e9".encode().decode("latin-1")})
    assert odd.status == 401


def test_a_job_that_keeps_taking_the_process_down_is_given_up(tmp_path):
    from bot.store import SQLiteStore
    s = SQLiteStore(str(tmp_path / "s.db"))
    (job_id,) = s.accept_delivery("d", [("k", {"kind": "push"})])
    for _ in range(5):
        assert len(s.unfinished_jobs(max_attempts=3)) == 1  # restarts while it only waits cost nothing
    for _ in range(3):
        assert len(s.unfinished_jobs(max_attempts=3)) == 1
        s.start_job(job_id)  # it runs, and the process goes down with it
    assert s.unfinished_jobs(max_attempts=3) == []  # the fourth start gives it up
    assert s.accept_delivery("d", [("k", {"kind": "push"})]) != None  # and Redeliver can try again  # noqa: E711


def test_a_failed_job_leaves_its_delivery_open_to_redelivery():
    from bot.store import SQLiteStore
    s = SQLiteStore(":memory:")
    (job_id,) = s.accept_delivery("d", [("k", {"kind": "push"})])
    s.finish_job(job_id, done=False)
    assert s.unfinished_jobs() == [] and len(s.accept_delivery("d", [("k", {"kind": "push"})])) == 1


async def test_a_held_job_is_replaced_by_a_newer_one_for_its_key_and_runs_once():
    seen, finished = [], []
    hold = {"on": True}

    async def runner(job):
        seen.append(job["n"])

    async def done(job_id, done=True):
        finished.append(job_id)

    q = JobQueue(runner, workers=1, finished=done, gate=lambda job: 0.2 if hold["on"] else None)
    q.start()
    q.submit({"n": 1}, "scan:a", job_id=1)
    await asyncio.sleep(0.05)
    assert list(q.held) == ["scan:a"] and seen == []
    q.submit({"n": 2}, "scan:a", job_id=2)  # the same scan again, while the first waits
    await asyncio.sleep(0.05)
    assert list(q.held) == ["scan:a"] and finished == [1]  # one held: the newer; the older counts as done
    hold["on"] = False
    await asyncio.sleep(1.2)  # the hold is at least a second
    await q.join(5)
    assert seen == [2] and sorted(finished) == [1, 2] and not q.held
    left = await q.stop(grace=0.1)
    assert left == []
