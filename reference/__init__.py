"""The reference calculator: wire contract v1 in, Result or Error JSON out, never a traceback."""

from __future__ import annotations

from typing import Any

from rollsplit.reference.algorithm import Outcome, allocate
from rollsplit.reference.compiled import allocate_wire
from rollsplit.spec.arith import INT
from rollsplit.spec.errors import VALUE_CHECK_ORDER, RequestError
from rollsplit.spec.model import Request, Result
from rollsplit.spec.parse import parse_json, parse_request

__all__ = ["calculate", "calculate_text", "compute", "compute_outcome", "RequestError"]

_RANK = {code: i for i, code in enumerate(VALUE_CHECK_ORDER)}


def raise_first_violation(outcome: Outcome) -> Outcome:
    """Raise the first violated value check of a concrete outcome as a RequestError: the first code in
    VALUE_CHECK_ORDER, then the first check of it in list order. Returns the outcome when none is violated."""
    failed = [check for check in outcome.checks if check.violated]
    if failed:
        check = min(failed, key=lambda c: _RANK[c.code])
        raise RequestError(check.code, check.message(), check.field)
    return outcome


def compute_outcome(req: Request) -> Outcome:
    """Run the algorithm on integers; raise the first violated value check as a RequestError."""
    return raise_first_violation(allocate(INT, req))


def compute(req: Request) -> Result:
    return compute_outcome(req).result


def calculate(obj: Any) -> dict:
    """A parsed JSON value in, the Result JSON or the Error JSON (as a dict) out."""
    try:
        req = parse_request(obj)
        wire = allocate_wire(req)   # the same algorithm, compiled for the request's shape (reference.compiled)
        return wire if wire is not None else compute(req).to_wire()
    except RequestError as e:
        return e.to_wire()


def calculate_text(data: str | bytes) -> dict:
    """Raw request text in (what an adapter reads), Result or Error JSON out."""
    try:
        obj = parse_json(data)
    except RequestError as e:
        return e.to_wire()
    return calculate(obj)
