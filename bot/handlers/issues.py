from gidgethub import routing

from ..jobkinds import DashboardJob
from ..report.issues import DASHBOARD_MARKER, ticked

router = routing.Router()


@router.register("issues", action="edited")
async def on_issue_edited(event, ctx) -> None:
    """A box ticked on the drift dashboard (the App's own rewrites unticks them, and are not acted on)."""
    data = event.data
    issue, sender = data["issue"], data.get("sender") or {}
    body = issue.get("body") or ""
    if "installation" not in data or DASHBOARD_MARKER not in body or sender.get("type") == "Bot":
        return
    recheck, waive = ticked(body)
    if recheck or waive:
        ctx.submit(DashboardJob(data["installation"]["id"], data["repository"]["full_name"], issue["number"],
                                sender.get("login", ""), body))
