"""The reference calculator: wire contract v1 in, Result or Error JSON out, never a traceback."""

from __future__ import annotations

from typing import Any

from rollsplit.reference.algorithm import Outcome, allocate
from rollsplit.reference import compiled
from rollsplit.spec.arith import INT
from rollsplit.spec.errors import VALUE_CHECK_ORDER, RequestError
from rollsplit.spec.model import Request, Result, result_from_wire
from rollsplit.spec import fast
from rollsplit.spec.parse import parse_json, parse_request

__all__ = ["calculate", "calculate_parsed", "calculate_text", "compute", "compute_outcome", "RequestError"]

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
    """A parsed JSON value in, the Result JSON or the Error JSON (as a dict) out.

    A request the fast reader takes (`spec.fast`: every request of contract 1.1 as JSON gives it) goes straight to
    its shape's compiled function, when that shape is hot and its code proved (`reference.compiled`), or to the
    generic path; everything else, and every error, goes through the parser (`spec.parse`), where the rules'
    codes and messages are written."""
    read = fast.read(obj)
    if read is None:
        return calculate_parsed(obj)
    key, money, ids, date, regime = read
    fn = compiled.function_of(key)
    if fn is not None:
        wire = fn(money, ids)
        if wire is not None:
            return wire
        req = fast.request(obj, date, regime)   # a value check is violated: the generic path says which
    else:
        req = fast.request(obj, date, regime)
        fn = compiled.warm(req, key)
        if fn is not None:   # hot now, and compiled
            if (key, money, ids) != (compiled.shape_key(req), compiled.money_of(req), compiled.ids_of(req)):
                compiled.disown(key)   # the reader binds this shape's money otherwise than the proved dispatch
            else:
                wire = fn(money, ids)
                if wire is not None:
                    return wire
    return generic_answer(req, key)


def generic_answer(req: Request, key: tuple | None) -> dict:
    """The generic path's Result JSON or Error JSON. For a shape the proofs cover (`compiled.covered`) that is the
    algorithm they prove, run on ints; beyond them, the answer as written is checked against every rule of the law
    (`spec.invariants`) before it is given, and withheld (`reference_fault`) should one be broken."""
    try:
        wire = compute(req).to_wire()
    except RequestError as e:
        return e.to_wire()
    broken = assurance(req, wire, key)[1]
    return fault(broken) if broken else wire


def assurance(req: Request, wire: dict, key: tuple | None = None) -> tuple[bool, list]:
    """(proved, broken): whether the proofs cover the request's shape (`key`, by default its shape key); if not, the
    rules the written answer `wire` breaks when it is checked (empty for a right answer)."""
    if compiled.covered(compiled.shape_key(req) if key is None else key):
        return True, []
    from rollsplit.spec.invariants import violated
    return False, violated(req, result_from_wire(wire))


def assurance_text(proved: bool) -> str:
    """The closing paragraph of `rollsplit allocate`'s report: how sure the answer is."""
    if proved:
        return ("How sure this is\nRequests of this shape (these kinds of destinations, in this order, with these "
                "elections and facts), whatever their amounts, are proved by the z3 solver to get an answer that obeys "
                "every rule above.")
    return ("How sure this is\nRequests of this shape (its rows, their kinds, mix and order, its elections, who "
            "receives the money and the facts behind box 7) are not among those proved by the z3 solver, so this "
            "answer was checked against every rule above before it was printed: checked, not proved.")


def fault(broken: list) -> dict:
    """The Error JSON that withholds an answer which broke `broken` (invariants) when it was checked."""
    rules = " ".join(f"{inv.statement} [{inv.citation()}]" for inv in broken)
    return {"error": {"code": "reference_fault",
                      "message": "rollsplit's answer to this request was withheld: when it was checked it broke "
                                 + ("this rule of the law: " if len(broken) == 1 else "these rules of the law: ")
                                 + f"{rules} This is a fault in rollsplit, not in the request: please "
                                 "report it with the request.", "field": None}}


def calculate_parsed(obj: Any) -> dict:
    """`calculate` through the parser alone (what answered every request before the fast reader): the answer to any
    request the reader does not take, and every Error JSON."""
    try:
        req = parse_request(obj)
        fn = compiled.warm(req)   # the same algorithm, compiled for the request's shape once it is hot
        wire = fn(compiled.money_of(req), compiled.ids_of(req)) if fn is not None else None
        return wire if wire is not None else generic_answer(req, compiled.shape_key(req))
    except RequestError as e:
        return e.to_wire()


def calculate_text(data: str | bytes) -> dict:
    """Raw request text in (what an adapter reads), Result or Error JSON out."""
    try:
        obj = parse_json(data)
    except RequestError as e:
        return e.to_wire()
    return calculate(obj)
