from gidgethub import routing

from ..jobkinds import CommitCheckJob, PullRequestJob

router = routing.Router()


def _jobs(data: dict, head_sha: str, pulls: list[dict], force: bool):
    repo = data["repository"]["full_name"]
    inst = data["installation"]["id"]
    if not pulls:
        # no pull request (a branch push, or a fork): compare the commit with the default branch
        yield CommitCheckJob(inst, repo, head_sha, data["repository"]["default_branch"], force)
        return
    for pr in pulls:
        yield PullRequestJob(inst, repo, pr["number"], head_sha, pr["base"]["sha"], force=force)


@router.register("check_suite", action="requested")
@router.register("check_suite", action="rerequested")
async def on_check_suite_requested(event, ctx) -> None:
    suite = event.data["check_suite"]
    rerun = event.data["action"] == "rerequested"
    for job in _jobs(event.data, suite["head_sha"], suite.get("pull_requests") or [], rerun):
        ctx.submit(job)


@router.register("check_run", action="rerequested")
async def on_check_run_rerequested(event, ctx) -> None:
    run = event.data["check_run"]
    if run.get("name") != "driftbot":
        return
    for job in _jobs(event.data, run["head_sha"], run.get("pull_requests") or [], True):
        ctx.submit(job)


@router.register("check_run", action="requested_action")
async def on_check_run_action(event, ctx) -> None:
    if (event.data.get("requested_action") or {}).get("identifier") != "recheck":
        return
    await on_check_run_rerequested(event, ctx)
