"""The drift engine: snapshot + config + rules → findings. Pure: no network, no environment, no clock.

An ``Engine`` object keeps caches keyed by blob hash (per-file indexes, parsed specs), so asking
it again about a snapshot that shares most files with an earlier one re-reads and re-parses only
the files that changed, and evaluating a few features costs in proportion to those features
(plus one cheap pass over cached indexes for repository-wide lookups and wiring).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import heapq
import itertools
import posixpath
import re
import weakref
from dataclasses import fields, is_dataclass, replace
from typing import Callable, Iterable

from cachetools import LRUCache

from . import dataindex, documents as docs_mod, featuremap as fm_mod
from . import globs, retrieval, rules as rules_mod
from .config import CONFIG_PATHS, Config, Waiver
from .errors import Stopped
from .evidence import Scope, anchor_names, command_names, evaluate_requirement, flag_names, \
    requirement_ids, route_suffixes, route_tails, split_endpoint
from .fingerprint import fingerprint, normalise_text
from .terms import key_terms
from . import index as index_mod
from .index import DOC_EXTENSIONS, EMPTY, FileIndex, build_index, resolve_ref
from .lookup import RepoLookup, Wanted
from .model import (ClaimCheck, Evidence, FeatureResult, Findings, Gap, GapKind, Kind, Marker, Requirement,
                    RequirementResult, ScoreTerm, Signals, Skipped, Status, Unpaired)
from .scoring import alignment as score_alignment, band as score_band
from .snapshot import Snapshot, decode
from .specparse import ParsedSpec, parse_spec

MAX_REFERENCE_EVIDENCE = 5
_TEST_AFFIX = re.compile(r"^(?:test_|tests?_)|(?:_test|_tests|\.test|\.spec|test|tests|spec|it)$", re.I)


_ROUTE_PARAM = re.compile(r"\{[^}]*\}|<[^>]*>|:\w+|\[[^\]]*\]")


def _route_shape(path: str) -> str:
    """A route with its parameters blanked, whatever their syntax: /api/agents/{}/heartbeat."""
    return _ROUTE_PARAM.sub("{}", path.split("?")[0]).rstrip("/") or "/"


def _registers(routes: set[str], strings) -> bool:
    """Does a file hold one of the routes as a string: whole, or its last segments (registered under a
    router prefix: "/invoices" in a group mounted at "/api")?"""
    for s in strings:
        if not s.startswith("/") or len(s) < 4 or " " in s:
            continue
        shape = _route_shape(s)
        if shape.strip("/{}") and any(r == shape or r.endswith(shape) for r in routes):
            return True
    return False


def _config_key(config: Config) -> str:
    """What in a config decides the rule set and the feature map, as a digest: equal configs share
    them even as different objects (a worker process receives a new copy with every call)."""
    key = config.__dict__.get("_shape_key")
    if key is None:
        shape = repr((config.source, config.features, config.patterns, config.documents, config.discover,
                      config.exclude, config.packs, [(p.name, p.digest) for p in config.custom_packs]))
        key = config.__dict__["_shape_key"] = hashlib.sha1(shape.encode()).hexdigest()
    return key


def _canon(obj):
    """A config (or any plain value) as nested tuples whose repr is the same in every process: sets
    sorted, rule packs by name and digest. An object without a stable repr makes a key that never
    matches again (a cache miss), never a wrong one."""
    if isinstance(obj, rules_mod.RulePack):
        return ("pack", obj.name, obj.digest)
    if is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__qualname__, tuple((f.name, _canon(getattr(obj, f.name))) for f in fields(obj)))
    if isinstance(obj, dict):
        return ("dict", tuple((_canon(k), _canon(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_canon(v) for v in obj))
    if isinstance(obj, (set, frozenset)):
        return ("set", tuple(sorted(repr(_canon(v)) for v in obj)))
    return obj


KEEP_VIEWS = 2  # snapshot views (file lists) whose whole-repository structures an engine keeps
MAX_INFRA = 1000  # infrastructure candidates a run considers (full and partial alike: the same verdicts)


class _PathKinds:
    """A view's paths sorted by what a rule set makes of them, worked out once per view and rule set."""

    def __init__(self, paths: list[str], ruleset: rules_mod.RuleSet):
        self.code = frozenset(p for p in paths if ruleset.is_code(p))
        self.tests = frozenset(p for p in self.code if ruleset.is_test(p))
        # infrastructure candidates (manifests, Dockerfiles, compose, workflows, Terraform, .env examples),
        # those a path alone shows first (Dockerfiles, charts, pipelines), capped
        candidates = [p for p in paths if p not in self.code and ruleset.infra_candidate(p)]
        candidates.sort(key=lambda p: (ruleset.infra_by_path(p) is None, p))
        self.infra = frozenset(candidates[:MAX_INFRA])
        # what a full evaluation indexes (besides the data files a feature names), in path order
        self.indexable = [p for p in paths if p in self.code or posixpath.splitext(p)[1].lower() in DOC_EXTENSIONS]
        # code outside tests, the order glue is taken in (shallow first)
        self.glue_order = sorted((p for p in paths if p in self.code and p not in self.tests),
                                 key=lambda p: (p.count("/"), p))
        self._paths = paths
        self._glue_pos: dict[str, int] | None = None
        self.tests_by_name: dict[str, list[str]] = {}  # test files by the names they carry, in path order
        for p in paths:
            if p in self.tests:
                for n in _test_name_keys(p):
                    self.tests_by_name.setdefault(n, []).append(p)


    def glue_position(self) -> dict[str, int]:
        if self._glue_pos is None:
            self._glue_pos = {p: i for i, p in enumerate(self.glue_order)}
        return self._glue_pos

    def to_index(self, data: set[str]) -> list[str]:
        """What an evaluation indexes: code and documents, and the ``data`` files features name."""
        if not data:
            return self.indexable
        return [p for p in self._paths if p in data or p in self.code or
                posixpath.splitext(p)[1].lower() in DOC_EXTENSIONS]


_SERIALS = itertools.count(1)


class _Collected:
    """The indexes one evaluation reads (code, documents, the data files features name, and the
    infrastructure among the candidates), with what they add to the findings."""

    def __init__(self, todo: list[str], candidates: list[str]):
        self.todo, self.candidates = todo, candidates
        self.serial = next(_SERIALS)
        self.base: int | None = None  # the collection this one was brought up to date from …
        self.changed: list[str] | None = None  # … and the paths that changed since
        self.entries: dict[str, object] = {}  # path -> the FileEntry its index was built from
        self.indexes: dict[str, FileIndex] = {}
        self.infra: dict[str, FileIndex] = {}
        self.bytes = 0
        self._notes: dict[str, tuple[list[str], Skipped | None]] = {}  # path -> (warnings, skipped)
        self._timed: dict[str, tuple[str, ...]] = {}  # path -> the rules that ran out of time on it
        self._langs: dict[str, int] = {}
        self._pos: dict[str, int] | None = None

    def put(self, path: str, fi: FileIndex, snapshot: Snapshot) -> None:
        old = self.indexes.get(path)
        if old is not None:
            self.bytes -= self.entries[path].size
            self._count(old, -1)
        entry = snapshot.entry(path)
        self.entries[path], self.indexes[path] = entry, fi
        self.bytes += entry.size
        self._count(fi, 1)
        notes = [f"{path}: invalid UTF-8 (read with replacement characters)"] if fi.lossy else []
        notes += [f"{path}: rule {rid} ran out of time and was skipped for this file" for rid in fi.timeouts]
        self._time(path, fi.timeouts)
        skip = Skipped(path, "generated or minified (a line over 4,000 characters)") if fi.kind == "minified" else \
            Skipped(path, "binary") if fi.kind == "binary" else None
        if notes or skip:
            self._notes[path] = (notes, skip)
        else:
            self._notes.pop(path, None)

    def put_infra(self, path: str, fi: FileIndex | None, snapshot: Snapshot, timed: tuple[str, ...] = ()) -> None:
        """A candidate's index when it is infrastructure, else None; ``timed``: the rules that ran out of
        time deciding."""
        if path not in self.indexes:
            self._time(path, tuple(dict.fromkeys((fi.timeouts if fi is not None else ()) + timed)))
        old = self.infra.pop(path, None)
        if old is not None:
            self.bytes -= self.entries[path].size
        self.entries[path] = snapshot.entry(path)
        if fi is not None and fi.lang == "infra":
            last = next(reversed(self.infra), None)
            self.infra[path] = fi
            self.bytes += self.entries[path].size
            if last is not None and last > path:  # back in candidate order (sorted), as a fresh collection has it
                self.infra = {p: self.infra[p] for p in self.candidates if p in self.infra}

    def _time(self, path: str, rules: tuple[str, ...]) -> None:
        if rules:
            self._timed[path] = rules
        else:
            self._timed.pop(path, None)

    def put_timed(self, path: str, rules: tuple[str, ...]) -> None:
        """A candidate left out of this run whose infrastructure decision ran out of time earlier."""
        if path not in self.indexes:
            self._time(path, rules)

    def timed_out(self) -> tuple[str, ...]:
        """The files a rule ran out of time on."""
        return tuple(sorted(self._timed))

    def _count(self, fi: FileIndex, n: int) -> None:
        if fi.kind == "code" and fi.lang:
            self._langs[fi.lang] = self._langs.get(fi.lang, 0) + n
            if not self._langs[fi.lang]:
                del self._langs[fi.lang]

    def updated(self, changed: list[str], snapshot: Snapshot) -> "_Collected":
        """A copy to bring up to date with ``changed`` (the held one stays as it was)."""
        out = _Collected(self.todo, self.candidates)
        out.base, out.changed = self.serial, changed
        out.entries, out.indexes, out.infra = dict(self.entries), dict(self.indexes), dict(self.infra)
        out.bytes, out._notes, out._langs, out._pos = self.bytes, dict(self._notes), dict(self._langs), self._pos
        out._timed = dict(self._timed)
        return out

    def _order(self) -> dict[str, int]:
        if self._pos is None:
            self._pos = {p: i for i, p in enumerate(self.todo)}
        return self._pos

    def warnings(self) -> list[str]:
        out = [w for p in sorted(self._notes, key=self._order().__getitem__) for w in self._notes[p][0]] \
            if self._notes else []
        # infrastructure candidates (not indexed as code): a rule that ran out of time deciding, or reading
        return out + [f"{p}: rule {rid} ran out of time and was skipped for this file"
                      for p in sorted(self._timed) if p not in self.indexes for rid in self._timed[p]]

    def skipped(self) -> list[Skipped]:
        if not self._notes:
            return []
        pos = self._order()
        return [self._notes[p][1] for p in sorted(self._notes, key=pos.__getitem__) if self._notes[p][1]]

    def languages(self) -> frozenset:
        return frozenset(self._langs)


