"""The law's facts as the specification states them: written apart from the algorithm's tables on purpose.

The reference algorithm reads its tables from `spec.law` (functions that decide, row by row, where money may go,
in which order pre-tax money fills rollovers, which code goes in box 7). The invariants must not: an invariant
that calls the algorithm's own table cannot notice a mistake in it (a swapped default order would be "proved").
So this module states the same law once more, in another form: as data, one line per destination, each with
the words of the law behind it, and the default order not as ranks at all but as the law's reasons (see
`fill_tier`). Nothing here imports `spec.law`, `spec.orders` or `rollsplit.reference`
(tests/test_independent_spec.py checks the imports of this module and of `spec.invariants`).

Where the two statements disagree the proofs fail: every invariant below is proved of the algorithm's answer.
"""

from __future__ import annotations

import datetime as _dt

# ---- the contract's words -------------------------------------------------------------------------
NEW_RULE = "notice_2014_54"    # Notice 2014-54: one distribution, pre-tax money to the direct rollovers first
OLD_RULE = "notice_2009_68"    # Notice 2009-68: each disbursement its own pro rata share
PRETAX_AFTERTAX = "pretax_aftertax"
DESIGNATED_ROTH = "designated_roth"

# §3405(c)(1): "an amount equal to 20 percent of such distribution".
WITHHOLDING_PERCENT = 20
# Treas. Reg. §31.3405(c)-1 Q&A-14: "less than $200" -- in cents.
WITHHOLDING_FLOOR_CENTS = 200 * 100

# ---- where money of each kind may go (rule 7) -----------------------------------------------------
# (contract, how, destination, the plan takes after-tax money) -> the kinds of money it may receive.
# how: "direct" (a direct rollover) or "sixty_day" (a rollover within 60 days of a payment).
P, A = "pretax", "aftertax"
_BOTH, _PRE, _NONE = frozenset({P, A}), frozenset({P}), frozenset()

_PRETAX_CONTRACT = {
    # §402(c)(8)(B)(i)-(ii) and §402(c)(2)(B): an IRA takes pre-tax and after-tax money, direct or within 60 days.
    "traditional_ira": {"direct": _BOTH, "sixty_day": _BOTH},
    # §408A(d)(3)(A), §408A(e): a rollover to a Roth IRA is a qualified rollover contribution (a conversion).
    "roth_ira": {"direct": _BOTH, "sixty_day": _BOTH},
    # §402(c)(2)(A): after-tax money only "in a direct trustee-to-trustee transfer to a qualified trust or to an
    # annuity contract described in section 403(b) ... which agrees to separately account".
    "qualified_plan": {"direct": None, "sixty_day": _PRE},    # None: both when it accepts after-tax money, else pre
    "403b": {"direct": None, "sixty_day": _PRE},
    # A governmental 457(b) plan takes no after-tax money (model §402(f) notice: "is not a governmental
    # section 457(b) plan").
    "457b_gov": {"direct": _PRE, "sixty_day": _PRE},
    # §402A(c)(3): only designated Roth money goes to another plan's designated Roth account.
    "designated_roth": {"direct": _NONE, "sixty_day": _NONE},
    # §402A(c)(4)(B): "a distribution from such plan other than from a designated Roth account which is
    # contributed in a qualified rollover contribution ... to the designated Roth account maintained under such
    # plan": pre-tax and after-tax money alike.
    "in_plan_roth": {"direct": _BOTH, "sixty_day": _BOTH},
}
_ROTH_CONTRACT = {
    # §402A(c)(3): "a rollover contribution of a designated Roth contribution may be made only if ... to another
    # designated Roth account ... or to a Roth IRA"; within 60 days only the part that would be includible
    # (the IRS page on designated Roth rollovers).
    "roth_ira": {"direct": _BOTH, "sixty_day": _BOTH},
    "designated_roth": {"direct": _BOTH, "sixty_day": _PRE},
}


# ---- who may use which destination (contract 1.2) -------------------------------------------------
# An inherited IRA is an IRA kept for a beneficiary: §402(c)(11)(A), for "a designated beneficiary ... who is not the
# surviving spouse", "a direct trustee-to-trustee transfer ... to an individual retirement plan ... established for
# the purposes of receiving the distribution on behalf of" the beneficiary, "treated as an inherited individual
# retirement account". It takes what an IRA of its kind takes. The surviving spouse rolls over "in the same manner as
# if the spouse were the employee" (§402(c)(9)), and may keep the money in an inherited IRA as well; an alternate payee
# who is a spouse or former spouse "as if such alternate payee were the employee" (§402(e)(1)(B)): neither has any
# other route than the participant's but the spouse's inherited IRA.
INHERITED_IRAS = {"inherited_traditional_ira": "traditional_ira", "inherited_roth_ira": "roth_ira"}
ROUTES = {   # recipient -> (may use the participant's destinations, may use inherited IRAs, by which methods)
    "participant": (True, False, ("direct", "sixty_day")),
    "alternate_payee_spouse": (True, False, ("direct", "sixty_day")),
    "spouse_beneficiary": (True, True, ("direct", "sixty_day")),
    "nonspouse_beneficiary": (False, True, ("direct",)),
}


