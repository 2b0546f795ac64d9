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
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from cachetools import LRUCache

from . import index as index_mod
from .terms import identifier_words, normalise, words_of

_chain = chain.from_iterable

# Thresholds on weighted term coverage, chosen on the labelled development set (docs/accuracy.md).
MET_TOP = 0.25  # share of the requirement's weight the best-ranked region holds …
MET_FEATURE = 0.85  # … and the feature's code as a whole
PARTIAL_NAMES = 0.45  # share found in the names the feature's code defines (functions, classes, files)
PHRASE = 0.8  # one name holding this share is the thing itself ("Redis broker" ↔ RedisBroker)
PARTIAL_FEATURE, PARTIAL_TOP = 0.7, 0.2  # … or the code holds most of the words, some of them together
SMALL_CORPUS = 400  # regions; more than this are ranked with BM25


class Doc(NamedTuple):  # a named tuple: a repository has hundreds of thousands of regions
    path: str
    line: int
    name: str
    words: frozenset  # the region's words as the code spells them (lower-cased parts); normalised per corpus
    names: frozenset = frozenset()  # the normalised terms of the region's own name (and, for a module, its path)


@lru_cache(maxsize=500_000)
def identifier_terms(name: str) -> tuple[str, ...]:
    return tuple(normalise(identifier_words(name)))


@lru_cache(maxsize=200_000)
def text_terms(text: str) -> tuple[str, ...]:
    return tuple(normalise(words_of(text)))


# Docs and words are kept for the files used lately only (emptied when full, which costs less than an
# LRU's upkeep on every call): a feature's corpus is built once per evaluation, and holding every
# file's regions at once would double what an evaluation holds (at 4,096 files they were 47 MB of a
# 30,000-file report's peak). A feature whose code is larger keeps them all while it is judged, as it
# keeps their indexes unpacked (``index.keep_unpacked``): its corpus is built for every feature that
# searches the same code.
HELD_FILES = 1024
_docs_cache: dict[tuple[int, str], tuple[object, list]] = {}  # (id(index), path) -> (index, docs)
_words_cache: dict[tuple[int, str], tuple[object, frozenset]] = {}  # (id(index), path) -> (index, words)


def let_go() -> None:
    """After an evaluation: a large feature's documents and words (kept while it was judged) go."""
    for held in (_docs_cache, _words_cache):
        if len(held) > HELD_FILES:
            held.clear()


def region_docs(path: str, fi) -> list[Doc]:
    """The retrievable regions of one indexed code file."""
    hit = _docs_cache.get((id(fi), path))
    if hit is not None and hit[0] is fi:
        return hit[1]
    docs = _region_docs(path, fi)
    if len(_docs_cache) >= max(HELD_FILES, index_mod.unpacked_room()):
        _docs_cache.clear()
    _docs_cache[(id(fi), path)] = (fi, docs)
    return docs


def _path_parts(path: str) -> list[str]:
    """A path's folders and file name (extension dropped)."""
    return [part.rsplit(".", 1)[0] for part in path.split("/")]


def _region_docs(path: str, fi) -> list[Doc]:
    regions = getattr(fi, "regions", None)
    parts = _path_parts(path)
    path_words = frozenset(_chain(map(identifier_words, parts)))
    path_names = frozenset(_chain(map(identifier_terms, parts)))
    if regions:
        out = []
        for r in regions:
            if r.kind == "module":
                out.append(_doc((path, r.line, r.name or path, path_words.union(r.words), path_names)))
            else:
                own, names = _named(r.name, r.owner)
                out.append(_doc((path, r.line, r.name or path, frozenset(_chain((r.words, own))), names)))
        return out
    words = frozenset(_chain(map(identifier_words, list(fi.tokens) + list(fi.defs)))) | path_words
    names = frozenset(t for d in fi.defs for t in identifier_terms(d)) | path_names
    return [Doc(path, 1, path, words, names)]