class _SnapshotView:
    """Derived data about one snapshot, computed once and kept while the snapshot lives."""

    def __init__(self, snapshot: Snapshot, config: Config):
        excl = [globs._compile(globs.normalise(g)) for g in config.exclude]
        paths = [p for p in snapshot.paths() if not any(rx.match(p) for rx in excl)]
        self.paths = paths
        self.all_paths = set(snapshot.all_paths())
        self.dirs = set()
        self.basenames: dict[str, list[str]] = {}
        self.dir_names: dict[str, list[str]] = {}  # a folder's own name -> the folders of that name
        for p in sorted(self.all_paths):  # in path order: which same-named file is named first must not vary
            d = posixpath.dirname(p)
            while d and d not in self.dirs:
                self.dirs.add(d)
                self.dir_names.setdefault(posixpath.basename(d), []).append(d)
                d = posixpath.dirname(d)
            self.basenames.setdefault(posixpath.basename(p), []).append(p)
        self.index = globs.PathIndex(paths)
        self.has_data = any(dataindex.is_data(p) for p in paths)
        self.docs = [p for p in paths if docs_mod.is_doc(p)]
        # per config and document versions; bounded: a worker process sees a new config object each call
        self.resolved: LRUCache = LRUCache(maxsize=16)
        self._kinds: dict[str, _PathKinds] = {}
        self.lookups: dict[str, RepoLookup] = {}  # by rule set: the last analysis's (Engine._lookup)
        self._data: dict[int, tuple] = {}  # id(feature map) -> (feature map, its data files)
        self.collected: dict[str, _Collected] = {}  # by rule set: the indexes of the last whole snapshot
        self.refs: dict[str, _RefIndex] = {}  # by rule set: who imports what, for the last collection
        self._programs: tuple | None = None  # (the manifests' blobs, the programs they define)

    def forget(self) -> None:
        """Drop the whole-repository structures kept for the next analysis (they are built again)."""
        self.lookups.clear()
        self.collected.clear()
        self.refs.clear()

    def data_files(self, fmap: fm_mod.FeatureMap) -> set[str]:
        """The configuration files (YAML, JSON, TOML …) among the features' code: indexed with the code."""
        if not self.has_data:
            return set()
        held = self._data.get(id(fmap))
        if held is None or held[0] is not fmap:
            held = self._data[id(fmap)] = (fmap, {p for f in fmap.features for p in self.index.glob_many(f.code)
                                                  if dataindex.is_data(p)})
            while len(self._data) > 16:
                del self._data[next(iter(self._data))]
        return held[1]

    def programs(self, snapshot: Snapshot, read) -> dict[str, list[str]]:
        """The command-line programs the repository defines (``_programs``), worked out again only when
        a manifest that names them changes."""
        key = tuple((e.sha, snapshot.available(p)) if (e := snapshot.entry(p)) is not None else None
                    for p in ("pyproject.toml", "package.json", "go.mod"))
        if self._programs is None or self._programs[0] != key:
            self._programs = (key, _programs(self, read))
        return self._programs[1]

    def kinds(self, ruleset: rules_mod.RuleSet) -> _PathKinds:
        k = self._kinds.get(ruleset.key)
        if k is None:
            k = self._kinds[ruleset.key] = _PathKinds(self.paths, ruleset)
        return k