def receives(contract: str, how: str, to: str, accepts_aftertax: bool, recipient: str = "participant") -> frozenset:
    """The kinds of money ('pretax', 'aftertax') a rollover of `how` to `to` may carry, for money paid to
    `recipient`."""
    own, inherited, methods = ROUTES[recipient]
    if how not in methods or (to in INHERITED_IRAS and not inherited) or (to not in INHERITED_IRAS and not own):
        return _NONE
    to = INHERITED_IRAS.get(to, to)
    table = _ROTH_CONTRACT if contract == DESIGNATED_ROTH else _PRETAX_CONTRACT
    kinds = table.get(to, {}).get(how, _NONE)
    if kinds is None:
        return _BOTH if accepts_aftertax else _PRE
    return kinds


# ---- what is taxed when it is rolled over (rule 8) -------------------------------------------------
# §408A(d)(3)(A) (to a Roth IRA) and §402A(c)(4)(A) (into the plan's own designated Roth account), in the same
# words: "there shall be included in gross income any amount which would be includible were it not part of a
# qualified rollover contribution" -- the pre-tax money of a pre-tax/after-tax contract, never its after-tax part.
TAXED_WHEN_ROLLED = frozenset({(PRETAX_AFTERTAX, "roth_ira"), (PRETAX_AFTERTAX, "in_plan_roth"),
                               (PRETAX_AFTERTAX, "inherited_roth_ira")})


def taxed_when_rolled(contract: str, to: str) -> bool:
    return (contract, to) in TAXED_WHEN_ROLLED


# ---- the default order, as the law's reasons ------------------------------------------------------
def fill_tier(contract: str, how: str, to: str, accepts_aftertax: bool, recipient: str = "participant") -> int:
    """Without an election (Notice 2014-54 §III: the participant "is permitted to select how the pretax amount is
    allocated"), pre-tax money goes first where after-tax money cannot go, then where pre-tax money is not taxed
    when rolled over, then where it is (a conversion): the after-tax money is kept for the rollovers that can
    take it, and for the Roth destinations, where it converts tax free. Ties keep the request's order.

    Stated from this module's own facts, not from a ranking table: tier 0, 1, 2 in that order."""
    if A not in receives(contract, how, to, accepts_aftertax, recipient):
        return 0
    return 2 if taxed_when_rolled(contract, to) else 1


# ---- Form 1099-R box 7 -------------------------------------------------------------------------------
# Instructions for Forms 1099-R and 5498: G "Direct rollover of a distribution to a qualified plan, a section
# 403(b) plan, a governmental section 457(b) plan, or an IRA" (also to the plan's own designated Roth account, and to
# an inherited IRA: "If the direct rollover is made on behalf of a nonspouse designated beneficiary, also enter Code 4");
# from a designated Roth account, B, "But use ... Code H for a direct rollover to a Roth IRA"; B for cash paid
# from a designated Roth account; M in addition for a qualified plan loan offset.
BOX7_DIRECT = {
    (PRETAX_AFTERTAX, "traditional_ira"): "G", (PRETAX_AFTERTAX, "roth_ira"): "G",
    (PRETAX_AFTERTAX, "qualified_plan"): "G", (PRETAX_AFTERTAX, "403b"): "G", (PRETAX_AFTERTAX, "457b_gov"): "G",
    (PRETAX_AFTERTAX, "in_plan_roth"): "G", (PRETAX_AFTERTAX, "inherited_traditional_ira"): "G",
    (PRETAX_AFTERTAX, "inherited_roth_ira"): "G",
    (DESIGNATED_ROTH, "roth_ira"): "H", (DESIGNATED_ROTH, "inherited_roth_ira"): "H",
    (DESIGNATED_ROTH, "designated_roth"): "B,G",
}
BOX7_PAID = {   # (contract, a qualified plan loan offset) -> the codes of the route; None: none
    (PRETAX_AFTERTAX, False): None, (PRETAX_AFTERTAX, True): "M",
    (DESIGNATED_ROTH, False): "B", (DESIGNATED_ROTH, True): "B,M",
}
# The code for the recipient's age or event (contract 1.2, `spec.ages.event_code`), and the codes of the route each
# may stand beside, from Table 1's column "Used with code": 1, 2 and 7 with B or M; 4 with B, G, H or M; 3 with
# none of them (only D). Box 7 takes two codes at most, so a route of two codes takes no third.
USED_WITH = {"1": {"B", "M"}, "2": {"B", "M"}, "3": set(), "4": {"B", "G", "H", "M"}, "7": {"B", "M"}}


