"""z3 as an independent executor: the result of a concrete request solved from the invariants alone.

`execute(request)` takes a wire request (a parsed JSON value) and answers it WITHOUT the reference
algorithm: every money field of a Result of the request's structure becomes a fresh z3 Int, every
invariant of `spec.invariants` that applies to the request is asserted with the request's concrete
values, and z3 finds the model. The model is the answer. A second solve with "some money field differs"
added must be unsat: the answer is then the only one the invariants admit for this request ("unique").

What is shared with the reference, and why it does not make the answer the reference's:
  - Validation only. Whether a request is rejected, and with which error, is decided by `spec.parse`
    (structure) and by the reference's value checks (`reference.compute_outcome`, in
    `spec.errors.VALUE_CHECK_ORDER`), so that a rejected request gets exactly the reference's error
    object. The reference's result for a valid request is never looked at. For the two checks that
    depend on the allocation (invalid_election, ineligible_destination) z3 confirms the rejection from
    the invariants too (`Execution.z3_confirms_error`).
  - Structure. Row ids, the regime and the Form 1099-R box 7 codes are strings fixed by the request
    (`spec.invariants.box7_for`, the request's effective regime); only money is solved for.

The old regime (Notice 2009-68, largest remainder) is nonlinear on symbols but linear here: every
product in OLD-RULE-PRORATA and PRORATA-ROUNDING multiplies an unknown by a concrete amount.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import z3

from rollsplit.machine import machine
from rollsplit.solver.z3_backend import Z3Arith, fresh_result as symbolic_result, model_wire
from rollsplit.spec.errors import RequestError
from rollsplit.spec.invariants import BY_ID, INVARIANTS
from rollsplit.spec.model import Request, Result
from rollsplit.spec.parse import parse_json, parse_request

TIMEOUT_MS = 20_000   # per z3 check; a timeout is reported as "unknown", never as an answer


@dataclass
class Execution:
    """What the executor answers for one request.

    status: "result" (wire is the Result JSON), "error" (wire is the Error JSON, as the reference's),
            "unsat" (the request passed validation but no result satisfies the invariants: a disagreement
            between the validator and the invariants, wire is None), "unknown" (z3 gave up, wire is None).
    uniqueness: for a result, "unique" (a second, different result is unsat), "not unique" (then
            `alternative` holds the second result) or "unknown (reason)"; "-" otherwise.
    z3_confirms_error: for invalid_election / ineligible_destination, whether the invariants alone
            reject the request the same way; None for other errors and results.
    """
    status: str
    wire: dict | None
    uniqueness: str = "-"
    seconds: float = 0.0
    alternative: dict | None = None
    z3_confirms_error: bool | None = None
    reason: str = ""
    checks: int = 0                       # z3 checks run
    invariants: list[str] = field(default_factory=list)   # ids asserted


def _solver(timeout_ms: int) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    return s


def invariant_constraints(req: Request, res: Result,
                          exclude: tuple[str, ...] = ()) -> tuple[list[z3.BoolRef], list[str]]:
    """Every applicable invariant (but `exclude`) on the concrete request and the symbolic result."""
    A = Z3Arith(record=False)
    conds, ids = [], []
    for inv in INVARIANTS:
        if inv.id in exclude or not inv.applies(req):
            continue
        c = inv.holds(A, req, res)
        conds.append(c if isinstance(c, z3.BoolRef) else z3.BoolVal(bool(c)))
        ids.append(inv.id)
    return conds, ids


def _validate(req: Request) -> RequestError | None:
    """The reference's value checks, used for validation only (the reference's result is discarded)."""
    from rollsplit.reference import compute_outcome
    try:
        compute_outcome(req)
    except RequestError as e:
        return e
    return None


def _confirm_error(req: Request, code: str, timeout_ms: int) -> bool | None:
    """Do the invariants alone reject the request as `code` says? invalid_election: no result obeys the
    invariants even without ELIGIBILITY; ineligible_destination: one does without ELIGIBILITY, none with it."""
    if code not in ("invalid_election", "ineligible_destination"):
        return None
    res, _ = symbolic_result(req)
    without, _ = invariant_constraints(req, res, exclude=("ELIGIBILITY",))
    s = _solver(timeout_ms)
    s.add(*without)
    r1 = s.check()
    if code == "invalid_election":
        return True if r1 == z3.unsat else (False if r1 == z3.sat else None)
    s.add(BY_ID["ELIGIBILITY"].holds(Z3Arith(record=False), req, res))
    r2 = s.check()
    if r1 == z3.unknown or r2 == z3.unknown:
        return None
    return r1 == z3.sat and r2 == z3.unsat


def execute_request(req: Request, check_unique: bool = True, timeout_ms: int = TIMEOUT_MS,
                    confirm_errors: bool = True) -> Execution:
    """Solve a parsed request from the invariants. See the module docstring for what is shared."""
    t0 = time.perf_counter()
    err = _validate(req)
    if err is not None:
        confirmed = _confirm_error(req, err.code, timeout_ms) if confirm_errors else None
        return Execution(status="error", wire=err.to_wire(), seconds=time.perf_counter() - t0,
                         z3_confirms_error=confirmed)
    res, fields = symbolic_result(req)
    conds, ids = invariant_constraints(req, res)
    s = _solver(timeout_ms)
    s.add(*conds)
    r = s.check()
    if r != z3.sat:
        status = "unsat" if r == z3.unsat else "unknown"
        why = ("no result satisfies the invariants, yet the request passed validation" if r == z3.unsat
               else f"z3 says unknown ({s.reason_unknown()})")
        return Execution(status=status, wire=None, seconds=time.perf_counter() - t0, reason=why, checks=1,
                         invariants=ids)
    model = s.model()
    out = Execution(status="result", wire=model_wire(model, res), checks=1, invariants=ids)
    if check_unique:
        values = [model.eval(x, model_completion=True) for x in fields]
        s.add(z3.Or(*[x != v for x, v in zip(fields, values)]))
        r2 = s.check()
        out.checks = 2
        if r2 == z3.unsat:
            out.uniqueness = "unique"
        elif r2 == z3.sat:
            out.uniqueness = "not unique"
            out.alternative = model_wire(s.model(), res)
        else:
            out.uniqueness = f"unknown ({s.reason_unknown()})"
    out.seconds = time.perf_counter() - t0
    return out


def execute(request: Any, check_unique: bool = True, timeout_ms: int = TIMEOUT_MS,
            confirm_errors: bool = True) -> Execution:
    """A wire request (parsed JSON value, or raw text/bytes) in; never raises on a bad request."""
    t0 = time.perf_counter()
    try:
        obj = parse_json(request) if isinstance(request, (str, bytes)) else request
        req = parse_request(obj)
    except RequestError as e:
        return Execution(status="error", wire=e.to_wire(), seconds=time.perf_counter() - t0)
    return execute_request(req, check_unique=check_unique, timeout_ms=timeout_ms, confirm_errors=confirm_errors)


def calculate(request: Any) -> dict:
    """The executor as a calculator (same signature as `reference.calculate`): wire dict out.

    A request on which z3 finds no answer (unsat or unknown) gets an invalid_request error naming why, so
    that a conformance or fuzzing run reports the disagreement instead of crashing.
    """
    ex = execute(request, check_unique=False, confirm_errors=False)   # only the wire answer is wanted
    if ex.wire is not None:
        return ex.wire
    return RequestError("invalid_request", f"The z3 executor found no result: {ex.reason}.").to_wire()


def suite_requests() -> list[dict]:
    """Every JSON request of the shipped conformance suite (conformance.suite.load), in suite order."""
    from rollsplit.conformance import suite
    return [v.request for v in suite.load() if isinstance(v.request, dict)]


def bench_table(requests: list[dict] | None = None) -> tuple[str, bool]:
    """Milliseconds per request of the executor (with the uniqueness solve) by kind of request, and whether
    every answer equals the reference's; a benchmark (figures vary with the machine and its load)."""
    import statistics

    from tabulate import tabulate

    from rollsplit.reference import calculate as reference_calculate
    requests = suite_requests() if requests is None else requests
    groups: dict[str, list[Execution]] = {}
    agree = True
    for obj in requests:
        ex = execute(obj)
        if ex.wire != reference_calculate(obj):
            agree = False
        kind = ex.status if ex.status != "result" else f"result, {ex.wire['regime']}"
        groups.setdefault(kind, []).append(ex)
    rows = []
    for kind, exs in sorted(groups.items()):
        ms = sorted(e.seconds * 1000 for e in exs)
        rows.append([kind, len(exs), f"{statistics.median(ms):.1f}", f"{ms[int(0.95 * (len(ms) - 1))]:.1f}",
                     f"{ms[-1]:.1f}", sum(e.uniqueness == "unique" for e in exs) if kind.startswith("result") else "-"])
    table = tabulate(rows, headers=["requests", "n", "median ms", "p95 ms", "max ms", "unique"])
    head = f"z3 executor over {len(requests)} requests on {machine()}, z3 {z3.get_version_string()}"
    tail = "every answer equals the reference's" if agree else "SOME ANSWERS DIFFER FROM THE REFERENCE"
    return f"{head}\n{table}\n{tail}", agree
