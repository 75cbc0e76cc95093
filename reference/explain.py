"""The human report of one allocation: tables of the result, then each step in the law's words and dollars.

Reads a parsed `Request` and its `Outcome` (`reference.compute_outcome`); it decides nothing the algorithm
decides, it only shows the algorithm's own terms next to the rule that produced them.

The explanation is a list of `Step`s: the rule (the id of the invariant in `spec.invariants` that states it),
the law's citation, a plain sentence with its dollars, and the calculations, each a formula in words whose
amounts carry their names. Both the text of `rollsplit allocate` (`render_steps`) and the machine-readable
trace (`explain_trace`, JSON: money as integer cents beside dollars) are written from those steps, so they
cannot disagree. Money is formatted from integer cents with integer arithmetic only.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import re
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from rollsplit.reference.algorithm import Outcome
from rollsplit.spec import ages, law
from rollsplit.spec.arith import INT
from rollsplit.spec.errors import RequestError
from rollsplit.spec.model import Request
from rollsplit.spec.orders import direct_fill_order, sixty_day_fill_order
from rollsplit.spec.money import money
from rollsplit.spec.words import (ACCOUNT_NAMES, DESTINATION_NAMES, DESTINATION_SHORT, PLAN_NAMES, RECIPIENT_NAMES,
                                  REGIME_NAMES, destination_words, long_date)

_date = long_date
# who receives the money, for the words of one explanation or table (`explanation` and `tables` set it)
_WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="the participant")


def _receiving(fn):
    """Run `fn(req, ...)` with `_WHO` naming the request's recipient."""
    @functools.wraps(fn)
    def wrapper(req: Request, *args, **kw):
        token = _WHO.set(RECIPIENT_NAMES.get(req.recipient, "the participant"))
        try:
            return fn(req, *args, **kw)
        finally:
            _WHO.reset(token)
    return wrapper


def _row(d) -> str:
    """A disbursement by its id and what it is: "direct rollover 'ira' to a traditional IRA"."""
    if d.method == "paid":
        return f"payment {d.id!r} to {_WHO.get()}"
    return f"direct rollover {d.id!r} to {destination_words(d)}"


def _short(d) -> str:
    return f"payment {d.id!r}" if d.method == "paid" else f"direct rollover {d.id!r}"


def _sixty(x) -> str:
    return f"60-day rollover {x.id!r} to {DESTINATION_NAMES[x.to]}"


# ---- steps ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Amount:
    """A named amount of money, in integer cents."""
    name: str
    cents: int

    def to_json(self) -> dict:
        return {"name": self.name, "cents": self.cents, "dollars": money(self.cents)}


@dataclass(frozen=True)
class Calc:
    """`result = parts`: parts are words and operators (str) and named amounts. The formula in words names the
    amounts; the computation writes each amount's dollars with its name, so a sum is always labelled."""
    result: Amount
    parts: tuple[str | Amount, ...]
    note: str = ""

    def __post_init__(self) -> None:
        amounts = self.terms()
        if len(amounts) == len(self.parts) == 1:
            raise ValueError(f"a calculation of one amount only restates it: {self.result.name}")

    def terms(self) -> list[Amount]:
        return [p for p in self.parts if isinstance(p, Amount)]

    def formula(self) -> str:
        return f"{self.result.name} = " + "".join(p if isinstance(p, str) else p.name for p in self.parts)

    def computation(self) -> str:
        rhs = "".join(p if isinstance(p, str) else f"{money(p.cents)} ({p.name})" for p in self.parts)
        return f"{self.result.name} = {rhs} = {money(self.result.cents)}" + (f", {self.note}" if self.note else "")

    def to_json(self) -> dict:
        return {"formula": self.formula(), "computation": self.computation(), "result": self.result.to_json(),
                "terms": [t.to_json() for t in self.terms()], "note": self.note or None}


@dataclass(frozen=True)
class Step:
    rule: str                      # the id of the invariant of `spec.invariants` this step applies
    citation: str                  # where the law says it
    text: str                      # a plain sentence, its dollars written in
    values: tuple[Amount, ...]     # the amounts the sentence names, in its order
    calcs: tuple[Calc, ...]
    facts: tuple[tuple[str, Any], ...] = ()   # the request's own values the step rests on (contract words)

    def to_json(self, number: int) -> dict:
        return {"step": number, "rule": self.rule, "citation": self.citation, "text": self.text,
                "formula": "; ".join(c.formula() for c in self.calcs) or None,
                "calculations": [c.to_json() for c in self.calcs],
                "values": [v.to_json() for v in self.values], "facts": dict(self.facts)}


class _Say:
    """Writes dollars into a sentence and keeps each as a named value of its step."""

    def __init__(self) -> None:
        self.values: list[Amount] = []

    def __call__(self, name: str, cents: int) -> str:
        self.values.append(Amount(name, cents))
        return money(cents)


def calc(name: str, cents: int, *parts: str | tuple[str, int], note: str = "") -> Calc:
    """A calculation: `parts` are words (str) and (name, cents) amounts."""
    return Calc(Amount(name, cents), tuple(p if isinstance(p, str) else Amount(*p) for p in parts), note)


class _Steps(list):
    def add(self, rule: str, citation: str, text: str, say: _Say | None = None, *calcs: Calc, **facts: Any) -> None:
        self.append(Step(rule, citation, text, tuple(say.values) if say else (), calcs, tuple(facts.items())))


def _rounded(x: int, y: int, z: int) -> str:
    return "" if (x * y) % z == 0 else "rounded half up to the cent"


