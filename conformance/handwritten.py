"""Vectors written by hand: the worked examples of the law, one invalid request per error code, and the
values that break 64-bit integers, floating point and banker's rounding; for contract 1.2, who receives the money,
box 7's code for the recipient's age or event and box 11 (section (g), each form worked by hand).

Each is a `Candidate`; `conformance.export` computes its expected answer with the reference, checks it
against the invariants, and (for the worked examples) against the figures the sources state.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Callable

from rollsplit.spec import law
from rollsplit.spec.arith import INT
from rollsplit.spec.errors import ERROR_CODES

MAX = law.MAX_CENTS


@dataclass
class Candidate:
    topic: str
    origin: str                       # stable key: the id of a vector with this origin never changes
    description: str
    flags: list[str]
    request: Any = None
    request_text: str | None = None
    tags: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)     # names of spec.invariants citations
    check: Callable[[dict], None] | None = None             # asserts the figures a source states


def req(balance: int, basis: int, rows: list[dict], **extra: Any) -> dict:
    r = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": balance, "basis": basis,
         "disbursements": rows}
    r.update(extra)
    return r


def direct(id: str, to: str, amount: int, **extra: Any) -> dict:
    return {"id": id, "method": "direct", "to": to, "amount": amount, **extra}


def paid(amount: int, id: str = "me") -> dict:
    return {"id": id, "method": "paid", "amount": amount}


def _row(result: dict, id: str) -> dict:
    """The disbursement or 60-day rollover row `id` of a wire Result."""
    return next(r for r in result["disbursements"] + result["rollovers_60_day"] if r["id"] == id)


# ---- (b) the worked examples of DOMAIN.md --------------------------------------------------------
def _check_faq_seed(res: dict) -> None:
    # "$50,000 distribution = $40,000 pre-tax + $10,000 after-tax"
    assert (res["distribution"]["pretax"], res["distribution"]["aftertax"]) == (4_000_000, 1_000_000)


def _check_seed_004(res: dict) -> None:
    # "one $80,000 distribution = $16,000 after-tax + $64,000 pre-tax; the $60,000 direct rollover is all
    # pre-tax; the $20,000 kept = $4,000 pre-tax (taxable) + $16,000 after-tax"
    assert (res["distribution"]["aftertax"], res["distribution"]["pretax"]) == (1_600_000, 6_400_000)
    assert (_row(res, "ira")["pretax"], _row(res, "ira")["aftertax"]) == (6_000_000, 0)
    kept = _row(res, "me")
    assert (kept["pretax"], kept["aftertax"], kept["taxable"]) == (400_000, 1_600_000, 400_000)


def _check_faq_example_1(res: dict) -> None:
    # "$80,000 pre-tax by direct rollover to a traditional IRA, $10,000 after-tax by direct rollover to a
    # Roth IRA, $10,000 after-tax paid to the participant. Nothing is taxable."
    assert (_row(res, "ira")["pretax"], _row(res, "roth")["aftertax"], _row(res, "me")["aftertax"]) == \
        (8_000_000, 1_000_000, 1_000_000)
    assert res["taxable_income"] == 0 and res["withholding"] == 0


EXAMPLES = [
    Candidate("examples", "example:irs-faq-seed", "IRS FAQ: a $50,000 distribution from a $100,000 account with "
              "$20,000 after-tax carries $40,000 pre-tax and $10,000 after-tax.", ["WorkedExample"],
              req(10_000_000, 2_000_000, [paid(5_000_000)]), citations=["IRC_72E8"], check=_check_faq_seed),
    Candidate("examples", "example:seed-004", "Law-firm alert (seed 004): $60,000 directly to an IRA and $20,000 "
              "kept from a $100,000 account with $20,000 after-tax: the rollover is all pre-tax, the cash is "
              "$4,000 pre-tax and $16,000 after-tax.", ["WorkedExample"],
              req(10_000_000, 2_000_000, [direct("ira", "traditional_ira", 6_000_000), paid(2_000_000)]),
              citations=["N2014_SINGLE", "N2014_DIRECT"], check=_check_seed_004),
    Candidate("examples", "example:irs-faq-example-1", "IRS FAQ Example 1: $80,000 pre-tax directly to a "
              "traditional IRA, $10,000 after-tax directly to a Roth IRA, $10,000 after-tax paid: nothing taxable.",
              ["WorkedExample"],
              req(10_000_000, 2_000_000, [direct("ira", "traditional_ira", 8_000_000),
                                          direct("roth", "roth_ira", 1_000_000), paid(1_000_000)]),
              citations=["N2014_DIRECT", "IRC_402C2_AT"], check=_check_faq_example_1),
]


# ---- (c) invalid requests, one fault each ---------------------------------------------------------
BASE = req(10_000_000, 2_000_000, [direct("ira", "traditional_ira", 6_000_000), paid(2_000_000)])


def _with(**changes: Any) -> dict:
    r = {k: v for k, v in BASE.items()}
    for k, v in changes.items():
        if v is None:
            r.pop(k, None)
        else:
            r[k] = v
    return r


_BASE_TEXT = ('{"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10000000, '
              '"basis": 2000000, "disbursements": [{"id": "me", "method": "paid", "amount": 2000000}]')

INVALID: list[tuple[str, str, dict | None, str | None]] = [
    # (error code, description, request, request_text)
    ("invalid_json", "A key appears twice in one object.", None, _BASE_TEXT + ', "basis": 0}'),
    ("invalid_json", "NaN is not JSON.", None, _BASE_TEXT.replace("2000000,", "NaN,", 1) + "}"),
    ("invalid_json", "The request is cut off in the middle.", None, _BASE_TEXT[:60]),
    ("invalid_request", "The required field date is missing.", _with(date=None), None),
    ("invalid_request", "The date is not a day of the calendar (February 30).", _with(date="2025-02-30"), None),
    ("invalid_request", "The plan is not one of 401a, 403b, 457b_gov.", _with(plan="401k"), None),
    ("invalid_request", "A money value has a fraction (dollars written as 100.5).", _with(balance=100.5), None),
    ("invalid_request", "A money value is a string.", _with(basis="2000000"), None),
    ("invalid_request", "An unknown field is present.", _with(tax_year=2025), None),
    ("invalid_request", "A direct rollover has no destination.",
     _with(disbursements=[{"id": "ira", "method": "direct", "amount": 6_000_000}]), None),
    ("invalid_request", "The request is a JSON array, not an object.", None, "[]"),
    ("invalid_request", "qualified_roth is set on a pre-tax/after-tax contract.", _with(qualified_roth=True), None),
    ("amount_out_of_range", "The balance is 2^53, one cent above the largest amount the contract allows.",
     _with(balance=MAX + 1), None),
    ("amount_out_of_range", "An amount is negative.",
     _with(disbursements=[direct("ira", "traditional_ira", -1), paid(2_000_000)]), None),
    ("basis_exceeds_balance", "The basis is larger than the balance.", _with(basis=10_000_001), None),
    ("basis_exceeds_balance", "The pre-1987 basis is larger than the basis.", _with(pre1987_basis=2_000_001), None),
    ("distribution_exceeds_balance", "The disbursements add up to one cent more than the balance.",
     _with(disbursements=[direct("ira", "traditional_ira", 8_000_001), paid(2_000_000)]), None),
    ("empty_distribution", "There are no disbursements.", _with(disbursements=[]), None),
    ("zero_amount", "The only disbursement is a payment of 0 cents.", _with(disbursements=[paid(0)]), None),
    ("zero_amount", "A direct rollover of 0 cents beside a payment.",
     _with(disbursements=[direct("ira", "traditional_ira", 0), paid(2_000_000)]), None),
    ("zero_amount", "A 60-day rollover of 0 cents.",
     _with(rollovers_60_day=[{"id": "r", "to": "traditional_ira", "amount": 0}]), None),
    ("before_effective_date", "A distribution on December 31, 2001, before after-tax money became rollable.",
     _with(date="2001-12-31"), None),
    ("before_effective_date", "A designated Roth account on December 31, 2005, before designated Roth accounts "
     "existed.", _with(contract="designated_roth", date="2005-12-31",
                       disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "A governmental 457(b) plan's designated Roth account on December 31, 2010.",
     _with(plan="457b_gov", contract="designated_roth", date="2010-12-31",
           disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "A direct rollover from a plan to a Roth IRA on December 31, 2007.",
     _with(date="2007-12-31", disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "A direct rollover of after-tax money into a 403(b) on December 31, 2006 "
     "(accepts_aftertax left at its default, true).",
     _with(date="2006-12-31", disbursements=[direct("tsa", "403b", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "An in-plan Roth rollover on September 27, 2010, the day before the law allowed one.",
     _with(date="2010-09-27", disbursements=[direct("irr", "in_plan_roth", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "An in-plan Roth rollover in a governmental 457(b) plan on December 31, 2010.",
     _with(date="2010-12-31", plan="457b_gov",
           disbursements=[direct("irr", "in_plan_roth", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "A qualified plan loan offset on December 31, 2017, before §402(c)(3)(C) existed.",
     _with(date="2017-12-31", disbursements=[direct("ira", "traditional_ira", 6_000_000),
                                             {"id": "me", "method": "paid", "amount": 1_000_000,
                                              "loan_offset": 1_000_000, "qualified_plan_loan_offset": True}]), None),
    ("invalid_request", "A plan loan offset in a hardship distribution (an offset repays a loan).",
     _with(hardship=True, disbursements=[{"id": "me", "method": "paid", "amount": 1_000_000,
                                          "loan_offset": 1_000_000}]), None),
    ("rmd_not_required", "A designated Roth account pays an RMD on April 2, 2024, after the last 2023 RMD was due.",
     _with(contract="designated_roth", date="2024-04-02", rmd=100_000,
           disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]), None),
    ("rmd_not_required", "Check order: an RMD from a designated Roth account in 2025 is reported before an RMD "
     "larger than the payment.",
     _with(contract="designated_roth", rmd=2_000_001,
           disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]), None),
    ("duplicate_id", "A disbursement and a 60-day rollover share an id.",
     _with(rollovers_60_day=[{"id": "me", "to": "traditional_ira", "amount": 1}]), None),
    ("more_than_one_payment", "Two disbursements are paid to the participant.",
     _with(disbursements=[paid(1_000_000, "a"), paid(1_000_000, "b")]), None),
    ("sixty_day_without_payment", "A 60-day rollover with nothing paid to the participant.",
     _with(disbursements=[direct("ira", "traditional_ira", 6_000_000)],
           rollovers_60_day=[{"id": "r", "to": "traditional_ira", "amount": 1}]), None),
    ("sixty_day_exceeds_payment", "The 60-day rollovers add up to more than the payment less the RMD.",
     _with(rmd=500_000, rollovers_60_day=[{"id": "r", "to": "traditional_ira", "amount": 1_500_001}]), None),
    ("rmd_exceeds_payment", "The RMD is one cent more than the payment.", _with(rmd=2_000_001), None),
    ("ineligible_destination", "A direct rollover of after-tax money to a governmental 457(b) plan.",
     _with(disbursements=[direct("gov", "457b_gov", 10_000_000)]), None),
    ("ineligible_destination", "Pre-tax money of a pre-tax/after-tax contract directly to a designated Roth account.",
     _with(disbursements=[direct("droth", "designated_roth", 1_000_000)]), None),
    ("ineligible_destination", "Designated Roth money directly to a traditional IRA.",
     _with(contract="designated_roth", disbursements=[direct("ira", "traditional_ira", 1_000_000)]), None),
    ("ineligible_destination", "After-tax money directly to a qualified plan that does not take it.",
     _with(disbursements=[direct("plan", "qualified_plan", 10_000_000, accepts_aftertax=False)]), None),
    ("ineligible_destination", "After-tax money by 60-day rollover to a qualified plan.",
     _with(disbursements=[paid(10_000_000)], rollovers_60_day=[{"id": "r", "to": "qualified_plan",
                                                                 "amount": 10_000_000}]), None),
    ("not_eligible_rollover_distribution", "A hardship distribution is rolled over directly.",
     _with(hardship=True), None),
    ("invalid_election", "An election gives both an order and amounts for direct rollovers.",
     _with(elections={"direct_pretax_order": ["ira"], "direct_pretax_amounts": {"ira": 6_000_000}}), None),
    ("invalid_election", "An election names an id that is not a direct rollover.",
     _with(elections={"direct_pretax_order": ["me"]}), None),
    ("invalid_election", "Elected pre-tax amounts do not add up to the direct rollovers' pre-tax total.",
     _with(elections={"direct_pretax_amounts": {"ira": 5_000_000}}), None),
    ("invalid_election", "A direct pre-tax election under Notice 2009-68.",
     _with(date="2014-06-30", regime="notice_2009_68", elections={"direct_pretax_order": ["ira"]}), None),
    ("regime_not_permitted", "Notice 2009-68 asked for a pre-tax/after-tax distribution in 2025.",
     _with(regime="notice_2009_68"), None),
    ("regime_not_permitted", "Notice 2014-54 asked for a designated Roth distribution before September 18, 2014.",
     _with(contract="designated_roth", date="2014-09-17", regime="notice_2014_54",
           disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)]), None),
    # several faults: the first code in the fixed check order wins (spec.errors.VALUE_CHECK_ORDER)
    ("basis_exceeds_balance", "Check order: basis above balance and disbursements above balance; basis first.",
     _with(basis=10_000_001, disbursements=[paid(10_000_001)]), None),
    ("amount_out_of_range", "Check order: an out-of-range amount is reported before a duplicate id.",
     _with(disbursements=[paid(MAX + 1), paid(1, "me")]), None),
    ("rmd_exceeds_payment", "Check order: an RMD above the payment is reported before an invalid election.",
     _with(rmd=2_000_001, elections={"direct_pretax_amounts": {"ira": 1}}), None),
]

# ---- contract 1.2: who receives the money and the participant's facts, one fault each ----------------------------
# The DOMAIN seed ($100,000, $20,000 after-tax; $60,000 rolled over directly, $20,000 paid) paid to a beneficiary who
# is not the surviving spouse, into an inherited traditional IRA: valid (recipients.json); each request below changes
# one thing of it, or of the designated Roth request of 2025-12-31 (first Roth year 2021, born 1960-01-01).
NONSPOUSE = "nonspouse_beneficiary"
_HEIR = _with(recipient=NONSPOUSE, disbursements=[direct("ira", "inherited_traditional_ira", 6_000_000),
                                                  paid(2_000_000)])
_ROTH_2021 = _with(contract="designated_roth", date="2025-12-31",
                   disbursements=[direct("roth", "roth_ira", 6_000_000), paid(2_000_000)],
                   participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2021})


def _heir(**changes: Any) -> dict:
    return {**_HEIR, **changes}


def _roth_2021(**changes: Any) -> dict:
    return {**_ROTH_2021, **changes}


INVALID += [
    ("nonspouse_sixty_day_rollover", "IRC §402(c)(11): a beneficiary who is not the surviving spouse may roll over "
     "only by \"a direct trustee-to-trustee transfer\" into an inherited IRA; the $20,000 payment is rolled over "
     "within 60 days instead.",
     _heir(rollovers_60_day=[{"id": "r", "to": "inherited_traditional_ira", "amount": 1_000_000}]), None),
    ("nonspouse_sixty_day_rollover", "A beneficiary who is not the surviving spouse rolls $10,000 of the payment into "
     "a traditional IRA within 60 days: no 60-day rollover at all, whatever the destination.",
     _heir(rollovers_60_day=[{"id": "r", "to": "traditional_ira", "amount": 1_000_000}]), None),
    ("ineligible_destination", "A beneficiary who is not the surviving spouse rolls over directly into a traditional "
     "IRA of her own: §402(c)(11) allows only an IRA \"treated as an inherited individual retirement account\".",
     _heir(disbursements=[direct("ira", "traditional_ira", 6_000_000), paid(2_000_000)]), None),
    ("ineligible_destination", "The participant, alive, rolls over directly into an inherited traditional IRA, which "
     "is kept only for a beneficiary of a participant who has died.",
     _with(disbursements=[direct("ira", "inherited_traditional_ira", 6_000_000), paid(2_000_000)]), None),
    ("ineligible_destination", "An alternate payee spouse under a QDRO rolls over directly into an inherited Roth "
     "IRA: §402(e)(1)(B) treats her \"as if such alternate payee were the employee\", who has no inherited IRA.",
     _with(recipient="alternate_payee_spouse",
           disbursements=[direct("roth", "inherited_roth_ira", 6_000_000), paid(2_000_000)]), None),
    ("ineligible_destination", "The surviving spouse rolls designated Roth money directly into an inherited "
     "traditional IRA: §402A(c)(3) lets it go only to a Roth IRA (an inherited one too) or a designated Roth account.",
     _with(contract="designated_roth", recipient="spouse_beneficiary",
           disbursements=[direct("ira", "inherited_traditional_ira", 6_000_000), paid(2_000_000)]), None),
    ("before_effective_date", "A beneficiary who is not the surviving spouse on December 31, 2010: rollsplit models "
     "such distributions (eligible rollover distributions with 20% withholding, WRERA 2008 §108(f)) from 2011.",
     _heir(date="2010-12-31"), None),
    ("inconsistent_facts", "The participant's birth date is the distribution's date.",
     _with(participant={"birth_date": "2025-06-30"}), None),
    ("inconsistent_facts", "The participant separated from service on 1969-12-31, before being born on 1970-03-01.",
     _with(participant={"birth_date": "1970-03-01", "separation_date": "1969-12-31"}), None),
    ("inconsistent_facts", "A first year of designated Roth contributions is given for a pre-tax/after-tax "
     "contract.", _with(participant={"first_roth_contribution_year": 2021}), None),
    ("inconsistent_facts", "The first year of designated Roth contributions is 2005, before designated Roth "
     "contributions existed (taxable years beginning after December 31, 2005).",
     _roth_2021(participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2005}), None),
    ("inconsistent_facts", "The first year of designated Roth contributions, 2026, is after the distribution's year.",
     _roth_2021(participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2026}), None),
    ("inconsistent_facts", "qualified_roth is true, but the distribution of December 31, 2025 is made within the "
     "5-taxable-year period that began in 2021 (§402A(d)(2)(B)): not a qualified distribution.",
     _roth_2021(qualified_roth=True), None),
    ("inconsistent_facts", "qualified_roth is left false, but on January 2, 2026 the 5-taxable-year period that began "
     "in 2021 has ended and the participant, born 1960-01-01, is past 59½: a qualified distribution "
     "(§402A(d)(2)(A)(i)).", _roth_2021(date="2026-01-02"), None),
    ("invalid_request", "The recipient is not one of participant, spouse_beneficiary, nonspouse_beneficiary, "
     "alternate_payee_spouse.", _with(recipient="estate"), None),
    ("invalid_request", "The participant's birth date is not a day of the calendar.",
     _with(participant={"birth_date": "1970-02-30"}), None),
    ("invalid_request", "The first year of designated Roth contributions is a string, not an integer.",
     _roth_2021(participant={"first_roth_contribution_year": "2021"}), None),
]
assert {code for code, *_ in INVALID} == set(ERROR_CODES), "every error code needs an invalid vector"


def invalid_candidates() -> list[Candidate]:
    out = []
    for code, text, request, request_text in INVALID:
        out.append(Candidate("validation", f"invalid:{code}:{text}", f"{text} Expected error {code}.",
                             ["InvalidRequest"] + (["CheckOrder"] if text.startswith("Check order") else []),
                             request=request, request_text=request_text, tags=[f"error:{code}"]))
    return out


# ---- (d) values that break 64-bit integers, floating point and rounding -------------------------
LARGE = [
    ("The largest balance and basis the contract allows, nearly all distributed: D * basis is about 2^106.",
     req(MAX, MAX - 1, [paid(MAX - 2)]), ["Overflow64"]),
    ("D * basis just above 2^64 (2^33 * 2^32 cents).",
     req(2**33 + 1, 2**32, [paid(2**33)]), ["Overflow64"]),
    ("Balance 2^53-1 with a basis of 1 cent: the share is a tiny fraction that rounds to 0.",
     req(MAX, 1, [paid(MAX // 2)]), ["Float53"]),
    ("Balance 2^53-1 with a basis of 3 cents: 3 * (2^52) / (2^53-1) is just above 1.5, which rounds to 2; a float "
     "product loses the excess.", req(MAX, 3, [paid(2**52)]), ["Float53", "RoundingTie"]),
    ("Amounts of 2^53-1 cents split across a direct rollover and a payment.",
     req(MAX, 2**52, [direct("ira", "traditional_ira", 2**52), paid(MAX - 2**52)]), ["Float53", "Overflow64"]),
    ("A full distribution of 2^53-1 cents recovers exactly the whole basis.",
     req(MAX, 123_456_789_012_345, [direct("ira", "traditional_ira", MAX - 10**15), paid(10**15)]),
     ["Float53", "Overflow64"]),
    ("Withholding on an odd pre-tax payment near 2^53: 20% is rounded half up on exact integers.",
     req(MAX, 0, [paid(MAX - 2)]), ["Float53"]),
]

ROUNDING = [
    ("The pro rata share is exactly half a cent: 1 * 1 / 2 rounds half up to 1 (banker's rounding gives 0).",
     req(2, 1, [paid(1)]), ["RoundingTie"]),
    ("The pro rata share is exactly 2.5 cents: rounds up to 3 (banker's rounding gives 2).",
     req(10, 5, [paid(5)]), ["RoundingTie"]),
    ("The pro rata share is 0.4999... of a cent: rounds down to 0 (truncation agrees, rounding up does not).",
     req(10_001, 5_000, [paid(1)]), ["RoundingTie"]),
    ("The pro rata share has a fraction of 2/3 of a cent: rounds up (truncation rounds down).",
     req(3, 2, [paid(1)]), ["Truncation"]),
    ("Withholding: 20% of 3 cents of taxable money is 0.6 cent, which rounds to 1 cent (truncation gives 0); "
     "$200 of other eligible rollover distributions this year put the payment above the $200 floor.",
     req(100, 0, [paid(3)], other_eligible_this_year=20_000), ["Truncation"]),
    ("Withholding: 20% of $1,252.52 of taxable money is 25,050.4 cents, which rounds to 25,050 cents.",
     req(1_000_000, 0, [paid(125_252)]), ["Truncation"]),
    ("Notice 2009-68: one leftover cent goes to the larger remainder.",
     req(3, 1, [direct("ira", "traditional_ira", 1), paid(2)], date="2014-06-30", regime="notice_2009_68"),
     ["LargestRemainder"]),
    ("Notice 2009-68: equal remainders, the leftover cent goes to the first row in request order.",
     req(4, 1, [direct("ira", "traditional_ira", 1), paid(1), direct("roth", "roth_ira", 1)],
         date="2014-06-30", regime="notice_2009_68"), ["LargestRemainder"]),
    ("Notice 2009-68: three rows with remainders 1/9, 2/9 and 6/9 of a cent; the one leftover cent goes to "
     "the last row, which has the largest remainder.",
     req(9, 5, [direct("a", "traditional_ira", 2), direct("b", "roth_ira", 4), paid(3)],
         date="2014-06-30", regime="notice_2009_68"), ["LargestRemainder"]),
    ("Notice 2009-68: three equal rows share 2 cents of basis; the two leftover cents go to the first two rows "
     "in request order.",
     req(3, 2, [direct("a", "traditional_ira", 1), direct("b", "roth_ira", 1), paid(1)],
         date="2014-06-30", regime="notice_2009_68"), ["LargestRemainder"]),
]


def _float_breakers() -> list[tuple[str, dict, list[str]]]:
    """Requests where float(D) * basis / balance, rounded half up in floating point, misses the exact cent."""
    out = []
    seen = 0
    # a deterministic walk over large values (no randomness: the export must be reproducible)
    for k in range(1, 4000):
        balance = MAX - 7919 * k
        basis = (balance // 3) + 1 + 104729 * k
        D = balance // 2 + 15485863 * k
        exact = INT.round_half_up(D, basis, balance)
        flt = int(float(D) * basis / balance + 0.5)
        if flt != exact:
            out.append((f"Floating point misses the cent: {D} * {basis} / {balance} is {exact} cents rounded half up "
                        f"on exact integers; in binary floating point it comes out as {flt}.",
                        req(balance, basis, [direct("ira", "traditional_ira", D - D // 4), paid(D // 4)]),
                        ["Float53"]))
            seen += 1
            if seen == 4:
                break
    return out


def large_candidates() -> list[Candidate]:
    out = []
    for text, request, flags in LARGE + _float_breakers():
        out.append(Candidate("large_values", f"large:{text}", text, flags, request, citations=["CONTRACT", "IRC_72E8"]))
    for text, request, flags in ROUNDING:
        out.append(Candidate("rounding", f"rounding:{text}", text, flags, request,
                             citations=["CONTRACT", "IRC_3405" if "Withholding" in text else "IRC_72E8"]))
    return out


# ---- (e) targeted: one classic mistake changes the answer, with figures worked by hand -------------
# $100,000 account with $20,000 after-tax, distributed in full: exactly $20,000 after-tax and $80,000
# pre-tax (§72(e)(8): D == balance recovers the whole basis).
def sixty(id: str, to: str, amount: int) -> dict:
    return {"id": id, "to": to, "amount": amount}


def _rows(res: dict, *ids: str) -> list[tuple[int, int, int]]:
    return [(_row(res, i)["pretax"], _row(res, i)["aftertax"], _row(res, i)["taxable"]) for i in ids]


def _expect(rows: dict[str, tuple[int, int, int]], taxable: int | None = None) -> Callable[[dict], None]:
    def check(res: dict) -> None:
        assert _rows(res, *rows) == list(rows.values())
        if taxable is not None:
            assert res["taxable_income"] == taxable
    return check


M = 100_000   # $1,000.00 in cents
TWO_IRAS = [direct("a", "traditional_ira", 50 * M), direct("b", "roth_ira", 50 * M)]
# (topic, stable key, description, citations, request, the hand-worked figures to check or the error code)
TARGETED: list[tuple[str, str, str, list[str], dict, Callable[[dict], None] | str]] = [
    ("elections", "direct-order-election",
     "Direct pre-tax order elected against the default: the Roth IRA listed first is filled with "
     "pre-tax first ($50,000, all a taxable conversion); the traditional IRA takes the other $30,000 pre-tax and "
     "all $20,000 after-tax. An implementation that ignores the order converts only $30,000.",
     ["N2014_CHOICE", "IRC_408A"],
     req(100 * M, 20 * M, TWO_IRAS, elections={"direct_pretax_order": ["b"]}),
     _expect({"b": (50 * M, 0, 50 * M), "a": (30 * M, 20 * M, 0)}, taxable=50 * M)),
    ("elections", "direct-amounts-election",
     "Direct pre-tax amounts elected: $40,000 pre-tax to each IRA, so each also takes $10,000 "
     "after-tax; the Roth IRA's $40,000 pre-tax is a taxable conversion. The default order would give the "
     "traditional IRA all $50,000 pre-tax.",
     ["N2014_CHOICE", "IRC_408A"],
     req(100 * M, 20 * M, TWO_IRAS, elections={"direct_pretax_amounts": {"a": 40 * M, "b": 40 * M}}),
     _expect({"a": (40 * M, 10 * M, 0), "b": (40 * M, 10 * M, 40 * M)}, taxable=40 * M)),
    ("elections", "sixty-day-order-election",
     "60-day pre-tax order elected against the default: the whole $100,000 is paid, then $50,000 "
     "rolled to a Roth IRA (listed first: all pre-tax, all taxable as a conversion) and $50,000 to a "
     "traditional IRA ($30,000 pre-tax and the $20,000 after-tax). The payment itself is then not taxable; "
     "its 20% withholding is on its $80,000 pre-tax.",
     ["N2014_CHOICE", "IRC_402C2", "IRC_408A"],
     req(100 * M, 20 * M, [paid(100 * M)], rollovers_60_day=[sixty("s0", "traditional_ira", 50 * M),
                                                              sixty("s1", "roth_ira", 50 * M)],
         elections={"sixty_day_pretax_order": ["s1"]}),
     _expect({"s1": (50 * M, 0, 50 * M), "s0": (30 * M, 20 * M, 0), "me": (80 * M, 20 * M, 0)}, taxable=50 * M)),
    ("elections", "sixty-day-amounts-election",
     "60-day pre-tax amounts elected: $40,000 pre-tax into each IRA (each also carries $10,000 "
     "after-tax); the Roth IRA's $40,000 pre-tax is taxable as a conversion, nothing else is.",
     ["N2014_CHOICE", "IRC_402C2", "IRC_408A"],
     req(100 * M, 20 * M, [paid(100 * M)], rollovers_60_day=[sixty("s0", "traditional_ira", 50 * M),
                                                              sixty("s1", "roth_ira", 50 * M)],
         elections={"sixty_day_pretax_amounts": {"s0": 40 * M, "s1": 40 * M}}),
     _expect({"s0": (40 * M, 10 * M, 0), "s1": (40 * M, 10 * M, 40 * M)}, taxable=40 * M)),
    ("eligibility", "457b-aftertax-by-election",
     "An election that fills the traditional IRA with pre-tax first leaves $20,000 after-tax for "
     "the governmental 457(b) plan, which may not receive after-tax money: rejected.",
     ["IRC_402C2_AT", "SAFE_HARBOR_457", "CONTRACT_RULE7"],
     req(100 * M, 20 * M, [direct("gov", "457b_gov", 50 * M), direct("ira", "traditional_ira", 50 * M)],
         elections={"direct_pretax_order": ["ira"]}), "ineligible_destination"),
    ("eligibility", "457b-aftertax-by-sixty-day",
     "A 60-day rollover of the whole $100,000 payment to a governmental 457(b) plan carries the "
     "$20,000 after-tax beyond the $80,000 pre-tax: rejected.",
     ["IRC_402C2_AT", "SAFE_HARBOR_457", "CONTRACT_RULE7"],
     req(100 * M, 20 * M, [paid(100 * M)], rollovers_60_day=[sixty("s0", "457b_gov", 100 * M)]),
     "ineligible_destination"),
    ("eligibility", "457b-aftertax-old-rule",
     "Under Notice 2009-68 (2014) each disbursement carries its own pro-rata after-tax share: the "
     "$50,000 direct rollover to a governmental 457(b) plan would carry $10,000 after-tax: rejected.",
     ["N2009_68", "IRC_402C2_AT", "SAFE_HARBOR_457", "CONTRACT_RULE7"],
     req(100 * M, 20 * M, [direct("gov", "457b_gov", 50 * M), paid(50 * M)], date="2014-06-30",
         regime="notice_2009_68"),
     "ineligible_destination"),
    ("pre1987", "pre1987-above-distribution",
     "Pre-1987 basis larger than the distribution: the whole $20,000 payment is pre-1987 basis, "
     "tax-free (§72(e)(8)(D)); ignoring it would make only $8,000 after-tax.",
     ["IRC_72E8D"], req(100 * M, 40 * M, [paid(20 * M)], pre1987_basis=30 * M),
     _expect({"me": (0, 20 * M, 0)}, taxable=0)),
    ("pre1987", "pre1987-first-then-prorata",
     "$10,000 pre-1987 basis comes out first; the other $30,000 of the $40,000 payment carries "
     "$30,000 x $30,000 / $90,000 = $10,000 after-tax: $20,000 after-tax in all (ignoring the pre-1987 rule: "
     "$16,000).",
     ["IRC_72E8D", "IRC_72E8"], req(100 * M, 40 * M, [paid(40 * M)], pre1987_basis=10 * M),
     _expect({"me": (20 * M, 20 * M, 20 * M)}, taxable=20 * M)),
    ("pre1987", "pre1987-with-direct-rollover",
     "Pre-1987 basis with a direct rollover: $40,000 distributed carries $20,000 after-tax "
     "($10,000 pre-1987 first, then $10,000 pro rata); the $30,000 direct rollover takes the $20,000 pre-tax "
     "and $10,000 after-tax, the $10,000 payment is all after-tax; no pre-1987 basis remains.",
     ["IRC_72E8D", "N2014_DIRECT"],
     req(100 * M, 40 * M, [direct("ira", "traditional_ira", 30 * M), paid(10 * M)], pre1987_basis=10 * M),
     _expect({"ira": (20 * M, 10 * M, 0), "me": (0, 10 * M, 0)}, taxable=0)),
    ("pre1987", "pre1987-old-rule",
     "Pre-1987 basis under Notice 2009-68 (2014): the $20,000 after-tax of the $40,000 distribution "
     "is split pro rata by amount, $10,000 to each $20,000 disbursement (the contract's reading of rule 10: "
     "pre-1987 basis applies to the whole event, then the split).",
     ["IRC_72E8D", "N2009_68", "CONTRACT"],
     req(100 * M, 40 * M, [direct("ira", "traditional_ira", 20 * M), paid(20 * M)], pre1987_basis=10 * M,
         date="2014-06-30", regime="notice_2009_68"),
     _expect({"ira": (10 * M, 10 * M, 0), "me": (10 * M, 10 * M, 10 * M)}, taxable=10 * M)),
]


def targeted_candidates() -> list[Candidate]:
    out = []
    for topic, key, text, cites, request, expect in TARGETED:
        error = isinstance(expect, str)
        out.append(Candidate(topic, f"targeted:{key}", text, ["Targeted"], request, citations=cites,
                             check=None if error else expect, tags=[f"error:{expect}"] if error else []))
    return out


# ---- (f) contract 1.1: the $200 floor, the RMD examples of the regulation, and the law's dates -----------
def _check_qa8(res: dict) -> None:
    # Reg. §1.402(c)-2 Q&A-8: "$4,000 ... minimum distribution ... a $4,800 distribution, of which $1,000 is
    # excludible ... the remaining balance of the distribution, $800, is an eligible rollover distribution"
    assert (res["distribution"]["aftertax"], res["distribution"]["pretax"]) == (100_000, 380_000)
    assert _rows(res, "me", "s0") == [(380_000, 100_000, 300_000), (80_000, 0, 0)]
    assert res["taxable_income"] == 300_000 and res["withholding"] == 16_000   # 20% of the $800 eligible


def _check_qa7(res: dict) -> None:
    # Reg. §1.402(c)-2 Q&A-7(a) / (f)(1): "$5,000 ... and the employee receives a total of $7,200 ... the
    # remaining $2,200 will be an eligible rollover distribution": 20% of $2,200 is withheld
    assert _rows(res, "me") == [(720_000, 0, 720_000)]
    assert res["withholding"] == 44_000


QA8 = req(4_800_000, 1_000_000, [paid(480_000)], rmd=400_000,
          rollovers_60_day=[{"id": "s0", "to": "traditional_ira", "amount": 80_000}])
EXAMPLES_1_1 = [
    Candidate("examples", "example:reg-1.402(c)-2-qa8", "Treas. Reg. §1.402(c)-2 Q&A-8 example (a distribution of "
              "2024): a $4,800 distribution with $1,000 of basis and a $4,000 RMD; the basis goes to the RMD first, "
              "so the other $800, all pre-tax, is the eligible rollover distribution (rolled over within 60 days "
              "here; 20% of it withheld).", ["WorkedExample"], {**QA8, "date": "2024-06-30"},
              citations=["REG_RMD", "IRC_402C4"], check=_check_qa8),
    Candidate("examples", "example:reg-1.402(c)-2-qa8-2025", "The Q&A-8 figures in 2025, under the regulation as "
              "rewritten by T.D. 10001: the amount rolled over consists first of the part not allocable to basis, "
              "and the first dollars are the RMD, so the $800 eligible is again all pre-tax.", ["WorkedExample"],
              {**QA8, "date": "2025-06-30"}, citations=["REG_RMD_2025", "IRC_402C4"], check=_check_qa8),
    Candidate("examples", "example:reg-1.402(c)-2-qa7", "Treas. Reg. §1.402(c)-2 Q&A-7(a) example: with a $5,000 "
              "RMD, the first $5,000 of a $7,200 payment is the RMD and the remaining $2,200 is an eligible rollover "
              "distribution, withheld at 20% ($440).", ["WorkedExample"],
              req(10_000_000, 0, [paid(720_000)], rmd=500_000), citations=["REG_RMD_2025", "IRC_3405"],
              check=_check_qa7),
]


def _withheld(amount: int) -> Callable[[dict], None]:
    def check(res: dict) -> None:
        assert res["withholding"] == amount == _row(res, "me")["withholding"]
        assert next(r for r in res["disbursements"] if r["id"] == "me")["form_1099r"]["box4"] == amount
    return check


# (key, description, request, the withholding worked by hand)
DE_MINIMIS: list[tuple[str, str, dict, int]] = [
    ("199.99", "A $199.99 payment, nothing else eligible this year: under the $200 floor, nothing is withheld.",
     req(10_000_000, 0, [paid(19_999)]), 0),
    ("200.00", "A $200.00 payment: the floor is reached, 20% ($40.00) is withheld.",
     req(10_000_000, 0, [paid(20_000)]), 4_000),
    ("1.50", "A $1.50 payment: nothing is withheld (it used to show 30 cents of mandatory withholding).",
     req(10_000_000, 0, [paid(150)]), 0),
    ("other-reaches", "A $150 payment with $50 of other eligible rollover distributions received this year: "
     "$200 in the year, so 20% of the $150 ($30) is withheld.",
     req(10_000_000, 0, [paid(15_000)], other_eligible_this_year=5_000), 3_000),
    ("other-short", "A $150 payment with $49.99 of other eligible rollover distributions this year: $199.99, "
     "nothing withheld.", req(10_000_000, 0, [paid(15_000)], other_eligible_this_year=4_999), 0),
    ("direct-not-received", "A $10,000 direct rollover and a $1.50 payment: the direct rollover is not received "
     "by the distributee and does not count toward the $200 (Q&A-6), so nothing is withheld.",
     req(10_000_000, 0, [direct("ira", "traditional_ira", 1_000_000), paid(150)]), 0),
    ("rmd-not-eligible", "A $250 payment of which $60 is the RMD: $190 is eligible, under $200, nothing withheld "
     "although all $250 is taxable.", req(10_000_000, 0, [paid(25_000)], rmd=6_000), 0),
    ("sixty-day-received", "A $300 payment of which $200 is rolled over within 60 days: the whole $300 was "
     "received, so the floor is reached and 20% of $300 ($60) is withheld.",
     req(10_000_000, 0, [paid(30_000)], rollovers_60_day=[{"id": "s0", "to": "traditional_ira", "amount": 20_000}]),
     6_000),
    ("aftertax-counts", "A $200 payment that is $180 after-tax and $20 pre-tax: the after-tax part counts toward "
     "the $200, and 20% of the $20 pre-tax ($4) is withheld.", req(100_000, 90_000, [paid(20_000)]), 400),
]


def _regime_is(regime: str) -> Callable[[dict], None]:
    def check(res: dict) -> None:
        assert res["regime"] == regime
    return check


def _seed_like(contract: str, date: str, **extra: Any) -> dict:
    to = "roth_ira" if contract == "designated_roth" else "traditional_ira"
    return req(10_000_000, 2_000_000, [direct("ira", to, 6_000_000), paid(2_000_000)], date=date,
               contract=contract, **extra)


def _dates_1_1() -> list[Candidate]:
    out = []
    cites = ["N2009_68", "CONTRACT_RULE10"]
    new, old = law.NEW, law.OLD
    for contract in law.CONTRACTS:
        for date in ("2014-09-17", "2014-09-18", "2014-12-31", "2015-01-01", "2015-12-31", "2016-01-01"):
            regime = law.default_regime(contract, datetime.date.fromisoformat(date))
            out.append(Candidate("regime", f"transition:{contract}:{date}", f"Transition day {date}, a {contract} "
                                 f"contract, no regime asked: the default is {regime}.", ["Boundary"],
                                 _seed_like(contract, date), citations=cites, check=_regime_is(regime)))
    asked = [("pretax_aftertax", "2014-12-31", old), ("pretax_aftertax", "2015-01-01", old),
             ("designated_roth", "2014-09-17", new), ("designated_roth", "2014-09-18", new),
             ("designated_roth", "2015-12-31", old), ("designated_roth", "2016-01-01", old)]
    for contract, date, regime in asked:
        ok = law.regime_permitted(contract, regime, datetime.date.fromisoformat(date))
        r = _seed_like(contract, date, regime=regime)
        out.append(Candidate("regime", f"transition-asked:{contract}:{date}:{regime}",
                             f"Transition day {date}, a {contract} contract asking for {regime}: "
                             f"{'permitted' if ok else 'not permitted'}.", ["Boundary"], r, citations=cites,
                             check=_regime_is(regime) if ok else None,
                             tags=[] if ok else ["error:regime_not_permitted"]))
    # the first day each route of the law was open (the day before is in the validation topic)
    open_days = [
        ("2002-01-01", "The first day rollsplit models: a distribution on January 1, 2002.",
         _seed_like("pretax_aftertax", "2002-01-01"), ["EFF_MODELLED_FROM"]),
        ("2006-01-01", "A designated Roth account on January 1, 2006, the first day of designated Roth accounts.",
         _seed_like("designated_roth", "2006-01-01"), ["EFF_DESIGNATED_ROTH"]),
        ("2011-01-01", "A governmental 457(b) plan's designated Roth account on January 1, 2011.",
         _seed_like("designated_roth", "2011-01-01", plan="457b_gov"), ["EFF_DESIGNATED_ROTH_457B"]),
        ("2007-01-01", "After-tax money directly into a 403(b) on January 1, 2007.",
         req(10_000_000, 2_000_000, [direct("tsa", "403b", 9_000_000), paid(1_000_000)], date="2007-01-01"),
         ["EFF_AFTERTAX_403B"]),
        ("2006-12-31-no-aftertax", "A direct rollover into a 403(b) that takes no after-tax money on December 31, "
         "2006: only pre-tax goes there, so the route was open.",
         req(10_000_000, 2_000_000, [direct("tsa", "403b", 6_000_000, accepts_aftertax=False), paid(2_000_000)],
             date="2006-12-31"), ["EFF_AFTERTAX_403B"]),
        ("2008-01-01", "A direct rollover from a plan to a Roth IRA on January 1, 2008.",
         req(10_000_000, 2_000_000, [direct("roth", "roth_ira", 6_000_000), paid(2_000_000)], date="2008-01-01"),
         ["EFF_ROTH_IRA"]),
        ("2010-09-28", "An in-plan Roth rollover on September 28, 2010, the first day the law allowed one.",
         req(10_000_000, 2_000_000, [direct("irr", "in_plan_roth", 6_000_000), paid(2_000_000)], date="2010-09-28"),
         ["EFF_IN_PLAN_ROTH"]),
        ("2011-01-01-457b", "An in-plan Roth rollover in a governmental 457(b) plan on January 1, 2011.",
         req(10_000_000, 2_000_000, [direct("irr", "in_plan_roth", 6_000_000), paid(2_000_000)], date="2011-01-01",
             plan="457b_gov"), ["EFF_IN_PLAN_ROTH_457B"]),
        ("qplo-2018-01-01", "A qualified plan loan offset on January 1, 2018, the first day of §402(c)(3)(C).",
         req(10_000_000, 2_000_000, [direct("ira", "traditional_ira", 6_000_000),
                                     {"id": "me", "method": "paid", "amount": 1_000_000, "loan_offset": 1_000_000,
                                      "qualified_plan_loan_offset": True}], date="2018-01-01"), ["EFF_QPLO"]),
        ("roth-rmd-2024-04-01", "A designated Roth account pays its 2023 RMD on April 1, 2024, the last day it "
         "could be due.", _seed_like("designated_roth", "2024-04-01", rmd=100_000), ["IRC_402A_D5"]),
        ("roth-rmd-2023-12-31", "A designated Roth account pays an RMD on December 31, 2023.",
         _seed_like("designated_roth", "2023-12-31", rmd=100_000), ["IRC_402A_D5"]),
    ]
    for key, text, r, c in open_days:
        out.append(Candidate("effective_dates", f"effective:{key}", text, ["Boundary"], r, citations=c))
    return out


def _check_irr_whole(res: dict) -> None:
    # IRS in-plan Roth page: "The amount includible in gross income for the year of the rollover is: the amount
    # rolled over, less any basis in the amount transferred": $100,000 - $20,000 = $80,000
    assert _rows(res, "irr") == [(80 * M, 20 * M, 80 * M)]
    irr = next(r for r in res["disbursements"] if r["id"] == "irr")
    assert irr["form_1099r"] == {"box1": 100 * M, "box2a": 80 * M, "box4": 0, "box5": 20 * M, "box7": "G"}
    assert res["withholding"] == 0 and res["taxable_income"] == 80 * M


IN_PLAN = [
    ("in_plan_roth", "irr-whole-account",
     "The whole $100,000 account ($20,000 after-tax) rolled directly into the plan's designated Roth account: the "
     "$80,000 pre-tax is includible, the $20,000 after-tax is not; Form 1099-R box 1 $100,000, box 2a $80,000, box "
     "5 $20,000, code G; nothing withheld.", ["IRC_402A_C4", "FORM_1099R_IRR"],
     req(100 * M, 20 * M, [direct("irr", "in_plan_roth", 100 * M)]), _check_irr_whole),
    ("in_plan_roth", "irr-after-traditional-ira",
     "$50,000 directly to a traditional IRA and $50,000 into the plan's designated Roth account, no election: the "
     "traditional IRA takes pre-tax first ($50,000); the in-plan rollover carries the other $30,000 pre-tax "
     "(taxable) and all $20,000 after-tax (not taxable). Putting the in-plan Roth first would tax $50,000.",
     ["IRC_402A_C4", "N2014_DIRECT", "N2014_CHOICE"],
     req(100 * M, 20 * M, [direct("ira", "traditional_ira", 50 * M), direct("irr", "in_plan_roth", 50 * M)]),
     _expect({"ira": (50 * M, 0, 0), "irr": (30 * M, 20 * M, 30 * M)}, taxable=30 * M)),
    ("in_plan_roth", "irr-sixty-day",
     "The whole $100,000 paid and rolled into the plan's designated Roth account within 60 days: 20% of the $80,000 "
     "pre-tax ($16,000) is withheld at payment; the rollover's $80,000 pre-tax is includible, the payment itself "
     "then is not.", ["IRC_402A_C4", "IRC_3405", "IRC_402C2"],
     req(100 * M, 20 * M, [paid(100 * M)], rollovers_60_day=[sixty("s0", "in_plan_roth", 100 * M)]),
     _expect({"s0": (80 * M, 20 * M, 80 * M), "me": (80 * M, 20 * M, 0)}, taxable=80 * M)),
    ("in_plan_roth", "irr-from-designated-roth",
     "Money of a designated Roth account cannot be rolled into the same plan's designated Roth account (it is Roth "
     "money already): rejected.", ["IRC_402A_C4", "IRC_402A"],
     req(100 * M, 20 * M, [direct("irr", "in_plan_roth", 50 * M), paid(50 * M)], contract="designated_roth"),
     "ineligible_destination"),
]


def offset_row(cash: int, offset: int, qualified: bool = True) -> dict:
    row = {"id": "me", "method": "paid", "amount": cash, "loan_offset": offset}
    if qualified:
        row["qualified_plan_loan_offset"] = True
    return row


def _offset_check(withheld: int, box1: int, box7: str | None, taxable: int) -> Callable[[dict], None]:
    def check(res: dict) -> None:
        me = next(r for r in res["disbursements"] if r["id"] == "me")
        assert (me["withholding"], me["form_1099r"]["box4"], res["withholding"]) == (withheld, withheld, withheld)
        assert (me["form_1099r"]["box1"], me["form_1099r"]["box7"]) == (box1, box7)
        assert res["taxable_income"] == taxable
    return check


# Treas. Reg. §1.402(c)-2(g)(5) (T.D. 10001; the same figures in the earlier Q&A-9 and §1.402(c)-3): a $10,000
# account of which $3,000 is a plan loan, offset after severance from employment (a qualified plan loan offset)
LOAN_OFFSETS = [
    ("reg-1.402(c)-2(g)-example-1", "Treas. Reg. §1.402(c)-2(g)(5) Example 1: $10,000 account, $3,000 of it a plan "
     "loan offset after severance; the $7,000 goes by direct rollover. No withholding: no cash is received from "
     "which to withhold; the $3,000 offset is reported with code M and may be rolled over by the tax return's due "
     "date.", ["REG_LOAN_OFFSET", "REG_3405_OFFSET", "IRC_402C3C", "FORM_1099R_M"],
     req(1_000_000, 0, [direct("ira", "traditional_ira", 700_000), offset_row(0, 300_000)], date="2025-09-18"),
     _offset_check(0, 300_000, "M", 300_000)),
    ("reg-1.402(c)-2(g)-example-4", "Treas. Reg. §1.402(c)-2(g)(5) Example 4: the $3,000 offset and $7,000 in cash: "
     "20% of $10,000 ($2,000) is withheld from the $7,000 cash, so the employee receives $5,000; box 1 is $10,000.",
     ["REG_LOAN_OFFSET", "REG_3405_OFFSET", "IRC_402C3C", "FORM_1099R_M"],
     req(1_000_000, 0, [offset_row(700_000, 300_000)], date="2025-09-18"),
     _offset_check(200_000, 1_000_000, "M", 1_000_000)),
    ("offset-cap", "A $9,000 plan loan offset and $1,000 in cash: 20% of $10,000 is $2,000, but no more than the "
     "$1,000 of cash can be withheld (Reg. §31.3405(c)-1 Q&A-11).", ["REG_3405_OFFSET"],
     req(1_000_000, 0, [offset_row(100_000, 900_000, qualified=False)]), _offset_check(100_000, 1_000_000, None,
                                                                                      1_000_000)),
    ("offset-rolled-over", "The $3,000 qualified plan loan offset of Example 1 rolled over to a traditional IRA "
     "(by the due date of the return, §402(c)(3)(C)): nothing is taxable.", ["IRC_402C3C", "IRC_402C2"],
     req(1_000_000, 0, [direct("ira", "traditional_ira", 700_000), offset_row(0, 300_000)], date="2025-09-18",
         rollovers_60_day=[{"id": "s0", "to": "traditional_ira", "amount": 300_000}]),
     _offset_check(0, 300_000, "M", 0)),
    ("offset-designated-roth", "A qualified plan loan offset in a designated Roth account ($10,000 with $2,000 of "
     "contributions, not a qualified distribution): the $7,000 direct rollover to a Roth IRA takes earnings first, "
     "so the $3,000 offset is $1,000 of earnings (taxable) and $2,000 of contributions; box 7 carries B and M (and "
     "the payor's age code).", ["FORM_1099R", "FORM_1099R_M"],
     req(1_000_000, 200_000, [direct("r", "roth_ira", 700_000), offset_row(0, 300_000)], contract="designated_roth",
         date="2025-09-18"), _offset_check(0, 300_000, "B,M", 100_000)),
]


def contract_1_1_candidates() -> list[Candidate]:
    out = list(EXAMPLES_1_1)
    for key, text, r, w in DE_MINIMIS:
        out.append(Candidate("withholding", f"de-minimis:{key}", text, ["Boundary", "Targeted"], r,
                             citations=["REG_3405_200", "REG_3405_RECEIVES"], check=_withheld(w)))
    for key, text, cites, request, check in LOAN_OFFSETS:
        flags = ["WorkedExample"] if key.startswith("reg-") else ["Targeted"]
        out.append(Candidate("loan_offset" if not key.startswith("reg-") else "examples", f"loan-offset:{key}", text,
                             flags, request, citations=cites, check=check))
    for topic, key, text, cites, request, expect in IN_PLAN:
        error = isinstance(expect, str)
        out.append(Candidate(topic, f"targeted:{key}", text, ["Targeted"], request, citations=cites,
                             check=None if error else expect, tags=[f"error:{expect}"] if error else []))
    return out + _dates_1_1()


def candidates() -> list[Candidate]:
    return (EXAMPLES + invalid_candidates() + large_candidates() + targeted_candidates() + contract_1_1_candidates()
            + contract_1_2_candidates())


# ---- (g) contract 1.2: who receives the money, box 7's code for the age or event, box 11 -----------------------
# Every figure below was worked by hand before the reference was asked (the export checks the reference against
# them). The DOMAIN seed: a $100,000 account with $20,000 after-tax; a $20,000 payment alone carries
# $20,000 x $20,000 / $100,000 = $4,000 after-tax and $16,000 pre-tax, taxable, withheld at 20% ($3,200); $60,000
# rolled over directly with $20,000 paid distributes $80,000 = $16,000 after-tax + $64,000 pre-tax, the direct
# rollover takes $60,000 pre-tax first (Notice 2014-54), the payment $4,000 pre-tax (withheld at 20%: $800) and
# $16,000 after-tax.
def _forms(taxable: int | None = None, withholding: int | None = None, **forms: dict) -> Callable[[dict], None]:
    """Asserts each named disbursement's whole Form 1099-R (box 11 absent unless named), and the totals."""
    def check(res: dict) -> None:
        for id, form in forms.items():
            assert next(r for r in res["disbursements"] if r["id"] == id)["form_1099r"] == form, (id, form)
        if taxable is not None:
            assert res["taxable_income"] == taxable
        if withholding is not None:
            assert res["withholding"] == withholding
    return check


