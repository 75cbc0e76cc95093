"""Snaps: each moves a valid wire request onto one boundary of the law where calculators go wrong
(pre-tax exactly the direct total, a rounding tie, amounts near 2^53, an RMD equal to the paid after-tax
part, ...). A snap returns the changed request, or None when it does not apply; `boundary_requests` then
keeps it only if the reference still accepts it."""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import strategies as st

from rollsplit.conformance.fuzzing._wire import (_BOOL, _OFFSET, _PLUS_MINUS_ONE, MAX, _calc, _D, _directs, _paid, _paid_row,
                                       _basis_recovered, _set_basis_parts)
from rollsplit.conformance.strategies import TRANSITION_DATES
from rollsplit.spec import law
from rollsplit.spec.arith import INT

Snap = Callable[[Any, dict], "dict | None"]


def _full_distribution(draw, req):
    """D == balance: §72(e)(8) must recover exactly the whole basis."""
    D = _D(req)
    if D == req["balance"]:
        return None
    req["balance"] = D
    _set_basis_parts(req, min(req["basis"], D))
    return req


def _zero_basis(draw, req):
    if req["basis"] == 0:
        return None
    _set_basis_parts(req, 0, 0)
    return req


def _basis_is_balance(draw, req):
    if req["basis"] == req["balance"]:
        return None
    _set_basis_parts(req, req["balance"])
    return req


def _pretax_equals_direct_total(draw, req):
    """Basis chosen so that the pre-tax money P is exactly the direct rollovers' total (Notice 2014-54 §III ¶2)."""
    directs = _directs(req)
    if not directs or req.get("qualified_roth"):
        return None
    return req if _aim_aftertax(req, _D(req) - sum(d["amount"] for d in directs) + draw(_OFFSET)) else None


def _aim_aftertax(req: dict, target_T: int) -> bool:
    """Set the basis so that the basis recovered is exactly `target_T`, if some basis gives it."""
    lo, hi = req.get("pre1987_basis", 0), req["balance"]
    while lo < hi:   # the basis recovered grows with the basis: the least basis with T >= target
        mid = (lo + hi) // 2
        if _basis_recovered(req, mid) < target_T:
            lo = mid + 1
        else:
            hi = mid
    if _basis_recovered(req, lo) != target_T:
        return False
    _set_basis_parts(req, lo)
    return True


def _rounding_tie(draw, req):
    """(D - pre) * (basis - pre1987) / (balance - pre1987) has a fractional part of exactly one half."""
    D = _D(req)
    p0 = req.get("pre1987_basis", 0)
    if p0 >= D:
        p0 = 0
    d = D - p0
    m = draw(st.integers(1, 3))
    balance = p0 + 2 * m * d
    if balance > MAX:
        return None
    odd = 2 * draw(st.integers(0, max(0, d - 1))) + 1
    req["balance"] = balance
    _set_basis_parts(req, p0 + m * odd, p0)
    return req


def _near_tie(draw, req):
    req = _rounding_tie(draw, req)
    if req is None:
        return None
    b = req["basis"] + draw(_PLUS_MINUS_ONE)
    if not req.get("pre1987_basis", 0) <= b <= req["balance"]:
        return None
    req["basis"] = b
    return req


def _near_2_53(draw, req):
    """Every money value scaled up so the balance is near 2^53 - 1: products beyond 2^64, floats lose cents."""
    k = MAX // max(req["balance"], 1)
    if k <= 1:
        return None
    k = k - draw(st.integers(0, min(k - 1, 3)))

    def scale(v):
        return v * k if isinstance(v, int) and not isinstance(v, bool) else v
    for key in ("balance", "basis", "pre1987_basis", "rmd"):
        if key in req:
            req[key] = scale(req[key])
    for row in req["disbursements"] + req.get("rollovers_60_day", []):
        row["amount"] = scale(row["amount"])
    for key, v in req.get("elections", {}).items():
        if isinstance(v, dict):
            req["elections"][key] = {i: scale(x) for i, x in v.items()}
    req["balance"] = min(MAX, req["balance"] + draw(st.integers(0, k - 1)))
    return req


