"""The compiled path (reference.compiled) answers exactly as the generic run of the algorithm on INT.

`reference.calculate` answers through the compiled function of the request's shape; these tests compare it
with `compute(req).to_wire()` (the algorithm run directly on Python ints) on requests of every feature,
boundary-snapped and near-valid ones, and check the safety rails: a shape whose trace branches on money is
never compiled, mutants of the reference never reach the cache, and the cache stays bounded.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings

import rollsplit.reference.algorithm as alg
import rollsplit.reference.compiled as compiled
from rollsplit.conformance.fuzzing.strategies import boundary_requests, fuzz_cases
from rollsplit.conformance.strategies import valid_requests
from rollsplit.reference import calculate, compute
from rollsplit.reference.mutants import MUTANTS, calculate_with
from rollsplit.spec.errors import RequestError
from rollsplit.spec.parse import parse_request

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def compile_at_first_sight(monkeypatch):
    """Every shape is hot at its first request here, so `calculate` answers through compiled code whenever a proof
    covers it (the tiers themselves are tested below, with their own threshold)."""
    monkeypatch.setattr(compiled, "HOT", 1)
    monkeypatch.setattr(compiled, "HOT_UNLIKELY", 1)
    compiled.forget()   # what one test leaves (a shape it made generic with the record emptied) is not the next's
    yield
    compiled.forget()


def generic(request) -> dict:
    """The algorithm run directly on Python ints (no compiled code involved)."""
    try:
        return compute(parse_request(request)).to_wire()
    except RequestError as e:
        return e.to_wire()


def answered_by_compiled_code(request) -> None:
    """calculate(request) equals the generic run; a valid request went through compiled code exactly when a proof
    covers its compiled source (reference/proved_sources.json) and its shape, and through the generic path
    otherwise."""
    want = generic(request)
    assert calculate(request) == want
    if "error" not in want:
        req = parse_request(request)
        proved = compiled.source_digest(compiled.compile_shape(req).source) in compiled.proved_digests()
        assert (compiled.lookup(req) is not None) == (proved and compiled.covered(compiled.shape_key(req)))


def test_only_proved_code_answers(monkeypatch):
    """Seven direct rollovers: beyond every shape of the bundle, so no proof covers the compiled source; the
    generic path answers. With the record emptied, nothing compiled answers at all, and the answers stay right."""
    seven = {**EXAMPLE, "balance": 100_000_000, "disbursements": [
        {"id": f"d{i}", "method": "direct", "to": "traditional_ira", "amount": 1_000_000} for i in range(7)]}
    req = parse_request(seven)
    assert compiled.source_digest(compiled.compile_shape(req).source) not in compiled.proved_digests()
    assert compiled.lookup(req) is None and calculate(seven) == generic(seven)
    assert compiled.lookup(parse_request(EXAMPLE)) is not None     # a shape of the bundle: proved, compiled
    monkeypatch.setattr(compiled, "_proved", frozenset())
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    assert compiled.lookup(parse_request(EXAMPLE)) is None and calculate(EXAMPLE) == generic(EXAMPLE)


def test_the_record_of_proved_sources_is_current():
    """reference/proved_sources.json holds exactly the compiled sources of today's code for the bundle's shapes:
    a change to the algorithm that changes any of them fails here until `rollsplit prove --record-proved` is
    run again (which proves them first)."""
    from rollsplit.solver import shapes as S
    from rollsplit.solver.z3_backend import symbolic_request
    requests = [symbolic_request(s).request for s in S.select(["all"])]
    today = {compiled.source_digest(compiled.trace_shape(r)) for r in requests}
    assert today == set(compiled.proved_digests())
    # and the hint of which structures are proved (reference/proved_structures.json, written with the record)
    recorded = json.loads(compiled.STRUCTURES_FILE.read_text())["structures"]
    assert [compiled._tuples(x) for x in recorded] == compiled.proved_structures(requests)
    # and which shapes the proofs cover: every shape of the bundle, and each destination's class
    classes, keys = compiled._coverage()
    assert keys == {compiled.shape_key(r) for r in requests}
    for recipient in ("participant", "spouse_beneficiary", "nonspouse_beneficiary", "alternate_payee_spouse"):
        for contract in ("pretax_aftertax", "designated_roth"):
            for method in ("direct", "sixty_day"):
                for group in S.classes(contract, method, recipient).values():
                    assert {classes[(recipient, contract, method, to, acc)] for to, acc in group} == {tuple(group[0])}


@SETTINGS
@given(valid_requests())
def test_compiled_equals_generic_on_valid_requests(request):
    answered_by_compiled_code(request)


@SETTINGS
@given(boundary_requests())
def test_compiled_equals_generic_on_boundaries(request):
    answered_by_compiled_code(request)


@SETTINGS
@given(fuzz_cases())
def test_compiled_equals_generic_on_near_valid_requests(case):
    request, _ = case
    answered_by_compiled_code(request)


DESTINATIONS = ("traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "designated_roth")


def _variants(request):
    """The request with one thing other than money changed: a destination, accepts_aftertax, hardship,
    qualified_roth, an election's order."""
    rows = [("disbursements", i) for i, d in enumerate(request["disbursements"]) if d["method"] == "direct"]
    rows += [("rollovers_60_day", j) for j in range(len(request.get("rollovers_60_day", [])))]
    for kind, i in rows:
        for to in DESTINATIONS:
            v = copy.deepcopy(request)
            v[kind][i]["to"] = to
            v[kind][i].pop("accepts_aftertax", None)
            yield v
        for acc in (True, False):
            v = copy.deepcopy(request)
            v[kind][i]["accepts_aftertax"] = acc
            yield v
    for plan in ("401a", "403b", "457b_gov"):
        yield {**copy.deepcopy(request), "plan": plan}
    for flag in ("hardship", "qualified_roth"):
        v = copy.deepcopy(request)
        v[flag] = not v.get(flag, False)
        yield v
    for name, order in request.get("elections", {}).items():
        if isinstance(order, list) and len(order) > 1:
            v = copy.deepcopy(request)
            v["elections"][name] = order[::-1]
            yield v


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_requests(max_directs=3, max_sixty=2))
def test_the_cache_key_tells_apart_every_shape_the_code_differs_on(request):
    """Two requests sharing a cache key must share the generated source; and every variant, answered after the
    original filled the cache, equals the generic run (a key that forgets a field would serve the wrong code)."""
    req = parse_request(request)
    calculate(request)
    source = compiled.compile_shape(req).source
    for variant in _variants(request):
        try:
            var = parse_request(variant)
        except RequestError:
            continue
        if compiled.shape_key(var) == compiled.shape_key(req):
            assert compiled.compile_shape(var).source == source, variant
        assert calculate(variant) == generic(variant), variant


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


