"""Benchmark the full report on a synthetic repository and compare with `git grep`.

    python bench/bench_report.py [--features 1000] [--files-per-feature 30] [--out bench/out/synthetic]

Prints: files, MB; time to read the checkout; full-report time (cold engine), files/s, MB/s;
peak memory (max RSS); `git grep` time for the same marker patterns over the same tree and the
ratio; and the time to re-evaluate one changed feature with warm caches (and its share of the
full time). Targets on a 2-core machine: full report <= 20 s; one changed feature <= 5 % of it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gen_synthetic import generate  # noqa: E402
from bot.checkout import load_directory  # noqa: E402
from bot.engine import Engine, load_config  # noqa: E402
from bot.prewarm import prewarm, quiet_gc  # noqa: E402
from bot.report import markdown  # noqa: E402

MARKERS = r"\b(TODO|FIXME|XXX|HACK|WIP)\b|panic\(\"not implemented|raise NotImplementedError"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=int, default=1000)
    ap.add_argument("--files-per-feature", type=int, default=30)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "synthetic"))
    ap.add_argument("--regenerate", action="store_true")
    a = ap.parse_args()
    out = Path(a.out)
    if a.regenerate and out.exists():
        shutil.rmtree(out)
    if not out.exists():
        t = time.perf_counter()
        n = generate(out, a.features, a.files_per_feature)
        print(f"generated {n:,} files in {time.perf_counter() - t:.1f} s")

    t0 = time.perf_counter()
    snap = load_directory(out)
    t_read = time.perf_counter() - t0
    n_files = len(snap)
    mb = sum(e.size for e in snap) / (1024 * 1024)

    engine = Engine()
    t1 = time.perf_counter()
    cfg = load_config(snap)
    with quiet_gc():  # as `driftbot report` does
        prewarm(engine, snap, cfg)
        findings = engine.evaluate(snap, cfg, today=dt.date.today())
    body = markdown.render(findings, markdown.Meta(name=out.name))
    t_eval = time.perf_counter() - t1
    t_full = t_read + t_eval
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t2 = time.perf_counter()
    subprocess.run(["git", "grep", "--no-index", "-n", "-E", MARKERS, "--", "."], cwd=out,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    t_grep = time.perf_counter() - t2

    # one feature changes: a new snapshot sharing every other blob, evaluated with warm caches
    target = findings.features[len(findings.features) // 2].id
    path = f"internal/{target}/part01.go"
    changed = snap.with_changes({path: snap.read(path).decode() + "\n// TODO: changed\n"})
    t3 = time.perf_counter()
    one = engine.evaluate(changed, cfg, features=[target], today=dt.date.today())
    t_one = time.perf_counter() - t3
    t3 = time.perf_counter()
    engine.evaluate(snap, cfg, today=dt.date.today())
    t_warm_full = time.perf_counter() - t3

    print(f"repository        {n_files:,} files, {mb:.1f} MB, {len(findings.features):,} features, "
          f"{sum(len(f.requirements) for f in findings.features):,} requirements, "
          f"{sum(len(f.gaps) for f in findings.features):,} gaps")
    print(f"read checkout     {t_read:.2f} s")
    print(f"evaluate+render   {t_eval:.2f} s ({len(body) / 1024:.0f} KB of Markdown)")
    print(f"full report       {t_full:.2f} s  ->  {n_files / t_full:,.0f} files/s, {mb / t_full:.1f} MB/s "
          f"(target <= 20 s)")
    print(f"peak memory       {peak_mb:.0f} MB (max RSS)")
    print(f"git grep markers  {t_grep:.2f} s  ->  full report is {t_full / t_grep:.1f}x git grep")
    print(f"warm full re-run  {t_warm_full:.2f} s (same engine, nothing changed)")
    print(f"one feature       {t_one * 1000:.0f} ms after one file changed ({100 * t_one / t_full:.1f} % of the "
          f"full report; target <= 5 %); alignment {one.features[0].alignment}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
