"""Hypothesis strategies for fuzzing a calculator: valid requests pushed onto the law's boundaries, and
near-valid requests with exactly one fault each.

    from conformance.fuzzing.strategies import boundary_requests, near_valid_requests, fuzz_cases

    @given(boundary_requests(features={"core", "sixty_day"}))
    def test_mine(request): ...

- `boundary_requests(features=None)`: a valid request of `conformance.strategies.valid_requests` (every
  feature: both contracts, pre-1987 basis, RMD, hardship, elections of both kinds, 60-day rollovers, both
  regimes, dates around 2014-09-18 / 2015-01-01 / 2016-01-01), then up to three *snaps* that move it onto
  a boundary where calculators go wrong: pre-tax exactly equal to the direct total, zero basis, basis equal
  to the balance, a full distribution, amounts near 2^53, exact rounding ties (2*num % den == den), RMD
  equal to the paid after-tax part, 60-day rollovers equal to the rollable pre-tax, and so on (`SNAPS`).
  A snap that would make the request invalid, or need a feature the calculator does not declare, is
  skipped, so every request drawn is valid and needs only `features`.
- `near_valid_requests(features=None, codes=None)`: (request, expected_error_code), one fault per request,
  for every error code of the contract (`invalid_json` comes as raw text: a `str`, not a dict).
- `fuzz_cases(features=None)`: what `rollsplit conformance fuzz` draws: (request, None) for a valid request
  (mostly) or (request, code) for a near-valid one (JSON values only, so every adapter protocol carries it).

Every request is a plain dict of the wire contract (issue 2), exactly what a vendor's adapter receives.
The snaps are ordinary Hypothesis draws, so a failing request shrinks to the fewest rows and snaps.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
from typing import Any, Callable, Iterable

from hypothesis import assume
from hypothesis import strategies as st

from conformance.strategies import TRANSITION_DATES, _repair_eligibility, valid_requests
from spec import law
from spec.errors import ERROR_CODES
from spec.features import FEATURES, required_features

MAX = law.MAX_CENTS
ALL_FEATURES = frozenset(FEATURES)

__all__ = ["boundary_requests", "near_valid_requests", "fuzz_cases", "SNAPS", "FAULTS", "ALL_FEATURES",
           "requires", "request_size"]


# strategies built once (Hypothesis validates every new strategy object, which costs more than the draw)
_BOOL = st.booleans()
_PLUS_MINUS_ONE = st.sampled_from([1, -1])
_OFFSET = st.sampled_from([0, 0, 1, -1])   # exactly on the boundary, or one cent either side


# ---- reading a request ---------------------------------------------------------------------------
def _calc(req: Any) -> dict:
    from reference import calculate
    return calculate(req)


def _D(req: dict) -> int:
    return sum(d["amount"] for d in req["disbursements"])


def _paid(req: dict) -> dict | None:
    return next((d for d in req["disbursements"] if d["method"] == "paid"), None)


def _directs(req: dict) -> list[dict]:
    return [d for d in req["disbursements"] if d["method"] == "direct"]


def _paid_row(req: dict, res: dict) -> dict | None:
    for d, r in zip(req["disbursements"], res["disbursements"]):
        if d["method"] == "paid":
            return r
    return None


def _safe(req: dict) -> str:
    """A destination that takes money of both kinds from this contract."""
    return "roth_ira" if req["contract"] == "designated_roth" else "traditional_ira"


def request_size(request: Any) -> int:
    """Rows of a request: disbursements plus 60-day rollovers (how big a shrunk failure is)."""
    if not isinstance(request, dict):
        return 0
    rows = request.get("disbursements")
    sixty = request.get("rollovers_60_day")
    return (len(rows) if isinstance(rows, list) else 0) + (len(sixty) if isinstance(sixty, list) else 0)


def requires(request: Any) -> set[str]:
    """The features a request needs (`spec.features.required_features`; one source of truth)."""
    return required_features(request)


def _set_basis_parts(req: dict, basis: int, pre1987: int | None = None) -> None:
    req["basis"] = basis
    p = req.get("pre1987_basis", 0) if pre1987 is None else pre1987
    if p:
        req["pre1987_basis"] = min(p, basis)
    else:
        req.pop("pre1987_basis", None)


def _basis_recovered(req: dict, basis: int) -> int:
    from spec.arith import INT
    from reference.algorithm import basis_recovered
    return basis_recovered(INT, _D(req), req["balance"], basis, req.get("pre1987_basis", 0))


# ---- snaps: each moves a valid request onto one boundary of the law (None: does not apply) ---------
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


def _rmd_is_paid_aftertax(draw, req):
    """RMD exactly the after-tax part of the payment: rmd_pretax = max(0, rmd - paid after-tax) turns at 0."""
    paid = _paid(req)
    res = _calc(req)
    if paid is None or "error" in res:
        return None
    req["rmd"] = max(0, _paid_row(req, res)["aftertax"] + draw(_OFFSET))
    return req


def _rmd_is_paid(draw, req):
    paid = _paid(req)
    if paid is None or paid["amount"] == 0:
        return None
    req["rmd"] = paid["amount"]
    req.pop("rollovers_60_day", None)
    if isinstance(req.get("elections"), dict):
        for k in ("sixty_day_pretax_order", "sixty_day_pretax_amounts"):
            req["elections"].pop(k, None)
    return req


def _rmd_is_aftertax_total(draw, req):
    paid = _paid(req)
    res = _calc(req)
    if paid is None or "error" in res:
        return None
    req["rmd"] = min(paid["amount"], res["distribution"]["aftertax"])
    return req


def _sixty_day_take_all(draw, req):
    """60-day rollovers re-deposit all of the payment less the RMD."""
    paid, sixty = _paid(req), req.get("rollovers_60_day")
    if paid is None or not sixty or req.get("hardship"):
        return None
    room = paid["amount"] - req.get("rmd", 0)
    rest = room - sum(x["amount"] for x in sixty[:-1])
    if rest < 0:
        return None
    sixty[-1]["amount"] = rest
    return req


def _sixty_day_is_rollable(draw, req):
    """60-day rollovers exactly the payment's rollable pre-tax money (paid pre-tax less the RMD's pre-tax)."""
    paid, sixty = _paid(req), req.get("rollovers_60_day")
    res = _calc(req)
    if paid is None or not sixty or "error" in res:
        return None
    row = _paid_row(req, res)
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


def _zero_row(draw, req):
    """One disbursement of zero cents (still a valid row of a non-empty distribution)."""
    rows = req["disbursements"]
    if len(rows) < 2:
        return None
    i = draw(st.integers(0, len(rows) - 1))
    rows[i]["amount"] = 0
    if _D(req) == 0:
        return None
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
        from spec.orders import direct_fill_order, sixty_day_fill_order
        from spec.parse import parse_request
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
    "zero_row": _zero_row,
    "transition_date": _transition_date,
}


_SNAP_LISTS: dict[int, st.SearchStrategy] = {}


def _snap_lists(n: int) -> st.SearchStrategy[list[str]]:
    if n not in _SNAP_LISTS:
        # elections against the default order weigh three: an ignored election shows only on them
        names = sorted(SNAPS) + ["contrary_direct_election", "contrary_sixty_day_election"] * 2
        _SNAP_LISTS[n] = st.lists(st.sampled_from(names), max_size=n)
    return _SNAP_LISTS[n]


def _valid_with(req: dict, features: frozenset[str]) -> bool:
    """Valid for the reference (eligibility repaired, an election that no longer adds up dropped)."""
    answer = _calc(req)
    if "error" in answer and answer["error"]["code"] == "invalid_election":
        req.pop("elections", None)
        answer = _calc(req)
    if "error" in answer and answer["error"]["code"] == "ineligible_destination":
        _repair_eligibility(req, _calc)
        answer = _calc(req)
    return "error" not in answer and required_features(req) <= features | {"form_1099r"}


@st.composite
def boundary_requests(draw, features: Iterable[str] | None = None, max_snaps: int = 3) -> dict[str, Any]:
    """A valid wire request (needing only `features`), moved onto up to `max_snaps` boundaries of `SNAPS`."""
    feats = frozenset(features) if features is not None else ALL_FEATURES
    req = draw(valid_requests(features=None if features is None else set(feats)))
    for name in draw(_snap_lists(max_snaps)):
        candidate = SNAPS[name](draw, copy.deepcopy(req))
        if candidate is not None and _valid_with(candidate, feats):
            req = candidate
    return req


# ---- near-valid requests: one fault each, for every error code -------------------------------------
Fault = Callable[[Any, dict], "dict | str | None"]


def _f_invalid_json(draw, req):
    text = json.dumps(req)
    how = draw(st.sampled_from(["truncate", "trailing_comma", "nan", "duplicate_key", "two_values"]))
    if how == "truncate":
        return text[:draw(st.integers(0, len(text) - 1))]
    if how == "trailing_comma":
        return text[:-1] + ",}"
    if how == "nan":
        return text.replace('"balance": ', '"balance": NaN, "x": ', 1)
    if how == "duplicate_key":
        return text[:-1] + f', "date": {json.dumps(req["date"])}}}'
    return text + " " + text  # two JSON values, not one


def _f_invalid_request(draw, req):
    how = draw(st.sampled_from(["missing", "unknown", "type", "enum", "date", "empty_id", "method",
                                "qualified_pretax"]))
    if how == "missing":
        req.pop(draw(st.sampled_from(["date", "plan", "contract", "balance", "basis", "disbursements"])))
    elif how == "unknown":
        req["note"] = "unknown field"
    elif how == "type":
        key = draw(st.sampled_from(["balance", "basis"]))
        req[key] = draw(st.sampled_from([str(req[key]), float(req[key]) + 0.5, None, True]))
    elif how == "enum":
        req[draw(st.sampled_from(["plan", "contract"]))] = "roth_401k"
    elif how == "date":
        req["date"] = draw(st.sampled_from(["2025-02-30", "2025-6-30", "30/06/2025", ""]))
    elif how == "empty_id":
        req["disbursements"][0]["id"] = ""
    elif how == "method":
        req["disbursements"][0]["method"] = "check"
    elif req["contract"] == "pretax_aftertax":
        req["qualified_roth"] = True
    else:
        return None
    return req


def _f_amount_out_of_range(draw, req):
    bad = draw(st.sampled_from([-1, MAX + 1, 2**64, -(2**63)]))
    where = draw(st.sampled_from(["balance", "basis", "row", "rmd"]))
    if where == "row":
        req["disbursements"][draw(st.integers(0, len(req["disbursements"]) - 1))]["amount"] = bad
    else:
        req[where] = bad
    return req


def _f_basis_exceeds_balance(draw, req):
    if draw(st.booleans()) and req["contract"] == "pretax_aftertax" and req["basis"] < MAX:
        req["pre1987_basis"] = req["basis"] + draw(st.integers(1, 3))
        return req if req["pre1987_basis"] <= MAX else None
    if req["balance"] >= MAX:
        return None
    req["basis"] = req["balance"] + draw(st.integers(1, 3))
    return req


def _f_distribution_exceeds_balance(draw, req):
    D = _D(req)
    req["balance"] = D - draw(st.integers(1, min(D, 3)))
    _set_basis_parts(req, min(req["basis"], req["balance"]))
    return req


def _f_empty_distribution(draw, req):
    if draw(st.booleans()) or req.get("rollovers_60_day") or req.get("rmd") or req.get("elections"):
        for row in req["disbursements"]:
            row["amount"] = 0
        for key in ("rollovers_60_day", "rmd", "elections"):
            req.pop(key, None)
    else:
        req["disbursements"] = []
    return req


def _f_duplicate_id(draw, req):
    rows = req["disbursements"] + req.get("rollovers_60_day", [])
    if len(rows) < 2:   # a second row of zero cents, under the first row's id
        req["disbursements"].append({"id": rows[0]["id"], "method": "direct", "to": _safe(req), "amount": 0})
        return req
    i, j = sorted(draw(st.lists(st.integers(0, len(rows) - 1), min_size=2, max_size=2, unique=True)))
    rows[j]["id"] = rows[i]["id"]
    return req


def _f_more_than_one_payment(draw, req):
    rows = req["disbursements"]
    if _paid(req) is None:
        rows.append({"id": "cash1", "method": "paid", "amount": 0})
    i = draw(st.integers(0, len(rows)))
    rows.insert(i, {"id": "cash2", "method": "paid", "amount": 0})
    return req


def _f_sixty_day_without_payment(draw, req):
    if req.get("hardship"):
        return None
    safe = "roth_ira" if req["contract"] == "designated_roth" else "traditional_ira"
    paid = _paid(req)
    if paid is not None:
        paid.update({"method": "direct", "to": safe})
    req.pop("rmd", None)
    if not req.get("rollovers_60_day"):
        req["rollovers_60_day"] = [{"id": "s9", "to": safe, "amount": 0}]
    return req


def _f_sixty_day_exceeds_payment(draw, req):
    if req.get("hardship"):
        return None
    paid = _paid(req)
    if paid is None:
        paid = {"id": "cash9", "method": "paid", "amount": 0}
        req["disbursements"].append(paid)
    sixty = req.setdefault("rollovers_60_day", [{"id": "s9", "to": _safe(req), "amount": 0}])
    sixty[-1]["amount"] = paid["amount"] - req.get("rmd", 0) - sum(x["amount"] for x in sixty[:-1]) + 1
    return req if sixty[-1]["amount"] <= MAX else None


def _f_rmd_exceeds_payment(draw, req):
    paid = _paid(req)
    amount = paid["amount"] if paid else 0
    if amount >= MAX:
        return None
    req["rmd"] = amount + draw(st.integers(1, 3))
    return req


def _f_ineligible_destination(draw, req):
    """Send a row's money where its kind may not go. The base may first be made all after-tax (basis ==
    balance), so that even a direct rollover, which takes pre-tax first, carries after-tax money."""
    roth = req["contract"] == "designated_roth"
    if draw(_BOOL):
        _set_basis_parts(req, req["balance"])
    directs, sixty = _directs(req), req.get("rollovers_60_day", [])
    if directs and (not sixty or draw(_BOOL)):
        row = directs[draw(st.integers(0, len(directs) - 1))]
        bad = _BAD_DIRECT_ROTH if roth else _BAD_DIRECT
    elif sixty:
        row = sixty[draw(st.integers(0, len(sixty) - 1))]
        bad = _BAD_SIXTY_ROTH if roth else _BAD_SIXTY
    elif req.get("hardship"):
        return None
    else:   # a direct rollover of zero cents to a destination that takes nothing of this contract
        req["disbursements"].append({"id": "x9", "method": "direct", "amount": 0,
                                     "to": "traditional_ira" if roth else "designated_roth"})
        return req
    row["to"] = draw(bad)
    row.pop("accepts_aftertax", None)
    if row["to"] in ("qualified_plan", "403b") and row.get("method") == "direct":
        row["accepts_aftertax"] = False
    return req


_BAD_DIRECT = st.sampled_from(["457b_gov", "qualified_plan", "403b", "designated_roth"])
_BAD_DIRECT_ROTH = st.sampled_from(["qualified_plan", "403b", "457b_gov", "traditional_ira"])
_BAD_SIXTY = st.sampled_from(["457b_gov", "qualified_plan", "403b", "designated_roth"])
_BAD_SIXTY_ROTH = st.sampled_from(["qualified_plan", "403b", "457b_gov", "traditional_ira", "designated_roth"])


def _f_not_eligible_rollover_distribution(draw, req):
    if not (_directs(req) or req.get("rollovers_60_day")):
        req["disbursements"].append({"id": "x9", "method": "direct", "to": _safe(req), "amount": 0})
    req["hardship"] = True
    return req


def _f_invalid_election(draw, req):
    directs, sixty = _directs(req), req.get("rollovers_60_day", [])
    kinds = ([("direct", [d["id"] for d in directs])] if directs and req.get("regime") != law.OLD else []) \
        + ([("sixty_day", [x["id"] for x in sixty])] if sixty else [])
    if not kinds:
        if req.get("hardship"):
            return None
        req["disbursements"].append({"id": "x9", "method": "direct", "to": _safe(req), "amount": 0})
        kinds = [("direct", ["x9"])]
    kind, ids = kinds[draw(st.integers(0, len(kinds) - 1))]
    el = req.setdefault("elections", {})
    order_key, amounts_key = f"{kind}_pretax_order", f"{kind}_pretax_amounts"
    how = draw(st.sampled_from(["unknown_id", "both", "not_adding_up", "twice"]))
    if how == "unknown_id":
        if amounts_key in el:
            el[amounts_key]["nobody"] = 0
        else:
            el[order_key] = list(el.get(order_key, [])) + ["nobody"]
    elif how == "both":
        el.setdefault(order_key, [ids[0]])
        el.setdefault(amounts_key, {ids[0]: 0})
    elif how == "twice":
        el.pop(amounts_key, None)
        el[order_key] = [ids[0], ids[0]]
    else:
        el.pop(order_key, None)
        el.pop(amounts_key, None)
        answer = _calc(req)
        if "error" in answer:
            return None
        rows = answer["disbursements"] if kind == "direct" else answer["rollovers_60_day"]
        want = sum(r["pretax"] for r in rows if r["id"] in ids)
        el[amounts_key] = {ids[0]: want + draw(_PLUS_MINUS_ONE)}
        if el[amounts_key][ids[0]] < 0:
            return None
    return req


def _f_regime_not_permitted(draw, req):
    if req["contract"] == "pretax_aftertax":
        req["date"] = draw(st.sampled_from(["2015-01-01", "2025-06-30"]))
        req["regime"] = law.OLD
    else:
        req["date"] = draw(st.sampled_from(["2014-09-17", "2016-01-01"]))
        req["regime"] = law.NEW if req["date"] < "2014-09-18" else law.OLD
    req.get("elections", {}).pop("direct_pretax_order", None)
    req.get("elections", {}).pop("direct_pretax_amounts", None)
    return req


FAULTS: dict[str, Fault] = {
    "invalid_json": _f_invalid_json,
    "invalid_request": _f_invalid_request,
    "amount_out_of_range": _f_amount_out_of_range,
    "basis_exceeds_balance": _f_basis_exceeds_balance,
    "distribution_exceeds_balance": _f_distribution_exceeds_balance,
    "empty_distribution": _f_empty_distribution,
    "duplicate_id": _f_duplicate_id,
    "more_than_one_payment": _f_more_than_one_payment,
    "sixty_day_without_payment": _f_sixty_day_without_payment,
    "sixty_day_exceeds_payment": _f_sixty_day_exceeds_payment,
    "rmd_exceeds_payment": _f_rmd_exceeds_payment,
    "ineligible_destination": _f_ineligible_destination,
    "not_eligible_rollover_distribution": _f_not_eligible_rollover_distribution,
    "invalid_election": _f_invalid_election,
    "regime_not_permitted": _f_regime_not_permitted,
}
assert set(FAULTS) == set(ERROR_CODES), "every error code of the contract has a fault"

# the feature a fault's request needs beyond its base (a calculator without it is not asked)
_FAULT_FEATURE = {
    "sixty_day_without_payment": "sixty_day",
    "sixty_day_exceeds_payment": "sixty_day",
    "rmd_exceeds_payment": "rmd",
    "not_eligible_rollover_distribution": "rmd",
    "regime_not_permitted": "regime_2009",
}


def _codes_for(features: frozenset[str], codes: Iterable[str] | None) -> list[str]:
    chosen = list(codes) if codes is not None else list(FAULTS)
    return [c for c in chosen if _FAULT_FEATURE.get(c, "core") in features]


@st.composite
def near_valid_requests(draw, features: Iterable[str] | None = None, codes: Iterable[str] | None = None,
                        ) -> tuple[dict | str, str]:
    """(request, expected_error_code): a valid request with exactly one fault, which the reference rejects
    with that code. `codes` limits the codes drawn; `invalid_json` requests are raw text (a `str`)."""
    feats = frozenset(features) if features is not None else ALL_FEATURES
    allowed = _codes_for(feats, codes)
    if not allowed:
        raise ValueError(f"no error code can be drawn for features {sorted(feats)} and codes {codes}")
    code = draw(st.sampled_from(allowed))
    base = draw(valid_requests(features=None if features is None else set(feats)))
    req = FAULTS[code](draw, copy.deepcopy(base))
    assume(req is not None)
    answer = _calc_text(req) if isinstance(req, str) else _calc(req)
    assume(answer.get("error", {}).get("code") == code)
    if not isinstance(req, str):
        assume(required_features(req) <= feats | {"form_1099r"})
    return req, code


def _calc_text(text: str) -> dict:
    from reference import calculate_text
    return calculate_text(text)


def fuzz_cases(features: Iterable[str] | None = None, near_valid: bool = True,
               ) -> st.SearchStrategy[tuple[dict, str | None]]:
    """(request, None) for a valid boundary request, or (request, code) for a near-valid one (1 in 4).
    Only JSON values: `invalid_json` cannot travel inside a JSON-lines message, so it is left to the suite."""
    valid = boundary_requests(features).map(lambda r: (r, None))
    if not near_valid:
        return valid
    # ineligible destinations and elections weigh more: they need the allocation, not just the parser
    codes = [c for c in FAULTS if c != "invalid_json"] + ["ineligible_destination"] * 3 + ["invalid_election"]
    faulty = near_valid_requests(features, codes)

    @st.composite
    def cases(draw):
        # one_of() would give each branch half the draws; valid requests are what most mistakes need
        return draw(faulty) if draw(_ONE_IN_FOUR) == 3 else draw(valid)
    return cases()


_ONE_IN_FOUR = st.integers(0, 3)
