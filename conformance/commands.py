"""`rollsplit conformance run|export|verify|bench` (and `fuzz`, from conformance.fuzzing): arguments only.

Handlers return the exit code: 0 success, 1 a failed run or check (a run stopped early by --max-hangs or
--deadline fails), 2 a usage or start problem, 128 + the signal's number when SIGINT (130), SIGTERM (143) or
SIGHUP (129) ended a run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from rollsplit.args import count, default_jobs, jobs, seconds

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130   # Ctrl-C, as the shell reports SIGINT


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "conformance", help="run, export, verify or benchmark the conformance suite; fuzz a calculator (fuzz, fuzz-bench)",
        description="The conformance suite for calculators of wire contract v1, in any language.")
    sub = p.add_subparsers(dest="conformance_command", required=True, metavar="SUBCOMMAND")

    r = sub.add_parser(
        "run", help="run the suite against an adapter command",
        description="Run every vector through COMMAND (persistent JSON-lines protocol with a start handshake, or "
                    "one process per vector with --oneshot) and report passed/failed/errored/skipped. The command "
                    "runs without a shell. Exit 0 only when every required vector passes.",
        epilog="example: rollsplit conformance run -- rollsplit serve")
    r.add_argument("--oneshot", action="store_true",
                   help="one-shot protocol: spawn COMMAND per vector, request on stdin, one JSON on stdout")
    r.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="seconds per vector (default 10)")
    r.add_argument("--max-hangs", type=_hangs, default=3, metavar="K",
                   help="stop the run after K vectors in a row hung; the rest are reported as not run and the run "
                        "fails (default 3; 0: never stop)")
    r.add_argument("--deadline", type=_deadline, metavar="S",
                   help="seconds for the whole run; vectors not begun by then are reported as not run and the run "
                        "fails (default: no limit)")
    r.add_argument("--only", action="append", default=[], metavar="TAGS",
                   help="run only vectors matching one of these comma-separated ids, topics, tags, flags or features")
    r.add_argument("--skip", action="append", default=[], metavar="TAGS",
                   help="skip vectors matching one of these comma-separated ids, topics, tags, flags or features")
    r.add_argument("--features", metavar="LIST",
                   help="comma-separated features to declare instead of the handshake's (one-shot default: all)")
    r.add_argument("--expected-failures", type=Path, metavar="FILE",
                   help="vector ids (one per line, # comments) allowed to fail; an unexpected pass fails the run")
    r.add_argument("--report-json", type=Path, metavar="F", help="write a JSON-lines report, one line per vector")
    r.add_argument("--junit", type=Path, metavar="F", help="write a JUnit XML report")
    r.add_argument("--vectors", type=Path, metavar="DIR", help="vector directory (default: the bundled suite)")
    r.add_argument("--show", type=count, default=50, metavar="N", help="show at most N failures in full (default 50)")
    r.add_argument("--jobs", type=jobs, default=default_jobs(), metavar="N",
                   help="run N adapter processes at once (default: the number of cores, here "
                        f"{default_jobs()}); the reports list the vectors in their order whatever N")
    r.add_argument("adapter", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS",
                   help="the adapter command and its arguments, after --")
    from rollsplit.conformance import vendor_commands
    vendor_commands.add_run_options(r)
    r.set_defaults(func=run_command)

    e = sub.add_parser(
        "export", help="regenerate the vector files, manifest and COVERAGE.md (reproducible)",
        description="Explore the reference's behaviour regions with z3, add the worked examples, invalid requests "
                    "and large values, judge every expected answer against the invariants, and write the suite. "
                    "Existing ids keep their content; the output is the same byte for byte on a re-run. DIR may be "
                    "new, empty or a suite written by export; it is checked, created and locked before the "
                    "exploration, and the files are moved in only once all are written.")
    e.add_argument("--dir", type=Path, metavar="DIR", help="where to write (default: the bundled suite)")
    e.add_argument("--coverage", type=Path, metavar="FILE",
                   help="where to write the coverage table (default: conformance/COVERAGE.md beside the suite)")
    e.add_argument("--retire-changed", action="store_true",
                   help="retire every vector whose expected answer the reference no longer gives (its request goes "
                        "on under a new id) and list them; for a major version of the suite")
    e.add_argument("--force", action="store_true",
                   help="write the suite into a non-empty directory that holds no suite of ours; no file there is "
                        "removed or overwritten (a *.json that is not a file of the suite is refused even so)")
    e.set_defaults(func=export_command)

    v = sub.add_parser(
        "verify", help="check the manifest, the schemas and the suite's own rules",
        description="Check the manifest (versions, count, SHA-256 of every file), validate every file against the "
                    "vector schema, unique ids and descriptions, flags defined in notes, features, and that every "
                    "expected answer is the reference's and obeys the invariants.")
    v.add_argument("--dir", type=Path, metavar="DIR", help="vector directory (default: the bundled suite)")
    v.set_defaults(func=verify_command)

    b = sub.add_parser(
        "bench", help="vectors per second through the adapter protocols, and the runner's own overhead",
        description="Time the whole suite against `rollsplit serve` (persistent) and a sample one-shot, the raw "
                    "protocol round trip, and the runner against a trivial echo adapter; print a table.")
    b.add_argument("--repeat", type=count, default=3, metavar="N", help="passes over the suite per cell (default 3)")
    b.set_defaults(func=bench_command)

    vendor_commands.register(sub)

    try:
        fuzzing = importlib.import_module("rollsplit.conformance.fuzzing.commands")
    except ModuleNotFoundError as err:
        if err.name not in ("rollsplit.conformance.fuzzing", "rollsplit.conformance.fuzzing.commands"):
            raise
    else:
        fuzzing.register(sub)


def _hangs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("the number of hangs must be between 0 and 1,000,000")
    return value


def _deadline(text: str) -> float:
    """A whole run's duration in seconds: more than 0, at most a week (a duration, never money)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError("the deadline must be more than 0 seconds and at most a week (604800)")
    return value