def _event(req: Request) -> tuple[str | None, str, str]:
    """(code, why in words, citation) of box 7's code for the recipient's age or event (`spec.ages.event_code`); the
    citation is the sources `spec.ages.event_sources` names, but the instructions' table, which the step cites."""
    code, why = _event_words(req)
    sources = ages.event_sources(code, req.recipient, req.plan, req.participant, req.date)
    return code, why, "; ".join(src.short() for src in sources if src.source != ages.I1099R)


def _event_words(req: Request) -> tuple[str | None, str]:
    f, code, on = req.participant, req.event_code, req.date
    plan = PLAN_NAMES[req.plan]
    if f.birth_date is not None:
        half = ages.date_59_half(f.birth_date)
        age = (f"the participant, born {long_date(f.birth_date)}, reaches age 59½ on {long_date(half)} (six calendar "
               "months after the 59th birthday, the convention payors use)" if half is not None else
               f"the participant, born {long_date(f.birth_date)}, reaches age 59½ after the year 9999")
    if code == "4":
        return code, "4, a payment to a beneficiary after the participant's death, whatever the age"
    if code == "7":
        return code, f"7, a normal distribution: {age}, on or before {long_date(on)}"
    if code == "3" and not f.disabled:   # a qualified designated Roth distribution under 59½: on disability
        return code, (f"3, disability: {age}, after {long_date(on)}, and the distribution is said to be a qualified "
                      "one, which under 59½ only disability makes it")
    if code == "3":
        return code, f"3, disability: {age}, after {long_date(on)}, and is disabled"
    if code == "2" and req.recipient == ages.ALTERNATE_PAYEE:
        return code, (f"2, an early distribution with an exception: {age}, after {long_date(on)}, and the money "
                      "goes to an alternate payee under a qualified domestic relations order")
    if code == "2":
        return code, (f"2, an early distribution with an exception: {age}, after {long_date(on)}, but separated from "
                      f"service on {long_date(f.separation_date)}, in or after the year of age 55, and this is a "
                      f"distribution from {plan}")
    if code == "1":
        return code, (f"1, an early distribution with no known exception: {age}, after {long_date(on)}, and the "
                      "facts given show no exception")
    if f.birth_date is not None:   # a governmental 457(b) plan under 59½
        return None, (f"no code for the age or event: {age}, after {long_date(on)}; a governmental 457(b) plan's "
                      "distribution then takes code 2, but code 1 for money rolled into the plan from another kind "
                      "of plan, which the request does not tell apart: the payor adds it")
    return None, ("the code for the participant's age or event (1, 2, 3, 7), which the payor adds: the request gives "
                  "no birth date")


