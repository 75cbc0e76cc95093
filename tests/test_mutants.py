"""Each seeded mutant gives a wrong answer on a request of the law's own examples, and the invariants see it.

The requests are built from DOMAIN.md figures; what is asserted is that the mutant's answer differs from
the reference's and breaks a named invariant, not the mutant's numbers.
"""

from __future__ import annotations

import pytest

from rollsplit.reference import calculate
from rollsplit.reference.mutants import MUTANTS, calculate_with, compute_with, parse_with
from rollsplit.spec.invariants import violated
from rollsplit.spec.parse import parse_request

BASE = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000, "basis": 2_000_000}


def req(disbursements, **extra):
    return {**BASE, "disbursements": disbursements, **extra}


def direct(id, to, amount, **kw):
    return {"id": id, "method": "direct", "to": to, "amount": amount, **kw}


def paid(amount):
    return {"id": "me", "method": "paid", "amount": amount}


FAQ_EXAMPLE_1 = [direct("ira", "traditional_ira", 8_000_000), direct("roth", "roth_ira", 1_000_000), paid(1_000_000)]
SEED_004 = [direct("ira", "traditional_ira", 6_000_000), paid(2_000_000)]

# mutant -> (request exposing it, an invariant its answer must break)
CASES = {
    "old_rule_per_destination": (req(SEED_004), "DIRECT-FIRST"),
    "aftertax_first": (req(SEED_004), "DIRECT-FIRST"),
    "wrong_order": (req(FAQ_EXAMPLE_1), "DEFAULT-ORDER"),
    "per_destination_rounding": ({**BASE, "balance": 4, "basis": 2, "disbursements": [
        direct("a", "traditional_ira", 1), direct("b", "traditional_ira", 1)]}, "PRORATA-ROUNDING"),
    "ignored_election": (req(FAQ_EXAMPLE_1, elections={"direct_pretax_order": ["roth"]}), "ELECTION-HONORED"),
    "untaxed_conversion": (req([direct("roth", "roth_ira", 10_000_000)]), "TAXABLE-ROW"),
    "sixty_day_ignored": (req([paid(10_000_000)], rollovers_60_day=[{"id": "r", "to": "traditional_ira",
                                                                      "amount": 5_000_000}]), "SIXTY-DAY-SECOND"),
    "floats": (MUTANTS["floats"].witness, "PRORATA-ROUNDING"),
    "truncation": ({**BASE, "balance": 3, "basis": 2, "disbursements": [paid(1)]}, "PRORATA-ROUNDING"),
    "wrong_withholding_base": (req([paid(5_000_000)]), "WITHHOLDING"),
    "withholding_on_rmd": (req([paid(5_000_000)], rmd=2_000_000), "WITHHOLDING"),
    "ignored_pre1987": (req([paid(1_000_000)], pre1987_basis=1_000_000), "PRORATA-ROUNDING"),
    "aftertax_into_457b": (req([direct("gov", "457b_gov", 10_000_000)]), "ELIGIBILITY"),
    # a $150 payment, nothing else eligible this year: under the $200 floor (Reg. §31.3405(c)-1 Q&A-14)
    "no_withholding_floor": (req([paid(15_000)]), "WITHHOLDING-DE-MINIMIS"),
    # Reg. §1.402(c)-2(g) example figures, with the cash cut to $1,000: 20% of $10,000 is more than the cash
    "offset_withholding_beyond_cash": ({**BASE, "balance": 1_000_000, "basis": 0, "disbursements": [
        {"id": "me", "method": "paid", "amount": 100_000, "loan_offset": 900_000}]}, "WITHHOLDING"),
    "zero_rows_accepted": (MUTANTS["zero_rows_accepted"].witness, "ROWS-NONZERO"),
    "dates_ignored": (MUTANTS["dates_ignored"].witness, "ROUTE-IN-FORCE"),
    "roth_rmd_after_2023": (MUTANTS["roth_rmd_after_2023"].witness, "ROTH-NO-LIFETIME-RMD"),
    "in_plan_roth_untaxed": (req([direct("irr", "in_plan_roth", 10_000_000)]), "TAXABLE-ROW"),
    "roth_cash_box7_null": ({**req(SEED_004), "contract": "designated_roth",
                             "disbursements": [direct("ira", "roth_ira", 6_000_000), paid(2_000_000)]}, "FORM-1099R"),
}


def test_every_mutant_has_a_case():
    assert set(CASES) == set(MUTANTS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_mutant_is_caught_by_an_invariant(name):
    request, invariant_id = CASES[name]
    answer = calculate_with(name, request)
    assert "error" not in answer, answer
    assert answer != calculate(request)
    req = parse_with(name, request)
    broken = {inv.id for inv in violated(req, compute_with(name, req))}
    assert invariant_id in broken, broken


def test_the_reference_rejects_what_the_457b_mutant_accepts():
    request, _ = CASES["aftertax_into_457b"]
    assert calculate(request)["error"]["code"] == "ineligible_destination"


@pytest.mark.parametrize("name", sorted(MUTANTS))
@pytest.mark.parametrize("garbage", ["{", b"\xff", "[]", {"date": 1}, None])
def test_calculate_with_never_raises(name, garbage):
    assert "error" in calculate_with(name, garbage)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_agrees_with_reference_where_its_mistake_does_not_matter(name):
    # all after-tax-free, one direct rollover to a traditional IRA of the whole balance, no elections
    request = {**BASE, "basis": 0, "disbursements": [direct("ira", "traditional_ira", 10_000_000)]}
    assert calculate_with(name, request) == calculate(request)


def test_patching_does_not_leak_into_the_reference():
    import rollsplit.reference.algorithm as alg
    before = (alg.basis_recovered, alg.direct_pretax_total, alg.law, alg.direct_fill_order)
    for name in MUTANTS:
        calculate_with(name, CASES[name][0])
    assert (alg.basis_recovered, alg.direct_pretax_total, alg.law, alg.direct_fill_order) == before


@pytest.mark.parametrize("name, code", [("zero_rows_accepted", "zero_amount"), ("dates_ignored", "before_effective_date"),
                                        ("roth_rmd_after_2023", "rmd_not_required")])
def test_the_reference_rejects_what_the_parser_mutants_accept(name, code):
    assert calculate(MUTANTS[name].witness)["error"]["code"] == code
    assert "error" not in calculate_with(name, MUTANTS[name].witness)
