"""The facts of the law the rules need, written once as tables.

Every table cites where it comes from; the reference algorithm, the invariants, the validator and
the conformance generator import them from here.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass

MAX_CENTS = 2**53 - 1  # wire contract v1: money is a JSON integer in [0, 2^53 - 1]

PLANS = ("401a", "403b", "457b_gov")
CONTRACTS = ("pretax_aftertax", "designated_roth")
METHODS = ("direct", "paid")
DESTINATIONS = ("traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "designated_roth",
                "in_plan_roth",   # contract 1.1: the designated Roth account of the same plan (§402A(c)(4))
                "inherited_traditional_ira", "inherited_roth_ira")   # contract 1.2: IRAs of a beneficiary
INHERITED = {"inherited_traditional_ira": "traditional_ira", "inherited_roth_ira": "roth_ira"}
RECIPIENTS = ("participant", "spouse_beneficiary", "nonspouse_beneficiary", "alternate_payee_spouse")
REGIMES = ("notice_2014_54", "notice_2009_68")
NEW, OLD = REGIMES

IRAS = ("traditional_ira", "roth_ira")
EMPLOYER_PLANS = ("qualified_plan", "403b", "457b_gov")

# §3405(c)(1): "the payor of such distribution shall withhold from such distribution an amount
# equal to 20 percent of such distribution" -- as the ratio 20/100.
WITHHOLDING_RATE = (20, 100)


@functools.cache  # pure function of a few strings, called per row of every allocation
def may_receive(contract: str, method: str, to: str, accepts_aftertax: bool, kind: str,
                recipient: str = "participant") -> bool:
    """May money of `kind` ('pretax' or 'aftertax') of this contract go to `to` by `method`, paid to `recipient`?

    Who receives it (contract 1.2): an inherited IRA is an IRA kept for a beneficiary. A beneficiary who is not the
    surviving spouse may roll over only "by a direct trustee-to-trustee transfer" into such an IRA, which "shall be
    treated as an inherited individual retirement account" (§402(c)(11)); the surviving spouse rolls over "in the
    same manner as if the spouse were the employee" (§402(c)(9)), into an inherited IRA too; an alternate payee who
    is the participant's spouse or former spouse as if "such alternate payee were the employee" (§402(e)(1)(B)).
    An inherited IRA then takes what the IRA of its kind takes.

    pretax_aftertax contract:
      §402(c)(2): after-tax money only "(A) ... in a direct trustee-to-trustee transfer to a qualified
      trust or to an annuity contract described in section 403(b) ... which agrees to separately account"
      or "(B) ... to an eligible retirement plan described in clause (i) or (ii) of paragraph (8)(B)" (IRAs).
      A governmental 457(b) plan takes no after-tax money (§457(e)(16); model §402(f) notice).
      Pre-tax money may go to any eligible retirement plan (§402(c)(8)(B)) and to a Roth IRA as a
      conversion (§408A(d)(3)); never to another plan's designated Roth account (§402A(c)(3)). Both kinds may
      go to the same plan's designated Roth account (`in_plan_roth`, §402A(c)(4)); a designated Roth contract's
      money never goes there (it is already Roth money).
    designated_roth contract:
      §402A(c)(3): "only to another designated Roth account ... or to a Roth IRA"; a 60-day rollover
      to a designated Roth account may take only the part that would be includible (IRS designated
      Roth rollover page).
    `method` is 'direct' or 'sixty_day'.
    """
    if recipient == "nonspouse_beneficiary":
        if method != "direct" or to not in INHERITED:
            return False
        to = INHERITED[to]
    elif to in INHERITED:
        if recipient != "spouse_beneficiary":
            return False
        to = INHERITED[to]
    if contract == "designated_roth":
        if to == "roth_ira":
            return True
        if to == "designated_roth":
            return method == "direct" or kind == "pretax"
        return False
    if to == "designated_roth":
        return False
    if to == "in_plan_roth":
        # §402A(c)(4)(B): a distribution "other than from a designated Roth account which is contributed in a
        # qualified rollover contribution ... to the designated Roth account maintained under such plan":
        # pre-tax and after-tax money alike, by direct rollover or within 60 days (the IRS in-plan Roth page:
        # "the rollover must be direct (not a 60-day rollover) if the amount is not otherwise eligible for
        # distribution" — a distribution is)
        return True
    if kind == "pretax":
        return True
    if to in IRAS:
        return True
    if to in ("qualified_plan", "403b"):
        return method == "direct" and accepts_aftertax
    return False  # 457b_gov


@functools.cache  # pure function of a few strings, called per row of every allocation
def receives_nothing(contract: str, method: str, to: str, accepts_aftertax: bool,
                     recipient: str = "participant") -> bool:
    return not any(may_receive(contract, method, to, accepts_aftertax, k, recipient) for k in ("pretax", "aftertax"))


@functools.cache  # pure function of a few strings, called per row of every allocation
def is_conversion(contract: str, to: str) -> bool:
    """§408A(d)(3)(A): pre-tax money rolled into a Roth IRA is includible in gross income; §402A(c)(4)(A)(i), in
    the same words, for an in-plan Roth rollover ("there shall be included in gross income any amount which
    would be includible were it not part of a qualified rollover contribution"): the after-tax part is not."""
    return contract == "pretax_aftertax" and to in ("roth_ira", "in_plan_roth", "inherited_roth_ira")


@functools.cache  # pure function of a few strings, called per row of every allocation
def direct_default_rank(contract: str, to: str, accepts_aftertax: bool) -> int:
    """Rule 4 default order for pre-tax among direct rollovers (ties in request order).

    Notice 2014-54 §III: the participant may choose; absent a choice, pre-tax goes first where
    after-tax cannot go, then to traditional vehicles, then to a Roth IRA (keeping after-tax, which
    is what converts tax-free, for the Roth IRA). A designated Roth contract: request order.
    """
    if contract == "designated_roth":
        return 0
    if to == "457b_gov" or (to in ("qualified_plan", "403b") and not accepts_aftertax):
        return 0
    if to in ("traditional_ira", "qualified_plan", "403b", "inherited_traditional_ira"):
        return 1
    if to in ("roth_ira", "in_plan_roth", "inherited_roth_ira"):
        # both Roth destinations: pre-tax money there is taxed like a conversion, after-tax money is not, so
        # the traditional vehicles take pre-tax first and the after-tax money is kept for the Roth ones
        return 2
    return 3  # designated_roth: ineligible for this contract anyway


@functools.cache  # pure function of a few strings, called per row of every allocation
def sixty_day_default_rank(contract: str, to: str) -> int:
    """Rule 6 default order for 60-day rollovers: employer plans and designated Roth, traditional IRA, Roth IRA."""
    if to in EMPLOYER_PLANS or to == "designated_roth":
        return 0
    if to in ("traditional_ira", "inherited_traditional_ira"):
        return 1
    return 2   # roth_ira, in_plan_roth and inherited_roth_ira


# Notice 2014-54 and T.D. 9769 transition (IRS FAQ "Rollovers of After-Tax Contributions").
NOTICE_ISSUED = _dt.date(2014, 9, 18)
NEW_RULE_REQUIRED_PRETAX = _dt.date(2015, 1, 1)
NEW_RULE_REQUIRED_ROTH = _dt.date(2016, 1, 1)


def regime_permitted(contract: str, regime: str, date: _dt.date) -> bool:
    if contract == "pretax_aftertax":
        # new rule: may be used at any date (before Sept 18, 2014 as a reasonable interpretation)
        return regime == NEW or date < NEW_RULE_REQUIRED_PRETAX
    if regime == NEW:
        return date >= NOTICE_ISSUED
    return date < NEW_RULE_REQUIRED_ROTH


def default_regime(contract: str, date: _dt.date) -> str:
    return NEW if regime_permitted(contract, NEW, date) else OLD


# ---- when each route existed (contract 1.1) ---------------------------------------------------------
@dataclass(frozen=True)
class EffectiveDate:
    """A route of the law and the first distribution date it is open to. `source`, `pinpoint` and `quote`
    cite where the date is found; `primary` is False where only a secondary source was read (see the quote)."""
    route: str
    first: _dt.date
    what: str                  # the route, in the law's words, for messages
    source: str
    pinpoint: str
    quote: str
    primary: bool = True


# The earliest date rollsplit models: after-tax money became rollable, and 403(b) and governmental 457(b)
# plans became eligible retirement plans, for distributions after December 31, 2001. Earlier distributions
# followed other rules and are rejected (before_effective_date), never computed as if today's law applied.
MODELLED_FROM = EffectiveDate(
    "any_distribution", _dt.date(2002, 1, 1),
    "the rollover rules rollsplit models (after-tax money rollable, EGTRRA §643; governmental 457(b) and 403(b) "
    "plans eligible retirement plans, §641)",
    "EGTRRA 2001 (Pub. L. 107-16, 115 Stat. 121)", "§641(f)(1)",
    "The amendments made by this section shall apply to distributions after December 31, 2001.")
AFTERTAX_INTO_403B_FROM = EffectiveDate(
    "aftertax_into_403b", _dt.date(2007, 1, 1), "direct rollovers of after-tax money into a 403(b) annuity contract",
    "Pension Protection Act of 2006 (Pub. L. 109-280, 120 Stat. 998)", "§822(b)",
    "The amendment made by subsection (a) shall apply to taxable years beginning after December 31, 2006.")
ROTH_IRA_FROM_PLAN = EffectiveDate(
    "plan_to_roth_ira", _dt.date(2008, 1, 1), "rollovers from an employer plan to a Roth IRA",
    "Pension Protection Act of 2006 (Pub. L. 109-280) §824, as summarized for Notice 2008-30", "§824(c)",
    "The PPA expanded qualified rollover contributions to include rollovers from other eligible retirement plans, "
    "effective for distributions made after December 31, 2007.", primary=False)
DESIGNATED_ROTH_FROM = EffectiveDate(
    "designated_roth_account", _dt.date(2006, 1, 1), "designated Roth accounts in 401(k) and 403(b) plans",
    "EGTRRA 2001 (Pub. L. 107-16, 115 Stat. 106)", "§617(f)",
    "The amendments made by this section ... shall apply to taxable years beginning after December 31, 2005.")
DESIGNATED_ROTH_457B_FROM = EffectiveDate(
    "designated_roth_account_457b", _dt.date(2011, 1, 1), "designated Roth accounts in governmental 457(b) plans",
    "Small Business Jobs Act of 2010 (Pub. L. 111-240, 124 Stat. 2566)", "§2111(c)",
    "The amendments made by this section shall apply to taxable years beginning after December 31, 2010.")
IN_PLAN_ROTH_FROM = EffectiveDate(
    "in_plan_roth", _dt.date(2010, 9, 28), "in-plan Roth rollovers (401(k) and 403(b) plans)",
    "Small Business Jobs Act of 2010 (Pub. L. 111-240) §2112, as the IRS in-plan Roth rollover page states its date",
    "§2112(b)", "Eligible rollover distributions made after September 27, 2010, may be rolled over to designated "
    "Roth accounts in 401(k) and 403(b) plans.", primary=False)
IN_PLAN_ROTH_457B_FROM = EffectiveDate(
    "in_plan_roth_457b", _dt.date(2011, 1, 1), "in-plan Roth rollovers in governmental 457(b) plans",
    "IRS, Designated Roth Accounts — In-Plan Rollovers (web page)", "",
    "Governmental 457(b) plans can be amended to include designated Roth accounts and allow in-plan Roth rollovers "
    "for taxable years beginning after 2010.", primary=False)
QPLO_FROM = EffectiveDate(
    "qualified_plan_loan_offset", _dt.date(2018, 1, 1), "qualified plan loan offsets (§402(c)(3)(C))",
    "Tax Cuts and Jobs Act (Pub. L. 115-97, 131 Stat. 2166) §13613, its date as practitioners summarize it",
    "§13613(b)", "The plan loan offset provisions of the Act apply to amounts that are treated as distributed in tax "
    "years beginning after December 31, 2017.", primary=False)
# A nonspouse beneficiary's distribution became an eligible rollover distribution for every purpose, the 20%
# withholding of §3405(c) included, for plan years beginning after December 31, 2009 (WRERA 2008 §108(f), amending
# §402(f)(2)(A)); from 2007 to then it could be rolled over, without withholding (Notice 2007-7 Q&A-15). A plan year
# that began in 2010 may have begun after January 1, so rollsplit models such distributions from 2011 on, when every
# plan year had begun under the amendment.
NONSPOUSE_FROM = EffectiveDate(
    "nonspouse_beneficiary", _dt.date(2011, 1, 1),
    "a nonspouse beneficiary's distribution as an eligible rollover distribution subject to 20% withholding "
    "(the first plan years beginning after December 31, 2009 had all begun by January 1, 2011)",
    "Worker, Retiree, and Employer Recovery Act of 2008 (Pub. L. 110-458), amending IRC §402(f)(2)(A)",
    "§108(f)", "Such term shall include any distribution to a designated beneficiary which would be treated as an "
    "eligible rollover distribution by reason of subsection (c)(11) ... if the requirements of subsection (c)(11) "
    "were satisfied.")
EFFECTIVE_DATES: tuple[EffectiveDate, ...] = (MODELLED_FROM, DESIGNATED_ROTH_FROM, AFTERTAX_INTO_403B_FROM,
                                              ROTH_IRA_FROM_PLAN, IN_PLAN_ROTH_FROM, DESIGNATED_ROTH_457B_FROM,
                                              IN_PLAN_ROTH_457B_FROM, QPLO_FROM, NONSPOUSE_FROM)


def route_closed(contract: str, plan: str, date: _dt.date, rollovers: list[tuple[str, str, bool]],
                 qualified_offset: str | None = None,
                 recipient: str = "participant") -> tuple[EffectiveDate, str] | None:
    """The first route of this request that did not exist yet on `date`, with the JSON path of the field that
    names it; None when every route was open. `rollovers` are (path of the row, to, accepts_aftertax) of every
    direct and 60-day rollover; `qualified_offset` the path of a payment said to carry a qualified plan loan
    offset. Taxable years are taken to be calendar years."""
    if date < MODELLED_FROM.first:
        return MODELLED_FROM, "date"
    if recipient == "nonspouse_beneficiary" and date < NONSPOUSE_FROM.first:
        return NONSPOUSE_FROM, "recipient"
    if qualified_offset is not None and date < QPLO_FROM.first:
        return QPLO_FROM, qualified_offset + ".qualified_plan_loan_offset"
    if contract == "designated_roth":
        if date < DESIGNATED_ROTH_FROM.first:
            return DESIGNATED_ROTH_FROM, "contract"
        if plan == "457b_gov" and date < DESIGNATED_ROTH_457B_FROM.first:
            return DESIGNATED_ROTH_457B_FROM, "contract"
        return None
    for path, to, accepts in rollovers:
        if to in ("roth_ira", "inherited_roth_ira") and date < ROTH_IRA_FROM_PLAN.first:
            return ROTH_IRA_FROM_PLAN, path + ".to"
        if to == "in_plan_roth" and date < IN_PLAN_ROTH_FROM.first:
            return IN_PLAN_ROTH_FROM, path + ".to"
        if to == "in_plan_roth" and plan == "457b_gov" and date < IN_PLAN_ROTH_457B_FROM.first:
            return IN_PLAN_ROTH_457B_FROM, path + ".to"
        if to == "403b" and accepts and date < AFTERTAX_INTO_403B_FROM.first:
            # the request says the 403(b) takes after-tax money (accepts_aftertax, default true): not yet lawful
            return AFTERTAX_INTO_403B_FROM, path + ".accepts_aftertax"
    return None


# §402A(d)(5), added by SECURE 2.0 §325: no lifetime required minimum distributions from a designated Roth
# account for taxable years beginning after December 31, 2023 — but an RMD required for 2023 may still be paid
# in 2024, at the latest on April 1, 2024 (the required beginning date of a first distribution year). From
# April 2, 2024 no lifetime RMD can be due from a designated Roth account (calendar taxable years assumed).
ROTH_RMD_LAST_DUE = _dt.date(2024, 4, 1)


def rmd_required_possible(contract: str, date: _dt.date, recipient: str = "participant") -> bool:
    """May an RMD be part of this distribution? Not a lifetime one from a designated Roth account after April 1,
    2024: §402A(d)(5) switches off §401(a)(9)(A) "before death" only, so a beneficiary's RMDs remain."""
    return recipient in ("spouse_beneficiary", "nonspouse_beneficiary") or not (
        contract == "designated_roth" and date > ROTH_RMD_LAST_DUE)


# Which codes of the route take the recipient's age or event code beside them (Instructions for Forms 1099-R and
# 5498, Table 1, "Used with code ..."): B and M with 1, 2, 4 and 7; G and H with 4 only (a direct rollover is G or
# H alone otherwise); nothing with 3 (used with D only). Box 7 holds at most two codes, so a route of two codes
# (B,G; B,M) takes none. Numeric code first.
TAKES_EVENT = {"B": "1247", "M": "1247", "G": "4", "H": "4"}


def box7(route: str | None, event: str | None) -> str | None:
    """Box 7: the codes of the route (`direct_box7`, `payment_box7`) with the recipient's age or event code
    (`spec.ages.event_code`) where the instructions let the two stand together."""
    if event is None:
        return route
    if route is None:
        return event
    if "," not in route and event in TAKES_EVENT.get(route, ""):
        return f"{event},{route}"
    return route


def direct_box7(contract: str, to: str) -> str:
    """G for a direct rollover; from a designated Roth account H into a Roth IRA (an inherited one too), else B,G."""
    if contract == "pretax_aftertax":
        return "G"
    return "H" if to in ("roth_ira", "inherited_roth_ira") else "B,G"


def payment_box7(contract: str, qualified_plan_loan_offset: bool) -> str | None:
    """Form 1099-R box 7 of the payment, as far as a request tells it: B for a designated Roth account ("Use Code
    B for a distribution from a designated Roth account"), M for a qualified plan loan offset ("Report a qualified
    plan loan offset as you would any other actual distribution. In addition, enter Code M in box 7"); the code
    for the participant's age or event (1, 2, 4, 7, ...) is the payor's to add. None when neither applies."""
    codes = (["B"] if contract == "designated_roth" else []) + (["M"] if qualified_plan_loan_offset else [])
    return ",".join(codes) or None


# Treas. Reg. §31.3405(c)-1 Q&A-14: no mandatory withholding when the eligible rollover distributions of
# the year are reasonably expected to total less than $200.
WITHHOLDING_DE_MINIMIS = 20_000   # cents