@lru_cache(maxsize=100_000)
def _named(name: str, owner: str) -> tuple[tuple[str, ...], frozenset]:
    """A region's own name and owner: their words as spelt, and their terms (one frozenset shared by
    every region of that name)."""
    return identifier_words(name) + identifier_words(owner), frozenset(identifier_terms(name) + identifier_terms(owner))


_doc = Doc._make  # builds the tuple in C, without the generated __new__


def file_words(fi, path: str) -> frozenset:
    """Every word of a file's regions as the code spells them: the union of ``region_docs``' words,
    worked out without building the regions' documents (the lookup reads every code file's)."""
    hit = _words_cache.get((id(fi), path))
    if hit is not None and hit[0] is fi:
        return hit[1]
    regions = getattr(fi, "regions", None)
    if regions:
        out: set[str] = set()
        for r in regions:
            out.update(r.words)
            if r.kind == "module":
                out.update(_chain(map(identifier_words, _path_parts(path))))
            else:
                out.update(identifier_words(r.name))
                out.update(identifier_words(r.owner))
        words = frozenset(out)
    else:
        words = frozenset(_chain(map(identifier_words, list(fi.tokens) + list(fi.defs) + _path_parts(path))))
    if len(_words_cache) >= max(HELD_FILES, index_mod.unpacked_room()):
        _words_cache.clear()
    _words_cache[(id(fi), path)] = (fi, words)
    return words


def corpus_of(files: list[tuple[str, object]], held: dict | None = None) -> "Corpus":
    """The corpus of these indexed code files (path, index), in this order. ``held``: large corpora
    built earlier by the same caller, by their files: features whose code is the same (every located
    feature searches the whole source) then share one, its BM25 index built once. Keyed by the
    indexes' identities, which the caller keeps alive while it holds ``held`` (one evaluation)."""
    key = tuple((p, id(fi)) for p, fi in files) if held is not None else None
    if key is not None and (found := held.get(key)) is not None:
        return found
    docs = []
    for p, fi in files:
        docs.extend(region_docs(p, fi))
    out = Corpus(docs)
    if key is not None and len(docs) > SMALL_CORPUS:
        held[key] = out
    return out


HELD = 6  # large structures one evaluation keeps for the features that come next (each may be tens of MB)


def holder() -> LRUCache:
    """Where one evaluation keeps its large structures: the ``HELD`` used last (features that share
    code come together: a located feature's two corpora, then the next located feature's)."""
    return LRUCache(maxsize=HELD)


