"""The default branch: its baseline, one issue per new gap, and the dashboard."""
from __future__ import annotations

import asyncio

from gidgethub import BadRequest

from .. import codeowners as codeowners_mod
from .. import plans
from ..engine import ConfigError
from ..engine import rules as rules_mod
from ..engine.config import Config
from ..engine.snapshot import changed_paths
from ..github import fetch
from ..github.publish import create_once
from ..records import FeatureRecord
from ..report import issues as issue_text
from .base import COMPARE_FILES_LIMIT, MAX_NEW_ISSUES, _file_names, log


class Baseline:
    """The default branch: its baseline, one issue per new gap, and the dashboard.
    A part of DriftService (bot/service.py)."""

    async def push(self, job: dict) -> None:
        """Move the default branch's baseline to the pushed commit. Another job (another process)
        may move it first: then this one starts over from the new baseline, and stops there if its
        commit is not newer."""
        gh = await self.app.installation(job["installation"])
        if job.get("public") is not None:  # a badge is served for public repositories only
            await self._visible(job["repo"], job["public"])
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
            if files is not None and len(files) >= COMPARE_FILES_LIMIT:
                files = None  # compare lists at most 300 files
        head = await self._snapshot(gh, repo, sha)
        await fetch.prefetch(gh, repo, inst, head, self.blobs, everything=everything)  # one archive, if cheaper
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
            await fetch.fill(gh, repo, inst, head, await self.cpu.engine_call("touch_paths", cfg, paths, head),
                             self.blobs)
            touched = await self.cpu.engine_call("touched", cfg, paths, head)
        findings = await self._evaluate(gh, repo, inst, head, cfg, touched)
        current = {f.id for f in fmap.features}
        removed = [fid for fid in baseline if fid not in current]
        summaries = {f.id: issue_text.feature_record(f) for f in findings.features}
        if not await self.store.save_baseline(repo, sha, summaries, removed, expected=last):
            return False  # another job moved the baseline meanwhile: start over from it
        if cfg.policy.issues_enabled:
            await self._sync_issues(gh, repo, sha, findings, cfg, first=first, head=head, inst=inst, fork=job.get("fork"))
        if cfg.policy.dashboard:
            budget = self.app.budget(inst)
            if budget is None or not budget.low:
                await self._dashboard(gh, repo, sha, cfg)
            elif await self.store.take_quota(repo, "dashboard-while-budget-low", 1, 3600):
                await self._dashboard(gh, repo, sha, cfg, budget=budget)  # once an hour: says why it waits
        return True

    async def dashboard_ticked(self, job: dict) -> None:
        """Boxes ticked on the dashboard: ask for each ticked gap's waiver (one pull request collects
        them), recheck the default branch if asked; the dashboard is then drawn again, unticked. Only
        people with write access are acted for; for anyone else the boxes are simply cleared."""
        repo = job["repo"]
        gh = await self.app.installation(job["installation"])
        number = await self.store.get_value(repo, "dashboard")
        if number != str(job["issue_number"]):
            return  # not the dashboard this app keeps (a copy someone made, or one it no longer tracks)
        recheck, waive = issue_text.ticked(job["body"])
        if await self._collaborator(gh, repo, job["user"]):
            for fp in waive:
                await self._waiver_pr(gh, job, fp, f"asked for on the drift dashboard by @{job['user']} — "
                                                   "replace this with the reason", None)
            if recheck:
                commit = await gh.getitem("/repos/{+repo}/commits/{ref}", {"repo": repo, "ref": "HEAD"})
                await self.push({**job, "kind": "push", "after": commit["sha"], "full": True})
                return  # the push drew the dashboard again
        else:
            log.info("dashboard boxes ticked without write access", extra={"repo": repo, "user": job["user"]})
        sha = (await self.store.get_value(repo, "baseline-sha")) or "HEAD"
        try:
            cfg = await self._config(gh, repo, job["installation"], await self._snapshot(gh, repo, sha))
        except ConfigError:
            cfg = None
        await self._dashboard(gh, repo, sha, cfg)

    async def visibility(self, job: dict) -> None:
        await self._visible(job["repo"], bool(job.get("public")))

    async def _visible(self, repo: str, public: bool) -> None:
        """Serve the repository's badge (public) or stop serving it (private, deleted, App removed)."""
        key = f"badge:{repo.lower()}"
        if public:
            await self.store.set_value("", key, repo)
        else:
            await self.store.release_value("", key, repo)

    async def scan(self, job: dict) -> None:
        """First look at a repository (installation): the whole default branch, then the dashboard;
        with no config, a pull request that proposes one."""
        gh = await self.app.installation(job["installation"])
        commit = await gh.getitem("/repos/{+repo}/commits/{ref}", {"repo": job["repo"], "ref": "HEAD"})
        await self.push({**job, "after": commit["sha"], "full": True})
        if self.onboarding:
            await self._onboard(gh, job["repo"], job["installation"], commit["sha"])

    async def _compare(self, gh, repo: str, last: str, sha: str) -> dict | None:
        """GitHub's comparison of two commits; None when the old one is gone (a force push)."""
        try:
            return await gh.getitem("/repos/{+repo}/compare/{basehead}", {"repo": repo, "basehead": f"{last}...{sha}"})
        except BadRequest:
            return None

    async def _sync_issues(self, gh, repo: str, sha: str, findings, cfg: Config, *, first: bool,
                           head=None, inst: int = 0, fork: bool | None = None) -> None:
        """Carry out plans.plan_issue_sync: one issue per gap that appeared after the first analysis
        (at most MAX_NEW_ISSUES a push), reopened on regression, closed when resolved or waived."""
        waived = {w.fingerprint for w in cfg.waivers}
        results = {f.id: f for f in findings.features}
        link = self._link(repo, sha)
        now = plans.open_gaps(await self.store.baseline(repo), set(cfg.policy.issue_kinds), waived)
        known = await self.store.gap_issues(repo)
        actions = list(plans.plan_issue_sync(now, known, waived, first=first, cap=MAX_NEW_ISSUES))
        guide = None
        if head is not None and any(isinstance(a, plans.File) for a in actions):
            guide = await self._issue_guide(gh, repo, inst, head, cfg, fork)
        for action in actions:
            fp = action.fingerprint
            if isinstance(action, plans.Record):
                if await self.store.claim_gap_issue(repo, fp, action.feature):
                    await self.store.set_gap_issue(repo, fp, None, "baseline")
            elif isinstance(action, plans.File):
                if not await self.store.claim_gap_issue(repo, fp, action.feature):
                    continue  # another delivery is filing it
                fid = action.feature
                gap = action.gap.gap(fp, fid)
                rules, codeowners, assign = guide or (None, None, False)
                try:
                    owners = issue_text.gap_owners(gap, results.get(fid), codeowners)
                    number = await self._existing_issue(gh, repo, fp)
                    if number is None:
                        async def find(fp=fp):
                            n = await self._existing_issue(gh, repo, fp, recent=True)
                            return {"number": n} if n else None

                        body = issue_text.gap_body(gap, results.get(fid), sha, link, rules=rules, owners=owners,
                                                   owners_file=codeowners.path if codeowners else "")
                        made = await create_once(lambda gap=gap, body=body: gh.post("/repos/{+repo}/issues", {"repo": repo}, data={
                            "title": issue_text.gap_title(gap), "body": body,
                            "labels": list(cfg.policy.issue_labels)}), find, what="gap issue")
                        number = made["number"]
                        if assign:
                            await self._assign(gh, repo, number, codeowners_mod.users(owners))
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

    async def _issue_guide(self, gh, repo: str, inst: int, head, cfg: Config, fork: bool | None):
        """What new gap issues are written with: the rule packs in force (for their fix texts), the
        repository's CODEOWNERS, and whether to assign its people (by default yes, unless a fork).
        Anything that goes wrong here costs the guidance or the owners, never the issues."""
        try:
            rules = await asyncio.to_thread(rules_mod.select, cfg.packs, head.paths(), cfg.custom_packs)
        except Exception:  # noqa: BLE001 - see above
            log.warning("rule packs not loaded for gap issues", extra={"repo": repo}, exc_info=True)
            rules = None
        owners = None
        try:
            path = codeowners_mod.find(head.paths())
            entry = head.entry(path) if path is not None else None
            if entry is not None and entry.size <= codeowners_mod.MAX_BYTES:
                await fetch.fill(gh, repo, inst, head, [path], self.blobs)
                text = head.read(path).decode("utf-8", "replace")
                owners = await asyncio.to_thread(codeowners_mod.parse, text, path)
            assign = cfg.policy.assign_owners
            if assign is None and owners is not None:
                if fork is None:
                    fork = bool((await gh.getitem("/repos/{+repo}", {"repo": repo})).get("fork"))
                assign = not fork
        except Exception:  # noqa: BLE001 - see above
            log.warning("CODEOWNERS not read; gap issues are filed without owners", extra={"repo": repo},
                        exc_info=True)
            owners, assign = None, False
        return rules, owners, bool(assign) and owners is not None

    async def _assign(self, gh, repo: str, number: int, logins: list[str]) -> None:
        """Assign an issue to its code owners. GitHub skips people who cannot be assigned; a failure
        here costs the assignment, never the issue."""
        if not logins:
            return
        try:
            await gh.post("/repos/{+repo}/issues/{number}/assignees", {"repo": repo, "number": number},
                          data={"assignees": logins[:10]})
        except Exception:  # noqa: BLE001 - see above
            log.warning("gap issue not assigned", extra={"repo": repo, "issue": number}, exc_info=True)

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

    async def _dashboard(self, gh, repo: str, sha: str, cfg: Config | None = None, budget=None) -> None:
        config_waivers = [(w.fingerprint, w.reason, w.until.isoformat() if w.until else None)
                          for w in (cfg.waivers if cfg else ()) if w.line]  # those written in the config
        waived = {w.fingerprint for w in (await self.store.waivers(repo))} | {fp for fp, _r, _u in config_waivers}
        # waivers set since a feature was last evaluated count now
        features: dict[str, FeatureRecord] = {fid: rec.waiving(waived)
                                              for fid, rec in (await self.store.baseline(repo)).items()}
        issues = {fp: rec.number for fp, rec in (await self.store.gap_issues(repo)).items() if rec.number and rec.state == "open"}
        waivers = config_waivers + [(w.fingerprint, w.reason, w.until) for w in (await self.store.waivers(repo))
                                    if w.fingerprint not in {fp for fp, _r, _u in config_waivers}]
        body = issue_text.dashboard_body(features, (await self.store.history(repo)), issues, waivers, sha,
                                         budget=budget)
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
