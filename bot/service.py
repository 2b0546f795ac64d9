"""The work behind every webhook: analyse a pull request, update the default branch's baseline,
keep gap issues and the dashboard current, answer commands, onboard a repository. One module per
concern (bot/flows/), over the shared pieces in bot/flows/base.py; decisions that need no HTTP are
pure functions in bot/plans.py.
"""
from __future__ import annotations

from .flows.base import CouldNotAnalyse, ServiceBase
from .flows.baseline import Baseline
from .flows.commands import Commands
from .flows.onboarding import Onboarding
from .flows.pulls import PullRequests

__all__ = ["CouldNotAnalyse", "DriftService"]


class DriftService(PullRequests, Baseline, Onboarding, Commands, ServiceBase):
    """The App's jobs: ``run(job)`` dispatches on the job's kind."""