@_receiving
def explanation(req: Request, out: Outcome) -> list[Step]:
    """The steps of the allocation, in order, each with the rule, the law's citation and the numbers."""
    res = out.result
    D, P, T, N = res.amount, res.pretax, res.aftertax, res.basis_recovered
    R = req.rmd
    rows = list(zip(req.disbursements, res.disbursements))
    paid = next(((d, r) for d, r in rows if d.method == "paid"), None)
    directs = [(d, r) for d, r in rows if d.method == "direct"]
    sixty = list(zip(req.rollovers_60_day, res.rollovers_60_day))
    roth = req.contract == "designated_roth"
    s = _Steps()

    # -- which rule governs
    holding, plan, date = ACCOUNT_NAMES[req.contract], PLAN_NAMES[req.plan], _date(req.date)
    other = law.OLD if res.regime == law.NEW else law.NEW
    either = law.regime_permitted(req.contract, other, req.date)
    if res.regime == law.NEW:
        text = (f"A distribution made on {date} from {holding} in {plan} follows the rule of IRS Notice 2014-54: all "
                "disbursements scheduled to be made at the same time are treated as a single distribution, and its "
                "pre-tax money is assigned to the direct rollovers first.")
        if either:
            text += (" On that date the earlier rule, under which each disbursement was a separate distribution, "
                     "could still be used instead.")
        cite = ("IRS Notice 2014-54 §III; T.D. 9769; IRS FAQ, Rollovers of After-Tax Contributions in Retirement "
                "Plans (transition rules)")
    else:
        text = (f"A distribution made on {date} from {holding} in {plan} follows the rule in force before IRS Notice "
                "2014-54, as IRS Notice 2009-68 describes it: each disbursement is a separate distribution that "
                "carries its own pro rata share of the after-tax money.")
        text += (" The rule of IRS Notice 2014-54 could also have been used on that date." if either else
                 " For a designated Roth account the rule of IRS Notice 2014-54 applies from September 18, 2014.")
        cite = ("IRS Notice 2009-68; IRS FAQ, Rollovers of After-Tax Contributions in Retirement Plans "
                "(transition rules)")
    s.add("REGIME", cite, text, None, date=req.date.isoformat(), plan=req.plan, contract=req.contract,
          regime=res.regime)

    # -- a plan loan offset is distributed with the payment
    for d in req.disbursements:
        if d.loan_offset:
            text = (f"A plan loan offset is an actual distribution: the payment {d.id!r} distributes its cash and "
                    "the offset, and box 1 of its Form 1099-R reports both.")
            cite = "Treas. Reg. §1.402(c)-2(g)"
            if d.qualified_plan_loan_offset:
                text += (" It is a qualified plan loan offset: it may be rolled over until the due date, with "
                         "extensions, of the participant's tax return for the year, and box 7 carries code M.")
                cite += "; IRC §402(c)(3)(C)"
            s.add("CONSERVE-ROW", cite, text, None,
                  calc(f"amount distributed by the payment {d.id!r}", d.distributed, ("cash paid", d.amount), " + ",
                       ("plan loan offset", d.loan_offset)))

    # -- one distribution
    if len(rows) == 1:
        say = _Say()
        s.add("CONSERVE-TOTAL", "IRS Notice 2014-54 §III ¶1" if res.regime == law.NEW else "IRS Notice 2009-68",
              f"The distribution is the {_row(rows[0][0])} alone: {say('amount distributed', D)}.", say)
    else:
        parts: list = []
        for d, _ in rows:
            parts += [" + " if parts else "", (_row(d), d.distributed)]
        if res.regime == law.NEW:
            text = "The disbursements together are one distribution, and the amount distributed is their sum."
            cite = "IRS Notice 2014-54 §III ¶1"
        else:
            text = ("Each disbursement is a separate distribution; the after-tax money is figured on their total "
                    "and then shared among them.")
            cite = "IRS Notice 2009-68; IRC §72(e)(8)"
        s.add("CONSERVE-TOTAL", cite, text, None, calc("amount distributed", D, *parts))

    # -- basis recovered, IRC §72(e)(8)
    pre = min(D, req.pre1987_basis)
    den = req.balance - req.pre1987_basis
    whole = " The whole balance is distributed, so the whole basis is recovered." if D == req.balance else ""
    if req.pre1987_basis:
        say = _Say()
        if D <= req.pre1987_basis:
            s.add("PRORATA-ROUNDING", "IRC §72(e)(8)(D)",
                  f"Basis from before 1987 (the investment in the contract as of December 31, 1986) is recovered "
                  f"first. The distribution, {say('amount distributed', D)}, is no more than the pre-1987 basis, "
                  f"{say('pre-1987 basis', req.pre1987_basis)}, so all of it is basis recovered." + whole, say)
        else:
            s.add("PRORATA-ROUNDING", "IRC §72(e)(8)(D)",
                  "Basis from before 1987 (the investment in the contract as of December 31, 1986) is recovered "
                  "first, tax-free, before any pro rata share.", None,
                  calc("pre-1987 basis recovered", pre, "the smaller of ", ("amount distributed", D), " and ",
                       ("pre-1987 basis", req.pre1987_basis)))
            if den == 0:
                say = _Say()
                s.add("PRORATA-ROUNDING", "IRC §72(e)(8)(B), (D)",
                      "The whole account balance is pre-1987 basis, so no other basis is recovered: the basis "
                      f"recovered is {say('basis recovered', N)}." + whole, say)
            else:
                share = N - pre
                s.add("PRORATA-ROUNDING", "IRC §72(e)(8)(B), (D)",
                      "The rest of the distribution is then split pro rata: the basis recovered from it bears the same "
                      "ratio to it as the basis other than pre-1987 basis bears to the account balance less the "
                      "pre-1987 basis." + whole, None,
                      calc("pro rata share", share, ("amount distributed beyond the pre-1987 basis recovered", D - pre),
                           " × ", ("basis other than pre-1987 basis", req.basis - req.pre1987_basis), " ÷ ",
                           ("account balance less pre-1987 basis", den),
                           note=_rounded(D - pre, req.basis - req.pre1987_basis, den)),
                      calc("basis recovered", N, ("pre-1987 basis recovered", pre), " + ", ("pro rata share", share)))
    else:
        s.add("PRORATA-ROUNDING", "IRC §72(e)(8)(B)",
              "The basis recovered" + ("" if roth and req.qualified_roth else " (the after-tax part)")
              + " bears the same ratio to the amount distributed as the basis, the investment in the contract, bears "
              "to the account balance." + whole, None,
              calc("basis recovered", N, ("amount distributed", D), " × ", ("basis", req.basis), " ÷ ",
                   ("account balance", req.balance), note=_rounded(D, req.basis, req.balance)))

    # -- pre-tax and after-tax parts
    if roth and req.qualified_roth:
        say = _Say()
        s.add("AFTERTAX-TOTAL", "IRC §402A(d)(1)",
              "A qualified distribution from a designated Roth account is not included in gross income: all of it, "
              f"{say('amount distributed', D)}, is treated as after-tax money, and none of it is pre-tax.", say)
    else:
        text = "The after-tax part of the distribution is the basis recovered; the rest is pre-tax."
        if roth:
            text += (" In a designated Roth account the basis is the Roth contributions, and the rest is earnings, "
                     "which would be included in gross income; this explanation calls the earnings pre-tax money, "
                     "as IRS Notice 2014-54 does.")
        s.add("AFTERTAX-TOTAL", "IRC §72(e)(8); IRS Notice 2014-54 §III" if roth else "IRC §72(e)(8)", text, None,
              calc("pre-tax part", P, ("amount distributed", D), " − ", ("basis recovered", N)))

    # -- the direct rollovers and the payment
    reserve = max(0, R - T)
    if res.regime == law.NEW:
        if directs:
            cap = sum(d.amount for d, _ in directs)
            cap_name = "amount rolled over directly"
            if P == 0:
                s.add("DIRECT-FIRST", "IRS Notice 2014-54 §III ¶2",
                      "The distribution has no pre-tax money, so the direct rollovers carry after-tax money only.")
            else:
                say = _Say()
                text = ("When the pre-tax money is less than the amount rolled over directly, all of it is assigned "
                        "to the direct rollovers: they carry as much pre-tax money as they can hold.")
                held: list = [("pre-tax part", P)]
                if reserve:
                    text += (f" The required minimum distribution, {say('required minimum distribution', R)}, is "
                             f"larger than the after-tax part, {say('after-tax part', T)}, so "
                             f"{say('pre-tax money kept for the required minimum distribution', reserve)} of pre-tax "
                             "money stays in the payment to make it up.")
                    held += [" − ", ("pre-tax money kept for the required minimum distribution", reserve)]
                s.add("DIRECT-FIRST", "IRS Notice 2014-54 §III ¶2", text, say,
                      calc("pre-tax money in the direct rollovers", out.direct_pretax, "the smaller of ", *held,
                           " and ", (cap_name, cap)))
            _split(s, req, directs, "direct")
        if paid:
            d, r = paid
            if not directs:
                say = _Say()
                s.add("CONSERVE-TOTAL", "IRC §72(e)(8)",
                      f"There is no direct rollover, so the {_short(d)} carries the whole pre-tax part, "
                      f"{say(f'pre-tax money in the payment {d.id!r}', r.pretax)}, and the whole after-tax part, "
                      f"{say(f'after-tax money in the payment {d.id!r}', r.aftertax)}.", say)
            elif P == 0:
                say = _Say()
                s.add("CONSERVE-TOTAL", "IRC §72(e)(8)",
                      f"With no pre-tax money, the {_short(d)} carries after-tax money only: "
                      f"{say(f'after-tax money in the payment {d.id!r}', r.aftertax)}.", say)
            else:
                say = _Say()
                text = (f"The {_short(d)} carries the pre-tax money the direct rollovers do not; the rest of it, "
                        f"{say(f'after-tax money in the payment {d.id!r}', r.aftertax)}, is after-tax money.")
                s.add("CONSERVE-TOTAL", "IRS Notice 2014-54 §III", text, say,
                      calc(f"pre-tax money in the payment {d.id!r}", r.pretax, ("pre-tax part", P), " − ",
                           ("pre-tax money in the direct rollovers", out.direct_pretax)))
    elif len(rows) > 1:
        say = _Say()
        calcs = []
        for d, r in rows:
            exact_share = T * d.distributed
            note = ("" if exact_share == r.aftertax * D else "rounded down to the cent" if r.aftertax * D < exact_share
                    else "rounded up to the cent: a leftover cent, by largest remainder")
            calcs.append(calc(f"after-tax money in the {_short(d)}", r.aftertax, ("after-tax part", T), " × ",
                              (_short(d), d.distributed), " ÷ ", ("amount distributed", D), note=note))
        exact = all((T * d.distributed) % D == 0 for d, _ in rows)
        text = ("Under the earlier rule each disbursement carries its own pro rata share of the after-tax money"
                + ("" if exact else ", rounded to the cent, the leftover cents going to the largest remainders")
                + "; the rest of each is pre-tax: "
                + "; ".join(f"{_short(d)} {say(f'pre-tax money in the {_short(d)}', r.pretax)}" for d, r in rows)
                + ".")
        s.add("OLD-RULE-PRORATA", "IRS Notice 2009-68; IRC §72(e)(8)", text, say, *calcs)

    # -- the required minimum distribution
    rollable = (paid[1].pretax - out.rmd_pretax) if paid else 0
    rollable_name = "pre-tax money of the payment that may be rolled over"
    if R and paid:
        d, r = paid
        if req.date < datetime.date(2025, 1, 1):
            text = ("A required minimum distribution is not an eligible rollover distribution: it is paid to the "
                    "participant and cannot be rolled over. The part of the distribution excludible from gross income "
                    "(the after-tax money) is applied to it first.")
            cite = "IRC §402(c)(4)(B); Treas. Reg. §1.402(c)-2 Q&A-8"
        else:
            text = ("A required minimum distribution is not an eligible rollover distribution: it is paid to the "
                    "participant and cannot be rolled over. The first amounts distributed in the year are the "
                    "required minimum distribution, and an amount rolled over consists first of money not allocable "
                    "to basis; so the after-tax money is applied to the required minimum distribution first, as "
                    "under the earlier regulation.")
            cite = "IRC §402(c)(4)(B); Treas. Reg. §1.402(c)-2(b)(3)(iv) and (f)(1)"
        say = _Say()
        calcs = []
        if out.rmd_pretax == 0:
            text += (" The after-tax money in the payment, "
                     f"{say(f'after-tax money in the payment {d.id!r}', r.aftertax)}, covers the whole required "
                     f"minimum distribution, {say('required minimum distribution', R)}, so none of it is pre-tax.")
        else:
            calcs.append(calc("pre-tax part of the required minimum distribution", out.rmd_pretax,
                              ("required minimum distribution", R), " − ",
                              (f"after-tax money in the payment {d.id!r}", r.aftertax)))
            calcs.append(calc(rollable_name, rollable, (f"pre-tax money in the payment {d.id!r}", r.pretax), " − ",
                              ("pre-tax part of the required minimum distribution", out.rmd_pretax)))
        s.add("RMD-AFTERTAX-FIRST", cite, text, say, *calcs)
    if paid and not out.rmd_pretax:
        rollable_name = f"pre-tax money in the payment {paid[0].id!r}"

    # -- 60-day rollovers
    if sixty:
        total = sum(x.amount for x, _ in sixty)
        s.add("SIXTY-DAY-SECOND", "IRC §402(c)(2), last sentence",
              "A rollover within 60 days is treated as consisting first of the part of the payment that would be "
              "included in gross income: the 60-day rollovers take the payment's pre-tax money that may be rolled "
              "over first.", None,
              calc("pre-tax money in the 60-day rollovers", out.sixty_pretax, "the smaller of ",
                   (rollable_name, rollable), " and ", ("amount rolled over within 60 days", total)))
        _split(s, req, sixty, "sixty_day")

    # -- withholding
    if paid:
        d, r = paid
        if req.hardship:
            s.add("WITHHOLDING", "IRC §402(c)(4)(C); IRC §3405(c)",
                  f"A hardship distribution is not an eligible rollover distribution, so the mandatory 20% withholding "
                  f"does not apply to the {_short(d)}; voluntary withholding is not computed here.")
        else:
            year = d.distributed - R + req.other_eligible_this_year
            say = _Say()
            parts = [(_short(d), d.distributed)]
            if R:
                parts += [" − ", ("required minimum distribution", R)]
            if req.other_eligible_this_year:
                parts += [" + ", ("other eligible rollover distributions received from the plan this year",
                                  req.other_eligible_this_year)]
            year_calc = [calc("eligible rollover distributions received this year", year, *parts)] if len(parts) > 1 \
                else []
            year_text = f"the eligible rollover distributions {_WHO.get()} receives from the plan this year"
            if not year_calc:
                year_text += f", {say('eligible rollover distributions received this year', year)},"
            if year < law.WITHHOLDING_DE_MINIMIS:
                s.add("WITHHOLDING-DE-MINIMIS", "Treas. Reg. §31.3405(c)-1 Q&A-14 and Q&A-6",
                      f"Nothing is withheld: {year_text} total less than "
                      f"{say('limit of mandatory withholding', law.WITHHOLDING_DE_MINIMIS)}. Direct rollovers are not "
                      "received and do not count.", say, *year_calc)
            elif rollable == 0:
                s.add("WITHHOLDING", "IRC §3405(c); IRC §402(c)(4)",
                      "The mandatory 20% withholding applies only to the part of the payment that is an eligible "
                      f"rollover distribution and would be included in gross income; the {_short(d)} has none, so "
                      "nothing is withheld.")
            else:
                text = (f"The payor withholds 20% of the part of the payment that is an eligible rollover "
                        f"distribution and would be included in gross income, because {year_text} are at least "
                        f"{say('limit of mandatory withholding', law.WITHHOLDING_DE_MINIMIS)}. Direct rollovers are "
                        "not withheld" + ("; a later 60-day rollover does not reduce the withholding." if sixty
                                          else "."))
                cite = "IRC §3405(c); Treas. Reg. §31.3405(c)-1 Q&A-6 and Q&A-14"
                due = INT.round_half_up(rollable, *law.WITHHOLDING_RATE)
                note = _rounded(rollable, *law.WITHHOLDING_RATE)
                if d.loan_offset:
                    text += (" With a plan loan offset no more than the cash paid is withheld; the offset itself "
                             "counts in the 20%.")
                    cite += " and Q&A-11"
                    w = calc("mandatory withholding", r.withholding, "the smaller of 20% × ",
                             (rollable_name, rollable), " and ", ("cash paid", d.amount),
                             note=note if due <= d.amount else "")
                else:
                    w = calc("mandatory withholding", r.withholding, "20% × ", (rollable_name, rollable), note=note)
                s.add("WITHHOLDING", cite, text, say, *year_calc, w)
    elif directs:
        s.add("WITHHOLDING", "IRC §3405(c); Treas. Reg. §31.3405(c)-1 Q&A-6",
              f"Nothing is paid to {_WHO.get()}, and direct rollovers are not subject to withholding: nothing is "
              "withheld.")

    # -- what is taxable
    conversions = {"roth_ira": [], "in_plan_roth": []}
    for row, q, how in [(d, r, "directly") for d, r in directs] + [(x, q, "within 60 days") for x, q in sixty]:
        if law.is_conversion(req.contract, row.to) and q.pretax:   # an inherited Roth IRA is a Roth IRA
            conversions["roth_ira" if row.to == "inherited_roth_ira" else row.to].append((row, q, how))
    for to, found in conversions.items():
        if not found:
            continue
        say = _Say()
        listed = "; ".join(f"{row.id!r}, rolled over {how}, "
                           f"{say(f'pre-tax money rolled over by {row.id!r}', q.pretax)}" for row, q, how in found)
        if to == "roth_ira":
            inherited = any(row.to == "inherited_roth_ira" for row, _, _ in found)
            s.add("TAXABLE-ROW", "IRC §408A(d)(3)(A)" + ("; IRC §402(c)(11)" if inherited else ""),
                  "Pre-tax money rolled over to a Roth IRA" + (" (an inherited one too)" if inherited else "")
                  + " is a conversion and is included in gross income; after-tax "
                  f"money is not: {listed}.", say)
        else:
            s.add("TAXABLE-ROW", "IRC §402A(c)(4)(A)",
                  "Pre-tax money rolled over into the plan's own designated Roth account (an in-plan Roth rollover) is "
                  "included in gross income as if it had not been rolled over; after-tax money is not: "
                  f"{listed}.", say)
    if paid:
        d, r = paid
        rolled = sum(q.pretax for _, q in sixty)
        if rolled:
            converted = any(law.is_conversion(req.contract, x.to) and q.pretax for x, q in sixty)
            s.add("TAXABLE-ROW", "IRC §402(a); IRC §402(c)(1)",
                  f"Pre-tax money {_WHO.get()} keeps is included in gross income; pre-tax money rolled over within "
                  "60 days is not" + (" (unless it is converted, as above)." if converted else "."), None,
                  calc(f"taxable part of the payment {d.id!r}", r.taxable,
                       (f"pre-tax money in the payment {d.id!r}", r.pretax), " − ",
                       ("pre-tax money rolled over within 60 days", rolled)))

    def roth_account(to: str) -> bool:
        return law.is_conversion(req.contract, to)
    taxed = [(f"pre-tax money rolled over to a Roth account by the {_short(d)}" if d.method == "direct" else
              f"pre-tax money kept from the payment {d.id!r}", r.taxable) for d, r in rows if r.taxable]
    taxed += [(f"pre-tax money rolled over to a Roth account by the 60-day rollover {x.id!r}", q.taxable)
              for x, q in sixty if q.taxable]
    untaxed = any(not roth_account(row.to) and q.pretax for row, q in directs + sixty)
    untaxed_text = "" if not untaxed else (
        "; earnings rolled over to a Roth IRA or another designated Roth account are not taxed now" if roth else
        "; pre-tax money rolled over to a traditional IRA or an employer plan is not taxed now")
    cite = "IRC §402(a); IRC §402(c)(1)" if untaxed else "IRC §402(a)"
    say = _Say()
    if not taxed:
        s.add("TAXABLE-SUM", cite, "Nothing in this distribution is included in gross income: taxable income is "
              f"{say('taxable income', res.taxable_income)}{untaxed_text}.", say)
    elif len(taxed) == 1:
        s.add("TAXABLE-SUM", cite, f"Taxable income from this distribution is "
              f"{say('taxable income', res.taxable_income)}, the {taxed[0][0]}{untaxed_text}.", say)
    else:
        parts = []
        for name, cents in taxed:
            parts += [" + " if parts else "", (name, cents)]
        s.add("TAXABLE-SUM", cite, f"Taxable income from this distribution is the sum of the taxable "
              f"amounts{untaxed_text}.", None, calc("taxable income", res.taxable_income, *parts))

    # -- eligibility of each rollover
    n = len(directs) + len(sixty)
    if n:
        who = "The rollover carries" if n == 1 else f"Each of the {n} rollovers carries"
        if roth:
            rule = ("money of a designated Roth account goes only to a Roth IRA or to another designated Roth "
                    "account, and within 60 days another designated Roth account may take only the earnings")
            cite = "IRC §402A(c)(3)"
        else:
            rule = ("after-tax money goes only to an IRA, to the plan's own designated Roth account, or, by direct "
                    "rollover, to a qualified plan or 403(b) plan that accounts for it separately, never to a "
                    "governmental 457(b) plan; pre-tax money may go to any eligible retirement plan, and to a Roth "
                    "IRA as a conversion")
            cite = "IRC §402(c)(2), §402(c)(8)(B), §402A(c)(4), §408A(d)(3); IRS model §402(f) notice"
        routes = {
            "nonspouse_beneficiary": ("; and a beneficiary who is not the surviving spouse may roll over only by a direct "
                                      "rollover into an inherited IRA, which takes what an IRA of its kind takes",
                                      "; IRC §402(c)(11)"),
            "spouse_beneficiary": ("; the surviving spouse rolls over as the participant would, and may also keep the "
                                   "money in an inherited IRA", "; IRC §402(c)(9)"),
            "alternate_payee_spouse": ("; an alternate payee who is the participant's spouse or former spouse rolls "
                                       "over as the participant would", "; IRC §402(e)(1)(B)"),
        }
        more, more_cite = routes.get(req.recipient, ("", ""))
        s.add("ELIGIBILITY", cite + more_cite, f"{who} only money its destination may take: {rule}{more}.")

    # -- Form 1099-R, box 7
    codes = []
    event, event_why, event_cite = _event(req)
    for d, r in rows:
        code = r.form_1099r.box7
        if d.method == "direct":
            route = law.direct_box7(req.contract, d.to)
            why = {"G": "direct rollover", "H": "direct rollover from a designated Roth account to a Roth IRA",
                   "B,G": "direct rollover to another designated Roth account"}[route]
            if d.to == "in_plan_roth":
                why = "in-plan Roth rollover, with the taxable amount in box 2a and the basis in box 5"
            if d.to in law.INHERITED:
                why += " into an inherited IRA"
            if code != route:
                why += f", with {event_why}"
            codes.append(f"{_short(d)}: {code} ({why})")
        else:
            route = law.payment_box7(req.contract, d.qualified_plan_loan_offset)
            why = []
            if roth:
                why.append("B, a distribution from a designated Roth account")
            if d.qualified_plan_loan_offset:
                why.append("M, a qualified plan loan offset")
            if event is not None and code != route:
                why.append(event_why)
            elif event is not None:
                why.append(f"not {event_why}, which the instructions do not let stand beside "
                           f"{' and '.join(route.split(','))} (at most two codes, each with the codes its row of "
                           "Table 1 lists)")
            else:
                why.append(event_why)
            if len(why) == 1 and code is not None and why[0].startswith(code + ","):
                codes.append(f"{_short(d)}: {why[0]}")
            else:
                codes.append(f"{_short(d)}: " + (code or "no code from rollsplit") + " — " + "; ".join(why))
    years = {r.form_1099r.box11 for _, r in rows} - {None}
    box11 = (f" Box 11: {years.pop()}, the first year of designated Roth contributions." if years else "")
    s.add("FORM-1099R", "Instructions for Forms 1099-R and 5498, box 7 and Table 1 (Guide to Distribution Codes)"
          + (f"; {event_cite}" if event_cite else "") + ("; IRS Publication 1220, box 11" if box11 else ""),
          "Each disbursement has its own Form 1099-R: box 1 the amount distributed, box 2a the taxable amount, box 4 "
          "the withholding, box 5 the after-tax part. Box 7: " + "; ".join(codes) + "." + box11)

    # -- what remains
    calcs = [calc("balance remaining", res.remaining_balance, ("account balance", req.balance), " − ",
                  ("amount distributed", D)),
             calc("basis remaining", res.remaining_basis, ("basis", req.basis), " − ", ("basis recovered", N))]
    if req.pre1987_basis:
        calcs.append(calc("pre-1987 basis remaining", res.remaining_pre1987_basis,
                          ("pre-1987 basis", req.pre1987_basis), " − ", ("pre-1987 basis recovered", pre)))
    s.add("REMAINING", "IRC §72(e)(8)(B) and (D)" if req.pre1987_basis else "IRC §72(e)(8)(B)",
          "What remains in the account after this distribution:" if D < req.balance else
          "Nothing remains in the account:", None, *calcs)
    return list(s)


