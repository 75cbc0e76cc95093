"""The facts of the law the rules need, written once as tables.

Every table cites where it comes from; the reference algorithm, the invariants, the validator and
the conformance generator import them from here.
"""

from __future__ import annotations

import datetime as _dt
import functools

MAX_CENTS = 2**53 - 1  # wire contract v1: money is a JSON integer in [0, 2^53 - 1]

PLANS = ("401a", "403b", "457b_gov")
CONTRACTS = ("pretax_aftertax", "designated_roth")
METHODS = ("direct", "paid")
DESTINATIONS = ("traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "designated_roth")
REGIMES = ("notice_2014_54", "notice_2009_68")
NEW, OLD = REGIMES

IRAS = ("traditional_ira", "roth_ira")
EMPLOYER_PLANS = ("qualified_plan", "403b", "457b_gov")

# §3405(c)(1): "the payor of such distribution shall withhold from such distribution an amount
# equal to 20 percent of such distribution" -- as the ratio 20/100.
WITHHOLDING_RATE = (20, 100)


@functools.cache  # pure function of a few strings, called per row of every allocation
def may_receive(contract: str, method: str, to: str, accepts_aftertax: bool, kind: str) -> bool:
    """May money of `kind` ('pretax' or 'aftertax') of this contract go to `to` by `method`?

    pretax_aftertax contract:
      §402(c)(2): after-tax money only "(A) ... in a direct trustee-to-trustee transfer to a qualified
      trust or to an annuity contract described in section 403(b) ... which agrees to separately account"
      or "(B) ... to an eligible retirement plan described in clause (i) or (ii) of paragraph (8)(B)" (IRAs).
      A governmental 457(b) plan takes no after-tax money (§457(e)(16); model §402(f) notice).
      Pre-tax money may go to any eligible retirement plan (§402(c)(8)(B)) and to a Roth IRA as a
      conversion (§408A(d)(3)); never to a designated Roth account (§402A(c)(3)).
    designated_roth contract:
      §402A(c)(3): "only to another designated Roth account ... or to a Roth IRA"; a 60-day rollover
      to a designated Roth account may take only the part that would be includible (IRS designated
      Roth rollover page).
    `method` is 'direct' or 'sixty_day'.
    """
    if contract == "designated_roth":
        if to == "roth_ira":
            return True
        if to == "designated_roth":
            return method == "direct" or kind == "pretax"
        return False
    if to == "designated_roth":
        return False
    if kind == "pretax":
        return True
    if to in IRAS:
        return True
    if to in ("qualified_plan", "403b"):
        return method == "direct" and accepts_aftertax
    return False  # 457b_gov


@functools.cache  # pure function of a few strings, called per row of every allocation
def receives_nothing(contract: str, method: str, to: str, accepts_aftertax: bool) -> bool:
    return not any(may_receive(contract, method, to, accepts_aftertax, k) for k in ("pretax", "aftertax"))


@functools.cache  # pure function of a few strings, called per row of every allocation
def is_conversion(contract: str, to: str) -> bool:
    """§408A(d)(3)(A): pre-tax money rolled into a Roth IRA is includible in gross income."""
    return contract == "pretax_aftertax" and to == "roth_ira"


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
    if to in ("traditional_ira", "qualified_plan", "403b"):
        return 1
    if to == "roth_ira":
        return 2
    return 3  # designated_roth: ineligible for this contract anyway


@functools.cache  # pure function of a few strings, called per row of every allocation
def sixty_day_default_rank(contract: str, to: str) -> int:
    """Rule 6 default order for 60-day rollovers: employer plans and designated Roth, traditional IRA, Roth IRA."""
    if to in EMPLOYER_PLANS or to == "designated_roth":
        return 0
    if to == "traditional_ira":
        return 1
    return 2


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
