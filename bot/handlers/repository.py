from gidgethub import routing

from ..jobkinds import VisibilityJob

router = routing.Router()


@router.register("repository", action="privatized")
@router.register("repository", action="deleted")
async def on_hidden(event, ctx) -> None:
    if "installation" in event.data:
        ctx.submit(VisibilityJob(event.data["installation"]["id"], event.data["repository"]["full_name"], False))


@router.register("repository", action="publicized")
async def on_shown(event, ctx) -> None:
    if "installation" in event.data:
        ctx.submit(VisibilityJob(event.data["installation"]["id"], event.data["repository"]["full_name"], True))