def _split(s: _Steps, req: Request, pairs: list, kind: str) -> None:
    """How the pre-tax money is shared among the direct (or 60-day) rollovers, and what each carries."""
    e = req.elections
    direct = kind == "direct"
    what = "direct rollovers" if direct else "60-day rollovers"
    amounts = e.direct_pretax_amounts if direct else e.sixty_day_pretax_amounts
    order = e.direct_pretax_order if direct else e.sixty_day_pretax_order
    label = _row if direct else _sixty
    say = _Say()

    def carries(row, q) -> str:
        pre = (f"{say(f'pre-tax money in {row.id!r}', q.pretax)} of pre-tax money" if q.pretax
               else "no pre-tax money")
        after = (f"{say(f'after-tax money in {row.id!r}', q.aftertax)} of after-tax money" if q.aftertax
                 else "no after-tax money")
        return f"the {label(row)} carries {pre} and {after}"

    if len(pairs) == 1:
        row, q = pairs[0]
        s.add("DEFAULT-ORDER" if amounts is None and order is None else "ELECTION-HONORED",
              "IRS Notice 2014-54 §III" if direct else "IRC §402(c)(2), last sentence",
              f"So {carries(row, q)}.", say)
        return
    if amounts is not None:
        rule, how = "ELECTION-HONORED", f"The participant chose how much pre-tax money each of the {what} carries"
        listed = pairs
    else:
        indices = direct_fill_order(req) if direct else sixty_day_fill_order(req)
        listed = [pairs[i] for i in indices]
        if order is not None:
            rule = "ELECTION-HONORED"
            how = (f"The participant chose the order in which pre-tax money fills the {what} "
                   f"({', '.join(repr(x) for x in order)} first), the others following in the default order")
        elif req.contract == "designated_roth":
            rule, how = "DEFAULT-ORDER", f"No order was chosen, so pre-tax money fills the {what} in the order listed"
        else:
            rule = "DEFAULT-ORDER"
            tiers = ("plans that cannot take after-tax money, then traditional IRAs and plans that can, then Roth IRAs "
                     "and in-plan Roth rollovers, so that the after-tax money, which converts tax-free, goes to them"
                     if direct else "employer plans and designated Roth accounts first, then traditional IRAs, then "
                     "Roth IRAs and in-plan Roth rollovers")
            how = (f"No order was chosen, so pre-tax money fills the {what} in the default order, each in full before "
                   f"the next: {tiers}; rollovers of the same kind in the order listed")
    text = f"{how}: " + "; ".join(carries(row, q) for row, q in listed) + "."
    s.add(rule, "IRS Notice 2014-54 §III (the participant's choice)", text[0].upper() + text[1:], say)


