"""Re-derive the default scoring weights from hand-labelled requirements.

    python bench/derive_weights.py PATH/TO/realworld

PATH holds labels/<repo>.yaml (one item per requirement: spec_path, truth implemented | partial |
missing), trees/<repo>/ and configs/<repo>.yml. For each labelled spec, the labelled alignment is the
mean of its labels (implemented 1, partial ½, missing 0). driftbot's alignment is recomputed from its
own signal values with the requirements weight set to each value from 20 to 100 (the other signals
keep their proportions: code 3 : tests 3 : markers 2 : wiring 2), and the mean absolute error against
the labelled alignment, weighted by each spec's number of labels, is printed per weight.
"""
from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

import yaml

TRUTH = {"implemented": 1.0, "partial": 0.5, "missing": 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("realworld", type=Path)
    ap.add_argument("--driftbot", default=str(Path(sys.executable).with_name("driftbot")))
    a = ap.parse_args()
    rows = []
    for labels_file in sorted((a.realworld / "labels").glob("*.yaml")):
        name = labels_file.stem
        out = subprocess.run([a.driftbot, "report", str(a.realworld / "trees" / name), "--format", "json",
                              "--config", str(a.realworld / "configs" / f"{name}.yml")],
                             capture_output=True, text=True, check=True).stdout
        report = json.loads(out)
        by_spec = collections.defaultdict(list)
        for item in yaml.safe_load(labels_file.read_text(encoding="utf-8")):
            by_spec[item["spec_path"]].append(TRUTH[item["truth"]])
        for f in report["features"]:
            labelled = by_spec.get(f["spec"][0])
            if labelled:
                terms = {t["signal"]: (t["value"], t["applicable"]) for t in f["score"]}
                rows.append((sum(labelled) / len(labelled), terms, len(labelled)))
    print(f"{len(rows)} labelled features")
    for wr in range(20, 101, 5):
        rest = 100 - wr
        w = {"requirements": wr, "code": rest * 0.3, "tests": rest * 0.3, "markers": rest * 0.2, "wiring": rest * 0.2}
        err = n = 0.0
        for truth, terms, k in rows:
            total = sum(w[s] for s, (_, on) in terms.items() if on)
            align = sum(w[s] * v for s, (v, on) in terms.items() if on) / total if total else 0.0
            err += abs(align - truth) * k
            n += k
        print(f"requirements weight {wr:3d}: mean absolute error {err / n:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
