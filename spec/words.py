"""The law's names for the contract's values, and dates as people write them: one table for every text a person
reads (the explanation of `rollsplit allocate`, the vendors' reports)."""

from __future__ import annotations

import datetime

from rollsplit.spec import law

REGIME_NAMES = {law.NEW: "IRS Notice 2014-54",
                law.OLD: "the earlier rule (IRS Notice 2009-68)"}
PLAN_NAMES = {"401a": "a qualified plan under IRC §401(a) (a 401(k) plan, for example)",
              "403b": "a 403(b) plan",
              "457b_gov": "a governmental 457(b) plan"}
ACCOUNT_NAMES = {"pretax_aftertax": "an account of pre-tax money and after-tax contributions",
                 "designated_roth": "a designated Roth account"}
# where a rollover goes, as the object of "to"
DESTINATION_NAMES = {"traditional_ira": "a traditional IRA",
                     "roth_ira": "a Roth IRA",
                     "qualified_plan": "a qualified plan",
                     "403b": "a 403(b) plan",
                     "457b_gov": "a governmental 457(b) plan",
                     "designated_roth": "another designated Roth account",
                     "in_plan_roth": "the plan's own designated Roth account (an in-plan Roth rollover)",
                     "inherited_traditional_ira": "an inherited traditional IRA",
                     "inherited_roth_ira": "an inherited Roth IRA"}
# the same, short, for tables
DESTINATION_SHORT = {"traditional_ira": "traditional IRA", "roth_ira": "Roth IRA", "qualified_plan": "qualified plan",
                     "403b": "403(b) plan", "457b_gov": "governmental 457(b) plan",
                     "designated_roth": "another designated Roth account", "in_plan_roth": "in-plan Roth rollover",
                     "inherited_traditional_ira": "inherited traditional IRA", "inherited_roth_ira": "inherited Roth IRA"}
RECIPIENT_NAMES = {"participant": "the participant", "spouse_beneficiary": "the surviving spouse",
                   "nonspouse_beneficiary": "a beneficiary who is not the surviving spouse",
                   "alternate_payee_spouse": "an alternate payee spouse or former spouse under a QDRO"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def long_date(d: datetime.date) -> str:
    """June 30, 2025."""
    return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"


def destination_words(d) -> str:
    """Where a direct rollover goes, as the object of "to": "a qualified plan that does not take after-tax money"
    for a plan or 403(b) that refuses it (`accepts_aftertax` false), else the destination's name."""
    closed = " that does not take after-tax money" if d.to in ("qualified_plan", "403b") and not d.accepts_aftertax else ""
    return DESTINATION_NAMES[d.to] + closed
