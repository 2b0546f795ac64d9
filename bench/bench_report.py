"""Benchmark `driftbot report` on synthetic repositories, paired with `git grep` in the same run.

    python bench/bench_report.py [--features 1000] [--files-per-feature 30] [--sizes 100,333,1000]

For each size (features × files per feature, a committed git repository):
- `git grep` for the marker patterns over the same tree: wall and CPU time (the yardstick);
- `driftbot report` in a new process with an empty content cache (cold), again with the cache the
  first run left (warm: the same files, so the findings come back whole), and once more after one
  file is edited (its index and every verdict worked out again): wall, CPU (including its worker
  processes) and the ratio to git grep's CPU, and the peak memory of the largest process;
- in one process with warm engine caches: a full evaluate (every file's index at hand, the
  whole-repository structures worked out anew), then one feature after one file changed (its share of
  the full evaluate), and the App's pull-request job for that change (touched features, the paths they
  need, evaluate at base and head) as a share of the full evaluate.

Targets (issue: engine speed): cold ≤ 8× git grep CPU, warm ≤ 3×; one feature ≤ 1 % and flat across
sizes; the App's PR job ≤ 2 %; peak memory at 30k files ≤ 250 MB.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gen_synthetic import generate  # noqa: E402
from bot.checkout import load_directory  # noqa: E402
from bot.engine import Engine, load_config  # noqa: E402
from bot.prewarm import prewarm, paused_gc, quiet_gc  # noqa: E402

MARKERS = r"\b(TODO|FIXME|XXX|HACK|WIP)\b|panic\(\"not implemented|raise NotImplementedError"
ROOT = Path(__file__).resolve().parents[1]


# runs a command and prints its CPU time and the peak RSS of its largest process (this run's alone)
_PROBE = ("import resource, subprocess, sys, time\n"
          "t = time.perf_counter()\n"
          "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
          "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
          "print(time.perf_counter() - t, r.ru_utime + r.ru_stime, r.ru_maxrss / 1024)\n")


def run_child(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s of the command and every process it waited for, peak RSS MB of the largest one)."""
    out = subprocess.run([sys.executable, "-c", _PROBE, *cmd], cwd=cwd, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def repository(base: Path, features: int, per_feature: int) -> Path:
    out = base / f"synthetic-{features}x{per_feature}"
    if not (out / ".git").exists():
        t = time.perf_counter()
        n = generate(out, features, per_feature)
        for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                     ["-c", "user.email=bench@example.com", "-c", "user.name=bench", "commit", "-q", "-m", "synthetic"]):
            subprocess.run(["git", "-C", str(out), *args], check=True)
        print(f"generated {n:,} files in {time.perf_counter() - t:.1f} s ({out})")
    return out


def partial(full, paths):
    """A snapshot that lists every file of ``full`` and holds the bytes of ``paths`` (as the App's)."""
    from bot.engine.snapshot import Snapshot
    snap = Snapshot(list(full), partial=True, commit=full.commit)
    fill(snap, full, paths)
    return snap


def fill(snap, full, paths) -> None:
    for p in paths:
        if full.entry(p) is not None and not snap.available(p):
            snap.provide(p, full.read(p))


