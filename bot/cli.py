"""driftbot's command line: report, validate, schema."""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import sys
import time
from pathlib import Path

from .checkout import load_directory, repo_prefix, web_link, work_tree_dirty
from .engine import ConfigError, Engine, load_config, parse_config
from .engine.config import CONFIG_PATHS
from .engine.snapshot import decode
from .engine.yamlsrc import SCHEMA_DIR
from .report import jsonout, markdown, text
from .cache import ContentCache
from .report.common import plural
from .prewarm import evaluate as cached_evaluate, quiet_gc

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

DESCRIPTION = """\
driftbot measures how far a repository's code has drifted from its written design.

It reads the feature specs (Markdown under docs/, spec-kit specs/NNN-x/, OpenSpec
openspec/specs/x/, Gherkin .feature files), pairs each with its code, checks every
endpoint, path, symbol, flag and checklist item the spec names against the code, and
scores each feature 0-100 (drift % = 100 - alignment)."""

REPORT_EPILOG = """\
layouts discovered when there is no config:
  docs/{ideas,features,specs,design}/<f>.md (or <f>/README.md)
      <->  internal/<f>/, pkg/<f>/, src/<f>/, lib/<f>/, app/<f>/, <package>/<f>/, a Java package's <f>/
  specs/NNN-<f>/ (spec-kit; without a folder, the files its tasks name)
  openspec/specs/<f>/spec.md (OpenSpec)  ·  features/<f>.feature (BDD)

exit codes: 0 report written · 1 overall alignment below --fail-under · 2 usage or config error
            · 3 internal error (a defect: please report it)

examples:
  driftbot report                          # the current checkout, Markdown on stdout
  driftbot report ../api --format text     # a glance in the terminal
  driftbot report --feature auth --format json --output drift.json
  driftbot report --fail-under 70          # for CI: fail when alignment drops below 70
  driftbot report --format sarif -o drift.sarif   # for GitHub code scanning
  driftbot report --format badge -o badge.json    # a shields.io endpoint badge
  driftbot report --format html --history 20 -o drift.html   # one page, with the trend"""


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("driftbot")
    except Exception:
        return "0.0.0"


