"""`rollsplit prove` and `rollsplit recheck`: argument parsing and tables only.

Exit status: 0 when every obligation is proved (unsat), every witness found (sat) and, with --mutants, every
mutant refuted; 1 otherwise (refuted, unknown/timeout, missing witness, surviving mutant, recheck mismatch);
2 for a usage error (unknown shape, unwritable directory, a --out that is not empty and holds no bundle of
ours without --force, a --out another prove is writing, unreadable bundle).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rollsplit.args import count, jobs, seconds
from rollsplit.tables import fit

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FULL_TABLE_MAX = 300   # above this many obligations, a per-invariant summary (every failure is still listed)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "prove", help="prove every invariant of the reference with z3 and write the audit bundle",
        description="Run the reference algorithm on z3 terms for every request shape and prove each invariant, "
                    "determinacy, the lemmas and non-vacuity; write one SMT-LIB2 file per obligation, results.json "
                    "and REPORT.md. Only unsat counts as proved: a timeout or unknown is a failure. Exit status 0 "
                    "when everything is proved, 1 otherwise, 2 on a usage error.")
    p.add_argument("--out", default="audit", metavar="DIR", help="bundle directory (default: audit)")
    p.add_argument("--shapes", nargs="+", default=["all"], metavar="SHAPE",
                   help="'all' (default), 'small', 'old-large' (the old-rule shapes with 4-5 disbursements) "
                        "or shape names as printed by --list-shapes")
    p.add_argument("--list-shapes", action="store_true", help="print the selected shapes and exit")
    p.add_argument("--jobs", type=jobs, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: the number of cores)")
    p.add_argument("--timeout", type=seconds, default=20.0, metavar="S",
                   help="seconds z3 may spend on one obligation (default 20); running out is a failure")
    p.add_argument("--mutants", action="store_true",
                   help="also run the seeded mutants of the reference; each must be refuted by a replayed "
                        "counterexample (written under DIR/mutants/)")
    p.add_argument("--no-bundle", action="store_true", help="check only: write no files")
    p.add_argument("--force", action="store_true",
                   help="write the bundle into a non-empty directory that holds no bundle of ours; no file "
                        "already there is removed or overwritten (prove refuses such a directory without it)")
    p.add_argument("--verbose", action="store_true", help="print every obligation, however many")
    p.add_argument("--record-proved", action="store_true",
                   help="maintainers: after a run of the whole bundle in which every compiled-path obligation is "
                        "proved, record the digests of those compiled sources in the package "
                        "(reference/proved_sources.json): only they answer requests")
    p.set_defaults(func=prove_command)

    r = subparsers.add_parser(
        "recheck", help="re-run every SMT-LIB2 file of an audit bundle with z3 and/or cvc5 in fresh processes",
        description="Check each file's sha256 against results.json, then run every obligations/*.smt2 (expected "
                    "unsat) and witnesses/*.smt2 (expected sat) in a fresh solver process that reads only the "
                    "file. Exit status 1 on any mismatch, tampered, missing or unlisted file, z3 not confirming, "
                    "or a stale bundle (proved against other sources or another z3 than the installed ones; "
                    "--allow-stale lists it only); cvc5 'unknown' is listed but fails only with --strict.")
    r.add_argument("dir", metavar="DIR", help="the bundle directory written by `rollsplit prove`")
    r.add_argument("--solver", choices=("z3", "cvc5", "all"), default="z3", help="which solver(s) (default z3)")
    r.add_argument("--timeout", type=seconds, default=60.0, metavar="S",
                   help="seconds per file and solver (default 60)")
    r.add_argument("--jobs", type=jobs, default=os.cpu_count() or 1, metavar="N",
                   help="files checked at once (default: the number of cores)")
    r.add_argument("--strict", action="store_true", help="an 'unknown' from any solver is a failure")
    r.add_argument("--only", action="append", metavar="GLOB",
                   help="solve only the files whose path in the bundle matches (fnmatch, repeatable), e.g. "
                        "'obligations/*DIRECT-FIRST*'; every file's sha256 is still checked")
    r.add_argument("--sample", type=count, metavar="N",
                   help="solve N files spread evenly over the (selected) bundle: a spot check, the same N files "
                        "on every run")
    r.add_argument("--allow-stale", action="store_true",
                   help="do not fail when the bundle was proved against other code (a source's sha256 or the z3 "
                        "version differs from the installed ones); the differences are still listed")
    r.set_defaults(func=recheck_command)

    f = subparsers.add_parser(
        "formulas", help="closed forms of every output in each behaviour region (the reference on sympy symbols)",
        description="Run the reference algorithm on sympy symbols for representative shapes and print, for each "
                    "behaviour region z3 finds, the region's conditions and every output's formula (the section "
                    "REPORT.md includes). --check N evaluates the formulas on N points per shape and compares them "
                    "with the reference: exit 1 on any mismatch.")
    f.add_argument("--check", type=count, metavar="N", help="compare with the reference on N points per shape")
    f.set_defaults(func=formulas_command)

    x = subparsers.add_parser(
        "execute", help="answer a request with z3 from the invariants alone (no reference code for the result)",
        description="z3 as an independent executor: every money field of the result is a fresh unknown, every "
                    "applicable invariant of spec.invariants is asserted with the request's values, and the model "
                    "is the answer; a second solve proves it is the only one. Validation (which error a rejected "
                    "request gets) uses the parser and the reference's value checks. --bench runs it over the "
                    "conformance suite and compares with the reference. Exit 0 on a result, 2 on a rejected "
                    "request or unreadable file, 1 when z3 finds no unique answer or the benchmark disagrees.")
    x.add_argument("file", nargs="?", default="-", metavar="FILE", help="request JSON (default: standard input)")
    x.add_argument("--bench", action="store_true", help="run over every conformance vector: ms, uniqueness, agreement")
    x.set_defaults(func=execute_command)


def formulas_command(args: argparse.Namespace) -> int:
    from rollsplit.progress import Progress, eta
    from rollsplit.solver.formulas import check_table, report_section
    line = Progress(sys.stderr)
    t0 = time.perf_counter()

    def progress(done: int, total: int, what: str) -> None:
        line.update(f"[formulas] {eta(done, total, time.perf_counter() - t0)} (steps: each shape derived, then "
                    "checked)")
    try:
        if args.check is None:
            text = report_section(progress=progress)
        else:
            table, ok = check_table(n=args.check, progress=progress)
    finally:
        line.close()
    if args.check is None:
        print(terminal_markdown(text))
        return EXIT_OK
    print(table)
    return EXIT_OK if ok else EXIT_FAILED


def terminal_markdown(text: str, width: int = 120) -> str:
    """Markdown for a terminal: each pipe table as a plain table at most `width` columns wide (cells wrapped, code
    marks dropped), each paragraph wrapped at `width`; headings and blank lines as they are."""
    import re
    import textwrap

    def cells(row: str) -> list[str]:
        body = row.strip().strip("|")
        return [c.strip().replace("\\|", "|").replace("`", "") for c in re.split(r"(?<!\\)\|", body)]

    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|"):
            block = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                block.append(lines[i])
                i += 1
            rows = [cells(r) for r in block[1:] if not re.fullmatch(r"[\s|:\-]+", r)]
            out.append(fit(rows, cells(block[0]), width=width))
            continue
        line = lines[i]
        out.append(textwrap.fill(line, width=width, break_long_words=False, break_on_hyphens=False)
                   if len(line) > width and not line.startswith("#") else line)
        i += 1
    return "\n".join(out)


def execute_command(args: argparse.Namespace) -> int:
    from rollsplit.solver import executor
    if args.bench:
        if args.file != "-":
            return _err("execute", "give a request FILE or --bench, not both.")
        table, agree = executor.bench_table()
        print(table)
        return EXIT_OK if agree else EXIT_FAILED
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as e:
        return _err("execute", f"cannot read {args.file}: {e.strerror}.")
    ex = executor.execute(data)
    print(json.dumps(ex.wire, indent=2) if ex.wire is not None else f"no result: {ex.reason}")
    if ex.status == "result":
        print(f"uniqueness: {ex.uniqueness} ({ex.seconds * 1000:.1f} ms, {len(ex.invariants)} invariants)",
              file=sys.stderr)
    return {"result": EXIT_OK, "error": EXIT_USAGE}.get(ex.status, EXIT_FAILED)


def _err(prog: str, text: str) -> int:
    print(f"rollsplit {prog}: {text}", file=sys.stderr)
    return EXIT_USAGE


def _failed(text: str, code: int) -> int:
    print(f"rollsplit prove: {text}.", file=sys.stderr)
    return code


def prove_command(args: argparse.Namespace) -> int:
    from rollsplit.solver import prove as P
    from rollsplit.solver import shapes as S

    try:
        shapes = S.select(args.shapes)
    except KeyError as e:
        return _err("prove", str(e.args[0]) + ".")
    if not shapes:
        return _err("prove", f"the selection {' '.join(args.shapes)!r} holds no shapes.")
    if args.list_shapes:
        rejecting = set(S.rejecting_shapes())
        # one shape a line, its name last and whole (names are what --shapes takes; some are longer than a line)
        print("destinations  obligations  shape")
        for s in shapes:
            print(f"{S.size(s):>12}  {'rejects' if s in rejecting else 'proofs':<11}  {s.name()}")
        print(f"{len(shapes)} shapes")
        return EXIT_OK
    out = None if args.no_bundle else Path(args.out)
    claim = None
    if out is not None:
        # before any long work: may the bundle go there (ours, empty, or --force), and is no other prove
        # writing there (the lock is held until the end)? The run writes into a staging folder inside `out`
        # and `publish` moves the finished bundle in, so a failed run leaves the previous bundle as it was.
        try:
            claim = P.claim_bundle(out, force=args.force)
        except P.BundleError as e:
            return _failed(str(e), e.code)
    try:
        return _prove(args, shapes, out, claim)
    except P.BundleError as e:
        return _failed(str(e), e.code)
    except (P.BundleWriteError, OSError) as e:
        if claim is None:
            raise
        why = str(e) if isinstance(e, P.BundleWriteError) else f"cannot write the bundle: {e.strerror or e}"
        return _failed(f"{why}; the run is abandoned and {out} is unchanged", EXIT_FAILED)
    finally:
        if claim is not None:
            P.release(claim)


def _prove(args: argparse.Namespace, shapes, out: Path | None, claim) -> int:
    from rollsplit.solver import prove as P

    work = claim.staging if claim is not None else None
    t0 = time.perf_counter()
    background = _start_formulas() if out is not None else None
    try:
        results = P.run_all(shapes, jobs=args.jobs, timeout=args.timeout, out_dir=work)
        wall = time.perf_counter() - t0
        mutants = None
        if args.mutants:
            mutants = P.run_mutants(jobs=args.jobs, timeout=args.timeout, out_dir=work)
    except BaseException:
        if background is not None:
            background[0].terminate()
        raise
    mutant_wall = time.perf_counter() - t0 - wall

    _print_obligations(results, args.verbose)
    print()
    print("Time against the number of destinations (direct + paid + 60-day):")
    print(fit(P.growth_table(results), P.GROWTH_HEADERS))
    if mutants is not None:
        print()
        print("Mutants (each must be refuted by a counterexample replayed on the concrete mutant; files in mutants/):")
        print(fit(mutant_rows(mutants), MUTANT_HEADERS))

    report_wall = 0.0
    if out is not None:
        from rollsplit.solver.report import compute_cores, write_report
        try:
            data = P.write_results(work, results, wall, args.jobs, shapes, mutants=mutants, timeout=args.timeout)
            t1 = time.perf_counter()
            cores = _cores(data, args.jobs, compute_cores)
            formulas = _finish(background)
        except BaseException:
            background[0].terminate()
            raise
        write_report(work, data, formulas=formulas, cores=cores)
        report_wall = time.perf_counter() - t1
        P.publish(claim)
        _tell_kept(out, claim.kept)
    total_wall = time.perf_counter() - t0
    bad = [r for r in results if not r.ok]
    survived = [m for m in mutants or () if not m["refuted"]]
    counts = ", ".join(f"{n} {k}" for k, n in sorted(P._summary(results).items()))
    line = f"{len(results)} obligations over {len(shapes)} shapes: {counts}; proofs {wall:.1f} s wall with {args.jobs} jobs"
    if mutants is not None:
        line += f"; {len(mutants) - len(survived)}/{len(mutants)} mutants refuted in {mutant_wall:.1f} s"
    if out is not None:
        line += f"; reports and unsat cores {report_wall:.1f} s"
    line += f"; total {total_wall:.1f} s."
    if out is not None:
        line += f" Bundle: {out}/ (open REPORT.html; REPORT.md, results.json)."
    print(line)
    if bad:
        print(f"NOT PROVED: {len(bad)} obligation(s) (unknown and timeout count as not proved).")
    if survived:
        print(f"SURVIVED: {', '.join(m['mutant'] for m in survived)}.")
    unbroken = P.unbroken_rules(mutants) if mutants is not None and len(mutants) >= len(_all_mutants()) else []
    if unbroken:
        print(f"NO MUTANT BREAKS: {', '.join(unbroken)}.")
    if getattr(args, "record_proved", False):
        whole = not args.shapes or args.shapes == ["all"]
        compiled_bad = [r for r in results if r.kind == "compiled" and not r.ok]
        if not whole or bad or compiled_bad:
            print("rollsplit prove: --record-proved records only a run of the whole bundle with every obligation "
                  "proved; nothing recorded.", file=sys.stderr)
        else:
            path, n = P.record_proved(results, shapes)
            print(f"Recorded the digests of {n} proved compiled sources in {path}.")
    silent = P.silent_rules(results)
    whole_bundle = not args.shapes or args.shapes == ["all"]
    if silent and whole_bundle:
        print(f"SAYS NOTHING: {'; '.join(silent)}.")
    elif silent:
        print(f"Note: on the shapes chosen, these rules say nothing: {'; '.join(silent)}.")
    return EXIT_FAILED if bad or survived or unbroken or (silent and whole_bundle) else EXIT_OK


def _all_mutants():
    from rollsplit.reference.mutants import MUTANTS
    return MUTANTS


def _tell_kept(out: Path, kept: list[str]) -> None:
    """Files in the bundle directory that prove did not write stay; say so, and what recheck will make of them."""
    if not kept:
        return
    shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
    unlisted = [k for k in kept
                if k.endswith(".smt2") and k.split("/")[0] in ("obligations", "witnesses", "mutants")]
    line = f"rollsplit prove: kept {len(kept)} file(s) in {out} that it did not write: {shown}"
    if unlisted:
        line += f"; recheck fails on {len(unlisted)} of them as unlisted until they are moved away"
    print(line + ".", file=sys.stderr)


def _start_formulas():
    """REPORT.md's sympy section takes a while and needs nothing from the proofs: compute it in one more
    process while the proofs run (the proofs' pool leaves a core idle in its tail)."""
    from rollsplit.solver.prove import pool as worker_pool
    pool = worker_pool(1)
    from rollsplit.solver import report
    return pool, pool.apply_async(report.formulas_section)


def _cores(data: dict, jobs: int, compute) -> dict | None:
    """The unsat cores REPORT.html shows (solver.cores), with a progress line and the time left."""
    from rollsplit.progress import Progress, eta
    line = Progress(sys.stderr)
    t0 = time.perf_counter()
    try:
        return compute(data, jobs, progress=lambda done, total: line.update(
            f"[prove] unsat cores for REPORT.html: {eta(done, total, time.perf_counter() - t0)} (shapes)"))
    except Exception as e:  # noqa: BLE001 - the proofs stand without the cores; the report says they are missing
        print(f"rollsplit prove: the unsat cores were not computed ({type(e).__name__}: {e}); REPORT.html says so.",
              file=sys.stderr)
        return None
    finally:
        line.close()


def _finish(background) -> str | None:
    if background is None:
        return None
    pool, pending = background
    try:
        return pending.get()
    finally:
        pool.close()
        pool.join()


OBLIGATION_HEADERS = ["obligation", "invariant", "shape", "result", "seconds"]
MUTANT_HEADERS = ["mutant", "refuted by (rules broken)", "refuted on", "how"]


def _row(r) -> list:
    return [r.kind, r.invariant, r.shape, r.status, r.seconds]


def _why(r) -> str:
    d = r.detail or {}
    if "error" in d:
        return d["error"]
    if "counterexample" in d:
        c = d["counterexample"]
        return ("counterexample confirmed on the concrete reference" if c.get("confirmed")
                else f"z3 model not confirmed concretely: {c.get('why', '')}")
    if "replay" in d and not d["replay"].get("ok"):
        return d["replay"].get("why", "")
    if r.status == "unknown":
        return "z3 said unknown (timeout or incomplete): not proved"
    return ""


def _print_obligations(results, verbose: bool) -> None:
    if verbose or len(results) <= FULL_TABLE_MAX:
        print(fit([_row(r) for r in results], OBLIGATION_HEADERS))
    else:
        print(fit(summary_rows(results), SUMMARY_HEADERS))
    bad = [r for r in results if not r.ok]
    if bad:
        print()
        print("Not proved:")
        print(fit([[*_row(r), r.file, _why(r)] for r in bad], OBLIGATION_HEADERS + ["file", "why"]))


SUMMARY_HEADERS = ["invariant", "kind", "obligations", "shapes", "proved/sat", "not proved", "solver s", "slowest s"]


def summary_rows(results) -> list[list]:
    by: dict[tuple[str, str], list] = {}
    for r in results:
        by.setdefault((r.invariant, r.kind), []).append(r)
    rows = []
    for (inv, kind), rs in by.items():
        ok = sum(r.ok for r in rs)
        rows.append([inv, kind, len(rs), len({r.shape for r in rs}), ok, len(rs) - ok,
                     round(sum(r.seconds for r in rs), 2), round(max(r.seconds for r in rs), 3)])
    return rows


def mutant_rows(mutants: list[dict]) -> list[list]:
    return [[m["mutant"], ", ".join(m["refuted_by"]) if m["refuted"] else "SURVIVED", m["shape"],
             _how(m.get("how", ""))] for m in mutants]


def _how(how: str) -> str:
    """The mutant's 'how', short: the parse check's sentence is in results.json and REPORT.html."""
    if how.startswith("parse check"):
        return "parse check, replayed"
    if how.startswith("z3: sat"):
        return "z3 model, replayed"
    if how.startswith("concrete only"):
        return "concrete only: its recorded request, replayed"
    return how


def recheck_command(args: argparse.Namespace) -> int:
    from rollsplit.solver.recheck import BundleError, recheck, print_report, save
    try:
        report = recheck(Path(args.dir), solvers=args.solver, timeout=args.timeout, jobs=args.jobs,
                         strict=args.strict, only=args.only, sample=args.sample, allow_stale=args.allow_stale)
    except BundleError as e:
        return _err("recheck", str(e))
    code = print_report(report)
    for note in save(report):
        print(note)
    return code
