"""`rollsplit conformance fuzz` and `rollsplit conformance fuzz-bench` (registered by conformance.commands).

    rollsplit conformance fuzz [--examples N] [--seed S] [--max-seconds T] [--features F ...] [--oneshot]
                               [--timeout S] [--out DIR] -- COMMAND ARGS...
    rollsplit conformance fuzz-bench [--seeds 5] [--examples 5000] [--max-seconds 30] [--mutants NAME ...]

Exit codes of `fuzz`: 0 no wrong answer found, 1 a failure was found (shrunk, printed and written as a
vector), 2 the command line or the adapter could not be used.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
from typing import Any

from rollsplit.args import count, default_jobs, jobs, seconds
from rollsplit.progress import Progress
from rollsplit.spec.features import FEATURES


def register(conformance_subparsers: Any) -> None:
    p = conformance_subparsers.add_parser(
        "fuzz", help="fuzz a calculator with random valid and near-valid requests; shrink any failure",
        description="Drive a calculator through the adapter protocols with Hypothesis-generated requests "
                    "(boundary-biased valid requests and near-valid ones with one fault each), judge every answer "
                    "with the oracle (invariants with citations + differences from the reference), shrink the "
                    "first failure to a minimal request and write it as a conformance vector.")
    p.add_argument("--examples", type=int, default=1000, metavar="N", help="requests to try (default 1000)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of the run (default: random, printed so the run can be reproduced)")
    p.add_argument("--max-seconds", type=float, default=None, metavar="T",
                   help="stop generating after T seconds (shrinking a failure found in time still finishes)")
    p.add_argument("--max-shrink-seconds", type=float, default=120.0, metavar="T",
                   help="give up shrinking after T seconds and report the smallest failure so far (default 120)")
    p.add_argument("--features", type=_features, metavar="LIST",
                   help="comma-separated: only requests needing these features (default: what the adapter "
                        f"declares; for --oneshot: all). Known: {', '.join(FEATURES)}")
    p.add_argument("--oneshot", action="store_true", help="spawn COMMAND once per request (stdin/stdout)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per request (default 10)")
    p.add_argument("--no-errors", action="store_true", help="valid requests only (no near-valid ones)")
    p.add_argument("--jobs", type=jobs, default=default_jobs(), metavar="N",
                   help="judge on N adapter processes at once (default: the number of cores, here "
                        f"{default_jobs()}); the requests drawn, the failure found and its shrinking are those of "
                        "--jobs 1")
    p.add_argument("--out", default="fuzz-failures", metavar="DIR",
                   help="where the shrunk failure is written as a vector file (default ./fuzz-failures)")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS...",
                   help="the calculator's adapter command, after --")
    p.set_defaults(func=cmd_fuzz)

    b = conformance_subparsers.add_parser(
        "fuzz-bench", help="benchmark the fuzzer's power: examples and seconds to find each classic-mistake mutant",
        description="Fuzz every mutant of reference.mutants through the persistent adapter "
                    "(conformance.testing.mutant_adapter) with several seeds; print, for each, the median examples "
                    "and seconds until the first failure and the size of the shrunk request.")
    b.add_argument("--seeds", type=count, default=5, metavar="N", help="seeds per mutant (default 5)")
    b.add_argument("--first-seed", type=int, default=1, metavar="S", help="first seed (default 1)")
    b.add_argument("--examples", type=count, default=5000, metavar="N", help="give up after N examples (default 5000)")
    b.add_argument("--max-seconds", type=seconds, default=30.0, metavar="T", help="give up after T s (default 30)")
    b.add_argument("--mutants", nargs="+", metavar="NAME", help="only these mutants")
    b.add_argument("--in-process", action="store_true",
                   help="call the mutants in-process instead of through the adapter (measures the kit alone)")
    b.set_defaults(func=cmd_fuzz_bench)


def _features(text: str) -> list[str]:
    names = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in names if f not in FEATURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown feature(s) {', '.join(unknown) or '(none given)'}; "
                                         f"known: {', '.join(FEATURES)}")
    return names


def _say(*parts: Any) -> None:
    try:
        print(*parts, file=sys.stderr, flush=True)
    except (OSError, ValueError):   # the terminal is gone (SIGHUP): no reason for a traceback
        pass


def _command(args: argparse.Namespace) -> list[str] | None:
    command = list(args.command or [])
    if command and command[0] == "--":
        command = command[1:]
    return command or None


def _visible(text: Any) -> str:
    from rollsplit.conformance.runner import visible
    return visible(text)


def rerun_line(args: argparse.Namespace, seed: int, command: list[str]) -> str:
    """The command line that reproduces this run: every option that decides what is drawn, what is judged and
    how long an answer may take (--timeout always: a default may change; --max-shrink-seconds when given)."""
    return (f"rollsplit conformance fuzz --seed {seed} --examples {args.examples}"
            + (f" --max-seconds {args.max_seconds:g}" if args.max_seconds else "")
            + (f" --max-shrink-seconds {args.max_shrink_seconds:g}" if args.max_shrink_seconds != 120.0 else "")
            + (f" --features {','.join(args.features)}" if args.features else "")
            + f" --timeout {args.timeout:g}"
            + (" --oneshot" if args.oneshot else "") + (" --no-errors" if args.no_errors else "")
            + " -- " + shlex.join(command))


def cmd_fuzz(args: argparse.Namespace) -> int:
    from rollsplit.conformance import processes

    command = _command(args)
    if command is None:
        _say("rollsplit conformance fuzz: give the calculator's command after --, "
             "for example: rollsplit conformance fuzz -- rollsplit serve")
        return 2
    if args.examples < 1:
        _say("rollsplit conformance fuzz: --examples must be at least 1.")
        return 2
    if (args.max_seconds is not None and args.max_seconds <= 0) or args.max_shrink_seconds <= 0 or args.timeout <= 0:
        _say("rollsplit conformance fuzz: --max-seconds, --max-shrink-seconds and --timeout must be more than 0.")
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    try:
        with processes.stop_on_signals():
            return _fuzz(args, command, seed)
    except KeyboardInterrupt as e:   # Ctrl-C, SIGTERM, SIGHUP: every adapter process is ended (below)
        signum = processes.signal_of(e)
        how = "interrupted" if signum == 2 else f"stopped by {processes.signal_name(signum)}"
        done = getattr(e, "fuzz_examples", None)
        found = getattr(e, "fuzz_failure", None) is not None
        _say(f"rollsplit conformance fuzz: {how}"
             + (f" after {done} examples" if done is not None else "") + f" (seed {seed}); "
             + ("a failure had been found and was being shrunk: run again to see it. "
                if found else "no wrong answer so far. ")
             + f"Reproduce: {rerun_line(args, seed, command)}")
        return 128 + signum
    finally:
        processes.end_all()


def _fuzz(args: argparse.Namespace, command: list[str], seed: int) -> int:
    from rollsplit.conformance.adapter import AdapterStartError, open_adapter
    from rollsplit.conformance.fuzzing.driver import fuzz_parallel
    from rollsplit.conformance.fuzzing.vector import write_failure

    adapters = [open_adapter(command, oneshot=args.oneshot, timeout=args.timeout, features=args.features)
                for _ in range(args.jobs)]
    adapter = adapters[0]
    try:
        try:
            handshake = adapter.start()
        except AdapterStartError as e:
            _say(f"rollsplit conformance fuzz: {_visible(e)}")
            return 2
        declared = set(handshake.get("features") or [])
        features = declared & set(args.features) if args.features else declared
        if args.features and set(args.features) - declared:
            _say(f"note: the adapter does not declare {', '.join(sorted(set(args.features) - declared))}; "
                 "those features are not fuzzed")
        impl = handshake.get("implementation", {})
        _say(_visible(f"fuzzing {shlex.join(command)} ({impl.get('name')} {impl.get('version')}, "
                      f"{impl.get('language')}; {'one-shot' if args.oneshot else 'persistent'}) with seed {seed}, up "
                      f"to {args.examples} examples" + (f" or {args.max_seconds:g} s" if args.max_seconds else "")
                      + f"; features: {', '.join(sorted(features))}").replace("\n", "\\n"))
        line = Progress(sys.stderr)

        shrink: dict = {}   # when shrinking began, and how many wrong answers had been seen by then

        def progress(examples: int, failures: int, elapsed: float, phase: str) -> None:
            if phase != "shrink":
                line.update(f"fuzz: {examples} examples, no wrong answer yet, {elapsed:.1f} s")
                return
            shrink.setdefault("at", elapsed)
            shrink.setdefault("seen", failures)
            budget = args.max_shrink_seconds
            line.update(f"fuzz: wrong answer found after {examples} examples; looking for the smallest request that "
                        f"is still answered wrongly: {failures - shrink['seen'] + 1} smaller ones answered wrongly so "
                        f"far, {elapsed - shrink['at']:.1f} s of at most {budget:g} s")
        try:
            # the other adapters start with their first request (a persistent one), in their own thread
            report = fuzz_parallel([a.allocate for a in adapters], examples=args.examples, seed=seed,
                                   max_seconds=args.max_seconds, features=features, near_valid=not args.no_errors,
                                   max_shrink_seconds=args.max_shrink_seconds, progress=progress)
        finally:
            try:
                line.close()
            except (OSError, ValueError):   # the terminal is gone (SIGHUP): no reason for a traceback
                pass
    finally:
        for a in adapters:
            a.close()
    for note in report.notes:
        _say(f"note: {_visible(note)}")
    rerun = rerun_line(args, seed, command)
    if report.failure is None:
        if report.stopped == "unsatisfiable":
            _say("rollsplit conformance fuzz: no requests could be drawn for these features.")
            return 2
        how = "the time limit was reached" if report.stopped == "time" else "all examples were run"
        print(f"clean: {report.examples} examples in {report.seconds:.1f} s, no wrong answer ({how}; seed {seed}).")
        return 0
    f = report.failure
    out: list[str] = [
        f"FAILURE found after {report.first_failure_example} examples "
        f"({report.first_failure_seconds:.1f} s), shrunk in {report.shrink_calls} steps to a request of "
        f"{f.size} row{'s' if f.size != 1 else ''}:",
        json.dumps(f.request, indent=2, ensure_ascii=False) if not isinstance(f.request, str) else f.request,
        "what is wrong:"]
    out += [f"  {line.strip()}" for line in f.explain().splitlines()]
    out.append(f"expected (reference): {json.dumps(f.expected, ensure_ascii=False)}")
    out.append(f"answer:               "
               f"{json.dumps(f.answer, ensure_ascii=False) if f.answer is not None else '(none)'}")
    print(_visible("\n".join(out)))   # what the calculator wrote, shown escaped
    try:
        path = write_failure(f, args.out, seed=seed, implementation=impl, command=command)
        print(f"written: {path}")
    except OSError as e:
        _say(f"rollsplit conformance fuzz: could not write the vector into {args.out}: {e.strerror or e}")
    print(f"reproduce: {rerun}")
    return 1


def cmd_fuzz_bench(args: argparse.Namespace) -> int:
    from rollsplit.conformance.fuzzing.bench import run_bench
    return run_bench(seeds=args.seeds, first_seed=args.first_seed, examples=args.examples,
                     max_seconds=args.max_seconds, mutants=args.mutants, in_process=args.in_process)