class _Progress:
    """A one-line progress indicator on stderr, shown only on a terminal and only for slow runs."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int = 0) -> None:
        if not self.enabled or time.monotonic() - self.start < 0.5:
            return
        label = {"read": "Reading files", "index": "Indexing", "features": "Evaluating features",
                 "commit": "Evaluating commits"}.get(stage, stage)
        tail = f"{done:,}/{total:,}" if total else f"{done:,}"
        sys.stderr.write(f"\r\033[K{label} … {tail}")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _fail(msg: str) -> int:
    sys.stderr.write(f"driftbot: {msg}\n")
    return EXIT_USAGE


def _print_config_error(exc: ConfigError) -> None:
    n = len(exc.problems)
    sys.stderr.write(f"driftbot: {'the config has' if n > 1 else 'config error:'}"
                     f"{f' {n} problems:' if n > 1 else ''}\n")
    for p in exc.problems:
        sys.stderr.write(f"  {p}\n")


def _load_config(snapshot, root: Path, config_arg: str | None):
    if not config_arg:
        return load_config(snapshot)
    cpath = Path(config_arg)
    full = cpath if cpath.is_absolute() else Path.cwd() / cpath
    try:
        rel = full.resolve().relative_to(root)
        if str(rel).replace(os.sep, "/") in snapshot:
            return load_config(snapshot, str(rel).replace(os.sep, "/"))
    except ValueError:
        pass
    try:
        data = full.read_bytes()
    except OSError as exc:
        raise ConfigError([_problem(config_arg, f"cannot read config: {exc.strerror or exc}")]) from None
    return parse_config(decode(data).text, config_arg, snapshot)


def _problem(file: str, msg: str):
    from .engine.errors import Problem
    return Problem(file, 0, 0, "", msg)


def cmd_report(args) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        return _fail(f"{args.path} is not a directory (give the path of a repository checkout)")
    progress = _Progress(sys.stderr.isatty() and not args.quiet)
    snapshot = load_directory(root, progress=lambda n: progress("read", n))
    try:
        config = _load_config(snapshot, root, args.config)
    except ConfigError as exc:
        progress.done()
        _print_config_error(exc)
        return EXIT_USAGE
    engine = Engine()
    known = {f.id for f in engine.feature_map(snapshot, config).features} if args.feature else set()
    for fid in args.feature or ():
        if fid not in known:
            progress.done()
            import difflib
            close = difflib.get_close_matches(fid, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else (f"; known: {', '.join(sorted(known)[:10])}" if known else "")
            return _fail(f"unknown feature '{fid}'{hint}")
    cache = _cache(args)
    # indexes come from the content cache; a large checkout's others are built on every core
    with quiet_gc():  # findings of an earlier run with the same inputs come from the cache
        findings = cached_evaluate(engine, snapshot, config, cache, features=args.feature or None,
                                   today=_dt.date.today(), progress=progress, parallel=not args.feature)
    _close(cache)
    progress.done()
    meta = markdown.Meta(name=root.name, commit=snapshot.commit, generated=_dt.date.today().isoformat(),
                         version=_version())
    fmt = args.format
    if fmt == "markdown":
        body = markdown.render(findings, meta)
    elif fmt == "json":
        body = jsonout.render(findings, meta)
    elif fmt == "sarif":
        from .report import sarif
        body = sarif.render(findings, meta, packs=engine.rule_set(snapshot, config).packs.values(),
                            prefix=repo_prefix(root))
    elif fmt == "html":
        from .report import html
        points = None
        if args.history:
            from . import history as history_mod
            try:
                points = history_mod.walk(root, args.history, cache=cache)
            except ValueError as exc:
                sys.stderr.write(f"driftbot: no trend: {exc}\n")
            if points is not None and len(points) < 2:
                sys.stderr.write(f"driftbot: no trend: the branch has {plural(len(points), 'commit')} here (a shallow "
                                 "clone? fetch more history, e.g. fetch-depth: 0)\n")
        body = html.render(findings, meta, link=web_link(root, snapshot.commit), history=points)
    elif fmt == "badge":
        import json
        from .report import badge
        body = json.dumps(badge.endpoint(findings.overall_alignment)) + "\n"
    else:
        tty = args.output is None and sys.stdout.isatty()
        width = shutil.get_terminal_size((100, 24)).columns if tty else 100
        body = text.render(findings, meta, colour=tty and "NO_COLOR" not in os.environ, width=width)
    overall = findings.overall_alignment
    failed = _emit(body, args, f"{len(findings.features)} features, overall alignment "
                               f"{'unknown' if overall is None else overall}")
    if failed:
        return failed
    if args.fail_under is not None and findings.features and overall is None:
        sys.stderr.write("driftbot: overall alignment is unknown (no spec names anything checkable); "
                         "--fail-under has nothing to compare\n")
    elif args.fail_under is not None and findings.features and overall < args.fail_under:
        sys.stderr.write(f"driftbot: overall alignment {findings.overall_alignment} is below --fail-under "
                         f"{args.fail_under}\n")
        return EXIT_FINDINGS
    return EXIT_OK


def cmd_check(args) -> int:
    """What changed since REF: the touched features at the merge base and in the working tree (with
    --staged: in what is staged for commit)."""
    from .checkout import load_git_commit, load_git_index, merge_base
    from .engine.delta import diff
    from .engine.snapshot import changed_paths
    from .report import pr as pr_text

    root = Path(args.path).resolve()
    if not root.is_dir():
        return _fail(f"{args.path} is not a directory (give the path of a git checkout)")
    try:
        base_sha = merge_base(root, args.base)
        base = load_git_commit(root, base_sha)
        head = load_git_index(root) if args.staged else load_directory(root)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        config = _load_config(head, root, args.config)
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_USAGE
    engine = Engine()
    changed = changed_paths(base, head)
    touched = engine.touched(config, changed, head, base)
    today = _dt.date.today()
    cache = _cache(args)
    with quiet_gc():  # blobs come through one git process: no parallel indexing
        before = cached_evaluate(engine, base, config, cache, features=touched, today=today, parallel=False)
        after = cached_evaluate(engine, head, config, cache, features=touched, today=today, parallel=False)
    _close(cache)
    deltas = diff(before, after)
    base.close()
    total = len(engine.feature_map(head, config).features)
    from .engine.snapshot import line_counts
    out = pr_text.check_output(deltas, config.policy, total_features=total, changed=line_counts(head, changed))
    if args.staged:
        head.close()  # what is staged was read through git; nothing below reads a file
    if args.format == "github":
        from .report import actions
        shown = os.environ.get("DRIFTBOT_HEAD_SHA") or head.commit or (  # the PR's head, in Actions
            "staged changes" if args.staged else "working tree")
        summary = pr_text.comment_body(deltas, shown, None, total_features=total, app=False)
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            try:
                with open(target, "a", encoding="utf-8") as fh:
                    fh.write(summary + "\n")
            except OSError as exc:
                sys.stderr.write(f"driftbot: cannot write the job summary to {target}: {exc.strerror or exc}\n")
        body = "\n".join(actions.workflow_commands(out, repo_prefix(root))
                         + [f"driftbot: {out.title} ({out.conclusion})"]) + "\n"
        if not target:
            body = summary + "\n\n" + body
    elif args.format == "sarif":
        from .report import markdown as md_text, sarif
        new = {g.fingerprint for d in deltas for g in d.new_gaps}
        body = sarif.render(after, md_text.Meta(name=root.name, commit=head.commit, version=_version()),
                            packs=engine.rule_set(head, config).packs.values(), only=new, prefix=repo_prefix(root))
    elif args.format == "json":
        import json
        body = json.dumps({"base": base_sha, "changed_files": len(changed), "touched": touched,
                           "conclusion": out.conclusion, "title": out.title,
                           "features": [{"id": d.id, "drift_before": d.drift_before, "drift_after": d.drift_after,
                                         "new_gaps": [g.fingerprint for g in d.new_gaps],
                                         "resolved_gaps": [g.fingerprint for g in d.resolved_gaps],
                                         "regressions": [r.gap.fingerprint for r in d.regressions]} for d in deltas],
                           "annotations": out.annotations}, indent=2) + "\n"
    elif args.format == "text":
        where = _checked(args, root, head, "{}")
        lines = [f"driftbot check: {out.title} ({out.conclusion})",
                 f"since {args.base} (merge base {base_sha[:12]}), in {where}: {plural(len(changed), 'changed file')}"]
        for d in sorted(deltas, key=lambda d: (-d.drift_change, d.id)):
            before = "—" if d.drift_before is None else f"{d.drift_before} %"
            after_ = "—" if d.drift_after is None else f"{d.drift_after} %"
            lines.append(f"  {d.id}: drift {before} → {after_}, {plural(len(d.new_gaps), 'new gap')}, "
                         f"{len(d.resolved_gaps)} resolved")
            for g in d.new_gaps:
                lines.append(f"    + {g.kind.value} {g.fingerprint} {g.message}" + (f" ({g.path}:{g.line})" if g.path else ""))
            for g in d.resolved_gaps:
                lines.append(f"    - {g.kind.value} {g.fingerprint} resolved (was: {g.message})")
        body = "\n".join(lines) + "\n"
    else:
        where = _checked(args, root, head, "`{}`")
        body = (f"# driftbot check: {out.title}\n\nSince `{args.base}` (merge base `{base_sha[:12]}`), in {where}: "
                f"{plural(len(changed), 'changed file')}.\n\n{out.summary}\n\n{out.text}\n")
    failed = _emit(body, args, f"{out.title}; {out.conclusion}")
    if failed:
        return failed
    return EXIT_FINDINGS if out.conclusion == "failure" else EXIT_OK


def _checked(args, root: Path, head, quote: str) -> str:
    """What `check` judged on the head side, as its text and Markdown say it."""
    if args.staged:
        return "what is staged for commit"
    if work_tree_dirty(root):
        return "the working tree (HEAD and uncommitted changes)"
    return "HEAD " + quote.format((head.commit or "")[:12])


def _emit(body: str, args, what: str) -> int:
    """Write the output to --output (saying so unless --quiet) or stdout; a usage error when it cannot."""
    if not getattr(args, "output", None):
        sys.stdout.write(body)
        return 0
    try:
        Path(args.output).write_text(body, encoding="utf-8")
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    if not args.quiet:
        sys.stderr.write(f"driftbot: wrote {args.output} ({what})\n")
    return 0


def cmd_history(args) -> int:
    """Overall and per-feature alignment over the branch's last commits."""
    from . import history as history_mod
    root = Path(args.path).resolve()
    if not root.is_dir():
        return _fail(f"{args.path} is not a directory (give the path of a git checkout)")
    progress = _Progress(sys.stderr.isatty() and not args.quiet)
    cache = _cache(args)
    try:
        points = history_mod.walk(root, args.commits, args.since, cache=cache,
                                  progress=lambda n, total: progress("commit", n, total))
    except ValueError as exc:
        progress.done()
        return _fail(str(exc))
    _close(cache)
    progress.done()
    if args.format == "json":
        import json
        body = json.dumps([{"sha": p.sha, "date": p.date, "subject": p.subject, "overall": p.overall,
                            "features": p.features, **({"error": p.error} if p.error else {})} for p in points],
                          indent=2) + "\n"
    elif args.format == "csv":
        import csv
        import io
        features = sorted({f for p in points for f in p.features})
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["sha", "date", "overall", *features])
        for p in points:
            writer.writerow([p.sha, p.date, "" if p.overall is None else p.overall,
                             *["" if p.features.get(f) is None else p.features[f] for f in features]])
        body = buf.getvalue()
    else:
        lines = []
        for p in points:
            figure = p.error or ("unknown" if p.overall is None else f"{p.overall}/100")
            lines.append(f"{p.sha[:7]}  {p.date[:10]}  {figure:>9}  {p.subject[:60]}")
        body = "\n".join(lines) + ("\n" if lines else "no commits\n")
    sys.stdout.write(body)
    return EXIT_OK