def _equal_amounts(draw, req):
    """Every disbursement the same amount: largest-remainder ties under Notice 2009-68."""
    rows = req["disbursements"]
    if len(rows) < 2:
        return None
    a = max(1, _D(req) // len(rows))
    if a * len(rows) > req["balance"]:
        return None
    for row in rows:
        row["amount"] = a
    req.pop("elections", None)
    req.pop("rmd", None)
    req.pop("rollovers_60_day", None)
    return req


def _answer_with_payment(req):
    """(the reference's answer, its payment row) for a request with a payment; None otherwise."""
    if _paid(req) is None:
        return None
    res = _calc(req)
    return None if "error" in res else (res, _paid_row(req, res))


def _rmd_is_paid_aftertax(draw, req):
    """RMD exactly the after-tax part of the payment: rmd_pretax = max(0, rmd - paid after-tax) turns at 0."""
    got = _answer_with_payment(req)
    if got is None:
        return None
    req["rmd"] = max(0, got[1]["aftertax"] + draw(_OFFSET))
    return req


def _rmd_is_paid(draw, req):
    paid = _paid(req)
    if paid is None or paid["amount"] + paid.get("loan_offset", 0) == 0:
        return None
    req["rmd"] = paid["amount"] + paid.get("loan_offset", 0)
    req.pop("rollovers_60_day", None)
    if isinstance(req.get("elections"), dict):
        for k in ("sixty_day_pretax_order", "sixty_day_pretax_amounts"):
            req["elections"].pop(k, None)
    return req


def _rmd_is_aftertax_total(draw, req):
    got = _answer_with_payment(req)
    if got is None:
        return None
    req["rmd"] = min(_paid(req)["amount"] + _paid(req).get("loan_offset", 0), got[0]["distribution"]["aftertax"])
    return req


def _sixty_day_take_all(draw, req):
    """60-day rollovers re-deposit all of the payment less the RMD."""
    paid, sixty = _paid(req), req.get("rollovers_60_day")
    if paid is None or not sixty or req.get("hardship"):
        return None
    room = paid["amount"] + paid.get("loan_offset", 0) - req.get("rmd", 0)
    rest = room - sum(x["amount"] for x in sixty[:-1])
    if rest < 0:
        return None
    sixty[-1]["amount"] = rest
    return req


def _sixty_day_is_rollable(draw, req):
    """60-day rollovers exactly the payment's rollable pre-tax money (paid pre-tax less the RMD's pre-tax)."""
    sixty = req.get("rollovers_60_day")
    got = _answer_with_payment(req) if sixty else None
    if got is None:
        return None
    row = got[1]
    rmd = req.get("rmd", 0)
    rollable = row["pretax"] - max(0, rmd - row["aftertax"])
    rest = rollable + draw(_OFFSET) - sum(x["amount"] for x in sixty[:-1])
    if rest < 0:
        return None
    sixty[-1]["amount"] = rest
    return req


def _pre1987_is_basis(draw, req):
    if req["contract"] != "pretax_aftertax" or req["basis"] == 0:
        return None
    req["pre1987_basis"] = req["basis"]
    return req


def _pre1987_is_distribution(draw, req):
    """pre1987_basis == D: the pre-1987 basis covers the whole distribution (min(D, pre1987) turns)."""
    D = _D(req)
    if req["contract"] != "pretax_aftertax" or D > req["basis"]:
        return None
    req["pre1987_basis"] = D + draw(_OFFSET)
    if not 0 <= req["pre1987_basis"] <= req["basis"]:
        return None
    return req


def _one_cent_row(draw, req):
    """One disbursement or 60-day rollover of one cent, the smallest row there is (a row of 0 is zero_amount)."""
    rows = req["disbursements"] + req.get("rollovers_60_day", [])
    if len(rows) < 2:
        return None
    rows[draw(st.integers(0, len(rows) - 1))]["amount"] = 1
    return req


def _withholding_floor(draw, req):
    """The year's eligible rollover distributions received at $200 exactly, or a cent either side of it, through
    other_eligible_this_year (Treas. Reg. §31.3405(c)-1 Q&A-14)."""
    paid = _paid(req)
    if paid is None or req.get("hardship"):
        return None
    this = paid["amount"] + paid.get("loan_offset", 0) - req.get("rmd", 0)
    other = law.WITHHOLDING_DE_MINIMIS - this + draw(_OFFSET)
    if other < 0:
        return None
    req["other_eligible_this_year"] = other
    return req


def _first_day_of_a_route(draw, req):
    """The first day a route of the law the request uses was open (spec.law.EFFECTIVE_DATES), the regime left
    to the date; the reference says which are open."""
    req["date"] = draw(st.sampled_from([e.first.isoformat() for e in law.EFFECTIVE_DATES]))
    req.pop("regime", None)
    if isinstance(req.get("elections"), dict):   # the old rule takes no direct election
        req["elections"].pop("direct_pretax_order", None)
        req["elections"].pop("direct_pretax_amounts", None)
    return req


def _offset_cash_is_withholding(draw, req):
    """A payment with a plan loan offset whose cash is the 20% due, or a cent either side of it: the cap of
    Treas. Reg. §31.3405(c)-1 Q&A-11 just binds, or just does not."""
    paid = _paid(req)
    if paid is None or not paid.get("loan_offset"):
        return None
    got = _answer_with_payment(req)
    if got is None:
        return None
    due = INT.round_half_up(got[1]["pretax"] - max(0, req.get("rmd", 0) - got[1]["aftertax"]),
                            *law.WITHHOLDING_RATE)
    total = paid["amount"] + paid["loan_offset"]
    cash = due + draw(_OFFSET)
    if not 0 <= cash < total:
        return None
    paid["amount"], paid["loan_offset"] = cash, total - cash
    return req


def _transition_date(draw, req):
    """A date on either side of 2014-09-18, 2015-01-01 or 2016-01-01, with the regime left to the date."""
    req["date"] = draw(st.sampled_from(TRANSITION_DATES))
    req.pop("regime", None)
    return req


def _contrary_election(kind: str):
    """An election against the default order: the rows the default fills last get the pre-tax money first."""
    rows_key = "disbursements" if kind == "direct" else "rollovers_60_day"

    def snap(draw, req):
        from rollsplit.spec.orders import direct_fill_order, sixty_day_fill_order
        from rollsplit.spec.parse import parse_request
        rows = _directs(req) if kind == "direct" else req.get(rows_key, [])
        if len(rows) < 2:
            return None
        el = req.setdefault("elections", {})
        el.pop(f"{kind}_pretax_order", None)
        el.pop(f"{kind}_pretax_amounts", None)
        res = _calc(req)
        if "error" in res or (kind == "direct" and res["regime"] == law.OLD):
            return None
        if kind == "direct" and not req.get("qualified_roth"):
            # an election matters only when the direct rollovers cannot all be pre-tax: aim at half of them
            cap = sum(r["amount"] for r in rows)
            pre = sum(r["pretax"] for r in res[rows_key] if r["id"] in {x["id"] for x in rows})
            if not 0 < pre < cap and _aim_aftertax(req, _D(req) - cap // 2):
                res = _calc(req)
                if "error" in res:
                    return None
        parsed = parse_request(req)
        default = direct_fill_order(parsed) if kind == "direct" else sixty_day_fill_order(parsed)
        reverse = [rows[i] for i in reversed(default)]
        if draw(_BOOL):
            el[f"{kind}_pretax_order"] = [r["id"] for r in reverse]
        else:
            left = sum(r["pretax"] for r in res[rows_key] if r["id"] in {x["id"] for x in rows})
            amounts = {}
            for r in reverse:
                amounts[r["id"]] = min(r["amount"], left)
                left -= amounts[r["id"]]
            el[f"{kind}_pretax_amounts"] = {i: a for i, a in amounts.items() if a or draw(_BOOL)}
        return req
    return snap


SNAPS: dict[str, Snap] = {
    "contrary_direct_election": _contrary_election("direct"),
    "contrary_sixty_day_election": _contrary_election("sixty_day"),
    "full_distribution": _full_distribution,
    "zero_basis": _zero_basis,
    "basis_is_balance": _basis_is_balance,
    "pretax_equals_direct_total": _pretax_equals_direct_total,
    "rounding_tie": _rounding_tie,
    "near_rounding_tie": _near_tie,
    "near_2_53": _near_2_53,
    "equal_amounts": _equal_amounts,
    "rmd_is_paid_aftertax": _rmd_is_paid_aftertax,
    "rmd_is_paid": _rmd_is_paid,
    "rmd_is_aftertax_total": _rmd_is_aftertax_total,
    "sixty_day_take_all": _sixty_day_take_all,
    "sixty_day_is_rollable": _sixty_day_is_rollable,
    "pre1987_is_basis": _pre1987_is_basis,
    "pre1987_is_distribution": _pre1987_is_distribution,
    "one_cent_row": _one_cent_row,
    "transition_date": _transition_date,
    "withholding_floor": _withholding_floor,
    "first_day_of_a_route": _first_day_of_a_route,
    "offset_cash_is_withholding": _offset_cash_is_withholding,
}
