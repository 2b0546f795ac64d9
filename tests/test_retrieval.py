"""Prose retrieval over a feature's code regions: the shortcuts it takes on large corpora give the
answers reading every region would."""
import random

import numpy
from hypothesis import given, settings, strategies as st

from bot.engine import retrieval
from bot.engine.index import FileIndex, Region
from bot.engine.retrieval import Corpus, Doc

WORDS = ["order", "orders", "retry", "queue", "dead", "letter", "outbox", "status", "failed", "send", "store", "x1"]


def _doc(i: int, rnd: random.Random) -> Doc:
    words = frozenset(rnd.sample(WORDS, rnd.randint(0, 6)))
    names = frozenset(rnd.sample(WORDS, rnd.randint(0, 3)))
    return Doc(f"p{i % 7}.go", i, f"N{i}", words, names)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 60), st.lists(st.sampled_from(WORDS), max_size=6))
def test_regions_named_by_terms_are_those_reading_every_region_finds(seed, n, terms):
    import pytest
    rnd = random.Random(seed)
    docs = [_doc(i, rnd) for i in range(n)]
    for small in (retrieval.SMALL_CORPUS, 0):  # read in turn, and through the index of names
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(retrieval, "SMALL_CORPUS", small)
            corpus = Corpus(docs)
            for least in (1, 2, 3):
                want = [d for d in corpus.docs if sum(1 for t in set(terms) if t in d.names) >= least]
                assert corpus.named_by(terms, least) == want


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=80), st.integers(1, 12))
def test_the_best_scores_are_the_start_of_a_stable_sort(values, n):
    scores = numpy.array(values, dtype=numpy.float32) / numpy.float32(3)  # many ties, zeros among them
    want = sorted(range(len(scores)), key=lambda i: -scores[i])[:n]
    assert [int(i) for i in retrieval._best(scores, n)] == want


def _file(path: str, names: list[str]) -> FileIndex:
    regions = tuple(Region("function", n, "", i + 1, i + 2, (n.lower(), "send", "queue")) for i, n in enumerate(names))
    return FileIndex("code", "go", len(names), {}, (), {}, frozenset(names), frozenset(), (), (), regions=regions)


def test_a_large_corpus_is_built_once_for_the_same_files_and_ranks_the_same(monkeypatch):
    import bm25s
    builds = []
    real = bm25s.BM25.index
    monkeypatch.setattr(bm25s.BM25, "index", lambda self, *a, **k: builds.append(1) or real(self, *a, **k))
    files = [(f"pkg/f{i}.go", _file(f"pkg/f{i}.go", [f"Send{j}Order{i}" for j in range(6)])) for i in range(90)]
    assert sum(len(retrieval.region_docs(p, fi)) for p, fi in files) > retrieval.SMALL_CORPUS
    held: dict = {}
    first = retrieval.corpus_of(files, held)
    assert retrieval.corpus_of(list(files), held) is first  # the same files: one corpus
    other = retrieval.corpus_of(files[1:], held)
    assert other is not first
    alone = retrieval.corpus_of(files)  # nothing held: built anew
    terms = ["send", "order", "queue"]
    for c in (first, other):
        c.rank(terms)
    assert len(builds) == 2
    assert [(s, d) for s, d in alone.rank(terms)] == [(s, d) for s, d in first.rank(terms)]
    small = files[:2]
    assert retrieval.corpus_of(small, held) is not retrieval.corpus_of(small, held)  # small ones are cheap: not held


def test_an_evaluation_keeps_the_large_structures_used_last_only(monkeypatch):
    monkeypatch.setattr(retrieval, "HELD", 3)
    held = retrieval.holder()
    for k in "abc":
        held[k] = k.upper()
    assert held.get("a") == "A"  # used again: now the last used
    held["d"] = "D"
    assert set(held) == {"c", "a", "d"} and held.get("b") is None