def cmd_validate(args) -> int:
    target = Path(args.path)
    if args.config:
        if not target.is_dir():
            return _fail(f"{args.path} is not a folder: with --config, PATH is the checkout to check it against")
        root = target.resolve()
        snapshot = load_directory(root)
        label = args.config
        try:
            config = _load_config(snapshot, root, args.config)
        except ConfigError as exc:
            _print_config_error(exc)
            return EXIT_USAGE
    elif target.is_dir():
        root = target.resolve()
        snapshot = load_directory(root)
        found = next((p for p in CONFIG_PATHS if p in snapshot), None)
        if found is None:
            from .engine import Config
            fmap = Engine().feature_map(snapshot, Config())
            print(f"No config in {args.path} (looked for {', '.join(CONFIG_PATHS)}). Nothing to validate: "
                  f"features are discovered from the layout — {len(fmap.features)} found"
                  + (f" ({'; '.join(fmap.layouts)})" if fmap.layouts else "") + ".")
            return EXIT_OK
        label = found
        try:
            config = load_config(snapshot, found)
        except ConfigError as exc:
            _print_config_error(exc)
            return EXIT_USAGE
    else:
        try:
            data = target.read_bytes()
        except OSError as exc:
            return _fail(f"cannot read {args.path}: {exc.strerror or exc}")
        label = args.path
        root = Path.cwd()
        # resolve globs against the repository the file lives in, when it is inside one
        repo = target.resolve().parent
        if repo.name == ".github":
            repo = repo.parent
        snapshot = load_directory(repo)
        try:
            config = parse_config(decode(data).text, args.path, snapshot)
        except ConfigError as exc:
            _print_config_error(exc)
            return EXIT_USAGE
    engine = Engine()
    fmap = engine.feature_map(snapshot, config)
    located = {str(p) for p in fmap.config_warnings}
    warnings = [str(p) for p in fmap.config_warnings + _specs_without_requirements(engine, snapshot, fmap)]
    warnings += [w for w in fmap.warnings if w not in located]
    print(f"{label}: valid. {len(fmap.features)} feature(s) resolved"
          + (f"; {len(config.waivers)} waiver(s)" if config.waivers else "") + ".")
    for w in warnings:
        print(f"  warning: {w}")
    declared = [f for f in fmap.features if f.source == "config"]
    if declared and not any(f.spec for f in declared):
        print(f"  None of the {len(declared)} declared features matched a spec file here: are the paths relative "
              "to the repository root, and is that the folder being checked?")
    if warnings and args.strict:
        sys.stderr.write(f"driftbot: failing on {len(warnings)} warning{'s' if len(warnings) != 1 else ''} "
                         "(--strict)\n")
        return EXIT_FINDINGS
    return EXIT_OK


