"""The allocation algorithm of wire contract v1, written once over `spec.arith.Arith`.

`allocate(A, req)` runs on ints (A = INT) to answer requests, on z3 terms to be proved and on sympy
symbols to give closed forms. It never branches in Python on a money value: only on the request's
structure (which rows exist, where they go, which elections are given), the "shape".

It returns the result terms together with the value checks (rule, condition under which the
request must be rejected); the request is valid iff no check is violated. Numbers in comments are
the rules of the wire contract.
"""

from __future__ import annotations

from typing import Callable

from rollsplit.spec import law
from rollsplit.spec.arith import Arith, Cond, Num, total
from rollsplit.spec.money import money
from rollsplit.spec.model import (DisbursementResult, Form1099R, Request, Result, Rollover60Result, frozen)
from rollsplit.spec.orders import direct_fill_order, sixty_day_fill_order


@frozen
class Check:
    """The request must be rejected with `code` when `violated` holds (checked in list order)."""
    code: str
    violated: Cond
    field: str | None
    message: Callable[[], str]   # only called on concrete values


@frozen
class Outcome:
    checks: tuple[Check, ...]
    result: Result
    rmd_pretax: Num      # pre-tax part of the RMD (rule 3), kept for explanations
    direct_pretax: Num   # pre-tax total of the direct rollovers (rule 4)
    sixty_pretax: Num    # pre-tax total of the 60-day rollovers (rule 6)


def fill_step(A: Arith, amount: Num, before: Num, cap: Num) -> Num:
    """One row of the fill: what a row of `cap` takes when the rows filled before it have caps adding up to `before`.
    (Its own function so that the induction over the number of rows, solver.obligations.fill_induction, is proved on
    this very code.)"""
    return A.min(cap, A.max(0, amount - before))


def fill(A: Arith, amount: Num, caps: list[Num], order: list[int]) -> list[Num]:
    """Pour `amount` into `caps` in `order`, each up to its cap: x = min(cap, max(0, amount - before))."""
    out: list[Num] = [0] * len(caps)
    before: Num = 0
    for i in order:
        out[i] = fill_step(A, amount, before, caps[i])
        before = before + caps[i]
    return out


def basis_recovered(A: Arith, D: Num, balance: Num, basis: Num, pre1987: Num) -> Num:
    """Rule 2, §72(e)(8)(B) and (D): pre-1987 basis first, then the pro rata share, rounded half up."""
    pre = A.min(D, pre1987)
    return pre + A.round_half_up(D - pre, basis - pre1987, balance - pre1987)


def direct_pretax_total(A: Arith, P: Num, T: Num, R: Num, caps: list[Num]) -> Num:
    """Rule 4: the direct rollovers hold as much pre-tax as they can, less the RMD's pre-tax part (rule 3).

    A named step so that `reference.mutants` can swap it (the after-tax-first mistake).
    """
    return A.min(P - A.max(0, R - T), total(A, caps))


def largest_remainder(A: Arith, T: Num, amounts: list[Num]) -> list[Num]:
    """Rule 10: split T over `amounts` pro rata; leftover cents to the largest remainders, ties in order."""
    D = total(A, amounts)
    q = [A.floordiv(T * a, D) for a in amounts]
    r = [T * a - qi * D for a, qi in zip(amounts, q)]
    k = T - total(A, q)
    shares = []
    for i in range(len(amounts)):
        ahead = total(A, (A.ite(A.lt(r[i], r[j]) if j > i else A.le(r[i], r[j]), 1, 0)
                          for j in range(len(amounts)) if j != i))
        shares.append(q[i] + A.ite(A.lt(ahead, k), 1, 0))
    return shares


