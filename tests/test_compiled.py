"""The compiled path (reference.compiled) answers exactly as the generic run of the algorithm on INT.

`reference.calculate` answers through the compiled function of the request's shape; these tests compare it
with `compute(req).to_wire()` (the algorithm run directly on Python ints) on requests of every feature,
boundary-snapped and near-valid ones, and check the safety rails: a shape whose trace branches on money is
never compiled, mutants of the reference never reach the cache, and the cache stays bounded.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings

import reference.algorithm as alg
import reference.compiled as compiled
from conformance.fuzzing.strategies import boundary_requests, fuzz_cases
from conformance.strategies import valid_requests
from reference import calculate, compute
from reference.mutants import MUTANTS, calculate_with
from spec.errors import RequestError
from spec.parse import parse_request

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def generic(request) -> dict:
    """The algorithm run directly on Python ints (no compiled code involved)."""
    try:
        return compute(parse_request(request)).to_wire()
    except RequestError as e:
        return e.to_wire()


@SETTINGS
@given(valid_requests())
def test_compiled_equals_generic_on_valid_requests(request):
    assert calculate(request) == generic(request)


@SETTINGS
@given(boundary_requests())
def test_compiled_equals_generic_on_boundaries(request):
    assert calculate(request) == generic(request)


@SETTINGS
@given(fuzz_cases())
def test_compiled_equals_generic_on_near_valid_requests(case):
    request, _ = case
    assert calculate(request) == generic(request)


@settings(max_examples=100, deadline=None)
@given(valid_requests())
def test_requests_differing_only_in_ids_and_amounts_share_one_function(request):
    req = parse_request(request)
    renamed = copy.deepcopy(request)
    mapping = {}
    for row in renamed["disbursements"] + renamed.get("rollovers_60_day", []):
        mapping[row["id"]] = row["id"] = "x-" + row["id"]
    e = renamed.get("elections", {})
    for k, v in list(e.items()):
        e[k] = [mapping[x] for x in v] if isinstance(v, list) else {mapping[x]: a for x, a in v.items()}
    assert compiled.shape_key(req) == compiled.shape_key(parse_request(renamed))
    assert calculate(renamed) == generic(renamed)
    if "error" not in generic(renamed):
        assert [r["id"] for r in calculate(renamed)["disbursements"]] == [d["id"] for d in renamed["disbursements"]]


EXAMPLE = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
           "basis": 2_000_000, "disbursements": [
               {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
               {"id": "me", "method": "paid", "amount": 2_000_000}]}


def test_worked_example_through_the_compiled_function():
    """DOMAIN.md seed 004: $16,000 after-tax of $80,000; the IRA is all pre-tax; $4,000 taxable, $800 withheld."""
    req = parse_request(EXAMPLE)
    fn = compiled.lookup(req)
    assert fn is not None and "def compiled" in fn.source
    wire = compiled.allocate_wire(req)
    assert wire["distribution"] == {"amount": 8_000_000, "pretax": 6_400_000, "aftertax": 1_600_000,
                                    "basis_recovered": 1_600_000}
    assert [(r["id"], r["pretax"], r["taxable"], r["withholding"]) for r in wire["disbursements"]] == \
        [("ira", 6_000_000, 0, 0), ("me", 400_000, 400_000, 80_000)]


def test_a_violated_value_check_answers_through_the_generic_path():
    bad = {**EXAMPLE, "basis": 20_000_000}   # basis above balance
    assert compiled.allocate_wire(parse_request(bad)) is None
    assert calculate(bad)["error"]["code"] == "basis_exceeds_balance"


def test_an_algorithm_that_branches_on_money_is_not_compiled(monkeypatch):
    def branching(A, req):
        if req.balance > 5:      # a Python branch on money: the trace must refuse it
            pass
        return saved(A, req)
    saved = alg.allocate
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    with pytest.raises(compiled._Branch):
        monkeypatch.setattr(alg, "allocate", branching)
        compiled.compile_shape(parse_request(EXAMPLE))
    monkeypatch.setattr(alg, "allocate", saved)


def test_mutants_never_reach_the_cache(monkeypatch):
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    for m in MUTANTS:
        calculate_with(m, EXAMPLE)
        with monkeypatch.context() as patch:   # even a direct lookup while a helper is swapped compiles nothing
            patch.setattr(alg, "basis_recovered", lambda A, D, bal, b, p: 0)
            assert compiled.lookup(parse_request(EXAMPLE)) is None
    assert calculate(EXAMPLE) == generic(EXAMPLE)
    assert calculate(EXAMPLE)["distribution"]["aftertax"] == 1_600_000


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    monkeypatch.setattr(compiled, "CACHE_SIZE", 3)
    for n in range(1, 6):   # five shapes: 1..5 direct rollovers
        rows = [{"id": f"d{i}", "method": "direct", "to": "traditional_ira", "amount": 100} for i in range(n)]
        assert "error" not in calculate({**EXAMPLE, "disbursements": rows})
    assert len(compiled._cache) == 3
