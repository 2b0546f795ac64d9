from gidgethub import routing

from ..jobkinds import ScanJob, VisibilityJob

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


@router.register("installation", action="deleted")
async def on_installation_deleted(event, ctx) -> None:
    inst = event.data["installation"]["id"]
    for r in event.data.get("repositories") or []:  # no longer ours to show
        ctx.submit(VisibilityJob(inst, r["full_name"], False))


@router.register("installation_repositories", action="removed")
async def on_repositories_removed(event, ctx) -> None:
    inst = event.data["installation"]["id"]
    for r in event.data.get("repositories_removed") or []:
        ctx.submit(VisibilityJob(inst, r["full_name"], False))
