"""An engine that has analysed a repository brings its whole-repository structures (the indexes it
reads, the repository-wide lookup, who imports what) up to date for the next version instead of
rebuilding them. Its findings must be exactly a fresh engine's, whatever the change."""
import datetime as dt
import random
from dataclasses import replace

import pytest

from bot.engine import Engine, Snapshot, load_config
from bot.engine import lookup as lookup_mod
from bot.report import jsonout, markdown

TODAY = dt.date(2026, 12, 3)
META = markdown.Meta(name="r", commit=None, generated="2026-12-03", version="0")
COMMON = ["Session", "Store", "retry_policy", "Client"]  # names many files use: their hits reach the limits


def _repo(n: int = 8) -> dict[str, str]:
    files = {"pyproject.toml": '[project]\nname = "r"\n[project.scripts]\nrctl = "app.cli:main"\n',
             "app/cli.py": "def main():\n    pass\n",
             "app/common.py": "class Session:\n    pass\n\n\nclass Store:\n    pass\n\n\ndef retry_policy():\n"
                              "    return 3\n"}
    for i in range(n):
        files[f"docs/features/f{i}.md"] = (
            f"# Feature f{i}\n\n"
            f"- `Service{i}` keeps the ledger of feature {i}.\n"
            f"- `GET /api/f{i}/items` lists the items.\n"
            f"- `POST /api/f{i}/items/{{id}}/retry` retries one item.\n"
            f"- The `rctl` command exports the audit trail.\n"
            f"- Failed deliveries go to a dead letter queue after the retry budget runs out.\n"
            f"- `Session` is closed after each request.\n")
        files[f"app/f{i}/service.py"] = (
            "from app.common import Session, Store, retry_policy\n\n\n"
            f"class Service{i}:\n    \"\"\"Keeps the ledger.\"\"\"\n\n    def ledger(self):\n"
            "        return Session()\n\n\n"
            f"@router.get(\"/api/f{i}/items\")\ndef list_items():\n    return Store()\n\n\n"
            "def move_to_dead_letter(delivery):\n    \"\"\"Failed deliveries go to the dead letter queue.\"\"\"\n"
            "    return retry_policy()\n")
        files[f"tests/test_f{i}.py"] = (f"from app.f{i}.service import Service{i}\n\n\n"
                                        f"def test_service():\n    assert Service{i}() and 'Session'\n")
    files["app/main.py"] = "".join(f"from app.f{i}.service import Service{i}\n" for i in range(n)) + \
        "\n\ndef wire():\n    return [" + ", ".join(f"Service{i}()" for i in range(n)) + "]\n"
    files["docs/ARCHITECTURE.md"] = ("# Architecture\n\n## Delivery\n\n- `Client` talks to the store through a "
                                     "`Session`.\n- `GET /health` answers the load balancer.\n")
    return files