def _tags(values: list[str]) -> set[str]:
    return {t.strip() for v in values for t in v.split(",") if t.strip()}


def _load_vectors(directory: Path | None, prog: str):
    """The vectors to run, after checking the directory against its manifest; None (said why) when they cannot
    be run."""
    from rollsplit.conformance import suite, verify
    d = directory or suite.VECTORS_DIR
    if not d.is_dir():
        print(f"{prog}: {d} is not a directory of vector files.", file=sys.stderr)
        return None
    # the manifest first: files changed since the suite was exported are not run as if they were that suite
    try:
        manifest, problems = verify.check_manifest(d)
    except OSError as e:
        print(f"{prog}: cannot read the vectors in {d}: {e.strerror or e}.", file=sys.stderr)
        return None
    if manifest is None:
        print(f"{prog}: warning: {d} has no manifest ({suite.MANIFEST}), so nothing says these files are a release "
              "of the suite or are whole; they are run as they are.", file=sys.stderr)
    elif problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        print(f"{prog}: the vector files in {d} do not match its manifest: {shown}. Nothing was run; "
              f"`rollsplit conformance verify --dir {d}` lists every problem.", file=sys.stderr)
        return None
    for path in suite.vector_files(d):
        bad = verify.file_problem(path)
        if bad:
            print(f"{prog}: {bad} (in {d}).", file=sys.stderr)
            return None
    try:
        vectors = suite.load(d)
    except OSError as e:
        print(f"{prog}: cannot read the vectors in {d}: {e.strerror or e}.", file=sys.stderr)
        return None
    except ValueError as e:
        print(f"{prog}: the vector files in {d} are malformed: {e}; "
              f"`rollsplit conformance verify --dir {d}` lists every problem.", file=sys.stderr)
        return None
    if not vectors:
        print(f"{prog}: no vectors found in {d}.", file=sys.stderr)
        return None
    return vectors


def run_command(args: argparse.Namespace) -> int:
    """One implementation, or several one after the other (-i), with the HTML report, badge and known-failure
    file (`conformance.vendor_commands`)."""
    from rollsplit.conformance import vendor_commands
    return vendor_commands.run(args, _run_one)


