"""Properties of the reference on every valid request (conformance.strategies.valid_requests()).

Each property is stated here from the rule text on the wire JSON, independently of spec.invariants (which is
checked as well, as a whole): conservation, direct-first, 60-day second, no taxable cash when the rollovers can
hold the rollable pre-tax, full distribution recovers exactly the basis, listing order does not matter once the
elections are explicit, and the JSON round trip.
"""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rollsplit.conformance.strategies import valid_requests
from rollsplit.reference import calculate, calculate_text, compute
from rollsplit.spec.invariants import INVARIANTS, violated
from rollsplit.spec.parse import parse_request

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def facts(req: dict, answer: dict):
    """The quantities the rules speak of, read from the request and its answer."""
    rows = list(zip(req["disbursements"], answer["disbursements"]))
    sixty = list(zip(req.get("rollovers_60_day", []), answer["rollovers_60_day"]))
    paid = next(((d, r) for d, r in rows if d["method"] == "paid"), None)
    directs = [(d, r) for d, r in rows if d["method"] == "direct"]
    return rows, sixty, paid, directs


@SETTINGS
@given(valid_requests())
def test_every_invariant_holds_on_the_reference(req):
    parsed = parse_request(req)
    res = compute(parsed)
    assert [inv.id for inv in violated(parsed, res)] == []
    assert len(INVARIANTS) >= 20


@SETTINGS
@given(valid_requests())
def test_conservation_per_row_and_in_total(req):
    a = calculate(req)
    rows, sixty, _, _ = facts(req, a)
    # a payment distributes its cash and its plan loan offset (contract 1.1)
    D = sum(d["amount"] + d.get("loan_offset", 0) for d in req["disbursements"])
    dist = a["distribution"]
    assert dist["amount"] == D == dist["pretax"] + dist["aftertax"]
    for x, r in rows + sixty:
        assert r["pretax"] + r["aftertax"] == x["amount"] + x.get("loan_offset", 0)
        assert min(r["pretax"], r["aftertax"], r["taxable"]) >= 0
    assert sum(r["pretax"] for _, r in rows) == dist["pretax"]
    assert sum(r["aftertax"] for _, r in rows) == dist["aftertax"]
    assert a["taxable_income"] == sum(r["taxable"] for _, r in rows + sixty)
    assert a["withholding"] == sum(r["withholding"] for _, r in rows)
    assert a["remaining"]["balance"] == req["balance"] - D
    assert a["remaining"]["basis"] == req["basis"] - dist["basis_recovered"]


@SETTINGS
@given(valid_requests())
def test_direct_first(req):
    a = calculate(req)
    assume(a["regime"] == "notice_2014_54")
    _, _, _, directs = facts(req, a)
    P, T, R = a["distribution"]["pretax"], a["distribution"]["aftertax"], req.get("rmd", 0)
    held = sum(r["pretax"] for _, r in directs)
    assert held == min(P - max(0, R - T), sum(d["amount"] for d, _ in directs))


@SETTINGS
@given(valid_requests(with_sixty_day=True))
def test_sixty_day_second(req):
    a = calculate(req)
    _, sixty, paid, _ = facts(req, a)
    assert sixty and paid is not None
    _, p = paid
    rmd_pretax = max(0, req.get("rmd", 0) - p["aftertax"])
    rollable = p["pretax"] - rmd_pretax
    assert sum(r["pretax"] for _, r in sixty) == min(rollable, sum(x["amount"] for x, _ in sixty))
    # what the 60-day rollovers carry beyond the rollable pre-tax is after-tax money
    assert sum(r["aftertax"] for _, r in sixty) == max(0, sum(x["amount"] for x, _ in sixty) - rollable)


@SETTINGS
@given(valid_requests())
def test_no_taxable_cash_when_the_rollovers_cover_the_rollable_pretax(req):
    a = calculate(req)
    _, sixty, paid, directs = facts(req, a)
    assume(paid is not None and a["regime"] == "notice_2014_54")
    _, p = paid
    R, P, T = req.get("rmd", 0), a["distribution"]["pretax"], a["distribution"]["aftertax"]
    rmd_pretax = max(0, R - p["aftertax"])
    room = sum(d["amount"] for d, _ in directs) + sum(x["amount"] for x, _ in sixty)
    if P - max(0, R - T) <= room:
        assert p["taxable"] == rmd_pretax


