"""Installation: the pull request that proposes a config where there is none."""
from __future__ import annotations

import asyncio
import base64

from gidgethub import BadRequest

from ..engine.config import Config, find_config_path
from ..engine.proposal import CONFIG_PATH as CONFIG_PROPOSAL_PATH, annotate, config_of, propose
from ..engine.snapshot import Snapshot
from ..github import fetch
from ..github.publish import create_once
from ..report import onboarding as onboarding_text
from .base import log


class Onboarding:
    """Installation: the pull request that proposes a config where there is none.
    A part of DriftService (bot/service.py)."""

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
        earlier = await self._pull_from(gh, repo, onboarding_text.BRANCH)
        if earlier is not None:  # offered before (the store was lost): never a second one
            return f"open:{earlier['number']}" if earlier.get("state") == "open" else "closed"
        cfg0 = Config()
        await self._documents(gh, repo, inst, cfg0, snap)
        if ".gitattributes" in snap:
            await fetch.fill(gh, repo, inst, snap, [".gitattributes"], self.blobs)
        proposal = await self.cpu.with_engine(propose, snap, repo.split("/")[-1])
        if not any(e.section in ("features", "documents") for e in proposal.entries):
            return "nothing"  # no spec or design document: nothing to write down
        cfg = await self._cpu(config_of, proposal, snap)
        fmap = await self._feature_map(snap, cfg)
        findings = await self._evaluate(gh, repo, inst, snap, cfg, [f.id for f in fmap.features])
        proposal = await self._cpu(annotate, proposal, findings)
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
        made = await create_once(lambda: gh.post("/repos/{+repo}/pulls", {"repo": repo}, data={
            "title": onboarding_text.TITLE, "head": branch, "base": info["default_branch"],
            "body": onboarding_text.pr_body(proposal, findings, sha)}),
            lambda: self._pull_from(gh, repo, branch), what="onboarding pull request")
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
