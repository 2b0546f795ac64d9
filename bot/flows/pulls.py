"""Pull requests: the check run, its annotations and the one summary comment."""
from __future__ import annotations

import hashlib
import uuid

from gidgethub import BadRequest, GitHubException
import aiohttp

from ..engine import ConfigError
from ..engine.config import Config
from ..engine.delta import diff
from ..engine.scoring import mean
from ..engine.snapshot import Snapshot, changed_paths, line_counts
from ..github import fetch
from ..github.publish import create_once
from ..report import pr as pr_text
from .base import COMPARE_FILES_LIMIT, CouldNotAnalyse, LIST_FILES_LIMIT, _describe, _file_names, _now, _policy_changes, log


class PullRequests:
    """Pull requests: the check run, its annotations and the one summary comment.
    A part of DriftService (bot/service.py)."""

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
        await fetch.prefetch(gh, repo, inst, head, self.blobs)  # a small repository: one archive
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
        changed, notes = await self._changed_files(gh, job, base, head, compare)
        notes = _policy_changes(trusted, proposed) + notes
        for snap in (head, base):  # located features are touched by what a change names: read it first
            await fetch.fill(gh, repo, inst, snap, await self.cpu.engine_call("touch_paths", cfg, changed, snap),
                             self.blobs)
        touched = await self.cpu.engine_call("touched", cfg, changed, head, base)
        after = await self._evaluate(gh, repo, inst, head, cfg, touched)
        before = await self._evaluate(gh, repo, inst, base, cfg, touched)
        deltas = diff(before, after)
        total = len((await self._feature_map(head, cfg)).features)
        out = pr_text.check_output(deltas, cfg.policy, total_features=total, link=self._link(repo, head_sha), notes=notes,
                                   changed=line_counts(head, changed))
        await self._finish_check(gh, repo, check_id, out)
        if job.get("number"):
            check_url = f"{self._web(repo)}/runs/{check_id}"
            await self._comment(gh, repo, job["number"], deltas, head_sha, check_url, cfg, total)

    async def _changed_files(self, gh, job: dict, base: Snapshot, head: Snapshot,
                             compare: dict | None = None) -> tuple[list[str], list[str]]:
        """The changed paths, and a note for the check when they had to be worked out another way.
        The comparison with the merge base lists them (a pull request's diff is that one) unless
        there are 300 or more; then the pull request's own list (up to 3,000), then the trees."""
        files = (compare or {}).get("files")
        if files is not None and len(files) < COMPARE_FILES_LIMIT:
            return _file_names(files), []
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
        overall = await self._overall(repo, deltas)
        board = await self.store.get_value(repo, "dashboard")
        dashboard = int(board) if board and board.isdigit() else None
        body = pr_text.comment_body(deltas, head_sha, check_url, total_features=total, link=self._link(repo, head_sha),
                                    overall=overall, dashboard=dashboard)
        # the content, not the link to this run's check: a re-run with the same result edits nothing
        digest = hashlib.sha256(pr_text.comment_body(deltas, head_sha, None, total_features=total, overall=overall,
                                                     dashboard=dashboard).encode()).hexdigest()
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

    async def _overall(self, repo: str, deltas) -> tuple | None:
        """The repository's overall alignment before and after the pull request: the touched features as
        measured, the others as the default branch's baseline has them. None before any baseline."""
        records = await self.store.baseline(repo)
        if not records:
            return None
        sides = []
        for side in ("before", "after"):
            values = {fid: rec.alignment for fid, rec in records.items()}
            for d in deltas:
                result = d.before if side == "before" else d.after
                if result is None:
                    values.pop(d.id, None)
                else:
                    values[d.id] = result.alignment
            sides.append(mean(values.values()))
        return tuple(sides)

    async def _find_comment(self, gh, repo: str, number: int) -> str | None:
        async for c in gh.getiter("/repos/{+repo}/issues/{number}/comments{?per_page}",
                                  {"repo": repo, "number": number, "per_page": 100}):
            if pr_text.COMMENT_MARKER in (c.get("body") or "") and self._ours(c):
                return str(c["id"])
        return None
