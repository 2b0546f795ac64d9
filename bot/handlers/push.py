from gidgethub import routing

from ..jobkinds import PushJob

router = routing.Router()


@router.register("push")
async def on_push(event, ctx) -> None:
    data = event.data
    repo = data["repository"]
    if data.get("deleted") or data.get("ref") != f"refs/heads/{repo['default_branch']}" or "installation" not in data:
        return  # only the default branch moves the baseline
    public = None if "private" not in repo else not repo["private"]
    ctx.submit(PushJob(data["installation"]["id"], repo["full_name"], data["after"], public, repo.get("fork")))
