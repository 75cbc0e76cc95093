"""The human report of one allocation: tables of the result, then each step with the rule and the numbers.

Reads a parsed `Request` and its `Outcome` (`reference.compute_outcome`); it recomputes nothing that the
algorithm decides, it only shows the algorithm's own terms next to the rule that produced them. Money is
formatted from integer cents with integer arithmetic only.
"""

from __future__ import annotations

import datetime

from tabulate import tabulate

from rollsplit.reference.algorithm import Outcome
from rollsplit.spec import law
from rollsplit.spec.arith import INT
from rollsplit.spec.errors import RequestError
from rollsplit.spec.model import Request
from rollsplit.spec.orders import direct_fill_order, sixty_day_fill_order

REGIME_NAMES = {law.NEW: "Notice 2014-54 (one distribution, pre-tax to direct rollovers first)",
                law.OLD: "Notice 2009-68 (each disbursement its own distribution)"}


def money(cents: int) -> str:
    """$1,234.56 from integer cents, no floats: 123456 -> '$1,234.56', -5 -> '-$0.05'."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def _where(method: str, to: str | None) -> str:
    return "paid to participant" if method == "paid" else f"direct to {to}"


def tables(req: Request, out: Outcome) -> str:
    res = out.result
    parts = []
    parts.append("Distribution\n" + tabulate([
        ("Regime", res.regime),
        ("Amount distributed", money(res.amount)),
        ("Pre-tax", money(res.pretax)),
        ("After-tax", money(res.aftertax)),
        ("Basis recovered", money(res.basis_recovered)),
    ], tablefmt="simple_outline", colalign=("left", "right")))

    rows = [(d.id, _where(d.method, d.to), money(d.distributed), money(r.pretax), money(r.aftertax), money(r.taxable),
             money(r.withholding)) for d, r in zip(req.disbursements, res.disbursements)]
    parts.append("Disbursements\n" + tabulate(
        rows, headers=("id", "method", "amount", "pre-tax", "after-tax", "taxable", "withholding"),
        tablefmt="simple_outline", colalign=("left", "left") + ("right",) * 5))

    forms = [(r.id, money(f.box1), money(f.box2a), money(f.box4), money(f.box5), f.box7 or "(depends on age)")
             for r in res.disbursements for f in (r.form_1099r,)]
    parts.append("Form 1099-R per disbursement\n" + tabulate(
        forms, headers=("id", "box 1 gross", "box 2a taxable", "box 4 withheld", "box 5 employee contrib.", "box 7"),
        tablefmt="simple_outline", colalign=("left",) + ("right",) * 4 + ("left",)))

    if req.rollovers_60_day:
        sixty = [(x.id, x.to, money(x.amount), money(r.pretax), money(r.aftertax), money(r.taxable))
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


def steps(req: Request, out: Outcome) -> list[str]:
    """The explanation, one sentence per step, each naming the rule it applies with the actual numbers."""
    res = out.result
    D, P, T, N = res.amount, res.pretax, res.aftertax, res.basis_recovered
    rows = list(zip(req.disbursements, res.disbursements))
    paid = next(((d, r) for d, r in rows if d.method == "paid"), None)
    directs = [(d, r) for d, r in rows if d.method == "direct"]
    sixty = list(zip(req.rollovers_60_day, res.rollovers_60_day))
    s: list[str] = []

    date = req.date.isoformat()
    if res.regime == law.NEW:
        s.append(f"Regime (IRS FAQ transition, T.D. 9769): a {req.contract} contract distributed on {date} uses "
                 f"{REGIME_NAMES[law.NEW]}.")
        s.append("Notice 2014-54 §III ¶1: all disbursements paid at the same time are one distribution: D = "
                 + " + ".join(money(d.distributed) for d in req.disbursements) + f" = {money(D)}.")
    else:
        s.append(f"Regime (Notice 2009-68, IRS FAQ transition): a {req.contract} contract distributed on {date} uses "
                 f"{REGIME_NAMES[law.OLD]}; the total is D = "
                 + " + ".join(money(d.distributed) for d in req.disbursements) + f" = {money(D)}.")
    for d in req.disbursements:
        if d.loan_offset:
            qualified = (" It is a qualified plan loan offset (§402(c)(3)(C)): it may be rolled over until the due "
                         "date, with extensions, of the return for the year, and box 7 carries M."
                         if d.qualified_plan_loan_offset else "")
            s.append(f"Treas. Reg. §1.402(c)-2(g): the plan loan offset of {money(d.loan_offset)} is an actual "
                     f"distribution: the payment {d.id!r} distributes its cash {money(d.amount)} and the offset, "
                     f"{money(d.distributed)} in all (box 1).{qualified}")

    pre = min(D, req.pre1987_basis)
    if req.pre1987_basis:
        s.append(f"§72(e)(8)(D): the pre-1987 basis comes out first, tax-free: min({money(D)}, "
                 f"{money(req.pre1987_basis)}) = {money(pre)}.")
    den = req.balance - req.pre1987_basis
    share = N - pre
    if den == 0:
        s.append(f"§72(e)(8): the balance outside the pre-1987 basis is {money(0)}, so no further basis is "
                 f"recovered: basis recovered = {money(N)}.")
    else:
        exact = "" if ((D - pre) * (req.basis - req.pre1987_basis)) % den == 0 else ", rounded half up to the cent"
        if req.pre1987_basis:
            s.append(f"§72(e)(8): pro rata share of the rest = {money(D - pre)} × "
                     f"{money(req.basis - req.pre1987_basis)} / {money(den)} = {money(share)}{exact}; basis "
                     f"recovered = {money(pre)} + {money(share)} = {money(N)}.")
        else:
            s.append(f"§72(e)(8): after-tax = {money(D)} × {money(req.basis)} / {money(req.balance)} = "
                     f"{money(N)}{exact}.")
    if D == req.balance:
        s.append(f"§72(e)(8): the whole balance is distributed, so exactly the whole basis {money(req.basis)} "
                 "is recovered.")
    if req.contract == "designated_roth" and req.qualified_roth:
        s.append(f"§402A(d)(1): a qualified distribution from a designated Roth account is not includible in gross "
                 f"income: the whole {money(D)} counts as after-tax; pre-tax = {money(P)}.")
    else:
        s.append(f"Pre-tax part of the distribution = {money(D)} − {money(T)} = {money(P)}.")

    R = req.rmd
    if R:
        if req.date < datetime.date(2025, 1, 1):
            rule = ("§402(c)(4)(B); Treas. Reg. §1.402(c)-2 Q&A-8: \"the portion of the distribution that is "
                    "excludible from gross income is first allocated toward satisfaction of section 401(a)(9)\"")
        else:
            rule = ("§402(c)(4)(B); Treas. Reg. §1.402(c)-2(f)(1) and (b)(3)(iv): the first dollars of the year are "
                    "the RMD, and an amount rolled over consists first of the part not allocable to basis; the "
                    "pre-tax money left to roll over, min(pre-tax, distribution − RMD), is the same as under "
                    "the earlier Q&A-8")
        s.append(f"RMD rule ({rule}): the required minimum distribution {money(R)} is paid to the participant and "
                 f"is not rollable; after-tax money is applied to it first, so its pre-tax part is max(0, "
                 f"{money(R)} − {money(paid[1].aftertax if paid else 0)}) = {money(out.rmd_pretax)}.")

    if res.regime == law.NEW:
        if directs:
            cap = sum(d.amount for d, _ in directs)
            reserve = max(0, R - T)
            held = f"{money(P)} − {money(reserve)}" if reserve else money(P)
            s.append(f"Notice 2014-54 §III ¶2 (direct rollovers first): the direct rollovers carry min({held}, "
                     f"{money(cap)}) = {money(out.direct_pretax)} of pre-tax money.")
            e = req.elections
            if e.direct_pretax_amounts is not None:
                how = "as elected by the participant (Notice 2014-54 §III)"
            elif e.direct_pretax_order is not None:
                how = "in the order elected by the participant (Notice 2014-54 §III), then the default order"
            elif req.contract == "designated_roth":
                how = "in request order (designated Roth contract)"
            else:
                how = ("in the default order: plans that cannot take after-tax money, then traditional IRA and "
                       "plans, then Roth IRA")
            order = [directs[i] for i in direct_fill_order(req)] if e.direct_pretax_amounts is None else directs
            split = "; ".join(f"{d.id!r} ({d.to}) {money(r.pretax)} pre-tax + {money(r.aftertax)} after-tax"
                              for d, r in order)
            s.append(f"Split among the direct rollovers {how}: {split}.")
        if paid:
            d, r = paid
            s.append(f"Notice 2014-54 §III: the payment {d.id!r} carries the remaining pre-tax {money(P)} − "
                     f"{money(out.direct_pretax)} = {money(r.pretax)}; the rest {money(d.distributed)} − "
                     f"{money(r.pretax)} = {money(r.aftertax)} is after-tax.")
    else:
        for d, r in rows:
            s.append(f"Notice 2009-68: {d.id!r} ({_where(d.method, d.to)}) carries its own pro rata share of the "
                     f"after-tax money: {money(T)} × {money(d.distributed)} / {money(D)} → {money(r.aftertax)} after-tax "
                     f"(leftover cents to the largest remainders), {money(r.pretax)} pre-tax.")

    if sixty:
        d, r = paid
        rollable = r.pretax - out.rmd_pretax
        S = sum(x.amount for x, _ in sixty)
        s.append(f"§402(c)(2) last sentence (60-day rollovers take pre-tax first): rollable pre-tax of the payment "
                 f"= {money(r.pretax)} − {money(out.rmd_pretax)} = {money(rollable)}; the 60-day rollovers carry "
                 f"min({money(rollable)}, {money(S)}) = {money(out.sixty_pretax)} of it.")
        e = req.elections
        if e.sixty_day_pretax_amounts is not None:
            how, order = "as elected by the participant", sixty
        else:
            how = ("in the order elected by the participant, then the default order"
                   if e.sixty_day_pretax_order is not None else
                   "in the default order: employer plans and designated Roth, then traditional IRA, then Roth IRA")
            order = [sixty[i] for i in sixty_day_fill_order(req)]
        split = "; ".join(f"{x.id!r} ({x.to}) {money(q.pretax)} pre-tax + {money(q.aftertax)} after-tax"
                          for x, q in order)
        s.append(f"Split among the 60-day rollovers {how}: {split}.")

    if paid:
        d, r = paid
        if req.hardship:
            s.append(f"§3405(c) withholding: a hardship distribution is not an eligible rollover distribution "
                     f"(§402(c)(4)(C)), so no mandatory 20% is withheld from {d.id!r}: {money(0)} (elective "
                     "§3405(b) withholding is not modelled).")
        else:
            base = r.pretax - out.rmd_pretax
            year = d.distributed - req.rmd + req.other_eligible_this_year
            others = (f" + other eligible rollover distributions of the year {money(req.other_eligible_this_year)}"
                      if req.other_eligible_this_year else "")
            received = (f"eligible rollover distributions received this year = payment {money(d.distributed)} − RMD "
                        f"{money(req.rmd)}{others} = {money(year)}")
            if year < law.WITHHOLDING_DE_MINIMIS:
                s.append(f"§3405(c) withholding, Treas. Reg. §31.3405(c)-1 Q&A-14 (no withholding under $200 a year; "
                         f"direct rollovers are not received, Q&A-6): {received}, less than "
                         f"{money(law.WITHHOLDING_DE_MINIMIS)}, so nothing is withheld: {money(0)}.")
            else:
                due = INT.round_half_up(base, *law.WITHHOLDING_RATE)
                cap = (f"; with a plan loan offset no more than the cash paid, {money(d.amount)}, is withheld "
                       f"(Treas. Reg. §31.3405(c)-1 Q&A-11)" if d.loan_offset else "")
                s.append(f"§3405(c) withholding: {received}, at least {money(law.WITHHOLDING_DE_MINIMIS)} "
                         f"(Treas. Reg. §31.3405(c)-1 Q&A-14); 20% of the payment's taxable eligible part = 20% × "
                         f"({money(r.pretax)} − {money(out.rmd_pretax)}) = 20% × {money(base)} = {money(due)}, "
                         f"rounded half up{cap}: {money(r.withholding)} withheld; direct rollovers are not withheld.")
    elif directs:
        s.append(f"§3405(c) withholding: nothing is paid to the participant and direct rollovers are not withheld: "
                 f"{money(0)}.")

    def conversion(row_id: str, to: str, pretax: int, how: str) -> str:
        if to == "in_plan_roth":
            return (f"§402A(c)(4)(A): the {money(pretax)} of pre-tax money rolled {how} into the plan's designated "
                    f"Roth account by {row_id!r} is includible in gross income, as it would be were it not rolled "
                    "over; its after-tax money is not.")
        return (f"§408A(d)(3): the {money(pretax)} of pre-tax money rolled {how} to a Roth IRA by {row_id!r} is a "
                "conversion and is taxable.")
    for d, r in directs:
        if law.is_conversion(req.contract, d.to) and r.pretax:
            s.append(conversion(d.id, d.to, r.pretax, "directly"))
    for x, q in sixty:
        if law.is_conversion(req.contract, x.to) and q.pretax:
            s.append(conversion(x.id, x.to, q.pretax, "within 60 days"))
    if paid:
        d, r = paid
        rolled = sum(q.pretax for _, q in sixty)
        s.append(f"Taxable on the payment {d.id!r}: its pre-tax {money(r.pretax)} − pre-tax rolled over within 60 "
                 f"days {money(rolled)} = {money(r.taxable)}.")
    terms = [money(r.taxable) for _, r in rows] + [money(q.taxable) for _, q in sixty]
    s.append(f"Taxable income = {' + '.join(terms)} = {money(res.taxable_income)}.")

    rollovers = len(directs) + len(sixty)
    if rollovers:
        s.append("Eligibility (§402(c)(2), §402A(c)(3), §457(e)(16)): each of the "
                 f"{rollovers} rollover(s) carries only money its destination may take: after-tax money only to an "
                 "IRA or, by direct rollover, to a plan that accounts for it separately; Roth money only to a Roth "
                 "IRA or a designated Roth account.")
    if paid and req.contract == "designated_roth":
        d, r = paid
        s.append(f"Form 1099-R instructions (\"Use Code B for a distribution from a designated Roth account\"): the "
                 f"payment {d.id!r} carries box 7 {r.form_1099r.box7}; the payor adds the code for the participant's "
                 "age or event (1, 2, 4, 7, ...), which the request does not carry.")
    codes = "; ".join(f"{d.id!r}: box 7 {r.form_1099r.box7}" for d, r in directs)
    if codes:
        s.append(f"Form 1099-R instructions: direct rollovers are reported with code G (H for designated Roth to a "
                 f"Roth IRA, B,G to another designated Roth account; G with the taxable amount in box 2a and the "
                 f"basis in box 5 for an in-plan Roth rollover): {codes}; box 2a is the taxable amount.")
    s.append(f"Remaining: balance {money(req.balance)} − {money(D)} = {money(res.remaining_balance)}; basis "
             f"{money(req.basis)} − {money(N)} = {money(res.remaining_basis)}; pre-1987 basis "
             f"{money(res.remaining_pre1987_basis)}.")
    return s


def report(req: Request, out: Outcome) -> str:
    explanation = "\n".join(f"{i}. {line}" for i, line in enumerate(steps(req, out), 1))
    return f"{tables(req, out)}\n\nHow it was computed\n{explanation}\n"


def error_report(e: RequestError) -> str:
    return (f"The request was rejected.\n  code:    {e.code}\n  message: {e.message}\n"
            f"  field:   {e.field if e.field is not None else '(the whole request)'}\n")