# ---- the trace and its text ----------------------------------------------------------------------------------
def explain_trace(req: Request | dict, out: Outcome | None = None) -> list[dict]:
    """The explanation as JSON-ready data: one object per step (see `TRACE_SCHEMA`). `req` may be a parsed
    `Request` or a wire request (a dict); without `out` the allocation is computed (a rejected request raises
    `RequestError`)."""
    if not isinstance(req, Request):
        from rollsplit.spec.parse import parse_request
        req = parse_request(req)
    if out is None:
        from rollsplit.reference import compute_outcome
        out = compute_outcome(req)
    return [step.to_json(i) for i, step in enumerate(explanation(req, out), 1)]


def explained_result(req: Request, out: Outcome) -> dict:
    """The Result JSON with the trace under "explanation" (what `allocate --json --explain` prints); without
    `--explain` the Result is the contract's, unchanged."""
    return {**out.result.to_wire(), "explanation": explain_trace(req, out)}


def _block(step: dict, width: int) -> str:
    head = f"{step['step']:>{width}}. "
    pad = " " * len(head)
    lines = [head + step["text"]] + [pad + c["computation"] for c in step["calculations"]]
    return "\n".join(lines + [pad + "Source: " + step["citation"]])


def render_steps(trace: list[dict]) -> str:
    """The text of "How it was computed", written from the trace only."""
    width = len(str(len(trace)))
    return "\n\n".join(_block(step, width) for step in trace) + "\n"


