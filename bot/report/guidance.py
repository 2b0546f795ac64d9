"""What to do about a gap: the help for each kind of gap, the step that follows from one gap's actual
cause, and the fix texts of the rule packs whose rules decide it. Read by the SARIF rules, the gap
issues and anywhere else a person is told how to fix drift (pure)."""
from __future__ import annotations

from ..engine.model import Gap, GapKind, Kind, RequirementResult
from .common import partial_step

# What each kind of gap means, and how to fix it, in general.
HELP = {
    GapKind.MISSING: ("The spec names something — an endpoint, a file, a class or member, a setting, a command — "
                      "that the feature's code does not define or register anywhere driftbot looked.",
                      "Implement it where the feature's code lives, or, if the spec is ahead of the plan, mark the "
                      "requirement as planned (an open checkbox, a status column, a \"Planned\" section)."),
    GapKind.PARTIAL: ("The requirement is met only in part: the name exists but not where the spec says, or not "
                      "with the method, parameters or value it states.",
                      "Compare the evidence with the spec line and complete the implementation, or correct the "
                      "spec if the code is right."),
    GapKind.CLAIMED_DONE: ("The spec marks this as done (a checked box, a \"Done\" status), but nothing in the code "
                           "implements it.",
                           "Implement it, or uncheck it in the spec so the status tells the truth."),
    GapKind.STALE_SPEC: ("The spec still lists this as open or planned, but the code already implements it.",
                         "Check the box or update the status in the spec."),
    GapKind.NO_CODE: ("No code implements this spec at all: no folder of the feature's name, no file or name the "
                      "spec mentions.",
                      "Implement the feature, pair the spec with its code in `.github/driftbot.yml`, or mark the "
                      "spec as future work."),
    GapKind.NO_TESTS: ("The feature's code has no tests: no test file in or beside it, and none named after it.",
                       "Add tests for the feature's code."),
    GapKind.MARKER: ("The feature's code holds an unfinished-work note (TODO, FIXME, WIP) or a stub that raises "
                     "\"not implemented\".",
                     "Finish the work the note describes, or remove the stale note."),
    GapKind.NOT_WIRED: ("The feature's code is defined, but nothing outside the feature references it: no route, "
                        "import or call reaches it, so it may never run.",
                        "Register it (a route, a command, a job) or import it where the program starts."),
}
# the rule-pack rules whose verdicts each gap kind rests on, for their fix guidance
PACK_RULES = {GapKind.MISSING: ("routes", "definitions"), GapKind.PARTIAL: ("routes",),
               GapKind.NO_TESTS: ("tests",), GapKind.MARKER: ("markers",), GapKind.NOT_WIRED: ("references",)}


# for a missing requirement, the rules that decide it depend on what it names
_MISSING_GROUPS = {Kind.ENDPOINT: ("routes",), Kind.SYMBOL: ("definitions",)}


def pack_fixes(kind: GapKind, packs, anchors=None, limit: int = 4) -> list[str]:
    """The fix texts of ``packs``' rules that decide gaps of ``kind`` (as "pack (`rule`): text"),
    without repeats. ``anchors``: the kinds of what the requirement names, which narrow a missing
    requirement to the rules about those (None: every rule the kind rests on)."""
    groups = PACK_RULES.get(kind, ())
    if kind is GapKind.MISSING and anchors is not None:
        groups = tuple(dict.fromkeys(g for a in anchors for g in _MISSING_GROUPS.get(a, ())))
    out: dict[str, None] = {}
    for pack in packs:
        for group in groups:
            for r in getattr(pack, group, ()):
                if r.fix and not r.fix.startswith("Nothing to fix"):
                    out.setdefault(f"{pack.name} (`{r.id}`): {r.fix}")
    return list(out)[:limit]


def fix_steps(gap: Gap, result: RequirementResult | None, packs=()) -> tuple[str, list[str]]:
    """How to fix one gap: the step its cause calls for (a sentence), and the fix texts of the rule
    packs of the feature's code that decide gaps like it ("pack (`rule`): text")."""
    step = (partial_step(gap.message) if gap.kind is GapKind.PARTIAL else None) or HELP[gap.kind][1]
    anchors = None
    if result is not None:
        anchors = {a.kind for a in result.requirement.anchors} or {result.requirement.kind}
    return step, pack_fixes(gap.kind, packs, anchors)
