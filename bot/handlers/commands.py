from gidgethub import routing

from ..jobkinds import CommandJob
from ..report.commands import is_command

router = routing.Router()


@router.register("issue_comment", action="created")
async def on_comment_created(event, ctx) -> None:
    data = event.data
    comment = data["comment"]
    if (comment.get("user") or {}).get("type") == "Bot" or (data.get("sender") or {}).get("type") == "Bot":
        return  # never answer bots, ourselves included
    if not is_command(comment.get("body")) or "installation" not in data:
        return
    issue = data["issue"]
    ctx.submit(CommandJob(data["installation"]["id"], data["repository"]["full_name"], issue["number"], comment["id"],
                          comment["user"]["login"], "pull_request" in issue, comment["body"][:2000]))
