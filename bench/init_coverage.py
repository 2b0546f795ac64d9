"""How much of a repository's design `driftbot init` proposes to read.

For each labelled tree (a folder of trees and a folder of label files, each label naming the spec
document it comes from in ``spec_path``), this proposes a config the way `driftbot init` does and
counts the labelled spec documents the proposal reads. It can also write the proposals, so the
labels can be scored against them:

    python -m bench.init_coverage --trees ../shared/realworld/trees --labels ../shared/realworld/labels \\
        --write-configs /tmp/proposed
    python ../shared/realworld/score.py --configs /tmp/proposed
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bot.checkout import load_directory
from bot.engine.engine import Engine
from bot.engine.proposal import propose


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trees", required=True, help="folder of repository trees, one per label file")
    ap.add_argument("--labels", required=True, help="folder of <tree>.yaml label files with spec_path entries")
    ap.add_argument("--write-configs", metavar="DIR", help="write each proposal as DIR/<tree>.yml")
    args = ap.parse_args(argv)
    worst = 1.0
    for label_file in sorted(Path(args.labels).glob("*.yaml")):
        tree = Path(args.trees) / label_file.stem
        if not tree.is_dir():
            continue
        labels = yaml.safe_load(label_file.read_text(encoding="utf-8")) or []
        items = labels.get("labels", labels) if isinstance(labels, dict) else labels
        wanted = sorted({lab["spec_path"] for lab in items if isinstance(lab, dict) and lab.get("spec_path")})
        proposal = propose(Engine(), load_directory(tree), tree.name)
        read = proposal.specs()
        hit = [p for p in wanted if p in read]
        share = len(hit) / len(wanted) if wanted else 1.0
        worst = min(worst, share)
        print(f"{tree.name}: the proposal reads {len(hit)} of the {len(wanted)} labelled spec documents "
              f"({share:.0%}); {len(read)} documents in all")
        for p in wanted:
            if p not in read:
                print(f"  not read: {p}")
        if args.write_configs:
            out = Path(args.write_configs)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{tree.name}.yml").write_text(proposal.render(), encoding="utf-8")
    print(f"lowest coverage: {worst:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
