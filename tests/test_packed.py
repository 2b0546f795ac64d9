"""Indexes read back from their compact form (the content cache, the indexing workers) keep what a
file defines, names and says packed, unpack it when it is first read, and let the oldest go again:
whatever few stay unpacked, every field reads back equal and every verdict is the same."""
import dataclasses
import pickle
import subprocess
import sys

import pytest

from bot.checkout import load_directory
from bot.engine import Engine, Snapshot, load_config
from bot.engine import index as ix
from tests.conftest import FIXTURES, ROOT

FILES = {
    "app/models.py": "class User:\n    '''A signed-up person.'''\n    def save(self, force=False):\n        pass  # TODO: later\n",
    "app/util.py": "import os\nfrom app.models import User\n\ndef save_user(u: User):\n    return u.save('users/' + os.sep)\n",
    "internal/auth/routes.go": 'package auth\n\nfunc Register(r Router) { r.HandleFunc("POST /api/login", login) }\n',
    "web/api.ts": "export function fetchUser(id: string) { return fetch(`/api/users/${id}`) }\n",
}


def _indexes(files=FILES):
    snap = Snapshot.from_texts(files)
    engine = Engine()
    rs = engine.rule_set(snap, load_config(snap))
    return {p: engine.file_index(snap, p, rs) for p in files}


def _unpacked(fi) -> bool:
    return fi.__dict__["_heavy"] is not None


@pytest.fixture
def room(monkeypatch):
    """Only ``n`` packed indexes stay unpacked (the module's own count, restored afterwards)."""
    def set_room(n):
        monkeypatch.setattr(ix, "_room", n)
        monkeypatch.setattr(ix, "_decoded", ix.deque())
    return set_room


def test_a_packed_index_unpacks_on_first_read_and_the_oldest_is_packed_again(room):
    room(2)
    built = _indexes()
    packed = {p: ix.loads(ix.dumps(fi)) for p, fi in built.items()}
    a = packed["app/models.py"]
    assert type(a) is ix.PackedIndex and not _unpacked(a)
    assert (a.kind, a.lang, a.lines) == ("code", "python", built["app/models.py"].lines) and not _unpacked(a)
    assert "User" in a.defs and _unpacked(a)
    packed["app/util.py"].tokens
    assert _unpacked(a)  # two may stay unpacked
    packed["web/api.ts"].regions
    assert not _unpacked(a) and _unpacked(packed["web/api.ts"])  # a third lets the oldest go
    for p, fi in packed.items():  # read back after being let go: still equal, field by field
        assert fi == built[p] and built[p] == fi, p
        for f in dataclasses.fields(ix.FileIndex):
            assert getattr(fi, f.name) == getattr(built[p], f.name), (p, f.name)
    assert sum(map(_unpacked, packed.values())) <= 2


def test_a_large_feature_keeps_its_files_unpacked_for_one_evaluation_only(room, monkeypatch):
    room(1)
    monkeypatch.setattr(ix, "DECODED", 1)
    packed = [ix.loads(ix.dumps(fi)) for fi in _indexes().values()]
    mine, elsewhere = packed[:-1], packed[-1]
    with ix.unpacking():
        ix.keep_unpacked(len(mine))
        for fi in mine:
            fi.strings
        elsewhere.symbols  # a read outside the feature's own files (an owner in another package)
        assert all(map(_unpacked, packed))  # lets none of the feature's files go
    assert [_unpacked(fi) for fi in packed] == [False] * (len(packed) - 1) + [True]
    assert ix._room == 1


def test_a_packed_index_can_be_changed_copied_and_pickled_like_any_other():
    fi = _indexes()["app/models.py"]
    packed = ix.loads(ix.dumps(fi))
    changed = dataclasses.replace(packed, timeouts=("slow-rule",))
    assert type(changed) is ix.FileIndex and changed.timeouts == ("slow-rule",)
    assert dataclasses.replace(changed, timeouts=fi.timeouts) == fi
    assert pickle.loads(pickle.dumps(packed)) == fi
    assert ix.loads(ix.dumps(packed)) == fi  # packed again from its packed block as it came
    assert ix.pack(packed)[-1] is packed.__dict__["_block"]  # not unpacked and compressed again
    assert {packed.symbols[0]: 1}[fi.symbols[0]] == 1  # symbols and regions hash by value
    assert len({r: 1 for r in packed.regions + fi.regions}) == len(fi.regions)


def _packed_engine(snap, cfg, source: Engine) -> Engine:
    """A new engine holding every index ``source`` built, as read back from the compact form."""
    engine = Engine()
    rs = source.rule_set(snap, cfg)
    for p in snap.paths():
        fi = source.peek_index(snap, p, rs)
        if fi is not None:
            engine.adopt(snap, rs, p, ix.loads(ix.dumps(fi)))
    return engine


