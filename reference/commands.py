"""`rollsplit allocate`, `rollsplit serve`, `rollsplit bench`: argument parsing only.

Handlers return the exit code: 0 for a result, 2 for a rejected request or an unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys

from rollsplit.args import count, jobs, seconds

EXIT_OK, EXIT_REJECTED = 0, 2


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "allocate", help="split one distribution and allocate it across rollovers",
        description="Read one request (wire contract 1.2) from FILE or standard input and print the allocation: "
                    "tables and a step-by-step explanation citing the rules, or the Result/Error JSON with --json "
                    "(a one-shot adapter). Exit status 0 on a result, 2 on a rejected request.")
    p.add_argument("file", nargs="?", metavar="FILE", help="request JSON file (default: standard input)")
    p.add_argument("--json", action="store_true", help="print exactly one Result JSON or Error JSON line")
    p.add_argument("--explain", action="store_true",
                   help="with --json: add the explanation's steps under \"explanation\" (rule, citation, formulas, "
                        "amounts in cents and dollars); the Result is otherwise the contract's")
    p.add_argument("--jsonl", metavar="IN",
                   help="answer a file of requests, one JSON per line ('-': standard input): one Result or Error "
                        "JSON per line, in the same order; exit status 2 when any request is rejected")
    p.add_argument("--out", metavar="OUT", help="with --jsonl: write the answers to OUT, whole or not at all "
                                                "(default: standard output)")
    p.add_argument("--jobs", type=jobs, default=None, metavar="N",
                   help="with --jsonl: answer with N processes (default: the number of cores)")
    p.set_defaults(func=allocate_command)

    p = subparsers.add_parser(
        "serve", help="persistent JSON-lines adapter of the reference (protocol 1)",
        description="Answer start/allocate/stop messages, one JSON object per line on standard input and output.")
    p.set_defaults(func=serve_command)

    p = subparsers.add_parser(
        "bench", help="how fast the reference answers: requests, mixed streams, start-up, parallel runs, batches",
        description="Time the reference and print a table per figure, each with its ratios measured side by side in "
                    "this run (against the answer path of release 0.3.0, bare Python, --jobs 1, ...), its targets and "
                    "the machine it ran on. About two minutes; --quick takes smaller samples.")
    p.add_argument("--seconds", type=seconds, default=1.0, metavar="S",
                   help="CPU seconds to time each cell of the in-process tables (default 1)")
    p.add_argument("--only", nargs="+", choices=("requests", "json", "stream", "startup", "parallel", "batch"),
                   metavar="SECTION", help="only these sections: requests, json, stream, startup, parallel, batch")
    p.add_argument("--quick", action="store_true", help="smaller samples (a try, not figures to quote)")
    p.add_argument("--stream", type=count, default=4000, metavar="N", help="requests in the mixed stream (4000)")
    p.add_argument("--batch", type=count, default=200_000, metavar="N",
                   help="requests in the allocate --jsonl run (200,000)")
    p.set_defaults(func=bench_command)


class _Unreadable(Exception):
    """The request cannot be read: `what` (the file, or standard input) and `why`."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"cannot read {what}: {why}")
        self.what, self.why = what, why


def _read(path: str | None) -> bytes:
    """The request's bytes, at most MAX_LINE + 1 of them (one more than `serve` takes as one message, so that
    a longer input is known to be too long without being held whole). Raises _Unreadable."""
    from rollsplit.reference.serve import MAX_LINE
    stdin = path is None or path == "-"
    try:
        if stdin:
            return sys.stdin.buffer.read(MAX_LINE + 1)
        with open(path, "rb") as f:
            return f.read(MAX_LINE + 1)
    except OSError as e:
        raise _Unreadable("standard input" if stdin else path, e.strerror or str(e)) from None