def _form(box1: int, box2a: int, box4: int, box5: int, box7: str | None, box11: int | None = None) -> dict:
    f = {"box1": box1, "box2a": box2a, "box4": box4, "box5": box5, "box7": box7}
    if box11 is not None:
        f["box11"] = box11
    return f


def _both(*checks: Callable[[dict], None]) -> Callable[[dict], None]:
    def check(res: dict) -> None:
        for c in checks:
            c(res)
    return check


SEED_CASH = _form(20 * M, 16 * M, 3_200 * 100, 4 * M, None)       # the $20,000 payment alone, box 7 to be set
CASH_BESIDE_DIRECT = _form(20 * M, 4 * M, 800 * 100, 16 * M, None)  # the $20,000 paid beside the $60,000 rollover


def _cash(box7: str | None, beside_direct: bool = False, box11: int | None = None) -> dict:
    f = dict(CASH_BESIDE_DIRECT if beside_direct else SEED_CASH, box7=box7)
    if box11 is not None:
        f["box11"] = box11
    return f


def _paid_by(birth: str, date: str, plan: str = "401a", **facts: Any) -> dict:
    """The seed's $20,000 payment alone, to the participant born `birth`."""
    return req(100 * M, 20 * M, [paid(20 * M)], date=date, plan=plan, participant={"birth_date": birth, **facts})


