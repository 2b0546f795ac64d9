from gidgethub import routing

router = routing.Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def on_pull_request_changed(event, ctx) -> None:
    pr = event.data["pull_request"]
    repo = event.data["repository"]["full_name"]
    job = {"kind": "pull_request", "installation": event.data["installation"]["id"], "repo": repo,
           "number": pr["number"], "head_sha": pr["head"]["sha"], "base_sha": pr["base"]["sha"],
           "changed_files": pr.get("changed_files")}
    ctx.submit(job, f"pr:{repo}:{pr['number']}")
