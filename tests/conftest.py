import shutil
from pathlib import Path

import pytest

from bot.engine import Engine, Snapshot, load_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def analyse(files: dict, **kw):
    """Run the engine on an in-memory repository."""
    snap = Snapshot.from_texts(files)
    return Engine().evaluate(snap, load_config(snap), **kw)


def feature(findings, fid):
    return next(f for f in findings.features if f.id == fid)


def requirement(feat, anchor_value):
    for r in feat.requirements:
        if any(a.value == anchor_value for a in r.requirement.anchors):
            return r
    raise AssertionError(f"no requirement names {anchor_value!r} in {feat.id}: "
                         f"{[a.value for r in feat.requirements for a in r.requirement.anchors]}")


@pytest.fixture
def corpus(tmp_path):
    dst = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", dst)
    return dst
