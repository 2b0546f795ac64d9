"""Which documents a repository holds and what each one is for.

Every Markdown (and Gherkin) file is given a role from its place, its name and, when its text is at
hand, its title, its status line and what it mostly says:

- read as requirements: feature specs, roadmaps, plans, requirement documents, architecture and
  design documents, ADRs and RFCs that are accepted or proposed, guides, references, runbooks and
  component READMEs;
- re-checked, never read as requirements: *claims* — status reports, summaries, audits, changelogs,
  release notes, completion logs and hand-written drift reports say what was done, not what is asked;
- left alone, each with its reason: the project README and community files, indexes that only link,
  archived or superseded documents, and documents in hidden, vendored, test or example folders.

The role comes with a sentence saying why, so a report can list every document and what was done
with it. Pure: paths and text in, roles out.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

DOC_SUFFIXES = (".md", ".markdown", ".mdx", ".feature")
READ_ROLES = ("spec", "requirements", "roadmap", "plan", "architecture", "adr", "rfc", "guide", "reference",
              "runbook", "component")
ROLE_NAMES = {
    "spec": "feature spec", "requirements": "requirements", "roadmap": "roadmap", "plan": "plan",
    "architecture": "architecture / design", "adr": "decision record", "rfc": "RFC / proposal",
    "guide": "guide", "reference": "reference", "runbook": "runbook", "component": "component README",
    "claims": "claims (status report)", "index": "index", "meta": "project file", "archived": "archived",
    "superseded": "superseded", "skipped": "not read",
}

# Folders that hold documentation (any depth below the repository root counts when it is the first folder).
DOC_ROOTS = {"docs", "doc", "documentation", "design", "designs", "spec", "specs", "specification", "rfc", "rfcs",
             "adr", "adrs", "decisions", "architecture", "proposals", "wiki", "handbook", "planning", "plans",
             "roadmap", "requirements", "prd", "runbooks", "playbooks", "guides", "manual"}
_ARCHIVE_DIRS = {"archive", "archived", "attic", "deprecated", "obsolete", "old", "legacy", "historical", "history",
                 "graveyard", "retired", "outdated", "superseded"}
_SKIP_DIRS = {  # folder name -> why its documents are not specs
    **dict.fromkeys(("node_modules", "vendor", "vendored", "third_party", "third-party", "thirdparty", "external",
                     "extern", "site-packages", "bower_components"), "vendored or third-party code"),
    **dict.fromkeys(("fixtures", "fixture", "testdata", "test-data", "test_data", "__snapshots__", "snapshots",
                     "tests", "test", "e2e", "spec_helper", "__tests__"), "test files"),
    **dict.fromkeys(("examples", "example", "samples", "sample", "demo", "demos"), "examples"),
    **dict.fromkeys(("dist", "build", "out", "target", "_build", "site", "public", "coverage", "artifacts",
                     "artefacts", "output", "outputs", "logs", "tmp", "temp", "generated"),
                    "build output or generated files"),
    **dict.fromkeys(("templates", "template", "presets", "prompts", "i18n", "locales", "translations"),
                    "templates or data the program uses"),
    **dict.fromkeys(("changelogs", "changes", "newsfragments", "releasenotes", "release-notes", "changesets",
                     ".changeset"), "change notes"),
}
_CLAIM_DIRS = {"audit", "audits", "status", "retros", "retrospectives", "postmortems", "post-mortems", "changelog",
               "releases", "release-notes", "journal", "sprint-logs", "standups", "reports"}
_ADR_DIRS = {"adr", "adrs", "decisions", "decision-records", "architecture-decisions"}
_RFC_DIRS = {"rfc", "rfcs", "proposals", "proposal", "enhancements", "keps", "peps", "design-proposals"}
_ARCH_DIRS = {"architecture", "design", "designs", "diagrams", "system", "internals"}

# File-name words. Matched against the words of the name (split at separators and case changes).
_META_NAMES = {"readme", "contributing", "code_of_conduct", "codeofconduct", "conduct", "license", "licence", "copying",
               "authors", "contributors", "maintainers", "codeowners", "support", "funding", "notice", "citation",
               "pull_request_template", "issue_template", "governance", "agents", "claude", "copilot-instructions",
               "gemini", "cursorrules", "styleguide", "code-review", "security"}
# Words that on their own say a file reports what was done …
_CLAIM_WORDS = {"changelog", "handoff", "handover", "retro", "retrospective", "postmortem", "complete", "completed",
                "completion", "done", "published", "executed", "victory", "recap", "standup", "devlog", "whatsnew",
                "stabilization", "delivered", "finished", "achievements", "accomplishments"}
# … and words that also name features (an audit log, a status page): a second sign is needed
_WEAK_CLAIM_WORDS = {"summary", "summaries", "status", "report", "reports", "audit", "audits", "progress", "log",
                     "logs", "results", "minutes", "journal", "diary", "scorecard", "history", "changes", "news",
                     "session"}
_TITLE_CLAIM = re.compile(r"\b(?:complete[d]?|completion|summary|changelog|change log|release notes|retrospective|"
                          r"post-?mortem|recap|(?:status|progress|audit|completion|test) report|audit (?:findings|results)|"
                          r"implementation status|gap analysis|drift report|alignment (?:delta|report)|sprint review|"
                          r"what was done|lessons learned|victory|session notes|session log)\b", re.I)
_CLAIM_PHRASES = re.compile(r"release[ _-]?notes|gap[ _-]?analysis|drift[ _-]?report|alignment[ _-]?(?:delta|report)|"
                            r"implementation[ _-]?status|what[ _-]?was[ _-]?done|sprint[ _-]?review|"
                            r"coverage[ _-]?improvements?|missing[ _-]?to|final[ _-]?(?:status|summary|report)|"
                            r"lessons[ _-]?learned|test[ _-]?results", re.I)
_ROLE_BY_DIR = {**dict.fromkeys(_ARCH_DIRS, "architecture"),
                **dict.fromkeys(("runbooks", "runbook", "playbooks", "operations", "ops", "oncall"), "runbook"),
                **dict.fromkeys(("guides", "guide", "tutorials", "howto", "how-to", "getting-started"), "guide"),
                **dict.fromkeys(("reference", "references", "api-reference", "cli"), "reference"),
                **dict.fromkeys(("roadmap", "roadmaps", "planning", "plans"), "plan"),
                **dict.fromkeys(("requirements", "prd"), "requirements")}
_DOC_ROOT = re.compile(r"^(?:docs?|documentation)(?:[-_.].*)?$")
_ROLE_BY_NAME = [  # first match wins
    ("roadmap", {"roadmap", "roadmaps", "milestones", "backlog"}),
    ("requirements", {"prd", "srs", "requirements", "requirement", "specification", "spec", "specs", "mrd",
                      "acceptance"}),
    ("adr", {"adr", "decision", "decisions"}),
    ("rfc", {"rfc", "proposal", "proposals", "kep", "pep", "enhancement"}),
    ("runbook", {"runbook", "runbooks", "playbook", "playbooks", "operations", "ops", "oncall", "on-call",
                 "incident", "incidents", "sre", "operating"}),
    ("plan", {"plan", "plans", "planning", "prompt", "brief", "sprint", "todo", "tasks", "task", "endgame",
              "strategy", "vision", "goals", "objectives", "scope", "epic", "epics", "stories", "milestone",
              "next", "phase", "refinements", "builder"}),
    ("architecture", {"architecture", "design", "designs", "overview", "components", "component", "dataflow",
                      "data-flow", "diagram", "diagrams", "internals", "system", "model", "models", "schema",
                      "topology", "flow", "flows", "sequence", "state", "machine", "blueprint"}),
    ("reference", {"reference", "configuration", "config", "settings", "options", "api", "cli", "commands",
                   "endpoints", "errors", "glossary", "schema", "env", "environment", "variables", "faq",
                   "protocol", "format", "formats", "spec-reference"}),
    ("guide", {"guide", "guides", "quickstart", "tutorial", "tutorials", "howto", "how-to", "setup", "install",
               "installation", "usage", "development", "deploy", "deployment", "deploying", "upgrade",
               "upgrading", "migration", "migrating", "start", "started", "onboarding", "testing",
               "benchmarking", "benchmarks", "performance", "perf", "docker", "kubernetes", "k8s", "local",
               "manual", "handbook", "cookbook", "recipes", "walkthrough", "release", "releasing", "checklist"}),
]
_STATUS_LINE = re.compile(r"^\s*(?:[-*]\s*)?\**status\**\s*[:：]\s*\**\s*(?P<s>[^\n*|]+)", re.I | re.M)
_STATUS_HEADING = re.compile(r"^#{1,3}\s*status\s*\n+\s*\**(?P<s>[^\n*|]+)", re.I | re.M)
_FRONT = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n(?P<body>.*?)\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TITLE = re.compile(r"^#\s+(?P<t>.+?)\s*#*\s*$", re.M)
_FRONT_TITLE = re.compile(r"^title\s*:\s*['\"]?(?P<t>[^'\"\n]+)", re.M | re.I)
_LINK_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\*\*)?\[[^\]]+\]\([^)]+\)")
_DONE_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)]|\|[^|\n]*\|)?.*?(?:✅|✔️|✔|☑️|☑|\[[xX]\])")
_OPEN_MARK = re.compile(r"\[ \]|❌|📋|🔜|⏳|\bTODO\b|\bTBD\b")
_NORMATIVE = re.compile(r"\b(must|shall|should|will|needs? to|required|requires|add|implement|support|provide)\b",
                        re.I)
_PAST = re.compile(r"\b(implemented|completed|delivered|shipped|added|created|fixed|merged|deployed|achieved|"
                   r"passed|resolved|finished|done)\b", re.I)


@dataclass(frozen=True)
class DocRole:
    role: str
    why: str
    title: str = ""
    status: str = ""  # planned | excluded | "" — what the document says of itself (ADR/RFC status line)

    @property
    def read(self) -> bool:
        return self.role in READ_ROLES

    @property
    def label(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def is_doc(path: str) -> bool:
    return path.lower().endswith(DOC_SUFFIXES)


def name_words(path: str) -> list[str]:
    """The words of a file's name: ``2025.10.04-SPRINT42-PERF-TELEMETRY-PLAN.md`` → sprint42 … plan,
    ``implementationStatus.md`` → implementation, status."""
    stem = posixpath.basename(path)
    for suf in DOC_SUFFIXES:
        if stem.lower().endswith(suf):
            stem = stem[: -len(suf)]
            break
    stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", stem.lower()) if w]
    # "sprint42" → "sprint", "42" so the word lists see "sprint"
    out = []
    for w in words:
        m = re.fullmatch(r"([a-z]+)(\d+[a-z]?)", w)
        out.extend([m.group(1)] if m else [w])
    return out


def title_of(text: str) -> str:
    m = _FRONT.match(text)
    if m:
        t = _FRONT_TITLE.search(m.group("body"))
        if t:
            return t.group("t").strip()
    for line in text.splitlines()[:60]:
        mt = _TITLE.match(line)
        if mt:
            return re.sub(r"[*_`]", "", mt.group("t")).strip()
        if line.lower().startswith("feature:"):
            return line.split(":", 1)[1].strip()
    return ""


def self_status(text: str) -> tuple[str, str]:
    """(planned | excluded | accepted | "", the status as written) from a status line or heading."""
    m = _FRONT.match(text)
    head = "\n".join(text.splitlines()[:60])
    hit = (_STATUS_LINE.search(m.group("body")) if m else None) or _STATUS_LINE.search(head) or \
        _STATUS_HEADING.search(head)
    if not hit:
        return "", ""
    raw = hit.group("s").strip().strip("*_` ")
    s = raw.lower()
    if re.match(r"(superseded|deprecated|rejected|withdrawn|obsolete|abandoned|replaced|declined|retired|"
                r"historical|archived|frozen snapshot|no longer)", s):
        return "excluded", raw
    if re.match(r"(proposed|draft|planned|rfc|under review|in review|not started|pending|future|idea|"
                r"exploring|discussion|open)", s):
        return "planned", raw
    if re.match(r"(accepted|approved|adopted|agreed|active|implemented|done|final|decided|living|current|"
                r"stable|in progress|✅)", s):
        return "accepted", raw
    return "", raw


def _claims_by_content(text: str) -> str:
    """Why a document reads as a completion report (mostly ticks and past tense), or ""."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 8:
        return ""
    done = sum(1 for ln in lines if _DONE_MARK.match(ln))
    open_ = sum(1 for ln in lines if _OPEN_MARK.search(ln))
    normative = sum(1 for ln in lines if _NORMATIVE.search(ln))
    past = sum(1 for ln in lines if _PAST.search(ln))
    if done >= 8 and done >= 4 * max(1, open_) and past >= normative:
        return f"{done} lines are ticked off and it speaks in the past tense: a completion report"
    return ""


