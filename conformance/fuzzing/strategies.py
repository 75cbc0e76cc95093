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
- `fuzz_cases(features=None)`: what `rollsplit conformance fuzz` draws: (request, None) for a valid request
  (mostly) or (request, code) for a near-valid one (JSON values only, so every adapter protocol carries it).

Every request is a plain dict of the wire contract (issue 2), exactly what a vendor's adapter receives.
The snaps (`conformance.fuzzing.snaps`) and the faults (`conformance.fuzzing.faults`) are ordinary
Hypothesis draws, so a failing request shrinks to the fewest rows and snaps.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from hypothesis import strategies as st

from rollsplit.conformance.fuzzing._wire import _calc, request_size, requires
from rollsplit.conformance.fuzzing.faults import ALL_FEATURES, FAULTS, near_valid_requests
from rollsplit.conformance.fuzzing.snaps import SNAPS
from rollsplit.conformance.strategies import _repair_eligibility, valid_requests
from rollsplit.spec.features import required_features

__all__ = ["boundary_requests", "near_valid_requests", "fuzz_cases", "SNAPS", "FAULTS", "ALL_FEATURES",
           "requires", "request_size"]


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


def fuzz_cases(features: Iterable[str] | None = None, near_valid: bool = True,
               ) -> st.SearchStrategy[tuple[dict, str | None]]:
    """(request, None) for a valid boundary request, or (request, code) for a near-valid one (1 in 4).
    Only JSON values: `invalid_json` cannot travel inside a JSON-lines message, so it is left to the suite."""
    valid = boundary_requests(features).map(lambda r: (r, None))
    if not near_valid:
        return valid
    # ineligible destinations and elections weigh more: they need the allocation, not just the parser
    codes = [c for c in FAULTS if c != "invalid_json"] + ["ineligible_destination"] * 3 + ["invalid_election"]
    faulty = near_valid_requests(features, codes)

    @st.composite
    def cases(draw):
        # one_of() would give each branch half the draws; valid requests are what most mistakes need
        return draw(faulty) if draw(_ONE_IN_FOUR) == 3 else draw(valid)
    return cases()


_ONE_IN_FOUR = st.integers(0, 3)
