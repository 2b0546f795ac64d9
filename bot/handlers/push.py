from gidgethub import routing

router = routing.Router()


@router.register("push")
async def on_push(event, ctx) -> None:
    data = event.data
    repo = data["repository"]
    if data.get("deleted") or data.get("ref") != f"refs/heads/{repo['default_branch']}" or "installation" not in data:
        return  # only the default branch moves the baseline
    job = {"kind": "push", "installation": data["installation"]["id"], "repo": repo["full_name"],
           "after": data["after"]}
    ctx.submit(job, f"push:{repo['full_name']}")