def _is_index(text: str) -> bool:
    """A table of contents: most of its content lines are links."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", "---", "<!--"))]
    if len(lines) < 4:
        return False
    links = sum(1 for ln in lines if _LINK_LINE.match(ln) or ln.count("](") >= 2)
    return links >= 0.6 * len(lines)


def classify(path: str, text: str | None, *, code_dirs: frozenset[str] | set[str] = frozenset()) -> DocRole:
    """The role of one document. ``text`` may be None when only the path is known (the role is then
    decided from the path alone). ``code_dirs`` are the folders that hold code, so a README inside a
    code folder reads as that component's documentation."""
    parts = path.split("/")
    dirs = [d.lower() for d in parts[:-1]]
    words = name_words(path)
    wordset = set(words)
    base = posixpath.basename(path).lower()
    stem = base.rsplit(".", 1)[0]
    title = title_of(text) if text else ""
    if base.endswith(".feature"):
        if any(d in ("node_modules", "vendor", "fixtures", "testdata") for d in dirs):
            return DocRole("skipped", "a Gherkin file in a vendored or fixture folder", title)
        return DocRole("spec", "a Gherkin feature file", title)
    hidden = next((d for d in parts[:-1] if d.startswith(".") and d not in (".github",)), None)
    if hidden:
        return DocRole("skipped", f"in the hidden folder {hidden}/ (tool state or build output)", title)
    if dirs and dirs[0] == ".github":
        return DocRole("meta", "a GitHub template or instruction file", title)
    arch = next((d for d in dirs if d in _ARCHIVE_DIRS), None)
    if arch:
        return DocRole("archived", f"in {arch}/: kept for history, not current", title)
    root_at = next((i for i, d in enumerate(dirs) if d in DOC_ROOTS or _DOC_ROOT.match(d)), None)
    in_docs = root_at is not None
    before = dirs if root_at is None else dirs[:root_at]
    after = [] if root_at is None else dirs[root_at + 1:]
    skip = next((d for d in before if d in _SKIP_DIRS), None) or \
        next((d for d in after if d in _SKIP_DIRS and _SKIP_DIRS[d] in ("vendored or third-party code", "test files",
                                                                         "build output or generated files")), None)
    if skip:
        return DocRole("skipped", f"in {skip}/: {_SKIP_DIRS[skip]}", title)
    # a folder's README describes the folder; docs/SECURITY.md describes security features (a root
    # SECURITY.md is the disclosure policy): neither is a project file
    describes = (stem == "readme" and dirs and (in_docs or "/".join(parts[:-1]) in code_dirs)) or \
        (stem == "security" and in_docs)
    if (stem in _META_NAMES or stem.replace("-", "_") in _META_NAMES) and not describes:
        if stem == "readme" and dirs:
            return DocRole("skipped", f"the README of {'/'.join(parts[:-1])}/, which holds no code", title)
        return DocRole("meta", "a project file (README, licence, contribution or policy), not a spec", title)
    if in_docs and len(dirs) == root_at + 1 and stem in ("readme", "index", "_index", "home", "contents", "toc", "summary"):
        return DocRole("index", f"the front page of {parts[0]}/: it introduces and links the other documents", title)
    claim_dir = next((d for d in dirs if d in _CLAIM_DIRS), None)
    if claim_dir:
        return DocRole("claims", f"in {claim_dir}/: it reports what was found or done, so its claims are re-checked, "
                       "not read as requirements", title)
    status, raw_status = self_status(text) if text else ("", "")
    is_adr = any(d in _ADR_DIRS for d in dirs) or re.match(r"(?:adr|decision)[-_ ]?\d+", stem) is not None
    is_rfc = any(d in _RFC_DIRS for d in dirs) or re.match(r"rfc[-_ ]?\d+", stem) is not None
    if status == "excluded":
        return DocRole("superseded", f"its status is “{raw_status}”", title, status)
    # claims: what was done, not what is asked
    recheck = "it reports what was done, so its claims are re-checked, not read as requirements"
    forward = wordset & {"plan", "roadmap", "spec", "design", "prompt", "requirements", "proposal", "rfc", "todo"}
    if not is_adr and not is_rfc and not forward:
        claim_word = next((w for w in words if w in _CLAIM_WORDS), None)
        phrase = _CLAIM_PHRASES.search(stem.replace(".", " "))
        weak = [w for w in words if w in _WEAK_CLAIM_WORDS]
        tphrase = _TITLE_CLAIM.search(title) if title else None
        if claim_word or phrase:
            return DocRole("claims", f"its name says “{phrase.group(0) if phrase else claim_word}”: {recheck}", title)
        nphrase = _TITLE_CLAIM.search(" ".join(words))
        if weak and (stem == weak[0] or nphrase):
            said = nphrase.group(0) if nphrase else weak[0]
            return DocRole("claims", f"its name says “{said}”: {recheck}", title)
        if weak and tphrase:
            return DocRole("claims", f"its name says “{weak[0]}” and its title “{tphrase.group(0)}”: {recheck}", title)
        if tphrase:
            return DocRole("claims", f"its title says “{tphrase.group(0)}”: {recheck}", title)
        if weak and text and _claims_by_content(text):
            return DocRole("claims", f"its name says “{weak[0]}” and {_claims_by_content(text)}", title)
    if text and _is_index(text):
        return DocRole("index", "an index: it mostly links to other documents", title)
    if text and not in_docs and not is_adr and not is_rfc:
        why = _claims_by_content(text)
        if why:
            return DocRole("claims", why, title)
    # the documents that are read
    planned = status == "planned"
    tail = f" (status “{raw_status}”: read as planned)" if planned else ""
    if is_adr:
        return DocRole("adr", "an architecture decision record" + tail, title, status)
    if is_rfc:
        return DocRole("rfc", "an RFC / proposal" + (tail or " (read as planned unless it says it is accepted)"),
                       title, status or ("" if status == "accepted" else "planned"))
    where = "/".join(parts[:-1])
    role_by_dir = next((_ROLE_BY_DIR[d] for d in reversed(dirs) if d in _ROLE_BY_DIR), None)
    for role, names in _ROLE_BY_NAME:
        w = next((x for x in words if x in names), None)
        if w:
            return DocRole(role, f"its name says “{w}”" + (f" ({where}/)" if where else "") + tail, title, status)
    if role_by_dir:
        return DocRole(role_by_dir, f"in {where}/" + tail, title, status)
    if in_docs:
        return DocRole("spec", f"a document in {where}/" + tail, title, status)
    if not dirs:
        return DocRole("plan", "a document at the repository root" + tail, title, status)
    if where in code_dirs or any(where.startswith(c + "/") for c in code_dirs):
        if stem == "readme":
            return DocRole("component", f"the README of {where}/, a code folder" + tail, title, status)
    return DocRole("skipped", f"not in a documentation folder ({where}/) and not a code folder's README", title)
