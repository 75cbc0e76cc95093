"""Faults: each turns a valid wire request into a near-valid one with exactly one thing wrong, for every
error code of the contract. A fault returns the changed request (raw text for `invalid_json`), or None when
it does not apply; `near_valid_requests` keeps it only if the reference rejects it with that code."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any, Callable, Iterable

from hypothesis import assume
from hypothesis import strategies as st

from rollsplit.conformance.fuzzing._wire import (_BOOL, _PLUS_MINUS_ONE, MAX, _calc, _D, _directs, _paid, _safe,
                                       _set_basis_parts)
from rollsplit.conformance.fuzzing.api import expected_answer
from rollsplit.conformance.strategies import _facts, safe_destination, valid_requests
from rollsplit.spec import ages, law
from rollsplit.spec.errors import ERROR_CODES
from rollsplit.spec.features import FEATURES, required_features

ALL_FEATURES = frozenset(FEATURES)

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
    # contract 1.1: a row of 0 cents is zero_amount, so only an empty list adds up to nothing
    req["disbursements"] = []
    for key in ("rollovers_60_day", "rmd", "elections", "other_eligible_this_year"):
        req.pop(key, None)
    return req


def _f_zero_amount(draw, req):
    rows = req["disbursements"] + req.get("rollovers_60_day", [])
    rows[draw(st.integers(0, len(rows) - 1))]["amount"] = 0
    return req


# (what the fault changes, how): each moves a valid request to a day before a route of the law existed
_BEFORE = st.sampled_from(["before_2002", "roth_account_before_2006", "roth_457b_before_2011",
                           "roth_ira_before_2008", "aftertax_403b_before_2007", "in_plan_roth_before_2010",
                           "nonspouse_before_2011"])


# a destination that opened on a date, by the name of the fault that moves a rollover there the day before
_ROUTE_BY_DESTINATION = {"roth_ira_before_2008": ("roth_ira", law.ROTH_IRA_FROM_PLAN),
                         "in_plan_roth_before_2010": ("in_plan_roth", law.IN_PLAN_ROTH_FROM)}


def _day_before(first) -> str:
    return (first - datetime.timedelta(days=1)).isoformat()


def _f_before_effective_date(draw, req):
    how = draw(_BEFORE)
    roth = req["contract"] == "designated_roth"
    req.pop("regime", None)
    req.get("elections", {}).pop("direct_pretax_order", None)   # the old rule takes no direct election
    req.get("elections", {}).pop("direct_pretax_amounts", None)
    if how == "before_2002":
        req["date"] = draw(st.sampled_from([_day_before(law.MODELLED_FROM.first), "1999-06-30", "1987-01-01"]))
    elif how == "roth_account_before_2006" and roth:
        req["date"] = _day_before(law.DESIGNATED_ROTH_FROM.first)
    elif how == "roth_457b_before_2011" and roth:
        req["plan"] = "457b_gov"
        req["date"] = _day_before(law.DESIGNATED_ROTH_457B_FROM.first)
    elif how in _ROUTE_BY_DESTINATION and not roth:
        to, route = _ROUTE_BY_DESTINATION[how]
        rows = _directs(req) + req.get("rollovers_60_day", [])
        if not rows:
            return None
        rows[draw(st.integers(0, len(rows) - 1))]["to"] = to
        req["date"] = _day_before(route.first)
    elif how == "nonspouse_before_2011" and req.get("recipient") == ages.NONSPOUSE:
        # contract 1.2: a nonspouse beneficiary's rollover is modelled from 2011 (the field is `recipient`)
        req["date"] = _day_before(law.NONSPOUSE_FROM.first)
        req.pop("participant", None)   # facts dated after the new date would be inconsistent_facts
    elif how == "aftertax_403b_before_2007" and not roth:
        directs = _directs(req)
        if not directs:
            return None
        row = directs[draw(st.integers(0, len(directs) - 1))]
        row["to"] = "403b"
        row.pop("accepts_aftertax", None)
        req["date"] = _day_before(law.AFTERTAX_INTO_403B_FROM.first)
    else:
        return None
    return req


def _f_rmd_not_required(draw, req):
    """A designated Roth account with an RMD after April 1, 2024 (§402A(d)(5))."""
    paid = _paid(req)
    if paid is None or req.get("hardship") or req.get("recipient") in ages.BENEFICIARIES:
        return None   # a beneficiary's RMD may be due (contract 1.2)
    if req["contract"] != "designated_roth":
        req["contract"] = "designated_roth"
        req.pop("pre1987_basis", None)
    req["date"] = draw(st.sampled_from(["2024-04-02", "2025-06-30", "2030-12-31"]))
    req.pop("regime", None)
    req["rmd"] = draw(st.integers(1, paid["amount"] + paid.get("loan_offset", 0)))
    return req


def _f_duplicate_id(draw, req):
    rows = req["disbursements"] + req.get("rollovers_60_day", [])
    if len(rows) < 2:   # a second row of zero cents, under the first row's id
        req["disbursements"].append({"id": rows[0]["id"], "method": "direct", "to": _safe(req), "amount": 1})
        return req
    i, j = sorted(draw(st.lists(st.integers(0, len(rows) - 1), min_size=2, max_size=2, unique=True)))
    rows[j]["id"] = rows[i]["id"]
    return req


def _f_more_than_one_payment(draw, req):
    rows = req["disbursements"]
    if _paid(req) is None:
        rows.append({"id": "cash1", "method": "paid", "amount": 1})
    i = draw(st.integers(0, len(rows)))
    rows.insert(i, {"id": "cash2", "method": "paid", "amount": 1})
    return req


def _as_spouse(req: dict) -> None:
    """A fault that adds a 60-day rollover or a row to `_safe` makes a beneficiary who is not the surviving spouse
    the surviving spouse, who may roll over by either method, to the participant's destinations and the inherited
    IRAs alike (§402(c)(9)): the fault stays the one thing wrong (contract 1.2)."""
    if req.get("recipient") == ages.NONSPOUSE:
        req["recipient"] = ages.SPOUSE


def _f_sixty_day_without_payment(draw, req):
    if req.get("hardship"):
        return None
    _as_spouse(req)
    safe = _safe(req)
    paid = _paid(req)
    if paid is not None:
        paid.update({"method": "direct", "to": safe})
    req.pop("rmd", None)
    if not req.get("rollovers_60_day"):
        req["rollovers_60_day"] = [{"id": "s9", "to": safe, "amount": 1}]
    return req


def _f_sixty_day_exceeds_payment(draw, req):
    if req.get("hardship"):
        return None
    _as_spouse(req)
    paid = _paid(req)
    if paid is None:
        paid = {"id": "cash9", "method": "paid", "amount": 1}
        req["disbursements"].append(paid)
    sixty = req.setdefault("rollovers_60_day", [{"id": "s9", "to": _safe(req), "amount": 1}])
    sixty[-1]["amount"] = (paid["amount"] + paid.get("loan_offset", 0) - req.get("rmd", 0)
                           - sum(x["amount"] for x in sixty[:-1]) + 1)
    return req if sixty[-1]["amount"] <= MAX else None


def _f_rmd_exceeds_payment(draw, req):
    paid = _paid(req)
    amount = paid["amount"] + paid.get("loan_offset", 0) if paid else 0
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
    else:   # a direct rollover of one cent to a destination that takes nothing of this contract
        req["disbursements"].append({"id": "x9", "method": "direct", "amount": 1,
                                     "to": "traditional_ira" if roth else "designated_roth"})
        return req
    row["to"] = draw(bad)
    who = req.get("recipient", ages.PARTICIPANT)
    if who == ages.NONSPOUSE and draw(_BOOL):   # contract 1.2: only inherited IRAs, only by direct rollover
        row["to"] = draw(_NOT_INHERITED)
    elif who in (ages.PARTICIPANT, ages.ALTERNATE_PAYEE) and draw(_BOOL):   # an inherited IRA is a beneficiary's
        row["to"] = draw(_INHERITED)
    row.pop("accepts_aftertax", None)
    if row["to"] in ("qualified_plan", "403b") and row.get("method") == "direct":
        row["accepts_aftertax"] = False
    return req


_BAD_DIRECT = st.sampled_from(["457b_gov", "qualified_plan", "403b", "designated_roth"])
_BAD_DIRECT_ROTH = st.sampled_from(["qualified_plan", "403b", "457b_gov", "traditional_ira", "in_plan_roth"])
_BAD_SIXTY = st.sampled_from(["457b_gov", "qualified_plan", "403b", "designated_roth"])
_BAD_SIXTY_ROTH = st.sampled_from(["qualified_plan", "403b", "457b_gov", "traditional_ira", "designated_roth",
                                   "in_plan_roth"])
_INHERITED = st.sampled_from(["inherited_traditional_ira", "inherited_roth_ira"])
_NOT_INHERITED = st.sampled_from(["traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov"])


def _f_not_eligible_rollover_distribution(draw, req):
    if not (_directs(req) or req.get("rollovers_60_day")):
        req["disbursements"].append({"id": "x9", "method": "direct", "to": _safe(req), "amount": 1})
    req["hardship"] = True
    return req


def _f_invalid_election(draw, req):
    _as_spouse(req)
    directs, sixty = _directs(req), req.get("rollovers_60_day", [])
    kinds = ([("direct", [d["id"] for d in directs])] if directs and req.get("regime") != law.OLD else []) \
        + ([("sixty_day", [x["id"] for x in sixty])] if sixty else [])
    if not kinds:
        if req.get("hardship"):
            return None
        req["disbursements"].append({"id": "x9", "method": "direct", "to": _safe(req), "amount": 1})
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
    req.pop("participant", None)   # facts dated after the new date would be inconsistent_facts
    return req


# ---- contract 1.2 ------------------------------------------------------------------------------------------
_INHERITED_OF = {"roth_ira": "inherited_roth_ira", "designated_roth": "inherited_roth_ira"}


def _f_nonspouse_sixty_day_rollover(draw, req):
    """A beneficiary who is not the surviving spouse, with a 60-day rollover of the payment (§402(c)(11): "a direct
    trustee-to-trustee transfer" is such a beneficiary's only rollover). Every direct rollover is moved into the
    inherited IRA of its kind, so the 60-day rollover is the one fault."""
    paid = _paid(req)
    if paid is None or req.get("hardship") or req["date"] < law.NONSPOUSE_FROM.first.isoformat():
        return None
    roth = req["contract"] == "designated_roth"
    req["recipient"] = ages.NONSPOUSE
    for row in _directs(req):
        row["to"] = "inherited_roth_ira" if roth else _INHERITED_OF.get(row["to"], "inherited_traditional_ira")
        row.pop("accepts_aftertax", None)
    if not req.get("rollovers_60_day"):
        if paid["amount"] + paid.get("loan_offset", 0) - req.get("rmd", 0) < 1:
            return None
        req["rollovers_60_day"] = [{"id": "s9", "amount": 1,
                                    "to": draw(st.sampled_from(["inherited_traditional_ira", "traditional_ira"]))
                                    if not roth else "inherited_roth_ira"}]
        for key in ("sixty_day_pretax_order", "sixty_day_pretax_amounts"):
            req.get("elections", {}).pop(key, None)
    elif draw(_BOOL):   # whatever the destination, even an inherited IRA
        req["rollovers_60_day"][0]["to"] = safe_destination(req["contract"], ages.NONSPOUSE)
    facts = req.get("participant")
    if facts is not None and "first_roth_contribution_year" in facts:   # a beneficiary's distribution may qualify
        decided = ages.qualified_roth(ages.NONSPOUSE, _facts(facts), datetime.date.fromisoformat(req["date"]))
        if decided is not None:
            req["qualified_roth"] = decided
    return req


def _f_inconsistent_facts(draw, req):
    """Participant facts that contradict each other or the request: a birth on or after the distribution's date, a
    separation from service on or before the birth, a first year of designated Roth contributions for a pre-tax
    contract or outside 2006 to the distribution's year, or `qualified_roth` contrary to what the facts decide
    (§402A(d)(2))."""
    on = datetime.date.fromisoformat(req["date"])
    facts = dict(req.get("participant", {}))
    roth = req["contract"] == "designated_roth"
    how = draw(st.sampled_from(["born_after", "separated_before_birth", "roth_year", "qualified_contrary"]))
    if how == "born_after":
        facts["birth_date"] = (on + datetime.timedelta(days=draw(st.sampled_from([0, 0, 1, 366, 9000])))).isoformat()
    elif how == "separated_before_birth":
        born = on - datetime.timedelta(days=draw(st.integers(20 * 365, 80 * 365)))
        facts["birth_date"] = born.isoformat()
        facts["separation_date"] = (born - datetime.timedelta(days=draw(st.sampled_from([0, 1, 400])))).isoformat()
    elif how == "roth_year":
        if roth:
            facts["first_roth_contribution_year"] = draw(st.sampled_from([ages.FIRST_ROTH_YEAR - 1, on.year + 1,
                                                                          1999, on.year + 20]))
        else:
            facts["first_roth_contribution_year"] = draw(st.integers(ages.FIRST_ROTH_YEAR,
                                                                     max(ages.FIRST_ROTH_YEAR, on.year)))
    else:
        if not roth or on.year < ages.FIRST_ROTH_YEAR:
            return None
        if draw(_BOOL) or on.year < ages.FIRST_ROTH_YEAR + 5:   # within the 5-taxable-year period: not qualified
            facts["first_roth_contribution_year"] = draw(st.integers(max(ages.FIRST_ROTH_YEAR, on.year - 4), on.year))
        else:   # after it, and past 59½ (or disabled): qualified
            facts["first_roth_contribution_year"] = draw(st.integers(ages.FIRST_ROTH_YEAR, on.year - 5))
            if draw(_BOOL):
                facts["disabled"] = True
            else:
                facts["birth_date"] = (on - datetime.timedelta(days=draw(st.integers(60 * 365, 90 * 365)))).isoformat()
                facts.pop("separation_date", None)
        decided = ages.qualified_roth(req.get("recipient", ages.PARTICIPANT), _facts(facts), on)
        if decided is None:
            return None
        if not decided:
            req["qualified_roth"] = True
        elif draw(_BOOL):
            req["qualified_roth"] = False
        else:
            req.pop("qualified_roth", None)
    req["participant"] = facts
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
    "zero_amount": _f_zero_amount,
    "before_effective_date": _f_before_effective_date,
    "rmd_not_required": _f_rmd_not_required,
    "nonspouse_sixty_day_rollover": _f_nonspouse_sixty_day_rollover,
    "inconsistent_facts": _f_inconsistent_facts,
}
assert set(FAULTS) == set(ERROR_CODES), "every error code of the contract has a fault"

# the features a fault's request needs beyond its base (a calculator without them is not asked)
_FAULT_FEATURES = {
    "sixty_day_without_payment": {"sixty_day"},
    "sixty_day_exceeds_payment": {"sixty_day"},
    "rmd_exceeds_payment": {"rmd"},
    "not_eligible_rollover_distribution": {"rmd"},
    "regime_not_permitted": {"regime_2009"},
    "rmd_not_required": {"rmd", "designated_roth"},
    "nonspouse_sixty_day_rollover": {"recipients", "sixty_day"},
    "inconsistent_facts": {"form_1099r_box7"},
}


def _codes_for(features: frozenset[str], codes: Iterable[str] | None) -> list[str]:
    chosen = list(codes) if codes is not None else list(FAULTS)
    return [c for c in chosen if _FAULT_FEATURES.get(c, {"core"}) <= features]


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
    answer = expected_answer(req)
    assume(answer.get("error", {}).get("code") == code)
    if not isinstance(req, str):
        assume(required_features(req) <= feats | {"form_1099r"})
    return req, code
