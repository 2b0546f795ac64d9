"""The App's jobs as typed records. Each owns its queue key — jobs with one key coalesce (only the
newest runs) and never run at once — and turns into the plain mapping the store keeps and the
service reads. Handlers build these; nothing else spells a key."""
from __future__ import annotations

import abc
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Job(abc.ABC):
    kind = ""
    installation: int
    repo: str

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """Jobs with one key coalesce and never run at once."""

    def record(self) -> dict:
        """The mapping stored with the delivery and handed to the service."""
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if v is not None}}


@dataclass(frozen=True)
class PullRequestJob(Job):
    """Measure a pull request: one at a time per pull request, the newest head wins."""
    kind = "pull_request"
    number: int
    head_sha: str
    base_sha: str | None = None
    changed_files: int | None = None
    force: bool = False

    @property
    def key(self) -> str:
        return f"pr:{self.repo}:{self.number}"


@dataclass(frozen=True)
class CommitCheckJob(Job):
    """Measure a commit with no pull request against the default branch."""
    kind = "commit_check"
    head_sha: str
    base_ref: str
    force: bool = False

    @property
    def key(self) -> str:
        return f"commit:{self.repo}:{self.head_sha}"


@dataclass(frozen=True)
class PushJob(Job):
    """Move the default branch's baseline. Shares its key with scans: one at a time per repository."""
    kind = "push"
    after: str
    public: bool | None = None  # the repository's visibility, as the event said (badges are public-only)
    fork: bool | None = None  # whether the repository is a fork (gap issues are not assigned in one)

    @property
    def key(self) -> str:
        return f"push:{self.repo}"


@dataclass(frozen=True)
class ScanJob(Job):
    """Look at a whole repository (installation), and onboard it."""
    kind = "scan"
    public: bool | None = None

    @property
    def key(self) -> str:
        return f"push:{self.repo}"


@dataclass(frozen=True)
class CommandJob(Job):
    """Answer one comment. Each comment is its own job (commands are never coalesced)."""
    kind = "command"
    issue_number: int
    comment_id: int
    user: str
    is_pull_request: bool
    text: str

    @property
    def key(self) -> str:
        return f"command:{self.repo}:{self.comment_id}"


@dataclass(frozen=True)
class VisibilityJob(Job):
    """A repository became public or private, or the App lost access to it: whether its badge is served."""
    kind = "visibility"
    public: bool = False

    @property
    def key(self) -> str:
        return f"visibility:{self.repo}"


@dataclass(frozen=True)
class DashboardJob(Job):
    """Someone ticked boxes on the drift dashboard: recheck, or ask for waivers. Runs in turn with the
    repository's pushes (one key)."""
    kind = "dashboard"
    issue_number: int = 0
    user: str = ""
    body: str = ""

    @property
    def key(self) -> str:
        return f"push:{self.repo}"
