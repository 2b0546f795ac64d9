"""The repository-wide lookup: where the wanted names, routes and prose terms occur, in one pass.

A feature's own code is searched first; this is the rest of the repository. It is built from the
files' indexes for what the analysis wants (``Wanted``) and answers in file order, keeping at most a
few hits of each kind per name, so a name used in hundreds of files cannot crowd out the one file
that defines it.

An engine keeps the lookup of its last analysis and brings it up to date (``RepoLookup.update``)
when the next one differs by a few files, as a pull request's head differs from its base: the
hits of the changed files are taken out and put back in file order; where a name's hits had been
cut at the limit, the files after the change are read again as far as the cut kinds need. The result
is the same as a lookup built afresh for those files; the cost follows the change, not the
repository's size.
"""
from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import retrieval
from .index import FileIndex, norm_route

NAME_CAP = 25  # hits of one kind kept per name
CLASS_CAP = 10  # definitions kept per class name
TERM_WHERE = 20  # files kept per prose term
MAX_ROUTES = 20_000  # registered routes kept (for near-miss suggestions)
_CAPPED = {"names": NAME_CAP, "infra_set": NAME_CAP, "infra_strings": NAME_CAP, "classes": CLASS_CAP}
_ORDERED = ("routes", "prefixed", "mounts")  # every hit kept, in file order


@dataclass
class Hit:
    path: str
    line: int
    how: str  # defined, string, used, comment, doc, test, route
    name: str = ""
    symbol: object = None  # the index's Symbol, where the index has one
    was: str = ""  # for a hit in a test file: what it is there (defined, string, used)


@dataclass
class Wanted:
    names: set[str] = field(default_factory=set)
    routes: set[str] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    def within(self, other: "Wanted") -> bool:
        return self.names <= other.names and self.routes <= other.routes and self.terms <= other.terms and \
            self.prefixes <= other.prefixes

    def union(self, other: "Wanted") -> "Wanted":
        return Wanted(self.names | other.names, self.routes | other.routes, self.terms | other.terms,
                      self.prefixes | other.prefixes)


def _first_of_each(hits: list, cap: int) -> list:
    """The first ``cap`` hits of each kind, in order: what a fresh build keeps."""
    seen: dict[str, int] = {}
    kept = []
    for h in hits:
        seen[h.how] = seen.get(h.how, 0) + 1
        if seen[h.how] <= cap:
            kept.append(h)
    return kept


def _symbols(fi: FileIndex):
    return getattr(fi, "symbols", ()) or ()


def _refnames(fi: FileIndex):
    """The names a file refers to (for ``referenced``: where each wanted name is used)."""
    refs = getattr(fi, "refnames", None)
    return refs if refs is not None else fi.tokens


def _any_refs(fi: FileIndex):
    """The names a file refers to, for ``is_referenced`` (a file that names none: its identifiers)."""
    return getattr(fi, "refnames", None) or fi.tokens