def allocate(A: Arith, req: Request) -> Outcome:
    contract = req.contract
    rows = req.disbursements
    directs = [i for i, d in enumerate(rows) if d.method == "direct"]
    paid = next((i for i, d in enumerate(rows) if d.method == "paid"), None)
    sixty = req.rollovers_60_day
    # the payment distributes its cash and its plan loan offset (Treas. Reg. §1.402(c)-2(g)); only the cash can
    # be withheld from (§3405(e)(8), Reg. §31.3405(c)-1 Q&A-11)
    paid_amount: Num = rows[paid].distributed if paid is not None else 0
    R = req.rmd

    # Rule 1: one distribution of all disbursements scheduled together (Notice 2014-54 §III ¶1).
    D = total(A, (d.distributed for d in rows))
    # Rule 2: §72(e)(8).
    N = basis_recovered(A, D, req.balance, req.basis, req.pre1987_basis)
    T = D if (contract == "designated_roth" and req.qualified_roth) else N
    P = D - T

    pretax: list[Num] = [0] * len(rows)
    election_checks: list[tuple[Cond, str | None, Callable[[], str]]] = []
    if req.regime == law.NEW:
        # Rule 4: pre-tax to direct rollovers first, less the pre-tax the RMD must keep (rule 3).
        caps = [rows[i].amount for i in directs]
        direct_total = direct_pretax_total(A, P, T, R, caps)
        elected = req.elections.direct_pretax_amounts
        if elected is not None:
            split = [elected.get(rows[i].id, 0) for i in directs]
            for i, e in zip(directs, split):
                if rows[i].id in elected:
                    election_checks.append((A.lt(rows[i].amount, e), f"elections.direct_pretax_amounts.{rows[i].id}",
                                            lambda i=i, e=e: f"The election puts {money(e)} of pre-tax money into "
                                            f"{rows[i].id!r}, which is only {money(rows[i].amount)}."))
            election_checks.append((A.not_(A.eq(total(A, split), direct_total)), "elections.direct_pretax_amounts",
                                    lambda split=split: f"The elected pre-tax amounts add up to {money(sum(split))}, but "
                                    f"the direct rollovers must carry exactly {money(direct_total)} of pre-tax money."))
        else:
            split = fill(A, direct_total, caps, direct_fill_order(req))
        for i, x in zip(directs, split):
            pretax[i] = x
        if paid is not None:
            pretax[paid] = P - direct_total  # Rule 5: the payment carries the rest.
    else:
        # Rule 10, Notice 2009-68: every disbursement carries its own pro rata share of basis.
        shares = largest_remainder(A, T, [d.distributed for d in rows])
        for i, d in enumerate(rows):
            pretax[i] = d.distributed - shares[i]
        direct_total = total(A, (pretax[i] for i in directs))
    aftertax = [d.distributed - p for d, p in zip(rows, pretax)]

    # Rule 3: the RMD is paid out and is after-tax money first (Reg. §1.402(c)-2 A-8, secondary).
    paid_pretax: Num = pretax[paid] if paid is not None else 0
    paid_aftertax: Num = aftertax[paid] if paid is not None else 0
    rmd_pretax = A.max(0, R - paid_aftertax)
    rollable = paid_pretax - rmd_pretax

    # Rule 6: 60-day rollovers take the payment's rollable pre-tax first (§402(c)(2) last sentence).
    S = total(A, (x.amount for x in sixty))
    sixty_total = A.min(rollable, S)
    elected = req.elections.sixty_day_pretax_amounts
    if elected is not None:
        sixty_pretax = [elected.get(x.id, 0) for x in sixty]
        for x, e in zip(sixty, sixty_pretax):
            if x.id in elected:
                election_checks.append((A.lt(x.amount, e), f"elections.sixty_day_pretax_amounts.{x.id}",
                                        lambda x=x, e=e: f"The election puts {money(e)} of pre-tax money into "
                                        f"{x.id!r}, which is only {money(x.amount)}."))
        election_checks.append((A.not_(A.eq(total(A, sixty_pretax), sixty_total)), "elections.sixty_day_pretax_amounts",
                                lambda: f"The elected 60-day pre-tax amounts add up to {money(sum(sixty_pretax))}, but "
                                f"the 60-day rollovers must carry exactly {money(sixty_total)} of pre-tax money."))
    else:
        sixty_pretax = fill(A, sixty_total, [x.amount for x in sixty], sixty_day_fill_order(req))
    sixty_aftertax = [x.amount - p for x, p in zip(sixty, sixty_pretax)]

    # Rule 5 / §3405(c): 20% of the eligible (non-RMD) taxable part not directly rolled over, unless the year's
    # eligible rollover distributions paid to the recipient total less than $200 (Reg. §31.3405(c)-1 Q&A-14).
    if req.hardship:
        withholding = 0
    else:
        year_total = paid_amount - R + req.other_eligible_this_year
        due = A.round_half_up(rollable, *law.WITHHOLDING_RATE)
        if paid is not None and rows[paid].distributed is not rows[paid].amount:   # a loan offset: cap at the cash
            due = A.min(due, rows[paid].amount)
        withholding = A.ite(A.lt(year_total, law.WITHHOLDING_DE_MINIMIS), 0, due)

    # Rule 8: what is includible in gross income.
    sixty_taxable = [p if law.is_conversion(contract, x.to) else 0 for x, p in zip(sixty, sixty_pretax)]
    # Box 11 (contract 1.2): the first year of designated Roth contributions, on every form of a designated Roth
    # account when the request gives it (a number the answer copies: the compiled path takes it as an argument)
    year = req.participant.first_roth_contribution_year if contract == "designated_roth" else None
    results = []
    for i, d in enumerate(rows):
        if d.method == "direct":
            taxable = pretax[i] if law.is_conversion(contract, d.to) else 0
            box7 = law.box7(law.direct_box7(contract, d.to), req.event_code)
            w = 0
        else:
            taxable = pretax[i] - total(A, sixty_pretax)
            box7 = law.box7(law.payment_box7(contract, d.qualified_plan_loan_offset), req.event_code)
            w = withholding
        # Rule 9: Form 1099-R, one per disbursement.
        form = Form1099R(box1=d.distributed, box2a=taxable if d.method == "direct" else pretax[i], box4=w,
                         box5=aftertax[i], box7=box7, box11=year)
        results.append(DisbursementResult(id=d.id, pretax=pretax[i], aftertax=aftertax[i], taxable=taxable,
                                          withholding=w, form_1099r=form))
    sixty_results = [Rollover60Result(id=x.id, pretax=p, aftertax=a, taxable=t)
                     for x, p, a, t in zip(sixty, sixty_pretax, sixty_aftertax, sixty_taxable)]

    result = Result(
        regime=req.regime, amount=D, pretax=P, aftertax=T, basis_recovered=N,
        disbursements=tuple(results), rollovers_60_day=tuple(sixty_results),
        taxable_income=total(A, (r.taxable for r in results)) + total(A, sixty_taxable),
        withholding=withholding if paid is not None else 0,
        remaining_balance=req.balance - D, remaining_basis=req.basis - N,
        remaining_pre1987_basis=req.pre1987_basis - A.min(D, req.pre1987_basis),
    )

    checks = [
        Check("basis_exceeds_balance", A.lt(req.balance, req.basis), "basis",
              lambda: f"The basis ({money(req.basis)}) cannot be larger than the balance ({money(req.balance)})."),
        Check("basis_exceeds_balance", A.lt(req.basis, req.pre1987_basis), "pre1987_basis",
              lambda: f"The pre-1987 basis ({money(req.pre1987_basis)}) cannot be larger than the whole basis "
              f"({money(req.basis)})."),
        Check("empty_distribution", A.eq(D, 0), "disbursements",
              lambda: "The disbursements add up to zero; there is nothing to distribute."),
        Check("distribution_exceeds_balance", A.lt(req.balance, D), "disbursements",
              lambda: f"The disbursements add up to {money(D)}, more than the balance of {money(req.balance)}."),
        Check("rmd_exceeds_payment", A.lt(paid_amount, R), "rmd",
              lambda: f"The RMD ({money(R)}) must be paid to the participant, but only {money(paid_amount)} is paid "
              "(cash and any plan loan offset)."),
        Check("sixty_day_exceeds_payment", A.lt(paid_amount - R, S), "rollovers_60_day",
              lambda: f"The 60-day rollovers add up to {money(S)}, more than the {money(paid_amount - R)} paid to the "
              "participant (cash and any plan loan offset) that are not a required minimum distribution."),
    ]
    checks += [Check("invalid_election", c, f, m) for c, f, m in election_checks]
    for i, d in enumerate(rows):
        if d.method == "direct":
            checks.append(_eligibility(A, contract, "direct", d.to, d.accepts_aftertax, pretax[i], aftertax[i],
                                       f"disbursements[{i}]", d.id, req.recipient))
    for j, x in enumerate(sixty):
        checks.append(_eligibility(A, contract, "sixty_day", x.to, True, sixty_pretax[j], sixty_aftertax[j],
                                   f"rollovers_60_day[{j}]", x.id, req.recipient))
    return Outcome(checks=tuple(checks), result=result, rmd_pretax=rmd_pretax, direct_pretax=direct_total,
                   sixty_pretax=sixty_total)