def _run_one(args: argparse.Namespace) -> int:
    from rollsplit.conformance import processes, runner, vendor_commands
    from rollsplit.conformance.adapter import FEATURES, open_adapter
    prog = "rollsplit conformance run"
    command = args.adapter[1:] if args.adapter[:1] == ["--"] else args.adapter
    if not command:
        print(f"{prog}: give the adapter command after --, e.g. `{prog} -- rollsplit serve`.", file=sys.stderr)
        return EXIT_USAGE
    features = None
    if args.features is not None:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            print(f"{prog}: unknown feature {', '.join(unknown)}; known: {', '.join(FEATURES)}.", file=sys.stderr)
            return EXIT_USAGE
    expected_failures: set[str] = set()
    if args.expected_failures is not None:
        try:
            expected_failures = runner.read_expected_failures(args.expected_failures)
        except OSError as e:
            print(f"{prog}: cannot read {args.expected_failures}: {e.strerror or e}.", file=sys.stderr)
            return EXIT_USAGE
        except ValueError as e:
            print(f"{prog}: cannot read the expected failures: {e}.", file=sys.stderr)
            return EXIT_USAGE
    vectors = _load_vectors(args.vectors, prog)
    if vectors is None:
        return EXIT_USAGE
    known = {v.id for v in vectors}
    stale = sorted(expected_failures - known)
    if stale:
        print(f"{prog}: note: the expected-failures file names ids not in the suite: {', '.join(stale[:10])}",
              file=sys.stderr)
    meta, scope = vendor_commands.run_context(prog, args, command, features, vectors, expected_failures)
    options = runner.Options(only=_tags(args.only) or None, skip=_tags(args.skip), features=features,
                             expected_failures=expected_failures, max_hangs=args.max_hangs, deadline=args.deadline,
                             scope=scope, metadata=meta)
    try:
        reporters = runner.open_reporters(args.report_json, args.junit)
    except runner.ReportError as e:
        print(f"{prog}: {runner.visible(e)}.", file=sys.stderr)
        return EXIT_USAGE
    reporters += getattr(args, "collectors", None) or []   # what --html, --badge, --write-expectations need
    adapter = open_adapter(command, oneshot=args.oneshot, timeout=args.timeout, features=features)
    if args.jobs > 1:   # N adapter processes; the reports are in the order of the vectors all the same
        from rollsplit.conformance.parallel import AdapterPool
        adapter = AdapterPool([adapter] + [open_adapter(command, oneshot=args.oneshot, timeout=args.timeout,
                                                        features=features) for _ in range(args.jobs - 1)])
    progress = runner.ProgressLine()
    try:
        with processes.stop_on_signals():
            return _run(prog, args, runner, adapter, vectors, options, reporters, progress)
    except KeyboardInterrupt as e:   # a signal while the adapter was being stopped, after the run
        _tell(f"{prog}: {_stopped_by(e)}.")
        return 128 + processes.signal_of(e)
    finally:
        processes.end_all()   # whatever was left of any adapter, however the run ended


