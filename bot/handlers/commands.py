from gidgethub import routing

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
    job = {"kind": "command", "installation": data["installation"]["id"], "repo": data["repository"]["full_name"],
           "issue_number": issue["number"], "comment_id": comment["id"], "user": comment["user"]["login"],
           "is_pull_request": "pull_request" in issue, "text": comment["body"][:2000]}
    ctx.submit(job, f"command:{comment['id']}")
