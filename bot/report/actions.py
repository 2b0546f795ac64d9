"""`driftbot check` inside GitHub Actions: the job summary (the same table the App comments on a pull
request) and annotations as workflow commands, capped as GitHub shows them."""
from __future__ import annotations

from .pr import CheckOutput

# GitHub shows at most 10 annotations of each level per step; the rest would be dropped silently
MAX_PER_LEVEL = 10
_LEVEL = {"failure": "error", "warning": "warning", "notice": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(out: CheckOutput, prefix: str = "") -> list[str]:
    """``::warning file=…,line=…,title=…::message`` lines for the check's annotations, at most
    MAX_PER_LEVEL of each level, and a notice that says how many more the summary lists. ``prefix``:
    the checked folder's path in the repository (annotations name the repository's files)."""
    lines, shown, hidden = [], {}, 0
    for a in out.annotations:
        level = _LEVEL.get(a["annotation_level"], "notice")
        if shown.get(level, 0) >= MAX_PER_LEVEL:
            hidden += 1
            continue
        shown[level] = shown.get(level, 0) + 1
        props = f"file={_prop(prefix + a['path'])},line={a['start_line']},endLine={a['end_line']},title={_prop(a['title'])}"
        lines.append(f"::{level} {props}::{_data(a['message'])}")
    if hidden:
        lines.append(f"::notice title=driftbot::{hidden} more annotation{'s' if hidden != 1 else ''} not shown "
                     "here: the job summary lists every gap")
    return lines
