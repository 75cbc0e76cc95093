"""The worked examples of /work/shared/DOMAIN.md (the law), with the figures it states, in cents.

The bundled files in examples/ that carry these examples are checked here too, so the quick start prints
the figures of the law.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reference_helpers import direct, error, paid, request, result, rows, sixty, split

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


# DOMAIN.md §2, IRS FAQ seed: balance $100,000 = $80,000 pre-tax + $20,000 after-tax;
# a $50,000 distribution = $40,000 pre-tax + $10,000 after-tax.
def test_irs_faq_pro_rata_seed():
    a = result(request([paid("me", 5_000_000)], balance=10_000_000, basis=2_000_000))
    assert (a["distribution"]["pretax"], a["distribution"]["aftertax"]) == (4_000_000, 1_000_000)


# DOMAIN.md §3, seed 004 (law-firm alert): roll $60,000 directly to an IRA, keep $20,000: one $80,000
# distribution = $16,000 after-tax + $64,000 pre-tax; the direct rollover is all pre-tax; the $20,000 kept
# = $4,000 pre-tax (taxable) + $16,000 after-tax.
def test_seed_004_law_firm_example():
    a = result(example("seed_004.json"))
    assert a["regime"] == "notice_2014_54"
    assert a["distribution"] == {"amount": 8_000_000, "pretax": 6_400_000, "aftertax": 1_600_000,
                                 "basis_recovered": 1_600_000}
    assert split(a, "ira") == (6_000_000, 0)
    assert split(a, "me") == (400_000, 1_600_000)
    assert rows(a)["me"]["taxable"] == 400_000 and a["taxable_income"] == 400_000
    assert rows(a)["ira"]["taxable"] == 0
    # §3405(c): 20% of the $4,000 taxable part kept; nothing on the direct rollover
    assert a["withholding"] == 80_000 and rows(a)["ira"]["withholding"] == 0


# DOMAIN.md §3, IRS FAQ Example 1: a $100,000 withdrawal ($80,000 pre-tax, $20,000 after-tax) as $80,000 pre-tax
# directly to a traditional IRA, $10,000 after-tax directly to a Roth IRA and $10,000 after-tax paid: nothing taxable.
def test_irs_faq_example_1():
    a = result(example("irs_faq_example1.json"))
    assert a["distribution"] == {"amount": 10_000_000, "pretax": 8_000_000, "aftertax": 2_000_000,
                                 "basis_recovered": 2_000_000}
    assert split(a, "traditional") == (8_000_000, 0)
    assert split(a, "roth") == (0, 1_000_000)
    assert split(a, "me") == (0, 1_000_000)
    assert a["taxable_income"] == 0 and a["withholding"] == 0
    assert all(r["taxable"] == 0 for r in a["disbursements"])


# DOMAIN.md §3, Notice 2014-54 §III ¶1: disbursements at the same time are ONE distribution, whether to one
# destination or several: splitting the same $80,000 differently does not change its pre-tax/after-tax split.
@pytest.mark.parametrize("parts", [[8_000_000], [6_000_000, 2_000_000], [1_000_000, 3_000_000, 4_000_000]])
def test_single_distribution_whatever_the_destinations(parts):
    disbursements = [direct(f"ira{i}", "traditional_ira", x) for i, x in enumerate(parts)]
    a = result(request(disbursements, balance=10_000_000, basis=2_000_000))
    assert (a["distribution"]["pretax"], a["distribution"]["aftertax"]) == (6_400_000, 1_600_000)


# DOMAIN.md §3 (IRS FAQ): you cannot take only the after-tax money; any partial distribution carries pre-tax too.
@pytest.mark.parametrize("amount", [1_000, 2_000_000, 9_999_900])
def test_partial_distribution_always_carries_pretax(amount):
    a = result(request([paid("me", amount)], balance=10_000_000, basis=2_000_000))
    assert a["distribution"]["pretax"] > 0
    assert a["distribution"]["aftertax"] < amount


# DOMAIN.md §3 (EBIA, §402(c)(2) last sentence): pre-tax beyond the direct rollovers goes to 60-day rollovers,
# what remains is includible. Seed 004 with $4,000 re-deposited within 60 days: nothing taxable.
def test_seed_004_with_the_kept_pretax_rolled_over_within_60_days():
    req = example("seed_004.json")
    req["rollovers_60_day"] = [sixty("ira60", "traditional_ira", 400_000)]
    a = result(req)
    assert split(a, "ira60") == (400_000, 0)
    assert rows(a)["me"]["taxable"] == 0 and a["taxable_income"] == 0


# DOMAIN.md §2, §72(e)(8)(D): the pre-1987 basis comes out first, tax-free.
def test_pre1987_basis_first():
    a = result(example("pre1987.json"))
    # $50,000 from $100,000 with $30,000 basis, $10,000 of it pre-1987:
    # $10,000 + $40,000 x $20,000 / $90,000 = $10,000 + $8,888.89
    assert a["distribution"]["basis_recovered"] == 1_888_889
    assert a["remaining"]["pre1987_basis"] == 0


# DOMAIN.md §1 and §5: a designated Roth account is a separate contract; its contributions are its basis and its
# earnings are taxable unless the distribution is qualified; Roth money goes only to a Roth IRA or designated Roth.
def test_designated_roth_separate_contract():
    a = result(example("designated_roth.json"))
    assert a["distribution"] == {"amount": 5_000_000, "pretax": 1_000_000, "aftertax": 4_000_000,
                                 "basis_recovered": 4_000_000}
    assert rows(a)["roth_ira"]["form_1099r"]["box7"] == "H"
    assert rows(a)["new_plan"]["form_1099r"]["box7"] == "B,G"
    qualified = dict(example("designated_roth.json"), qualified_roth=True)
    a = result(qualified)
    assert a["distribution"]["pretax"] == 0 and a["taxable_income"] == 0


# DOMAIN.md §4: transition. Non-Roth money: the new rule from Jan 1, 2015 (before that the old rule may be used);
# designated Roth: the new rule may not be used before Sept 18, 2014 and is required from Jan 1, 2016.
@pytest.mark.parametrize("contract, date, regime", [
    ("pretax_aftertax", "2014-06-30", "notice_2009_68"),
    ("designated_roth", "2014-09-17", "notice_2009_68"),
    ("designated_roth", "2015-06-30", "notice_2009_68"),
])
def test_old_rule_before_the_transition(contract, date, regime):
    a = result(request([paid("me", 100_000)], balance=5_000_000, basis=4_000_000, contract=contract, date=date,
                       regime=regime))
    assert a["regime"] == regime


def test_old_rule_example_each_destination_its_own_share():
    # DOMAIN.md §4: before the Notice each destination was a separate distribution with its own pro rata share.
    # Seed 004 under the old rule: the $60,000 IRA rollover carries $60,000 x 20% = $12,000 after-tax,
    # the $20,000 kept carries $4,000 after-tax and $16,000 taxable.
    a = result(example("old_regime_2014.json"))
    assert split(a, "ira") == (4_800_000, 1_200_000)
    assert split(a, "me") == (1_600_000, 400_000)
    assert a["taxable_income"] == 1_600_000


# DOMAIN.md §5: §402(c)(2) after-tax to a plan only by direct rollover to a plan that separately accounts;
# a governmental 457(b) plan cannot take after-tax money; §408A(d)(3): pre-tax to a Roth IRA is a conversion.
def test_where_money_may_go():
    assert error(request([direct("gov", "457b_gov", 10_000_000)]))["code"] == "ineligible_destination"
    a = result(request([direct("plan", "qualified_plan", 10_000_000)]))
    assert split(a, "plan") == (8_000_000, 2_000_000)
    a = result(request([direct("roth", "roth_ira", 10_000_000)]))
    assert rows(a)["roth"]["taxable"] == 8_000_000 and a["taxable_income"] == 8_000_000


# DOMAIN.md §6: 20% withholding on the taxable part not directly rolled over; direct rollovers are not withheld,
# even to a Roth IRA; a 60-day rollover of the full gross amount needs other funds for what was withheld.
def test_withholding_and_full_gross_60_day_rollover():
    a = result(request([paid("me", 1_000_000)], balance=1_000_000, basis=0,
                       rollovers_60_day=[sixty("back", "traditional_ira", 1_000_000)]))
    assert a["withholding"] == 200_000          # $2,000 withheld from the $10,000 paid
    assert split(a, "back") == (1_000_000, 0)   # the full $10,000 re-deposited (the $2,000 from other funds)
    assert a["taxable_income"] == 0
    a = result(request([direct("roth", "roth_ira", 1_000_000)], balance=1_000_000, basis=0))
    assert a["withholding"] == 0 and a["taxable_income"] == 1_000_000


# DOMAIN.md §6, Form 1099-R: box 1 gross, 2a taxable, 4 withheld, 5 employee contributions, 7 code G for a direct
# rollover (box 2a 0, or the taxable amount for a direct rollover to a Roth IRA).
def test_form_1099r_of_seed_004():
    a = result(example("seed_004.json"))
    assert rows(a)["ira"]["form_1099r"] == {"box1": 6_000_000, "box2a": 0, "box4": 0, "box5": 0, "box7": "G"}
    assert rows(a)["me"]["form_1099r"] == {"box1": 2_000_000, "box2a": 400_000, "box4": 80_000, "box5": 1_600_000,
                                           "box7": None}


# DOMAIN.md §5, §402(c)(4): RMDs are not eligible rollover distributions; after-tax is applied first to the RMD.
def test_rmd_example():
    a = result(example("rmd_and_sixty_day.json"))
    # $100,000 from $200,000 with $20,000 basis: $10,000 after-tax; RMD $15,000 -> $5,000 of it pre-tax
    assert a["distribution"]["aftertax"] == 1_000_000
    assert split(a, "me") == (5_000_000, 1_000_000)
    # withholding on the payment's pre-tax less the RMD's pre-tax part: 20% x $45,000
    assert a["withholding"] == 900_000
