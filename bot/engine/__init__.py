"""The drift engine: pure functions and records, no I/O.

    from bot.engine import Engine, Snapshot, load_config
    findings = Engine().evaluate(snapshot, load_config(snapshot))
"""
from .config import Config, load_from_snapshot as load_config, parse_config
from .engine import Engine
from .errors import ConfigError, Problem
from .model import Findings, FeatureResult, Gap, GapKind, Kind, Status
from .snapshot import FileEntry, Snapshot

__all__ = ["Config", "ConfigError", "Engine", "FeatureResult", "FileEntry", "Findings", "Gap", "GapKind", "Kind",
           "Problem", "Snapshot", "Status", "load_config", "parse_config"]