@pytest.mark.parametrize("branch", [
    lambda A, req: req.balance > 5,             # a Python comparison of money
    lambda A, req: bool(req.balance),           # money as a truth value
    lambda A, req: bool(A.le(req.balance, 5)),  # an Arith condition used as a Python truth value
    lambda A, req: req.balance == 0,
], ids=["compare", "truth", "arith-condition", "equality"])
def test_an_algorithm_that_branches_on_money_is_not_compiled(monkeypatch, branch):
    def branching(A, req):
        if branch(A, req):      # a Python branch on money: the trace must refuse it
            pass
        return saved(A, req)
    saved = alg.allocate
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    with pytest.raises(compiled._Branch):
        monkeypatch.setattr(alg, "allocate", branching)
        compiled.compile_shape(parse_request(EXAMPLE))
    monkeypatch.setattr(alg, "allocate", saved)


def test_mutants_never_reach_the_cache(monkeypatch):
    import types
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    for m in MUTANTS:
        calculate_with(m, EXAMPLE)
    # every helper of reference.algorithm that reference.mutants swaps (listed here, not read from compiled):
    # while any of them is swapped, nothing is compiled
    for name in ("allocate", "fill", "basis_recovered", "direct_pretax_total", "largest_remainder", "law",
                 "direct_fill_order", "sixty_day_fill_order"):
        original = getattr(alg, name)
        with monkeypatch.context() as patch:
            stand_in = types.SimpleNamespace(**vars(original)) if isinstance(original, types.ModuleType) \
                else (lambda *a, _f=original, **k: _f(*a, **k))
            patch.setattr(alg, name, stand_in)
            assert compiled.lookup(parse_request(EXAMPLE)) is None, name
            assert calculate(EXAMPLE) == generic(EXAMPLE)
        assert len(compiled._cache) == 0, name
    assert calculate(EXAMPLE) == generic(EXAMPLE)
    assert calculate(EXAMPLE)["distribution"]["aftertax"] == 1_600_000


