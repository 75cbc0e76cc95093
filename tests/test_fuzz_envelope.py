"""Issue 11, step 7: the strategies draw beyond what the proofs cover, and the fuzzer finds bugs that live there.

The proof bundle's shapes have at most four direct rollovers, one payment and three 60-day rollovers. The
strategies must also draw (1) more than four direct rollovers (and more than three 60-day ones), (2) the payment
first, between two direct rollovers and last, (3) amounts elections whose rows come in another order than the
rows of the request, and the elections object's keys in either order, (4) hardship distributions with 60-day
rollovers, which the law forbids and the reference rejects with a coded error.

Each reach is counted on a fixed, derandomized sample (Hypothesis' seed alone decides it: `seed_alone`), so the
counts do not move from run to run; the thresholds are far below what is measured, so another Hypothesis version
passes too. The oracle (`rollsplit.check`) must agree with `rollsplit.allocate` on such requests. Then three bugs
that live only there, each seeded into a small wrong calculator, must be found by `rollsplit.fuzzing.fuzz`.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import rollsplit
from rollsplit.conformance.fuzzing.driver import seed_alone
from rollsplit.conformance.fuzzing.strategies import boundary_requests, fuzz_cases, hardship_rollover_requests
from rollsplit.conformance.strategies import NEUTRAL_DATE, PROVED_DIRECTS, PROVED_SIXTY, valid_requests
from rollsplit.fuzzing import fuzz

SAMPLE = 800
CHECKED = settings(max_examples=30, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def _sample(strategy, n: int = SAMPLE) -> list:
    """n draws, the same ones on every run (derandomized, and the seed alone decides)."""
    seen: list = []

    @settings(max_examples=n, database=None, deadline=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x):
        seen.append(x)
    with seed_alone():
        collect()
    return seen


@lru_cache(maxsize=None)
def valid_sample() -> tuple:
    return tuple(_sample(valid_requests()))


@lru_cache(maxsize=None)
def sixty_day_sample() -> tuple:
    return tuple(_sample(valid_requests(with_sixty_day=True), 400))


@lru_cache(maxsize=None)
def boundary_sample() -> tuple:
    return tuple(_sample(boundary_requests()))


def _directs(req: dict) -> list[dict]:
    return [d for d in req["disbursements"] if d["method"] == "direct"]


def _payment_at(req: dict) -> str | None:
    """'first', 'middle' or 'last' for a payment listed with direct rollovers on both sides, before or after."""
    rows = req["disbursements"]
    i = next((k for k, d in enumerate(rows) if d["method"] == "paid"), None)
    if i is None or len(rows) < 2:
        return None
    return "first" if i == 0 else "last" if i == len(rows) - 1 else "middle"


def _out_of_order(req: dict, key: str, kind: str) -> bool:
    """The election names its rows in another order than the request lists them."""
    named = list((req.get("elections") or {}).get(key, ()))
    listed = [r["id"] for r in (_directs(req) if kind == "direct" else req.get("rollovers_60_day", []))]
    return len(named) >= 2 and named != [i for i in listed if i in named]


REACHES = {
    "more than four direct rollovers": lambda r: len(_directs(r)) > PROVED_DIRECTS,
    "eight direct rollovers": lambda r: len(_directs(r)) == 8,
    "more than three 60-day rollovers": lambda r: len(r.get("rollovers_60_day", [])) > PROVED_SIXTY,
    "the payment first": lambda r: _payment_at(r) == "first",
    "the payment between direct rollovers": lambda r: _payment_at(r) == "middle",
    "the payment last": lambda r: _payment_at(r) == "last",
    "the payment among more than four direct rollovers, not last":
        lambda r: len(_directs(r)) > PROVED_DIRECTS and _payment_at(r) in ("first", "middle"),
    "direct amounts naming rows out of order": lambda r: _out_of_order(r, "direct_pretax_amounts", "direct"),
    "60-day amounts naming rows out of order": lambda r: _out_of_order(r, "sixty_day_pretax_amounts", "sixty"),
    "a direct order election out of listing order": lambda r: _out_of_order(r, "direct_pretax_order", "direct"),
    "direct amounts leaving out a row": lambda r: "direct_pretax_amounts" in r.get("elections", {})
        and len(r["elections"]["direct_pretax_amounts"]) < len(_directs(r)),
    "the elections' direct key first": lambda r: len(r.get("elections", {})) == 2
        and next(iter(r["elections"])).startswith("direct"),
    "the elections' 60-day key first": lambda r: len(r.get("elections", {})) == 2
        and next(iter(r["elections"])).startswith("sixty_day"),
    "amounts election with more than four direct rollovers":
        lambda r: len(_directs(r)) > PROVED_DIRECTS and "direct_pretax_amounts" in r.get("elections", {}),
}


@pytest.mark.parametrize("name", sorted(REACHES))
def test_valid_requests_reach_beyond_the_proofs(name):
    # a request with 60-day rollovers is one in seven: their reaches are counted on requests that have them
    sample = sixty_day_sample() if "60-day" in name or "elections' " in name else valid_sample()
    hits = [r for r in sample if REACHES[name](r)]
    assert hits, f"none of {len(sample)} derandomized valid_requests() draws has {name}"


def test_more_than_four_direct_rollovers_are_not_rare():
    """About one request with direct rollovers in four draws more than four (measured: 153 of 525)."""
    with_directs = [r for r in valid_sample() if _directs(r)]
    beyond = [r for r in with_directs if len(_directs(r)) > PROVED_DIRECTS]
    assert len(beyond) >= len(with_directs) // 8, (len(beyond), len(with_directs))


@pytest.mark.parametrize("name", ["more than four direct rollovers", "the payment first", "the payment last",
                                  "the payment between direct rollovers", "direct amounts naming rows out of order"])
def test_boundary_requests_reach_beyond_the_proofs(name):
    """What the fuzzer draws (boundary_requests is the valid part of fuzz_cases) reaches there too."""
    assert any(REACHES[name](r) for r in boundary_sample()), name


def test_the_fuzzer_draws_hardship_with_60_day_rollovers():
    cases = _sample(fuzz_cases(), 600)
    hardship = [r for r, code in cases if isinstance(r, dict) and r.get("hardship") and r.get("rollovers_60_day")]
    alone = [r for r in hardship if not _directs(r)]
    assert hardship and alone, (len(hardship), len(alone))
    for req in hardship:
        assert rollsplit.allocate(req)["error"]["code"] == "not_eligible_rollover_distribution"


def test_only_declared_features_get_hardship_with_rollovers():
    with pytest.raises(ValueError, match="rmd, sixty_day"):
        _sample(hardship_rollover_requests(features={"core", "sixty_day"}), 1)
    cases = _sample(fuzz_cases(features={"core", "sixty_day"}), 200)
    assert not any(isinstance(r, dict) and r.get("hardship") for r, _ in cases)


def _shrunk(strategy, fails):
    """The example a failing @given test shrinks to (the last one it fails on: Hypothesis replays the minimal)."""
    failing: list = []

    @settings(database=None, derandomize=True, max_examples=1000, deadline=None, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def test(x):
        if fails(x):
            failing.append(x)
            raise AssertionError("seeded failure")
    with seed_alone(), pytest.raises(AssertionError, match="seeded failure"):
        test()
    return failing[-1]


@pytest.mark.parametrize("strategy, fails", [
    (valid_requests(), lambda r: True),
    (valid_requests(), lambda r: len(_directs(r)) > PROVED_DIRECTS),
    (boundary_requests(), lambda r: _payment_at(r) == "middle"),
], ids=["any", "five_directs", "payment_between"])
def test_a_shrunk_date_is_the_neutral_date(strategy, fails):
    """Dates shrink to NEUTRAL_DATE, a day with every route of the law open, not to a transition date."""
    req = _shrunk(strategy, fails)
    assert req["date"] == NEUTRAL_DATE, req
    assert "error" not in rollsplit.allocate(req)


def test_min_directs_draws_only_that_many_or_more():
    for req in _sample(valid_requests(min_directs=7), 40):
        assert len(_directs(req)) >= 7 and not req.get("hardship")


# ---- the oracle agrees with the reference where the proofs do not go -------------------------------------

@CHECKED
@given(valid_requests(min_directs=PROVED_DIRECTS + 1))
def test_the_oracle_agrees_with_allocate_beyond_four_direct_rollovers(req):
    rollsplit.check(req, rollsplit.allocate(req))


@CHECKED
@given(valid_requests(with_sixty_day=True, min_directs=1))
def test_the_oracle_agrees_with_allocate_on_60_day_rollovers_and_elections_in_any_order(req):
    rollsplit.check(req, rollsplit.allocate(req))


@CHECKED
@given(boundary_requests())
def test_the_oracle_agrees_with_allocate_on_boundary_requests(req):
    rollsplit.check(req, rollsplit.allocate(req))


@CHECKED
@given(hardship_rollover_requests())
def test_hardship_with_60_day_rollovers_is_rejected_with_its_code(case):
    req, code = case
    answer = rollsplit.allocate(req)
    assert answer["error"]["code"] == code == "not_eligible_rollover_distribution"
    assert answer["error"]["field"].startswith(("rollovers_60_day[", "disbursements["))
    rollsplit.check(req, answer)
    # what a calculator that overlooks the hardship answers (a result, or another error when the rows left out
    # leave an election that no longer adds up) is judged wrong
    with pytest.raises(rollsplit.Mismatch, match="expected error 'not_eligible_rollover_distribution', got "):
        rollsplit.check(req, rollsplit.allocate({k: v for k, v in req.items() if k != "hardship"}))


# ---- seeded bugs that live only beyond the proofs' envelope ----------------------------------------------

def reverse_fill_beyond_four(req):
    """Fills five or more direct rollovers from the last one listed, instead of in the default order."""
    directs = _directs(req) if isinstance(req, dict) and isinstance(req.get("disbursements"), list) else []
    elections = (req.get("elections") or {}) if directs else {}
    if len(directs) <= PROVED_DIRECTS or "direct_pretax_order" in elections or "direct_pretax_amounts" in elections:
        return rollsplit.allocate(req)
    wrong = dict(req, elections=dict(elections, direct_pretax_order=[d["id"] for d in reversed(directs)]))
    answer = rollsplit.allocate(wrong)
    return rollsplit.allocate(req) if "error" in answer else answer   # e.g. the old rule takes no order


def amounts_by_position(req):
    """Binds the amounts of an amounts election to the rows it names in their listing order, not by id."""
    elections = req.get("elections") if isinstance(req, dict) else None
    if not isinstance(elections, dict):
        return rollsplit.allocate(req)
    wrong = dict(elections)
    for key, rows in (("direct_pretax_amounts", _directs(req)), ("sixty_day_pretax_amounts",
                                                                 req.get("rollovers_60_day", []))):
        amounts = elections.get(key)
        if isinstance(amounts, dict):
            named = [r["id"] for r in rows if r["id"] in amounts]
            if len(named) == len(amounts):
                wrong[key] = dict(zip(named, amounts.values()))
    return rollsplit.allocate(dict(req, elections=wrong))


def hardship_60_day_accepted(req):
    """Rejects a hardship distribution only when a direct rollover is in it: 60-day rollovers get a result."""
    if isinstance(req, dict) and req.get("hardship") is True and req.get("rollovers_60_day") \
            and isinstance(req.get("disbursements"), list) and not _directs(req):
        return rollsplit.allocate({k: v for k, v in req.items() if k != "hardship"})
    return rollsplit.allocate(req)


def test_the_seeded_calculators_are_right_inside_the_envelope():
    """Each seeded bug shows only beyond the envelope: on requests the proofs cover, the calculator is right."""
    inside = [r for r in valid_sample() if len(_directs(r)) <= PROVED_DIRECTS][:60]
    for req in inside:
        assert reverse_fill_beyond_four(req) == rollsplit.allocate(req)
        if not req.get("hardship"):
            assert hardship_60_day_accepted(req) == rollsplit.allocate(req)
    in_order = [r for r in valid_sample() if "elections" in r and not any(
        _out_of_order(r, k, kind) for k, kind in (("direct_pretax_amounts", "direct"),
                                                  ("sixty_day_pretax_amounts", "sixty")))]
    assert in_order
    for req in in_order[:40]:
        assert amounts_by_position(req) == rollsplit.allocate(req)


@pytest.mark.parametrize("wrong, seed, what", [
    (reverse_fill_beyond_four, 1, "more than four direct rollovers"),
    (amounts_by_position, 1, "an amounts election out of listing order"),
    (hardship_60_day_accepted, 1, "hardship with 60-day rollovers alone"),
], ids=["reverse_fill_beyond_four", "amounts_by_position", "hardship_60_day_accepted"])
def test_the_fuzzer_finds_a_bug_beyond_the_envelope(wrong, seed, what):
    report = fuzz(wrong, examples=1500, seed=seed, max_shrink_seconds=20)
    assert report.failure is not None, f"{wrong.__name__} ({what}) not found in {report.examples} examples"
    req = report.failure.request
    if wrong is reverse_fill_beyond_four:
        assert len(_directs(req)) > PROVED_DIRECTS
        assert report.failure.verdict is not None and report.failure.verdict.diffs
    elif wrong is amounts_by_position:
        assert any(_out_of_order(req, k, kind) for k, kind in (("direct_pretax_amounts", "direct"),
                                                               ("sixty_day_pretax_amounts", "sixty")))
    else:
        assert req.get("hardship") and req.get("rollovers_60_day") and not _directs(req)
        assert report.failure.expected["error"]["code"] == "not_eligible_rollover_distribution"
