"""A hint for a value outside one of the contract's enumerations: "did you mean ...?", with the contract's word.

People write a plan or a destination as the law or habit names it ("401k", "401(k)", "403(b)", "Roth IRA",
"rollover IRA"); the contract has its own words ("401a", "403b", "roth_ira", "traditional_ira"). `enum_hint`
turns such a value into one sentence naming the contract's value and what it means in the law's words, or None
when nothing is close. `with_hint` appends it to a message. Values are quoted as JSON strings, as the parser's
messages quote them.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from rollsplit.spec import law

# what each value of the contract means, in the law's words
MEANINGS: dict[str, dict[str, str]] = {
    "plan": {
        "401a": "a qualified plan under IRC §401(a), such as a 401(k) or profit-sharing plan",
        "403b": "a 403(b) plan",
        "457b_gov": "a governmental 457(b) plan (a 457(b) plan of a tax-exempt employer is not modelled)",
    },
    "contract": {
        "pretax_aftertax": "an account of pre-tax money and after-tax contributions",
        "designated_roth": "a designated Roth account (a Roth 401(k), Roth 403(b) or Roth 457(b) account)",
    },
    "method": {
        "direct": "a direct rollover to another plan or an IRA",
        "paid": "a payment to the participant",
    },
    "to": {
        "traditional_ira": "a traditional IRA (a rollover IRA is one)",
        "roth_ira": "a Roth IRA",
        "qualified_plan": "another qualified plan under IRC §401(a), such as a 401(k) plan",
        "403b": "a 403(b) plan",
        "457b_gov": "a governmental 457(b) plan",
        "designated_roth": "a designated Roth account in another plan",
        "in_plan_roth": "the plan's own designated Roth account (an in-plan Roth rollover)",
        "inherited_traditional_ira": "a traditional IRA kept for a beneficiary (an inherited IRA)",
        "inherited_roth_ira": "a Roth IRA kept for a beneficiary (an inherited Roth IRA)",
    },
    "recipient": {
        "participant": "the participant (the employee whose account it is)",
        "spouse_beneficiary": "the participant's surviving spouse, as beneficiary",
        "nonspouse_beneficiary": "a beneficiary who is not the participant's surviving spouse",
        "alternate_payee_spouse": "a spouse or former spouse who is an alternate payee under a qualified domestic "
                                  "relations order",
    },
    "regime": {
        "notice_2014_54": "the rule of IRS Notice 2014-54 (one distribution, pre-tax money to direct rollovers first)",
        "notice_2009_68": "the earlier rule (IRS Notice 2009-68: each disbursement its own pro rata share)",
    },
}
_ALLOWED = {"plan": law.PLANS, "contract": law.CONTRACTS, "method": law.METHODS, "to": law.DESTINATIONS,
            "regime": law.REGIMES, "recipient": law.RECIPIENTS}
assert all(set(MEANINGS[f]) == set(values) for f, values in _ALLOWED.items())

# what people write -> the contract's values it may mean (keys normalized by `_key`)
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "plan": {
        **dict.fromkeys(("401", "401k", "qualified", "qualifiedplan", "profitsharing", "profitsharingplan",
                         "moneypurchase", "pension", "401kplan", "401aplan"), ("401a",)),
        **dict.fromkeys(("403", "403bplan", "tsa", "taxshelteredannuity"), ("403b",)),
        **dict.fromkeys(("457", "457b", "457plan", "457bplan", "governmental457b", "gov457b", "457bgovernmental",
                         "457gov"), ("457b_gov",)),
        **dict.fromkeys(("roth401k", "roth401a"), ("401a",)),
        **dict.fromkeys(("roth403b",), ("403b",)),
        **dict.fromkeys(("roth457b", "roth457"), ("457b_gov",)),
    },
    "contract": {
        **dict.fromkeys(("roth", "rothaccount", "designatedroth", "designatedrothaccount", "roth401k", "roth403b",
                         "roth457b"), ("designated_roth",)),
        **dict.fromkeys(("pretax", "aftertax", "traditional", "pretaxandaftertax", "pretaxaftertax", "regular",
                         "nonroth"), ("pretax_aftertax",)),
    },
    "method": {
        **dict.fromkeys(("rollover", "directrollover", "trusteetotrustee", "transfer", "dr"), ("direct",)),
        **dict.fromkeys(("cash", "payment", "pay", "paidtoparticipant", "check", "distribution", "participant"),
                        ("paid",)),
    },
    "to": {
        **dict.fromkeys(("ira", "traditional", "traditionalira", "tradira", "rolloverira", "tira"),
                        ("traditional_ira",)),
        **dict.fromkeys(("rothira", "rira"), ("roth_ira",)),
        "roth": ("roth_ira", "designated_roth", "in_plan_roth"),
        **dict.fromkeys(("401", "401k", "401a", "qualified", "qualifiedplan", "plan", "employerplan", "401kplan"),
                        ("qualified_plan",)),
        **dict.fromkeys(("403", "403bplan", "tsa"), ("403b",)),
        **dict.fromkeys(("457", "457b", "457bgov", "457bplan", "governmental457b"), ("457b_gov",)),
        **dict.fromkeys(("designatedroth", "designatedrothaccount", "roth401k", "roth403b", "roth457b"),
                        ("designated_roth",)),
        **dict.fromkeys(("inplanroth", "inplanrothrollover", "inplanrothconversion", "irr", "inplan"),
                        ("in_plan_roth",)),
        **dict.fromkeys(("inheritedira", "beneficiaryira", "inheritedtraditionalira", "inheritedtraditional",
                         "bdaira", "decedentira"), ("inherited_traditional_ira",)),
        **dict.fromkeys(("inheritedrothira", "inheritedroth", "beneficiaryrothira"), ("inherited_roth_ira",)),
    },
    "recipient": {
        **dict.fromkeys(("employee", "owner", "accountholder", "member", "self"), ("participant",)),
        **dict.fromkeys(("spouse", "survivingspouse", "widow", "widower", "spousebeneficiary"),
                        ("spouse_beneficiary",)),
        **dict.fromkeys(("beneficiary", "nonspouse", "nonspousebeneficiary", "child", "heir"),
                        ("nonspouse_beneficiary",)),
        **dict.fromkeys(("qdro", "alternatepayee", "exspouse", "formerspouse", "alternatepayeespouse"),
                        ("alternate_payee_spouse",)),
    },
    "regime": {
        **dict.fromkeys(("2014", "201454", "notice201454", "n201454", "new", "current", "newrule"),
                        ("notice_2014_54",)),
        **dict.fromkeys(("2009", "200968", "notice200968", "n200968", "old", "oldrule", "pre2015", "pre2014"),
                        ("notice_2009_68",)),
    },
}
# words that need more than a value: a Roth 401(k) is a plan type and an account type at once
NOTES: dict[tuple[str, str], str] = {
    ("plan", "roth401k"): 'A Roth 401(k) is a designated Roth account in a 401(k) plan: give plan "401a" and contract '
                          '"designated_roth".',
    ("plan", "roth401a"): 'A Roth 401(k) is a designated Roth account in a 401(k) plan: give plan "401a" and contract '
                          '"designated_roth".',
    ("plan", "roth403b"): 'A Roth 403(b) is a designated Roth account in a 403(b) plan: give plan "403b" and contract '
                          '"designated_roth".',
    ("plan", "roth457b"): 'A Roth 457(b) is a designated Roth account in a governmental 457(b) plan: give plan '
                          '"457b_gov" and contract "designated_roth".',
    ("plan", "roth457"): 'A Roth 457(b) is a designated Roth account in a governmental 457(b) plan: give plan '
                         '"457b_gov" and contract "designated_roth".',
}
_SIXTY_DAY = {"60day", "60dayrollover", "sixtyday", "sixtydayrollover", "indirect", "indirectrollover"}


def _key(value: str) -> str:
    return re.sub(r"[\s()\-_./'\"§]+", "", value.lower())


def _field(path: str) -> str:
    """The enumeration a JSON path names: "disbursements[2].to" -> "to"."""
    return re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]


def _say(field: str, values: tuple[str, ...]) -> str:
    named = [f"{json.dumps(v)} for {MEANINGS[field][v]}" for v in values]
    listed = named[0] if len(named) == 1 else "; ".join(named[:-1]) + "; or " + named[-1]
    return f"Perhaps you mean {listed}."   # a statement: every message of the contract ends with a full stop


def enum_hint(field: str, value: Any) -> str | None:
    """One sentence for a value of `field` (a name or a JSON path ending in plan, contract, method, to or regime)
    that is not one of the contract's values, naming the value it most likely means; None when nothing is close
    or the value is valid."""
    field = _field(field)
    if field not in _ALLOWED or isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if text in _ALLOWED[field]:
        return None
    key = _key(text)
    if not key:
        return None
    if field == "method" and key in _SIXTY_DAY:
        return ('A rollover within 60 days is not a disbursement: list it under "rollovers_60_day" with its "to" '
                'and "amount".')
    if (field, key) in NOTES:
        return NOTES[field, key]
    table = SYNONYMS[field]
    exact = {_key(v): v for v in _ALLOWED[field]}
    if key in exact:   # the right word, spelled another way: "Roth_IRA", "457b-gov"
        return _say(field, (exact[key],))
    if key in table:
        return _say(field, table[key])
    close = difflib.get_close_matches(key, list(exact) + list(table), n=1, cutoff=0.8)
    if not close:
        return None
    return _say(field, (exact[close[0]],) if close[0] in exact else table[close[0]])


def with_hint(message: str, field: str, value: Any) -> str:
    """`message`, followed by the hint for `value` when there is one."""
    hint = enum_hint(field, value)
    return f"{message} {hint}" if hint else message