def test_the_cache_is_bounded_and_keeps_the_recently_used(monkeypatch):
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    monkeypatch.setattr(compiled, "CACHE_SIZE", 3)

    def with_rows(n):   # a payment and n direct rollovers to traditional IRAs: shapes of the bundle, proved
        rows = [{"id": f"d{i}", "method": "direct", "to": "traditional_ira", "amount": 100} for i in range(n)]
        return {**EXAMPLE, "disbursements": rows + [{"id": "me", "method": "paid", "amount": 100}]}

    def key(n):
        return compiled.shape_key(parse_request(with_rows(n)))
    for n in range(4):   # four shapes: 0..3 direct rollovers
        assert "error" not in calculate(with_rows(n))
    assert list(compiled._cache) == [key(1), key(2), key(3)]   # the oldest left
    calculate(with_rows(1))                                     # used again: now the most recent
    calculate(with_rows(0))
    assert list(compiled._cache) == [key(3), key(1), key(0)]


def test_shapes_no_proof_covers_are_remembered_apart_and_bounded(monkeypatch):
    monkeypatch.setattr(compiled, "_cache", type(compiled._cache)())
    monkeypatch.setattr(compiled, "_generic", set())
    monkeypatch.setattr(compiled, "KEYS_LIMIT", 2)

    def directs(n):   # 7 or more direct rollovers: beyond every shape of the bundle
        return {**EXAMPLE, "balance": 10**9, "disbursements": [
            {"id": f"d{i}", "method": "direct", "to": "traditional_ira", "amount": 100} for i in range(n)]}
    for n in (7, 8, 9):
        assert calculate(directs(n)) == generic(directs(n))
    assert len(compiled._cache) == 0 and 0 < len(compiled._generic) <= 2
    assert compiled.shape_key(parse_request(directs(9))) in compiled._generic


def test_a_shape_is_answered_by_the_generic_path_until_it_is_hot(monkeypatch):
    monkeypatch.setattr(compiled, "HOT", 3)
    monkeypatch.setattr(compiled, "HOT_UNLIKELY", 3)
    compiled.forget()
    key = compiled.shape_key(parse_request(EXAMPLE))
    traced = []
    real = compiled.trace_shape
    monkeypatch.setattr(compiled, "trace_shape", lambda req: traced.append(1) or real(req))
    for i in range(2):
        assert calculate(EXAMPLE) == generic(EXAMPLE)
        assert compiled.function_of(key) is None and not traced   # not compiled yet: the generic path answered
    assert calculate(EXAMPLE) == generic(EXAMPLE)                 # the third makes it hot: compiled, and answers
    assert compiled.function_of(key) is not None and traced == [1]
    assert calculate(EXAMPLE) == generic(EXAMPLE) and traced == [1]
    # through the parser (a request the fast reader leaves to it) the tiers are the same
    compiled.forget()
    monkeypatch.setattr("rollsplit.spec.fast.read", lambda obj: None)
    for i in range(3):
        assert calculate(EXAMPLE) == generic(EXAMPLE)
    assert compiled.function_of(key) is not None and traced == [1, 1]


def test_code_no_proof_covers_is_never_compiled(monkeypatch):
    compiled.forget()
    monkeypatch.setattr(compiled, "_proved", frozenset())
    monkeypatch.setattr(compiled, "compile_source", lambda source: pytest.fail("unproved source compiled"))
    assert calculate(EXAMPLE) == generic(EXAMPLE)
    assert compiled.shape_key(parse_request(EXAMPLE)) in compiled._generic
    compiled.forget()


def test_a_reader_that_binds_money_otherwise_than_the_proved_dispatch_is_caught_when_the_shape_compiles(monkeypatch):
    """The fast reader's money and ids for a shape are compared with `money_of` and `ids_of` (the dispatch under
    proof) when the shape compiles; a reader that differs leaves the shape to the generic path for good."""
    from rollsplit.spec import fast
    compiled.forget()
    real = fast.read

    def swapped(obj):
        read = real(obj)
        if read is None:
            return None
        key, money, ids, date, regime = read
        return key, money[:5] + money[5:][::-1], ids, date, regime   # the rows' amounts in reverse order
    monkeypatch.setattr(fast, "read", swapped)
    for _ in range(3):
        assert calculate(EXAMPLE) == generic(EXAMPLE)
    key = compiled.shape_key(parse_request(EXAMPLE))
    assert compiled.function_of(key) is None and key in compiled._generic
    compiled.forget()


def test_shapes_whose_code_is_one_source_share_one_compiled_function():
    """A traditional IRA and a qualified plan that takes after-tax money are one class: their requests' shapes have
    other keys but one generated source, compiled once."""
    other = copy.deepcopy(EXAMPLE)
    other["disbursements"][0]["to"] = "qualified_plan"
    calculate(EXAMPLE)
    calculate(other)
    k1, k2 = compiled.shape_key(parse_request(EXAMPLE)), compiled.shape_key(parse_request(other))
    assert k1 != k2
    assert compiled.function_of(k1) is compiled.function_of(k2) is not None