@pytest.mark.parametrize("tree", ["corpus", "demo"])
def test_verdicts_are_the_same_whatever_few_indexes_stay_unpacked(tree, room, tmp_path):
    room(1)
    snap = load_directory(FIXTURES / "corpus" if tree == "corpus" else ROOT / "examples" / "demo-repo")
    cfg = load_config(snap)
    eager = Engine()
    expected = eager.evaluate(snap, cfg)
    packed = _packed_engine(snap, cfg, eager)
    assert packed.evaluate(snap, cfg) == expected
    assert packed.stats["files_indexed"] == eager.stats["files_indexed"]  # nothing was built again
    # and after a change, brought up to date from the packed ones
    path = next(p for p in snap.paths() if p.endswith((".py", ".ts", ".go")))
    changed = Snapshot.from_texts({**{p: snap.read(p) for p in snap.paths()},
                                   path: snap.read(path) + b"\n\ndef added_later():\n    return None\n"})
    assert packed.evaluate(changed, cfg) == Engine().evaluate(changed, cfg)


def test_a_damaged_packed_block_is_refused_when_read_back():
    """The cache's checksum covers the packed block too: a damaged entry is a miss, not a failure
    in the middle of an evaluation."""
    from bot import cache as cache_mod
    blob = cache_mod.encode("index", _indexes()["app/models.py"])
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0xFF
    with pytest.raises(Exception):
        cache_mod.decode("index", bytes(bad))
    with pytest.raises(ValueError):
        ix.unpack((1, "code", "python", 1))  # an older layout


def test_a_rust_backtrace_setting_does_not_make_every_parser_error_capture_one():
    """With RUST_BACKTRACE=1 (common on developers' machines), ast-grep captured and symbolised a
    stack trace for every error, which loading the rule packs provokes (50 MB and 70 ms the first
    time); an explicit RUST_LIB_BACKTRACE still wins."""
    probe = ("import bot.engine.rules as r; from ast_grep_py import SgRoot\n"
             "try:\n    SgRoot('', 'javascript').root().find_all({'rule': {'kind': 'no_such_kind'}})\n"
             "except BaseException as e:\n    print('backtrace' in str(e).lower())\n")
    env = {"PATH": "/usr/bin:/bin", "RUST_BACKTRACE": "1"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
    out = subprocess.run([sys.executable, "-c", probe], env={**env, "RUST_LIB_BACKTRACE": "1"},
                         capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "True"


def test_region_documents_of_a_large_feature_go_when_the_evaluation_ends(monkeypatch):
    from bot.engine import retrieval
    monkeypatch.setattr(retrieval, "HELD_FILES", 2)
    snap = load_directory(FIXTURES / "corpus")
    cfg = load_config(snap)
    engine = Engine()
    engine.evaluate(snap, cfg)
    assert len(retrieval._docs_cache) <= 2 and len(retrieval._words_cache) <= 2


def test_a_name_a_change_stops_referring_to_is_recounted_without_reading_every_file(monkeypatch):
    """The lookup counts the files that refer to each name; a change that drops the last reference
    makes the name unreferenced at once, one that drops one of two leaves it referenced, and neither
    reads another file's index."""
    from bot.engine.lookup import RepoLookup, Wanted
    files = {f"pkg/m{i}.py": f"from pkg.core import helper\n\ndef use{i}():\n    return helper()\n" for i in range(2)}
    files["pkg/core.py"] = "import os\n\ndef helper():\n    return os.sep\n"
    idx = _indexes(files)
    lookup = RepoLookup(Wanted({"helper"}), idx, lambda p: "test" in p)
    assert lookup.is_referenced("helper")
    plain = _indexes({**files, "pkg/m0.py": "def use0():\n    return 0\n"})["pkg/m0.py"]
    read = []

    def no_scans(fi):
        read.append(fi)
        return real(fi)
    from bot.engine import lookup as lookup_mod
    real = lookup_mod._any_refs
    monkeypatch.setattr(lookup_mod, "_any_refs", no_scans)
    assert lookup.update(Wanted({"helper"}), {**idx, "pkg/m0.py": plain}, frozenset(), ["pkg/m0.py"])
    assert lookup.is_referenced("helper")  # m1 still calls it
    plain1 = _indexes({**files, "pkg/m1.py": "def use1():\n    return 1\n"})["pkg/m1.py"]
    assert lookup.update(Wanted({"helper"}), {**idx, "pkg/m0.py": plain, "pkg/m1.py": plain1}, frozenset(),
                         ["pkg/m1.py"])
    assert not lookup.is_referenced("helper")
    assert len(read) == 4  # the old and new index of each changed file, nothing else