def _eligibility(A: Arith, contract: str, method: str, to: str, accepts: bool, pre: Num, after: Num,
                 field: str, row_id: str, recipient: str = "participant") -> Check:
    """Rule 7, checked after allocation: no money of a kind where `spec.law.may_receive` forbids it."""
    conds = []
    if law.receives_nothing(contract, method, to, accepts, recipient):
        conds.append(A.true)
    if not law.may_receive(contract, method, to, accepts, "pretax", recipient):
        conds.append(A.lt(0, pre))
    if not law.may_receive(contract, method, to, accepts, "aftertax", recipient):
        conds.append(A.lt(0, after))
    how = "a direct rollover" if method == "direct" else "a 60-day rollover"

    def message() -> str:
        if law.receives_nothing(contract, method, to, accepts, recipient):
            if recipient == "nonspouse_beneficiary":
                return (f"{row_id!r}: a beneficiary who is not the surviving spouse may roll over only by a direct "
                        "rollover into an inherited IRA (IRC §402(c)(11)), not to " + to + ".")
            if to in law.INHERITED and recipient != "spouse_beneficiary":
                return (f"{row_id!r}: an inherited IRA is kept for a beneficiary of a participant who has died; the "
                        f"{recipient.replace('_', ' ')} cannot roll over into one.")
            return f"{row_id!r}: money of a {contract} contract cannot go to {to} by {how}."
        kind, cents = ("pre-tax", pre) if (pre > 0 and not law.may_receive(contract, method, to, accepts, "pretax",
                                                                             recipient)) \
            else ("after-tax", after)
        return f"{row_id!r} would carry {money(cents)} of {kind} money to {to} by {how}, which the law does not allow."
    return Check("ineligible_destination", A.or_(*conds) if conds else A.false, field, message)