def _specs_without_requirements(engine: Engine, snapshot, fmap) -> list:
    """A warning for every spec file a feature reads that states nothing driftbot can check: the
    feature's alignment stays unknown however its code changes."""
    from .engine.errors import Problem

    readers: dict[str, list[str]] = {}
    for f in fmap.features:
        for path in f.spec:
            readers.setdefault(path, []).append(f.id)
    out = []
    for path, ids in readers.items():
        if not snapshot.available(path):
            continue
        ps = engine.spec(snapshot, path)
        if ps.requirements:
            continue
        who = f"feature '{ids[0]}'" if len(ids) == 1 else \
            f"features {', '.join(repr(i) for i in ids[:3])}" + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        dec = decode(snapshot.read(path)) if snapshot.entry(path) is not None else None
        if dec is None or dec.binary:
            why = "it could not be read as text"
        elif not dec.text.strip():
            why = "the file is empty"
        elif any("superseded or rejected" in w for w in ps.warnings):
            why = "it says it is superseded or rejected, so none of it counts"
        elif ps.excluded:
            why = (f"{'all ' if ps.excluded > 1 else ''}its {ps.excluded} statement{'s are' if ps.excluded > 1 else ' is'}"
                   " under headings such as Non-goals or Out of scope")
        else:
            why = ("it names no endpoint, file, symbol, flag or command, and no sentence in it says what the code "
                   "must do")
        out.append(Problem(path, 0, 0, "", "no requirement found in it",
                           f"nothing driftbot can check: {who} reads it, but {why}"))
    return out


