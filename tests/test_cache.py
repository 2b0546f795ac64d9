"""The content cache: results kept on disk by content, shared by runs, bounded, never trusted blindly."""
import logging
import os
import sqlite3

from bot.cache import FILE_NAME, ContentCache
from bot.cli import main
from bot.engine import Engine, Snapshot, load_config
from bot.prewarm import warm

FILES = {"docs/features/auth.md": "# Auth\n\n- `POST /api/login` signs a user in\n- `POST /api/logout` signs out\n",
         "internal/auth/routes.go": 'package auth\n\nfunc Register(r Router) { r.HandleFunc("POST /api/login", login) }\n'}


def test_results_come_back_by_kind_and_key(tmp_path):
    cache = ContentCache(tmp_path)
    cache.put_many("spec", {"a": {"x": (1, 2)}, "b": [3]})
    again = ContentCache(tmp_path)  # another run
    assert again.get_many("spec", ["a", "b", "c"]) == {"a": {"x": (1, 2)}, "b": [3]}
    assert again.get_many("findings", ["a"]) == {}  # kinds do not mix
    assert (again.hits, again.misses) == (2, 2)
    assert oct((tmp_path / FILE_NAME).stat().st_mode & 0o777) == "0o600"


def test_past_its_size_the_least_recently_used_go(tmp_path):
    cache = ContentCache(tmp_path, max_mb=1)
    big = os.urandom(300_000)  # does not compress
    for i in range(6):
        cache.put_many("spec", {f"k{i}": big})
    assert cache.size_bytes() <= 1024 * 1024
    kept = cache.get_many("spec", [f"k{i}" for i in range(6)])
    assert "k5" in kept and "k0" not in kept


def test_a_cache_others_can_write_is_refused(tmp_path, caplog):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    cache = ContentCache(folder)
    with caplog.at_level(logging.WARNING):
        cache.put_many("spec", {"a": 1})
        assert cache.get_many("spec", ["a"]) == {}
    assert "writable by others" in caplog.text and caplog.text.count("content cache off") == 1
    assert not (folder / FILE_NAME).exists()