def allocate_command(args: argparse.Namespace) -> int:
    if args.jsonl is not None or args.out is not None or args.jobs is not None:
        return _batch(args)
    from rollsplit.reference.serve import MAX_LINE
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_json

    try:
        data = _read(args.file)
    except _Unreadable as e:
        if args.json:   # a program reads the code: an Error JSON like that of a rejected request
            code = "unreadable_input"   # spec.errors.INPUT_ERROR_CODES: outside the wire contract
            message = f"Cannot read the request {'from' if e.what == 'standard input' else 'file'} {e.what}: {e.why}."
            print(json.dumps({"error": {"code": code, "message": message, "field": None}}, separators=(",", ":")),
                  flush=True)
        else:
            print(f"rollsplit allocate: {e}.", file=sys.stderr)
        return EXIT_REJECTED
    if args.json and not args.explain:
        # the answer as `serve` and `rollsplit.allocate` give it, by the same function: proved compiled code where a
        # proof covers a hot shape (reference.compiled), the generic path otherwise (a one-shot process answers one
        # request: its shape is never hot, and answering does not import what compiling needs)
        from rollsplit.reference import calculate
        from rollsplit.reference.serve import decode
        try:
            if len(data) > MAX_LINE:
                raise RequestError("invalid_json", f"The input is longer than {MAX_LINE} bytes (16 MiB), the most "
                                   "rollsplit allocate reads as one request (the same limit as rollsplit serve).")
            answer = calculate(decode(data))
        except RequestError as e:
            answer = e.to_wire()
        print(json.dumps(answer, separators=(",", ":")), flush=True)
        return EXIT_REJECTED if "error" in answer else EXIT_OK
    from rollsplit.reference import compute_outcome
    from rollsplit.reference.explain import error_report, report
    from rollsplit.spec.parse import parse_request
    try:
        if len(data) > MAX_LINE:
            raise RequestError("invalid_json", f"The input is longer than {MAX_LINE} bytes (16 MiB), the most "
                               "rollsplit allocate reads as one request (the same limit as rollsplit serve).")
        req = parse_request(parse_json(data))
        outcome = compute_outcome(req)
    except RequestError as e:
        if args.json:
            print(json.dumps(e.to_wire(), separators=(",", ":")), flush=True)
        else:
            _write_text(error_report(e))
        return EXIT_REJECTED
    from rollsplit.reference import assurance, assurance_text, fault
    proved, broken = assurance(req, outcome.result.to_wire())
    if broken:   # beyond the proofs, and the check of the answer failed: it is withheld
        wire = fault(broken)
        if args.json:
            print(json.dumps(wire, separators=(",", ":")), flush=True)
        else:
            _write_text(f"{wire['error']['message']}\n  error code: {wire['error']['code']}\n")
        return EXIT_REJECTED
    if args.json:   # --explain
        from rollsplit.reference.explain import explained_result
        print(json.dumps(explained_result(req, outcome), separators=(",", ":")), flush=True)
    else:
        _write_text(report(req, outcome) + "\n\n" + assurance_text(proved) + "\n")
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    """--jsonl IN [--out OUT] [--jobs N]."""
    prog = "rollsplit allocate"
    if args.jsonl is None:
        print(f"{prog}: --out and --jobs go with --jsonl IN (a file of requests, one per line).", file=sys.stderr)
        return EXIT_REJECTED
    if args.file is not None or args.explain or args.json:
        print(f"{prog}: --jsonl reads its requests from IN and answers in JSON lines; give no FILE, --json or "
              "--explain with it.", file=sys.stderr)
        return EXIT_REJECTED
    from rollsplit.args import default_jobs
    from rollsplit.reference import batch
    try:
        summary = batch.run(args.jsonl, args.out, jobs=args.jobs or default_jobs())
    except batch.BatchError as e:
        print(f"{prog}: {e}.", file=sys.stderr)
        return EXIT_REJECTED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; " + ("nothing was written to " + args.out if args.out and args.out != "-"
                                          else "the answers written so far are incomplete") + ".", file=sys.stderr)
        return 130
    if sys.stderr.isatty():
        print(batch.main_line(summary), file=sys.stderr)
    return EXIT_REJECTED if summary.errors else EXIT_OK


def _write_text(text: str) -> None:
    """Tables and explanations for people: an id that is not valid Unicode (a lone surrogate, which JSON
    allows) is shown escaped instead of failing to print."""
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def serve_command(args: argparse.Namespace) -> int:
    from rollsplit.reference.serve import serve
    return serve(sys.stdin.buffer, sys.stdout.buffer)


def bench_command(args: argparse.Namespace) -> int:
    from rollsplit.reference.bench import run
    run(args.seconds, only=args.only, quick=args.quick, stream=args.stream, batch=args.batch)
    return EXIT_OK
