"""The work behind every webhook: analyse a pull request, update the default branch's baseline,
keep gap issues and the dashboard current, answer commands. Jobs carry ids; tokens are fetched here.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from dataclasses import replace

import aiohttp
from cachetools import TTLCache
from gidgethub import BadRequest, GitHubException

from .engine import ConfigError, Engine
from .engine.errors import Stopped
from .engine.config import CONFIG_PATHS, MAX_CUSTOM_PACKS, Config, Waiver, find_config_path, parse_config, waivers_kept, \
    with_waiver, without_waiver
from .engine.delta import diff
from .engine.model import Gap, GapKind
from .engine.snapshot import Snapshot, changed_paths, decode
from .github import fetch
from .github.publish import create_once
from .github.client import GitHubApp
from . import plans
from .engine.proposal import CONFIG_PATH as CONFIG_PROPOSAL_PATH, annotate, config_of, propose
from .report import issues as issue_text
from .report.common import neutralise
from .report import onboarding as onboarding_text
from .report import pr as pr_text
from .report.commands import HELP, Command, code_span, explain_feature, parse_command, quote_command, \
    summary_table
from .store import AsyncStore, StoredWaiver, Store

log = logging.getLogger(__name__)

STATE_CHANGING = {"waive", "unwaive", "recheck"}
WRITE_PERMISSIONS = {"admin", "maintain", "write"}
LIST_FILES_LIMIT = 3000
MAX_NEW_ISSUES = 25  # a push that opens more gaps files the rest on later pushes, never a flood
REPLIES_PER_HOUR = 10  # per collaborator and thread
WAIVER_BRANCH = "driftbot/waivers"


class CouldNotAnalyse(Exception):
    """GitHub did not give us what we needed; the check must say so rather than guess."""


class DriftService:
    def __init__(self, app: GitHubApp, store: Store, *, engine: Engine | None = None,
                 blobs: fetch.BlobCache | None = None, today=lambda: dt.date.today(), onboarding: bool = True,
                 budget: float = 300.0):
        self.app = app
        # every store call runs on a thread of its own, never on the event loop: a slow or locked
        # database delays the job that waits for it, not the webhooks being answered
        self.store = store if isinstance(store, AsyncStore) else AsyncStore(store)
        self.engine = engine or Engine()
        self.blobs = blobs or fetch.BlobCache()
        self.today = today
        self.onboarding = onboarding  # open a pull request proposing a config where there is none
        self.budget = budget  # seconds of engine time one analysis may take
        self._waiver_locks: dict[str, asyncio.Lock] = {}
        self._permissions: TTLCache = TTLCache(maxsize=4096, ttl=600)  # (repo, user) → has write access
        # The engine is CPU work: it runs on one thread of its own, so the event loop keeps
        # answering webhooks at once, and the engine's caches see one caller at a time.
        self._engine_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftbot-engine")

    async def _cpu(self, fn, *args, **kw):
        return await asyncio.get_running_loop().run_in_executor(self._engine_thread, partial(fn, *args, **kw))

    def close(self) -> None:
        self._engine_thread.shutdown(wait=False, cancel_futures=True)
        self.store._thread.shutdown(wait=True)  # let the last writes land

    async def run(self, job: dict) -> None:
        handler = {"pull_request": self.pull_request, "push": self.push, "scan": self.scan,
                   "command": self.command, "commit_check": self.commit_check}[job["kind"]]
        await handler(job)

    # ---- shared pieces ------------------------------------------------------------------
    async def _snapshot(self, gh, repo: str, sha: str) -> Snapshot:
        return fetch.snapshot_from_tree(await fetch.tree(gh, repo, sha), sha)

    async def _config(self, gh, repo: str, installation: int, snap: Snapshot, *, trusted: bool = True) -> Config:
        """The config of a snapshot. An untrusted one (a pull request's) is checked, never run: the rule
        packs it names are neither fetched nor loaded."""
        path = find_config_path(snap.paths())
        if path is None:
            cfg = Config()
        else:
            await fetch.fill(gh, repo, installation, snap, [path], self.blobs)
            text = decode(snap.read(path)).text
            packs = _custom_pack_paths(text, path, snap) if trusted else []
            if packs and len(packs) <= MAX_CUSTOM_PACKS:  # packs live in the repository: fetch them first
                await fetch.fill(gh, repo, installation, snap, packs, self.blobs)
            cfg = await self._cpu(parse_config, text, path, snap, packs=trusted)
        extra = [Waiver(w.fingerprint, w.reason, dt.date.fromisoformat(w.until) if w.until else None)
                 for w in (await self.store.waivers(repo))]
        if extra:
            cfg = replace(cfg, waivers=list(cfg.waivers) + extra)
        await self._documents(gh, repo, installation, cfg, snap)
        return cfg

    async def _documents(self, gh, repo: str, installation: int, cfg: Config, *snaps: Snapshot) -> None:
        """Fetch the documents the feature map reads (titles, status lines, sections) before it is made."""
        for snap in snaps:
            need = await self._cpu(self.engine.discovery_paths, snap, cfg)
            if need:
                await fetch.fill(gh, repo, installation, snap, need, self.blobs)

    async def _evaluate(self, gh, repo: str, installation: int, snap: Snapshot, cfg: Config, features: list[str]):
        for _ in range(2):  # twice: specs can name more files (spec-kit tasks) once they are read
            need = await self._cpu(self.engine.needed_paths, snap, cfg, features)
            if not await fetch.fill(gh, repo, installation, snap, need, self.blobs):
                break
        started: list[float] = []  # set by the engine thread when the work begins, not while it waits its turn

        def stop():
            now = time.monotonic()
            if not started:
                started.append(now)
            elif now - started[0] > self.budget:
                return f"the analysis took longer than its {self.budget:g} s budget"
            return None
        try:
            return await self._cpu(self.engine.evaluate, snap, cfg, features=features, today=self.today(),
                                   stop=stop)
        except Stopped as exc:  # one slow repository must not hold the others' analyses
            raise CouldNotAnalyse(f"too slow, gave up: {exc} (a rule pack this repository brings, or a very "
                                  "large change, can cause this)") from None

    async def _feature_map(self, snap: Snapshot, cfg: Config):
        return await self._cpu(self.engine.feature_map, snap, cfg)

    def _web(self, repo: str) -> str:
        """The repository's web address (github.com, or the Enterprise Server host)."""
        return self.app.api_url.replace("://api.", "://", 1).replace("/api/v3", "") + "/" + repo

    def _link(self, repo: str, sha: str):
        web = self._web(repo)
        return lambda path, line: f"{web}/blob/{sha}/{path}" + (f"#L{line}" if line else "")

    # ---- pull requests ------------------------------------------------------------------
    async def pull_request(self, job: dict) -> None:
        repo, head_sha = job["repo"], job["head_sha"]
        key = f"checked:{head_sha}:{job.get('number') or ''}"
        check_id, _, state = ((await self.store.get_value(repo, key)) or "").partition(":")
        if state == "done" and not job.get("force"):
            return  # GitHub announces one push as pull_request and check_suite: analyse it once
        gh = await self.app.installation(job["installation"])
        if state != "started" or job.get("force"):
            check_id = await self._start_check(gh, repo, head_sha)
            await self.store.set_value(repo, key, f"{check_id}:started")
        # else: a job handed back at shutdown resumes, and finishes the check run it started
        try:
            await self._analyse_pr(gh, job, int(check_id))
        except ConfigError as exc:
            await self._config_failure(gh, repo, int(check_id), exc)
        except (GitHubException, CouldNotAnalyse, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("pull request not analysed", extra={"repo": repo, "error": repr(exc)})
            await self._could_not_analyse(gh, repo, int(check_id), exc)
        except Exception as exc:  # a bug: still never leave the check spinning, nor pretend all is well
            log.exception("pull request analysis failed", extra={"repo": repo})
            await self._could_not_analyse(gh, repo, int(check_id), CouldNotAnalyse(
                f"an internal error ({exc.__class__.__name__}); the server log has the details"))
        await self.store.set_value(repo, key, f"{check_id}:done")

    async def commit_check(self, job: dict) -> None:
        """A check suite with no pull request: compare the commit with the default branch."""
        await self.pull_request(job)

    async def _start_check(self, gh, repo: str, head_sha: str) -> int:
        external = f"{head_sha[:12]}-{uuid.uuid4().hex[:12]}"  # this attempt's own mark, to find it again

        async def create():
            return await gh.post("/repos/{+repo}/check-runs", {"repo": repo}, data={
                "name": pr_text.CHECK_NAME, "head_sha": head_sha, "status": "in_progress", "external_id": external,
                "started_at": _now(), "output": {"title": "Measuring drift…",
                                                 "summary": "driftbot is comparing the touched features with the base."}})

        async def find():
            found = await gh.getitem("/repos/{+repo}/commits/{ref}/check-runs{?check_name,filter,per_page}",
                                     {"repo": repo, "ref": head_sha, "check_name": pr_text.CHECK_NAME,
                                      "filter": "all", "per_page": 100})
            return next((r for r in found.get("check_runs", []) if r.get("external_id") == external), None)

        run = await create_once(create, find, what="check run")
        return run["id"]

    async def _analyse_pr(self, gh, job: dict, check_id: int) -> None:
        repo, inst, head_sha = job["repo"], job["installation"], job["head_sha"]
        base_ref = job.get("base_sha") or job.get("base_ref")
        compare = await gh.getitem("/repos/{+repo}/compare/{basehead}", {"repo": repo, "basehead": f"{base_ref}...{head_sha}"})
        merge_base = compare["merge_base_commit"]["sha"]
        head = await self._snapshot(gh, repo, head_sha)
        base = await self._snapshot(gh, repo, merge_base)
        # A pull request is judged by the base branch's config: what is measured, and how. Its own
        # config is checked (an invalid one fails the check) and its changes are named; they apply
        # once merged, so no pull request can weaken the judgement of itself.
        proposed = await self._config(gh, repo, inst, head, trusted=False)
        try:
            cfg = await self._config(gh, repo, inst, base)
        except ConfigError:
            cfg = Config()  # the base branch's own config is broken: the defaults judge
        trusted = cfg
        await self._documents(gh, repo, inst, cfg, head, base)
        changed, notes = await self._changed_files(gh, job, base, head)
        notes = _policy_changes(trusted, proposed) + notes
        for snap in (head, base):  # located features are touched by what a change names: read it first
            await fetch.fill(gh, repo, inst, snap, await self._cpu(self.engine.touch_paths, cfg, changed, snap),
                             self.blobs)
        touched = await self._cpu(self.engine.touched, cfg, changed, head, base)
        after = await self._evaluate(gh, repo, inst, head, cfg, touched)
        before = await self._evaluate(gh, repo, inst, base, cfg, touched)
        deltas = diff(before, after)
        total = len((await self._feature_map(head, cfg)).features)
        out = pr_text.check_output(deltas, cfg.policy, total_features=total, link=self._link(repo, head_sha), notes=notes)
        await self._finish_check(gh, repo, check_id, out)
        if job.get("number"):
            check_url = f"{self._web(repo)}/runs/{check_id}"
            await self._comment(gh, repo, job["number"], deltas, head_sha, check_url, cfg, total)

    async def _changed_files(self, gh, job: dict, base: Snapshot, head: Snapshot) -> tuple[list[str], list[str]]:
        """The changed paths, and a note for the check when they had to be worked out another way."""
        number = job.get("number")
        if number and (job.get("changed_files") or 0) < LIST_FILES_LIMIT:
            listed = [f async for f in gh.getiter("/repos/{+repo}/pulls/{number}/files{?per_page}",
                                                  {"repo": job["repo"], "number": number, "per_page": 100})]
            if len(listed) < LIST_FILES_LIMIT:
                return _file_names(listed), []
        # Past 3,000 files the PR files list stops; compare stops at 300. The two trees are exact.
        return changed_paths(base, head), ["This pull request changes more files than GitHub lists; changed "
                                           "files were found by comparing the base and head trees."]

    async def _finish_check(self, gh, repo: str, check_id: int, out: pr_text.CheckOutput) -> None:
        batches = [out.annotations[i:i + pr_text.ANNOTATIONS_PER_REQUEST]
                   for i in range(0, len(out.annotations), pr_text.ANNOTATIONS_PER_REQUEST)] or [[]]
        base = {"title": out.title, "summary": out.summary, "text": out.text}
        # annotations beyond the first 50 go in follow-up updates; the conclusion comes with the last
        for batch in batches[:-1]:
            await gh.patch("/repos/{+repo}/check-runs/{id}", {"repo": repo, "id": check_id},
                           data={"output": {**base, "annotations": batch}})
        await gh.patch("/repos/{+repo}/check-runs/{id}", {"repo": repo, "id": check_id}, data={
            "status": "completed", "conclusion": out.conclusion, "completed_at": _now(),
            "output": {**base, "annotations": batches[-1]}, "actions": [pr_text.RECHECK_ACTION]})

    async def _config_failure(self, gh, repo: str, check_id: int, exc: ConfigError) -> None:
        p = exc.first
        lines = "\n".join(f"- `{prob}`" for prob in exc.problems[:50])
        anns = [{"path": prob.file, "start_line": max(1, prob.line), "end_line": max(1, prob.line),
                 "annotation_level": "failure", "title": "driftbot config", "message": str(prob)[:64000]}
                for prob in exc.problems[:50] if prob.file]
        await gh.patch("/repos/{+repo}/check-runs/{id}", {"repo": repo, "id": check_id}, data={
            "status": "completed", "conclusion": "failure", "completed_at": _now(),
            "output": {"title": f"Invalid driftbot config: {p.message}"[:255],
                       "summary": f"driftbot could not read its config, so it measured nothing.\n\n{lines}\n\n"
                                  "Fix the file (`driftbot validate` checks it locally) and push again.",
                       "annotations": anns},
            "actions": [pr_text.RECHECK_ACTION]})

    async def _could_not_analyse(self, gh, repo: str, check_id: int, exc: Exception) -> None:
        reason = _describe(exc)
        try:
            await gh.patch("/repos/{+repo}/check-runs/{id}", {"repo": repo, "id": check_id}, data={
                "status": "completed", "conclusion": "neutral", "completed_at": _now(),
                "output": {"title": "Could not analyse this commit",
                           "summary": f"driftbot could not finish: {reason}.\n\nNo drift was measured, so this "
                                      "check says nothing about this pull request. Press **Recheck** or comment "
                                      "`/drift recheck` to try again."},
                "actions": [pr_text.RECHECK_ACTION]})
        except GitHubException as again:
            log.error("could not report the failure", extra={"repo": repo, "error": repr(again)})

    async def _comment(self, gh, repo: str, number: int, deltas, head_sha: str, check_url: str, cfg: Config,
                       total: int) -> None:
        mode = cfg.policy.comment_mode
        if mode == "off":
            return
        key = f"pr-comment:{number}"
        stored = await self.store.get_value(repo, key)
        changed = any(d.changed for d in deltas)
        if mode == "on-change" and not changed and stored is None:
            return
        body = pr_text.comment_body(deltas, head_sha, check_url, total_features=total, link=self._link(repo, head_sha))
        # the content, not the link to this run's check: a re-run with the same result edits nothing
        digest = hashlib.sha256(pr_text.comment_body(deltas, head_sha, None, total_features=total).encode()).hexdigest()
        comment_id = None
        if stored:
            comment_id, _, old_digest = stored.partition(":")
            if old_digest == digest:
                return  # same content: no edit
        if comment_id is None:
            comment_id = await self._find_comment(gh, repo, number)
        if comment_id:
            try:
                await gh.patch("/repos/{+repo}/issues/comments/{id}", {"repo": repo, "id": comment_id},
                               data={"body": body})
                await self.store.set_value(repo, key, f"{comment_id}:{digest}")
                return
            except BadRequest as exc:
                if exc.status_code != 404:
                    raise
        async def find():
            cid = await self._find_comment(gh, repo, number)
            return {"id": cid} if cid else None

        made = await create_once(lambda: gh.post("/repos/{+repo}/issues/{number}/comments",
                                                 {"repo": repo, "number": number}, data={"body": body}),
                                 find, what="PR comment")
        await self.store.set_value(repo, key, f"{made['id']}:{digest}")

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

    async def _find_comment(self, gh, repo: str, number: int) -> str | None:
        async for c in gh.getiter("/repos/{+repo}/issues/{number}/comments{?per_page}",
                                  {"repo": repo, "number": number, "per_page": 100}):
            if pr_text.COMMENT_MARKER in (c.get("body") or "") and self._ours(c):
                return str(c["id"])
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

    # ---- default branch -----------------------------------------------------------------
    async def push(self, job: dict) -> None:
        """Move the default branch's baseline to the pushed commit. Another job (another process)
        may move it first: then this one starts over from the new baseline, and stops there if its
        commit is not newer."""
        gh = await self.app.installation(job["installation"])
        await self._drop_stale_claims(job["repo"])
        for _ in range(3):
            if await self._push_once(gh, job):
                return
        log.warning("baseline kept moving under this push; the next push catches up", extra={"repo": job["repo"]})

    async def _drop_stale_claims(self, repo: str) -> None:
        """Claims a crashed job left behind (kill -9 between claiming and creating). Jobs for one
        repository's default branch run one at a time (their queue key), so at the start of one, any
        claim still pending belongs to a job that is gone."""
        for key in ("dashboard", "onboarding"):
            await self.store.release_value(repo, key, "pending")
        for fp, rec in (await self.store.gap_issues(repo)).items():
            if rec.state == "claimed" and rec.number is None:
                await self.store.release_gap_issue(repo, fp)

    async def _push_once(self, gh, job: dict) -> bool:
        repo, inst, sha = job["repo"], job["installation"], job["after"]
        last = await self.store.get_value(repo, "baseline-sha")
        baseline = await self.store.baseline(repo)
        first = not baseline or not last
        everything = first or bool(job.get("full"))
        files = None  # the changed files compare listed; None: compare the trees
        if last and last != sha:
            compare = await self._compare(gh, repo, last, sha)
            if compare is not None and compare.get("status") == "behind":
                return True  # an old push: the baseline is already newer
            if not everything:
                files = compare.get("files") if compare is not None else None
        elif last == sha and not job.get("full"):
            return True  # a repeated push
        if not everything:
            if files is not None and len(files) >= 300:
                files = None  # compare lists at most 300 files
        head = await self._snapshot(gh, repo, sha)
        try:
            cfg = await self._config(gh, repo, inst, head)
        except ConfigError as exc:
            log.info("invalid config on the default branch", extra={"repo": repo, "error": str(exc.first)})
            return True
        if cfg.source is not None:
            await self._onboarding_landed(gh, repo, sha)
        fmap = await self._feature_map(head, cfg)
        if everything:
            touched = [f.id for f in fmap.features]
        else:
            paths = _file_names(files) if files is not None else \
                changed_paths(await self._snapshot(gh, repo, last), head)
            await fetch.fill(gh, repo, inst, head, await self._cpu(self.engine.touch_paths, cfg, paths, head),
                             self.blobs)
            touched = await self._cpu(self.engine.touched, cfg, paths, head)
        findings = await self._evaluate(gh, repo, inst, head, cfg, touched)
        current = {f.id for f in fmap.features}
        removed = [fid for fid in baseline if fid not in current]
        summaries = {f.id: issue_text.feature_summary(f) for f in findings.features}
        if not await self.store.save_baseline(repo, sha, summaries, removed, expected=last):
            return False  # another job moved the baseline meanwhile: start over from it
        if cfg.policy.issues_enabled:
            await self._sync_issues(gh, repo, sha, findings, cfg, first=first)
        if cfg.policy.dashboard:
            await self._dashboard(gh, repo, sha, cfg)
        return True

    async def scan(self, job: dict) -> None:
        """First look at a repository (installation): the whole default branch, then the dashboard;
        with no config, a pull request that proposes one."""
        gh = await self.app.installation(job["installation"])
        commit = await gh.getitem("/repos/{+repo}/commits/{ref}", {"repo": job["repo"], "ref": "HEAD"})
        await self.push({**job, "after": commit["sha"], "full": True})
        if self.onboarding:
            await self._onboard(gh, job["repo"], job["installation"], commit["sha"])

    # ---- onboarding ------------------------------------------------------------------------
    async def _onboard(self, gh, repo: str, inst: int, sha: str) -> None:
        """Open one pull request that adds the config driftbot proposes, unless the repository has a
        config or was offered one before (the pull request is never opened twice, whatever became
        of it: merged, closed or still open)."""
        if (await self.store.get_value(repo, "onboarding")) is not None:
            return
        snap = await self._snapshot(gh, repo, sha)
        if find_config_path(snap.paths()) is not None:
            await self.store.claim_value(repo, "onboarding", "configured")
            return
        if not await self.store.claim_value(repo, "onboarding", "pending"):
            return  # another job is at it
        try:
            state = await self._open_onboarding(gh, repo, inst, sha, snap)
        except BaseException:  # cancelled at shutdown too: never leave the claim behind
            await asyncio.shield(self.store.release_value(repo, "onboarding", "pending"))  # a later scan retries
            raise
        await self.store.set_value(repo, "onboarding", state)

    async def _open_onboarding(self, gh, repo: str, inst: int, sha: str, snap: Snapshot) -> str:
        owner = repo.split("/")[0]
        async for pr in gh.getiter("/repos/{+repo}/pulls{?state,head}",
                                   {"repo": repo, "state": "all", "head": f"{owner}:{onboarding_text.BRANCH}"}):
            # offered before (the store was lost): never a second one
            return f"open:{pr['number']}" if pr.get("state") == "open" else "closed"
        cfg0 = Config()
        await self._documents(gh, repo, inst, cfg0, snap)
        if ".gitattributes" in snap:
            await fetch.fill(gh, repo, inst, snap, [".gitattributes"], self.blobs)
        proposal = await self._cpu(propose, self.engine, snap, repo.split("/")[-1])
        if not any(e.section in ("features", "documents") for e in proposal.entries):
            return "nothing"  # no spec or design document: nothing to write down
        cfg = await self._cpu(config_of, proposal, snap)
        fmap = await self._feature_map(snap, cfg)
        findings = await self._evaluate(gh, repo, inst, snap, cfg, [f.id for f in fmap.features])
        await self._cpu(annotate, proposal, findings)
        content = base64.b64encode(proposal.render().encode("utf-8")).decode("ascii")
        info = await gh.getitem("/repos/{+repo}", {"repo": repo})
        branch = onboarding_text.BRANCH
        try:
            await gh.post("/repos/{+repo}/git/refs", {"repo": repo},
                          data={"ref": f"refs/heads/{branch}", "sha": sha})
        except BadRequest as exc:
            if exc.status_code != 422:
                raise  # 422: the branch is left from an attempt that failed later on: use it
        put = {"message": onboarding_text.COMMIT_MESSAGE, "content": content, "branch": branch}
        try:
            old = await gh.getitem("/repos/{+repo}/contents/{+path}{?ref}",
                                   {"repo": repo, "path": CONFIG_PROPOSAL_PATH, "ref": branch})
            put["sha"] = old["sha"]
        except BadRequest as exc:
            if exc.status_code != 404:
                raise
        await gh.put("/repos/{+repo}/contents/{+path}", {"repo": repo, "path": CONFIG_PROPOSAL_PATH}, data=put)
        async def find():
            async for pr in gh.getiter("/repos/{+repo}/pulls{?state,head}",
                                       {"repo": repo, "state": "all", "head": f"{owner}:{branch}"}):
                return pr
            return None

        made = await create_once(lambda: gh.post("/repos/{+repo}/pulls", {"repo": repo}, data={
            "title": onboarding_text.TITLE, "head": branch, "base": info["default_branch"],
            "body": onboarding_text.pr_body(proposal, findings, sha)}), find, what="onboarding pull request")
        log.info("onboarding pull request opened", extra={"repo": repo, "number": made["number"]})
        return f"open:{made['number']}"

    async def _onboarding_landed(self, gh, repo: str, sha: str) -> None:
        """A config is on the default branch: the onboarding pull request, if one is open, has served.
        Merged: its branch is deleted. Still open (the config came another way): it is closed with a
        word of explanation, and its branch deleted."""
        state = (await self.store.get_value(repo, "onboarding")) or ""
        if not state.startswith("open:"):
            return
        number = int(state.removeprefix("open:"))
        pr = await gh.getitem("/repos/{+repo}/pulls/{number}", {"repo": repo, "number": number})
        if pr.get("merged"):
            new = "merged"
        elif pr.get("state") == "open":
            await self._post_comment(gh, repo, number, onboarding_text.superseded_comment(sha))
            await gh.patch("/repos/{+repo}/pulls/{number}", {"repo": repo, "number": number}, data={"state": "closed"})
            new = "superseded"
        else:
            new = "closed"
        if pr.get("head", {}).get("ref", onboarding_text.BRANCH) == onboarding_text.BRANCH:
            try:
                await gh.delete("/repos/{+repo}/git/refs/{+ref}", {"repo": repo, "ref": f"heads/{onboarding_text.BRANCH}"})
            except BadRequest as exc:
                if exc.status_code not in (404, 422):
                    raise  # 422: already deleted (GitHub's "delete head branches" setting)
        await self.store.set_value(repo, "onboarding", new)

    async def _compare(self, gh, repo: str, last: str, sha: str) -> dict | None:
        """GitHub's comparison of two commits; None when the old one is gone (a force push)."""
        try:
            return await gh.getitem("/repos/{+repo}/compare/{basehead}", {"repo": repo, "basehead": f"{last}...{sha}"})
        except BadRequest:
            return None

    async def _sync_issues(self, gh, repo: str, sha: str, findings, cfg: Config, *, first: bool) -> None:
        """Carry out plans.plan_issue_sync: one issue per gap that appeared after the first analysis
        (at most MAX_NEW_ISSUES a push), reopened on regression, closed when resolved or waived."""
        waived = {w.fingerprint for w in cfg.waivers}
        results = {f.id: f for f in findings.features}
        link = self._link(repo, sha)
        now = plans.open_gaps(await self.store.baseline(repo), set(cfg.policy.issue_kinds), waived)
        known = await self.store.gap_issues(repo)
        for action in plans.plan_issue_sync(now, known, waived, first=first, cap=MAX_NEW_ISSUES):
            fp = action.fingerprint
            if isinstance(action, plans.Record):
                if await self.store.claim_gap_issue(repo, fp, action.feature):
                    await self.store.set_gap_issue(repo, fp, None, "baseline")
            elif isinstance(action, plans.File):
                if not await self.store.claim_gap_issue(repo, fp, action.feature):
                    continue  # another delivery is filing it
                gd, fid = action.gap, action.feature
                gap = Gap(fp, GapKind(gd["kind"]), fid, gd["message"], gd.get("requirement"), gd["path"], gd["line"])
                try:
                    number = await self._existing_issue(gh, repo, fp)
                    if number is None:
                        async def find(fp=fp):
                            n = await self._existing_issue(gh, repo, fp, recent=True)
                            return {"number": n} if n else None

                        made = await create_once(lambda gap=gap, fid=fid: gh.post("/repos/{+repo}/issues", {"repo": repo}, data={
                            "title": issue_text.gap_title(gap), "body": issue_text.gap_body(gap, results.get(fid), sha, link),
                            "labels": list(cfg.policy.issue_labels)}), find, what="gap issue")
                        number = made["number"]
                    await self.store.set_gap_issue(repo, fp, number, "open")
                except BaseException:  # cancelled at shutdown too: never leave the claim behind
                    await asyncio.shield(self.store.release_gap_issue(repo, fp))
                    raise
            elif isinstance(action, plans.Reopen):
                await gh.patch("/repos/{+repo}/issues/{number}", {"repo": repo, "number": action.number},
                               data={"state": "open"})
                await self._post_comment(gh, repo, action.number, f"The gap is back at {sha[:12]}: {action.message}")
                await self.store.set_gap_issue(repo, fp, action.number, "open")
            elif isinstance(action, plans.Forget):
                await self.store.release_gap_issue(repo, fp)
            elif isinstance(action, plans.Close):
                note = "waived" if action.waived else f"resolved in {sha[:12]}"
                await self._post_comment(gh, repo, action.number, f"driftbot: this gap is {note}. Closing.")
                await gh.patch("/repos/{+repo}/issues/{number}", {"repo": repo, "number": action.number},
                               data={"state": "closed", "state_reason": "not_planned" if action.waived else "completed"})
                await self.store.set_gap_issue(repo, fp, action.number, "closed")

    async def _existing_issue(self, gh, repo: str, fingerprint: str, *, recent: bool = False) -> int | None:
        """An issue for this gap filed earlier (the store was lost, or another replica raced). ``recent``:
        one made a moment ago (a lost answer), which search does not see yet: the issue list does."""
        if recent:
            return await self._own_issue(gh, repo, lambda body: issue_text.gap_fingerprint(body) == fingerprint,
                                         pages=1)
        # the fingerprint is also in the issue's visible text; the hidden marker in the body confirms it
        found = await gh.getitem("/search/issues{?q}", {"q": f"repo:{repo} is:issue in:body {fingerprint}"})
        for item in found.get("items", []):
            if issue_text.gap_fingerprint(item.get("body")) == fingerprint and self._ours(item) \
                    and "pull_request" not in item:
                return item["number"]  # never adopt an issue someone else wrote with our marker in it
        return None

    async def _find_dashboard(self, gh, repo: str) -> int | None:
        """The dashboard issue this app opened, found by its marker and its author."""
        return await self._own_issue(gh, repo, lambda body: issue_text.DASHBOARD_MARKER in body)

    async def _own_issue(self, gh, repo: str, match, pages: int = 3) -> int | None:
        """The newest issue this app opened whose body ``match``es, from the repository's issue list
        (up to date the moment an issue is made, unlike search)."""
        try:
            login = f"{(await self.app.identity())['slug']}[bot]"
        except Exception:  # noqa: BLE001 - without its name the list cannot be narrowed: search instead
            return None
        seen = 0
        async for item in gh.getiter("/repos/{+repo}/issues{?creator,state,sort,direction,per_page}",
                                     {"repo": repo, "creator": login, "state": "all", "sort": "created",
                                      "direction": "desc", "per_page": 100}):
            seen += 1
            if "pull_request" not in item and self._ours(item) and match(item.get("body") or ""):
                return item["number"]
            if seen >= 100 * pages:
                break
        return None

    async def _dashboard(self, gh, repo: str, sha: str, cfg: Config | None = None) -> None:
        features = await self.store.baseline(repo)
        config_waivers = [(w.fingerprint, w.reason, w.until.isoformat() if w.until else None)
                          for w in (cfg.waivers if cfg else ()) if w.line]  # those written in the config
        waived = {w.fingerprint for w in (await self.store.waivers(repo))} | {fp for fp, _r, _u in config_waivers}
        for f in features.values():  # waivers set since a feature was last evaluated count now
            for fp, g in f["gaps"].items():
                g["waived"] = g["waived"] or fp in waived
        issues = {fp: rec.number for fp, rec in (await self.store.gap_issues(repo)).items() if rec.number and rec.state == "open"}
        waivers = config_waivers + [(w.fingerprint, w.reason, w.until) for w in (await self.store.waivers(repo))
                                    if w.fingerprint not in {fp for fp, _r, _u in config_waivers}]
        body = issue_text.dashboard_body(features, (await self.store.history(repo)), issues, waivers, sha)
        number = await self.store.get_value(repo, "dashboard")
        if number is not None and not number.isdigit():
            return  # another job is creating it
        if number is None:
            if not await self.store.claim_value(repo, "dashboard", "pending"):
                return  # another job is creating it
            try:
                found = await self._find_dashboard(gh, repo)  # opened before the store was lost
                if found is None:
                    async def find():
                        n = await self._find_dashboard(gh, repo)
                        return {"number": n} if n else None

                    made = await create_once(lambda: gh.post("/repos/{+repo}/issues", {"repo": repo}, data={
                        "title": issue_text.DASHBOARD_TITLE, "body": body, "labels": ["drift"]}), find,
                        what="dashboard")
                    await self.store.set_value(repo, "dashboard", str(made["number"]))
                    return
            except BaseException:  # cancelled at shutdown too: never leave the claim behind
                await asyncio.shield(self.store.release_value(repo, "dashboard", "pending"))  # the next push retries
                raise
            await self.store.set_value(repo, "dashboard", str(found))
            number = str(found)
        await gh.patch("/repos/{+repo}/issues/{number}", {"repo": repo, "number": int(number)}, data={"body": body})

    # ---- commands -------------------------------------------------------------------------
    async def command(self, job: dict) -> None:
        gh = await self.app.installation(job["installation"])
        repo = job["repo"]
        if not await self._may_reply(gh, repo, job["user"], job["issue_number"]):
            log.info("command not answered: reply limit", extra={"repo": repo, "user": job["user"]})
            return
        cmd: Command = parse_command(job["text"], today=self.today())
        await gh.post("/repos/{+repo}/issues/comments/{id}/reactions", {"repo": repo, "id": job["comment_id"]},
                      data={"content": "eyes"})
        reply = await self._command_reply(gh, job, cmd)
        await self._post_comment(gh, repo, job["issue_number"], neutralise(f"{quote_command(job['text'])}\n\n{reply}"))

    async def _may_reply(self, gh, repo: str, user: str, thread: int) -> bool:
        """Someone without write access is answered once per thread; a collaborator at most
        REPLIES_PER_HOUR times an hour per thread. A flood of commands costs one reply, not a hundred."""
        now = time.time()
        if await self.store.claim_value(repo, f"answered:{thread}:{user.lower()}", str(now)):
            return True  # the first reply in this thread: claimed atomically, so a burst gets one
        if not await self._collaborator(gh, repo, user):
            return False
        hour = int(now // 3600)
        for slot in range(REPLIES_PER_HOUR - 1):  # each reply claims a slot of this hour, atomically
            if await self.store.claim_value(repo, f"reply:{thread}:{user.lower()}:{hour}:{slot}", "1"):
                return True
        return False

    async def _waiver_pr(self, gh, job: dict, fingerprint: str, reason: str | None, until: str | None) -> str:
        """Add (reason given) or remove a waiver in the config, through one pull request from the
        branch driftbot/waivers that collects them: the repository stays the one source of truth, so
        `driftbot check` in CI agrees with the App, and the change takes effect once merged."""
        async with self._waiver_locks.setdefault(job["repo"], asyncio.Lock()):  # one edit of the branch at a time
            return await self._edit_waivers(gh, job, fingerprint, reason, until)

    async def _edit_waivers(self, gh, job: dict, fingerprint: str, reason: str | None, until: str | None) -> str:
        repo, user = job["repo"], job["user"]
        owner, branch = repo.split("/")[0], WAIVER_BRANCH
        info = await gh.getitem("/repos/{+repo}", {"repo": repo})
        base = info["default_branch"]
        open_pr = None
        async for pr in gh.getiter("/repos/{+repo}/pulls{?state,head}",
                                   {"repo": repo, "state": "open", "head": f"{owner}:{branch}"}):
            open_pr = pr
            break
        if open_pr is None:  # start the branch afresh from the default branch
            head = (await gh.getitem("/repos/{+repo}/branches/{branch}", {"repo": repo, "branch": base}))["commit"]["sha"]
            try:
                await gh.post("/repos/{+repo}/git/refs", {"repo": repo}, data={"ref": f"refs/heads/{branch}", "sha": head})
            except BadRequest as exc:
                if exc.status_code != 422:
                    raise
                await gh.patch("/repos/{+repo}/git/refs/{+ref}", {"repo": repo, "ref": f"heads/{branch}"},
                               data={"sha": head, "force": True})
        path, text, sha = ".github/driftbot.yml", "version: 1\n", None
        for candidate in CONFIG_PATHS:
            try:
                found = await gh.getitem("/repos/{+repo}/contents/{+path}{?ref}",
                                         {"repo": repo, "path": candidate, "ref": branch})
            except BadRequest as exc:
                if exc.status_code != 404:
                    raise
                continue
            path, sha = candidate, found["sha"]
            text = base64.b64decode(found.get("content") or "").decode("utf-8", "replace")
            break
        new = with_waiver(text, fingerprint, reason, until) if reason is not None else without_waiver(text, fingerprint)
        if new == text:
            if reason is None:
                return (f"There is no waiver for `{fingerprint}` in `{path}`"
                        + (f" (nor in the open pull request #{open_pr['number']})" if open_pr else "") + ".")
            return f"`{path}` already waives `{fingerprint}` with that reason."
        try:
            parse_config(new, path, packs=False)  # checked, not run
        except ConfigError as exc:
            return f"driftbot could not edit `{path}` safely ({exc.first.message}); edit it by hand."
        if not waivers_kept(text, new, fingerprint):
            return f"driftbot could not edit `{path}` without touching its other waivers; edit it by hand."
        verb = "waive" if reason is not None else "stop waiving"
        put = {"message": f"driftbot: {verb} {fingerprint} (asked by @{user} in #{job['issue_number']})",
               "content": base64.b64encode(new.encode("utf-8")).decode("ascii"), "branch": branch}
        if sha:
            put["sha"] = sha
        await gh.put("/repos/{+repo}/contents/{+path}", {"repo": repo, "path": path}, data=put)
        line = (f"- {'Waive' if reason is not None else 'Stop waiving'} `{fingerprint}`"
                + (f": {reason}" if reason else "") + (f" (until {until})" if until else "")
                + f" — asked by @{user} in #{job['issue_number']}")
        if open_pr is not None:
            await gh.patch("/repos/{+repo}/pulls/{number}", {"repo": repo, "number": open_pr["number"]},
                           data={"body": ((open_pr.get("body") or "").rstrip() + "\n" + line)})
            number = open_pr["number"]
        else:
            async def find():
                async for pr in gh.getiter("/repos/{+repo}/pulls{?state,head}",
                                           {"repo": repo, "state": "open", "head": f"{owner}:{branch}"}):
                    return pr
                return None

            made = await create_once(lambda: gh.post("/repos/{+repo}/pulls", {"repo": repo}, data={
                "title": "driftbot: waivers", "head": branch, "base": base,
                "body": f"Waivers asked for in comments, written into `{path}` so that the App and "
                        f"`driftbot check` agree. They take effect when this is merged.\n\n{line}"}),
                find, what="waiver pull request")
            number = made["number"]
        return (f"Opened #{number}" if open_pr is None else f"Added to #{number}") + \
            f" to {verb} `{fingerprint}` in `{path}`; it takes effect once that pull request is merged."

    async def _collaborator(self, gh, repo: str, user: str) -> bool:
        hit = self._permissions.get((repo, user.lower()))
        if hit is None:
            perm = await gh.getitem("/repos/{+repo}/collaborators/{user}/permission", {"repo": repo, "user": user})
            hit = self._permissions[(repo, user.lower())] = perm.get("permission") in WRITE_PERMISSIONS
        return hit

    async def _command_reply(self, gh, job: dict, cmd: Command) -> str:
        repo, user = job["repo"], job["user"]
        if cmd.error:
            return f"{cmd.error}\n\n{HELP}"
        if cmd.name == "help":
            return HELP
        if cmd.name in STATE_CHANGING:
            perm = await gh.getitem("/repos/{+repo}/collaborators/{user}/permission", {"repo": repo, "user": user})
            if perm.get("permission") not in WRITE_PERMISSIONS:
                return (f"Sorry @{user}, `/drift {cmd.name}` changes what driftbot records, so it needs write, "
                        "maintain or admin access to this repository. Anyone can use `/drift report`, "
                        "`/drift explain` and `/drift help`.")
        if cmd.name == "waive":
            return await self._waiver_pr(gh, job, cmd.gap, cmd.reason, cmd.until)
        if cmd.name == "unwaive":
            legacy = await self.store.remove_waiver(repo, cmd.gap)  # set by command before waivers lived in the config
            reply = await self._waiver_pr(gh, job, cmd.gap, None, None)
            if legacy and reply.startswith("There is no waiver"):
                return f"Gap `{cmd.gap}` counts again from the next analysis."
            return reply
        if cmd.name == "recheck":
            if job.get("is_pull_request"):
                pr = await gh.getitem("/repos/{+repo}/pulls/{number}", {"repo": repo, "number": job["issue_number"]})
                await self.pull_request({"kind": "pull_request", "installation": job["installation"], "repo": repo,
                                         "number": job["issue_number"], "head_sha": pr["head"]["sha"],
                                         "base_sha": pr["base"]["sha"], "changed_files": pr.get("changed_files"),
                                         "force": True})
                return f"Rechecked `{pr['head']['sha'][:7]}`; the check run and the summary comment are up to date."
            await self.scan({**job, "kind": "scan"})
            return "Rescanned the default branch; the dashboard is up to date."
        baseline = await self.store.baseline(repo)
        if cmd.name == "report" and not cmd.feature:
            return summary_table(baseline, (await self.store.history(repo)))
        fid = cmd.feature
        if fid not in baseline:
            known = ", ".join(sorted(baseline)[:20]) or "none yet"
            return (f"No feature {code_span(fid)} in the last analysis of the default branch. "
                    f"Known features: {known}.")
        commit = (await self.store.get_value(repo, "baseline-sha")) or "HEAD"
        head = await self._snapshot(gh, repo, commit)
        cfg = await self._config(gh, repo, job["installation"], head)
        findings = await self._evaluate(gh, repo, job["installation"], head, cfg, [fid])
        return explain_feature(findings.features[0], commit, self._link(repo, commit))


def _custom_pack_paths(text: str, path: str, snap: Snapshot) -> list[str]:
    """Files that `rules.custom` names, read from the raw YAML (errors are left to parse_config)."""
    from .engine import globs, yamlsrc
    try:
        data, _ = yamlsrc.parse(text, path)
    except ConfigError:
        return []
    custom = data.get("rules", {}).get("custom") if isinstance(data, dict) and isinstance(data.get("rules"), dict) else None
    pats = [custom] if isinstance(custom, str) else [c for c in custom or [] if isinstance(c, str)]
    return [p for p in snap.paths() if any(globs.match(g, p) for g in pats)]


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