def _seed_to(to: str, recipient: str, **extra: Any) -> dict:
    """The seed's $60,000 direct rollover to `to` and $20,000 payment, paid to `recipient`."""
    return req(100 * M, 20 * M, [direct("ira", to, 60 * M), paid(20 * M)], recipient=recipient, **extra)


SEP_55 = {"separation_date": "2025-05-01"}


def _jordan(rolled: int) -> dict:
    """The IRS's example: Jordan, 42, paid a $10,000 distribution from an all pre-tax 401(k), `rolled` of it rolled
    over within 60 days to a traditional IRA."""
    return req(10_000 * 100, 0, [paid(10_000 * 100)], participant={"birth_date": "1983-01-01"},
               rollovers_60_day=[{"id": "ira", "to": "traditional_ira", "amount": rolled}])


# the payment's Form 1099-R either way: $10,000 gross and taxable, $2,000 withheld, code 1 (under 59½)
JORDAN_FORM = _form(10_000 * 100, 10_000 * 100, 2_000 * 100, 0, "1")
JORDAN_CITES = ["IRS_ROLLOVERS_PAGE", "IRC_3405", "FORM_1099R_CODES"]
# (topic, stable key, flags, description, citations, request, check)
WHO: list[tuple[str, str, list[str], str, list[str], dict, Callable[[dict], None]]] = [
    # -- the IRS's worked example of a 60-day rollover (its figures: a $10,000 distribution, $2,000 withheld) -----
    ("recipients", "example:irs-rollovers-page-jordan-8000", ["WorkedExample"],
     "IRS, Rollovers of retirement plan and IRA distributions: Jordan, age 42, receives a $10,000 eligible rollover "
     "distribution from her 401(k) plan; $2,000 is withheld, and she rolls over the $8,000 she received within 60 "
     "days: $2,000 taxable, $8,000 a nontaxable rollover, $2,000 of tax paid, and code 1 (under 59½, no known "
     "exception: \"Jordan must also pay the 10% additional tax on early distributions on the $2,000 unless she "
     "qualifies for an exception\"). The account is taken to be all pre-tax and the date June 30, 2025.",
     JORDAN_CITES, _jordan(8_000 * 100), _forms(2_000 * 100, 2_000 * 100, me=JORDAN_FORM)),
    ("recipients", "example:irs-rollovers-page-jordan-10000", ["WorkedExample"],
     "The same example, second case: Jordan rolls over the full $10,000 within 60 days, $2,000 of it from other "
     "sources: nothing is taxable, and the $2,000 withheld is tax paid. The payment's Form 1099-R is the same; "
     "the rollover is reported by the IRA, not on it.",
     JORDAN_CITES, _jordan(10_000 * 100), _forms(0, 2_000 * 100, me=JORDAN_FORM)),
    # -- box 7 for the participant's age or event --------------------------------------------------------------
    ("recipients", "box7:separation-in-year-of-55", ["Targeted"],
     "IRC §72(t)(2)(A)(v), \"made to an employee after separation from service after attainment of age 55\", in or "
     "after the calendar year of age 55 (Notice 87-13 Q&A-20): the participant, born March 1, 1970, separated on May "
     "1, 2025 and is paid $20,000 from a 401(a) plan on June 30, 2025, under 59½ (September 1, 2029): an early "
     "distribution with an exception, box 7 code 2. $4,000 after-tax, $16,000 pre-tax, taxable, $3,200 withheld.",
     ["FORM_1099R_CODES", "IRC_72E8", "IRC_3405"], _paid_by("1970-03-01", "2025-06-30", **SEP_55),
     _forms(16 * M, 3_200 * 100, me=_cash("2"))),
    ("recipients", "box7:separation-year-before-55", ["Targeted"],
     "The same participant separated on December 31, 2024, the calendar year before the one of age 55 (2025): no "
     "exception is known, box 7 code 1 (\"Use Code 1 only if the participant has not reached age 59½, and you do "
     "not know if any of the exceptions ... apply\").", ["FORM_1099R_CODES"],
     _paid_by("1970-03-01", "2025-06-30", separation_date="2024-12-31"), _forms(me=_cash("1"))),
    ("recipients", "box7:separation-year-of-55-403b", ["Targeted"],
     "A 403(b) contract is a qualified plan for the age-55 exception (Instructions for Forms 1099-R, code 2): the "
     "participant born March 1, 1970, separated May 1, 2025, paid $20,000 on June 30, 2025: code 2.",
     ["FORM_1099R_CODES"], _paid_by("1970-03-01", "2025-06-30", plan="403b", **SEP_55), _forms(me=_cash("2"))),
    ("recipients", "box7:separation-year-of-55-457b", ["Targeted"],
     "A governmental 457(b) plan under 59½: the §72(t) tax applies only to money rolled into it from another kind of "
     "plan (§72(t)(9)), which the request does not tell apart, so the answer gives no code for the age and leaves it "
     "to the payor: box 7 null, whatever the separation.", ["FORM_1099R_CODES"],
     _paid_by("1970-03-01", "2025-06-30", plan="457b_gov", **SEP_55), _forms(me=_cash(None))),
    ("recipients", "box7:59-half-day-before", ["Boundary"],
     "Age 59½ is reached six calendar months after the 59th birthday, the day clamped to the month's end: born "
     "August 31, 1966, the participant turns 59 on August 31, 2025 and 59½ on February 28, 2026. Paid $20,000 on "
     "February 27, 2026, the day before: code 1.", ["FORM_1099R_CODES"],
     _paid_by("1966-08-31", "2026-02-27"), _forms(me=_cash("1"))),
    ("recipients", "box7:59-half-day", ["Boundary"],
     "Born August 31, 1966, paid $20,000 on February 28, 2026, the day the participant attains 59½ (August 31 plus "
     "six months, clamped to February 28): a normal distribution, code 7 (\"if the employee/taxpayer is at least "
     "age 59½\").", ["FORM_1099R_CODES"], _paid_by("1966-08-31", "2026-02-28"), _forms(me=_cash("7"))),
    ("recipients", "box7:59-half-leap-day", ["Boundary"],
     "Born August 31, 1968: 59 on August 31, 2027, 59½ on February 29, 2028 (a leap year: the clamp stops at the "
     "29th). Paid on February 28, 2028: code 1.", ["FORM_1099R_CODES"],
     _paid_by("1968-08-31", "2028-02-28"), _forms(me=_cash("1"))),
    ("recipients", "box7:disabled-under-59-half", ["Targeted"],
     "The participant, born January 1, 1980, is disabled (§72(t)(2)(A)(iii), §72(m)(7)) and is paid $20,000 on June "
     "30, 2025: code 3.", ["FORM_1099R_CODES"], _paid_by("1980-01-01", "2025-06-30", disabled=True),
     _forms(me=_cash("3"))),
    ("recipients", "box7:qdro-alternate-payee", ["Targeted"],
     "An alternate payee spouse under a qualified domestic relations order, the participant born January 1, 1980 "
     "(under 59½): §72(t)(2)(C) exempts \"any distribution to an alternate payee pursuant to a qualified domestic "
     "relations order\": the $20,000 paid takes code 2; the $60,000 direct rollover to her traditional IRA code G "
     "alone (G stands with no code 2). The figures are the seed's: $60,000 pre-tax rolled over, $4,000 pre-tax "
     "(taxable, $800 withheld) and $16,000 after-tax paid.", ["IRC_402E1", "FORM_1099R_CODES", "FORM_1099R"],
     _seed_to("traditional_ira", "alternate_payee_spouse", participant={"birth_date": "1980-01-01"}),
     _forms(4 * M, 800 * 100, ira=_form(60 * M, 0, 0, 0, "G"), me=_cash("2", beside_direct=True))),
    # -- beneficiaries -------------------------------------------------------------------------------------------
    ("recipients", "nonspouse:inherited-traditional-ira", ["Targeted"],
     "A beneficiary who is not the surviving spouse rolls $60,000 of the seed account directly into an inherited "
     "traditional IRA (§402(c)(11)) and is paid $20,000: the direct rollover takes $60,000 pre-tax, box 2a $0, box 7 "
     "4,G (\"If the direct rollover is made on behalf of a nonspouse designated beneficiary, also enter Code 4\"); "
     "the payment carries $4,000 pre-tax (taxable) and $16,000 after-tax, 20% of $4,000 ($800) withheld, code 4.",
     ["IRC_402C11", "FORM_1099R_4G", "N2014_DIRECT", "IRC_3405"],
     _seed_to("inherited_traditional_ira", "nonspouse_beneficiary"),
     _forms(4 * M, 800 * 100, ira=_form(60 * M, 0, 0, 0, "4,G"), me=_cash("4", beside_direct=True))),
    ("recipients", "nonspouse:inherited-roth-ira", ["Targeted"],
     "The same into an inherited Roth IRA: its $60,000 pre-tax is includible as a conversion (§408A(d)(3)(A)), box "
     "2a $60,000, box 7 4,G; the payment as before (code 4, $800 withheld): $64,000 taxable.",
     ["IRC_402C11", "IRC_408A", "FORM_1099R_4G"], _seed_to("inherited_roth_ira", "nonspouse_beneficiary"),
     _forms(64 * M, 800 * 100, ira=_form(60 * M, 60 * M, 0, 0, "4,G"), me=_cash("4", beside_direct=True))),
    ("recipients", "spouse:own-traditional-ira", ["Targeted"],
     "The surviving spouse rolls over \"in the same manner as if the spouse were the employee\" (§402(c)(9)): $60,000 "
     "directly into her own traditional IRA (box 7 4,G, code 4 for a payment to a beneficiary whatever the age) and "
     "$20,000 paid (code 4; $800 withheld).", ["IRC_402C9", "FORM_1099R_CODES"],
     _seed_to("traditional_ira", "spouse_beneficiary"),
     _forms(4 * M, 800 * 100, ira=_form(60 * M, 0, 0, 0, "4,G"), me=_cash("4", beside_direct=True))),
    ("recipients", "spouse:sixty-day-rollover", ["Targeted"],
     "The surviving spouse may roll over within 60 days, as the employee may (§402(c)(9)): the seed's $20,000 paid "
     "($16,000 pre-tax, $4,000 after-tax, 20% of $16,000 = $3,200 withheld at payment, code 4) and $16,000 rolled "
     "into a traditional IRA within 60 days, all pre-tax (§402(c)(2)): nothing is taxable.",
     ["IRC_402C9", "IRC_402C2", "IRC_3405"],
     req(100 * M, 20 * M, [paid(20 * M)], recipient="spouse_beneficiary",
         rollovers_60_day=[sixty("s0", "traditional_ira", 16 * M)]),
     _both(_forms(0, 3_200 * 100, me=_cash("4")), _expect({"s0": (16 * M, 0, 0), "me": (16 * M, 4 * M, 0)}))),
    ("recipients", "nonspouse:designated-roth-inherited-roth-ira", ["Targeted"],
     "A designated Roth account ($100,000, $20,000 of contributions; first Roth contributions in 2022, so not "
     "qualified in 2025) to a beneficiary who is not the surviving spouse: $60,000 directly into an inherited Roth "
     "IRA takes $60,000 of earnings, not taxed (box 7 4,H: H \"for a direct rollover to a Roth IRA\", with 4); the "
     "$20,000 paid carries $4,000 of earnings, taxable ($800 withheld), and $16,000 of contributions (box 7 4,B). "
     "Box 11, \"the first year a designated Roth contribution was made\", 2022 on both forms.",
     ["IRC_402C11", "FORM_1099R", "FORM_1099R_CODES", "PUB_1220_BOX11"],
     _seed_to("inherited_roth_ira", "nonspouse_beneficiary", contract="designated_roth",
              participant={"first_roth_contribution_year": 2022}),
     _forms(4 * M, 800 * 100, ira=_form(60 * M, 0, 0, 0, "4,H", 2022),
            me=_cash("4,B", beside_direct=True, box11=2022))),
    ("recipients", "nonspouse:designated-roth-rmd", ["Targeted"],
     "§402A(d)(5) switches off the lifetime required minimum distributions of a designated Roth account only "
     "\"before death\": a beneficiary's $5,000 RMD inside a $20,000 payment in 2025 is valid. The RMD takes the "
     "$4,000 of contributions first and $1,000 of earnings; the other $15,000 of earnings is eligible, 20% ($3,000) "
     "withheld; $16,000 taxable; box 7 4,B.", ["IRC_402A_D5", "REG_RMD_2025", "IRC_3405"],
     req(100 * M, 20 * M, [paid(20 * M)], contract="designated_roth", recipient="nonspouse_beneficiary", rmd=5 * M),
     _forms(16 * M, 3_000 * 100, me=_form(20 * M, 16 * M, 3_000 * 100, 4 * M, "4,B"))),
    # -- designated Roth: box 11 and the qualified distribution the facts decide ---------------------------------
    ("designated_roth", "box11:not-qualified-within-five-years", ["Targeted"],
     "§402A(d)(2)(B): a distribution \"within the 5-taxable-year period beginning with ... the first taxable year "
     "for which the individual made a designated Roth contribution\" is not qualified: first contributions in 2021, "
     "paid $20,000 on December 31, 2025 to the participant born January 1, 1960 (past 59½): $16,000 of earnings "
     "taxable, $3,200 withheld; box 7 7,B; box 11 2021.", ["IRC_402A_D4", "FORM_1099R_CODES", "PUB_1220_BOX11"],
     req(100 * M, 20 * M, [paid(20 * M)], contract="designated_roth", date="2025-12-31",
         participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2021}),
     _forms(16 * M, 3_200 * 100, me=_cash("7,B", box11=2021))),
    ("designated_roth", "box11:qualified-after-five-years", ["Targeted"],
     "The same paid on January 2, 2026: the 5-taxable-year period (2021-2025) has ended and the participant is past "
     "59½, a qualified distribution (qualified_roth true), not includible (§402A(d)(1)): nothing taxable or "
     "withheld, the whole $20,000 reported in box 5 as the contract reads a qualified distribution; box 7 7,B; box "
     "11 2021.", ["IRC_402A_D4", "FORM_1099R_CODES", "PUB_1220_BOX11"],
     req(100 * M, 20 * M, [paid(20 * M)], contract="designated_roth", date="2026-01-02", qualified_roth=True,
         participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2021}),
     _forms(0, 0, me=_form(20 * M, 0, 0, 20 * M, "7,B", 2021))),
    # -- the first day a nonspouse beneficiary's rollover is modelled ----------------------------------------------
    ("effective_dates", "effective:nonspouse-2011-01-01", ["Boundary"],
     "A beneficiary who is not the surviving spouse on January 1, 2011, the first day rollsplit models (every plan "
     "year had begun after December 31, 2009, WRERA 2008 §108(f)): the seed into an inherited traditional IRA, 4,G "
     "and 4, $800 withheld.", ["EFF_NONSPOUSE", "IRC_402C11"],
     _seed_to("inherited_traditional_ira", "nonspouse_beneficiary", date="2011-01-01"),
     _forms(4 * M, 800 * 100, ira=_form(60 * M, 0, 0, 0, "4,G"), me=_cash("4", beside_direct=True))),
]


def contract_1_2_candidates() -> list[Candidate]:
    return [Candidate(topic, key if key.startswith("effective:") else f"who:{key}", text, flags, request,
                      citations=cites, check=check)
            for topic, key, flags, text, cites, request, check in WHO]
