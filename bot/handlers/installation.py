from gidgethub import routing

from ..jobkinds import ScanJob

router = routing.Router()


@router.register("installation", action="created")
async def on_installation_created(event, ctx) -> None:
    inst = event.data["installation"]["id"]
    for r in event.data.get("repositories") or []:
        ctx.submit(ScanJob(inst, r["full_name"], _public(r)))


@router.register("installation_repositories", action="added")
async def on_repositories_added(event, ctx) -> None:
    inst = event.data["installation"]["id"]
    for r in event.data.get("repositories_added") or []:
        ctx.submit(ScanJob(inst, r["full_name"], _public(r)))


def _public(repo: dict) -> bool | None:
    return None if "private" not in repo else not repo["private"]
