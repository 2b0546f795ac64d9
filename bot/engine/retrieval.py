"""Prose requirements judged by retrieval over the code's own vocabulary.

A sentence such as "dead letter queue for failed outbox events" names no identifier, but its
words are the code's words: ``move_to_dead_letter``, ``OutboxStatus.FAILED``. Each code region
(a function, a class, a method, a module) is reduced to its normalised terms (``terms``:
identifiers split, stemmed, abbreviations expanded), ranked against the requirement's terms with
BM25 (``bm25s``), and the verdict follows from how much of the requirement — weighted by how
distinctive each term is — the feature's code covers, and how much of it one region holds.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from itertools import chain

from .terms import identifier_words, normalise, words_of

_chain = chain.from_iterable

# Thresholds on weighted term coverage, chosen on the labelled development set (docs/accuracy.md).
MET_TOP = 0.25  # share of the requirement's weight the best-ranked region holds …
MET_FEATURE = 0.85  # … and the feature's code as a whole
PARTIAL_NAMES = 0.45  # share found in the names the feature's code defines (functions, classes, files)
PHRASE = 0.8  # one name holding this share is the thing itself ("Redis broker" ↔ RedisBroker)
PARTIAL_FEATURE, PARTIAL_TOP = 0.75, 0.2  # … or the code holds most of the words, some of them together
SMALL_CORPUS = 400  # regions; more than this are ranked with BM25


@dataclass(frozen=True)
class Doc:
    path: str
    line: int
    name: str
    terms: frozenset
    names: frozenset = frozenset()  # the terms of the region's own name (and, for a module, its path)


@lru_cache(maxsize=500_000)
def identifier_terms(name: str) -> tuple[str, ...]:
    return tuple(normalise(identifier_words(name)))


@lru_cache(maxsize=200_000)
def text_terms(text: str) -> tuple[str, ...]:
    return tuple(normalise(words_of(text)))


_docs_cache: dict[tuple[int, str], tuple[object, list]] = {}


def region_docs(path: str, fi) -> list[Doc]:
    """The retrievable regions of one indexed code file (kept while the file's index lives)."""
    hit = _docs_cache.get((id(fi), path))
    if hit is not None and hit[0] is fi:
        return hit[1]
    docs = _region_docs(path, fi)
    if len(_docs_cache) > 200_000:
        _docs_cache.clear()
    _docs_cache[(id(fi), path)] = (fi, docs)
    return docs


def _region_docs(path: str, fi) -> list[Doc]:
    regions = getattr(fi, "regions", None)
    path_names = frozenset(_chain(map(identifier_terms, (part.rsplit(".", 1)[0] for part in path.split("/")))))
    if regions:
        out = []
        for r in regions:
            terms = frozenset(_chain(map(identifier_terms, set(r.words))))  # each distinct word once
            names = path_names if r.kind == "module" else frozenset(identifier_terms(r.name) + identifier_terms(r.owner))
            out.append(Doc(path, r.line, r.name or path, terms | names, names))
        return out
    names = frozenset(t for d in fi.defs for t in identifier_terms(d)) | path_names
    return [Doc(path, 1, path, file_vocab(fi) | names, path_names)]


_vocab_cache: dict[int, tuple[object, frozenset]] = {}


def file_vocab(fi, path: str = "") -> frozenset:
    """Normalised terms of a whole file: its identifiers, definitions and string literals."""
    v = getattr(fi, "vocab", None)
    if v is not None:
        return v
    hit = _vocab_cache.get(id(fi))
    if hit is not None and hit[0] is fi:
        return hit[1]
    if getattr(fi, "regions", None) and path:  # the union of its regions' terms, computed once for both
        out = frozenset().union(*(d.terms for d in region_docs(path, fi)))
        _vocab_cache[id(fi)] = (fi, out)
        return out
    terms: set[str] = set()
    for name in fi.tokens:
        terms.update(identifier_terms(name))
    for name in fi.defs:
        terms.update(identifier_terms(name))
    for s in list(fi.strings)[:500]:
        terms.update(text_terms(s))
    out = frozenset(terms)
    if len(_vocab_cache) > 200_000:
        _vocab_cache.clear()
    _vocab_cache[id(fi)] = (fi, out)
    return out


class Corpus:
    """The regions of some code (a feature's), with term statistics and a lazily built BM25 index."""

    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.df = Counter(t for d in docs for t in d.terms)
        self.names = frozenset(t for d in docs for t in d.names)
        self._bm25 = None

    def __len__(self) -> int:
        return len(self.docs)

    def has(self, term: str) -> bool:
        return term in self.df

    def rank(self, terms: list[str], k: int = 3, weights: dict[str, float] | None = None) -> list[tuple[float, Doc]]:
        """The regions that best match the terms: by BM25 (bm25s) over a large corpus; over a small one
        (a feature's few dozen regions) by the weighted share of the terms each holds, which orders
        them the same way for short queries and costs nothing to build."""
        if not self.docs or not terms:
            return []
        if len(self.docs) <= SMALL_CORPUS:
            w = weights or {t: 1.0 for t in terms}
            scored = [(sum(w.get(t, 0.0) for t in terms if t in d.terms), -len(d.terms), i)
                      for i, d in enumerate(self.docs)]
            scored.sort(reverse=True)
            return [(s, self.docs[i]) for s, _, i in scored[:k] if s > 0]
        if self._bm25 is None:
            import bm25s  # imported on first use: most runs judge few prose requirements

            self._bm25 = bm25s.BM25()
            self._bm25.index([sorted(d.terms) or ["\x00"] for d in self.docs], show_progress=False)
        scores = self._bm25.get_scores(list(terms))
        order = sorted(range(len(self.docs)), key=lambda i: -scores[i])[:k]
        return [(float(scores[i]), self.docs[i]) for i in order if scores[i] > 0]


def weights(terms: list[str], feature: Corpus, repo_df: dict[str, int], repo_files: int) -> dict[str, float]:
    """How distinctive each term is: rare words weigh more than words every file uses. A term the
    code never uses weighs like a rare one: it is exactly what the code may be missing."""
    n = max(repo_files, len(feature), 1)
    out = {}
    for t in terms:
        df = repo_df.get(t, 0)
        out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return out


@dataclass
class ProseVerdict:
    status: str  # met | partial | missing
    top: Doc | None
    matched: list[str]
    missing: list[str]
    top_share: float
    feature_share: float
    name_share: float
    phrase: Doc | None  # a region whose own name is the requirement ("Consumer inbox" ↔ ConsumerInbox)
    elsewhere: list[tuple[str, str]]  # (term, path) found only outside the feature
    close: list = field(default_factory=list)  # regions that match nearly as well as the top one


def judge(terms: list[str], feature: Corpus, repo_df: dict[str, int], repo_files: int,
          elsewhere: dict[str, str], *, planned: bool = False) -> ProseVerdict:
    """met: the best region holds a good share of the requirement's distinctive words and the
    feature's code holds nearly all of them; partial: the names the feature defines cover a fair
    share of them (some of the named parts exist); missing otherwise. A planned item is only
    reported as implemented when a definition is named for it; otherwise it is still planned."""
    terms = list(dict.fromkeys(terms))
    w = weights(terms, feature, repo_df, repo_files)
    total = sum(w.values()) or 1.0
    in_feature = [t for t in terms if feature.has(t)]
    feature_share = sum(w[t] for t in in_feature) / total
    name_share = sum(w[t] for t in terms if t in feature.names) / total
    ranked = feature.rank(terms, k=3, weights=w)
    top = ranked[0][1] if ranked else None
    top_share = sum(w[t] for t in terms if top and t in top.terms) / total
    phrase = None
    if len(terms) >= 2:
        best = 0.0
        for d in feature.docs:
            share = sum(w[t] for t in terms if t in d.names) / total
            if share >= PHRASE and share > best and sum(1 for t in terms if t in d.names) >= 2:
                phrase, best = d, share
    if planned:
        status = "met" if phrase is not None else "missing"
    elif phrase is not None or (top_share >= MET_TOP and feature_share >= MET_FEATURE):
        status = "met"
    elif name_share >= PARTIAL_NAMES or (feature_share >= PARTIAL_FEATURE and top_share >= PARTIAL_TOP):
        status = "partial"
    else:
        status = "missing"
    missing = [t for t in terms if t not in in_feature]
    outside = [(t, elsewhere[t]) for t in missing if t in elsewhere]
    close = [d for s, d in ranked if top is not None and
             sum(w[t] for t in terms if t in d.terms) >= 0.8 * top_share * total]
    return ProseVerdict(status, phrase or top, in_feature, missing, top_share, feature_share, name_share, phrase,
                        outside, close)
