"""Rules 1-10 of wire contract v1 (issue 2), each on requests whose figures are worked by hand from the rule text.

The expected numbers are computed in the comments (or, for products beyond 2^64, with exact fractions in the
test), never taken from running the calculator.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from reference_helpers import direct, error, paid, request, result, rows, sixty, split
from rollsplit.spec.law import MAX_CENTS


# ---- rule 1: one distribution of all disbursements ---------------------------------------------------------------
def test_rule1_distribution_is_the_sum_of_disbursements():
    # 30,000 + 20,000 + 10,000 = 60,000 of a 100,000 balance
    a = result(request([direct("a", "traditional_ira", 3_000_000), direct("b", "roth_ira", 2_000_000),
                        paid("me", 1_000_000)]))
    assert a["distribution"]["amount"] == 6_000_000
    assert a["remaining"]["balance"] == 10_000_000 - 6_000_000


def test_rule1_whole_balance_may_be_distributed():
    a = result(request([paid("me", 10_000_000)]))
    assert a["distribution"]["amount"] == 10_000_000
    assert a["remaining"] == {"balance": 0, "basis": 0, "pre1987_basis": 0}


def test_rule1_more_than_the_balance_is_rejected():
    assert error(request([paid("me", 10_000_001)]))["code"] == "distribution_exceeds_balance"


# ---- rule 2: basis recovered, §72(e)(8) -----------------------------------------------------------------------
def test_rule2_pro_rata_irs_faq_seed():
    # $100,000 balance, $20,000 basis; $50,000 distributed: 50,000 * 20,000 / 100,000 = $10,000 after-tax
    a = result(request([paid("me", 5_000_000)]))
    assert a["distribution"] == {"amount": 5_000_000, "pretax": 4_000_000, "aftertax": 1_000_000,
                                 "basis_recovered": 1_000_000}


@pytest.mark.parametrize("balance, basis, amount, expected", [
    (300, 100, 100, 33),    # 100*100/300 = 33.33 -> 33
    (300, 100, 200, 67),    # 200*100/300 = 66.67 -> 67
    (400, 100, 200, 50),    # exact
    (400, 100, 2, 1),       # 2*100/400 = 0.5 -> 1 (half rounds up)
    (400, 100, 6, 2),       # 6*100/400 = 1.5 -> 2 (half rounds up, not to even)
    (400, 300, 1, 1),       # 0.75 -> 1
    (1000, 1, 499, 0),      # 0.499 -> 0
    (1000, 1, 500, 1),      # 0.5 -> 1
])
def test_rule2_round_half_up_to_the_cent(balance, basis, amount, expected):
    a = result(request([paid("me", amount)], balance=balance, basis=basis))
    assert a["distribution"]["basis_recovered"] == expected
    assert a["distribution"]["aftertax"] == expected
    assert a["distribution"]["pretax"] == amount - expected


def test_rule2_exact_beyond_64_bits():
    # D * basis is about 2^105: the quotient must be exact, as (2xy + z) // 2z
    balance, basis, amount = MAX_CENTS, MAX_CENTS - 12345, MAX_CENTS - 7
    exact = Fraction(amount * basis, balance)
    expected = math.floor(exact + Fraction(1, 2))
    a = result(request([paid("me", amount)], balance=balance, basis=basis))
    assert a["distribution"]["basis_recovered"] == expected
    assert abs(Fraction(expected) - exact) <= Fraction(1, 2)


def test_rule2_pre1987_basis_comes_out_first():
    # balance 100,000, basis 30,000 of which 10,000 pre-1987; D = 50,000
    # pre = min(50,000, 10,000) = 10,000; share = 40,000 * 20,000 / 90,000 = 8,888.888.. -> 8,888.89
    a = result(request([direct("ira", "traditional_ira", 5_000_000)], basis=3_000_000, pre1987_basis=1_000_000))
    assert a["distribution"]["basis_recovered"] == 1_000_000 + 888_889
    assert a["remaining"] == {"balance": 5_000_000, "basis": 3_000_000 - 1_888_889, "pre1987_basis": 0}


def test_rule2_distribution_smaller_than_pre1987_basis_is_all_basis():
    # pre = min(4,000, 10,000) = 4,000; the pro rata term is on D - pre = 0
    a = result(request([paid("me", 400_000)], basis=3_000_000, pre1987_basis=1_000_000))
    assert a["distribution"] == {"amount": 400_000, "pretax": 0, "aftertax": 400_000, "basis_recovered": 400_000}
    assert a["remaining"]["pre1987_basis"] == 600_000
    assert a["taxable_income"] == 0


def test_rule2_zero_denominator_gives_zero_pro_rata_term():
    # balance == basis == pre1987_basis: everything is pre-1987 basis; denominator 0
    a = result(request([paid("me", 1_000)], balance=5_000, basis=5_000, pre1987_basis=5_000))
    assert a["distribution"]["basis_recovered"] == 1_000


@pytest.mark.parametrize("balance, basis, pre1987", [(7, 3, 0), (3, 1, 0), (10_000_001, 3_333_333, 1), (9, 9, 4)])
def test_rule2_full_distribution_recovers_exactly_the_basis(balance, basis, pre1987):
    a = result(request([paid("me", balance)], balance=balance, basis=basis, pre1987_basis=pre1987))
    assert a["distribution"]["basis_recovered"] == basis
    assert a["remaining"] == {"balance": 0, "basis": 0, "pre1987_basis": 0}


def test_rule2_qualified_roth_is_all_aftertax():
    # designated Roth, qualified: T = D = 10,000; basis recovered still 10,000 * 40,000 / 50,000 = 8,000
    a = result(request([paid("me", 1_000_000)], balance=5_000_000, basis=4_000_000, contract="designated_roth",
                       qualified_roth=True))
    assert a["distribution"] == {"amount": 1_000_000, "pretax": 0, "aftertax": 1_000_000, "basis_recovered": 800_000}
    assert a["taxable_income"] == 0 and a["withholding"] == 0
    assert a["remaining"]["basis"] == 4_000_000 - 800_000


def test_rule2_nonqualified_roth_earnings_are_pretax():
    # T = 10,000 * 40,000 / 50,000 = 8,000; P = 2,000 taxable; withholding 20% = 400
    a = result(request([paid("me", 1_000_000)], balance=5_000_000, basis=4_000_000, contract="designated_roth"))
    assert a["distribution"]["pretax"] == 200_000
    assert a["taxable_income"] == 200_000 and a["withholding"] == 40_000


# ---- rule 3: the RMD is paid out, after-tax first ---------------------------------------------------------------
def test_rule3_rmd_covered_by_aftertax_keeps_payment_rollable():
    # seed 004 + RMD 10,000: T = 16,000, P = 64,000; direct 60,000 all pre-tax; paid 4,000 pre + 16,000 after
    # rmd_pretax = max(0, 10,000 - 16,000) = 0; withholding 20% * 4,000 = 800
    a = result(request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)], rmd=1_000_000))
    assert split(a, "me") == (400_000, 1_600_000)
    assert a["withholding"] == 80_000


def test_rule3_rmd_beyond_aftertax_has_a_pretax_part_that_is_not_withheld_and_not_rollable():
    # balance 200,000, basis 20,000; D = 40,000 direct + 60,000 paid = 100,000: T = 10,000, P = 90,000
    # RMD 15,000: rmd_pretax = max(0, 15,000 - 10,000) = 5,000
    # direct pre-tax = min(90,000 - 5,000, 40,000) = 40,000; paid 50,000 pre + 10,000 after
    # rollable = 50,000 - 5,000 = 45,000; 60-day 20,000 + 15,000 = 35,000 all pre-tax
    # withholding = 20% * 45,000 = 9,000; paid taxable = 50,000 - 35,000 = 15,000; Roth conversion 15,000
    req = request([direct("ira", "traditional_ira", 4_000_000), paid("me", 6_000_000)], balance=20_000_000,
                  rmd=1_500_000, rollovers_60_day=[sixty("t", "traditional_ira", 2_000_000),
                                                   sixty("r", "roth_ira", 1_500_000)])
    a = result(req)
    assert split(a, "ira") == (4_000_000, 0)
    assert split(a, "me") == (5_000_000, 1_000_000)
    assert split(a, "t") == (2_000_000, 0) and split(a, "r") == (1_500_000, 0)
    assert a["withholding"] == 900_000
    assert rows(a)["me"]["taxable"] == 1_500_000 and rows(a)["r"]["taxable"] == 1_500_000
    assert a["taxable_income"] == 3_000_000


def test_rule3_payment_equal_to_rmd_keeps_all_aftertax_and_nothing_rollable():
    # balance 100,000, basis 5,000, D = balance: T = 5,000, P = 95,000; RMD 10,000 = paid
    # direct = min(95,000 - 5,000, 90,000) = 90,000; paid 5,000 pre + 5,000 after; rmd_pretax 5,000
    # withholding 20% * (5,000 - 5,000) = 0; taxable 5,000
    a = result(request([direct("ira", "traditional_ira", 9_000_000), paid("me", 1_000_000)], basis=500_000,
                       rmd=1_000_000))
    assert split(a, "me") == (500_000, 500_000)
    assert a["withholding"] == 0 and a["taxable_income"] == 500_000


def test_rule3_rmd_larger_than_payment_is_rejected():
    e = error(request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)], rmd=2_000_001))
    assert (e["code"], e["field"]) == ("rmd_exceeds_payment", "rmd")


# ---- rule 4: pre-tax to direct rollovers first ----------------------------------------------------------------
def test_rule4_direct_rollovers_take_all_pretax_when_they_can():
    # seed 004: P = 64,000 > 60,000 direct: the direct rollover is all pre-tax, the rest goes to the payment
    a = result(request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)]))
    assert split(a, "ira") == (6_000_000, 0) and split(a, "me") == (400_000, 1_600_000)


def test_rule4_default_order_plans_without_aftertax_then_traditional_then_roth():
    # balance 100,000, basis 40,000, full distribution: T = 40,000, P = 60,000; directs 3 x 30,000 = 90,000
    # order: 457b_gov (a) 30,000, traditional_ira (b) 30,000, roth_ira (c) 0 -> roth 30,000 after-tax
    a = result(request([direct("roth", "roth_ira", 3_000_000), direct("trad", "traditional_ira", 3_000_000),
                        direct("gov", "457b_gov", 3_000_000), paid("me", 1_000_000)], basis=4_000_000))
    assert split(a, "gov") == (3_000_000, 0)
    assert split(a, "trad") == (3_000_000, 0)
    assert split(a, "roth") == (0, 3_000_000)
    assert split(a, "me") == (0, 1_000_000)
    assert a["taxable_income"] == 0


def test_rule4_plan_refusing_aftertax_ranks_before_plan_accepting_it():
    # P = 60,000 (as above); qualified_plan without after-tax (a) gets 40,000 first, then the one accepting it (b)
    a = result(request([direct("open", "qualified_plan", 4_000_000),
                        direct("closed", "qualified_plan", 4_000_000, accepts_aftertax=False),
                        paid("me", 2_000_000)], basis=4_000_000))
    assert split(a, "closed") == (4_000_000, 0)
    assert split(a, "open") == (2_000_000, 2_000_000)


def test_rule4_ties_in_request_order():
    # P = 60,000 over two traditional IRAs of 40,000: the first listed is filled first
    a = result(request([direct("second", "traditional_ira", 4_000_000), direct("first", "traditional_ira", 4_000_000),
                        paid("me", 2_000_000)], basis=4_000_000))
    assert split(a, "second") == (4_000_000, 0)
    assert split(a, "first") == (2_000_000, 2_000_000)


def test_rule4_pretax_smaller_than_direct_rollovers_leaves_payment_all_aftertax():
    # IRS FAQ example 1 shape with a smaller direct: P = 80,000, directs 85,000 + 5,000
    a = result(request([direct("ira", "traditional_ira", 8_500_000), direct("roth", "roth_ira", 500_000),
                        paid("me", 1_000_000)]))
    assert split(a, "ira") == (8_000_000, 500_000)
    assert split(a, "roth") == (0, 500_000) and split(a, "me") == (0, 1_000_000)


def test_rule4_order_election_fills_listed_first_then_default():
    # P = 60,000; elect the Roth IRA first: roth 30,000 pre-tax (a conversion, taxable), then the default order:
    # trad 30,000 pre-tax, plan 0 -> plan 30,000 after-tax
    a = result(request([direct("trad", "traditional_ira", 3_000_000), direct("plan", "qualified_plan", 3_000_000),
                        direct("roth", "roth_ira", 3_000_000), paid("me", 1_000_000)], basis=4_000_000,
                       elections={"direct_pretax_order": ["roth"]}))
    assert split(a, "roth") == (3_000_000, 0)
    assert split(a, "trad") == (3_000_000, 0)
    assert split(a, "plan") == (0, 3_000_000)
    assert rows(a)["roth"]["taxable"] == 3_000_000 and a["taxable_income"] == 3_000_000


def test_rule4_amounts_election_is_exact():
    # P = 60,000 must be split exactly: trad 45,000 + roth 15,000 (roth conversion taxable 15,000)
    a = result(request([direct("trad", "traditional_ira", 6_000_000), direct("roth", "roth_ira", 3_000_000),
                        paid("me", 1_000_000)], basis=4_000_000,
                       elections={"direct_pretax_amounts": {"trad": 4_500_000, "roth": 1_500_000}}))
    assert split(a, "trad") == (4_500_000, 1_500_000)
    assert split(a, "roth") == (1_500_000, 1_500_000)
    assert a["taxable_income"] == 1_500_000


def test_rule4_amounts_election_must_add_up():
    e = error(request([direct("trad", "traditional_ira", 6_000_000), direct("roth", "roth_ira", 3_000_000),
                       paid("me", 1_000_000)], basis=4_000_000,
                      elections={"direct_pretax_amounts": {"trad": 4_500_000, "roth": 1_400_000}}))
    assert (e["code"], e["field"]) == ("invalid_election", "elections.direct_pretax_amounts")


def test_rule4_amounts_election_may_not_exceed_the_rollover():
    e = error(request([direct("trad", "traditional_ira", 6_000_000), direct("roth", "roth_ira", 3_000_000),
                       paid("me", 1_000_000)], basis=4_000_000,
                      elections={"direct_pretax_amounts": {"trad": 2_000_000, "roth": 4_000_000}}))
    assert (e["code"], e["field"]) == ("invalid_election", "elections.direct_pretax_amounts.roth")


def test_rule4_designated_roth_default_order_is_request_order():
    # Roth contract, balance 50,000 basis 40,000, full: P = 10,000; request order: the designated Roth plan first
    a = result(request([direct("plan", "designated_roth", 2_000_000), direct("ira", "roth_ira", 3_000_000)],
                       balance=5_000_000, basis=4_000_000, contract="designated_roth"))
    assert split(a, "plan") == (1_000_000, 1_000_000)
    assert split(a, "ira") == (0, 3_000_000)


# ---- rule 5: the payment and withholding ---------------------------------------------------------------------
@pytest.mark.parametrize("pretax, withheld", [(3, 1), (2, 0), (7, 1), (8, 2), (5, 1), (100_000, 20_000)])
def test_rule5_withholding_is_20_percent_rounded_half_up(pretax, withheld):
    # basis 0: the payment is all pre-tax; 20% of 3 = 0.6 -> 1, of 2 = 0.4 -> 0, of 7 = 1.4 -> 1, of 8 = 1.6 -> 2
    # ($200 of other eligible rollover distributions this year: the $200 floor is reached)
    a = result(request([paid("me", pretax)], balance=10_000_000, basis=0, other_eligible_this_year=20_000))
    assert rows(a)["me"]["withholding"] == withheld and a["withholding"] == withheld


# Reg. §31.3405(c)-1 Q&A-14: no mandatory withholding while the eligible rollover distributions received from the
# plan in the year total less than $200; Q&A-6: a direct rollover is not received.
@pytest.mark.parametrize("kw, withheld", [
    (dict(disbursements=[paid("me", 19_999)]), 0),                                   # $199.99
    (dict(disbursements=[paid("me", 20_000)]), 4_000),                               # $200.00: 20% = $40
    (dict(disbursements=[paid("me", 150)]), 0),                                      # $1.50
    (dict(disbursements=[paid("me", 15_000)], other_eligible_this_year=5_000), 3_000),   # $150 + $50
    (dict(disbursements=[paid("me", 15_000)], other_eligible_this_year=4_999), 0),       # $150 + $49.99
    (dict(disbursements=[direct("ira", "traditional_ira", 1_000_000), paid("me", 150)]), 0),
    (dict(disbursements=[paid("me", 25_000)], rmd=6_000), 0),                       # $190 eligible
    (dict(disbursements=[paid("me", 26_000)], rmd=6_000), 4_000),                   # $200 eligible: 20% of $200
])
def test_rule5_no_withholding_under_200_dollars_a_year(kw, withheld):
    disbursements = kw.pop("disbursements")
    a = result(request(disbursements, balance=10_000_000, basis=0, **kw))
    assert rows(a)["me"]["withholding"] == withheld and a["withholding"] == withheld
    assert rows(a)["me"]["form_1099r"]["box4"] == withheld


def test_rule5_the_floor_counts_after_tax_money_received():
    # $200 paid from a $1,000 account with $900 basis: T = $180, P = $20; the $200 received reaches the floor,
    # and 20% of the $20 pre-tax ($4) is withheld
    a = result(request([paid("me", 20_000)], balance=100_000, basis=90_000))
    assert split(a, "me") == (2_000, 18_000) and a["withholding"] == 400


def test_rule5_other_eligible_this_year_must_be_money():
    assert error(request([paid("me", 150)], other_eligible_this_year=-1))["code"] == "amount_out_of_range"
    assert error(request([paid("me", 150)], other_eligible_this_year="1"))["code"] == "invalid_request"


def test_rule5_direct_rollovers_are_not_withheld_even_to_a_roth_ira():
    a = result(request([direct("roth", "roth_ira", 5_000_000)], basis=0))
    assert rows(a)["roth"]["taxable"] == 5_000_000
    assert rows(a)["roth"]["withholding"] == 0 and a["withholding"] == 0


def test_rule5_hardship_is_not_withheld():
    # a hardship payment of 10,000 with T = 2,000: 8,000 taxable, no mandatory withholding
    a = result(request([paid("me", 1_000_000)], hardship=True))
    assert split(a, "me") == (800_000, 200_000)
    assert a["taxable_income"] == 800_000 and a["withholding"] == 0


# ---- rule 6: 60-day rollovers take the payment's pre-tax first ---------------------------------------------------
def test_rule6_default_order_employer_plan_then_traditional_then_roth():
    # whole balance paid: T = 20,000, P = 80,000; 60-day: roth 50,000, trad 40,000, plan 10,000 (sum 100,000)
    # plan 10,000 pre; trad 40,000 pre; roth 30,000 pre + 20,000 after (30,000 converted, taxable)
    # paid taxable = 80,000 - 80,000 = 0; withholding 20% * 80,000 = 16,000
    a = result(request([paid("me", 10_000_000)], rollovers_60_day=[
        sixty("roth", "roth_ira", 5_000_000), sixty("trad", "traditional_ira", 4_000_000),
        sixty("plan", "qualified_plan", 1_000_000)]))
    assert split(a, "plan") == (1_000_000, 0)
    assert split(a, "trad") == (4_000_000, 0)
    assert split(a, "roth") == (3_000_000, 2_000_000)
    assert rows(a)["me"]["taxable"] == 0 and rows(a)["roth"]["taxable"] == 3_000_000
    assert a["taxable_income"] == 3_000_000 and a["withholding"] == 1_600_000


def test_rule6_rollovers_smaller_than_pretax_are_all_pretax():
    # paid 20,000 (seed 004): 4,000 pre-tax; a 3,000 60-day rollover is all pre-tax; 1,000 stays taxable
    a = result(request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)],
                       rollovers_60_day=[sixty("r", "traditional_ira", 300_000)]))
    assert split(a, "r") == (300_000, 0)
    assert rows(a)["me"]["taxable"] == 100_000 and a["taxable_income"] == 100_000
    assert a["withholding"] == 80_000  # withheld on the 4,000 at payment time


def test_rule6_order_and_amount_elections():
    # whole balance paid (P = 80,000); 60-day trad 50,000 + roth 50,000
    base = dict(rollovers_60_day=[sixty("trad", "traditional_ira", 5_000_000), sixty("roth", "roth_ira", 5_000_000)])
    a = result(request([paid("me", 10_000_000)], **base))  # default: trad 50,000 pre; roth 30,000 pre + 20,000 after
    assert split(a, "trad") == (5_000_000, 0) and split(a, "roth") == (3_000_000, 2_000_000)
    a = result(request([paid("me", 10_000_000)], elections={"sixty_day_pretax_order": ["roth"]}, **base))
    assert split(a, "roth") == (5_000_000, 0) and split(a, "trad") == (3_000_000, 2_000_000)
    assert a["taxable_income"] == 5_000_000


def test_rule6_amounts_election_must_add_up():
    req = request([paid("me", 10_000_000)],
                  rollovers_60_day=[sixty("trad", "traditional_ira", 5_000_000), sixty("roth", "roth_ira", 5_000_000)],
                  elections={"sixty_day_pretax_amounts": {"roth": 1_000_000, "trad": 5_000_000}})
    e = error(req)
    assert (e["code"], e["field"]) == ("invalid_election", "elections.sixty_day_pretax_amounts")
    req["elections"] = {"sixty_day_pretax_amounts": {"roth": 3_000_000, "trad": 5_000_000}}
    a = result(req)
    assert split(a, "roth") == (3_000_000, 2_000_000) and split(a, "trad") == (5_000_000, 0)


def test_rule6_rollovers_beyond_payment_less_rmd_are_rejected():
    e = error(request([paid("me", 2_000_000)], rmd=500_000,
                      rollovers_60_day=[sixty("r", "traditional_ira", 1_500_001)]))
    assert (e["code"], e["field"]) == ("sixty_day_exceeds_payment", "rollovers_60_day")


def test_rule6_rollovers_need_a_payment():
    e = error(request([direct("ira", "traditional_ira", 1_000)], rollovers_60_day=[sixty("r", "roth_ira", 1)]))
    assert e["code"] == "sixty_day_without_payment"


# ---- rule 7: eligibility ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("to, kw", [("457b_gov", {}), ("qualified_plan", {"accepts_aftertax": False}),
                                    ("403b", {"accepts_aftertax": False})])
def test_rule7_aftertax_may_not_go_to_plans_that_do_not_take_it(to, kw):
    # a direct rollover of 90,000 alone: T = 90,000 * 20,000 / 100,000 = 18,000 of after-tax money would land there
    e = error(request([direct("x", to, 9_000_000, **kw)]))
    assert (e["code"], e["field"]) == ("ineligible_destination", "disbursements[0]")


@pytest.mark.parametrize("to, kw", [("457b_gov", {}), ("qualified_plan", {"accepts_aftertax": False})])
def test_rule7_plans_refusing_aftertax_may_take_pretax(to, kw):
    # seed 004 shape: P = 64,000 covers the 60,000 direct rollover; the after-tax money stays in the payment
    a = result(request([direct("x", to, 6_000_000, **kw), paid("me", 2_000_000)]))
    assert split(a, "x") == (6_000_000, 0)


def test_rule7_aftertax_to_a_plan_that_accepts_it_directly():
    # D = 90,000: T = 18,000, P = 72,000
    a = result(request([direct("x", "403b", 9_000_000)]))
    assert split(a, "x") == (7_200_000, 1_800_000)


def test_rule7_aftertax_to_a_plan_by_60_day_rollover_is_ineligible():
    # whole balance paid; a 60-day rollover of 90,000 to a plan would carry 10,000 after-tax
    e = error(request([paid("me", 10_000_000)], rollovers_60_day=[sixty("p", "qualified_plan", 9_000_000)]))
    assert (e["code"], e["field"]) == ("ineligible_destination", "rollovers_60_day[0]")


def test_rule7_pretax_of_a_pretax_aftertax_contract_never_to_designated_roth():
    e = error(request([direct("x", "designated_roth", 100)]))
    assert e["code"] == "ineligible_destination"
    e = error(request([paid("me", 1_000_000)], rollovers_60_day=[sixty("x", "designated_roth", 100)]))
    assert e["code"] == "ineligible_destination"


@pytest.mark.parametrize("to", ["traditional_ira", "qualified_plan", "403b", "457b_gov"])
def test_rule7_roth_money_only_to_roth_destinations(to):
    e = error(request([direct("x", to, 100)], balance=5_000_000, basis=4_000_000, contract="designated_roth"))
    assert (e["code"], e["field"]) == ("ineligible_destination", "disbursements[0]")


def test_rule7_roth_60_day_rollover_to_designated_roth_only_its_earnings():
    # Roth: balance 50,000, basis 40,000, whole paid: P = 10,000 earnings
    base = dict(balance=5_000_000, basis=4_000_000, contract="designated_roth")
    a = result(request([paid("me", 5_000_000)], rollovers_60_day=[sixty("x", "designated_roth", 1_000_000)], **base))
    assert split(a, "x") == (1_000_000, 0)
    e = error(request([paid("me", 5_000_000)], rollovers_60_day=[sixty("x", "designated_roth", 1_000_001)], **base))
    assert (e["code"], e["field"]) == ("ineligible_destination", "rollovers_60_day[0]")


def test_rule7_hardship_may_not_be_rolled_over():
    e = error(request([direct("ira", "traditional_ira", 100), paid("me", 100)], hardship=True))
    assert (e["code"], e["field"]) == ("not_eligible_rollover_distribution", "disbursements[0]")


# ---- rule 8: taxable -------------------------------------------------------------------------------------------
def test_rule8_taxable_per_row():
    # IRS FAQ example 1 but the Roth IRA gets pre-tax by election: roth 10,000 pre-tax is a conversion
    # P = 80,000: elected roth 10,000 + trad 70,000; trad 80,000 = 70,000 pre + 10,000 after
    a = result(request([direct("trad", "traditional_ira", 8_000_000), direct("roth", "roth_ira", 1_000_000),
                        paid("me", 1_000_000)], elections={"direct_pretax_order": ["roth"]}))
    assert rows(a)["roth"]["taxable"] == 1_000_000
    assert rows(a)["trad"]["taxable"] == 0
    assert rows(a)["me"]["taxable"] == 0
    assert a["taxable_income"] == 1_000_000


def test_rule8_roth_contract_to_roth_ira_is_not_taxable():
    a = result(request([direct("ira", "roth_ira", 5_000_000)], balance=5_000_000, basis=4_000_000,
                       contract="designated_roth"))
    assert rows(a)["ira"]["pretax"] == 1_000_000 and rows(a)["ira"]["taxable"] == 0


def test_rule8_sixty_day_to_roth_ira_from_roth_contract_is_not_taxable():
    base = dict(balance=5_000_000, basis=4_000_000, contract="designated_roth")
    a = result(request([paid("me", 5_000_000)], rollovers_60_day=[sixty("x", "roth_ira", 5_000_000)], **base))
    assert rows(a)["x"] == {"id": "x", "pretax": 1_000_000, "aftertax": 4_000_000, "taxable": 0}
    assert rows(a)["me"]["taxable"] == 0 and a["taxable_income"] == 0


# ---- rule 9: Form 1099-R --------------------------------------------------------------------------------------
def test_rule9_form_1099r_boxes_of_direct_rollovers():
    # D = 50,000 + 20,000 + 10,000 = 80,000: T = 16,000, P = 64,000 < 70,000 of direct rollovers
    # elected: roth 14,000 + trad 50,000 = 64,000; roth 14,000 pre + 6,000 after; paid 0 pre + 10,000 after
    a = result(request([direct("trad", "traditional_ira", 5_000_000), direct("roth", "roth_ira", 2_000_000),
                        paid("me", 1_000_000)], elections={"direct_pretax_amounts": {"roth": 1_400_000,
                                                                                     "trad": 5_000_000}}))
    r = rows(a)
    assert r["trad"]["form_1099r"] == {"box1": 5_000_000, "box2a": 0, "box4": 0, "box5": 0, "box7": "G"}
    assert r["roth"]["form_1099r"] == {"box1": 2_000_000, "box2a": 1_400_000, "box4": 0, "box5": 600_000,
                                       "box7": "G"}
    assert r["me"]["form_1099r"] == {"box1": 1_000_000, "box2a": 0, "box4": 0, "box5": 1_000_000, "box7": None}


def test_rule9_form_1099r_box_of_the_payment():
    # seed 004: paid 20,000 = 4,000 pre + 16,000 after; box 4 = 20% of 4,000 = 800; box 7 left to the payer
    a = result(request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)]))
    assert rows(a)["me"]["form_1099r"] == {"box1": 2_000_000, "box2a": 400_000, "box4": 80_000, "box5": 1_600_000,
                                           "box7": None}


def test_rule9_designated_roth_codes():
    a = result(request([direct("ira", "roth_ira", 3_000_000), direct("plan", "designated_roth", 2_000_000)],
                       balance=5_000_000, basis=4_000_000, contract="designated_roth"))
    r = rows(a)
    assert r["ira"]["form_1099r"]["box7"] == "H"
    assert r["plan"]["form_1099r"]["box7"] == "B,G"
    # request order: the Roth IRA takes the 10,000 of earnings; box 2a is 0 for a Roth direct rollover
    assert r["ira"]["form_1099r"] == {"box1": 3_000_000, "box2a": 0, "box4": 0, "box5": 2_000_000, "box7": "H"}


# ---- rule 10: the old regime (Notice 2009-68) ---------------------------------------------------------------
def test_rule10_each_disbursement_its_own_pro_rata_share():
    # seed 004 in 2014, old rule: T = 16,000 split 60:20 -> ira 12,000 after-tax, paid 4,000 after-tax
    a = result(request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)], date="2014-06-30",
                       regime="notice_2009_68"))
    assert a["regime"] == "notice_2009_68"
    assert split(a, "ira") == (4_800_000, 1_200_000)
    assert split(a, "me") == (1_600_000, 400_000)
    assert a["taxable_income"] == 1_600_000 and a["withholding"] == 320_000


def test_rule10_largest_remainder():
    # balance 3, basis 2, D = 1 + 2 = 3: T = 2; exact shares 2/3 and 4/3 -> floors 0, 1; one cent left
    # remainders 2/3 > 1/3: the first row gets it -> 1, 1
    a = result(request([direct("a", "traditional_ira", 1), direct("b", "traditional_ira", 2)], balance=3, basis=2,
                       date="2014-06-30", regime="notice_2009_68"))
    assert split(a, "a") == (0, 1) and split(a, "b") == (1, 1)


def test_rule10_largest_remainder_ties_in_request_order():
    # balance 300, basis 100, three rows of 100: shares 33.33 each, one cent left, equal remainders -> first row
    a = result(request([direct("a", "traditional_ira", 100), direct("b", "roth_ira", 100), paid("c", 100)],
                       balance=300, basis=100, date="2014-06-30", regime="notice_2009_68"))
    assert [split(a, x)[1] for x in "abc"] == [34, 33, 33]


def test_rule10_sixty_day_rollovers_still_take_pretax_first():
    # old rule, whole balance paid: paid 80,000 pre + 20,000 after; a 60-day rollover of 50,000 is all pre-tax
    a = result(request([paid("me", 10_000_000)], date="2014-06-30", regime="notice_2009_68",
                       rollovers_60_day=[sixty("r", "traditional_ira", 5_000_000)]))
    assert split(a, "r") == (5_000_000, 0) and rows(a)["me"]["taxable"] == 3_000_000


def test_rule10_no_direct_pretax_election_under_old_regime():
    e = error(request([direct("ira", "traditional_ira", 100), paid("me", 100)], date="2014-06-30",
                      regime="notice_2009_68", elections={"direct_pretax_order": ["ira"]}))
    assert (e["code"], e["field"]) == ("invalid_election", "elections.direct_pretax_order")


@pytest.mark.parametrize("contract, date, regime, ok", [
    ("pretax_aftertax", "2014-12-31", "notice_2009_68", True),
    ("pretax_aftertax", "2015-01-01", "notice_2009_68", False),
    ("pretax_aftertax", "2014-01-01", "notice_2014_54", True),   # a reasonable interpretation before the Notice
    ("designated_roth", "2015-12-31", "notice_2009_68", True),
    ("designated_roth", "2016-01-01", "notice_2009_68", False),
    ("designated_roth", "2014-09-18", "notice_2014_54", True),
    ("designated_roth", "2014-09-17", "notice_2014_54", False),
])
def test_rule10_permitted_regimes(contract, date, regime, ok):
    req = request([paid("me", 1_000)], balance=5_000_000, basis=4_000_000, contract=contract, date=date, regime=regime)
    if ok:
        assert result(req)["regime"] == regime
    else:
        e = error(req)
        assert (e["code"], e["field"]) == ("regime_not_permitted", "regime")


@pytest.mark.parametrize("contract, date, expected", [
    ("pretax_aftertax", "2013-05-01", "notice_2014_54"),
    ("pretax_aftertax", "2025-06-30", "notice_2014_54"),
    ("designated_roth", "2014-09-17", "notice_2009_68"),
    ("designated_roth", "2014-09-18", "notice_2014_54"),
    ("designated_roth", "2025-06-30", "notice_2014_54"),
])
def test_rule10_default_regime_is_new_where_permitted(contract, date, expected):
    req = request([paid("me", 1_000)], balance=5_000_000, basis=4_000_000, contract=contract, date=date)
    assert result(req)["regime"] == expected


# ---- contract 1.1: rows of $0, the law's dates, designated Roth RMDs, box 7 of Roth cash -----------------------
@pytest.mark.parametrize("disbursements, extra, field", [
    ([paid("me", 0)], {}, "disbursements[0].amount"),
    ([direct("ira", "traditional_ira", 0), paid("me", 1)], {}, "disbursements[0].amount"),
    ([paid("me", 100)], {"rollovers_60_day": [sixty("r", "traditional_ira", 0)]}, "rollovers_60_day[0].amount"),
])
def test_a_row_of_zero_cents_is_no_distribution(disbursements, extra, field):
    e = error(request(disbursements, **extra))
    assert (e["code"], e["field"]) == ("zero_amount", field)


@pytest.mark.parametrize("date, kw, code_field", [
    ("2001-12-31", {}, ("before_effective_date", "date")),
    ("2002-01-01", {}, None),
    ("2007-12-31", {"to": "roth_ira"}, ("before_effective_date", "disbursements[0].to")),
    ("2008-01-01", {"to": "roth_ira"}, None),
    ("2006-12-31", {"to": "403b"}, ("before_effective_date", "disbursements[0].accepts_aftertax")),
    ("2006-12-31", {"to": "403b", "accepts_aftertax": False}, None),
    ("2007-01-01", {"to": "403b"}, None),
])
def test_routes_of_the_law_by_date_pretax_contract(date, kw, code_field):
    to = kw.pop("to", "traditional_ira")
    req = request([direct("x", to, 6_000_000, **kw), paid("me", 2_000_000)], date=date)
    if code_field is None:
        result(req)
    else:
        e = error(req)
        assert (e["code"], e["field"]) == code_field


@pytest.mark.parametrize("plan, date, ok", [("401a", "2005-12-31", False), ("401a", "2006-01-01", True),
                                            ("457b_gov", "2010-12-31", False), ("457b_gov", "2011-01-01", True)])
def test_designated_roth_accounts_by_date(plan, date, ok):
    req = request([direct("r", "roth_ira", 6_000_000), paid("me", 2_000_000)], contract="designated_roth",
                  plan=plan, date=date)
    if ok:
        assert result(req)["regime"] == "notice_2009_68"   # a designated Roth distribution before Sept. 18, 2014
    else:
        assert (error(req)["code"], error(req)["field"]) == ("before_effective_date", "contract")


@pytest.mark.parametrize("date, ok", [("2023-12-31", True), ("2024-04-01", True), ("2024-04-02", False),
                                      ("2025-06-30", False)])
def test_no_lifetime_rmd_from_a_designated_roth_account_after_2023(date, ok):
    req = request([paid("me", 2_000_000)], contract="designated_roth", date=date, rmd=100_000)
    if ok:
        a = result(req)
        # T = 20,000 x 20,000 / 100,000 = 4,000 after-tax covers the $1,000 RMD: the eligible $19,000 carries
        # P = 16,000 pre-tax, withheld at 20% = 3,200
        assert a["withholding"] == 320_000
    else:
        assert (error(req)["code"], error(req)["field"]) == ("rmd_not_required", "rmd")
    assert result({**req, "rmd": 0})["withholding"] == 320_000


def test_box7_of_cash_from_a_designated_roth_account_is_b():
    a = result(request([direct("r", "roth_ira", 6_000_000), paid("me", 2_000_000)], contract="designated_roth"))
    assert rows(a)["me"]["form_1099r"]["box7"] == "B" and rows(a)["r"]["form_1099r"]["box7"] == "H"
    a = result(request([direct("r", "traditional_ira", 6_000_000), paid("me", 2_000_000)]))
    assert rows(a)["me"]["form_1099r"]["box7"] is None and rows(a)["r"]["form_1099r"]["box7"] == "G"


# ---- contract 1.1: in-plan Roth rollovers (§402A(c)(4)) -------------------------------------------------------
def test_in_plan_roth_pretax_is_taxable_aftertax_is_not():
    # whole account $100,000 with $20,000 after-tax rolled into the plan's designated Roth account: $80,000 taxable
    a = result(request([direct("irr", "in_plan_roth", 10_000_000)]))
    assert split(a, "irr") == (8_000_000, 2_000_000)
    assert rows(a)["irr"]["taxable"] == 8_000_000 and a["withholding"] == 0
    assert rows(a)["irr"]["form_1099r"] == {"box1": 10_000_000, "box2a": 8_000_000, "box4": 0, "box5": 2_000_000,
                                            "box7": "G"}


def test_in_plan_roth_comes_after_the_traditional_vehicles_by_default():
    # $50,000 to a traditional IRA first in the default order: it takes $50,000 pre-tax; the in-plan rollover
    # gets the other $30,000 pre-tax and the $20,000 after-tax, whatever the request order
    for rows_ in ([direct("irr", "in_plan_roth", 5_000_000), direct("ira", "traditional_ira", 5_000_000)],
                  [direct("ira", "traditional_ira", 5_000_000), direct("irr", "in_plan_roth", 5_000_000)]):
        a = result(request(rows_))
        assert split(a, "ira") == (5_000_000, 0) and split(a, "irr") == (3_000_000, 2_000_000)
        assert a["taxable_income"] == 3_000_000


def test_in_plan_roth_within_60_days_is_withheld_at_payment():
    a = result(request([paid("me", 10_000_000)], rollovers_60_day=[sixty("s0", "in_plan_roth", 10_000_000)]))
    assert split(a, "s0") == (8_000_000, 2_000_000) and rows(a)["s0"]["taxable"] == 8_000_000
    assert rows(a)["me"]["taxable"] == 0 and a["withholding"] == 1_600_000


def test_in_plan_roth_is_not_for_designated_roth_money():
    e = error(request([direct("irr", "in_plan_roth", 5_000_000), paid("me", 5_000_000)], contract="designated_roth"))
    assert e["code"] == "ineligible_destination"


@pytest.mark.parametrize("plan, date, ok", [("401a", "2010-09-27", False), ("401a", "2010-09-28", True),
                                            ("457b_gov", "2010-12-31", False), ("457b_gov", "2011-01-01", True)])
def test_in_plan_roth_by_date(plan, date, ok):
    req = request([direct("irr", "in_plan_roth", 6_000_000), paid("me", 2_000_000)], plan=plan, date=date)
    if ok:
        assert result(req)["disbursements"][0]["taxable"] == 6_000_000
    else:
        assert (error(req)["code"], error(req)["field"]) == ("before_effective_date", "disbursements[0].to")


# ---- contract 1.1: plan loan offsets (Treas. Reg. §1.402(c)-2(g), §31.3405(c)-1 Q&A-11, §402(c)(3)(C)) ----------
def offset_paid(cash: int, offset: int, qualified: bool = False) -> dict:
    row = {"id": "me", "method": "paid", "amount": cash, "loan_offset": offset}
    if qualified:
        row["qualified_plan_loan_offset"] = True
    return row


def test_loan_offset_example_1_direct_rollover_and_offset_no_withholding():
    # $10,000 account, $3,000 loan offset, $7,000 directly rolled over: no cash, so nothing withheld
    a = result(request([direct("ira", "traditional_ira", 700_000), offset_paid(0, 300_000, True)],
                       balance=1_000_000, basis=0))
    assert a["distribution"]["amount"] == 1_000_000
    assert split(a, "me") == (300_000, 0) and rows(a)["me"]["withholding"] == 0
    assert rows(a)["me"]["form_1099r"]["box1"] == 300_000 and rows(a)["me"]["form_1099r"]["box7"] == "M"


def test_loan_offset_example_4_withheld_from_the_cash():
    # $7,000 cash and the $3,000 offset: 20% of $10,000 = $2,000 withheld from the cash
    a = result(request([offset_paid(700_000, 300_000, True)], balance=1_000_000, basis=0))
    assert a["withholding"] == 200_000 and rows(a)["me"]["form_1099r"]["box1"] == 1_000_000


@pytest.mark.parametrize("cash, offset, withheld", [(100_000, 900_000, 100_000), (0, 1_000_000, 0),
                                                   (200_000, 800_000, 200_000), (300_000, 700_000, 200_000)])
def test_loan_offset_withholding_never_exceeds_the_cash(cash, offset, withheld):
    # 20% of $10,000 = $2,000, limited to the cash paid
    a = result(request([offset_paid(cash, offset)], balance=1_000_000, basis=0))
    assert a["withholding"] == withheld


def test_loan_offset_may_be_rolled_over_with_the_cash():
    # 60-day rollovers may take up to cash + offset - RMD: the whole $10,000 here
    req = request([offset_paid(700_000, 300_000, True)], balance=1_000_000, basis=0,
                  rollovers_60_day=[sixty("s0", "traditional_ira", 1_000_000)])
    assert result(req)["taxable_income"] == 0
    req["rollovers_60_day"][0]["amount"] = 1_000_001
    assert error(req)["code"] in ("sixty_day_exceeds_payment", "distribution_exceeds_balance")


def test_loan_offset_validation():
    assert error(request([offset_paid(0, 0)]))["code"] == "zero_amount"
    assert error(request([offset_paid(5, 0, True)]))["code"] == "zero_amount"
    bad = request([direct("ira", "traditional_ira", 5, loan_offset=3)])
    assert error(bad)["code"] == "invalid_request"
    no_offset = request([{"id": "me", "method": "paid", "amount": 5, "qualified_plan_loan_offset": True}])
    assert (error(no_offset)["code"], error(no_offset)["field"]) == ("invalid_request",
                                                                    "disbursements[0].qualified_plan_loan_offset")


@pytest.mark.parametrize("date, ok", [("2017-12-31", False), ("2018-01-01", True)])
def test_a_qualified_plan_loan_offset_needs_2018(date, ok):
    req = request([offset_paid(100_000, 300_000, True)], balance=1_000_000, basis=0, date=date)
    if ok:
        assert rows(result(req))["me"]["form_1099r"]["box7"] == "M"
    else:
        e = error(req)
        assert (e["code"], e["field"]) == ("before_effective_date", "disbursements[0].qualified_plan_loan_offset")
    # an ordinary offset is no new route: a 2010 offset is answered, without code M
    req = request([offset_paid(100_000, 300_000)], balance=1_000_000, basis=0, date="2010-06-30")
    assert rows(result(req))["me"]["form_1099r"]["box7"] is None


def test_a_loan_offset_is_no_hardship_distribution():
    e = error(request([offset_paid(100_000, 300_000)], balance=1_000_000, basis=0, hardship=True))
    assert (e["code"], e["field"]) == ("invalid_request", "disbursements[0].loan_offset")
