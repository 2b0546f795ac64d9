from gidgethub import routing

from ..jobkinds import PullRequestJob

router = routing.Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def on_pull_request_changed(event, ctx) -> None:
    pr = event.data["pull_request"]
    repo = event.data["repository"]["full_name"]
    ctx.submit(PullRequestJob(event.data["installation"]["id"], repo, pr["number"], pr["head"]["sha"],
                              pr["base"]["sha"], pr.get("changed_files")))
