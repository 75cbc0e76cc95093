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
from rollsplit.spec.model import result_from_wire
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
    from rollsplit.reference.mutants import written_with
    request = wire_request(shape, values)
    out = {"request": request, "reference_answer": calculate(request)}
    try:
        req = parse_request(request)
        wire = compute(req).to_wire() if mutant is None else written_with(mutant, req)
    except RequestError as e:
        out.update(confirmed=False, why=f"rejected concretely: {e}")
        return out
    out["answer"] = wire
    broken = [inv.id for inv in violated(req, result_from_wire(wire))]   # the answer as written, read back
    out["broken"] = broken
    out.update(confirmed=invariant in broken,
               why="" if invariant in broken else "the concrete answer does not break the invariant")
    return out


def contract_accepts(request: dict) -> bool:
    """The contract's own verdict (spec.validity) on a request whose structure the parser accepts: money in range
    and every value rule met, judged on the algorithm's answer as written (its value checks not consulted)."""
    from rollsplit.reference.algorithm import allocate
    from rollsplit.spec import validity
    from rollsplit.spec.arith import INT
    req = parse_request(request)
    written = result_from_wire(allocate(INT, req).result.to_wire())
    return bool(validity.money_in_range(INT, req) and validity.value_rules(INT, req, written))


def replay_validity(shape: Shape, values: dict[str, int], mutant: str) -> dict:
    """A mutant's acceptance differs from the contract's: it answers a request the contract rejects, or rejects
    one the contract accepts."""
    from rollsplit.reference.mutants import calculate_with
    request = wire_request(shape, values)
    answer = calculate_with(mutant, request)
    accepts, should = "error" not in answer, contract_accepts(request)
    return {"request": request, "answer": answer, "reference_answer": calculate(request),
            "mutant_accepts": accepts, "contract_accepts": should, "confirmed": accepts != should,
            "broken": ["VALIDITY"] if accepts != should else [],
            "why": "" if accepts != should else "the mutant and the contract agree on this request"}


def _variant(request: dict) -> dict:
    """The same request with every id renamed and the amounts elections written in the reverse key order."""
    import copy
    out = copy.deepcopy(request)
    rename = {r["id"]: f"other-{r['id']}" for r in out["disbursements"] + out.get("rollovers_60_day", [])}
    for r in out["disbursements"] + out.get("rollovers_60_day", []):
        r["id"] = rename[r["id"]]
    for k, v in (out.get("elections") or {}).items():
        out["elections"][k] = ([rename[x] for x in v] if isinstance(v, list)
                               else {rename[x]: y for x, y in reversed(list(v.items()))})
    return out


def replay_dispatch(shape: Shape, values: dict[str, int], mutant: str | None = None) -> dict:
    """The compiled function the cache gives a second request of the same key (ids renamed, elections written in
    another order), after the first was answered, differs from the plain run of the algorithm on it."""
    from rollsplit.reference.mutants import MUTANTS
    first = wire_request(shape, values)
    second = _variant(first)
    context = MUTANTS[mutant].active() if mutant else _nothing()
    with context:
        with compiled._lock:
            saved = compiled._cache.copy()
            compiled._cache.clear()
        try:
            compiled.lookup(parse_request(first), require_proof=False)
            second_req = parse_request(second)
            fn = compiled.lookup(second_req, require_proof=False)
            fast = fn(compiled.money_of(second_req), compiled.ids_of(second_req)) if fn is not None else None
        finally:
            with compiled._lock:
                compiled._cache.clear()
                compiled._cache.update(saved)
    try:
        plain = compute(parse_request(second)).to_wire()
    except RequestError as e:
        plain = e.to_wire()
    differs = (fast is None) != ("error" in plain) or \
        (fast is not None and json.dumps(fast, sort_keys=True) != json.dumps(plain, sort_keys=True))
    return {"request": second, "after": first, "compiled": fast, "plain": plain, "confirmed": differs,
            "broken": ["COMPILED-EQUALS-ALGORITHM"] if differs else [],
            "why": "" if differs else "the concrete runs agree (the counterexample is not real)"}


def replay_determinacy(shape: Shape, values: dict[str, int], model, pair, mutant: str) -> dict:
    """Two different answers to one request that both obey every invariant of the (weakened) specification."""
    from rollsplit.reference.mutants import MUTANTS
    request = wire_request(shape, values)
    req = parse_request(request)
    w1, w2 = model_wire(model, pair[0]), model_wire(model, pair[1])
    with MUTANTS[mutant].active():
        ok1, ok2 = not violated(req, result_from_wire(w1)), not violated(req, result_from_wire(w2))
    confirmed = ok1 and ok2 and w1 != w2
    return {"request": request, "answer": w1, "other_answer": w2, "confirmed": confirmed,
            "broken": ["DETERMINACY"] if confirmed else [],
            "why": "" if confirmed else "the two answers do not both obey the weakened rules, or are equal"}


def _nothing():
    import contextlib
    return contextlib.nullcontext()
