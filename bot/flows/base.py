"""What every job flow shares: the engine on its own thread, the store off the event loop,
snapshots and configs fetched from GitHub, evaluation under a time budget, links, and comments
posted once."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import replace

from cachetools import LRUCache, TTLCache
from gidgethub import GitHubException

from ..engine import Engine
from ..engine.config import Config, Waiver, config_inputs, load_from_snapshot as load_config
from ..engine.errors import Stopped
from ..engine.snapshot import Snapshot
from ..github import fetch
from ..github.client import GitHubApp
from ..github.publish import create_once
from ..store import AsyncStore, Store

from .cpu import TENANT, Runner

log = logging.getLogger(__name__)

STATE_CHANGING = {"waive", "unwaive", "recheck"}
WRITE_PERMISSIONS = {"admin", "maintain", "write"}
LIST_FILES_LIMIT = 3000
MAX_NEW_ISSUES = 25  # a push that opens more gaps files the rest on later pushes, never a flood
COMPARE_FILES_LIMIT = 300  # GitHub's comparison lists at most this many changed files
TREE_CACHE_ENTRIES = 300_000  # tree entries kept, all commits together
REPLIES_PER_HOUR = 10  # per collaborator and thread
WAIVER_BRANCH = "driftbot/waivers"


class CouldNotAnalyse(Exception):
    """GitHub did not give us what we needed; the check must say so rather than guess."""


class ServiceBase:
    def __init__(self, app: GitHubApp, store: Store, *, engine: Engine | None = None,
                 blobs: fetch.BlobCache | None = None, today=lambda: dt.date.today(), onboarding: bool = True,
                 budget: float = 300.0, engine_processes: int = 0):
        self.app = app
        # every store call runs on a thread of its own, never on the event loop: a slow or locked
        # database delays the job that waits for it, not the webhooks being answered
        self.store = store if isinstance(store, AsyncStore) else AsyncStore(store)
        self.engine = engine or Engine()
        self.blobs = blobs or fetch.BlobCache()
        # trees by commit (a commit's tree never changes): a job that looks at one commit twice asks once
        self.trees: LRUCache = LRUCache(maxsize=TREE_CACHE_ENTRIES, getsizeof=lambda entries: max(1, len(entries)))
        self.today = today
        self.onboarding = onboarding  # open a pull request proposing a config where there is none
        self.budget = budget  # seconds of engine time one analysis may take
        self._waiver_locks: dict[str, asyncio.Lock] = {}
        self._permissions: TTLCache = TTLCache(maxsize=4096, ttl=600)  # (repo, user) → has write access
        # The engine is CPU work: it runs in worker processes (or on one thread of its own), so the
        # event loop keeps answering webhooks at once.
        self.cpu = Runner(self.engine, engine_processes)

    async def _cpu(self, fn, *args, **kw):
        return await self.cpu.call(fn, *args, **kw)

    def close(self) -> None:
        self.cpu.close()
        self.store._thread.shutdown(wait=True)  # let the last writes land

    async def run(self, job: dict) -> None:
        TENANT.set(job.get("installation"))  # engine work is shared out by installation, in turn
        handler = {"pull_request": self.pull_request, "push": self.push, "scan": self.scan,
                   "command": self.command, "commit_check": self.commit_check,
                   "visibility": self.visibility, "dashboard": self.dashboard_ticked}[job["kind"]]
        await handler(job)

    def gate(self, job: dict) -> float | None:
        """Seconds a job should wait before it starts: a repository scan can wait while its
        installation's API budget is low (pull requests and pushes cannot, and run)."""
        if job.get("kind") != "scan":
            return None
        budget = self.app.budget(job.get("installation"))
        return budget.reset - time.time() if budget is not None and budget.low else None

    # ---- shared pieces ------------------------------------------------------------------
    async def _snapshot(self, gh, repo: str, sha: str) -> Snapshot:
        entries = self.trees.get((repo.lower(), sha))
        if entries is None:
            entries = await fetch.tree(gh, repo, sha)
            if len(entries) < self.trees.maxsize:
                self.trees[(repo.lower(), sha)] = entries
        return fetch.snapshot_from_tree(entries, sha)

    async def _config(self, gh, repo: str, installation: int, snap: Snapshot, *, trusted: bool = True) -> Config:
        """The config of a snapshot. An untrusted one (a pull request's) is checked, never run: the rule
        packs it names are neither fetched nor loaded."""
        async def inputs():  # the config file, then the rule packs it names
            return config_inputs(snap, packs=trusted)
        await self._gather(gh, repo, installation, snap, inputs)
        cfg = await self._cpu(load_config, snap, packs=trusted)
        extra = [Waiver(w.fingerprint, w.reason, dt.date.fromisoformat(w.until) if w.until else None)
                 for w in (await self.store.waivers(repo))]
        if extra:
            cfg = replace(cfg, waivers=list(cfg.waivers) + extra)
        await self._documents(gh, repo, installation, cfg, snap)
        return cfg

    async def _gather(self, gh, repo: str, installation: int, snap: Snapshot, inputs, rounds: int = 3) -> None:
        """Fill a partial snapshot with what ``inputs()`` names, asking again after each fill: files
        read can name more files. Stops once everything named is at hand."""
        for _ in range(rounds):
            missing = [p for p in await inputs() if snap.entry(p) is not None and not snap.available(p)]
            if not missing:
                return
            await fetch.fill(gh, repo, installation, snap, missing, self.blobs)

    async def _documents(self, gh, repo: str, installation: int, cfg: Config, *snaps: Snapshot) -> None:
        """Fetch the documents the feature map reads (titles, status lines, sections) before it is made."""
        for snap in snaps:
            need = await self.cpu.engine_call("discovery_paths", snap, cfg)
            if need:
                await fetch.fill(gh, repo, installation, snap, need, self.blobs)

    async def _evaluate(self, gh, repo: str, installation: int, snap: Snapshot, cfg: Config, features: list[str]):
        async def inputs():  # specs can name more files (spec-kit tasks) once they are read
            return await self.cpu.engine_call("needed_paths", snap, cfg, features)
        await self._gather(gh, repo, installation, snap, inputs)
        try:
            return await self.cpu.engine_call("evaluate", snap, cfg, features=features, today=self.today(),
                                              budget=self.budget)
        except Stopped as exc:  # one slow repository must not hold the others' analyses
            raise CouldNotAnalyse(f"too slow, gave up: {exc} (a rule pack this repository brings, or a very "
                                  "large change, can cause this)") from None

    async def _feature_map(self, snap: Snapshot, cfg: Config):
        return await self.cpu.engine_call("feature_map", snap, cfg)

    def _web(self, repo: str) -> str:
        """The repository's web address (github.com, or the Enterprise Server host)."""
        return self.app.api_url.replace("://api.", "://", 1).replace("/api/v3", "") + "/" + repo

    def _link(self, repo: str, sha: str):
        web = self._web(repo)
        return lambda path, line: f"{web}/blob/{sha}/{path}" + (f"#L{line}" if line else "")

    async def _post_comment(self, gh, repo: str, number: int, body: str) -> dict:
        """A comment posted once, even when GitHub's answer is lost: it is looked for (same text, by
        this app) before being posted again."""
        async def find():
            async for c in gh.getiter("/repos/{+repo}/issues/{number}/comments{?per_page}",
                                      {"repo": repo, "number": number, "per_page": 100}):
                if (c.get("body") or "") == body and self._ours(c):
                    return c
            return None

        return await create_once(lambda: gh.post("/repos/{+repo}/issues/{number}/comments",
                                                 {"repo": repo, "number": number}, data={"body": body}),
                                 find, what="comment")

    async def _pull_from(self, gh, repo: str, branch: str, state: str = "all") -> dict | None:
        """The newest pull request from one of the repository's own branches (``state``: open, all)."""
        async for pr in gh.getiter("/repos/{+repo}/pulls{?state,head}",
                                   {"repo": repo, "state": state, "head": f"{repo.split('/')[0]}:{branch}"}):
            return pr
        return None

    def _ours(self, item: dict) -> bool:
        """Did this app write it? By the app GitHub says performed it, else by the app's bot login
        (known once GitHub has said which app this is), else by a bot account at least."""
        app = item.get("performed_via_github_app") or {}
        user = item.get("user") or {}
        if app:
            return str(app.get("id")) == str(self.app.app_id)
        ident = getattr(self.app, "_identity", None)
        if ident and ident.get("slug"):
            return user.get("login") == f"{ident['slug']}[bot]"
        return user.get("type") == "Bot" and str(user.get("login", "")).endswith("[bot]")