def steps(req: Request, out: Outcome) -> list[str]:
    """The explanation as text, one block per step (its sentence, its calculations, its source)."""
    trace = explain_trace(req, out)
    return [_block(step, 0)[len(f"{step['step']}. "):] for step in trace]


_AMOUNT = {"type": "object", "additionalProperties": False, "required": ["name", "cents", "dollars"],
           "properties": {"name": {"type": "string", "minLength": 1},
                          "cents": {"type": "integer"},
                          "dollars": {"type": "string", "pattern": r"^-?\$\d{1,3}(,\d{3})*\.\d{2}$"}}}
TRACE_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "rollsplit allocate --explain: the steps of one allocation",
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["step", "rule", "citation", "text", "formula", "calculations", "values", "facts"],
        "properties": {
            "step": {"type": "integer", "minimum": 1},
            "rule": {"type": "string", "pattern": "^[A-Z0-9]+(-[A-Z0-9]+)*$",
                     "description": "the id of the invariant the step applies"},
            "citation": {"type": "string", "minLength": 1},
            "text": {"type": "string", "minLength": 1},
            "formula": {"type": ["string", "null"], "description": "the calculations' formulas in words, joined"},
            "calculations": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["formula", "computation", "result", "terms", "note"],
                "properties": {"formula": {"type": "string"}, "computation": {"type": "string"},
                               "result": {"$ref": "#/$defs/amount"},
                               "terms": {"type": "array", "items": {"$ref": "#/$defs/amount"}},
                               "note": {"type": ["string", "null"]}}}},
            "values": {"type": "array", "items": {"$ref": "#/$defs/amount"}},
            "facts": {"type": "object", "additionalProperties": {"type": ["string", "boolean", "integer", "null"]}},
        },
    },
    "$defs": {"amount": _AMOUNT},
}


