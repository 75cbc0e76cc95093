"""Allocations per second of the reference, printed as a table with the machine it ran on.

Timed for each request: `reference.calculate` on the wire dict (strict validation, allocation, value
checks, Result JSON: what an adapter pays per request), `spec.parse.parse_request` alone, and the
allocation of an already parsed `Request` (with its value checks and Result JSON) by the compiled path
that answers requests (`reference.compiled`) and by the generic run of the algorithm on `INT`. A benchmark, not a test: figures vary
with the machine and its load.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

from tabulate import tabulate

from rollsplit.reference import calculate, compute
from rollsplit.reference.compiled import allocate_wire
from rollsplit.machine import machine
from rollsplit.spec.parse import parse_request

TARGET = 50_000  # allocations/s for the 3-destination request on one core (issue 2)


def _request(directs: list[tuple[str, str, int]], paid: int, sixty: list[tuple[str, str, int]]) -> dict:
    rows = [{"id": i, "method": "direct", "to": to, "amount": a} for i, to, a in directs]
    if paid:
        rows.append({"id": "me", "method": "paid", "amount": paid})
    req = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
           "basis": 2_000_000, "disbursements": rows}
    if sixty:
        req["rollovers_60_day"] = [{"id": i, "to": to, "amount": a} for i, to, a in sixty]
    return req


# name -> (what it is, wire request)
REQUESTS: dict[str, tuple[str, dict]] = {
    "1 destination": ("one direct rollover to a traditional IRA",
                      _request([("ira", "traditional_ira", 6_000_000)], 0, [])),
    "3 destinations": ("IRS FAQ example 1: traditional IRA, Roth IRA, paid",
                       _request([("ira", "traditional_ira", 8_000_000), ("roth", "roth_ira", 1_000_000)],
                                1_000_000, [])),
    "8 destinations": ("5 direct rollovers, paid, 2 sixty-day rollovers",
                       _request([("plan", "qualified_plan", 1_000_000), ("gov", "457b_gov", 500_000),
                                 ("ira", "traditional_ira", 2_000_000), ("roth", "roth_ira", 1_000_000),
                                 ("b403", "403b", 500_000)], 3_000_000,
                                [("r1", "traditional_ira", 1_000_000), ("r2", "roth_ira", 500_000)])),
}


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of `fn`, over batches until `seconds` have passed (at least one batch)."""
    batch, calls = 1000, 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed



def run(seconds: float = 1.0, out=None, progress=None) -> list[tuple]:
    """One row per request: end to end (validation + allocation + Result JSON), the allocation alone by the
    compiled path that answers requests (`reference.compiled`), and by the generic path on `INT`."""
    out = out if out is not None else sys.stdout          # looked up at the call, not at import
    progress = progress if progress is not None else sys.stderr
    rows = []
    for name, (what, wire) in REQUESTS.items():
        print(f"bench: {name} ...", file=progress, flush=True)
        answer = calculate(wire)
        if "error" in answer:
            raise AssertionError(f"benchmark request {name!r} is rejected: {answer['error']}")
        req = parse_request(wire)
        proved = allocate_wire(req) is not None   # only proved compiled code answers (reference.compiled)
        if proved and allocate_wire(req) != compute(req).to_wire():
            raise AssertionError(f"the compiled and generic paths differ on {name!r}")
        wire_rate = rate(lambda: calculate(wire), seconds)
        parse_rate = rate(lambda: parse_request(wire), seconds)
        compiled_rate = round(rate(lambda: allocate_wire(req), seconds)) if proved else "- (not proved: generic)"
        generic_rate = rate(lambda: compute(req).to_wire(), seconds)
        rows.append((name, what, round(wire_rate), round(parse_rate), compiled_rate, round(generic_rate)))
    print(tabulate(rows, headers=("request", "shape", "calculate(wire dict) /s", "validation alone /s",
                                  "allocation, compiled /s", "allocation, generic /s"),
                   tablefmt="github", intfmt=","), file=out)
    three = next(r for r in rows if r[0] == "3 destinations")
    verdict = "met" if three[4] >= TARGET else "NOT met"
    print(f"\nTarget >= {TARGET:,} allocations/s for 3 destinations (the allocation as it answers requests, "
          f"compiled path): {verdict} ({three[4]:,}/s); end to end with strict validation: {three[2]:,}/s.",
          file=out)
    print(f"Machine: {machine()}; one process, one core; {seconds:g} s per cell.", file=out)
    return rows