_POLICY_KEYS = (("features", "the features"), ("patterns", "feature patterns"), ("documents", "documents read"),
                ("discover", "discovery"), ("checks", "when the check fails"), ("comment", "the PR comment"),
                ("issues", "gap issues"), ("waivers", "waivers"), ("exclude", "exclusions"), ("rules", "rule packs"),
                ("scoring", "scoring"))


def _policy_changes(trusted: Config, proposed: Config) -> list[str]:
    """A note for the check when the pull request changes how driftbot judges: the change is shown,
    and applies once merged."""
    changed = [f"`{key}` ({what})" for key, what in _POLICY_KEYS if trusted.raw.get(key) != proposed.raw.get(key)]
    if not changed:
        return []
    return [f"This pull request changes driftbot's config: {', '.join(changed)}. It is judged by the base "
            "branch's config; the change applies once it is merged."]


def _file_names(files: list[dict]) -> list[str]:
    """Paths from GitHub's file listings; a rename touches its old path too."""
    return [f["filename"] for f in files] + [f["previous_filename"] for f in files if f.get("previous_filename")]


def _describe(exc: Exception) -> str:
    if isinstance(exc, GitHubException) and getattr(exc, "status_code", None):
        return f"GitHub answered {int(exc.status_code)} ({exc.__class__.__name__}) after retries"
    if isinstance(exc, TimeoutError):
        return "GitHub did not answer in time"
    return str(exc) or exc.__class__.__name__


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
