"""Slash commands in comments, their replies, and the waiver pull request."""
from __future__ import annotations

import asyncio
import base64
import time

from gidgethub import BadRequest

from ..engine import ConfigError
from ..engine.config import CONFIG_PATHS, parse_config, waivers_kept, with_waiver, without_waiver
from ..github.publish import create_once
from ..report.commands import HELP, Command, code_span, explain_feature, parse_command, quote_command, summary_table
from ..report.common import neutralise
from .base import REPLIES_PER_HOUR, STATE_CHANGING, WAIVER_BRANCH, WRITE_PERMISSIONS, log


class Commands:
    """Slash commands in comments, their replies, and the waiver pull request.
    A part of DriftService (bot/service.py)."""

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
        # the first reply counts too: REPLIES_PER_HOUR - 1 more within any hour
        return await self.store.take_quota(repo, f"reply:{thread}:{user.lower()}", REPLIES_PER_HOUR - 1, 3600)

    async def _waiver_pr(self, gh, job: dict, fingerprint: str, reason: str | None, until: str | None) -> str:
        """Add (reason given) or remove a waiver in the config, through one pull request from the
        branch driftbot/waivers that collects them: the repository stays the one source of truth, so
        `driftbot check` in CI agrees with the App, and the change takes effect once merged."""
        async with self._waiver_locks.setdefault(job["repo"], asyncio.Lock()):  # one edit of the branch at a time
            return await self._edit_waivers(gh, job, fingerprint, reason, until)

    async def _edit_waivers(self, gh, job: dict, fingerprint: str, reason: str | None, until: str | None) -> str:
        repo, user = job["repo"], job["user"]
        branch = WAIVER_BRANCH
        info = await gh.getitem("/repos/{+repo}", {"repo": repo})
        base = info["default_branch"]
        open_pr = await self._pull_from(gh, repo, branch, "open")
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
            made = await create_once(lambda: gh.post("/repos/{+repo}/pulls", {"repo": repo}, data={
                "title": "driftbot: waivers", "head": branch, "base": base,
                "body": f"Waivers asked for in comments, written into `{path}` so that the App and "
                        f"`driftbot check` agree. They take effect when this is merged.\n\n{line}"}),
                lambda: self._pull_from(gh, repo, branch, "open"), what="waiver pull request")
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