def measure(repo: Path, cache_dir: Path) -> dict:
    env = {**os.environ, "DRIFTBOT_CACHE": str(cache_dir)}
    report = [sys.executable, "-m", "bot.cli", "report", str(repo), "-q", "-o", os.devnull]
    # git grep's time varies from run to run (the page cache, the machine): its best of three
    grep = min((run_child(["git", "grep", "-n", "-E", MARKERS], cwd=repo) for _ in range(3)), key=lambda r: r[1])
    cold = run_child(report, cwd=ROOT, env=env)
    warm = run_child(report, cwd=ROOT, env=env)  # the same files: the findings come back whole
    # one file edited in the working tree: its index and every feature's verdict are worked out again
    folders = sorted(d for d in (repo / "internal").iterdir() if d.is_dir())
    edited = sorted(folders[len(folders) // 2].glob("*.go"))[0]
    original = edited.read_bytes()
    edited.write_bytes(original + b"\n// TODO: edited\n")
    try:
        warm_edit = run_child(report, cwd=ROOT, env=env)
    finally:
        edited.write_bytes(original)

    snap = load_directory(repo)
    cfg = load_config(snap)
    engine = Engine()
    with quiet_gc():
        prewarm(engine, snap, cfg)
        findings = engine.evaluate(snap, cfg, today=dt.date.today())
    # a full evaluate in a warm process: every file's index and parsed spec at hand, the whole-repository
    # structures (feature map, lookup, who imports what) worked out anew, as for a new commit's report
    # (with the cyclic collector paused, as the CLI and the App's workers evaluate)
    fresh = Engine()
    fresh._file_cache, fresh._spec_cache = engine._file_cache, engine._spec_cache
    with paused_gc():
        t = time.perf_counter()
        fresh.evaluate(snap, cfg, today=dt.date.today())
        full = time.perf_counter() - t
        t = time.perf_counter()
        engine.evaluate(snap, cfg, today=dt.date.today())  # the same commit again: the structures are kept
        again = time.perf_counter() - t

    target = findings.features[len(findings.features) // 2].id
    path = next(p for p in snap.paths() if p.startswith(f"internal/{target}/") and p.endswith(".go"))
    head = snap.with_changes({path: snap.read(path).decode() + "\n// TODO: changed\n"})
    t = time.perf_counter()
    engine.evaluate(head, cfg, features=[target], today=dt.date.today())
    one = time.perf_counter() - t

    # the App's job for that pull request, as a worker engine that has seen the repository runs it:
    # partial snapshots (only what was fetched), what the change touches, the files those features
    # need, both sides evaluated
    worker = Engine(shared=True)
    worker.evaluate(snap, cfg, today=dt.date.today())

    def pr_job(changed_path: str, text: str) -> float:
        head = snap.with_changes({changed_path: text})
        t = time.perf_counter()
        base_p, head_p = partial(snap, []), partial(head, [])
        for s in (base_p, head_p):
            fill(s, snap if s is base_p else head, worker.discovery_paths(s, cfg))
        fill(head_p, head, worker.touch_paths(cfg, [changed_path], head_p))
        fill(base_p, snap, worker.touch_paths(cfg, [changed_path], base_p))
        touched = worker.touched(cfg, [changed_path], head_p, base_p)
        for s, full_snap in ((base_p, snap), (head_p, head)):
            for _ in range(2):
                fill(s, full_snap, worker.needed_paths(s, cfg, touched))
            worker.evaluate(s, cfg, features=touched, today=dt.date.today())
        pr_job.touched = len(touched)
        return time.perf_counter() - t

    first_pr = pr_job(path, snap.read(path).decode() + "\n// TODO: first pull request\n")
    other = next(p for p in snap.paths() if p.startswith(f"internal/{findings.features[1].id}/") and p.endswith(".go"))
    next_pr = pr_job(other, snap.read(other).decode() + "\n// TODO: next pull request\n")
    return {"files": len(snap), "mb": sum(e.size for e in snap) / 2**20, "features": len(findings.features),
            "grep": grep, "cold": cold, "warm": warm, "warm_edit": warm_edit, "full": full, "again": again, "one": one, "pr": next_pr,
            "first_pr": first_pr, "touched": pr_job.touched, "cache_mb": sum(f.stat().st_size for f in cache_dir.glob("*")) / 2**20}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=int, default=1000, help="features of the largest repository")
    ap.add_argument("--files-per-feature", type=int, default=30)
    ap.add_argument("--sizes", default=None, help="comma-separated feature counts to measure (default: "
                                                   "--features only)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")] if a.sizes else [a.features]
    rows = []
    for n in sizes:
        repo = repository(Path(a.out), n, a.files_per_feature)
        with tempfile.TemporaryDirectory() as cache:
            m = measure(repo, Path(cache))
        rows.append(m)
        g_wall, g_cpu, _ = m["grep"]
        print(f"\n{m['files']:,} files, {m['mb']:.1f} MB, {m['features']:,} features")
        print(f"  git grep markers        {g_wall:6.2f} s wall, {g_cpu:6.2f} s CPU")
        for name, label, goal in (("cold", "cold cache     ", " (target ≤ 8×)"), ("warm", "warm cache     ", " (target ≤ 3×)"),
                                  ("warm_edit", "1 file edited  ", "")):
            wall, cpu, rss = m[name]
            print(f"  report, {label}{wall:6.2f} s wall, {cpu:6.2f} s CPU = {cpu / g_cpu:5.1f}× git grep CPU{goal}; "
                  f"peak {rss:.0f} MB")
        print(f"  content cache on disk   {m['cache_mb']:.1f} MB")
        print(f"  full evaluate (warm)    {m['full']:6.2f} s; the same commit again in that engine {m['again']:.2f} s")
        print(f"  one feature, 1 file     {m['one'] * 1000:6.0f} ms = {100 * m['one'] / m['cold'][0]:.2f} % of the "
              f"cold report (target ≤ 1 %), {100 * m['one'] / m['full']:.1f} % of a warm full evaluate")
        print(f"  App PR job              {m['pr'] * 1000:6.0f} ms = {100 * m['pr'] / m['full']:.2f} % of a warm "
              f"full evaluate ({m['touched']} touched; target ≤ 2 %); the worker's first PR "
              f"{m['first_pr'] * 1000:.0f} ms (it works out the feature map for fetched documents once)")
    if len(rows) > 1:
        print("\none feature after one changed file, by size: " + ", ".join(
            f"{r['files']:,} files {r['one'] * 1000:.0f} ms ({100 * r['one'] / r['cold'][0]:.2f} % of the cold report)"
            for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
