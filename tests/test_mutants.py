"""Each seeded mutant gives a wrong answer on a request of the law's own examples, and the invariants see it.

The requests are built from DOMAIN.md figures; what is asserted is that the mutant's answer differs from
the reference's and breaks a named invariant, not the mutant's numbers.
"""

from __future__ import annotations

import json

import pytest

from rollsplit.reference import calculate
from rollsplit.reference.mutants import MUTANTS, calculate_with, compute_with, parse_with
from rollsplit.solver.replay import contract_accepts
from rollsplit.spec.invariants import violated
from rollsplit.spec.model import result_from_wire
from rollsplit.spec.parse import parse_request
from rollsplit.spec.validity import structure_problem

BASE = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000, "basis": 2_000_000}


def req(disbursements, **extra):
    return {**BASE, "disbursements": disbursements, **extra}


def direct(id, to, amount, **kw):
    return {"id": id, "method": "direct", "to": to, "amount": amount, **kw}


def paid(amount):
    return {"id": "me", "method": "paid", "amount": amount}


FAQ_EXAMPLE_1 = [direct("ira", "traditional_ira", 8_000_000), direct("roth", "roth_ira", 1_000_000), paid(1_000_000)]
SEED_004 = [direct("ira", "traditional_ira", 6_000_000), paid(2_000_000)]

OLD_RULE_CENTS = {**BASE, "date": "2014-06-30", "regime": "notice_2009_68", "balance": 3, "basis": 1,
                  "disbursements": [direct("ira", "traditional_ira", 1), paid(2)]}

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
    # $45,000 to a traditional IRA and $45,000 to a Roth IRA, $80,000 of it pre-tax: the participant elects $35,000
    # of pre-tax money into the Roth IRA and $45,000 into the traditional IRA, the election's keys written Roth IRA
    # first (the rows: traditional IRA first)
    "election_money_by_key_order": (req([direct("ira", "traditional_ira", 4_500_000),
                                         direct("roth", "roth_ira", 4_500_000), paid(1_000_000)],
                                        elections={"direct_pretax_amounts": {"roth": 3_500_000, "ira": 4_500_000}}),
                                    "ELECTION-HONORED"),
    "writer_swaps_pretax_aftertax": (req(SEED_004), "CONSERVE-TOTAL"),
    "default_order_table_swapped": (req(FAQ_EXAMPLE_1), "DEFAULT-ORDER"),
    "hardship_rollover_accepted": ({**req([paid(5_000_000)], hardship=True),
                                    "rollovers_60_day": [{"id": "r", "to": "traditional_ira", "amount": 1_000_000}]},
                                   "PARSE"),
    "rejects_full_distribution": ({**req(SEED_004), "balance": 8_000_000}, "VALIDITY"),
    "any_rule_any_date": (MUTANTS["any_rule_any_date"].witness, "PARSE"),
    "reverse_beyond_four": (req([direct(f"d{i}", ("traditional_ira", "roth_ira")[i % 2], 1_000_000)
                                 for i in range(5)] + [paid(1_000_000)]), "DEFAULT-ORDER"),
    "negative_remaining": (req(SEED_004), "NONNEGATIVE"),
    "qualified_roth_ignored": ({**req([direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]),
                                "contract": "designated_roth", "qualified_roth": True}, "AFTERTAX-TOTAL"),
    "sixty_day_taxable_left_out": (req([paid(5_000_000)], rollovers_60_day=[{"id": "r", "to": "roth_ira",
                                                                              "amount": 1_000_000}]), "TAXABLE-SUM"),
    # the old rule, 1 and 2 cents out of 3, 1 cent of basis: shares 1/3 and 2/3 of a cent, the leftover cent goes
    # to the larger remainder (the second row), not to the first
    "leftover_cents_in_order": (OLD_RULE_CENTS, "OLD-RULE-PRORATA"),
    "writer_swaps_row_ids": (req(SEED_004), "CONSERVE-ROW"),
    "writer_fixed_regime": (OLD_RULE_CENTS, "REGIME"),
    # contract 1.2
    "nonspouse_sixty_day_accepted": (MUTANTS["nonspouse_sixty_day_accepted"].witness, "PARSE"),
    "recipient_ignored": ({**req([direct("ira", "traditional_ira", 6_000_000), paid(2_000_000)]),
                           "recipient": "nonspouse_beneficiary"}, "ELIGIBILITY"),
    "beneficiary_age_code": ({**req(SEED_004), "recipient": "spouse_beneficiary"}, "FORM-1099R"),
    "event_code_beside_g": ({**req(SEED_004), "participant": {"birth_date": "1950-01-01"}}, "FORM-1099R"),
    "box11_left_out": ({**req([direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]),
                        "contract": "designated_roth", "participant": {"first_roth_contribution_year": 2024}},
                       "FORM-1099R"),
    # a weakened specification: the calculator is right, the rules no longer pin box 7 (see test_solver_prove)
    "form_1099r_box7_unchecked": (req(SEED_004), None),
}
WHERE_THE_MISTAKE_IS_NOT_IN_THE_ANSWER = {"form_1099r_box7_unchecked"}
REJECTS_MORE = {"rejects_full_distribution"}     # its mistake is an error where the contract gives a result


