"""`rollsplit conformance bench`: how fast the suite runs, and what the runner itself costs.

Cells (each the best of `repeat` passes over the whole suite, so a busy machine shows its best):
  - the whole suite through the runner against `rollsplit serve` (persistent): the vendor's experience;
  - the raw persistent round trip against `rollsplit serve` (no judging): the protocol's throughput;
  - the raw round trip against a trivial echo adapter: the protocol cost with no calculator behind it;
  - the runner against the echo adapter less the raw echo round trip: the runner's own overhead
    (judging, reports, bookkeeping) per vector;
  - one-shot against `rollsplit allocate --json` on a sample: the cost of a process per vector.
"""

from __future__ import annotations

import sys
import time

from rollsplit.conformance import runner, suite
from rollsplit.conformance.adapter import OneShotAdapter, PersistentAdapter
from rollsplit.machine import machine as describe_machine

SERVE = [sys.executable, "-m", "rollsplit", "serve"]
ECHO = [sys.executable, "-m", "rollsplit.conformance.testing.fake_adapter", "--echo"]
ONESHOT = [sys.executable, "-m", "rollsplit", "allocate", "--json"]
ONESHOT_SAMPLE = 40


def _raw(adapter, vectors) -> float:
    began = time.perf_counter()
    for v in vectors:
        runner.send(adapter, v)
    return time.perf_counter() - began


def _run(adapter, vectors, must_pass: bool) -> float:
    began = time.perf_counter()
    summary = runner.run(adapter, vectors, runner.Options())
    elapsed = time.perf_counter() - began
    if must_pass and not summary.ok:
        raise RuntimeError("the reference does not pass its own suite; benchmark figures would mean nothing")
    return elapsed


def bench(repeat: int = 3, progress=lambda msg: print(msg, file=sys.stderr, flush=True)) -> str:
    from tabulate import tabulate
    vectors = suite.load()
    n = len(vectors)
    rows = []

    def cell(label: str, count: int, seconds: float) -> None:
        rows.append([label, count, f"{seconds:.3f}", f"{count / seconds:,.0f}", f"{seconds / count * 1e6:,.0f}"])

    progress("bench: whole suite against rollsplit serve (runner, persistent)")
    with PersistentAdapter(SERVE) as serve:
        suite_s = min(_run(serve, vectors, must_pass=True) for _ in range(repeat))
        progress("bench: raw round trip against rollsplit serve")
        raw_serve = min(_raw(serve, vectors) for _ in range(repeat))
    cell("suite via runner, persistent, rollsplit serve", n, suite_s)
    cell("raw round trip, persistent, rollsplit serve", n, raw_serve)

    progress("bench: echo adapter (raw and through the runner)")
    with PersistentAdapter(ECHO) as echo:
        raw_echo = min(_raw(echo, vectors) for _ in range(repeat))
        run_echo = min(_run(echo, vectors, must_pass=False) for _ in range(repeat))
    cell("raw round trip, persistent, echo adapter", n, raw_echo)
    cell("runner against echo adapter", n, run_echo)
    overhead = max(run_echo - raw_echo, 1e-9)
    rows.append(["runner's own overhead (runner - raw, echo)", n, f"{overhead:.3f}", "",
                 f"{overhead / n * 1e6:,.0f}"])
    overhead_serve = max(suite_s - raw_serve, 1e-9)
    rows.append(["runner's own overhead (runner - raw, serve)", n, f"{overhead_serve:.3f}", "",
                 f"{overhead_serve / n * 1e6:,.0f}"])

    progress(f"bench: one-shot against rollsplit allocate --json ({ONESHOT_SAMPLE} vectors)")
    sample = vectors[:: max(1, n // ONESHOT_SAMPLE)][:ONESHOT_SAMPLE]
    with OneShotAdapter(ONESHOT) as oneshot:
        seconds = _run(oneshot, sample, must_pass=True)
    cell("suite sample via runner, one-shot, rollsplit allocate --json", len(sample), seconds)

    machine = f"{describe_machine()}; best of {repeat} passes; suite {suite.SUITE_VERSION}, {n} vectors"
    table = tabulate(rows, headers=["measure", "vectors", "seconds", "vectors/s", "µs/vector"],
                     tablefmt="github", disable_numparse=True)
    targets = (f"targets: whole suite against the reference < 10 s: {suite_s:.2f} s "
               f"({'met' if suite_s < 10 else 'NOT met'}); >= 5,000 vectors/s persistent (raw, serve): "
               f"{n / raw_serve:,.0f}/s ({'met' if n / raw_serve >= 5000 else 'NOT met'})")
    return f"{table}\n\nmachine: {machine}\n{targets}"
