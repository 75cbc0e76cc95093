"""Which requests get an answer: the wire contract's validity rules, stated on their own.

The reference decides validity in two places: the parser (`spec.parse`: shape, types, ranges, structure) and
the algorithm's value checks (`reference.algorithm.allocate`, each a `Check`). A proof that the algorithm's
answer obeys the invariants "for every valid request" is only as good as that notion of valid: a check that
rejects too much (every full distribution, say) makes a rule vacuous, one that rejects too little answers a
request the law forbids. So validity is stated here once more, from the contract's text, as two predicates:

- `value_rules(A, req, res)`: the rules about money, over a request of a known structure and the answer the
  invariants pin down (written over `spec.arith.Arith`, so z3 proves it equal to the algorithm's checks on
  every shape: the "validity" obligations of `rollsplit prove`);
- `structure_problem(obj)`: the rules about structure, over a wire request (a dict), giving the error code the
  contract names; `rollsplit prove` checks the parser against it on every shape of the bundle and on each
  structurally invalid variant (the "parse" obligations).

Nothing here imports the algorithm, its tables (`spec.law`) or its fill orders; the facts of the law come
from `spec.facts`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from rollsplit.spec import ages, facts
from rollsplit.spec.arith import Arith, Cond, total
from rollsplit.spec.model import Request, Result

MAX_CENTS = 2**53 - 1   # the contract's Money: "JSON integers in cents, 0 <= x <= 9007199254740991 (2^53-1)"


def money_in_range(A: Arith, req: Request) -> Cond:
    """Money: 0 <= x <= 2^53-1; every disbursement and 60-day rollover at least 1 cent (contract 1.1, zero_amount);
    a payment with a plan loan offset may pay 0 cash, its offset a cent or more."""
    conds = []
    amounts = [req.balance, req.basis, req.pre1987_basis, req.rmd, req.other_eligible_this_year]
    for d in req.disbursements:
        amounts.append(d.amount)
        if d.loan_offset is not None and not (type(d.loan_offset) is int and d.loan_offset == 0):
            amounts.append(d.loan_offset)
            conds.append(A.le(1, d.loan_offset))
        else:
            conds.append(A.le(1, d.amount))
    for x in req.rollovers_60_day:
        amounts.append(x.amount)
        conds.append(A.le(1, x.amount))
    for e in (req.elections.direct_pretax_amounts, req.elections.sixty_day_pretax_amounts):
        amounts += list((e or {}).values())
    conds += [A.and_(A.le(0, v), A.le(v, MAX_CENTS)) for v in amounts]
    return A.and_(*conds, *year_rules(A, req))


def year_rules(A: Arith, req: Request) -> list:
    """Contract 1.2, inconsistent_facts, for the year box 11 copies (a number, like money, in the proofs): it lies from
    2006 to the distribution's year, and agrees with qualified_roth: a qualified distribution comes after the
    5-taxable-year period (§402A(d)(2)(B)); one after it that is made at 59½ or later (code 7), on disability (3) or
    to a beneficiary (4) is qualified (§402A(d)(2)(A), §408A(d)(2)(A)(i)-(iii))."""
    year = req.participant.first_roth_contribution_year
    if year is None or req.contract != facts.DESIGNATED_ROTH:
        return []
    last = req.date.year
    out = [A.le(ages.FIRST_ROTH_YEAR, year), A.le(year, last)]
    if req.qualified_roth:
        out.append(A.le(year + 5, last))
    elif req.event_code in ("3", "4", "7") or req.participant.disabled:
        out.append(A.lt(last, year + 5))
    return out


def value_rules(A: Arith, req: Request, res: Result) -> Cond:
    """The contract's rules about money, all of them: the request is valid (given its structure) iff they hold.
    `res` is an answer obeying the invariants; only the two rules that depend on the split read it (an amounts
    election must add up to what the law puts in the rollovers; no money where the law lets none go)."""
    D = total(A, (d.distributed for d in req.disbursements))
    paid = req.paid
    cash_and_offset = paid.distributed if paid is not None else 0
    S = total(A, (x.amount for x in req.rollovers_60_day))
    rules = [
        A.le(req.basis, req.balance),            # basis_exceeds_balance
        A.le(req.pre1987_basis, req.basis),      # "also pre1987_basis > basis"
        A.lt(0, D),                              # empty_distribution: "0 < D"
        A.le(D, req.balance),                    # distribution_exceeds_balance: "D <= balance"
        A.le(req.rmd, cash_and_offset),          # rmd_exceeds_payment: "rmd <= paid amount"
        A.le(S, cash_and_offset - req.rmd),      # sixty_day_exceeds_payment: "sum <= paid amount - rmd"
    ]
    rules += _elections_add_up(A, req, res)
    rules += _no_money_where_none_may_go(A, req, res)
    return A.and_(*rules)


def _elections_add_up(A: Arith, req: Request, res: Result) -> list:
    """"amounts: exact, each <= its amount, must sum to that total, else invalid_election": the total the law puts
    into the direct rollovers (all the pre-tax money they can hold, less the RMD's pre-tax part) and into the
    60-day rollovers (all of the payment's rollable pre-tax money they can hold)."""
    out = []
    e = req.elections
    if e.direct_pretax_amounts is not None:
        directs = req.directs
        for d in directs:
            if d.id in e.direct_pretax_amounts:
                out.append(A.le(e.direct_pretax_amounts[d.id], d.amount))
        kept_for_rmd = A.max(0, req.rmd - res.aftertax)
        must = A.min(res.pretax - kept_for_rmd, total(A, (d.amount for d in directs)))
        out.append(A.eq(total(A, (e.direct_pretax_amounts.get(d.id, 0) for d in directs)), must))
    if e.sixty_day_pretax_amounts is not None:
        rows = req.rollovers_60_day
        for x in rows:
            if x.id in e.sixty_day_pretax_amounts:
                out.append(A.le(e.sixty_day_pretax_amounts[x.id], x.amount))
        paid = next(r for d, r in zip(req.disbursements, res.disbursements) if d.method == "paid")
        rollable = paid.pretax - A.max(0, req.rmd - paid.aftertax)
        must = A.min(rollable, total(A, (x.amount for x in rows)))
        out.append(A.eq(total(A, (e.sixty_day_pretax_amounts.get(x.id, 0) for x in rows)), must))
    return out


def _no_money_where_none_may_go(A: Arith, req: Request, res: Result) -> list:
    """ineligible_destination: a rollover to a place no money of this contract may go, or carrying money of a
    kind the law does not let go there."""
    out = []
    rows = [("direct", d.to, d.accepts_aftertax, r) for d, r in zip(req.disbursements, res.disbursements)
            if d.method == "direct"]
    rows += [("sixty_day", x.to, True, r) for x, r in zip(req.rollovers_60_day, res.rollovers_60_day)]
    for how, to, accepts, r in rows:
        kinds = facts.receives(req.contract, how, to, accepts, req.recipient)
        if not kinds:
            out.append(A.false)
        if facts.P not in kinds:
            out.append(A.eq(r.pretax, 0))
        if facts.A not in kinds:
            out.append(A.eq(r.aftertax, 0))
    return out


def facts_problem(obj: Any, date: _dt.date) -> bool:
    """Contract 1.2's inconsistent_facts, for a well-typed wire request: a birth date on or after the distribution, a
    separation from service on or before birth, a first year of designated Roth contributions for another contract or
    outside 2006 to the distribution's year, or `qualified_roth` other than the facts make it (§402A(d)(2))."""
    p = obj.get("participant") or {}
    birth = _dt.date.fromisoformat(p["birth_date"]) if "birth_date" in p else None
    separated = _dt.date.fromisoformat(p["separation_date"]) if "separation_date" in p else None
    year = p.get("first_roth_contribution_year")
    if birth is not None and birth >= date:
        return True
    if birth is not None and separated is not None and separated <= birth:
        return True
    if year is not None and (obj.get("contract") != facts.DESIGNATED_ROTH
                             or not ages.FIRST_ROTH_YEAR <= year <= date.year):
        return True
    if obj.get("contract") != facts.DESIGNATED_ROTH:
        return False
    # Reg. §1.402A-1 Q&A-2(b): qualified when "both" (1) after the 5-taxable-year period and (2) at 59½, after death or
    # on disability; either half failing settles it
    said = bool(obj.get("qualified_roth", False))
    beneficiary = obj.get("recipient", "participant") in ("spouse_beneficiary", "nonspouse_beneficiary")
    of_age = birth is not None and ages.attained_59_half(birth, date)
    half_2 = beneficiary or p.get("disabled") is True or of_age
    not_half_2 = not beneficiary and birth is not None and not of_age and p.get("disabled") is False
    if not_half_2 or (year is not None and date.year < year + 5):
        return said                # not qualified, whatever else holds
    if half_2 and year is not None:
        return not said            # qualified
    return False                   # the facts given do not settle it


# ---- structure ---------------------------------------------------------------------------------------
def structure_problem(obj: Any) -> str | None:
    """The error code the contract gives a well-typed wire request for its structure, or None. Only the rules a
    request shape can break are stated (shape and type errors are the JSON schema's): "at most one paid";
    "Ids are unique across disbursements and 60-day rollovers"; 60-day rollovers "need a paid disbursement";
    "hardship with any rollover: not_eligible_rollover_distribution"; under the old rule "no direct pre-tax
    election"; a route of the law that did not exist yet on the date; a lifetime RMD from a designated Roth account
    after April 1, 2024; a rule (regime) not permitted on the date; an order and amounts given for one kind of
    rollover, or an election naming a row that is not of its kind, or one row twice."""
    rows = obj.get("disbursements") or []
    sixty = obj.get("rollovers_60_day") or []
    elections = obj.get("elections") or {}
    ids = [r.get("id") for r in rows] + [x.get("id") for x in sixty]
    paid = [r for r in rows if r.get("method") == "paid"]
    direct = [r for r in rows if r.get("method") == "direct"]
    if len(paid) > 1:
        return "more_than_one_payment"
    if len(set(ids)) != len(ids):
        return "duplicate_id"
    # §402(c)(11): "a direct trustee-to-trustee transfer" is a nonspouse beneficiary's only rollover
    if obj.get("recipient") == "nonspouse_beneficiary" and sixty:
        return "nonspouse_sixty_day_rollover"
    if sixty and not paid:
        return "sixty_day_without_payment"
    if obj.get("hardship") and any(r.get("loan_offset") for r in paid):
        return "invalid_request"     # contract 1.1: a plan loan offset is not part of a hardship distribution here
    if obj.get("hardship") and (direct or sixty):
        return "not_eligible_rollover_distribution"
    date = _dt.date.fromisoformat(obj["date"])
    if facts_problem(obj, date):
        return "inconsistent_facts"
    if obj.get("regime") and not facts.rule_permitted(obj.get("contract"), obj["regime"], date):
        return "regime_not_permitted"
    rule = obj.get("regime") or facts.default_rule(obj.get("contract"), date)
    if rule == facts.OLD_RULE and ("direct_pretax_order" in elections or "direct_pretax_amounts" in elections):
        return "invalid_election"
    # "for each kind give an order OR amounts, not both"; an election names rollovers of its kind, each once
    kinds = {"direct": {r.get("id") for r in direct}, "sixty_day": {x.get("id") for x in sixty}}
    for kind, ids in kinds.items():
        order, amounts = elections.get(f"{kind}_pretax_order"), elections.get(f"{kind}_pretax_amounts")
        if order is not None and amounts is not None:
            return "invalid_election"
        named = list(order or ()) + list(amounts or {})
        if any(x not in ids for x in named) or len(set(named)) != len(named):
            return "invalid_election"
    routes = [(r.get("to"), r.get("accepts_aftertax", True)) for r in direct] + [(x.get("to"), False) for x in sixty]
    qplo = any(r.get("qualified_plan_loan_offset") for r in paid)
    recipient = obj.get("recipient", "participant")
    if not facts.routes_open(obj.get("contract"), obj.get("plan"), date, routes, qplo, recipient):
        return "before_effective_date"
    if obj.get("rmd") and not facts.lifetime_rmd_possible(obj.get("contract"), date, recipient):
        return "rmd_not_required"
    return None
