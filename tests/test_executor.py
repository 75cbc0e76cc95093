"""z3 as an independent executor (solver/executor.py): results solved from the invariants alone.

The executor never runs the reference algorithm to produce a result, so agreement with the reference on
random requests is a differential test of two independent routes to the answer; the mutants show that a
wrong calculator disagrees with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from rollsplit.conformance.strategies import valid_requests
from rollsplit.reference import calculate, calculate_text
from rollsplit.reference.mutants import MUTANTS, calculate_with
from reference_helpers import direct, paid, request, sixty
from rollsplit.solver import executor
from rollsplit.spec.invariants import INVARIANTS

ROOT = Path(__file__).resolve().parent.parent


def example(name: str) -> dict:
    return json.loads((ROOT / "examples" / name).read_text())


def rows(answer: dict) -> dict:
    return {r["id"]: r for r in answer["disbursements"]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_requests())
def test_executor_equals_reference_on_random_requests(req):
    ex = executor.execute(req)
    assert ex.status == "result", (ex.status, ex.reason)
    assert ex.wire == calculate(req)
    assert ex.uniqueness == "unique"


# DOMAIN.md §3, seed 004: $100,000 account ($20,000 after-tax); $60,000 directly to an IRA, $20,000 kept:
# $16,000 after-tax + $64,000 pre-tax; the rollover all pre-tax; the $20,000 kept = $4,000 pre-tax + $16,000 after-tax.
def test_seed_004_figures_of_the_law():
    ex = executor.execute(example("seed_004.json"))
    a = ex.wire
    assert ex.uniqueness == "unique"
    assert a["distribution"] == {"amount": 8_000_000, "pretax": 6_400_000, "aftertax": 1_600_000,
                                 "basis_recovered": 1_600_000}
    assert (rows(a)["ira"]["pretax"], rows(a)["ira"]["aftertax"]) == (6_000_000, 0)
    assert (rows(a)["me"]["pretax"], rows(a)["me"]["aftertax"]) == (400_000, 1_600_000)
    assert a["taxable_income"] == 400_000
    assert a["withholding"] == 80_000   # §3405(c): 20% of the $4,000 kept


# DOMAIN.md §3, IRS FAQ Example 1: $80,000 pre-tax to a traditional IRA, $10,000 after-tax to a Roth IRA and
# $10,000 after-tax paid: nothing taxable.
def test_irs_faq_example_1():
    a = executor.execute(example("irs_faq_example1.json")).wire
    assert (rows(a)["traditional"]["pretax"], rows(a)["roth"]["pretax"], rows(a)["me"]["pretax"]) == (8_000_000, 0, 0)
    assert a["taxable_income"] == 0 and a["withholding"] == 0


# DOMAIN.md §4, the old rule (Notice 2009-68): each disbursement is its own distribution with its own pro rata
# share, 20% after-tax here: $60,000 = $12,000 after-tax + $48,000 pre-tax, $20,000 = $4,000 + $16,000.
def test_old_rule_is_solved_on_concrete_amounts():
    ex = executor.execute(example("old_regime_2014.json"))
    a = ex.wire
    assert a["regime"] == "notice_2009_68" and ex.uniqueness == "unique"
    assert (rows(a)["ira"]["pretax"], rows(a)["ira"]["aftertax"]) == (4_800_000, 1_200_000)
    assert (rows(a)["me"]["pretax"], rows(a)["me"]["aftertax"]) == (1_600_000, 400_000)
    assert a == calculate(example("old_regime_2014.json"))


def test_old_rule_largest_remainder_with_huge_amounts():
    # three equal rows of 2^51 cents and one cent of basis left over: the leftover cent goes to the first row
    third = 2**51
    req = request([direct("a", "traditional_ira", third), direct("b", "traditional_ira", third), paid("c", third)],
                  balance=3 * third, basis=3 * third - 2, date="2014-06-30", regime="notice_2009_68")
    ex = executor.execute(req)
    after = [r["aftertax"] for r in ex.wire["disbursements"]]
    assert sum(after) == 3 * third - 2 and after == [third, third - 1, third - 1]   # tie: request order
    assert ex.wire == calculate(req) and ex.uniqueness == "unique"


@pytest.mark.parametrize("req, code", [
    ("{not json", "invalid_json"), ("[]", "invalid_request"), ({"date": "2025-06-30"}, "invalid_request"),
    (request([paid("me", 100)], balance=50, basis=10), "distribution_exceeds_balance"),
    (request([paid("me", 100)], balance=500, basis=600), "basis_exceeds_balance"),
    (request([paid("me", 100)], rmd=200), "rmd_exceeds_payment"),
    (request([paid("me", 100), paid("you", 100)]), "more_than_one_payment"),
    (request([paid("me", 2**53)]), "amount_out_of_range"),
], ids=["bad-json", "array", "missing-fields", "exceeds-balance", "basis", "rmd", "two-payments", "range"])
def test_rejections_are_the_reference_errors(req, code):
    ex = executor.execute(req)
    expected = calculate_text(req) if isinstance(req, str) else calculate(req)
    assert expected["error"]["code"] == code   # the rule the request breaks, named here independently
    assert ex.status == "error" and ex.wire == expected
    assert executor.calculate(req) == expected


def test_election_that_does_not_add_up_is_rejected_by_the_invariants_too():
    # P = $64,000, so the $60,000 of direct rollovers must be all pre-tax; electing $50,000 leaves $10,000 unplaced
    req = request([direct("a", "traditional_ira", 3_000_000), direct("b", "traditional_ira", 3_000_000),
                   paid("me", 2_000_000)],
                  elections={"direct_pretax_amounts": {"a": 3_000_000, "b": 2_000_000}})
    ex = executor.execute(req)
    assert ex.wire == calculate(req) and ex.wire["error"]["code"] == "invalid_election"
    assert ex.z3_confirms_error is True


def test_aftertax_into_a_governmental_457b_is_rejected_by_the_invariants_too():
    # all after-tax account: the direct rollover to a 457(b) would carry after-tax money (§457(e)(16))
    req = request([direct("gov", "457b_gov", 1_000_000), paid("me", 1_000_000)], balance=2_000_000, basis=2_000_000)
    ex = executor.execute(req)
    assert ex.wire == calculate(req) and ex.wire["error"]["code"] == "ineligible_destination"
    assert ex.z3_confirms_error is True


def test_a_missing_invariant_makes_the_answer_not_unique(monkeypatch):
    # without WITHHOLDING nothing fixes the withholding: the uniqueness check must notice
    monkeypatch.setattr(executor, "INVARIANTS", tuple(i for i in INVARIANTS if i.id != "WITHHOLDING"))
    ex = executor.execute(example("seed_004.json"))
    assert ex.status == "result" and ex.uniqueness == "not unique"
    assert ex.alternative is not None and ex.alternative != ex.wire


@pytest.fixture(scope="module")
def suite_requests() -> list[dict]:
    return executor.suite_requests()


@pytest.mark.parametrize("name", sorted(n for n, m in MUTANTS.items() if m.where != "specification"))
def test_executor_disagrees_with_every_mutant(name, suite_requests):
    """Each classic mistake gives a different answer from the executor on some conformance request."""
    mutant = MUTANTS[name]
    candidates = ([mutant.witness] if getattr(mutant, "witness", None) else []) + suite_requests
    for req in candidates:
        theirs = calculate_with(name, req)
        if theirs != calculate(req):          # cheap filter: only then ask z3
            ex = executor.execute(req, check_unique=False)
            assert ex.wire != theirs
            if ex.status == "error" and "error" not in theirs and mutant.parse is None:
                # the mutant accepts what the law rejects: the invariants alone must reject it too
                assert ex.z3_confirms_error is True, (ex.wire, theirs)
            elif ex.status == "error" and "error" not in theirs:
                # a parser mutant: whether a request is well formed is the parser's to say, and the executor
                # rejects it with the reference's code
                assert ex.wire == calculate(req), (ex.wire, theirs)
            return
    pytest.fail(f"no request tells the mutant {name} apart")


def test_sixty_day_rollover_request_through_calculate():
    req = request([direct("ira", "traditional_ira", 3_000_000), paid("me", 5_000_000)],
                  rollovers_60_day=[sixty("back", "traditional_ira", 1_000_000)])
    assert executor.calculate(req) == calculate(req)


def test_bench_table_reports_agreement():
    reqs = [example("seed_004.json"), example("old_regime_2014.json"), request([paid("me", 100)], balance=50)]
    text, agree = executor.bench_table(reqs)
    assert agree and "every answer equals the reference's" in text
    assert "result, notice_2009_68" in text and "error" in text


def test_bench_table_flags_a_disagreement(monkeypatch):
    # an executor whose answer is not the reference's: the table must say so (and the command exit 1)
    monkeypatch.setattr(executor, "execute", lambda obj, **kw: executor.Execution(
        status="result", wire={**calculate(obj), "taxable_income": -1}, uniqueness="unique"))
    text, agree = executor.bench_table([example("seed_004.json")])
    assert not agree and "DIFFER" in text
