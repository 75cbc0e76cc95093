"""Hypothesis strategies for fuzzing a calculator: valid requests pushed onto the law's boundaries, and
near-valid requests with exactly one fault each.

    from rollsplit.conformance.fuzzing.strategies import boundary_requests, near_valid_requests, fuzz_cases

    @given(boundary_requests(features={"core", "sixty_day"}))
    def test_mine(request): ...

- `boundary_requests(features=None)`: a valid request of `conformance.strategies.valid_requests` (every
  feature: both contracts, pre-1987 basis, RMD, hardship, elections of both kinds, 60-day rollovers, both
  regimes, dates around 2014-09-18 / 2015-01-01 / 2016-01-01), then up to three *snaps* that move it onto
  a boundary where calculators go wrong: pre-tax exactly equal to the direct total, zero basis, basis equal
  to the balance, a full distribution, amounts near 2^53, exact rounding ties (2*num % den == den), RMD
  equal to the paid after-tax part, 60-day rollovers equal to the rollable pre-tax, and so on (`SNAPS`).
  A snap that would make the request invalid, or need a feature the calculator does not declare, is
  skipped, so every request drawn is valid and needs only `features`.
- `near_valid_requests(features=None, codes=None)`: (request, expected_error_code), one fault per request,
  for every error code of the contract (`invalid_json` comes as raw text: a `str`, not a dict).
- `hardship_rollover_requests(features=None)`: (request, "not_eligible_rollover_distribution"): a hardship
  distribution whose payment is rolled over within 60 days (sometimes with direct rollovers as well, sometimes
  with the 60-day rollovers as the only rollover). The law forbids it (§402(c)(4)(C)); the parser must say so.
- `fuzz_cases(features=None)`: what `rollsplit conformance fuzz` draws: (request, None) for a valid request
  (mostly) or (request, code) for a near-valid one (JSON values only, so every adapter protocol carries it).

Valid requests go beyond what the proofs cover (`conformance.strategies`): more than four direct rollovers
and more than three 60-day rollovers now and then, the payment listed first, between direct rollovers or
last, amounts elections naming their rows in any order, the elections object's keys in any order.

Every request is a plain dict of the wire contract (issue 2), exactly what a vendor's adapter receives.
The snaps (`conformance.fuzzing.snaps`) and the faults (`conformance.fuzzing.faults`) are ordinary
Hypothesis draws, so a failing request shrinks to the fewest rows and snaps.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from hypothesis import strategies as st

from rollsplit.conformance.fuzzing._wire import _BOOL, _calc, _paid, request_size, requires
from rollsplit.conformance.fuzzing.faults import ALL_FEATURES, FAULTS, near_valid_requests
from rollsplit.conformance.fuzzing.snaps import SNAPS
from rollsplit.conformance.strategies import _repair_eligibility, valid_requests
from rollsplit.spec.features import required_features

__all__ = ["boundary_requests", "near_valid_requests", "hardship_rollover_requests", "fuzz_cases", "SNAPS", "FAULTS",
           "ALL_FEATURES", "requires", "request_size"]


_SNAP_LISTS: dict[int, st.SearchStrategy] = {}


def _snap_lists(n: int) -> st.SearchStrategy[list[str]]:
    if n not in _SNAP_LISTS:
        # elections against the default order weigh three: an ignored election shows only on them
        names = sorted(SNAPS) + ["contrary_direct_election", "contrary_sixty_day_election"] * 2
        _SNAP_LISTS[n] = st.lists(st.sampled_from(names), max_size=n)
    return _SNAP_LISTS[n]


def _valid_with(req: dict, features: frozenset[str]) -> bool:
    """Valid for the reference (eligibility repaired, an election that no longer adds up dropped)."""
    answer = _calc(req)
    if "error" in answer and answer["error"]["code"] == "invalid_election":
        req.pop("elections", None)
        answer = _calc(req)
    if "error" in answer and answer["error"]["code"] == "ineligible_destination":
        _repair_eligibility(req, _calc)
        answer = _calc(req)
    return "error" not in answer and required_features(req) <= features | {"form_1099r"}


@st.composite
def boundary_requests(draw, features: Iterable[str] | None = None, max_snaps: int = 3) -> dict[str, Any]:
    """A valid wire request (needing only `features`), moved onto up to `max_snaps` boundaries of `SNAPS`."""
    feats = frozenset(features) if features is not None else ALL_FEATURES
    req = draw(valid_requests(features=None if features is None else set(feats)))
    for name in draw(_snap_lists(max_snaps)):
        candidate = SNAPS[name](draw, copy.deepcopy(req))
        if candidate is not None and _valid_with(candidate, feats):
            req = candidate
    return req


NOT_ELIGIBLE = "not_eligible_rollover_distribution"
_HARDSHIP_NEEDS = frozenset({"rmd", "sixty_day"})


@st.composite
def hardship_rollover_requests(draw, features: Iterable[str] | None = None) -> tuple[dict, str]:
    """(request, "not_eligible_rollover_distribution"): a valid request with 60-day rollovers of its payment,
    made a hardship distribution. A hardship distribution is no eligible rollover distribution (§402(c)(4)(C)),
    so the reference rejects it with that code. Half of the time its direct rollovers are left out, so that the
    60-day rollovers alone make it invalid (a check that looks only at direct rollovers lets it through).
    Needs the features rmd (hardship) and sixty_day."""
    feats = frozenset(features) if features is not None else ALL_FEATURES
    if not _HARDSHIP_NEEDS <= feats:
        raise ValueError(f"hardship_rollover_requests needs the features {', '.join(sorted(_HARDSHIP_NEEDS))}")
    req = draw(valid_requests(features=None if features is None else set(feats), with_sixty_day=True))
    paid = _paid(req)
    # a plan loan offset repays a loan and is no hardship distribution (invalid_request): its money is cash here
    paid["amount"] += paid.pop("loan_offset", 0)
    paid.pop("qualified_plan_loan_offset", None)
    if draw(_BOOL):
        req["disbursements"] = [paid]
        elections = req.get("elections", {})
        elections.pop("direct_pretax_order", None)
        elections.pop("direct_pretax_amounts", None)
        if not elections:
            req.pop("elections", None)
    req["hardship"] = True
    return req, NOT_ELIGIBLE


def fuzz_cases(features: Iterable[str] | None = None, near_valid: bool = True,
               ) -> st.SearchStrategy[tuple[dict, str | None]]:
    """(request, None) for a valid boundary request, or (request, code) for a near-valid one (1 in 4).
    Only JSON values: `invalid_json` cannot travel inside a JSON-lines message, so it is left to the suite.
    One near-valid request in eight is a hardship distribution with 60-day rollovers (when the features allow)."""
    valid = boundary_requests(features).map(lambda r: (r, None))
    if not near_valid:
        return valid
    # ineligible destinations and elections weigh more: they need the allocation, not just the parser
    codes = [c for c in FAULTS if c != "invalid_json"] + ["ineligible_destination"] * 3 + ["invalid_election"]
    faulty = near_valid_requests(features, codes)
    feats = frozenset(features) if features is not None else ALL_FEATURES
    hardship = hardship_rollover_requests(features) if _HARDSHIP_NEEDS <= feats else None

    @st.composite
    def cases(draw):
        # one_of() would give each branch half the draws; valid requests are what most mistakes need
        if draw(_ONE_IN_FOUR) != 3:
            return draw(valid)
        if hardship is not None and draw(_ONE_IN_EIGHT) == 7:
            return draw(hardship)
        return draw(faulty)
    return cases()


_ONE_IN_FOUR = st.integers(0, 3)
_ONE_IN_EIGHT = st.integers(0, 7)
