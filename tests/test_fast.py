"""The fast strict reader (spec.fast) takes a request only when the parser accepts it, and then gives exactly what
the parser and the proved dispatch give: the shape key, the money in the order the compiled function takes it, the
ids, and the very Request. Everything else (every invalid request, every field it does not know) is the parser's."""

from __future__ import annotations

import copy
import datetime
import json
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rollsplit.reference.compiled as compiled
from rollsplit.conformance import suite
from rollsplit.conformance.fuzzing.strategies import boundary_requests, fuzz_cases
from rollsplit.conformance.strategies import valid_requests
from rollsplit.spec import fast, law
from rollsplit.spec import parse as parse_module
from rollsplit.spec.errors import RequestError
from rollsplit.spec.parse import parse_request

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def agrees(obj) -> bool:
    """The reader declines, or it takes a request the parser accepts and gives what the parser leads to. Returns
    whether it took the request."""
    read = fast.read(obj)
    try:
        req = parse_request(copy.deepcopy(obj))
    except RequestError:
        req = None
    if read is None:
        return False
    assert req is not None, f"the reader took a request the parser rejects: {obj!r}"
    key, money, ids, date, regime = read
    assert key == compiled.shape_key(req)
    assert money == compiled.money_of(req) and all(type(m) is int for m in money)
    assert ids == compiled.ids_of(req)
    assert (date, regime) == (req.date, req.regime)
    assert fast.request(obj, date, regime) == req
    return True


def test_the_reader_is_in_use():
    assert fast.ENABLED


def test_every_valid_request_of_the_suite_is_read_fast_and_every_invalid_one_goes_to_the_parser():
    taken = 0
    for v in suite.load():
        if v.request_text is not None:
            continue
        try:
            parse_request(copy.deepcopy(v.request))
            accepted = True
        except RequestError:
            accepted = False
        # no request of contract 1.1 the parser accepts, as JSON gives it, pays for the parser; contract 1.2's
        # other recipients and participant's facts are the parser's to read
        accepted = accepted and not beyond_the_reader(v.request)
        assert agrees(v.request) == accepted, v.id
        taken += accepted
    assert taken > 400


def beyond_the_reader(request) -> bool:
    """A request with contract 1.2's facts of the participant or a recipient other than the participant."""
    return "participant" in request or request.get("recipient", "participant") != "participant"


@SETTINGS
@given(valid_requests())
def test_valid_requests(request):
    assert agrees(request) != beyond_the_reader(request)


@SETTINGS
@given(boundary_requests())
def test_boundary_requests(request):
    agrees(request)


@SETTINGS
@given(fuzz_cases())
def test_near_valid_requests_one_mistake_away(case):
    request, _ = case
    if not isinstance(request, str):
        agrees(request)


ODD_VALUES = [None, True, False, 0, -1, 1, 2**53, 2**53 - 1, 10**40, 1.0, 0.5, "", "x", "direct", "paid",
              "traditional_ira", "2025-06-30", "2025-02-30", "２０２５-06-30", [], {}, [1], {"a": 1}, (), ("x",)]


def _paths(obj, path=()):
    """Every place in a request: (path, value) for each key of each object and each item of each array."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield path + (k,), v
            yield from _paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield path + (i,), v
            yield from _paths(v, path + (i,))


def _with(obj, path, value):
    out = copy.deepcopy(obj)
    target = out
    for p in path[:-1]:
        target = target[p]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DELETE = object()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_requests(max_directs=3, max_sixty=2), st.data())
def test_every_place_of_a_valid_request_given_an_odd_value(request, data):
    """Each value replaced by one of another type or out of its range, each key removed, an unknown key added to
    each object: the reader declines or agrees with the parser, never more."""
    places = list(_paths(request))
    for path, _ in data.draw(st.lists(st.sampled_from(places), max_size=8, unique_by=lambda p: p[0])
                             if places else st.just([])):
        for value in ODD_VALUES + [_DELETE]:
            agrees(_with(request, path, value))
    for path in [()] + [p for p, v in places if isinstance(v, dict)]:
        target = request
        for p in path:
            target = target[p]
        agrees(_with(request, path + ("recipient",), {"name": "x"}) if path else {**request, "recipient": 1})


def test_a_field_the_parser_does_not_know_and_one_a_later_contract_adds_go_to_the_parser(monkeypatch):
    base = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 100, "basis": 0,
            "disbursements": [{"id": "a", "method": "paid", "amount": 100}]}
    assert agrees(base)
    assert fast.read({**base, "recipient": {"age": 60}}) is None
    # the parser learns a field (contract 1.2): the reader, which does not read it, sends such requests on
    monkeypatch.setitem(parse_module._REQUEST_FIELDS, "participant", False)
    assert fast.read({**base, "participant": {"age": 60}}) is None
    assert fast.read(base) is not None
    # the parser requires a field the reader does not read: the reader stands aside for every request
    monkeypatch.setitem(parse_module._REQUEST_FIELDS, "participant", True)
    known, required, usable = fast._table(parse_module._REQUEST_FIELDS, fast._READS_REQUEST)
    assert not usable


def test_odd_python_types_go_to_the_parser():
    base = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 100, "basis": 0,
            "disbursements": [{"id": "a", "method": "paid", "amount": 100}]}
    for odd in (dict(base, disbursements=tuple(base["disbursements"])), json.dumps(base), [base], None, 1,
                dict(base, balance=True), dict(base, balance=100.0)):
        assert fast.read(odd) is None


def test_every_route_is_open_from_the_last_effective_date():
    """The reader skips `law.route_closed` from `ROUTES_ALL_OPEN` on: it is None there for every route."""
    for day in (fast.ROUTES_ALL_OPEN, fast.ROUTES_ALL_OPEN + datetime.timedelta(days=1), datetime.date(2100, 1, 1)):
        for contract, plan, to, accepts, qplo in product(law.CONTRACTS, law.PLANS, law.DESTINATIONS, (True, False),
                                                          (None, "disbursements[0]")):
            assert law.route_closed(contract, plan, day, [("x", to, accepts)], qplo) is None
    assert any(law.route_closed("pretax_aftertax", "401a", fast.ROUTES_ALL_OPEN - datetime.timedelta(days=1),
                                [], "disbursements[0]") is not None for _ in [0])


@pytest.mark.parametrize("text", ["2025-06-30", "2024-02-29", "2023-02-29", "2025-13-01", "25-06-30", "2025-6-30",
                                  "2025-06-30T00:00", "２０２５-06-30", " 2025-06-30"])
def test_dates_as_the_parser_reads_them(text):
    base = {"date": text, "plan": "401a", "contract": "pretax_aftertax", "balance": 100, "basis": 0,
            "disbursements": [{"id": "a", "method": "paid", "amount": 100}]}
    try:
        parse_request(base)
        valid = True
    except RequestError:
        valid = False
    assert (fast.read(base) is not None) == valid
    agrees(base)