def cmd_init(args) -> int:
    """Propose a config from the repository's layout, say what the report would be with it, and write
    it with --write."""
    from .engine import proposal as prop_mod

    root = Path(args.path).resolve()
    if not root.is_dir():
        return _fail(f"{args.path} is not a directory (give the path of a repository checkout)")
    target = root / prop_mod.CONFIG_PATH
    existing = next((p for p in CONFIG_PATHS if (root / p).is_file()), None)
    if args.write and existing and not args.force:
        return _fail(f"{existing} already exists: driftbot init does not overwrite it (--force replaces it; "
                     "`driftbot init` without --write prints the proposal to compare)")
    progress = _Progress(sys.stderr.isatty())
    snapshot = load_directory(root, progress=lambda n: progress("read", n))
    engine = Engine()
    proposal = prop_mod.propose(engine, snapshot, root.name)
    if not any(e.section in ("features", "documents") for e in proposal.entries):
        progress.done()
        sys.stderr.write(f"driftbot: found no spec, roadmap, plan or design document in {args.path} to build a config "
                         "from. Run `driftbot report --help` for the layouts driftbot knows, or write "
                         ".github/driftbot.yml by hand (docs/config.md).\n")
        return EXIT_FINDINGS
    try:
        config = prop_mod.config_of(proposal, snapshot)
    except ConfigError as exc:  # the proposal is built to be valid: this is a defect, said plainly
        progress.done()
        _print_config_error(exc)
        return _fail("the proposed config is not valid; please report this with the problems above")
    cache = _cache(args)
    with quiet_gc():
        findings = cached_evaluate(engine, snapshot, config, cache, today=_dt.date.today(), progress=progress)
    _close(cache)
    progress.done()
    prop_mod.annotate(proposal, findings)
    body = proposal.render()
    summary = _init_summary(proposal, findings, existing)
    if args.write:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {target}: {exc.strerror or exc}")
        if existing and existing != prop_mod.CONFIG_PATH:
            summary.append(f"Note: {existing} is read before {prop_mod.CONFIG_PATH} only if it comes first in "
                           f"{', '.join(CONFIG_PATHS)}; remove the one you do not want.")
        summary.append(f"Wrote {prop_mod.CONFIG_PATH}. Next: `driftbot validate`, `driftbot report`, then commit it.")
    else:
        sys.stdout.write(body)
        summary.append(f"Write it with `driftbot init --write` ({prop_mod.CONFIG_PATH}), or save this output and "
                       "edit it first.")
    sys.stderr.write("\n".join(summary) + "\n")
    return EXIT_OK


