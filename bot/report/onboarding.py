"""The onboarding pull request: the config driftbot proposes for a repository, and why."""
from __future__ import annotations

from ..engine.model import Findings
from ..engine.proposal import CONFIG_PATH, Proposal
from .common import alignment_headline, neutralise, plural

BRANCH = "driftbot/onboarding"
TITLE = "Add a driftbot config (.github/driftbot.yml)"
MARKER = "<!-- driftbot:onboarding -->"
COMMIT_MESSAGE = "Add .github/driftbot.yml, proposed by driftbot from the repository's layout"


def pr_body(proposal: Proposal, findings: Findings, sha: str) -> str:
    """What the pull request proposes, what driftbot found with it, and what to do next."""
    paired, unpaired = proposal.paired(), proposal.unpaired()
    read = sum(proposal.documents_read().values())
    excl = proposal.count("exclude")
    lines = [MARKER, "driftbot looked at this repository with no config and found what it would check. This pull "
             f"request writes that down as `{CONFIG_PATH}`, so that you can see it, correct it and keep it.", ""]
    lines.append(f"**With it:** {alignment_headline(findings, strong=True)}, measured at `{sha[:12]}`.")
    lines += ["", "### What the file holds", ""]
    if paired:
        lines.append(f"- **{plural(paired, 'feature')} paired with code**: a spec and the folder of the same name.")
    if unpaired:
        lines.append(f"- **{plural(unpaired, 'spec')} with no folder of {'its' if unpaired == 1 else 'their'} name**: "
                     "the code is looked for wherever the requirements are implemented.")
    if read:
        splits = proposal.splits()
        how = []
        if "rows" in splits:
            how.append("a feature matrix gives a feature per row")
        if "headings" in splits:
            how.append("a document with a section per component gives a feature per section")
        if "epics" in splits:
            how.append("a document of epics gives a feature per epic")
        lines.append(f"- **{plural(read, 'document')} read as requirements** ({proposal.roles_phrase()}), each judged "
                     "against the code its requirements name" + (f"; {' and '.join(how)}" if how else "") + ".")
    if excl:
        lines.append(f"- **{plural(excl, 'exclusion')}**: generated or vendored code, whose names would otherwise "
                     "count as evidence.")
    if proposal.claims:
        lines.append(f"- {plural(len(proposal.claims), 'claims document')} (status reports, changelogs) are not read "
                     "as requirements: the status marks they set are re-checked against the code instead.")
    if proposal.not_read:
        lines.append(f"- {plural(len(proposal.not_read), 'other document')} (indexes, archives, examples, project "
                     "files) are left out; the end of the file lists them.")
    lines += ["", "Every entry in the file has a comment saying why it is there.", "",
              "### What to do", "",
              "- **Check it**: the comments say where each document's code was found. Correct what is wrong in this "
              "pull request; driftbot's check on it shows the report the file gives.",
              "- **Merge it**: from then on driftbot checks every pull request against this map, and its gap issues "
              "and dashboard follow it.",
              "- **Or close it**: driftbot keeps finding features from the layout on its own, and will not open "
              "this pull request again.", "",
              "Every setting is described in driftbot's config reference (`docs/config.md`); `driftbot validate` checks the file "
              "against a checkout, `driftbot init` proposes it again from a local checkout."]
    return neutralise("\n".join(lines) + "\n")


def superseded_comment(sha: str) -> str:
    return (f"A driftbot config reached the default branch another way (in `{sha[:12]}`), so this pull request is "
            "no longer needed: driftbot is closing it and deleting its branch.")