def test_every_mutant_has_a_case():
    assert set(CASES) == set(MUTANTS)


@pytest.mark.parametrize("name", sorted(set(CASES) - WHERE_THE_MISTAKE_IS_NOT_IN_THE_ANSWER - REJECTS_MORE))
def test_mutant_is_caught_by_an_invariant(name):
    request, invariant_id = CASES[name]
    answer = calculate_with(name, request)
    assert "error" not in answer, answer
    assert answer != calculate(request)
    if invariant_id == "PARSE":   # answered, where the contract's structural rules give an error
        assert structure_problem(request) == calculate(request)["error"]["code"]
        return
    req = parse_with(name, request)
    broken = {inv.id for inv in violated(req, result_from_wire(answer))}   # the answer as written
    assert invariant_id in broken, broken


def test_the_over_strict_mutant_rejects_what_the_contract_accepts():
    request, _ = CASES["rejects_full_distribution"]
    assert calculate_with("rejects_full_distribution", request)["error"]["code"] == "distribution_exceeds_balance"
    assert "error" not in calculate(request) and contract_accepts(request)


def test_the_weakened_specification_admits_a_wrong_box7():
    from rollsplit.reference.mutants import MUTANTS
    request, _ = CASES["form_1099r_box7_unchecked"]
    answer = calculate(request)
    wrong = json.loads(json.dumps(answer))
    wrong["disbursements"][0]["form_1099r"]["box7"] = "H"
    req = parse_request(request)
    assert {inv.id for inv in violated(req, result_from_wire(wrong))} == {"FORM-1099R"}
    with MUTANTS["form_1099r_box7_unchecked"].active():
        assert violated(req, result_from_wire(wrong)) == []


def test_the_reference_rejects_what_the_457b_mutant_accepts():
    request, _ = CASES["aftertax_into_457b"]
    assert calculate(request)["error"]["code"] == "ineligible_destination"


@pytest.mark.parametrize("name", sorted(MUTANTS))
@pytest.mark.parametrize("garbage", ["{", b"\xff", "[]", {"date": 1}, None])
def test_calculate_with_never_raises(name, garbage):
    assert "error" in calculate_with(name, garbage)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_agrees_with_reference_where_its_mistake_does_not_matter(name):
    # all after-tax-free, one direct rollover to a traditional IRA, no elections (of the whole balance, but for
    # the mutant whose mistake is to reject that)
    rolled = 10_000_000 if name != "rejects_full_distribution" else 9_000_000
    # (half of it after-tax for the writer that swaps the two: equal parts look the same swapped)
    basis = 5_000_000 if name == "writer_swaps_pretax_aftertax" else 0
    request = {**BASE, "basis": basis, "disbursements": [direct("ira", "traditional_ira", rolled)]}
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