def test_a_damaged_cache_file_turns_the_cache_off_instead_of_failing(tmp_path, caplog):
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    os.chmod(tmp_path / FILE_NAME, 0o600)
    cache = ContentCache(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert cache.get_many("spec", ["a"]) == {}
        cache.put_many("spec", {"a": 1})
    assert "content cache off" in caplog.text


def test_a_damaged_entry_is_a_miss(tmp_path):
    cache = ContentCache(tmp_path)
    cache.put_many("spec", {"a": 1, "b": 2})
    db = sqlite3.connect(tmp_path / FILE_NAME)
    with db:
        db.execute("UPDATE entries SET value = x'00' WHERE key LIKE '%:a'")
    assert ContentCache(tmp_path).get_many("spec", ["a", "b"]) == {"b": 2}


def test_turned_off_by_setting(monkeypatch):
    monkeypatch.setenv("DRIFTBOT_CACHE", "off")
    assert ContentCache.open() is None


def test_a_second_engine_uses_what_the_first_kept_and_judges_the_same(tmp_path, monkeypatch):
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    first = Engine()
    with warm(first, snap, cfg, ContentCache(tmp_path), parallel=False):
        before = first.evaluate(snap, cfg)
    assert first.stats["files_indexed"] >= 2 and first.stats["specs_parsed"] == 1
    import bot.engine.engine as engine_mod

    def never(*a, **kw):
        raise AssertionError("built again although the cache holds it")
    monkeypatch.setattr(engine_mod, "build_index", never)
    monkeypatch.setattr(engine_mod, "read_spec", never)
    second = Engine()
    cache = ContentCache(tmp_path)
    with warm(second, snap, cfg, cache, parallel=False):
        after = second.evaluate(snap, cfg)
    assert cache.misses == 0 and cache.hits >= 3 and cache.written == 0
    assert [(f.id, f.alignment, [g.fingerprint for g in f.gaps]) for f in after.features] == \
           [(f.id, f.alignment, [g.fingerprint for g in f.gaps]) for f in before.features]


def test_a_changed_file_is_indexed_again(tmp_path):
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    first = Engine()
    with warm(first, snap, cfg, ContentCache(tmp_path), parallel=False):
        first.evaluate(snap, cfg)
    changed = Snapshot.from_texts({**FILES, "internal/auth/routes.go": FILES["internal/auth/routes.go"] +
                                   'func More(r Router) { r.HandleFunc("POST /api/logout", logout) }\n'})
    engine, cache = Engine(), ContentCache(tmp_path)
    with warm(engine, changed, cfg, cache, parallel=False):
        result = engine.evaluate(changed, cfg)
    assert cache.misses >= 1 and cache.written >= 1
    assert not [g for g in result.features[0].gaps if "logout" in g.message]


def test_the_cli_reads_the_cache_on_a_second_run_and_prints_the_same(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    for path, text in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    monkeypatch.setenv("DRIFTBOT_CACHE", str(tmp_path / "cache"))
    assert main(["report", str(repo), "--format", "json"]) == 0
    first = capsys.readouterr().out
    assert (tmp_path / "cache" / FILE_NAME).exists()
    assert main(["report", str(repo), "--format", "json"]) == 0
    assert capsys.readouterr().out == first
    monkeypatch.setenv("DRIFTBOT_CACHE", str(tmp_path / "unused"))
    assert main(["report", str(repo), "--no-cache", "--format", "json"]) == 0
    assert capsys.readouterr().out == first and not (tmp_path / "unused").exists()


def test_the_apps_engine_calls_keep_and_reuse_indexes_across_a_restart(tmp_path, monkeypatch):
    from bot.flows import cpu
    monkeypatch.setenv("DRIFTBOT_CACHE", str(tmp_path / "app-cache"))
    monkeypatch.setattr(cpu, "_CACHE", [])
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    before = cpu.call_engine(Engine(shared=True), "evaluate", (snap, cfg), {"features": ["auth"]}, 60)
    assert (tmp_path / "app-cache" / FILE_NAME).exists()
    import bot.engine.engine as engine_mod

    def never(*a, **kw):
        raise AssertionError("built again although the cache holds it")
    monkeypatch.setattr(engine_mod, "build_index", never)
    monkeypatch.setattr(engine_mod, "read_spec", never)
    monkeypatch.setattr(cpu, "_CACHE", [])  # a new process: the cache is opened again
    after = cpu.call_engine(Engine(shared=True), "evaluate", (snap, cfg), {"features": ["auth"]}, 60)
    assert [(f.id, f.alignment) for f in after.features] == [(f.id, f.alignment) for f in before.features]


def test_a_report_is_the_same_whatever_the_hash_seed(tmp_path):
    """Ties (two names equally like a missing one) are broken the same way in every process."""
    import subprocess
    import sys
    repo = tmp_path / "repo"
    files = {"docs/features/store.md": "# Store\n\n- `fetch_items` returns the items\n"
                                       "- `internal/store/schema.sql` holds the tables\n",
             "internal/store/store.go": "package store\n\nfunc fetch_itemz() {}\nfunc fetch_itemx() {}\n"
                                        "func fetch_itemq() {}\nfunc fetch_itemw() {}\n",
             **{f"internal/store/{d}/schema.sql": "CREATE TABLE items (id int);\n" for d in "abcdefgh"}}
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    outs = set()
    for seed in ("1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "DRIFTBOT_CACHE": "off"}
        out = subprocess.run([sys.executable, "-m", "bot.cli", "report", str(repo), "--format", "json"], env=env,
                             capture_output=True, text=True, check=True).stdout
        outs.add(out)
    assert "did you mean" in next(iter(outs))
    assert "a file of that name is at internal/store/a/schema.sql" in next(iter(outs))  # the first, in path order
    assert len(outs) == 1


def test_an_index_is_kept_per_path_not_only_per_content(tmp_path):
    """Two files with the same bytes at different paths index differently (a file's own region holds
    its name and folders; the parser goes by extension): neither may be served for the other."""
    text = "def helper():\n    return 1\n"
    a = Snapshot.from_texts({"auth/session.py": text})
    b = Snapshot.from_texts({"billing/invoice.py": text})
    cfg = load_config(a)
    first = Engine()
    with warm(first, a, cfg, ContentCache(tmp_path), parallel=False):
        first.evaluate(a, cfg)
    second = Engine()
    with warm(second, b, cfg, ContentCache(tmp_path), parallel=False):
        second.evaluate(b, cfg)
    fi = second.peek_index(b, "billing/invoice.py", second.rule_set(b, cfg))
    module = next(r for r in fi.regions if r.kind == "module")
    assert module.name == "invoice.py" and "billing" in module.words and "auth" not in module.words


def test_what_a_rule_ran_out_of_time_on_is_not_kept(tmp_path, monkeypatch):
    import dataclasses
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    engine = Engine()
    import bot.engine.engine as engine_mod
    real = engine_mod.build_index
    monkeypatch.setattr(engine_mod, "build_index",
                        lambda *a, **kw: dataclasses.replace(real(*a, **kw), timeouts=("slow-rule",)))
    cache = ContentCache(tmp_path)
    with warm(engine, snap, cfg, cache, parallel=False):
        engine.evaluate(snap, cfg)
    assert cache.written == 1  # the spec only: every index was cut short by the clock


def test_a_file_whose_bytes_do_not_match_its_listed_hash_is_not_kept(tmp_path):
    from bot.checkout import load_directory
    from tests.fakegithub import GitRepo
    g = GitRepo(tmp_path / "r")
    g.commit(FILES, "one")
    snap = load_directory(tmp_path / "r")
    # changed after it was listed (by its hash in git's index), before it was read
    (tmp_path / "r" / "internal/auth/routes.go").write_text("package auth\n")
    cfg = load_config(snap)
    engine, cache = Engine(), ContentCache(tmp_path / "cache")
    with warm(engine, snap, cfg, cache, parallel=False):
        engine.evaluate(snap, cfg)
    assert "internal/auth/routes.go" in snap.unverified
    rs = engine.rule_set(snap, cfg)
    kept = cache.get_many("index", [engine.content_key(snap, p, rs) for p in ("internal/auth/routes.go",
                                                                              "docs/features/auth.md")])
    assert list(kept) == [engine.content_key(snap, "docs/features/auth.md", rs)]  # what was read as listed is kept


def test_an_unusable_cache_folder_never_stops_a_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DRIFTBOT_CACHE", "~nosuchuser-driftbot/cache")
    repo = tmp_path / "repo"
    for path, text in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(repo), "--format", "json"]) == 0
    assert '"features"' in capsys.readouterr().out


# ---- whole findings, by everything a run depends on ---------------------------------------------

def _memo_run(tmp_path, snap, cfg, **kw):
    from bot.prewarm import evaluate
    engine, cache = Engine(), ContentCache(tmp_path / "memo")
    return engine, evaluate(engine, snap, cfg, cache, parallel=False, **kw)


def test_a_run_with_the_same_inputs_reads_its_findings_back_and_evaluates_nothing(tmp_path, monkeypatch):
    import datetime as dt
    from bot.report import jsonout
    from bot.report.markdown import Meta
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    day = dt.date(2026, 3, 1)
    first, before = _memo_run(tmp_path, snap, cfg, today=day)
    assert first.stats["findings_reused"] == 0
    monkeypatch.setattr(Engine, "evaluate", lambda *a, **kw: (_ for _ in ()).throw(AssertionError("evaluated")))
    again = Snapshot.from_texts(dict(FILES))  # another process lists the same files
    second, after = _memo_run(tmp_path, again, load_config(again), today=day)
    assert second.stats["findings_reused"] == 1 and second.stats["files_indexed"] == 0
    meta = Meta(name="r", commit=None, generated="2026-03-01", version="x")
    assert jsonout.render(after, meta) == jsonout.render(before, meta)


def _changed_inputs():
    from bot.engine.config import parse_config
    from bot.engine.model import Skipped
    base = Snapshot.from_texts(FILES)
    edited = {**FILES, "internal/auth/routes.go": FILES["internal/auth/routes.go"] + "// more\n"}
    cfg = load_config(base)
    weights = parse_config("version: 1\nscoring:\n  weights: {requirements: 60, wiring: 0}\n", "x.yml", base)
    waiver = parse_config("version: 1\nwaivers:\n  - fingerprint: 0123456789ab\n    reason: later\n"
                          "    until: 2026-06-01\n", "x.yml", base)
    return (base, cfg, {}), [
        ("a file's bytes", Snapshot.from_texts(edited), cfg, {}),
        ("a new file", Snapshot.from_texts({**FILES, "README.md": "# r\n"}), cfg, {}),
        ("a file skipped", Snapshot.from_texts(FILES, skipped=[Skipped("big.bin", "binary")]), cfg, {}),
        ("the scoring weights", base, weights, {}),
        ("a waiver", base, waiver, {}),
        ("the features asked for", base, cfg, {"features": ["auth"]}),
    ]


def test_every_input_of_a_run_is_in_its_key():
    (base, cfg, kw), changes = _changed_inputs()
    import datetime as dt
    engine = Engine()
    key = engine.run_key(base, cfg, today=dt.date(2026, 3, 1))
    assert key == Engine().run_key(Snapshot.from_texts(dict(FILES)), load_config(base), today=dt.date(2026, 3, 1))
    for what, snap, config, extra in changes:
        other = engine.run_key(snap, config, **{"today": dt.date(2026, 3, 1), **extra})
        assert other != key, what
    # the day matters through the waivers' expiry alone: before it, or with no waiver, any day is the same
    waiver = next(c for what, _s, c, _e in changes if what == "a waiver")
    assert engine.run_key(base, waiver, today=dt.date(2026, 3, 1)) == engine.run_key(base, waiver,
                                                                                    today=dt.date(2026, 6, 1))
    assert engine.run_key(base, waiver, today=dt.date(2026, 6, 2)) != engine.run_key(base, waiver,
                                                                                    today=dt.date(2026, 6, 1))
    assert engine.run_key(base, cfg, today=dt.date(2027, 1, 1)) == key


def test_a_changed_input_is_evaluated_again(tmp_path):
    import datetime as dt
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    _memo_run(tmp_path, snap, cfg, today=dt.date(2026, 3, 1))
    edited = Snapshot.from_texts({**FILES, "internal/auth/routes.go": FILES["internal/auth/routes.go"] +
                                  'func More(r Router) { r.HandleFunc("POST /api/logout", logout) }\n'})
    engine, result = _memo_run(tmp_path, edited, load_config(edited), today=dt.date(2026, 3, 1))
    assert engine.stats["findings_reused"] == 0
    assert not [g for g in result.features[0].gaps if "logout" in g.message]


def test_a_partial_snapshot_has_no_run_key():
    snap = Snapshot.from_texts(FILES)
    part = Snapshot(list(snap), partial=True)
    assert Engine().run_key(part, load_config(snap)) is None


def test_a_run_key_is_the_same_whatever_the_hash_seed(tmp_path):
    import subprocess
    import sys
    cfg = tmp_path / "cfg.yml"
    cfg.write_text("version: 1\nexclude: [\"vendor/**\", \"gen/**\"]\nfeatures:\n  - id: auth\n"
                   "    spec: docs/features/auth.md\n    code: [internal/auth/, cmd/]\nissues:\n"
                   "  kinds: [missing, no-code]\n  labels: [drift, spec]\nwaivers:\n  - fingerprint: 0123456789ab\n"
                   "    reason: later\n")
    prog = ("import sys, datetime\nfrom bot.engine import Engine, Snapshot\nfrom bot.engine.config import parse_config\n"
            "from tests.test_cache import FILES\nsnap = Snapshot.from_texts(FILES)\n"
            "cfg = parse_config(open(sys.argv[1]).read(), 'cfg.yml', snap)\n"
            "print(Engine().run_key(snap, cfg, today=datetime.date(2026, 3, 1)))\n")
    keys = {subprocess.run([sys.executable, "-c", prog, str(cfg)], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.strip() for seed in ("1", "2", "3", "4")}
    assert len(keys) == 1 and len(next(iter(keys))) == 64


def test_findings_from_bytes_that_do_not_match_their_listed_hash_are_not_kept(tmp_path):
    import datetime as dt
    from bot.checkout import load_directory
    from tests.fakegithub import GitRepo
    day = dt.date(2026, 3, 1)
    g = GitRepo(tmp_path / "r")
    g.commit(FILES, "one")
    snap = load_directory(tmp_path / "r")
    (tmp_path / "r" / "internal/auth/routes.go").write_text("package auth\n")  # changed after it was listed
    _memo_run(tmp_path, snap, load_config(snap), today=day)
    assert "internal/auth/routes.go" in snap.unverified
    assert ContentCache(tmp_path / "memo").get_many("findings", [Engine().run_key(snap, load_config(snap),
                                                                                   today=day)]) == {}


def test_bytes_a_worker_process_found_changed_are_known_to_the_run(tmp_path, monkeypatch):
    """Indexing in parallel: what a forked worker read differently from its listed hash is not kept."""
    import datetime as dt
    from bot import prewarm as prewarm_mod
    from bot.checkout import load_directory
    from tests.fakegithub import GitRepo
    files = {**FILES, **{f"internal/auth/h{i}.go": f"package auth\n\nfunc H{i}() {{}}\n" for i in range(8)}}
    g = GitRepo(tmp_path / "r")
    g.commit(files, "one")
    snap = load_directory(tmp_path / "r")
    code = [p for p in files if p.endswith(".go")]
    for p in code:  # every file changes after it was listed: the worker's share among them
        (tmp_path / "r" / p).write_text("package auth\n// edited\n")
    monkeypatch.setattr(prewarm_mod, "MIN_FILES", 1)
    monkeypatch.setattr(prewarm_mod.os, "cpu_count", lambda: 2)
    engine, cache = Engine(), ContentCache(tmp_path / "memo")
    cfg = load_config(snap)
    prewarm_mod.evaluate(engine, snap, cfg, cache, today=dt.date(2026, 3, 1), parallel=True)
    assert engine.stats["files_indexed"] >= len(code)
    assert set(code) <= set(snap.unverified)
    assert cache.get_many("findings", [engine.run_key(snap, cfg, today=dt.date(2026, 3, 1))]) == {}
    rs = engine.rule_set(snap, cfg)
    assert cache.get_many("index", [engine.content_key(snap, p, rs) for p in code]) == {}
    assert cache.get_many("index", [engine.content_key(snap, "docs/features/auth.md", rs)])  # read as listed: kept


def test_findings_a_rule_cut_short_are_not_kept_even_when_the_index_was_built_earlier(tmp_path, monkeypatch):
    """`driftbot check` evaluates base and head in one engine: an index that ran out of time while the
    base was judged is the head's too, and the head's findings must not be kept either."""
    import dataclasses
    import datetime as dt
    import bot.engine.engine as engine_mod
    from bot.prewarm import evaluate
    day = dt.date(2026, 3, 1)
    base = Snapshot.from_texts(FILES)
    head = Snapshot.from_texts({**FILES, "README.md": "# r\n"})
    real = engine_mod.build_index

    def slow(path, data, ruleset):
        fi = real(path, data, ruleset)
        return dataclasses.replace(fi, timeouts=("slow-rule",)) if path.endswith("routes.go") else fi
    monkeypatch.setattr(engine_mod, "build_index", slow)
    engine, cache = Engine(), ContentCache(tmp_path / "memo")
    for snap in (base, head):
        found = evaluate(engine, snap, load_config(snap), cache, today=day, parallel=False)
        assert found.timed_out == ("internal/auth/routes.go",)
        assert any("ran out of time" in w for w in found.warnings)
    monkeypatch.setattr(engine_mod, "build_index", real)
    for snap in (base, head):
        again = Engine()
        found = evaluate(again, snap, load_config(snap), ContentCache(tmp_path / "memo"), today=day, parallel=False)
        assert again.stats["findings_reused"] == 0 and found.timed_out == ()
    reread = Engine()
    evaluate(reread, head, load_config(head), ContentCache(tmp_path / "memo"), today=day, parallel=False)
    assert reread.stats["findings_reused"] == 1


def test_an_infrastructure_rule_that_runs_out_of_time_is_said_and_not_kept(tmp_path, monkeypatch):
    import datetime as dt
    from bot.engine import rules as rules_mod
    from bot.prewarm import evaluate
    files = {**FILES, "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: auth\n"}
    snap = Snapshot.from_texts(files)
    cfg = load_config(snap)
    real = rules_mod.InfraRule.matches

    def slow(self, path, text=None):
        if text is not None and self.content and rules_mod.globs.match(self.glob, path):
            raise TimeoutError("regex timed out")
        return real(self, path, text)
    monkeypatch.setattr(rules_mod.InfraRule, "matches", slow)
    engine, cache = Engine(), ContentCache(tmp_path / "memo")
    found = evaluate(engine, snap, cfg, cache, today=dt.date(2026, 3, 1), parallel=False)
    assert "deploy/app.yaml" in found.timed_out
    assert any(w.startswith("deploy/app.yaml: rule ") and "ran out of time" in w for w in found.warnings)
    assert cache.get_many("findings", [engine.run_key(snap, cfg, today=dt.date(2026, 3, 1))]) == {}
    monkeypatch.setattr(rules_mod.InfraRule, "matches", real)
    fine = evaluate(Engine(), snap, cfg, None, today=dt.date(2026, 3, 1), parallel=False)
    assert fine.timed_out == () and not any("ran out of time" in w for w in fine.warnings)


def test_features_given_as_a_generator_are_judged(tmp_path):
    import datetime as dt
    from bot.prewarm import evaluate
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    for _ in range(2):  # the second run reads back what the first kept
        found = evaluate(Engine(), snap, cfg, ContentCache(tmp_path / "memo"), features=(f for f in ["auth"]),
                         today=dt.date(2026, 3, 1), parallel=False)
        assert [f.id for f in found.features] == ["auth"]


def test_a_key_utf8_cannot_spell_is_kept_under_its_digest(tmp_path):
    cache = ContentCache(tmp_path)
    odd = "abc:docs/caf\udce9.md"  # a file name git holds in Latin-1, read with surrogate escapes
    cache.put_many("spec", {odd: [1], "plain:x.md": [2]})
    assert ContentCache(tmp_path).get_many("spec", [odd, "plain:x.md"]) == {odd: [1], "plain:x.md": [2]}


def test_the_engine_digest_follows_the_libraries_the_engine_computes_with(monkeypatch):
    from bot import cache as cache_mod
    monkeypatch.setattr(cache_mod, "_digest", None)
    before = cache_mod.engine_digest()
    real = cache_mod.metadata.version
    monkeypatch.setattr(cache_mod.metadata, "version",
                        lambda dist: "99.0" if dist == "snowballstemmer" else real(dist))
    monkeypatch.setattr(cache_mod, "_digest", None)
    assert cache_mod.engine_digest() != before


def test_a_timed_out_infrastructure_decision_is_said_in_a_later_job_that_did_not_fetch_the_file(monkeypatch):
    """The App's engine (thread mode, not shared) remembers decisions: one that ran out of time is said
    again when a later partial snapshot leaves the file out, instead of the file quietly not counting."""
    import datetime as dt
    from bot.engine import rules as rules_mod
    from bot.engine.snapshot import FileEntry, blob_sha
    files = {p: t.encode() for p, t in FILES.items()}
    files["deploy/app.yaml"] = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: auth\n"
    real = rules_mod.InfraRule.matches
    slow = {"on": True}

    def matches(self, path, text=None):
        if slow["on"] and text is not None and self.content and path == "deploy/app.yaml":
            raise TimeoutError("regex timed out")
        return real(self, path, text)
    monkeypatch.setattr(rules_mod.InfraRule, "matches", matches)

    def partial(provided):
        snap = Snapshot([FileEntry(p, blob_sha(b), len(b)) for p, b in files.items()], partial=True)
        for p in provided:
            snap.provide(p, files[p])
        return snap
    cfg = load_config(Snapshot.from_texts(files))
    engine = Engine()
    first = engine.evaluate(partial(files), cfg, today=dt.date(2026, 3, 1))
    slow["on"] = False
    later = engine.evaluate(partial(set(files) - {"deploy/app.yaml"}), cfg, today=dt.date(2026, 3, 1))
    assert first.timed_out == later.timed_out == ("deploy/app.yaml",)
    assert any(w.startswith("deploy/app.yaml: rule ") for w in later.warnings)


def test_a_rule_that_ran_out_of_time_does_not_count_when_another_claims_the_file(monkeypatch):
    import regex
    from bot.engine import rules as rules_mod
    snap = Snapshot.from_texts({"deploy/app.yaml": "kind: Deployment\n"})
    ruleset = Engine().rule_set(snap, load_config(snap))
    slow = rules_mod.InfraRule("slow", "", "deploy/**", content=(regex.compile("kind"),))
    by_path = rules_mod.InfraRule("by-path", "", "deploy/**")
    real = rules_mod.InfraRule.matches

    def matches(self, path, text=None):
        if self.id == "slow" and text is not None:
            raise TimeoutError("regex timed out")
        return real(self, path, text)
    monkeypatch.setattr(rules_mod.InfraRule, "matches", matches)
    monkeypatch.setattr(ruleset, "infra_rules", [slow, by_path])
    timed: list[str] = []
    assert ruleset.infra_rule("deploy/app.yaml", "kind: Deployment\n", timed) is by_path and timed == []
    monkeypatch.setattr(ruleset, "infra_rules", [slow])
    assert ruleset.infra_rule("deploy/app.yaml", "kind: Deployment\n", timed) is None and timed == ["slow"]


def test_any_lone_surrogate_in_a_key_is_kept_under_its_digest(tmp_path):
    cache = ContentCache(tmp_path)
    odd = "abc:docs/\ud83d.md"  # a lone high surrogate: no encoding error handler but surrogatepass spells it
    cache.put_many("spec", {odd: 1})
    assert ContentCache(tmp_path).get_many("spec", [odd]) == {odd: 1}


def test_an_index_comes_back_from_its_compact_form_equal_and_with_shared_names():
    """Indexes are stored and sent as marshalled plain values: every field comes back equal, of the same
    type, and the names of two files are one string in the process."""
    from dataclasses import fields
    from bot.engine import index as ix
    files = {**FILES, "app/models.py": "class User:\n    def save(self, force=False):\n        pass  # TODO: later\n",
             "app/util.py": "import os\nfrom app.models import User\n\ndef save_user(u: User):\n    return u.save()\n",
             "web/api.ts": "export function fetchUser(id: string) { return fetch(`/api/users/${id}`) }\n",
             "web/app.js": "const users = require('./users')\napp.use('/api/users', users)\n",
             "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\n", "db/schema.sql": "CREATE TABLE users (id int);\n",
             "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00"}
    snap = Snapshot.from_texts(files)
    engine = Engine()
    rs = engine.rule_set(snap, load_config(snap))
    kinds = set()
    for path in files:
        fi = engine.file_index(snap, path, rs)
        back = ix.loads(ix.dumps(fi))
        kinds.add(fi.kind)
        assert back == fi, path
        for f in fields(fi):
            assert type(getattr(back, f.name)) is type(getattr(fi, f.name)), (path, f.name)
    assert {"code", "doc", "binary"} <= kinds
    assert tuple(f.name for f in fields(ix.FileIndex)) == (  # a new field must be packed too
        "kind", "lang", "lines", "defs", "routes", "strings", "tokens", "comment_tokens", "markers", "refs", "lossy",
        "timeouts", "symbols", "refnames", "regions", "mounts")
    assert engine.file_index(snap, "web/app.js", rs).mounts == (("/api/users", 2),)
    a = ix.loads(ix.dumps(engine.file_index(snap, "app/models.py", rs)))
    b = ix.loads(ix.dumps(engine.file_index(snap, "app/util.py", rs)))
    name_a = next(t for t in a.tokens if t == "User")
    name_b = next(t for t in b.tokens if t == "User")
    assert name_a is name_b


def test_parallel_indexing_leaves_all_the_parsing_to_the_workers_and_caches_what_they_sent(tmp_path, monkeypatch):
    """Every core gets a worker: this process builds no index and parses no spec itself, and what the
    workers sent is kept in the cache as it came, before the evaluation (but not an index a rule's
    time limit cut short)."""
    import dataclasses
    import datetime as dt
    import os
    import bot.engine.engine as engine_mod
    from bot import cache as cache_mod, prewarm as prewarm_mod
    from bot.engine import index as index_mod
    day = dt.date(2026, 3, 1)
    files = {**FILES, **{f"internal/auth/h{i}.go": f"package auth\n\nfunc H{i}() {{}}\n" for i in range(12)},
             **{f"docs/features/f{i}.md": f"# F{i}\n\n- `POST /api/f{i}` does f{i}\n" for i in range(4)}}
    snap = Snapshot.from_texts(files)
    cfg = load_config(snap)
    real, real_spec, parent, here = index_mod.build_index, engine_mod.read_spec, os.getpid(), []

    def build(path, data, ruleset):
        if os.getpid() == parent:
            here.append(path)
        fi = real(path, data, ruleset)
        return dataclasses.replace(fi, timeouts=("slow-rule",)) if path.endswith("h3.go") else fi

    def parse(path, data):
        if os.getpid() == parent:
            here.append(path)
        return real_spec(path, data)
    for mod, name, fn in ((index_mod, "build_index", build), (engine_mod, "build_index", build),
                          (prewarm_mod, "read_spec", parse), (engine_mod, "read_spec", parse)):
        monkeypatch.setattr(mod, name, fn)
    monkeypatch.setattr(prewarm_mod, "MIN_FILES", 1)
    monkeypatch.setattr(prewarm_mod, "MIN_CHUNK", 1)
    monkeypatch.setattr(prewarm_mod, "CHUNK", 4)
    monkeypatch.setattr(prewarm_mod.os, "cpu_count", lambda: 2)
    engine, cache = Engine(), ContentCache(tmp_path / "c")
    rs, todo = engine.unindexed(snap, cfg)
    assert len(prewarm_mod._chunks(todo, [], 2)) > 3  # several chunks come back
    encodes = []
    real_encode = cache_mod.encode
    monkeypatch.setattr(cache_mod, "encode", lambda kind, value: encodes.append(kind) or real_encode(kind, value))
    with prewarm_mod.warm(engine, snap, cfg, cache) as w:
        assert here == [] and engine.stats["files_indexed"] == len(todo)
        assert w.stored == set(todo) - {"internal/auth/h3.go"}
        # already in the cache: a failed or stopped evaluation does not lose the indexing
        early = ContentCache(tmp_path / "c").get_many("index", [engine.content_key(snap, p, rs) for p in todo])
        assert len(early) == len(todo) - 1
        found = engine.evaluate(snap, cfg, today=day)
    assert "index" not in encodes  # the workers' bytes are kept as they came, not encoded again here
    keys = {engine.content_key(snap, p, rs): p for p in todo}
    stored = ContentCache(tmp_path / "c").get_many("index", list(keys))
    assert {keys[k] for k in stored} == set(todo) - {"internal/auth/h3.go"}
    assert all(stored[k] == engine.peek_index(snap, keys[k], rs) for k in stored)
    for mod, name, fn in ((index_mod, "build_index", real), (engine_mod, "read_spec", real_spec)):
        monkeypatch.setattr(mod, name, fn)
    rebuilt = []
    monkeypatch.setattr(engine_mod, "build_index", lambda p, d, r: rebuilt.append(p) or real(p, d, r))
    again = Engine()
    assert prewarm_mod.evaluate(again, snap, cfg, ContentCache(tmp_path / "c"), today=day, parallel=False) == \
        dataclasses.replace(found, timed_out=(), warnings=tuple(w for w in found.warnings if "ran out of time" not in w))
    assert rebuilt == ["internal/auth/h3.go"]  # the one cut short is built again; the rest come from the cache


def test_the_files_go_out_in_chunks_that_cover_them_once():
    from bot import prewarm as prewarm_mod
    for n, cores in ((1, 2), (2000, 2), (2001, 2), (30_000, 2), (30_000, 64), (100_000, 8)):
        todo, specs = [f"f{i}" for i in range(n)], [f"s{i}" for i in range(n // 30)]
        tasks = prewarm_mod._chunks(todo, specs, cores)
        assert [p for t, _ in tasks for p in t] == todo
        assert sorted(s for _, ss in tasks for s in ss) == sorted(specs)
        sizes = {len(t) for t, _ in tasks[:-1]}
        assert len(sizes) <= 1 and all(prewarm_mod.MIN_CHUNK <= z <= prewarm_mod.CHUNK for z in sizes)
        if n >= cores * 8 * prewarm_mod.MIN_CHUNK:
            assert len(tasks) >= cores  # every worker gets work


def test_the_apps_evaluations_run_with_the_cyclic_collector_paused_and_resume_it(tmp_path, monkeypatch):
    """Unpacking indexes makes and drops millions of objects: the collector would rescan everything
    that lives each time. It is paused for the evaluation and resumes after, also when it fails."""
    import gc
    from bot.flows import cpu
    monkeypatch.setattr(cpu, "_CACHE", [None])
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    seen = []
    real = Engine.evaluate

    def evaluate(self, *a, **kw):
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("failed")
        return real(self, *a, **kw)
    monkeypatch.setattr(Engine, "evaluate", evaluate)
    assert gc.isenabled()
    cpu.call_engine(Engine(shared=True), "evaluate", (snap, cfg), {}, 60)
    assert seen == [False] and gc.isenabled()
    try:
        cpu.call_engine(Engine(shared=True), "evaluate", (snap, cfg), {}, 60)
    except RuntimeError:
        pass
    assert seen == [False, False] and gc.isenabled()


def test_a_few_large_files_are_indexed_by_workers_and_a_few_small_ones_here(monkeypatch):
    """Workers start for many files or for many bytes (a repository of large files), not for a
    handful of small ones; the indexes are the same either way."""
    from bot import prewarm as prewarm_mod
    monkeypatch.setattr(prewarm_mod, "MIN_FILES", 1000)
    monkeypatch.setattr(prewarm_mod, "MIN_BYTES", 4000)
    monkeypatch.setattr(prewarm_mod.os, "cpu_count", lambda: 2)
    body = "".join(f"func Handler{i}(w http.ResponseWriter) {{}}\n" for i in range(40))
    big = {f"internal/api/h{i}.go": "package api\n\n" + body for i in range(4)}
    small = {f"internal/api/s{i}.go": "package api\n\nfunc S() {}\n" for i in range(4)}
    for files, workers in ((big, True), (small, False)):
        snap = Snapshot.from_texts({**FILES, **files})
        cfg = load_config(snap)
        engine = Engine()
        assert (prewarm_mod.prewarm(engine, snap, cfg) > 0) is workers
        rs = engine.rule_set(snap, cfg)
        alone = Engine()
        for p in files:
            assert engine.file_index(snap, p, rs) == alone.file_index(snap, p, rs)


def test_a_write_refused_while_another_run_writes_is_said_and_the_rows_are_not_counted(tmp_path):
    cache = ContentCache(tmp_path / "c")
    assert cache.put_many("spec", {"a": 1}) is True
    cache._conn().execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(str(tmp_path / "c" / FILE_NAME), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another run is writing
    try:
        assert cache.put_many("spec", {"b": 2}) is False
        assert cache.written == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert cache.put_many("spec", {"b": 2}) is True  # the cache is not turned off: it was only busy
    assert cache.get_many("spec", ["a", "b"]) == {"a": 1, "b": 2}


def test_indexes_the_workers_sent_that_a_busy_cache_refused_are_kept_after_the_evaluation(tmp_path, monkeypatch):
    """The early write of the workers' indexes may find the cache busy; they are offered again with
    what the evaluation built, not taken as kept (which left them to be indexed again next run)."""
    from bot import prewarm as prewarm_mod
    monkeypatch.setattr(prewarm_mod, "MIN_FILES", 1)
    monkeypatch.setattr(prewarm_mod.os, "cpu_count", lambda: 2)
    files = {**FILES, **{f"internal/auth/h{i}.go": f"package auth\n\nfunc H{i}() {{}}\n" for i in range(6)}}
    snap = Snapshot.from_texts(files)
    cfg = load_config(snap)
    engine, cache = Engine(), ContentCache(tmp_path / "c")
    real, refused = ContentCache.put_many, []

    def busy_once(self, kind, items, encoded=None):
        if encoded and not refused:
            refused.append(len(encoded))
            return False
        return real(self, kind, items, encoded)
    monkeypatch.setattr(ContentCache, "put_many", busy_once)
    rs, todo = engine.unindexed(snap, cfg)
    with warm(engine, snap, cfg, cache) as w:
        assert refused == [len(todo)] and w.stored == set()
        engine.evaluate(snap, cfg)
    keys = [engine.content_key(snap, p, rs) for p in todo]
    assert len(ContentCache(tmp_path / "c").get_many("index", keys)) == len(todo)


def test_the_apps_engine_holds_the_indexes_of_repositories_it_no_longer_keeps_structures_for_packed():
    """A long-lived worker holds the indexes of every repository it has analysed: those of a repository
    whose whole-repository structures it let go are held packed (a fraction of the memory), equal to
    what was built; those of the repositories it keeps structures for stay as they are."""
    from bot.engine import index as index_mod
    from bot.flows import cpu
    cpu_cache = [None]
    engine = Engine(shared=True)
    snaps = [Snapshot.from_texts({**FILES, f"internal/auth/extra{i}.go": f"package auth\n\nfunc X{i}() {{}}\n"})
             for i in range(3)]  # three file lists: three views, of which an engine keeps two
    import bot.flows.cpu as cpu_mod
    cpu_mod._CACHE[:] = cpu_cache
    for snap in snaps:
        cpu.call_engine(engine, "evaluate", (snap, load_config(snap)), {}, 60)
    first, last = snaps[0], snaps[2]
    rs = engine.rule_set(first, load_config(first))
    gone = engine.peek_index(first, "internal/auth/extra0.go", rs)
    assert type(gone) is index_mod.PackedIndex
    assert gone == Engine().file_index(first, "internal/auth/extra0.go", rs)
    assert type(engine.peek_index(last, "internal/auth/extra2.go", rs)) is not index_mod.PackedIndex
    # a kept view's lookup still follows a change by identity: the next evaluation updates, not rebuilds
    built = engine.stats["lookups_built"]
    changed = Snapshot.from_texts({**FILES, "internal/auth/extra2.go": "package auth\n\nfunc Y2() {}\n"})
    cpu.call_engine(engine, "evaluate", (changed, load_config(changed)), {}, 60)
    assert engine.stats["lookups_built"] == built


def test_an_evaluation_that_parsed_many_files_gives_the_freed_memory_back(tmp_path, monkeypatch):
    from bot.flows import cpu
    monkeypatch.setattr(cpu, "_CACHE", [None])
    calls = []
    monkeypatch.setattr(cpu, "give_back_memory", lambda: calls.append(1))
    snap = Snapshot.from_texts(FILES)
    cfg = load_config(snap)
    monkeypatch.setattr(cpu, "TRIM_AFTER", 3)
    cpu.call_engine(Engine(shared=True), "evaluate", (snap, cfg), {}, 60)
    assert calls == []  # two files indexed: not worth it
    monkeypatch.setattr(cpu, "TRIM_AFTER", 2)
    cpu.call_engine(Engine(shared=True), "evaluate", (snap, cfg), {}, 60)
    assert calls == [1]
    monkeypatch.undo()
    import platform
    if platform.libc_ver()[0] == "glibc":
        assert cpu.give_back_memory() is True