@SETTINGS
@given(valid_requests())
def test_full_distribution_recovers_exactly_the_basis(req):
    full = copy.deepcopy(req)
    D = sum(d["amount"] + d.get("loan_offset", 0) for d in full["disbursements"])
    full["balance"] = D
    full["basis"] = min(full["basis"], D)
    if "pre1987_basis" in full:
        full["pre1987_basis"] = min(full["pre1987_basis"], full["basis"])
    full.pop("elections", None)
    a = calculate(full)
    assume("error" not in a)  # the new split may send after-tax money where it cannot go
    assert a["distribution"]["basis_recovered"] == full["basis"]
    assert a["remaining"] == {"balance": 0, "basis": 0, "pre1987_basis": 0}


@SETTINGS
@given(valid_requests(), st.randoms(use_true_random=False), st.booleans())
def test_listing_order_does_not_matter_with_explicit_elections(req, rnd, by_amounts):
    a = calculate(req)
    assume(a["regime"] == "notice_2014_54")  # the old rule breaks remainder ties in request order
    req = copy.deepcopy(req)
    by_id = {r["id"]: r for r in a["disbursements"] + a["rollovers_60_day"]}
    directs = [d["id"] for d in req["disbursements"] if d["method"] == "direct"]
    sixty = [x["id"] for x in req.get("rollovers_60_day", [])]
    elections = {}
    if by_amounts:
        if directs:
            elections["direct_pretax_amounts"] = {i: by_id[i]["pretax"] for i in directs}
        if sixty:
            elections["sixty_day_pretax_amounts"] = {i: by_id[i]["pretax"] for i in sixty}
    else:
        # a complete order: rows holding pre-tax, fullest first as the reference filled them, then the rest
        def order(ids):
            return sorted(ids, key=lambda i: (by_id[i]["aftertax"] > 0, by_id[i]["pretax"] == 0, ids.index(i)))
        if directs:
            elections["direct_pretax_order"] = order(directs)
        if sixty:
            elections["sixty_day_pretax_order"] = order(sixty)
    req["elections"] = elections
    before = calculate(req)
    assume("error" not in before)
    shuffled = copy.deepcopy(req)
    rnd.shuffle(shuffled["disbursements"])
    if sixty:
        rnd.shuffle(shuffled["rollovers_60_day"])
    after = calculate(shuffled)
    assert "error" not in after, after
    assert {r["id"]: r for r in after["disbursements"]} == {r["id"]: r for r in before["disbursements"]}
    assert {r["id"]: r for r in after["rollovers_60_day"]} == {r["id"]: r for r in before["rollovers_60_day"]}
    for key in ("distribution", "taxable_income", "withholding", "remaining"):
        assert after[key] == before[key]
    # rows come back in request order
    assert [r["id"] for r in after["disbursements"]] == [d["id"] for d in shuffled["disbursements"]]


@SETTINGS
@given(valid_requests())
def test_json_round_trip(req):
    a = calculate(req)
    text = json.dumps(req)
    assert calculate_text(text) == a == calculate_text(text.encode())
    assert json.loads(json.dumps(a)) == a

    def ints_only(v):
        if isinstance(v, dict):
            return all(ints_only(x) for x in v.values())
        if isinstance(v, list):
            return all(ints_only(x) for x in v)
        return v is None or isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
    assert ints_only(a)  # money is integer cents: no floats, no booleans


@SETTINGS
@given(valid_requests())
def test_withholding_needs_200_dollars_a_year_and_cash(req):
    # Treas. Reg. §31.3405(c)-1 Q&A-14: nothing under $200 a year; Q&A-11: never more than the cash paid
    a = calculate(req)
    paid = next((d for d in req["disbursements"] if d["method"] == "paid"), None)
    if paid is None:
        assert a["withholding"] == 0
        return
    year = paid["amount"] + paid.get("loan_offset", 0) - req.get("rmd", 0) + req.get("other_eligible_this_year", 0)
    if year < 20_000 or req.get("hardship"):
        assert a["withholding"] == 0
    assert a["withholding"] <= paid["amount"]


@SETTINGS
@given(valid_requests(), st.randoms(use_true_random=False))
def test_the_order_of_election_keys_does_not_matter(req, rnd):
    # JSON objects are unordered: an amounts election binds each amount to its row by id, and the elections
    # object's keys may come in any order (a calculator, or a cache, that binds by position is wrong)
    assume("elections" in req)
    before = calculate(req)
    shuffled = copy.deepcopy(req)
    items = list(shuffled["elections"].items())
    rnd.shuffle(items)
    shuffled["elections"] = {k: (dict(rnd.sample(list(v.items()), len(v))) if isinstance(v, dict) else v)
                             for k, v in items}
    assert calculate(shuffled) == before