def box7(contract: str, method: str, to: str | None, qualified_offset: bool = False,
         event: str | None = None) -> str | None:
    route = BOX7_PAID[(contract, bool(qualified_offset))] if method == "paid" else BOX7_DIRECT.get((contract, to))
    codes = route.split(",") if route else []
    if event is None or len(codes) > 1 or (codes and codes[0] not in USED_WITH[event]):
        return route
    return ",".join([event] + codes)


# ---- when each route of the law opened --------------------------------------------------------------
# (first day, what opened). The citations with their quotes are in spec.invariants (EFFECTIVE_CITATIONS).
MODELLED_FROM = _dt.date(2002, 1, 1)          # EGTRRA §641-643: today's §402(c) rollover rules
DESIGNATED_ROTH_FROM = _dt.date(2006, 1, 1)   # §402A, EGTRRA §617: taxable years after December 31, 2005
AFTERTAX_INTO_403B_FROM = _dt.date(2007, 1, 1)   # PPA 2006 §822: after-tax money into a 403(b)
ROTH_IRA_FROM_PLAN = _dt.date(2008, 1, 1)     # PPA 2006 §824: plan to Roth IRA, distributions after 2007
IN_PLAN_ROTH_FROM = _dt.date(2010, 9, 28)     # SBJA 2010 §2112: distributions after September 27, 2010
GOV457_ROTH_FROM = _dt.date(2011, 1, 1)       # SBJA 2010 §2111: designated Roth accounts in 457(b) plans
QPLO_FROM = _dt.date(2018, 1, 1)              # TCJA §13613: qualified plan loan offsets, taxable years after 2017
ROTH_LAST_LIFETIME_RMD = _dt.date(2024, 4, 1)    # §402A(d)(5): the 2023 RMD's last due date
# WRERA 2008 §108(f): a nonspouse beneficiary's distribution is an eligible rollover distribution, 20% withholding
# included, for plan years beginning after 2009: every plan year had so begun by January 1, 2011
NONSPOUSE_FROM = _dt.date(2011, 1, 1)


# Notice 2014-54 was issued September 18, 2014 (IRS FAQ "Rollovers of After-Tax Contributions"): a designated Roth
# account may use its rule from then on; before, only Notice 2009-68's. Without a choice, the newest rule allowed.
NOTICE_2014_54_ISSUED = _dt.date(2014, 9, 18)


# Notice 2014-54 and the IRS FAQ on rollovers of after-tax contributions: the new rule must be used from January 1,
# 2015 (2016 for a designated Roth account, T.D. 9769's transition); before, the earlier rule may be; a pre-tax
# account may apply the new rule to earlier distributions too (a reasonable interpretation of §402(c)(2)), a
# designated Roth account only from the Notice's date.
NEW_RULE_REQUIRED = {PRETAX_AFTERTAX: _dt.date(2015, 1, 1), DESIGNATED_ROTH: _dt.date(2016, 1, 1)}


def rule_permitted(contract: str, rule: str, date: _dt.date) -> bool:
    if rule == OLD_RULE:
        return date < NEW_RULE_REQUIRED[contract]
    return contract == PRETAX_AFTERTAX or date >= NOTICE_2014_54_ISSUED


def default_rule(contract: str, date: _dt.date) -> str:
    return OLD_RULE if contract == DESIGNATED_ROTH and date < NOTICE_2014_54_ISSUED else NEW_RULE


def routes_open(contract: str, plan: str, date: _dt.date, rollovers: list[tuple[str, bool]],
                qualified_offset: bool, recipient: str = "participant") -> bool:
    """Did every route this distribution takes exist on its date? `rollovers`: (to, accepts_aftertax)."""
    opened = [MODELLED_FROM]
    if recipient == "nonspouse_beneficiary":
        opened.append(NONSPOUSE_FROM)
    if qualified_offset:
        opened.append(QPLO_FROM)
    if contract == DESIGNATED_ROTH:
        opened.append(GOV457_ROTH_FROM if plan == "457b_gov" else DESIGNATED_ROTH_FROM)
    else:
        for to, accepts in rollovers:
            if to in ("roth_ira", "inherited_roth_ira"):
                opened.append(ROTH_IRA_FROM_PLAN)
            elif to == "in_plan_roth":
                opened.append(GOV457_ROTH_FROM if plan == "457b_gov" else IN_PLAN_ROTH_FROM)
            elif to == "403b" and accepts:
                opened.append(AFTERTAX_INTO_403B_FROM)
    return all(date >= first for first in opened)


def lifetime_rmd_possible(contract: str, date: _dt.date, recipient: str = "participant") -> bool:
    """§402A(d)(5), "MANDATORY DISTRIBUTION RULES NOT TO APPLY BEFORE DEATH": no lifetime RMD from a designated
    Roth account after the 2023 RMD was last due. A beneficiary's RMD is not a lifetime one: it may be due."""
    return (contract != DESIGNATED_ROTH or date <= ROTH_LAST_LIFETIME_RMD
            or recipient in ("spouse_beneficiary", "nonspouse_beneficiary"))