# ---- tables --------------------------------------------------------------------------------------------------
def _where(method: str, to: str | None) -> str:
    return f"paid to {_WHO.get()}" if method == "paid" else f"direct rollover to {DESTINATION_NAMES[to]}"


@_receiving
def tables(req: Request, out: Outcome) -> str:
    res = out.result
    parts = []
    parts.append("Distribution\n" + tabulate([
        ("Rule", REGIME_NAMES[res.regime]),
        ("Amount distributed", money(res.amount)),
        ("Pre-tax", money(res.pretax)),
        ("After-tax", money(res.aftertax)),
        ("Basis recovered", money(res.basis_recovered)),
    ], tablefmt="simple_outline", colalign=("left", "right")))

    rows = [(d.id, _where(d.method, d.to), money(d.distributed), money(r.pretax), money(r.aftertax), money(r.taxable),
             money(r.withholding)) for d, r in zip(req.disbursements, res.disbursements)]
    parts.append("Disbursements\n" + tabulate(
        rows, headers=("id", "how", "amount", "pre-tax", "after-tax", "taxable", "withholding"),
        tablefmt="simple_outline", colalign=("left", "left") + ("right",) * 5))

    eleven = any(r.form_1099r.box11 is not None for r in res.disbursements)
    forms = [(r.id, money(f.box1), money(f.box2a), money(f.box4), money(f.box5), f.box7 or "(age or event code)")
             + ((str(f.box11),) if eleven else ()) for r in res.disbursements for f in (r.form_1099r,)]
    parts.append("Form 1099-R per disbursement\n" + tabulate(
        forms, headers=("id", "box 1 gross", "box 2a taxable", "box 4 withheld", "box 5 employee contrib.", "box 7")
        + (("box 11",) if eleven else ()), tablefmt="simple_outline",
        colalign=("left",) + ("right",) * 4 + ("left",) + (("right",) if eleven else ())))

    if req.rollovers_60_day:
        sixty = [(x.id, DESTINATION_SHORT[x.to], money(x.amount), money(r.pretax), money(r.aftertax), money(r.taxable))
                 for x, r in zip(req.rollovers_60_day, res.rollovers_60_day)]
        parts.append("60-day rollovers\n" + tabulate(
            sixty, headers=("id", "to", "amount", "pre-tax", "after-tax", "taxable"),
            tablefmt="simple_outline", colalign=("left", "left") + ("right",) * 4))

    parts.append("Taxes and withholding\n" + tabulate([
        ("Taxable income", money(res.taxable_income)),
        ("Mandatory withholding (20%)", money(res.withholding)),
    ], tablefmt="simple_outline", colalign=("left", "right")))

    parts.append("Remaining in the account\n" + tabulate([
        ("Balance", money(res.remaining_balance)),
        ("Basis", money(res.remaining_basis)),
        ("Pre-1987 basis", money(res.remaining_pre1987_basis)),
    ], tablefmt="simple_outline", colalign=("left", "right")))
    return "\n\n".join(parts)


def report(req: Request, out: Outcome) -> str:
    return f"{tables(req, out)}\n\nHow it was computed\n{render_steps(explain_trace(req, out))}"


# ---- a rejected request --------------------------------------------------------------------------------------
_CENTS = re.compile(r"(-?\d+) cents")


def dollars_in(message: str) -> str:
    """A message that states amounts in cents (the wire contract's unit), in dollars: "12345 cents" -> "$123.45"."""
    return _CENTS.sub(lambda m: money(int(m.group(1))), message)


def error_report(e: RequestError) -> str:
    """A rejected request for a person: the message in dollars, the field it is about and the stable code (the
    Error JSON of `--json` keeps the message as the calculator wrote it)."""
    where = e.field if e.field is not None else "the whole request"
    return (f"The request was rejected: {dollars_in(e.message)}\n"
            f"  where:      {where}\n"
            f"  error code: {e.code}\n")
