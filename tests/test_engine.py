"""The engine is pure and caches by content: unchanged files are never re-read or re-parsed."""
import ast
from pathlib import Path

from bot.engine import Engine, Snapshot, load_config
from bot.engine.snapshot import FileEntry, blob_sha

ENGINE_DIR = Path(__file__).resolve().parents[1] / "bot" / "engine"
FORBIDDEN_MODULES = {"aiohttp", "gidgethub", "requests", "urllib", "socket", "subprocess", "http", "asyncio", "time"}
FORBIDDEN_CALLS = {("os", "environ"), ("os", "getenv"), ("datetime", "now"), ("date", "today"), ("os", "walk"),
                   ("os", "listdir"), ("time", "time")}


def test_engine_never_imports_io_or_reads_the_environment_or_clock():
    for path in ENGINE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    assert a.name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {a.name}"
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert node.module.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {node.module}"
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, f"{path.name} uses {node.value.id}.{node.attr}"
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} opens files"


def repo(n_features=6):
    files = {}
    for i in range(n_features):
        files[f"docs/ideas/f{i}.md"] = f"# F{i}\n\n- `GET /api/f{i}`\n- `Service{i}`\n"
        files[f"internal/f{i}/svc.go"] = (f'package f{i}\n\ntype Service{i} struct{{}}\n\n'
                                          f'func R(r chi.Router) {{ r.Get("/api/f{i}", h) }}\n')
        files[f"internal/f{i}/svc_test.go"] = f"package f{i}\n"
    return files


class CountingSnapshot(Snapshot):
    def __init__(self, files):
        data = {p: v.encode() for p, v in files.items()}
        super().__init__([FileEntry(p, blob_sha(b), len(b)) for p, b in data.items()], loader=self._load)
        self._data = data
        self.reads = []

    def _load(self, path):
        self.reads.append(path)
        return self._data[path]


def test_unchanged_files_are_not_reread_or_reparsed():
    engine = Engine()
    snap = CountingSnapshot(repo())
    cfg = load_config(snap)
    first = engine.evaluate(snap, cfg)
    indexed, parsed = engine.stats["files_indexed"], engine.stats["specs_parsed"]
    assert indexed == 18 and parsed == 6

    files = repo()
    files["internal/f3/svc.go"] = files["internal/f3/svc.go"].replace('r.Get("/api/f3", h)', "")
    snap2 = CountingSnapshot(files)
    second = engine.evaluate(snap2, load_config(snap2), features=["f3"])
    assert engine.stats["files_indexed"] == indexed + 1  # only the changed blob
    assert engine.stats["specs_parsed"] == parsed
    assert snap2.reads == ["internal/f3/svc.go"]
    assert [f.id for f in second.features] == ["f3"]
    assert second.features[0].alignment < next(f for f in first.features if f.id == "f3").alignment


def test_subset_evaluation_matches_full_evaluation():
    snap = Snapshot.from_texts(repo())
    cfg = load_config(snap)
    full = {f.id: f for f in Engine().evaluate(snap, cfg).features}
    sub = Engine().evaluate(snap, cfg, features=["f2", "f4"]).features
    assert [f.id for f in sub] == ["f2", "f4"]
    for f in sub:
        assert f == full[f.id]


def test_waivers_apply_until_their_date():
    import datetime as dt
    files = repo(1)
    files["internal/f0/svc.go"] = "package f0\n\ntype Service0 struct{}\n"
    snap = Snapshot.from_texts(files)
    gap = next(g for g in Engine().evaluate(snap, load_config(snap)).features[0].gaps if g.kind.value == "missing")
    files[".driftbot.yml"] = (f"version: 1\ndiscover: true\nwaivers:\n  - fingerprint: {gap.fingerprint}\n"
                              f"    reason: the route moves to the gateway\n    until: 2027-01-31\n")
    snap = Snapshot.from_texts(files)
    cfg = load_config(snap)
    before = Engine().evaluate(snap, cfg, today=dt.date(2027, 1, 31)).features[0]
    waived = next(g for g in before.gaps if g.fingerprint == gap.fingerprint)
    assert waived.waived and waived.waiver_reason == "the route moves to the gateway"
    assert gap.fingerprint not in {g.fingerprint for g in before.open_gaps}
    after = Engine().evaluate(snap, cfg, today=dt.date(2027, 2, 1))
    assert not next(g for g in after.features[0].gaps if g.fingerprint == gap.fingerprint).waived
    assert any("expired" in w for w in after.warnings)


def test_scores_trace_to_their_terms():
    snap = Snapshot.from_texts(repo(2))
    for f in Engine().evaluate(snap, load_config(snap)).features:
        applicable = [t for t in f.terms if t.applicable]
        expected = round(100 * sum(t.weight * t.value for t in applicable) / sum(t.weight for t in applicable))
        assert f.alignment == expected and f.drift == 100 - expected


def test_patterns_and_explicit_features():
    files = repo(3)
    files[".github/driftbot.yml"] = ('version: 1\nfeatures:\n  - id: special\n    spec: docs/ideas/f0.md\n'
                                     '    code: internal/f0/\npatterns:\n  - spec: "docs/ideas/{name}.md"\n'
                                     '    code: "internal/{name}/**"\n')
    snap = Snapshot.from_texts(files)
    findings = Engine().evaluate(snap, load_config(snap))
    assert [(f.id, f.source) for f in findings.features] == [("special", "config"), ("f1", "pattern"), ("f2", "pattern")]
    assert all(f.signals.code_files == 1 for f in findings.features)