class RepoLookup:
    """Repository-wide occurrences of the wanted names, routes and prose terms. Every list is in file
    order; the tables are read by key, except ``classes``, which is kept in one order (where each class
    is first defined) however the lookup came about."""

    def __init__(self, wanted: Wanted, files: dict[str, FileIndex], is_test, lookup_only=frozenset()):
        self.wanted = Wanted(set(wanted.names), set(wanted.routes), set(wanted.terms), set(wanted.prefixes))
        self._is_test = is_test
        self.serial = 0  # the engine's mark of the indexes it reflects
        self._build(files, frozenset(lookup_only))

    # ---- building ------------------------------------------------------------------------------
    def _build(self, files: dict[str, FileIndex], lookup_only: frozenset) -> None:
        self.names: dict[str, list[Hit]] = {}
        self.routes: dict[str, list[tuple[str | None, Hit]]] = {}
        self.prefixed: dict[str, list[tuple[str | None, Hit]]] = {}  # route prefix -> routes under it
        self.mounts: dict[str, list[tuple[None, Hit]]] = {}  # route prefix -> routers mounted there (non-test)
        self.referenced: dict[str, set[str]] = {}  # name -> non-test files that reference it
        self.term_df: dict[str, int] = {}
        self.term_where: dict[str, list[str]] = {}
        self.code_files = 0
        self.registered_routes: list[tuple[str | None, str, Hit]] = []
        self.routes_by_last: dict[str, list[tuple[str | None, str, Hit]]] = {}  # last path segment -> routes
        self.routes_by_len: dict[int, list[tuple[str | None, str, Hit]]] = {}  # segment count -> routes
        self.classes: dict[str, list[Hit]] = {}  # lower-cased class name -> where it is defined (non-test code)
        self.data_paths: set[str] = set()  # configuration and infrastructure files
        self.infra_set: dict[str, list[Hit]] = {}  # name -> infrastructure files that set it
        self.infra_strings: dict[str, list[Hit]] = {}  # bare path -> infrastructure files that name it
        self._lookup_only = lookup_only
        self.infra_files = {p: files[p] for p in sorted(lookup_only)}
        self._files = {p: fi for p, fi in files.items() if p not in lookup_only}
        self._state = {**self._files, **self.infra_files}  # every file, in the order they are read
        self._paths = list(self._state)
        self._order = {p: i for i, p in enumerate(self._paths)}
        self._over: set[tuple[str, str]] = set()  # (table, key) whose hits were cut at the limit
        self._route_count = 0  # registered (non-test) routes, uncut
        self._imports = None
        self._means: dict[str, list[str]] = {}  # a word of the code -> the wanted terms it normalises to
        self._vocab: set[str] = set()  # the words whose meaning is worked out
        # how many non-test code files refer to each name (``is_referenced``), counted in the same pass:
        # an index read back from the cache unpacks its names when first read, so any later pass over
        # every file (a second one here, or a recount when a change drops a reference) costs again
        self._refs = refs = Counter()
        for path, fi in self._state.items():
            for table, key, item in self._hits(path, fi, self.wanted):
                self._put(table, key, item)
            if self._reads_words(path, fi):
                # each distinct word of the repository is normalised once (``_learn`` remembers it); a
                # file holds a term through its words, which are not kept (a repository's would add up)
                ws = retrieval.file_words(fi, path)
                self._learn(ws)
                for t in self._terms_of(ws):
                    self.term_df[t] = self.term_df.get(t, 0) + 1
                    lst = self.term_where.setdefault(t, [])
                    if len(lst) < TERM_WHERE:
                        lst.append(path)
            if fi.kind == "code" and path not in lookup_only and not self._is_test(path):
                refs.update(_any_refs(fi))
        self._sort_classes()

    def _sort_classes(self) -> None:
        """Classes in the order of where each is first defined (file order, then line): the order they
        are tried in when a method's owner is looked for, the same however the lookup came about."""
        order = self._order
        self.classes = dict(sorted(self.classes.items(),
                                   key=lambda kv: (order[kv[1][0].path], kv[1][0].line, kv[0])))

    def _place_classes(self, keys: set[str]) -> None:
        """Put the classes ``keys`` back in their places, the others being in order already (a change
        moves the few classes its file defines; sorting them all would cost as the repository grows)."""
        order = self._order

        def rank(kv):
            return order[kv[1][0].path], kv[1][0].line, kv[0]
        items = [kv for kv in self.classes.items() if kv[0] not in keys]
        for key in sorted(keys):
            hits = self.classes.get(key)
            if hits:
                kv = (key, hits)
                items.insert(bisect.bisect_left(items, rank(kv), key=rank), kv)
        self.classes = dict(items)

    def _reads_words(self, path: str, fi: FileIndex) -> bool:
        return bool(self.wanted.terms) and fi.kind == "code" and path not in self._lookup_only and \
            not self._is_test(path)

    def _learn(self, words) -> None:
        terms = self.wanted.terms
        for w in words:
            if w in self._vocab:
                continue
            self._vocab.add(w)
            found = [t for t in retrieval.identifier_terms(w) if t in terms]
            if found:
                self._means[w] = found

    def _terms_of(self, ws: frozenset) -> set[str]:
        held = ws & self._means.keys()
        return {t for w in held for t in self._means[w]} if held else set()

    def _hits(self, path: str, fi: FileIndex, want: Wanted, classes=True):
        """What one file adds to the lookup: (table, key, item), in the order it is added."""
        out = []
        names, routes, prefixes = want.names, want.routes, want.prefixes
        if fi.kind == "doc":
            for n in names & fi.tokens:
                out.append(("names", n, Hit(path, 0, "doc", n)))
            return out
        only = path in self._lookup_only
        if fi.kind != "code" or (only and fi.lang != "infra"):
            return out  # a YAML file read to see whether it is a manifest, and it is not: ordinary data
        if fi.lang in ("data", "infra"):
            out.append(("data", path, None))
        if fi.lang == "infra":
            for n in names & fi.defs.keys():
                out.append(("infra_set", n, Hit(path, fi.defs[n], "set", n)))
            for n in names & fi.strings.keys():
                out.append(("infra_set", n, Hit(path, fi.strings[n], "set", n)))
            for s_, line in fi.strings.items():
                if s_.startswith("/") and norm_route(s_) in prefixes:
                    out.append(("infra_strings", norm_route(s_), Hit(path, line, "set", s_)))
            if only:
                return out
        test = self._is_test(path)
        if not test:
            out.append(("code", path, None))
        if names:
            syms = _symbols(fi)
            if syms:
                for s in syms:
                    if s.name in names:
                        out.append(("names", s.name, Hit(path, s.line, "test" if test else "defined", s.name, s,
                                                         "defined")))
                    if classes and s.kind in ("class", "struct", "interface", "trait") and not test:
                        out.append(("classes", s.name.lower(), Hit(path, s.line, "defined", s.name, s)))
            else:
                for n in names & fi.defs.keys():
                    out.append(("names", n, Hit(path, fi.defs[n], "test" if test else "defined", n)))
            for n in names & fi.strings.keys():
                out.append(("names", n, Hit(path, fi.strings[n], "test" if test else "string", n, None, "string")))
            for n in names & fi.tokens:
                out.append(("names", n, Hit(path, 0, "test" if test else "used", n, None, "used")))
            for n in names & fi.comment_tokens:
                out.append(("names", n, Hit(path, 0, "comment", n)))
            if not test:
                for n in names & _refnames(fi):
                    out.append(("referenced", n, path))
        if routes or prefixes:
            for r in fi.routes:
                hit = Hit(path, r.line, "test" if test else "route")
                if r.norm in routes:
                    out.append(("routes", r.norm, (r.method, hit)))
                if prefixes:  # every leading part of the route: /api, /api/v1, /api/v1/users …
                    segs = r.norm.split("/")
                    for i in range(2, len(segs) + 1):
                        p = "/".join(segs[:i])
                        if p in prefixes:
                            out.append(("prefixed", p, (r.method, hit)))
                if not test:
                    out.append(("registered", None, (r.method, r.norm, hit)))
            if not test:
                for norm, line in fi.mounts:
                    out.append(("mounts", norm, (None, Hit(path, line, "mount"))))
        return out

    def _put(self, table: str, key, item) -> None:
        if table in _CAPPED:
            lst = getattr(self, table).setdefault(key, [])
            cap = _CAPPED[table]
            if sum(1 for h in lst if h.how == item.how) < cap:
                lst.append(item)
            else:
                self._over.add((table, key))
        elif table in _ORDERED:
            getattr(self, table).setdefault(key, []).append(item)
        elif table == "referenced":
            self.referenced.setdefault(key, set()).add(item)
        elif table == "registered":
            self._route_count += 1
            if len(self.registered_routes) < MAX_ROUTES:
                method, norm, hit = item
                self.registered_routes.append(item)
                segs = norm.strip("/").split("/")
                self.routes_by_last.setdefault(segs[-1], []).append(item)
                self.routes_by_len.setdefault(len(segs), []).append(item)
        elif table == "code":
            self.code_files += 1
        elif table == "data":
            self.data_paths.add(key)

    # ---- keeping up with a change --------------------------------------------------------------
    def update(self, wanted: Wanted, files: dict[str, FileIndex], lookup_only: frozenset,
               changed: list[str] | None = None) -> bool:
        """Bring the lookup to ``files`` (the same paths, in the same order, some with new indexes);
        ``changed``: the paths that may differ from what the lookup holds, when the caller knows.
        False when it cannot: other paths, or names it was not built for (build a new one then)."""
        if not wanted.within(self.wanted) or lookup_only != self._lookup_only or len(files) != len(self._state):
            return False
        if changed is not None and all((p in files) == (p in self._state) for p in changed):
            changed = [p for p in changed if p in files and files[p] is not self._state[p]]
        elif list(files) != self._paths:
            return False
        else:
            changed = [p for p, fi in files.items() if fi is not self._state[p]]
        if len(changed) > max(50, len(files) // 20):
            self._build(files, lookup_only)  # a big change: cheaper to start over
            return True
        moved: set[str] = set()
        for p in changed:
            moved |= self._replace(p, files[p])
        if moved:
            self._place_classes(moved)
        return True

    def _pos(self, items: list, path: str, at=lambda x: x.path) -> int:
        """Where ``path``'s items go in a list kept in file order."""
        k = self._order[path]
        order = self._order
        return bisect.bisect_left(items, k, key=lambda x: order[at(x)])

    def _replace(self, path: str, new: FileIndex) -> set[str]:
        """Take ``path``'s hits out and put its new ones in; the classes whose place may have changed."""
        old = self._state[path]
        old_hits, new_hits = self._hits(path, old, self.wanted), self._hits(path, new, self.wanted)
        self._state[path] = new
        if path in self._lookup_only:
            self.infra_files[path] = new
        else:
            self._files[path] = new
        fresh: dict[tuple[str, object], list] = {}
        for table, key, item in new_hits:
            fresh.setdefault((table, key), []).append(item)
        touched = dict.fromkeys([(t, k) for t, k, _ in old_hits] + list(fresh))
        first = {k: (h[0].path, h[0].line) if (h := self.classes.get(k)) else None for t, k in touched if t == "classes"}
        for table, key in touched:
            items = fresh.get((table, key), [])
            if table in _CAPPED:
                if (table, key) in self._over:
                    self._refill(table, key, path, items)
                else:
                    self._splice(table, key, path, items, _CAPPED[table])
            elif table in _ORDERED:
                self._splice(table, key, path, items, None, at=lambda x: x[1].path)
            elif table == "referenced":
                if items:
                    self.referenced.setdefault(key, set()).add(path)
                elif key in self.referenced:
                    self.referenced[key].discard(path)
                    if not self.referenced[key]:
                        del self.referenced[key]
            elif table == "code":
                self.code_files += (1 if items else 0) - (1 if any(t == "code" for t, _, _ in old_hits) else 0)
            elif table == "data":
                (self.data_paths.add if items else self.data_paths.discard)(path)
        regs = [x for t, _, x in new_hits if t == "registered"]
        gone = sum(1 for t, _, _ in old_hits if t == "registered")
        if regs or gone:
            self._route_count += len(regs) - gone
            if self._route_count >= MAX_ROUTES or self._route_count - len(regs) + gone >= MAX_ROUTES:
                self._rebuild_routes()
            else:
                self._splice_routes(path, regs)
        self._words_changed(path, old, new)
        self._refs_changed(old, new, path)
        # a class is in its place unless its first definition moved or it is new (a removed one leaves
        # the others in order)
        return {k for k, was in first.items()
                if (h := self.classes.get(k)) and (h[0].path, h[0].line) != was}

    def _spliced(self, items, path: str, new: list, at=lambda x: x.path) -> list:
        """``items`` (in file order) with ``path``'s replaced by ``new``, in its place."""
        out = [x for x in items if at(x) != path]
        if new:
            i = self._pos(out, path, at)
            out[i:i] = new
        return out

    @staticmethod
    def _store(d: dict, key, items: list) -> None:
        if items:
            d[key] = items
        else:
            d.pop(key, None)

    def _splice(self, table: str, key, path: str, items: list, cap: int | None, at=lambda x: x.path) -> None:
        d = getattr(self, table)
        lst = self._spliced(d.get(key, ()), path, items, at)
        if cap is not None:  # keep the first `cap` of each kind, as a fresh build would
            kept = _first_of_each(lst, cap)
            if len(kept) < len(lst):
                self._over.add((table, key))
            lst = kept
        self._store(d, key, lst)

    def _splice_routes(self, path: str, regs: list) -> None:
        at = lambda x: x[2].path  # noqa: E731
        self.registered_routes = self._spliced(self.registered_routes, path, regs, at)
        for d, key_of in ((self.routes_by_last, lambda x: x[1].strip("/").split("/")[-1]),
                          (self.routes_by_len, lambda x: len(x[1].strip("/").split("/")))):
            keys = {key_of(x) for x in regs} | {k for k, v in d.items() if any(at(x) == path for x in v)}
            for k in keys:
                self._store(d, k, self._spliced(d.get(k, ()), path, [x for x in regs if key_of(x) == k], at))

    def _rebuild_routes(self) -> None:
        self.registered_routes, self.routes_by_last, self.routes_by_len = [], {}, {}
        self._route_count = 0
        only_routes = Wanted(routes={"\0"})  # the routes of every file, nothing else
        for path, fi in self._state.items():
            for table, key, item in self._hits(path, fi, only_routes, classes=False):
                if table == "registered":
                    self._put(table, key, item)

    def _refill(self, table: str, key, path: str, items: list) -> None:
        """A list that was cut at the limit, with ``path``'s hits replaced by ``items``: the hits before
        ``path`` stay; after it, the files are read again only until the kinds of hit that were cut
        have their fill (the other kinds' hits are all in the list already)."""
        cap = _CAPPED[table]
        d, order = getattr(self, table), self._order
        k = order[path]
        old = d.get(key, [])
        counts: dict[str, int] = {}
        for h in old:
            counts[h.how] = counts.get(h.how, 0) + 1
        cut = {how for how, n in counts.items() if n >= cap}  # kinds with hits beyond the list, maybe
        seq = [h for h in old if order[h.path] < k]
        have: dict[str, int] = {}
        for h in seq:
            have[h.how] = have.get(h.how, 0) + 1
        cut_before = any(n >= cap for n in have.values())  # hits of that kind may lie unkept before the file
        seq += items
        for h in items:
            have[h.how] = have.get(h.how, 0) + 1
        if table == "infra_strings":
            want = Wanted(prefixes={key})
        else:
            want = Wanted(names={key} if table != "classes" else {"\0"})  # classes come with any name
        stopped = k + 1
        for q in self._paths[k + 1:]:
            if all(have.get(how, 0) >= cap for how in cut):
                break
            stopped += 1
            for t, kk, h in self._hits(q, self._state[q], want, classes=table == "classes"):
                if t == table and kk == key:
                    seq.append(h)
                    have[h.how] = have.get(h.how, 0) + 1
        else:
            stopped = len(self._paths)
        seq += [h for h in old if order[h.path] >= stopped and h.how not in cut]
        kept = _first_of_each(seq, cap)
        if len(kept) < len(seq) or stopped < len(self._paths) or cut_before:
            self._over.add((table, key))
        else:
            self._over.discard((table, key))
        self._store(d, key, kept)

    def _words_changed(self, path: str, old: FileIndex, new: FileIndex) -> None:
        if not self.wanted.terms:
            return
        before = self._terms_of(retrieval.file_words(old, path)) if self._reads_words(path, old) else set()
        after: set[str] = set()
        if self._reads_words(path, new):
            ws = retrieval.file_words(new, path)
            self._learn(ws)
            after = self._terms_of(ws)
        k = self._order[path]
        for t in before - after:
            self.term_df[t] -= 1
            where = self.term_where.get(t, [])
            if path in where:
                where.remove(path)
                if self.term_df[t] >= TERM_WHERE:  # the next file that holds it, after the last one listed
                    start = self._order[where[-1]] + 1 if where else 0
                    for q in self._paths[start:]:
                        fi = self._state[q]
                        if self._reads_words(q, fi) and t in self._terms_of(retrieval.file_words(fi, q)):
                            where.append(q)
                            break
            if not self.term_df[t]:
                del self.term_df[t]
                self.term_where.pop(t, None)
        for t in after - before:
            self.term_df[t] = self.term_df.get(t, 0) + 1
            where = self.term_where.setdefault(t, [])
            if len(where) < TERM_WHERE or k < self._order[where[-1]]:
                where.insert(bisect.bisect_left(where, k, key=self._order.__getitem__), path)
                del where[TERM_WHERE:]

    def _refs_changed(self, old: FileIndex, new: FileIndex, path: str) -> None:
        counted = path not in self._lookup_only and not self._is_test(path)
        old_refs = _any_refs(old) if counted and old.kind == "code" else frozenset()
        new_refs = _any_refs(new) if counted and new.kind == "code" else frozenset()
        refs = self._refs
        refs.update(new_refs - old_refs)
        for name in old_refs - new_refs:
            if refs[name] > 1:
                refs[name] -= 1
            else:
                refs.pop(name, None)
        if self._imports is not None:
            from .index import resolve_ref
            before = {resolve_ref(r, path)[0] for r in old.refs} if counted and old.kind == "code" else set()
            after = {resolve_ref(r, path)[0] for r in new.refs} if counted and new.kind == "code" else set()
            if before <= after:
                self._imports |= after
            else:
                self._imports = None  # worked out again when next asked

    # ---- questions -----------------------------------------------------------------------------
    def is_imported(self, path: str) -> bool:
        """Does any non-test code import the module at ``path`` (by its dotted path, a relative
        import, or ``from package import module``)?"""
        import posixpath

        from .index import resolve_ref
        if self._imports is None:
            targets: set[str] = set()
            for p, fi in self._files.items():
                if fi.kind == "code" and not self._is_test(p):
                    for ref in fi.refs:
                        targets.add(resolve_ref(ref, p)[0])
            self._imports = targets
        mod = posixpath.splitext(path)[0]
        parts = mod.split("/")
        tails = {"/".join(parts[i:]) for i in range(len(parts))}
        if any(t in tails for t in self._imports) or any(t.endswith("/" + mod) for t in self._imports):
            return True
        return self.is_referenced(parts[-1])  # from package import module

    def is_referenced(self, name: str) -> bool:
        """Does any non-test code refer to ``name`` (a call, an import, an attribute)? Counted with the
        lookup, and kept up to date file by file."""
        return name in self._refs

    def only(self, wanted: Wanted) -> "RepoLookup | _Only":
        """This lookup as one built for ``wanted`` (a part of what it was built for) would answer."""
        w = self.wanted
        if wanted.names == w.names and wanted.routes == w.routes and wanted.terms == w.terms and \
                wanted.prefixes == w.prefixes:
            return self
        return _Only(self, wanted)


class _Keys(Mapping):
    """A mapping seen through a set of keys."""
    __slots__ = ("_d", "_keys")

    def __init__(self, d: dict, keys: set):
        self._d, self._keys = d, keys

    def __getitem__(self, k):
        if k in self._keys:
            return self._d[k]
        raise KeyError(k)

    def get(self, k, default=None):
        return self._d.get(k, default) if k in self._keys else default

    def __contains__(self, k) -> bool:
        return k in self._keys and k in self._d

    def __iter__(self):
        return (k for k in self._d if k in self._keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Only:
    """A lookup restricted to part of what it was built for: it answers as one built for that part."""

    def __init__(self, full: RepoLookup, wanted: Wanted):
        self._full, self.wanted = full, wanted
        names, routes, prefixes = wanted.names, wanted.routes, wanted.prefixes
        self.names = _Keys(full.names, names)
        self.referenced = _Keys(full.referenced, names)
        self.infra_set = _Keys(full.infra_set, names)
        self.infra_strings = _Keys(full.infra_strings, prefixes)
        self.routes = _Keys(full.routes, routes)
        self.prefixed = _Keys(full.prefixed, prefixes)
        self.mounts = full.mounts if routes else {}
        self.term_df = _Keys(full.term_df, wanted.terms)
        self.term_where = _Keys(full.term_where, wanted.terms)
        self.classes = full.classes if names else {}
        has_routes = bool(routes or prefixes)
        self.registered_routes = full.registered_routes if has_routes else []
        self.routes_by_last = full.routes_by_last if has_routes else {}
        self.routes_by_len = full.routes_by_len if has_routes else {}
        self.code_files, self.data_paths = full.code_files, full.data_paths
        self.infra_files, self._files = full.infra_files, full._files

    def is_imported(self, path: str) -> bool:
        return self._full.is_imported(path)

    def is_referenced(self, name: str) -> bool:
        return self._full.is_referenced(name)
