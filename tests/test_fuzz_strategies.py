"""The fuzzing kit's strategies: valid where they say so, on the boundaries they claim, one fault per
near-valid request for every error code, and never a request needing an undeclared feature."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from rollsplit.conformance.fuzzing.strategies import (FAULTS, boundary_requests, fuzz_cases, near_valid_requests,
                                            request_size, requires)
from rollsplit.reference import calculate, calculate_text
from rollsplit.spec.errors import ERROR_CODES

FAST = settings(max_examples=60, database=None, deadline=None, suppress_health_check=list(HealthCheck))
FIND = settings(max_examples=3000, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def _D(req):
    return sum(d["amount"] for d in req["disbursements"])


@pytest.mark.parametrize("features", [None, {"core"}, {"core", "sixty_day"}, {"core", "designated_roth", "rmd"},
                                      {"core", "pre1987_basis", "regime_2009"}])
def test_boundary_requests_are_valid_and_need_only_the_declared_features(features):
    @FAST
    @given(boundary_requests(features))
    def run(req):
        answer = calculate(req)
        assert "error" not in answer, answer
        if features is not None:
            assert requires(req) <= features | {"form_1099r"}
    run()


# Each boundary the module docstring promises, as a predicate on (request, reference result): the strategy
# must reach it. `find` fails when no example within the budget satisfies the predicate.
def _prorata_tie(req, res):
    pre = min(_D(req), req.get("pre1987_basis", 0))
    num = (_D(req) - pre) * (req["basis"] - req.get("pre1987_basis", 0))
    den = req["balance"] - req.get("pre1987_basis", 0)
    return den > 0 and num % den != 0 and (2 * num) % (2 * den) == den


def _paid(req, res):
    return next(((d, r) for d, r in zip(req["disbursements"], res["disbursements"]) if d["method"] == "paid"),
                (None, None))


def _against_default(req, res, kind):
    """The elected split differs from the one the default order gives."""
    plain = calculate({k: v for k, v in req.items() if k != "elections"})
    return "error" not in plain and plain["disbursements"] != res["disbursements"]


BOUNDARIES = {
    "full distribution": lambda req, res: _D(req) == req["balance"] and req["basis"] > 0,
    "zero basis": lambda req, res: req["basis"] == 0,
    "basis equal to balance": lambda req, res: req["basis"] == req["balance"] > _D(req),
    "pre-tax equal to the direct total": lambda req, res: res["distribution"]["pretax"] == sum(
        d["amount"] for d in req["disbursements"] if d["method"] == "direct") > 0 and _paid(req, res)[0] is not None,
    "amounts near 2^53": lambda req, res: req["balance"] > 2**52 and _D(req) > 2**50,
    "products beyond 2^64": lambda req, res: _D(req) * req["basis"] > 2**64,
    "exact rounding tie": _prorata_tie,
    "RMD equal to the paid after-tax part": lambda req, res: req.get("rmd", 0) > 0 and
        _paid(req, res)[1] is not None and req["rmd"] == _paid(req, res)[1]["aftertax"],
    "60-day rollovers equal to the rollable pre-tax": lambda req, res: bool(req.get("rollovers_60_day")) and
        sum(x["amount"] for x in req["rollovers_60_day"]) == sum(r["pretax"] for r in res["rollovers_60_day"]) > 0,
    "pre-1987 basis equal to the basis": lambda req, res: req.get("pre1987_basis", 0) == req["basis"] > 0,
    "old regime with an exact largest-remainder tie": lambda req, res: res["regime"] == "notice_2009_68" and
        len(req["disbursements"]) >= 2 and len({d["amount"] for d in req["disbursements"]}) == 1,
    "designated Roth on 2014-09-18": lambda req, res: req["contract"] == "designated_roth" and
        req["date"] == "2014-09-18",
    "hardship": lambda req, res: req.get("hardship") is True,
    "direct election against the default order": lambda req, res: "direct_pretax_order" in req.get(
        "elections", {}) and _against_default(req, res, "direct"),
    "60-day election of amounts": lambda req, res: "sixty_day_pretax_amounts" in req.get("elections", {}),
}


@pytest.mark.parametrize("name", sorted(BOUNDARIES))
def test_boundary_requests_reach(name):
    pred = BOUNDARIES[name]
    example = find(boundary_requests(), lambda req: pred(req, calculate(req)), settings=FIND)
    assert "error" not in calculate(example)


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_near_valid_requests_give_exactly_their_error_code(code):
    @settings(max_examples=8, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(near_valid_requests(codes=[code]))
    def run(case):
        request, expected = case
        assert expected == code
        answer = calculate_text(request) if isinstance(request, str) else calculate(request)
        assert answer["error"]["code"] == code
    run()


def test_every_error_code_has_a_fault():
    assert set(FAULTS) == set(ERROR_CODES)


def test_near_valid_requests_respect_features():
    @FAST
    @given(near_valid_requests(features={"core"}))
    def run(case):
        request, code = case
        assert code not in ("sixty_day_without_payment", "sixty_day_exceeds_payment", "rmd_exceeds_payment",
                            "regime_not_permitted")
        if not isinstance(request, str):
            assert requires(request) <= {"core", "form_1099r"}
    run()


def test_fuzz_cases_are_json_values_judged_by_the_reference():
    @FAST
    @given(fuzz_cases())
    def run(case):
        request, code = case
        assert isinstance(request, dict)
        answer = calculate(request)
        assert (answer.get("error", {}).get("code")) == code
    run()


def test_request_size_counts_rows():
    assert request_size({"disbursements": [{}, {}], "rollovers_60_day": [{}]}) == 3
    assert request_size("not a request") == 0