def _edit(rnd: random.Random, text: str) -> str:
    lines = text.splitlines()
    how = rnd.choice(["cut", "add", "empty", "route", "rename", "unwire"])
    if how == "cut":
        lines = lines[: len(lines) // 2]
    elif how == "add":
        names = rnd.sample(COMMON + [f"Service{rnd.randrange(8)}"], 2)
        for name in names:
            lines += [f"def {name}_helper():  # {name}", f"    return '{name}'"]
        lines += [f"class {names[0]}:", "    pass"]
    elif how == "empty":
        lines = []
    elif how == "route":
        lines += [f"@router.post(\"/api/f{rnd.randrange(8)}/items/{{id}}/retry\")", "def retry(id):",
                  "    return Client()", "@router.get(\"/health\")", "def health():", "    return 'ok'"]
    elif how == "rename":
        lines = [ln.replace("Session", "Connection").replace("dead", "live") for ln in lines]
    else:  # nothing refers to the services any more
        lines = [ln.replace("Service", "Thing") for ln in lines]
    return "\n".join(lines) + "\n"


def _dump(findings) -> dict:
    return jsonout.to_dict(findings, META)


@pytest.fixture(params=["limits as shipped", "tiny limits"])
def limits(request, monkeypatch):
    if request.param == "tiny limits":  # every list is cut, so every way of finding hits again is taken
        monkeypatch.setattr(lookup_mod, "TERM_WHERE", 1)
        monkeypatch.setattr(lookup_mod, "MAX_ROUTES", 3)
        monkeypatch.setattr(lookup_mod, "_CAPPED", {"names": 1, "infra_set": 1, "infra_strings": 1, "classes": 1})
    return request.param


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_long_lived_engine_finds_what_a_fresh_one_finds(limits, seed):
    rnd = random.Random(seed)
    base = Snapshot.from_texts(_repo())
    config = load_config(base)
    engine = Engine()
    first = engine.evaluate(base, config, today=TODAY)
    ids = [f.id for f in first.features]
    code = [p for p in base.paths() if p.endswith(".py")]
    snap = base
    for n in range(14):
        path = "app/main.py" if n % 4 == 1 else rnd.choice(code)
        snap = snap.with_changes({path: _edit(rnd, snap.read(path).decode())})
        fid = rnd.choice(ids)
        got = engine.evaluate(snap, config, features=[fid], today=TODAY)
        assert _dump(got) == _dump(Engine().evaluate(snap, config, features=[fid], today=TODAY)), (n, path, fid)
        if n % 5 == 4:  # the whole report of the changed tree too
            assert _dump(engine.evaluate(snap, config, today=TODAY)) == \
                _dump(Engine().evaluate(snap, config, today=TODAY))
    # and back to where it began, as a pull request's base after its head
    assert _dump(engine.evaluate(base, config, today=TODAY)) == _dump(first)
    assert engine.stats["lookups_built"] == 1 and engine.stats["lookups_updated"] >= 15


def test_one_feature_is_judged_as_in_the_whole_report():
    """A run for one feature reads the same repository as the whole report (the data files every
    feature names included), so its verdicts are the whole report's."""
    files = _repo(3)
    files["docs/features/f0.md"] += "- The `max_retries` setting bounds the retry budget.\n"
    files["app/f1/settings.yaml"] = "max_retries: 5\n"
    files["docs/features/f1.md"] = files["docs/features/f1.md"]
    snap = Snapshot.from_texts(files)
    config = load_config(snap)
    whole = {f.id: f for f in Engine().evaluate(snap, config, today=TODAY).features}
    for fid in whole:
        one = Engine().evaluate(snap, config, features=[fid], today=TODAY).features[0]
        assert jsonout.feature_dict(one) == jsonout.feature_dict(whole[fid])


def test_a_pull_requests_base_and_head_share_one_lookup():
    base = Snapshot.from_texts(_repo())
    config = load_config(base)
    engine = Engine()
    engine.evaluate(base, config, today=TODAY)
    head = base.with_changes({"app/f3/service.py": "class Service3:\n    pass\n"})
    for _ in range(3):
        for snap in (base, head):
            engine.evaluate(snap, config, features=["f3"], today=TODAY)
    assert engine.stats["lookups_built"] == 1 and engine.stats["lookups_updated"] == 6
    assert engine.stats["files_indexed"] == len([p for p in base.paths() if p.endswith((".py", ".md"))]) + 1


TABLES = ("names", "routes", "prefixed", "referenced", "term_df", "term_where", "code_files", "registered_routes",
          "routes_by_last", "routes_by_len", "classes", "data_paths", "infra_set", "infra_strings")


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_an_updated_lookup_holds_what_a_new_one_holds(limits, seed):
    rnd = random.Random(seed)
    snap = Snapshot.from_texts(_repo())
    config = load_config(snap)
    engine = Engine()
    ruleset = engine.rule_set(snap, config)
    want = lookup_mod.Wanted(names=set(COMMON) | {f"Service{i}" for i in range(8)} | {"list_items", "Connection"},
                             routes={"/api/f1/items", "/health", "/api/f2/items/{}/retry"}, prefixes={"/api/f3"},
                             terms={"dead", "letter", "retri", "ledger", "session", "deliveri"})

    def files(s):
        return {p: engine.file_index(s, p, ruleset) for p in s.paths()}

    held = lookup_mod.RepoLookup(want, files(snap), ruleset.is_test)
    code = [p for p in snap.paths() if p.endswith(".py")]
    for n in range(40):
        path = "app/main.py" if n % 4 == 1 else rnd.choice(code)
        snap = snap.with_changes({path: _edit(rnd, snap.read(path).decode())})
        now = files(snap)
        assert held.update(want, now, frozenset(), [path] if n % 2 else None)
        fresh = lookup_mod.RepoLookup(want, now, ruleset.is_test)
        for table in TABLES:
            assert getattr(held, table) == getattr(fresh, table), (n, path, table)
        assert list(held.classes) == list(fresh.classes), n  # tried in this order for a method's owner
        for name in want.names | {"wire", "retry_policy", "Thing0"}:
            assert held.is_referenced(name) == fresh.is_referenced(name), (n, name)
        for module in ["app/common.py"] + [f"app/f{i}/service.py" for i in range(8)]:
            assert held.is_imported(module) == fresh.is_imported(module), (n, module)


def _partial(full: Snapshot, paths=()) -> Snapshot:
    snap = Snapshot(list(full), partial=True)
    _fill(snap, full, paths)
    return snap


def _fill(snap: Snapshot, full: Snapshot, paths) -> None:
    for p in paths:
        if full.entry(p) is not None and not snap.available(p):
            snap.provide(p, full.read(p))


def _pull_request(engine: Engine, config, base: Snapshot, head: Snapshot, changed: list[str]):
    """What the App's worker does for a pull request: partial snapshots filled as the engine asks."""
    base_p, head_p = _partial(base), _partial(head)
    for snap, full in ((base_p, base), (head_p, head)):
        _fill(snap, full, engine.discovery_paths(snap, config))
        _fill(snap, full, engine.touch_paths(config, changed, snap))
    touched = engine.touched(config, changed, head_p, base_p)
    out = [touched]
    for snap, full in ((base_p, base), (head_p, head)):
        for _ in range(2):
            _fill(snap, full, engine.needed_paths(snap, config, touched))
        out.append(_dump(engine.evaluate(snap, config, features=touched, today=TODAY)))
    return out


@pytest.mark.parametrize("seed", [7, 8])
def test_the_apps_worker_judges_each_pull_request_as_a_fresh_worker_would(seed, monkeypatch):
    from bot.engine import featuremap
    rnd = random.Random(seed)
    files = _repo()
    files.update({f"specs/00{i}-export/spec.md": f"# Export {i}\n\n- **FR-001**: `Exporter{i}` writes CSV.\n"
                  for i in range(1, 4)})
    base = Snapshot.from_texts(files)
    config = load_config(base)
    worker = Engine(shared=True)
    worker.evaluate(base, config, today=TODAY)
    resolved = []
    real = featuremap.resolve
    monkeypatch.setattr(featuremap, "resolve", lambda *a, **k: resolved.append(1) or real(*a, **k))
    code = [p for p in base.paths() if p.endswith(".py")]
    for n in range(6):
        path = rnd.choice(code)
        head = base.with_changes({path: _edit(rnd, base.read(path).decode())})
        assert _pull_request(worker, config, base, head, [path]) == \
            _pull_request(Engine(shared=True), config, base, head, [path]), (n, path)
    # the worker works out the map of the fetched documents once: the specs each job fetches do not change it
    fresh = len(resolved)
    _pull_request(worker, config, base, base.with_changes({"app/f1/service.py": "x = 1\n"}), ["app/f1/service.py"])
    assert len(resolved) == fresh


def test_a_method_is_looked_for_in_the_same_classes_whatever_came_before():
    files = {"docs/features/store.md": "# Store\n\n```python\nawait storage.mark_sent(event_id)\n```\n",
             "src/store/__init__.py": "",
             "src/a/storage.py": "class OutboxStorage:\n    def save(self):\n        return 1\n",
             "src/b/storage.py": "class PgStorage:\n    def load(self):\n        return 1\n"}
    base = Snapshot.from_texts(files)
    config = load_config(base)
    engine = Engine()
    first = _dump(engine.evaluate(base, config, today=TODAY))
    engine.evaluate(base.with_changes({"src/a/storage.py": "x = 1\n"}), config, today=TODAY)
    assert _dump(engine.evaluate(base, config, today=TODAY)) == first == _dump(Engine().evaluate(base, config,
                                                                                                today=TODAY))


def test_a_design_doc_that_joins_a_feature_by_its_name_is_fetched_before_the_map_is_made():
    """The map reads such a document (its status decides whether it joins), so a worker must not take
    it for a spec whose text the map ignores."""
    files = {"specs/001-admin-portal/spec.md": "# Admin portal\n\n- **FR-001**: `AdminPortal` lists users.\n",
             "app/admin_portal.py": "class AdminPortal:\n    def users(self):\n        return []\n",
             "docs/design/admin-portal.md": "# Admin portal design\n\nStatus: Superseded\n\n- `LegacyThing` must exist.\n"}
    base = Snapshot.from_texts(files)
    config = load_config(base)
    head = base.with_changes({"specs/001-admin-portal/spec.md": files["specs/001-admin-portal/spec.md"] +
                              "- **FR-002**: `AdminPortal` bans users.\n"})
    changed = ["specs/001-admin-portal/spec.md"]
    worker = Engine(shared=True)
    worker.evaluate(base, config, today=TODAY)  # a push, on the whole snapshot
    assert "docs/design/admin-portal.md" in worker.discovery_paths(_partial(base), config)
    assert _pull_request(worker, config, base, head, changed) == \
        _pull_request(Engine(shared=True), config, base, head, changed)
    whole = {f.id: f.spec for f in Engine().feature_map(base, config).features}
    assert whole["admin-portal"] == ("specs/001-admin-portal/spec.md",)  # superseded: it does not join


def test_a_worker_keeps_whole_repository_structures_for_two_file_lists_only():
    engine = Engine(shared=True)
    snaps = [Snapshot.from_texts({**_repo(3), f"app/extra{i}.py": "x = 1\n"}) for i in range(4)]
    for snap in snaps:  # four file lists: four repositories, or commits that add files
        engine.evaluate(snap, load_config(snap), today=TODAY)
    views = [v for per in engine._views.values() for key, v in per.items() if isinstance(key, tuple)]
    keeping = [v for v in views if v.lookups or v.collected or v.refs]
    assert len(views) == 4 and len(keeping) == 2
    again = engine.evaluate(snaps[0], load_config(snaps[0]), today=TODAY)  # built again, the same findings
    assert _dump(again) == _dump(Engine().evaluate(snaps[0], load_config(snaps[0]), today=TODAY))


def test_hits_cut_before_a_changed_file_are_found_again_when_a_kept_one_goes():
    from bot.engine.index import FileIndex

    def code(strings=(), tokens=(), comments=()):
        return FileIndex("code", "python", 3, {}, (), {s: 1 for s in strings}, frozenset(tokens),
                         frozenset(comments), (), ())
    want = lookup_mod.Wanted(names={"retry_policy"})
    files = {f"app/m{i:02}.py": code(strings=["retry_policy"]) for i in range(lookup_mod.NAME_CAP + 2)}
    files["app/zz.py"] = code(tokens=["retry_policy"])  # after the two string hits the limit cuts
    held = lookup_mod.RepoLookup(want, files, lambda p: False)
    for path, index in (("app/zz.py", code(tokens=["retry_policy"], comments=["retry_policy"])),
                        ("app/m00.py", code())):  # a kept string hit goes: the first one cut comes back
        files = {**files, path: index}
        assert held.update(want, files, frozenset(), [path])
        assert held.names == lookup_mod.RepoLookup(want, files, lambda p: False).names, path


def test_a_files_words_are_its_regions_words_without_building_them():
    """The lookup reads every code file's words; they are worked out without the regions' documents and
    must be exactly the union of what retrieval ranks."""
    from bot.engine import retrieval
    files = {**_repo(3),
             "web/src/user-profile.ts": "export class UserProfile {\n  loadAvatar(id: string) { return fetchAvatar(id) }\n}\n",
             "cmd/server/main.go": "package main\n\nfunc main() { startHTTPServer() }\n",
             "scripts/deploy.sh": "#!/bin/sh\nkubectl apply -f deploy/\n",
             "src/lib.rs": "pub struct RateLimiter;\nimpl RateLimiter { pub fn allow(&self) -> bool { true } }\n",
             "empty.py": ""}
    snap = Snapshot.from_texts(files)
    engine = Engine()
    rs = engine.rule_set(snap, load_config(snap))
    checked = 0
    for path in files:
        fi = engine.file_index(snap, path, rs)
        if fi.kind != "code":
            continue
        for index in (fi, replace(fi, regions=())):  # and an index without regions: its tokens and names
            docs = retrieval._region_docs(path, index)
            assert retrieval.file_words(index, path) == frozenset().union(*(d.words for d in docs)), path
            checked += 1
    assert checked >= 20