class Corpus:
    """The regions of some code (a feature's), with term statistics and a lazily built BM25 index.
    Regions keep their words as spelt; each distinct word of the corpus is normalised once, and a
    term is found in a region through the words that normalise to it."""

    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.names = frozenset().union(*(d.names for d in docs)) if docs else frozenset()
        self._bm25 = None
        self._forms: dict[str, frozenset] | None = None  # term -> the corpus's words that mean it
        self._named: dict[str, list[int]] | None = None  # a term of a region's own name -> those regions

    def __len__(self) -> int:
        return len(self.docs)

    def forms(self) -> dict[str, set]:
        if self._forms is None:
            out: dict[str, set] = {}
            vocab = frozenset().union(*(d.words for d in self.docs)) if self.docs else frozenset()
            for w in vocab:
                for t in identifier_terms(w):
                    s = out.get(t)
                    if s is None:
                        out[t] = {w}
                    else:
                        s.add(w)
            self._forms = out
        return self._forms

    def named_by(self, terms: list[str], least: int) -> list[Doc]:
        """The regions whose own names hold at least ``least`` of the (distinct) terms, in corpus order."""
        if len(self.docs) <= SMALL_CORPUS:  # a few dozen regions: reading them is cheaper than an index
            want = set(terms)
            return [d for d in self.docs if len(want & d.names) >= least]
        if self._named is None:
            named: dict[str, list[int]] = {}
            for i, d in enumerate(self.docs):
                for t in d.names:
                    named.setdefault(t, []).append(i)
            self._named = named
        count: dict[int, int] = {}
        for t in set(terms):
            for i in self._named.get(t, ()):
                count[i] = count.get(i, 0) + 1
        return [self.docs[i] for i in sorted(i for i, n in count.items() if n >= least)]

    def has(self, term: str) -> bool:
        return term in self.forms()

    def holds(self, doc: Doc, term: str) -> bool:
        forms = self.forms().get(term)
        return bool(forms and not doc.words.isdisjoint(forms)) or term in doc.names

    def df(self, term: str) -> int:
        forms = self.forms().get(term)
        return sum(1 for d in self.docs if not d.words.isdisjoint(forms)) if forms else 0

    def rank(self, terms: list[str], k: int = 3, weights: dict[str, float] | None = None) -> list[tuple[float, Doc]]:
        """The regions that best match the terms: by BM25 (bm25s) over a large corpus; over a small one
        (a feature's few dozen regions) by the weighted share of the terms each holds, which orders
        them the same way for short queries and costs nothing to build."""
        if not self.docs or not terms:
            return []
        if len(self.docs) <= SMALL_CORPUS:
            w = weights or {t: 1.0 for t in terms}
            forms = self.forms()
            weighed = [(t, w.get(t, 0.0), forms.get(t)) for t in terms]  # what holds() looks up, once
            scored = [(sum(wt for t, wt, f in weighed if (f and not d.words.isdisjoint(f)) or t in d.names),
                       -len(d.words), i) for i, d in enumerate(self.docs)]
            scored.sort(reverse=True)
            return [(s, self.docs[i]) for s, _, i in scored[:k] if s > 0]
        if self._bm25 is None:
            import bm25s  # imported on first use: most runs judge few prose requirements

            self._bm25 = bm25s.BM25()
            self._bm25.index([sorted(d.words) or ["\x00"] for d in self.docs], show_progress=False)
        query = sorted(frozenset().union(*(self.forms().get(t, frozenset()) for t in terms)))
        if not query:
            return []
        scores = self._bm25.get_scores(query)
        order = [int(i) for i in _best(scores, max(k, 10)) if scores[i] > 0]
        # BM25 shortlists; the weighted share of the requirement's terms orders the shortlist
        w = weights or {t: 1.0 for t in terms}
        order.sort(key=lambda i: (-sum(w.get(t, 0.0) for t in terms if self.holds(self.docs[i], t)), -scores[i]))
        return [(float(scores[i]), self.docs[i]) for i in order[:k]]


def _best(scores, n: int):
    """The indexes of the ``n`` highest scores, highest first, ties in index order: what a stable
    sort of every index by descending score starts with, without sorting them all."""
    import numpy  # bm25s's own: loaded with it

    neg = -scores
    if len(neg) > n:
        cut = numpy.partition(neg, n - 1)[n - 1]
        within = numpy.flatnonzero(neg <= cut)  # every index that can make the first n, ties included
        return within[numpy.argsort(neg[within], kind="stable")][:n]
    return numpy.argsort(neg, kind="stable")


def weights(terms: list[str], feature: Corpus, repo_df: dict[str, int], repo_files: int) -> dict[str, float]:
    """How distinctive each term is: rare words weigh more than words every file uses. A term the
    code never uses weighs like a rare one: it is exactly what the code may be missing. Counted over
    the repository's files where known, else over the feature's regions."""
    out = {}
    if repo_files:
        n = max(repo_files, 1)
        for t in terms:
            df = repo_df.get(t, 0)
            out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out
    n = max(len(feature), 1)
    for t in terms:
        df = feature.df(t)
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
    top_share = sum(w[t] for t in terms if top and feature.holds(top, t)) / total
    phrase = None
    if len(terms) >= 2:
        best = 0.0
        for d in feature.named_by(terms, 2):
            share = sum(w[t] for t in terms if t in d.names) / total
            if share >= PHRASE and share > best:
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
             sum(w[t] for t in terms if feature.holds(d, t)) >= 0.8 * top_share * total]
    return ProseVerdict(status, phrase or top, in_feature, missing, top_share, feature_share, name_share, phrase,
                        outside, close)