def _init_summary(proposal, findings, existing) -> list[str]:
    from .report.common import alignment_headline, plural

    paired, unpaired = proposal.paired(), proposal.unpaired()
    read = sum(proposal.documents_read().values())
    excl = proposal.count("exclude")
    parts = []
    if paired:
        parts.append(plural(paired, "feature") + " paired with code")
    if unpaired:
        parts.append(plural(unpaired, "spec") + " with no folder of its name" if unpaired == 1 else
                     f"{unpaired} specs with no folder of their name")
    if read:
        parts.append(f"{plural(read, 'document')} read as requirements ({proposal.roles_phrase()})")
    if proposal.claims:
        parts.append(f"{plural(len(proposal.claims), 'claims document')} re-checked")
    if excl:
        parts.append(plural(excl, "exclusion"))
    out = [f"driftbot init: {', '.join(parts)}"
           + (f"; {len(proposal.not_read)} documents left out (the file names them; `driftbot report` gives each "
              "reason)" if proposal.not_read else "") + "."]
    if existing:
        out.append(f"{existing} exists already; this proposal ignores it.")
    verb = "find" if findings.overall_alignment is None else "say:"
    out.append(f"With it, the report would {verb} {alignment_headline(findings)}.")
    return out


def cmd_serve(args) -> int:
    import logging

    from aiohttp import web

    from .server import make_app
    from .settings import Settings, SettingsError

    from . import setup

    env_file = setup.env_path()
    env = {**setup.read_env_file(env_file), **os.environ}  # the real environment wins over the file
    if setup.unconfigured(env):
        from .logs import configure
        configure(env.get("DRIFTBOT_LOG_LEVEL", "INFO").upper() if env.get("DRIFTBOT_LOG_LEVEL", "INFO").upper()
                  in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")
        port = args.port or int(env.get("PORT", "8000") or 8000)
        api = (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        web_host = api.replace("://api.", "://", 1).replace("/api/v3", "")
        app = setup.make_setup_app(api_url=api, github=web_host, env_file=env_file.resolve(),
                                   public_url=env.get("DRIFTBOT_URL"))
        logging.getLogger("bot").info("driftbot is not registered yet: open http://%s:%d/ to register it",
                                      args.host, port)
        web.run_app(app, host=args.host, port=port, print=None)
        return EXIT_OK
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        return _fail(str(exc))
    from .logs import configure
    configure(settings.log_level, settings.log_format)
    port = args.port or settings.port
    try:
        app = make_app(settings)
    except ValueError as exc:  # e.g. an unsupported DRIFTBOT_STORE
        return _fail(str(exc))
    logging.getLogger("bot").info("driftbot listening on %s:%d (GitHub API %s)", args.host, port, settings.api_url)
    # analyses run on a thread beside the event loop: switch threads often, so webhooks are answered
    # within a millisecond or two even while an analysis runs
    sys.setswitchinterval(0.0005)
    try:
        web.run_app(app, host=args.host, port=port, print=None, shutdown_timeout=25)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        return _fail(f"cannot listen on {args.host}:{port}: {exc.strerror or exc} (set PORT or --port)")
    return EXIT_OK


def cmd_manifest(args) -> int:
    """An HTML page whose button registers the app with GitHub's manifest flow."""
    from .setup import manifest_page

    if not args.url.startswith("https://"):
        return _fail(f"--url must be the public https:// address of your driftbot, got {args.url!r}")
    sys.stdout.write(manifest_page(args.url, name=args.name, org=args.org, github=args.github))
    return EXIT_OK


def cmd_schema(args) -> int:
    name = {"config": "driftbot.schema.json", "report": "report.schema.json", "rulepack": "rulepack.schema.json"}[args.which]
    sys.stdout.write((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return EXIT_OK


def _cache(args) -> ContentCache | None:
    """The content cache for this run: $DRIFTBOT_CACHE (default: the user's cache folder), unless
    --no-cache."""
    return None if getattr(args, "no_cache", False) else ContentCache.open()


def _close(cache: ContentCache | None) -> None:
    if cache is not None:
        cache.close()


CACHE_HELP = ("do not read or write the content cache (per-file results and whole findings kept between runs in "
              "$DRIFTBOT_CACHE, default ~/.cache/driftbot; DRIFTBOT_CACHE=off turns it off for good)")


def _percent(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 100, got {value!r}") from None
    if not 0 <= n <= 100:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 100, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="driftbot", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"driftbot {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("report", help="print the drift report for a checkout",
                       description="Print the full drift report for a local checkout.", epilog=REPORT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("path", nargs="?", default=".", metavar="PATH", help="repository checkout (default: .)")
    r.add_argument("--config", metavar="FILE", help="config file (default: .github/driftbot.yml or .driftbot.yml "
                                                    "in PATH; none: discover features from the layout)")
    r.add_argument("--feature", action="append", metavar="ID", help="report only this feature (repeatable)")
    r.add_argument("--history", type=int, default=0, metavar="N",
                   help="with --format html: draw the trend over the last N commits of the branch")
    r.add_argument("--format", choices=("markdown", "json", "text", "sarif", "badge", "html"), default="markdown",
                   help="output format (default: markdown)")
    r.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    r.add_argument("--fail-under", type=_percent, metavar="N",
                   help="exit 1 when overall alignment is below N (0-100)")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress or status lines on stderr")
    r.add_argument("--no-cache", action="store_true", help=CACHE_HELP)
    r.set_defaults(func=cmd_report)

    c = sub.add_parser("check", help="report what changed since a git ref (for CI)",
                       description="Compare the features touched since REF (at the merge base) with the working "
                                   "tree: drift before and after, new and resolved gaps. Exit 1 when the config's "
                                   "checks.fail_on policy fails, 2 on usage or config errors, else 0.")
    c.add_argument("path", nargs="?", default=".", metavar="PATH", help="git checkout (default: .)")
    c.add_argument("--base", required=True, metavar="REF", help="the branch or commit to compare with, e.g. origin/main")
    c.add_argument("--config", metavar="FILE", help="config file (default: the checkout's)")
    c.add_argument("--format", choices=("markdown", "text", "json", "sarif", "github"), default="markdown",
                   help="markdown (default), text (for a terminal), json, sarif (the new gaps), or github (in "
                        "GitHub Actions: the job summary and annotations)")
    c.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    c.add_argument("--quiet", "-q", action="store_true", help="no status line on stderr")
    c.add_argument("--staged", action="store_true",
                   help="judge what is staged for commit (git's index) instead of the working tree: untracked "
                        "files and edits not added do not count (what a pre-commit hook wants)")
    c.add_argument("--no-cache", action="store_true", help=CACHE_HELP)
    c.set_defaults(func=cmd_check)

    h = sub.add_parser("history", help="alignment over the branch's last commits",
                       description="Evaluate each of the branch's last commits (first parents) with its own config "
                                   "and print the overall and per-feature alignment, oldest first. Files that did "
                                   "not change come from the content cache.")
    h.add_argument("path", nargs="?", default=".", metavar="PATH", help="git checkout (default: .)")
    h.add_argument("--commits", type=int, default=20, metavar="N", help="how many commits (default 20)")
    h.add_argument("--since", metavar="WHEN", help="only commits after this date (git's format: 2026-11-01, "
                                                   "\"4 weeks ago\")")
    h.add_argument("--format", choices=("text", "json", "csv"), default="text")
    h.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    h.add_argument("--no-cache", action="store_true", help=CACHE_HELP)
    h.set_defaults(func=cmd_history)

    v = sub.add_parser("validate", help="check a config file", description="Check a driftbot config against a "
                       "checkout. Errors are reported with file:line:column and exit 2. Then it warns, at the line "
                       "in the config, about every glob that matches no file in the checkout, and about every spec "
                       "a feature reads that states no requirement. Warnings exit 0, or 1 with --strict.")
    v.add_argument("path", nargs="?", default=".", metavar="PATH", help="a checkout or a config file (default: .)")
    v.add_argument("--config", metavar="FILE", help="a config file kept outside the checkout, checked against PATH")
    v.add_argument("--strict", action="store_true", help="exit 1 when there are warnings (for CI)")
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("init", help="propose a config for a checkout (.github/driftbot.yml)",
                       description="Look at a checkout as driftbot does with no config (specs, roadmaps, architecture "
                                   "documents, ADRs, runbooks, component READMEs, generated code) and propose "
                                   ".github/driftbot.yml: each entry with a comment saying why it is there. Prints "
                                   "the file on stdout and, on stderr, what the report would say with it. Exit 0, "
                                   "or 1 when the checkout holds nothing to build a config from.")
    i.add_argument("path", nargs="?", default=".", metavar="PATH", help="repository checkout (default: .)")
    i.add_argument("--write", action="store_true", help="write .github/driftbot.yml instead of printing it")
    i.add_argument("--force", action="store_true", help="with --write: replace an existing config")
    i.add_argument("--no-cache", action="store_true", help=CACHE_HELP)
    i.set_defaults(func=cmd_init)

    sv = sub.add_parser("serve", help="run the GitHub App's webhook server",
                        description="Run the GitHub App: POST /webhook, GET / (status), /healthz and /metrics. "
                                    "Settings come from the environment, and from a .env file (DRIFTBOT_ENV_FILE, "
                                    "default ./.env) for what the environment does not set: APP_ID, PRIVATE_KEY or "
                                    "PRIVATE_KEY_PATH, WEBHOOK_SECRET, GITHUB_API_URL (GitHub Enterprise Server), PORT, "
                                    "DRIFTBOT_STORE, DRIFTBOT_LOG_LEVEL, DRIFTBOT_LOG_FORMAT (text or json), "
                                    "DRIFTBOT_WORKERS, DRIFTBOT_ENGINE_PROCESSES, DRIFTBOT_ONBOARDING, DRIFTBOT_ANALYSIS_SECONDS, DRIFTBOT_CACHE, DRIFTBOT_CACHE_MB. With none of the "
                                    "app's credentials set, it starts in setup mode: open / to register the app on "
                                    "GitHub (DRIFTBOT_URL: its public address), and it writes them to the .env file.")
    sv.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    sv.add_argument("--port", type=int, help="port (default: $PORT or 8000)")
    sv.set_defaults(func=cmd_serve)

    m = sub.add_parser("manifest", help="print a page that registers the GitHub App (manifest flow)",
                       description="Print an HTML page with a button that registers driftbot as a GitHub App, "
                                   "from app.yml, with its webhook at URL/webhook.")
    m.add_argument("--url", required=True, help="the public https:// address where driftbot serve runs")
    m.add_argument("--org", help="register under this organization (default: your account)")
    m.add_argument("--name", help="the app's name on GitHub (default: driftbot; names are unique on GitHub)")
    m.add_argument("--github", default="https://github.com", help="GitHub or GitHub Enterprise Server web address")
    m.set_defaults(func=cmd_manifest)

    s = sub.add_parser("schema", help="print a JSON Schema (config, report or rulepack)",
                       description="Print a JSON Schema, e.g. for editor completion of .github/driftbot.yml.")
    s.add_argument("which", choices=("config", "report", "rulepack"))
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("driftbot: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a defect: one line, its own exit code, never a traceback
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}" if where else ""
        sys.stderr.write(f"driftbot: internal error ({type(exc).__name__}{at}): {str(exc)[:300]}. Please report "
                         "it with the command you ran; DRIFTBOT_DEBUG=1 shows the traceback.\n")
        if os.environ.get("DRIFTBOT_DEBUG"):
            import traceback
            traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
