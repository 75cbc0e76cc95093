"""From a z3 model back to a concrete request, run on the code that answers requests.

Every witness and every counterexample is replayed before it is reported: the model's money values
become a wire-contract JSON request (`solver.regions.wire_request`), which goes through `spec.parse`
and the concrete reference (or a mutant), and the answer is judged by `spec.invariants.violated`.
"""

from __future__ import annotations

import json

from rollsplit.reference import calculate, compiled, compute
from rollsplit.solver.regions import wire_request
from rollsplit.solver.z3_backend import Shape, model_wire
from rollsplit.spec.errors import RequestError
from rollsplit.spec.invariants import violated
from rollsplit.spec.parse import parse_request


def replay_witness(shape: Shape, values: dict[str, int], symbolic_result=None, model=None) -> dict:
    """The witness must be a request the concrete reference accepts; where the symbolic result is given,
    its value in the model must equal the concrete answer field for field (the z3 run and the int run agree)."""
    request = wire_request(shape, values)
    out = {"request": request}
    try:
        res = compute(parse_request(request))
    except RequestError as e:
        out.update(ok=False, why=f"the reference rejects the witness: {e}")
        return out
    out["answer"] = res.to_wire()
    if symbolic_result is not None and model is not None:
        sym = model_wire(model, symbolic_result)
        if sym != out["answer"]:
            out.update(ok=False, why="the z3 model of the symbolic result differs from the concrete reference")
            out["symbolic_answer"] = sym
            return out
    bad = [inv.id for inv in violated(parse_request(request), res)]
    out.update(ok=not bad, why="" if not bad else f"the concrete answer breaks {', '.join(bad)}")
    return out


def replay_counterexample(shape: Shape, values: dict[str, int], invariant: str, mutant: str | None = None) -> dict:
    """A counterexample is real when the calculator (reference or mutant) answers the request with a result
    that `spec.invariants.violated` says breaks `invariant`."""
    from rollsplit.reference.mutants import compute_with
    request = wire_request(shape, values)
    out = {"request": request, "reference_answer": calculate(request)}
    try:
        req = parse_request(request)
        res = compute(req) if mutant is None else compute_with(mutant, req)
    except RequestError as e:
        out.update(confirmed=False, why=f"rejected concretely: {e}")
        return out
    out["answer"] = res.to_wire()
    broken = [inv.id for inv in violated(req, res)]
    out["broken"] = broken
    out.update(confirmed=invariant in broken,
               why="" if invariant in broken else "the concrete answer does not break the invariant")
    return out


def replay_compiled(shape: Shape, values: dict[str, int]) -> dict:
    """A counterexample to a `compiled` obligation is real when the compiled function of the shape (compiled
    afresh, not taken from the cache) and the plain run of the algorithm answer the request differently."""
    request = wire_request(shape, values)
    try:
        req = parse_request(request)
    except RequestError as e:
        return {"request": request, "confirmed": False, "why": f"rejected by the parser: {e.code}"}
    fast = compiled.compile_shape(req)(compiled.money_of(req), compiled.ids_of(req))
    try:
        plain = compute(req).to_wire()
    except RequestError as e:
        plain = e.to_wire()
    differs = (fast is None) != ("error" in plain) or \
        (fast is not None and json.dumps(fast, sort_keys=True) != json.dumps(plain, sort_keys=True))
    return {"request": request, "compiled": fast, "plain": plain, "confirmed": differs,
            "why": "" if differs else "the concrete runs agree (the counterexample is not real)"}