class Engine:
    def __init__(self, *, cache_size: int = 250_000, shared: bool = False):
        """``shared``: one of several engines that take turns on the same jobs (worker processes). What
        to fetch is then never decided from this engine's own caches, which the next call may not see."""
        self._shared = shared
        self._file_cache: LRUCache = LRUCache(maxsize=cache_size)
        self._infra_memo: dict = {}  # (blob, rules, path) -> is it infrastructure (see _is_infra)
        self._spec_cache: LRUCache = LRUCache(maxsize=20_000)
        self._views: "weakref.WeakKeyDictionary[Snapshot, dict]" = weakref.WeakKeyDictionary()
        self._shared_views: LRUCache = LRUCache(maxsize=8)  # by file list: commits that add no file share one
        self._keeping: list[_SnapshotView] = []  # the views that keep whole-repository structures, newest last
        self.stats = {"files_indexed": 0, "specs_parsed": 0, "lookups_built": 0, "lookups_updated": 0,
                      "findings_reused": 0}

    # ---- cached per-file work -------------------------------------------------------------
    def file_index(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet) -> FileIndex:
        if snapshot.entry(path) is None:
            return EMPTY
        key = self._index_key(snapshot, path, ruleset)
        fi = self._file_cache.get(key)
        if fi is None:
            fi = build_index(path, snapshot.read(path), ruleset)
            self._file_cache[key] = fi
            self.stats["files_indexed"] += 1
        return fi

    def _is_infra(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet) -> bool:
        """Is a candidate infrastructure? By its path when a rule says so; else by its text (read once
        per content: an ordinary YAML file is never parsed for this)."""
        if ruleset.infra_by_path(path) is not None:
            return True
        key = self._index_key(snapshot, path, ruleset)
        memo = self._infra_memo.get(key)
        if memo is None:
            timed: list[str] = []
            if self.has_index(snapshot, path, ruleset):
                fi = self.file_index(snapshot, path, ruleset)
                hit, timed = fi.lang == "infra", list(fi.timeouts)
            else:
                if not snapshot.available(path):
                    return False  # not fetched: not evidence in this run (and nothing to remember)
                try:
                    data = snapshot.read(path)
                except Exception:  # noqa: BLE001 - unreadable: not evidence
                    data = b""
                text = data[:dataindex.MAX_DATA].decode("utf-8", "replace") if len(data) <= dataindex.MAX_DATA else ""
                hit = bool(text) and ruleset.infra_rule(path, text, timed) is not None
            if len(self._infra_memo) > 200_000:
                self._infra_memo.clear()
            memo = self._infra_memo[key] = (hit, tuple(timed))
        return memo[0]

    def _infra_timed(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet) -> tuple[str, ...]:
        """The rules that ran out of time deciding whether ``path`` is infrastructure (after ``_is_infra``)."""
        memo = self._infra_memo.get(self._index_key(snapshot, path, ruleset))
        return memo[1] if memo is not None else ()

    def _index_key(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet):
        """An index depends on the bytes, the rule packs, and the path (its parser goes by the file's
        extension; the file's own region carries its name and folders)."""
        return (snapshot.entry(path).sha, ruleset.key, path)

    def unindexed(self, snapshot: Snapshot, config: Config) -> tuple[rules_mod.RuleSet, list[str]]:
        """The files a full evaluation would index that the engine holds no index for yet (so a caller
        with several cores can index them in parallel and hand them over with ``adopt``)."""
        view, ruleset, fmap = self._resolve(snapshot, config)
        data = view.data_files(fmap)
        kinds = view.kinds(ruleset)
        todo = [p for p in kinds.to_index(data) + [p for p in sorted(kinds.infra - data)
                                                     if snapshot.available(p) and self._is_infra(snapshot, p, ruleset)]
                if snapshot.available(p) and not self.has_index(snapshot, p, ruleset)]
        return ruleset, todo

    def adopt(self, snapshot: Snapshot, ruleset: rules_mod.RuleSet, path: str, fi: FileIndex) -> None:
        """Keep an index built elsewhere (another process) for ``path`` as it is in ``snapshot``."""
        if snapshot.entry(path) is not None:
            self._file_cache[self._index_key(snapshot, path, ruleset)] = fi
            self.stats["files_indexed"] += 1

    def content_key(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet | None = None) -> str:
        """What a file's index (with ``ruleset``) or parsed spec (without) depends on, as text: the
        key under which a content cache outside the engine keeps it."""
        entry = snapshot.entry(path)
        if ruleset is None:
            return f"{entry.sha}:{path}"
        return ":".join(self._index_key(snapshot, path, ruleset))

    def run_key(self, snapshot: Snapshot, config: Config, *, features: Iterable[str] | None = None,
                today: _dt.date | None = None) -> str | None:
        """Everything ``evaluate(snapshot, config, features=…, today=…)`` depends on, as a digest: every
        path with its blob hash, the skipped files, the whole config, the shipped rule packs, the
        features asked for and which waivers have expired (all the day decides). Equal keys, equal
        findings (under the same engine code, which is the cache's business, as for ``content_key``).
        None for a partial snapshot, whose findings also depend on what was fetched."""
        if snapshot.partial:
            return None
        h = hashlib.sha256(repr((
            rules_mod.builtin_digest(), _canon(config), None if features is None else tuple(features),
            tuple(w.active(today) for w in config.waivers), tuple((s.path, s.reason) for s in snapshot.skipped),
        )).encode())
        # git paths hold no NUL, so NUL-separated fields cannot run into each other
        h.update("".join(f"{e.path}\0{e.sha}\0{e.size}\0" for e in snapshot).encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def peek_index(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet) -> FileIndex | None:
        """The index this engine holds for ``path``, without building one."""
        entry = snapshot.entry(path)
        return None if entry is None else self._file_cache.get(self._index_key(snapshot, path, ruleset))

    def peek_spec(self, snapshot: Snapshot, path: str) -> ParsedSpec | None:
        entry = snapshot.entry(path)
        return None if entry is None else self._spec_cache.get((entry.sha, path))

    def has_index(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet) -> bool:
        entry = snapshot.entry(path)
        return entry is not None and self._index_key(snapshot, path, ruleset) in self._file_cache

    def _spared(self, snapshot: Snapshot, path: str, ruleset: rules_mod.RuleSet) -> bool:
        """May a file that is not in the snapshot be used from the index this engine holds? Never for
        a shared engine: what it holds depends on which calls came to it, and a verdict must not."""
        return not self._shared and self.has_index(snapshot, path, ruleset)

    def spec(self, snapshot: Snapshot, path: str) -> ParsedSpec:
        entry = snapshot.entry(path)
        if entry is None:
            return ParsedSpec(path, warnings=[f"{path}: spec could not be read (binary, too large or unreadable)"])
        key = (entry.sha, path)
        ps = self._spec_cache.get(key)
        if ps is None:
            ps = self._spec_cache[key] = read_spec(path, snapshot.read(path))
            self.stats["specs_parsed"] += 1
        return ps

    def unparsed_specs(self, snapshot: Snapshot, config: Config) -> list[str]:
        """The spec files a full evaluation would parse that the engine has not parsed yet."""
        fmap = self._resolve(snapshot, config)[2]
        return [s for f in fmap.features for s in f.spec
                if snapshot.available(s) and (snapshot.entry(s).sha, s) not in self._spec_cache]

    def adopt_spec(self, snapshot: Snapshot, path: str, parsed: ParsedSpec) -> None:
        entry = snapshot.entry(path)
        if entry is not None:
            self._spec_cache[(entry.sha, path)] = parsed
            self.stats["specs_parsed"] += 1

    def _view(self, snapshot: Snapshot, config: Config) -> _SnapshotView:
        """Derived path data for a snapshot. A view depends only on the snapshot's file list, so a
        new commit that changes file contents, not files, shares its predecessor's view (and its
        resolved feature map) instead of rebuilding them."""
        per = self._views.setdefault(snapshot, {})
        key = tuple(config.exclude)
        if key not in per:
            shape = (key, hash(tuple(snapshot.all_paths())), hash(tuple(snapshot.paths())))
            view = self._shared_views.get(shape)
            if view is None:
                view = self._shared_views[shape] = _SnapshotView(snapshot, config)
            per[key] = view
        return per[key]

    def _resolve(self, snapshot: Snapshot, config: Config):
        """(view, rule set, feature map) for a snapshot under a config, worked out once per pair: a
        job asks for the map, the files to fetch and the findings of the same snapshot in turn.
        The map depends on the documents' contents too (their titles, status lines and sections),
        so it is kept per version of them. The feature map is shared, so nothing may change it."""
        view = self._view(snapshot, config)
        per = self._views[snapshot]
        # the documents' versions, worked out again when the snapshot is given more files
        held = per.get("docs:" + _config_key(config))
        if held is None or held[0] != len(snapshot.fetched()):
            if snapshot.partial:  # whether a spec is at hand does not change the map: only the documents it reads
                known = self._specs_by_path(view, config)
                docs = tuple((p, e.sha, p in known or snapshot.available(p)) for p in view.docs
                             for e in (snapshot.entry(p),) if e)
            else:
                docs = tuple((p, e.sha, True) for p in view.docs for e in (snapshot.entry(p),) if e)
            held = per["docs:" + _config_key(config)] = (len(snapshot.fetched()), hash(docs))
        key = (_config_key(config), held[1])
        hit = view.resolved.get(key)
        if hit is None:
            ruleset = rules_mod.select(config.packs, view.paths, config.custom_packs)

            def read(path: str) -> str | None:
                entry = snapshot.entry(path)
                if entry is None or entry.size > 1_000_000 or not snapshot.available(path):
                    return None
                dec = decode(snapshot.read(path))
                return None if dec.binary else dec.text

            def parse(path: str):
                return self.spec(snapshot, path) if snapshot.available(path) else None

            hit = view.resolved[key] = (config, ruleset, fm_mod.resolve(config, view.paths, ruleset.is_code,
                                                                        read=read, parse=parse,
                                                                        all_paths=view.all_paths))
        return view, hit[1], hit[2]

    def _specs_by_path(self, view: _SnapshotView, config: Config) -> frozenset[str]:
        """The specs that paths alone make features of (layouts, the config's features): the feature map
        never reads them, so whether they are at hand does not change it."""
        key = ("paths alone", _config_key(config))
        known = view.resolved.get(key)
        if known is None:
            ruleset = rules_mod.select(config.packs, view.paths, config.custom_packs)
            asked: set[str] = set()  # documents the map would read (a design doc joining a feature by its name)

            def ask(path: str) -> None:
                asked.add(path)
            by_path = fm_mod.resolve(config, view.paths, ruleset.is_code, read=ask, parse=ask)  # paths alone
            known = view.resolved[key] = frozenset(s for f in by_path.features if f.source not in docs_mod.READ_ROLES
                                                   and not f.document for s in f.spec if s not in asked)
        return known

    def discovery_paths(self, snapshot: Snapshot, config: Config) -> list[str]:
        """The documents whose text the feature map depends on (titles, status lines, sections) and
        that are not at hand yet: a caller holding a partial snapshot fetches these first."""
        view = self._view(snapshot, config)
        if not config.discover and not config.documents:
            return []
        known = self._specs_by_path(view, config)
        out = []
        for p in view.docs:
            if p in known or snapshot.available(p) or snapshot.entry(p) is None or \
                    snapshot.entry(p).size > 1_000_000:
                continue
            if config.discover:
                r = docs_mod.classify(p, None)
                if r.role in ("skipped", "archived", "meta", "superseded"):
                    continue
            elif not any(globs.match(g, p) for d in config.documents for g in d.spec):
                continue
            out.append(p)
        return out

    # ---- the analysis ---------------------------------------------------------------------
    def evaluate(self, snapshot: Snapshot, config: Config, *, features: Iterable[str] | None = None,
                 today: _dt.date | None = None,
                 progress: Callable[[str, int, int], None] | None = None,
                 stop: Callable[[], str | None] | None = None) -> Findings:
        """Evaluate ``features`` (default: all) of ``snapshot`` under ``config``.

        ``today`` decides which waivers have expired, and nothing else (``run_key`` relies on it); the
        engine never reads the clock itself.
        ``progress(stage, done, total)`` is called now and then on long runs. ``stop()`` is asked
        before each file and each feature; a reason it returns ends the run with ``Stopped``.
        """
        try:
            with index_mod.unpacking():  # a large feature's indexes stay unpacked for this evaluation only
                return self._evaluate(snapshot, config, features, today, progress, stop)
        finally:
            retrieval.let_go()

    def _evaluate(self, snapshot: Snapshot, config: Config, features, today, progress, stop) -> Findings:
        view, ruleset, fmap = self._resolve(snapshot, config)
        wanted_ids = None if features is None else list(features)
        selected = fmap.features if wanted_ids is None else [f for f in fmap.features if f.id in set(wanted_ids)]
        warnings = list(fmap.warnings)
        if wanted_ids is not None:
            known = {f.id for f in fmap.features}
            for fid in wanted_ids:
                if fid not in known:
                    warnings.append(f"unknown feature '{fid}'")

        # 1. every code and doc file gets a (cached) index: needed for repo-wide lookups and wiring; config
        # and infrastructure files (YAML, Dockerfiles, scripts) where a feature's code globs name them
        col = self._collect(snapshot, view, ruleset, fmap, stop, progress)
        indexes, infra_idx, bytes_scanned = col.indexes, col.infra, col.bytes
        kinds = view.kinds(ruleset)
        warnings.extend(col.warnings())
        skipped = list(snapshot.skipped) + col.skipped()

        # 2. specs and what they ask for
        parsed: dict[str, list[ParsedSpec]] = {}
        wanted = Wanted()
        selected = [self._with_task_code(snapshot, f, view, fmap.source) for f in selected]
        paired_by_tasks = {s for f in selected if (f.source.startswith("spec-kit") or f.source == "config") and f.code
                           for s in f.spec}
        unpaired_specs = tuple(s for s in fmap.unpaired_specs if s not in paired_by_tasks)
        for f in selected:
            parsed[f.id] = [self.spec(snapshot, s) for s in f.spec]
        # claims documents (status reports, changelogs): their status marks are re-checked on a full run
        claim_defs = []
        if wanted_ids is None:
            for path in fmap.claims:
                if not snapshot.available(path):
                    continue
                items = _claim_items(self.spec(snapshot, path))
                if items is not None:
                    cid = f"claims:{path}"
                    claim_defs.append(fm_mod.FeatureDef(cid, (path,), fmap.source, source="claims", scope="located"))
                    parsed[cid] = [items]
        for fid, specs in parsed.items():
            for ps in specs:
                if not fid.startswith("claims:"):
                    warnings.extend(ps.warnings)
                for r in ps.requirements:
                    wanted.terms.update(r.terms)
                    for a in r.anchors:
                        if a.kind is Kind.ENDPOINT:
                            norm = split_endpoint(a)[1]
                            wanted.routes.update(route_suffixes(norm))
                            wanted.routes.update(route_tails(norm))  # a mounted router's own paths
                            if a.value.startswith("ANY "):  # a bare path may be a prefix routes live under
                                wanted.prefixes.add(norm)
                        elif a.kind is Kind.FLAG:
                            wanted.names.update(flag_names(a))
                        elif a.kind is Kind.SYMBOL:
                            wanted.names.update(anchor_names(a))
                            if a.owner and a.owner.isidentifier():
                                wanted.names.add(a.owner)
                        elif a.kind is Kind.COMMAND:
                            wanted.names.update(command_names(a))
        repo = self._lookup(view, ruleset, wanted, {**indexes, **infra_idx}, frozenset(infra_idx), col)
        refs = self._refs(view, ruleset, col)
        named_tests = _NamedTests(kinds.tests_by_name, indexes)

        def read_small(path: str) -> str:
            entry = snapshot.entry(path)
            if entry is None or entry.size > 512_000 or not snapshot.available(path):
                return ""
            return decode(snapshot.read(path)).text

        programs = view.programs(snapshot, read_small)
        languages = col.languages()

        def locate(path: str, name: str) -> int:
            try:
                text = decode(snapshot.read(path)).text
            except KeyError:
                return 0
            m = re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text)
            return text.count("\n", 0, m.start()) + 1 if m else 0

        waivers = {w.fingerprint: w for w in config.waivers if w.active(today)}
        corpora = retrieval.holder()  # large structures shared by features whose code is the same (located ones)
        results = []
        for n, f in enumerate(selected, 1):
            if stop is not None and (why := stop()):
                raise Stopped(why)
            results.append(self._feature(f, parsed[f.id], view, indexes, ruleset, repo, refs, named_tests, locate,
                                         config, waivers, read_small, programs, languages, tuple(fmap.source),
                                         corpora))
            if progress and n % 50 == 0:
                progress("features", n, len(selected))
        # a located feature none of whose requirements is implemented anywhere is a spec without code
        unpaired_specs += tuple(r.spec[0] for r in results if r.scope == "located" and r.spec and
                                r.signals.code_files == 0 and r.located_of and r.spec[0] not in unpaired_specs)
        # a code folder whose code a located feature's requirements name has a spec after all
        located_files = {e.path for r in results if r.scope == "located" for q in r.requirements
                         if q.status in (Status.MET, Status.PARTIAL) for e in q.evidence}
        unpaired_code = tuple(c for c in fmap.unpaired_code
                              if not any(p.startswith(c + "/") for p in located_files))
        claims: list[ClaimCheck] = []
        for f in claim_defs:
            res = self._feature(f, parsed[f.id], view, indexes, ruleset, repo, refs, named_tests, locate,
                                config, {}, read_small, programs, languages, tuple(fmap.source), corpora)
            claims.extend(_claim_check(r) for r in res.requirements)
        for w in config.waivers:
            if not w.active(today):
                warnings.append(f"waiver for {w.fingerprint} expired on {w.until.isoformat()}; the gap counts again")
        return Findings(
            features=tuple(results),
            unpaired=Unpaired(unpaired_specs, unpaired_code),
            layouts=tuple(fmap.layouts), config_source=config.source, weights=dict(config.weights),
            skipped=tuple(skipped), files_scanned=len(indexes), bytes_scanned=bytes_scanned,
            warnings=tuple(dict.fromkeys(warnings)), documents=tuple(fmap.documents), claims=tuple(claims),
            source=fmap.source, timed_out=col.timed_out(),
        )

    def _collect(self, snapshot: Snapshot, view: _SnapshotView, ruleset: rules_mod.RuleSet, fmap, stop,
                 progress) -> "_Collected":
        """The indexes an evaluation reads. A whole snapshot (not a partial one) that differs from the
        view's last one by a few files takes that one's and indexes the changed files alone."""
        # the data files any feature names (not only the selected ones': the repository a feature is judged
        # against is the same whichever features a run asks for)
        data_files = view.data_files(fmap)
        kinds = view.kinds(ruleset)
        todo = kinds.to_index(data_files)
        candidates = sorted(kinds.infra - data_files)
        held = view.collected.get(ruleset.key) if not snapshot.partial else None
        if held is not None and held.todo == todo and held.candidates == candidates:
            entries = snapshot._entries
            changed = [p for p, e in held.entries.items() if (now := entries.get(p)) is not e and
                       (now is None or e is None or now.sha != e.sha)]
            if len(changed) <= max(50, len(todo) // 20):
                col = held.updated(changed, snapshot)
                for p in changed:
                    if stop is not None and (why := stop()):
                        raise Stopped(why)
                    if p in col.indexes:
                        col.put(p, self.file_index(snapshot, p, ruleset), snapshot)
                    else:
                        col.put_infra(p, self.file_index(snapshot, p, ruleset)
                                      if self._is_infra(snapshot, p, ruleset) else None, snapshot,
                                      self._infra_timed(snapshot, p, ruleset))
                self._keep(view).collected[ruleset.key] = col
                return col
        col = _Collected(todo, candidates)
        partial, total = snapshot.partial, len(todo)
        if partial:  # what was fetched, and what this engine has seen before
            fetched = snapshot.fetched()
            todo = [p for p in todo if p in fetched] if self._shared else \
                [p for p in todo if p in fetched or self._spared(snapshot, p, ruleset)]
        for n, p in enumerate(todo, 1):
            if stop is not None and (why := stop()):
                raise Stopped(why)
            col.put(p, self.file_index(snapshot, p, ruleset), snapshot)
            if progress and n % 500 == 0:
                progress("index", n, total)
        for p in candidates:
            if stop is not None and (why := stop()):
                raise Stopped(why)
            if partial and not snapshot.available(p) and not self._spared(snapshot, p, ruleset):
                col.put_timed(p, self._infra_timed(snapshot, p, ruleset))  # an earlier decision that ran out of time
                continue
            # ordinary YAML is never indexed for this
            col.put_infra(p, self.file_index(snapshot, p, ruleset) if self._is_infra(snapshot, p, ruleset) else None,
                          snapshot, self._infra_timed(snapshot, p, ruleset))
        if not snapshot.partial:
            self._keep(view).collected[ruleset.key] = col
        return col

    def _keep(self, view: _SnapshotView) -> _SnapshotView:
        """Mark ``view`` as keeping whole-repository structures (indexes held, lookup, imports). Only the
        two used last keep theirs (a pull request's base and head share one): a long-lived worker that
        analyses many repositories holds no more than that beyond its per-file caches."""
        if view in self._keeping:
            self._keeping.remove(view)
        self._keeping.append(view)
        while len(self._keeping) > KEEP_VIEWS:
            gone = self._keeping.pop(0)
            self._pack_held(gone)
            gone.forget()
        return view

    def _pack_held(self, view: _SnapshotView) -> None:
        """The indexes this engine built for a view it stops keeping structures for are held packed
        from now on (``index.PackedIndex``, a twentieth of the memory): a long-lived engine holds every
        repository it has analysed. Those a kept view still holds stay as they are (its lookup and
        collection follow a change by the indexes' identities)."""
        kept = {id(fi) for v in self._keeping for col in v.collected.values()
                for fi in [*col.indexes.values(), *col.infra.values()]}
        for rkey, col in view.collected.items():
            for path, fi in [*col.indexes.items(), *col.infra.items()]:
                entry = col.entries.get(path)
                if entry is None or type(fi) is not FileIndex or id(fi) in kept or fi.timeouts:
                    continue
                key = (entry.sha, rkey, path)
                if self._file_cache.get(key) is fi:
                    self._file_cache[key] = index_mod.loads(index_mod.dumps(fi))

    def _refs(self, view: _SnapshotView, ruleset: rules_mod.RuleSet, col: "_Collected") -> "_RefIndex":
        """Who imports what, for the collected indexes: the view's last one brought up to date when the
        indexes are a few changes on from its own."""
        held = view.refs.get(ruleset.key)
        if held is not None and held.serial == col.base and col.changed is not None:
            held.update(col.indexes, col.changed)
        elif held is None or held.serial != col.serial:
            held = self._keep(view).refs[ruleset.key] = _RefIndex(col.indexes, ruleset.is_test)
        held.serial = col.serial
        return held

    def _lookup(self, view: _SnapshotView, ruleset: rules_mod.RuleSet, wanted: Wanted, files: dict[str, FileIndex],
                infra: frozenset, col: "_Collected"):
        """The repository-wide lookup for ``wanted`` over ``files``: the view's last one brought up to
        date when it can be (the same files, some changed; names it holds), else a new one, kept for
        the next analysis of a snapshot with these paths (a pull request's base and head)."""
        held = view.lookups.get(ruleset.key)
        if held is not None:
            try:
                since = col.changed if col.base is not None and held.serial == col.base else None
                if held.update(wanted, files, infra, since):
                    self.stats["lookups_updated"] += 1
                    held.serial = col.serial
                    self._keep(view)
                    return held.only(wanted)
            except BaseException:  # never answer from a lookup left half-updated (an interrupt included)
                view.lookups.pop(ruleset.key, None)
                raise
        build = wanted
        if held is not None and list(files) == held._paths and held._lookup_only == infra:
            build = wanted.union(held.wanted)  # the same files: one lookup serves both
        repo = self._keep(view).lookups[ruleset.key] = RepoLookup(build, files, ruleset.is_test, infra)
        repo.serial = col.serial
        self.stats["lookups_built"] += 1
        return repo.only(wanted)

    def feature_map(self, snapshot: Snapshot, config: Config) -> fm_mod.FeatureMap:
        return self._resolve(snapshot, config)[2]

    def rule_set(self, snapshot: Snapshot, config: Config) -> rules_mod.RuleSet:
        """The rule packs that apply to a snapshot under a config."""
        return self._resolve(snapshot, config)[1]

    def touched(self, config: Config, changed: list[str], *snapshots: Snapshot) -> list[str]:
        """Features that ``changed`` touches in any of ``snapshots`` (a change can add or remove a
        feature, so both sides of it count). A changed config touches every feature.

        A located feature (a document judged against the code its requirements name) looks at the
        whole source, so a path alone says little: it is touched when its spec changes, or when a
        changed file, on either side, names what its requirements ask for. When a file's text is not
        at hand, it counts as touching (``touch_paths`` lists what to fetch first)."""
        out: set[str] = set()
        config_changed = bool(set(changed) & set(CONFIG_PATHS))
        for snap in snapshots:
            view, ruleset, fmap = self._resolve(snap, config)
            candidates = set(fm_mod.touched_features(fmap, changed, CONFIG_PATHS))
            if any(ruleset.infra_candidate(p) for p in changed):  # located features search it too
                candidates |= {f.id for f in fmap.features if f.scope == "located"}
            for fid in sorted(candidates):
                f = fmap.get(fid)
                if f is None or f.scope != "located" or config_changed or set(f.spec) & set(changed) or \
                        fid in out or self._names_touch(f, changed, snapshots, ruleset):
                    out.add(fid)
        return sorted(out)

    def touch_paths(self, config: Config, changed: list[str], snapshot: Snapshot) -> list[str]:
        """What ``touched`` reads in ``snapshot`` that is not at hand: the changed code files and
        the specs of the located features."""
        view, ruleset, fmap = self._resolve(snapshot, config)
        if not any(f.scope == "located" for f in fmap.features):
            return []
        want = {p for p in changed if (ruleset.is_code(p) and not ruleset.is_test(p)) or ruleset.infra_candidate(p)}
        want |= {s for f in fmap.features if f.scope == "located" for s in f.spec}
        return sorted(p for p in want if snapshot.entry(p) is not None and not snapshot.available(p)
                      and not self._spared(snapshot, p, ruleset))

    def _names_touch(self, f: fm_mod.FeatureDef, changed: list[str], snapshots, ruleset) -> bool:
        names: set[str] = set()
        routes: set[str] = set()
        prose: list[set[str]] = []
        for snap in snapshots:
            for sp in f.spec:
                if snap.entry(sp) is None:
                    continue
                if not snap.available(sp):
                    return True
                for r in self.spec(snap, sp).requirements:
                    for a in r.anchors:
                        if a.kind is Kind.SYMBOL:
                            names.update(anchor_names(a))
                        elif a.kind is Kind.FLAG:
                            names.update(flag_names(a))
                        elif a.kind is Kind.COMMAND:
                            names.update(command_names(a))
                        elif a.kind is Kind.ENDPOINT:
                            path = split_endpoint(a)[1]
                            names.update(w for w in path.split("/") if w and "{" not in w)
                            routes.add(_route_shape(path))
                        elif a.kind is Kind.PATH:
                            names.add(posixpath.splitext(posixpath.basename(a.value))[0])
                    if not r.anchors and len(r.terms) >= 2:
                        prose.append(set(r.terms))
        names = {n for n in names if len(n) > 2}
        for snap in snapshots:
            for p in changed:
                if snap.entry(p) is None or not (ruleset.is_code(p) and not ruleset.is_test(p) or
                                                 ruleset.infra_candidate(p)):
                    continue
                if not snap.available(p) and not self._spared(snap, p, ruleset):
                    return True
                fi = self.file_index(snap, p, ruleset)
                if names & (fi.tokens | set(fi.strings) | set(fi.defs)):
                    return True
                if routes and _registers(routes, fi.strings):
                    return True
                if prose:
                    words = set(key_terms(" ".join(sorted(fi.tokens | fi.comment_tokens))))
                    if any(len(t & words) >= 2 for t in prose):
                        return True
        return False

    def _with_task_code(self, snapshot: Snapshot, f: fm_mod.FeatureDef, view: "_SnapshotView",
                        source: tuple[str, ...] = ()) -> fm_mod.FeatureDef:
        """A spec-kit feature with no folder of its name, or a feature the config gives no code: its
        code is the files its tasks name, else wherever in the source its requirements are implemented."""
        if f.code or not (f.source.startswith("spec-kit") or f.source == "config"):
            return f
        files, folders = [], []
        for s in f.spec:
            if not snapshot.available(s):
                continue
            for r in self.spec(snapshot, s).requirements:
                if r.kind is not Kind.TASK:
                    continue
                for a in r.anchors:  # a file or folder a task names, or the file it places a name in
                    p = a.value.rstrip("/") if a.kind is Kind.PATH else a.where if a.kind is Kind.SYMBOL else ""
                    if p in view.all_paths and posixpath.splitext(p)[1].lower() not in DOC_EXTENSIONS:
                        files.append(p)
                    elif p and p in view.dirs and a.kind is Kind.PATH:
                        folders.append(p)
        # a folder of its own (`examples/unix/`), not a top-level one ("create `src/`, `tests/`"), nor one
        # holding a file the tasks name (the file says where the work is)
        files += [d + "/**" for d in folders if "/" in d and not any(f.startswith(d + "/") for f in files)]
        if files:
            return replace(f, code=tuple(sorted(set(files))), scope="declared")
        return replace(f, code=source, scope="located") if source else f

    def needed_paths(self, snapshot: Snapshot, config: Config, features: Iterable[str],
                     glue_cap: int = 300) -> set[str]:
        """The files whose bytes evaluating ``features`` reads: their specs, code and tests, the
        ``wired_from`` places, tests named after them, and — up to ``glue_cap`` files — code that
        belongs to no feature (main packages, routers), which is where wiring usually lives.
        Files whose index the engine already holds need not be fetched and are left out."""
        view, ruleset, fmap = self._resolve(snapshot, config)
        wanted = set(features)
        need: set[str] = set()
        name_keys = {k for fid in wanted for k in _feature_test_keys(fid)}

        def files_of(f: fm_mod.FeatureDef) -> set[str]:
            return set(f.spec) | set(view.index.glob_many(f.code)) | set(view.index.glob_many(f.tests))

        # code that belongs to a feature: how many features claim each file (a located feature's globs
        # are where it looks, not code it owns), kept per feature map; the wanted features are then
        # counted again as they are now (their tasks may name code once their specs are read)
        hit = view.resolved.get(("claims", id(fmap)))
        if hit is None or hit[0] is not fmap:
            counts: dict[str, int] = {}
            for f in fmap.features:
                if f.scope != "located":
                    for p in files_of(f):
                        counts[p] = counts.get(p, 0) + 1
            hit = view.resolved[("claims", id(fmap))] = (fmap, counts)
        counts = hit[1]
        unclaimed: dict[str, int] = {}  # the wanted features' plain claims, taken back
        claimed_now: set[str] = set()
        for f in fmap.features:
            if f.id not in wanted:
                continue
            if f.scope != "located":
                for p in files_of(f):
                    unclaimed[p] = unclaimed.get(p, 0) + 1
            f = self._with_task_code(snapshot, f, view, fmap.source)  # needs the spec: call again once fetched
            files = files_of(f)
            if f.scope != "located":
                claimed_now |= files
            need |= files | set(view.index.glob_many(f.wired_from))

        def claimed(p: str) -> bool:
            return p in claimed_now or counts.get(p, 0) > unclaimed.get(p, 0)
        kinds = view.kinds(ruleset)
        for key in name_keys:
            need.update(kinds.tests_by_name.get(key, ()))
        # glue, in glue order: the files no feature claims, and those only the wanted features claimed
        free = view.resolved.get(("free", id(fmap), ruleset.key))
        if free is None or free[0] is not fmap:
            free = view.resolved[("free", id(fmap), ruleset.key)] = (
                fmap, [p for p in kinds.glue_order if not counts.get(p, 0)])
        order = kinds.glue_position()
        freed = sorted((p for p in unclaimed if p in order and counts.get(p, 0) <= unclaimed[p]), key=order.__getitem__)
        glue = 0
        for p in heapq.merge(free[1], freed, key=order.__getitem__):
            if glue >= glue_cap:
                break
            if not claimed(p):
                need.add(p)
                glue += 1
        if any(f.scope == "located" for f in fmap.features if f.id in wanted):
            need.update(kinds.infra)  # searched with the source
        specs = {s for f in fmap.features if f.id in wanted for s in f.spec}
        if wanted >= {f.id for f in fmap.features}:  # a full run re-checks the claims documents too
            need.update(fmap.claims)
            specs.update(fmap.claims)
        return {p for p in need if snapshot.entry(p) is not None and not self._spared(snapshot, p, ruleset)
                and (p in kinds.code or p in specs or dataindex.is_data(p) or p in kinds.infra)}

    # ---- one feature ----------------------------------------------------------------------
    def _feature(self, f: fm_mod.FeatureDef, specs: list[ParsedSpec], view: _SnapshotView, indexes, ruleset,
                 repo: RepoLookup, refs: "_RefIndex", named_tests: dict[str, list[str]], locate, config: Config,
                 waivers: dict[str, Waiver], read_small=None, programs=None, languages=frozenset(),
                 source: tuple[str, ...] = (), corpora: dict | None = None):
        spec_set = set(f.spec)
        files = [p for p in view.index.glob_many(f.code) if p not in spec_set]
        code_files = {p: indexes[p] for p in files if p in indexes and indexes[p].kind in ("code", "minified")}
        test_files = {p: fi for p, fi in code_files.items() if ruleset.is_test(p)}
        if f.tests:
            for p in view.index.glob_many(f.tests):
                if p in indexes and indexes[p].kind == "code":
                    test_files[p] = indexes[p]
        else:
            for key in _feature_test_keys(f.id):
                for p in named_tests.get(key, ()):
                    test_files.setdefault(p, indexes[p])
            # tests that import the feature's code cover it, wherever they live and whatever their name
            for p, _line in refs.test_importers(f, set(code_files)):
                test_files.setdefault(p, indexes[p])
        infra = {}
        mine: set[str] = set()  # a component's own folder: its files are its code
        if f.scope == "located":
            infra = {p: fi for p, fi in {**indexes, **repo.infra_files}.items()
                     if fi.lang == "infra" and not ruleset.is_test(p)}
            own = [g for g in f.code if g not in source]  # a component's folder: its files are its code
            mine = set(view.index.glob_many(tuple(own))) if own else set()
            infra = {p: fi for p, fi in infra.items() if p not in mine}
            code_files = {p: fi for p, fi in code_files.items() if p in mine or (fi.lang not in ("infra",) and
                          not (fi.lang == "data" and p in view.kinds(ruleset).infra))}
            test_files = {p: fi for p, fi in test_files.items() if p in code_files or fi.lang != "infra"}
        impl = {p: fi for p, fi in code_files.items() if p not in test_files}
        test_feature = not impl and any(ruleset.is_test(p) for p in code_files)
        if test_feature:  # a feature about the tests themselves (a test framework, fixtures): its code is tests
            impl = {p: fi for p, fi in code_files.items()}

        index_mod.keep_unpacked(len(impl) + len(test_files) + len(infra))  # read again for every name
        scope = Scope(f.id, impl, test_files, view.all_paths, view.dirs, view.basenames, repo, f.code_roots,
                      tuple(f.spec), locate, read_small, programs or {}, languages, test_code=test_feature,
                      located=f.scope == "located", infra=infra,
                      home=f.home if f.scope == "located" and mine else "", corpora=corpora,
                      dir_names=view.dir_names)

        def scenario_match(title: str):
            want = normalise_text(_split_camel(title))
            if not want:
                return None
            for p, fi in test_files.items():
                for s, line in fi.strings.items():
                    if want in normalise_text(_split_camel(s)):
                        return Evidence(p, line, "a test names this scenario")
                for tok in fi.tokens:
                    if len(tok) > 8 and want in normalise_text(_split_camel(tok)):
                        return Evidence(p, locate(p, tok), "a test is named after this scenario")
            return None

        # requirements
        reqs: list[Requirement] = []
        excluded = 0
        for ps in specs:
            ranges = [(a, b) for p, a, b in f.parts if p == ps.path]
            if ranges:  # a section feature: the requirements of its part of the document
                reqs.extend(r for r in ps.requirements if any(a <= r.line <= b for a, b in ranges))
            else:
                reqs.extend(ps.requirements)
                excluded += ps.excluded
        reqs = _number(reqs)
        scope.cited = _citations(reqs, {**impl, **test_files}, read_small)
        results = [evaluate_requirement(r, scope, scenario_match) for r in reqs]

        # signals
        located: tuple[tuple[str, int], ...] = ()
        if f.scope == "located":
            # the feature's code is what its requirements' evidence locates, not everything it searched
            hits = [next((e.path for e in r.evidence if e.path in impl), None) for r in results
                    if not r.planned and r.status in (Status.MET, Status.PARTIAL)]
            hits = [h for h in hits if h]
            located = _clusters(hits)
            # what the evidence locates, and a component's own code (a folder's README: the folder's files)
            impl = {p: impl[p] for p in dict.fromkeys(hits + sorted(p for p in mine if p in impl))}
            f_sig = replace(f, code=tuple(impl))
            test_files = {p: indexes[p] for p, _line in refs.test_importers(f_sig, set(impl))}
            for key in _feature_test_keys(f.id):
                for p in named_tests.get(key, ()):
                    test_files.setdefault(p, indexes[p])
            code_files = impl
        else:
            f_sig = f
        markers = tuple(Marker(p, ln, kind, text) for p, fi in sorted(impl.items()) for ln, kind, text in fi.markers)
        referenced, ref_count = refs.references(f_sig, set(code_files))
        wired_missing: list[str] = []
        for g in f.wired_from:
            rx = globs._compile(globs.normalise(g))
            if not any(rx.match(e.path) for e in referenced):
                wired_missing.append(g)
        entrypoint = any(_is_entrypoint(fi) for fi in impl.values())
        counts = {s.value: 0 for s in Status}
        counts["planned"] = 0
        for r in results:
            if r.planned:
                counts["planned"] += 1  # reported, never scored
            else:
                counts[r.status.value] += 1
        signals = Signals(
            code_files=len(impl), code_lines=sum(fi.lines for fi in impl.values()), test_files=len(test_files),
            tests=tuple(sorted(test_files)[:MAX_REFERENCE_EVIDENCE]),
            markers=markers, referenced_from=tuple(referenced[:MAX_REFERENCE_EVIDENCE]), referenced_count=ref_count,
            wired_from_missing=tuple(wired_missing), requirements=counts,
        )
        terms = _terms(signals, config, entrypoint, len(f.wired_from))
        align = score_alignment(terms)
        gaps = _gaps(f, results, signals, entrypoint, waivers, located=f.scope == "located")
        open_kinds = {g.kind for g in gaps if not g.waived}
        if align is None:
            finished = "unknown"
        elif not impl:
            finished = "no"
        elif align >= 90 and not open_kinds & {GapKind.MISSING, GapKind.CLAIMED_DONE, GapKind.NO_CODE}:
            finished = "yes"
        else:
            finished = "partly"
        verifiable = counts["met"] + counts["partial"] + counts["missing"]
        return FeatureResult(
            id=f.id, spec=tuple(f.spec), code=tuple(f.code),
            code_roots=tuple(d.rstrip("/") for d, _n in located) if f.scope == "located" else f.code_roots,
            source=f.source, alignment=align, band=score_band(align), finished=finished, signals=signals,
            terms=tuple(terms), requirements=tuple(results), gaps=tuple(gaps), excluded_requirements=excluded,
            scope=f.scope, document=f.document, section=f.section, located=located, located_of=verifiable,
            home=f.home, parts=tuple((a, b) for _p, a, b in f.parts),
        )


def _citations(reqs: list[Requirement], files: dict[str, FileIndex], read) -> dict[str, tuple[str, int]]:
    """Where the feature's code cites a requirement's ID (``# Implements FR-004``): ID -> (path, line)."""
    ids = {i for r in reqs for i in requirement_ids(r)}
    if not ids or read is None:
        return {}
    rx = re.compile(r"(?<![\w-])(" + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r")(?![\w-])")
    out: dict[str, tuple[str, int]] = {}
    for path in sorted(files)[:500]:
        text = read(path)
        if not text:
            continue
        for m in rx.finditer(text):
            out.setdefault(m.group(1), (path, text.count("\n", 0, m.start()) + 1))
        if len(out) == len(ids):
            break
    return out


_SECTION_MISSING = re.compile(r"❌|\bnot (?:yet )?(?:implemented|started|done|built)\b|\bmissing\b|\bgaps?\b|\btodo\b", re.I)
_SECTION_PARTIAL = re.compile(r"⚠|🚧|🟡|\bpartial(?:ly)?\b|\bin progress\b|\bframework ready\b", re.I)
_SECTION_DONE = re.compile(r"✅|\b(?:fully )?implemented\b|\bdone\b|\bcompleted?\b|\bshipped\b|\bdelivered\b", re.I)
MAX_CLAIMS_PER_DOCUMENT = 300


def _section_claim(section: str) -> str:
    """What the heading a claim sits under says: "✅ Fully implemented", "❌ Not implemented"."""
    last = section.rsplit(" › ", 1)[-1]
    if _SECTION_MISSING.search(last):
        return "missing"
    if _SECTION_PARTIAL.search(last):
        return "in-progress"
    if _SECTION_DONE.search(last):
        return "done"
    return ""


def _claim_items(ps: ParsedSpec) -> ParsedSpec | None:
    """The part of a claims document that says what is done or not: items with a status mark (a
    tick, a cross, a status cell) or under a heading that gives one. None when it has none."""
    items = []
    for r in ps.requirements:
        # an open box in a report is a step not taken (a test not run), not a claim the feature is missing
        claim = r.claim if r.claim in ("done", "missing", "in-progress") and r.checked is not False else \
            ("done" if r.checked else "" if r.checked is False else _section_claim(r.section))
        if claim in ("done", "missing", "in-progress"):
            items.append(replace(r, claim=claim, planned=False))
    if not items:
        return None
    return replace(ps, requirements=items[:MAX_CLAIMS_PER_DOCUMENT], warnings=[])


def _claim_check(r: RequirementResult) -> ClaimCheck:
    req = r.requirement
    where = _where(r.evidence)
    if r.status is Status.UNVERIFIABLE or r.confidence != "high":
        # a claim judged only by the words of a sentence neither confirms nor contradicts anything
        verdict, detail = "unverifiable", r.detail or r.confidence_reason or "nothing in it can be checked"
    elif req.claim == "done":
        verdict, detail = {Status.MET: ("confirmed", f"implemented at {where}"),
                           Status.PARTIAL: ("partial", r.detail or f"partly, at {where}"),
                           Status.MISSING: ("not-found", r.detail or "nothing implements it"),
                           }[r.status]
    else:  # claimed missing or in progress
        if r.status is Status.MET:
            verdict, detail = "implemented", f"implemented at {where}"
        else:
            verdict, detail = "confirmed", "not implemented yet" if r.status is Status.MISSING else \
                f"partly implemented ({where})"
    return ClaimCheck(req.spec_path, req.line, req.text, req.claim, r.status, verdict, r.evidence, detail)


def read_spec(path: str, data: bytes) -> ParsedSpec:
    """Parse one spec file's bytes, with a warning for what could not be read well."""
    dec = decode(data)
    if dec.binary:
        return ParsedSpec(path, warnings=[f"{path}: spec is binary, not text"])
    ps = parse_spec(path, dec.text)
    if dec.lossy:
        ps.warnings.append(f"{path}: invalid UTF-8 (read with replacement characters)")
    if not dec.text.strip():
        ps.warnings.append(f"{path}: spec is empty")
    return ps


def _programs(view: "_SnapshotView", read) -> dict[str, list[str]]:
    """Command-line programs the repository itself defines, by name, with the files that implement
    them: console scripts in pyproject.toml, "bin" in package.json, Go's cmd/<name>/, bin/ and
    scripts/ files named like a command."""
    out: dict[str, list[str]] = {}
    if "pyproject.toml" in view.all_paths:
        text = read("pyproject.toml")
        block = re.search(r"^\[project\.scripts\]\s*\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
        for m in re.finditer(r'^\s*"?([\w.-]+)"?\s*=\s*"([\w.]+)(?::\w+)?"', block.group(1) if block else "", re.M):
            mod = m.group(2).replace(".", "/")
            files = [p for p in (mod + ".py", mod + "/__init__.py", mod + "/__main__.py", "src/" + mod + ".py")
                     if p in view.all_paths]
            out[m.group(1)] = files or [mod]
    if "package.json" in view.all_paths:
        text = read("package.json")
        for m in re.finditer(r'"([\w.-]+)"\s*:\s*"(\.?/?[\w./-]+\.(?:m?js|cjs|ts))"', text):
            if m.group(2).lstrip("./") in view.all_paths:
                out.setdefault(m.group(1), [m.group(2).lstrip("./")])
    for d in view.dirs:
        if d.startswith("cmd/") and d.count("/") == 1:
            out.setdefault(d[4:], [p for p in view.paths if p.startswith(d + "/")][:20])
    if "go.mod" in view.all_paths:  # a Go program at the root is named after its module
        m = re.search(r"^module\s+(\S+)", read("go.mod"), re.M)
        mains = [p for p in view.paths if p.endswith(".go") and "/" not in p and not p.endswith("_test.go")]
        if m and mains:
            out.setdefault(m.group(1).rstrip("/").rsplit("/", 1)[-1], mains[:50])
    for p in view.paths:
        if p.startswith(("bin/", "scripts/")) and p.count("/") == 1:
            out.setdefault(posixpath.splitext(posixpath.basename(p))[0], [p])
    return out


def _is_entrypoint(fi: FileIndex) -> bool:
    """A program's entry point is reachable by definition: Go/Java main, Python __main__ guard."""
    if fi.lang in ("go", "java"):
        return "main" in fi.defs
    if fi.lang == "python":
        return "__main__" in fi.strings
    return False


def _number(reqs: list[Requirement]) -> list[Requirement]:
    out, n, used = [], 0, set()
    for r in reqs:
        rid = r.label if r.label and re.fullmatch(r"(FR|T)-?\d+", r.label) and r.label not in used else ""
        if not rid:
            n += 1
            rid = f"R{n}"
        used.add(rid)
        out.append(replace(r, id=rid))
    return out


def _split_camel(s: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", s)


class _NamedTests:
    """Test files by the names they carry (tests/test_auth.py and tests/auth/x_test.go → "auth"), so a
    feature finds the tests named after it in one lookup: those of the view that were indexed as code."""

    def __init__(self, by_name: dict[str, list[str]], indexes: dict[str, FileIndex]):
        self._by_name, self._indexes = by_name, indexes

    def get(self, name: str, default=()) -> list[str]:
        found = [p for p in self._by_name.get(name, ()) if (fi := self._indexes.get(p)) is not None and fi.kind == "code"]
        return found or default


def _test_name_keys(path: str) -> set[str]:
    """The names a test file carries: its stem without test affixes, and its folders."""
    stem = posixpath.splitext(posixpath.splitext(posixpath.basename(path))[0])[0]
    names = {fm_mod.norm_name(_TEST_AFFIX.sub("", stem))} | {fm_mod.norm_name(d) for d in path.split("/")[:-1]}
    return {n for n in names if n}


def _feature_test_keys(feature_id: str) -> tuple[str, ...]:
    """Test names that belong to a feature: its id, and the singular of a plural id (agents → agent)."""
    key = fm_mod.norm_name(feature_id)
    return (key, key[:-1]) if key.endswith("s") and len(key) > 1 else (key,)


class _RefIndex:
    """Who imports what: resolved import targets of every non-test code file."""

    def __init__(self, indexes: dict[str, FileIndex], is_test):
        self.by_segment: dict[str, list[tuple[str, bool, str, int]]] = {}
        self.tests_by_segment: dict[str, list[tuple[str, bool, str, int]]] = {}
        self._seen, self._is_test, self.serial = dict(indexes), is_test, 0
        for path, fi in indexes.items():
            if fi.kind != "code" or not fi.refs:
                continue
            into = self.tests_by_segment if is_test(path) else self.by_segment
            for seg, item in self._entries(path, fi):
                into.setdefault(seg, []).append(item)

    def update(self, indexes: dict[str, FileIndex], changed: list[str]) -> None:
        """Follow ``changed`` paths to their indexes in ``indexes`` (the others are as they were)."""
        for path in changed:
            old, new = self._seen.get(path), indexes.get(path)
            if old is new:
                continue
            for fi, add in ((old, False), (new, True)):
                if fi is None or fi.kind != "code" or not fi.refs:
                    continue
                into = self.tests_by_segment if self._is_test(path) else self.by_segment
                for seg, item in self._entries(path, fi):
                    if add:
                        into.setdefault(seg, []).append(item)
                    else:
                        into[seg] = [x for x in into.get(seg, ()) if x[2] != path]
                        if not into[seg]:
                            del into[seg]
            if new is None:
                self._seen.pop(path, None)
            else:
                self._seen[path] = new

    @staticmethod
    def _entries(path: str, fi: FileIndex):
        for ref in fi.refs:
            target, relative = resolve_ref(ref, path)
            for seg in set(target.split("/")):
                yield seg, (target, relative, path, ref.line)

    def test_importers(self, f: fm_mod.FeatureDef, own: set[str]) -> list[tuple[str, int]]:
        """Test files that import the feature's code: (path, line)."""
        return [(e.path, e.line) for e in self.references(f, own, self.tests_by_segment)[0]]

    def references(self, f: fm_mod.FeatureDef, own: set[str], index=None) -> tuple[list[Evidence], int]:
        index = self.by_segment if index is None else index
        found: dict[str, Evidence] = {}
        for root in f.code_roots:
            root_noext = posixpath.splitext(root)[0]
            tail = _tail(root_noext)
            if not tail:
                continue
            last = tail.split("/")[-1]
            for target, relative, importer, line in index.get(last, ()):
                if importer in own or importer in found:
                    continue
                if relative:
                    ok = target == root_noext or target.startswith(root_noext + "/")
                else:
                    ok = f"/{tail}/" in f"/{target}/"
                if ok:
                    found[importer] = Evidence(importer, line, f"imports {target}")
        ev = sorted(found.values(), key=lambda e: e.path)
        return ev, len(ev)


_SOURCE_ROOTS = ("src/main/java/", "src/main/kotlin/", "src/test/java/", "src/", "lib/")


def _tail(root: str) -> str:
    """The part of a folder path that import statements name: drop source roots like src/main/java."""
    for prefix in _SOURCE_ROOTS:
        if root.startswith(prefix) and len(root) > len(prefix):
            return root[len(prefix):]
    return root


def _terms(s: Signals, config: Config, entrypoint: bool, wired_from: int) -> list[ScoreTerm]:
    w = config.weights
    has_code = s.code_files > 0
    req = s.requirements
    verifiable = req["met"] + req["partial"] + req["missing"]
    terms = []
    if verifiable:
        v = (req["met"] + 0.5 * req["partial"]) / verifiable
        terms.append(ScoreTerm("requirements", w["requirements"], v, True,
                               f"{req['met']} met + ½ × {req['partial']} partial of {verifiable} verifiable"))
    else:
        terms.append(ScoreTerm("requirements", w["requirements"], 0.0, False,
                               "no verifiable requirement (weight not applied)"))
    terms.append(ScoreTerm("code", w["code"], 1.0 if has_code else 0.0, True,
                           f"{_n(s.code_files, 'code file')}, {s.code_lines:,} lines" if has_code else "no code found"))
    terms.append(ScoreTerm("tests", w["tests"], 1.0 if s.test_files else 0.0, True,
                           _n(s.test_files, "test file") if s.test_files else "no test file"))
    if has_code:
        stubs = sum(1 for m in s.markers if m.kind == "stub")
        notes = len(s.markers) - stubs
        v = max(0.0, 1 - config.marker_cost * (notes + 2 * stubs))
        expl = (f"{_n(notes, 'TODO-style marker')} and {_n(stubs, 'stub')}, {config.marker_cost:g} each (stubs count twice)"
                if notes or stubs else "no TODO-style marker or stub")
        terms.append(ScoreTerm("markers", w["markers"], v, True, expl))
    else:
        terms.append(ScoreTerm("markers", w["markers"], 0.0, False, "no code (weight not applied)"))
    if not has_code:
        terms.append(ScoreTerm("wiring", w["wiring"], 0.0, True, "no code to wire"))
    elif wired_from:
        ok = wired_from - len(s.wired_from_missing)
        terms.append(ScoreTerm("wiring", w["wiring"], ok / wired_from, True,
                               f"referenced from {ok} of {wired_from} required place(s) (wired_from)"))
    elif s.referenced_count or entrypoint:
        terms.append(ScoreTerm("wiring", w["wiring"], 1.0, True,
                               f"referenced from {_n(s.referenced_count, 'file')} outside the feature"
                               if s.referenced_count else "an entry point (main)"))
    else:
        terms.append(ScoreTerm("wiring", w["wiring"], 0.0, True, "nothing outside the feature references it"))
    return terms


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _clusters(paths: list[str], share: float = 0.6) -> tuple[tuple[str, int], ...]:
    """Where a located feature's evidence lies: the deepest folder holding ``share`` of it, else the
    few folders holding most of it — as (folder/, how many requirements' evidence is in it)."""
    if not paths:
        return ()
    n = len(paths)
    counts: dict[str, int] = {}
    for p in paths:
        d = posixpath.dirname(p)
        while True:
            counts[d] = counts.get(d, 0) + 1
            if not d:
                break
            d = posixpath.dirname(d)
    best = max((d for d, c in counts.items() if c >= share * n and d),
               key=lambda d: (d.count("/"), counts[d]), default=None)
    if best is not None:
        return ((best + "/", counts[best]),)
    direct: dict[str, int] = {}
    for p in paths:
        d = posixpath.dirname(p)
        direct[d] = direct.get(d, 0) + 1
    top = sorted(direct.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return tuple(((d + "/") if d else "./", c) for d, c in top)


def _gaps(f: fm_mod.FeatureDef, results: list[RequirementResult], s: Signals, entrypoint: bool,
          waivers: dict[str, Waiver], located: bool = False) -> list[Gap]:
    gaps: list[Gap] = []

    def add(kind: GapKind, anchor: str, message: str, req: Requirement | None = None, path=None, line=None,
            marker: str = "", confidence: str = "high"):
        fp = fingerprint(f.id, kind.value, anchor)
        if any(g.fingerprint == fp for g in gaps):
            return  # the same gap named twice in the spec
        w = waivers.get(fp)
        gaps.append(Gap(fp, kind, f.id, message, req.id if req else None,
                        path if path is not None else (req.spec_path if req else None),
                        line if line is not None else (req.line if req else None),
                        waived=w is not None, waiver_reason=w.reason if w else "", marker=marker,
                        confidence=confidence))

    for r in results:
        req = r.requirement
        anchor = "|".join(sorted(a.norm for a in req.anchors)) or req.label.lower() or normalise_text(req.text)
        what = _what(req)
        conf = r.confidence
        if r.status is Status.UNVERIFIABLE:
            continue
        if req.planned:
            if r.status is Status.MET and conf == "high" and req.checked is not False:
                # reported, not filed: a draft design implemented in full would otherwise file one issue a line
                add(GapKind.STALE_SPEC, anchor, f"{what} is listed as planned, but it is implemented ahead of plan "
                    f"({_where(r.evidence)}): mark it done", req, confidence="low")
            elif r.status is Status.MET and req.checked is False and conf == "high":
                add(GapKind.STALE_SPEC, anchor, f"{what} is still an open item, but it exists "
                    f"({_where(r.evidence)}): check the box", req)
            continue
        if req.checked is True and r.status is Status.MISSING:
            add(GapKind.CLAIMED_DONE, anchor, f"{what} is checked as done, but {r.detail or 'nothing implements it'}",
                req, confidence=conf)
        elif req.claim == "done" and r.status is Status.MISSING:
            add(GapKind.CLAIMED_DONE, anchor, f"{what} is marked done, but {r.detail or 'nothing implements it'}",
                req, confidence=conf)
        elif r.status is Status.MISSING:
            done = "is not done" if req.removal else "is not implemented"
            add(GapKind.MISSING, anchor, f"{what} {done}: {r.detail or 'nothing found'}", req, confidence=conf)
        elif r.status is Status.PARTIAL:
            why = r.detail or (f"the closest code is {_where(r.evidence)}" if r.evidence else "some of it is missing")
            add(GapKind.PARTIAL, anchor, f"{what} is only partly implemented: {why}", req, confidence=conf)
    if located:
        # the code is what the requirements located: shared with other features, so what is said of it
        # here (tests, markers) is shown, never filed; wiring is not judged
        verifiable = s.requirements["met"] + s.requirements["partial"] + s.requirements["missing"]
        if s.code_files == 0 and verifiable:
            line = min((r.requirement.line for r in results), default=1)
            add(GapKind.NO_CODE, "", "no code implements this spec: "
                + ("its one checkable requirement is" if verifiable == 1 else
                   f"none of its {verifiable} checkable requirements is") + " implemented anywhere in the source",
                path=f.spec[0] if f.spec else None, line=line if f.parts else 1)
        elif s.code_files:
            if s.test_files == 0:
                add(GapKind.NO_TESTS, "", "no test file imports the code its requirements locate", confidence="low")
            for m in s.markers:
                add(GapKind.MARKER, f"{m.path}|{normalise_text(m.text)}",
                    _marker_message(m),
                    path=m.path, line=m.line, marker=m.kind, confidence="low")
        return gaps
    if s.code_files == 0:
        add(GapKind.NO_CODE, "", "no code implements this spec"
            + (f" (nothing matches {', '.join(f.code)})" if f.code else " (no code folder of the same name)"),
            path=f.spec[0] if f.spec else None, line=1 if f.spec else None)
    else:
        if s.test_files == 0:
            add(GapKind.NO_TESTS, "", f"no test file covers {', '.join(f.code_roots) or f.id}")
        for m in s.markers:
            add(GapKind.MARKER, f"{m.path}|{normalise_text(m.text)}",
                _marker_message(m),
                path=m.path, line=m.line, marker=m.kind)
        if s.wired_from_missing:
            for g in s.wired_from_missing:
                add(GapKind.NOT_WIRED, g, f"nothing under {g} references the feature's code")
        elif not s.referenced_count and not entrypoint:
            add(GapKind.NOT_WIRED, "", "no code outside the feature references it: it may be unreachable")
    return gaps


def _what(req: Requirement) -> str:
    if req.label and req.kind in (Kind.FR, Kind.TASK):
        return req.label
    if req.kind in (Kind.SCENARIO, Kind.OPENSPEC_SCENARIO):
        return f"scenario “{req.label}”"
    if req.kind is Kind.OPENSPEC_REQUIREMENT:
        return f"requirement “{req.label}”"
    if req.kind is Kind.PROSE or not req.anchors:
        return f"“{_clip_words(req.text, 60)}”"
    if len(req.anchors) == 1:
        return f"`{req.anchors[0].value}`"
    if req.anchors:
        return ", ".join(f"`{a.value}`" for a in req.anchors[:3]) + ("…" if len(req.anchors) > 3 else "")
    return f"“{req.text[:60]}”"


def _clip_words(text: str, n: int) -> str:
    text = text.replace("`", "")
    if len(text) <= n:
        return text
    cut = text[:n].rsplit(" ", 1)[0]
    return cut + "…"


def _marker_message(m: Marker) -> str:
    """A marker gap's message: the note as the code has it, its spacing collapsed (a line's alignment
    is not part of what it says), with its kind when the note does not say it."""
    text = " ".join(m.text.split())
    return text if m.kind.upper() in text.upper() else f"{m.kind}: {text}"


def _where(ev) -> str:
    return ", ".join(f"{e.path}:{e.line}" if e.line else e.path for e in ev[:2]) or "found"