def _tell(text: str, stream=None) -> None:
    """Print for a person; a terminal that is gone (SIGHUP) is no reason for a traceback."""
    try:
        print(text, file=stream or sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _stopped_by(e: BaseException) -> str:
    from rollsplit.conformance import processes
    signum = processes.signal_of(e)
    return "interrupted" if signum == 2 else f"stopped by {processes.signal_name(signum)}"


def _run(prog, args, runner, adapter, vectors, options, reporters, progress) -> int:
    from rollsplit.conformance.adapter import AdapterStartError
    from rollsplit.conformance import processes
    try:
        try:
            adapter.start()
        except AdapterStartError as e:   # its message may hold the adapter's stderr: shown escaped
            _tell(f"{prog}: {runner.visible(e)}")
            for r in reporters:   # a report that says the adapter did not start, never an empty or stale file
                try:
                    r.start_failed(str(e))
                except runner.ReportError as failure:
                    _tell(f"{prog}: {runner.visible(failure)}.")
            return EXIT_USAGE
        except KeyboardInterrupt as e:
            _tell(f"{prog}: {_stopped_by(e)} while the adapter was starting; no vector ran.")
            return 128 + processes.signal_of(e)
        summary = runner.run(adapter, vectors, options, reporters, progress=progress)
    except runner.Interrupted as e:   # Ctrl-C, SIGTERM, SIGHUP: what ran is reported, the reports end with it
        progress.finish()
        _tell(runner.render(e.summary, verbose_limit=args.show), sys.stdout)
        _tell(f"{prog}: {e.summary.interruption()} after {len(e.summary.outcomes)} of {e.summary.total} vectors"
              + ("; the reports hold the vectors that ran." if reporters else "."))
        return 128 + e.signum
    except runner.ReportError as e:
        progress.finish()
        if e.summary is not None and e.summary.outcomes:
            _tell(runner.render(e.summary, verbose_limit=args.show), sys.stdout)
        _tell(f"{prog}: {runner.visible(e)}"
              + (f"; the run stopped after {len(e.summary.outcomes)} of {e.summary.total} vectors"
                 if e.summary is not None and len(e.summary.outcomes) < (e.summary.total or 0) else "") + ".")
        return EXIT_USAGE
    finally:
        adapter.close()
        for r in reporters:   # a report never ended (the adapter did not start) leaves no temporary file
            r.close()
    _tell(runner.render(summary, verbose_limit=args.show), sys.stdout)
    if summary.stopped:
        _tell(f"{prog}: the run stopped early: {summary.stopped}; {summary.count(runner.NOT_RUN)} of "
              f"{summary.total} vectors were not run, and the run fails.")
        return EXIT_FAILED
    ran = len(summary.outcomes) - summary.count(runner.SKIPPED)
    if ran == 0:   # skipped never counts as passed: a run that tested nothing is not a green run
        _tell(f"{prog}: no vector ran (check --only, --skip and --features); nothing was tested.")
        return EXIT_FAILED
    return EXIT_OK if summary.ok else EXIT_FAILED


def export_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import export, suite
    prog = "rollsplit conformance export"
    directory = args.dir or suite.VECTORS_DIR
    coverage = args.coverage or (suite.HERE / "COVERAGE.md" if args.dir is None else directory / "COVERAGE.md")
    retired: list | None = [] if args.retire_changed else None
    # export checks where it writes before the exploration (tens of seconds of z3), and writes all files at the end
    try:
        n = export.export(directory, coverage_md=coverage, retire_changed=retired, force=args.force)
    except export.ExportError as e:
        print(f"{prog}: {e}{'' if str(e).endswith('.') else '.'}", file=sys.stderr)
        return EXIT_USAGE if e.code == 2 else EXIT_FAILED
    except OSError as e:
        where = e.filename or directory
        print(f"{prog}: cannot write {where}: {e.strerror or e}; the suite in {directory} was left as it was.",
              file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {n} vectors to {directory} and the coverage table to {coverage}")
    if retired:
        print(f"retired {len(retired)} vectors whose expected answer changed:")
        for r in retired:
            print(f"  {r.id}: {r.reason()}")
    return EXIT_OK


def verify_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import suite, verify
    directory = args.dir or suite.VECTORS_DIR
    if not directory.is_dir():
        print(f"rollsplit conformance verify: {directory} is not a directory of vector files.", file=sys.stderr)
        return EXIT_USAGE
    if not suite.vector_files(directory):
        print(f"rollsplit conformance verify: {directory} holds no vector files (*.json besides the manifest).",
              file=sys.stderr)
        return EXIT_USAGE
    problems = verify.verify(directory, progress=True)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found in {directory}")
        return EXIT_FAILED
    print(f"the suite in {directory} verifies: manifest, schemas, ids, descriptions, flags, features, and every "
          "expected answer equal to the reference's and obeying the invariants")
    return EXIT_OK


def bench_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import bench
    print(bench.bench(repeat=args.repeat))
    return EXIT_OK
