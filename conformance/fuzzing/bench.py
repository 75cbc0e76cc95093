"""The power of the fuzzing kit, measured: how fast does it find each classic mistake?

Every mutant of `reference.mutants` is served through the persistent adapter protocol
(`python -m rollsplit.conformance.testing.mutant_adapter NAME`) and fuzzed with several seeds. For each mutant the
table gives the median examples and seconds until the first failure (generation only; the adapter's
start-up is not counted) and the size of the shrunk request (disbursements + 60-day rollovers).
Target (issue 5): every mutant found within 2,000 examples and 10 s; shrunk requests of at most 3 disbursements.
"""

from __future__ import annotations

import statistics
import sys
import time
from functools import partial

from rollsplit.machine import machine

TARGET_EXAMPLES = 2000
TARGET_SECONDS = 10.0
TARGET_DISBURSEMENTS = 3


def mutant_command(name: str) -> list[str]:
    return [sys.executable, "-m", "rollsplit.conformance.testing.mutant_adapter", name]


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def run_bench(seeds: int = 5, first_seed: int = 1, examples: int = 5000, max_seconds: float = 30.0,
              mutants: list[str] | None = None, in_process: bool = False, out=sys.stdout) -> int:
    from tabulate import tabulate

    from rollsplit.conformance.adapter import AdapterStartError, PersistentAdapter
    from rollsplit.conformance.fuzzing.driver import fuzz
    from rollsplit.reference.mutants import MUTANTS, calculate_with

    names = mutants or list(MUTANTS)
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        print(f"rollsplit conformance fuzz-bench: unknown mutant(s) {', '.join(unknown)}; "
              f"known: {', '.join(MUTANTS)}", file=sys.stderr)
        return 2
    how = "in-process" if in_process else "persistent adapter (conformance.testing.mutant_adapter)"
    print(f"fuzz-bench: {len(names)} mutants x {seeds} seeds, {how}, giving up after {examples} examples "
          f"or {max_seconds:g} s", file=sys.stderr, flush=True)
    rows, all_met, began = [], True, time.monotonic()
    for name in names:
        found_ex, found_s, sizes, disb, total_s = [], [], [], [], []
        for seed in range(first_seed, first_seed + seeds):
            adapter = None
            if in_process:
                allocate = partial(calculate_with, name)
            else:
                adapter = PersistentAdapter(mutant_command(name), timeout=10.0)
                try:
                    adapter.start()
                except AdapterStartError as e:
                    print(f"fuzz-bench: {e}", file=sys.stderr)
                    return 2
                allocate = adapter.allocate
            try:
                report = fuzz(allocate, examples=examples, seed=seed, max_seconds=max_seconds,
                              max_shrink_seconds=60.0)
            finally:
                if adapter is not None:
                    adapter.close()
            if report.failure is not None:
                found_ex.append(report.first_failure_example)
                found_s.append(report.first_failure_seconds)
                sizes.append(report.failure.size)
                req = report.failure.request
                disb.append(len(req.get("disbursements") or []) if isinstance(req, dict) else 0)
                total_s.append(report.seconds)
                what = (f"found after {report.first_failure_example} examples ({report.first_failure_seconds:.2f} s), "
                        f"shrunk to {report.failure.size} rows in {report.seconds:.1f} s")
            else:
                what = f"NOT found in {report.examples} examples ({report.seconds:.1f} s)"
            print(f"  {name} seed {seed}: {what}  [{time.monotonic() - began:.0f} s]", file=sys.stderr, flush=True)
        med_ex, med_s = _median(found_ex), _median(found_s)
        met = (len(found_ex) == seeds and med_ex is not None and med_ex <= TARGET_EXAMPLES
               and med_s <= TARGET_SECONDS and max(disb) <= TARGET_DISBURSEMENTS)
        all_met = all_met and met
        rows.append([name, f"{len(found_ex)}/{seeds}",
                     f"{med_ex:.0f}" if med_ex is not None else "-", max(found_ex) if found_ex else "-",
                     f"{med_s:.2f}" if med_s is not None else "-", f"{max(found_s):.2f}" if found_s else "-",
                     f"{_median(sizes):.0f}" if sizes else "-", max(disb) if disb else "-",
                     f"{_median(total_s):.1f}" if total_s else "-", "yes" if met else "NO"])
    print(tabulate(rows, headers=["mutant", "found", "examples (median)", "examples (max)", "seconds (median)",
                                  "seconds (max)", "shrunk rows (median)", "disbursements (max)",
                                  "s incl. shrink (median)", "target met"], tablefmt="github"), file=out)
    print(f"\n{how}; seeds {first_seed}..{first_seed + seeds - 1}; machine: {machine()}", file=out)
    print(f"target: every mutant found in every seed, median <= {TARGET_EXAMPLES} examples and "
          f"<= {TARGET_SECONDS:g} s, shrunk to <= {TARGET_DISBURSEMENTS} disbursements: "
          f"{'met' if all_met else 'NOT met'}", file=out)
    return 0 if all_met else 1
