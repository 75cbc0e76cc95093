"""Hypothesis strategies of valid wire requests (dicts, exactly as a vendor's adapter receives them).

`valid_requests(features=None)` draws requests of every feature the reference accepts: both contracts,
pre-1987 basis, RMD, hardship, 60-day rollovers, elections of both kinds, both regimes and dates around
the transitions. Requests are valid by construction: amounts are cut from a drawn total, elections are
drawn from the amounts the law leaves to the participant, and a destination the allocation makes
ineligible is repaired to one that can take the money. The fuzzing kit (`conformance.fuzzing`) adds
boundary bias and near-valid requests on top.

Beyond what the proofs cover (`PROVED_DIRECTS` direct rollovers, one payment, `PROVED_SIXTY` 60-day
rollovers): one request in four with direct rollovers has more than four of them (up to `max_directs`, 8 by
default), one in four with 60-day rollovers more than three (up to `max_sixty`, 5); the payment is listed at
any position among the direct rollovers (first, between two of them, last); an amounts election lists its rows
in any order (and may leave out a row it gives nothing), and the elections object names its keys in any order.

Contract 1.2 (features `recipients` and `form_1099r_box7`, drawn only where `features` allows them): one request in
three names its `recipient` (the participant, the surviving spouse, a beneficiary who is not the surviving spouse,
who then rolls over only directly into inherited IRAs, or a QDRO alternate payee), and the surviving spouse may use
the inherited IRAs too; one in three carries `participant` facts: a birth date that puts the distribution one day
before, on or one day after the day of age 59½, or in the years around age 55 with a separation from service in the
calendar year of 55 (or the year before or after), or any age; sometimes `disabled`; for a designated Roth account
sometimes the first year of designated Roth contributions, near the end of the 5-taxable-year period, with
`qualified_roth` then what the facts decide (`spec.ages.qualified_roth`). With neither feature the requests drawn
are those of contract 1.1, draw for draw.

Shrinking moves the date to `NEUTRAL_DATE` (2025-06-30, a day on which every route of the law is open and no
rule changes), not to a transition date, so the date of a shrunk request means something only when it differs.
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import strategies as st

from rollsplit.spec import ages, law
from rollsplit.spec.features import required_features

TRANSITION_DATES = ("2014-09-17", "2014-09-18", "2014-12-31", "2015-01-01", "2015-12-31", "2016-01-01")
# the first day of each route of the law (spec.law.EFFECTIVE_DATES) and the last day a designated Roth account
# may still pay a lifetime RMD (the 2023 RMD, by April 1, 2024) and the day after
EFFECTIVE_DAYS = tuple(sorted({e.first.isoformat() for e in law.EFFECTIVE_DATES}
                              | {law.ROTH_RMD_LAST_DUE.isoformat(), "2024-04-02"}))

_PRETAX_DIRECT = ("traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov")
_ROTH_DIRECT = ("roth_ira", "designated_roth")
_PRETAX_SIXTY = ("traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov")
_ROTH_SIXTY = ("roth_ira", "designated_roth")
# contract 1.2: the inherited IRAs, for the money of each contract (designated Roth money only into a Roth IRA)
_PRETAX_INHERITED = ("inherited_traditional_ira", "inherited_roth_ira")
_ROTH_INHERITED = ("inherited_roth_ira",)
_RECIPIENTS = st.sampled_from(ages.RECIPIENTS)


# The proof bundle's shapes have up to this many direct and 60-day rollovers (solver/shapes.py); the strategies
# draw beyond them now and then, where only tests reach.
PROVED_DIRECTS = 4
PROVED_SIXTY = 3

# Where a shrunk date goes: every route of the law is open (spec.law.EFFECTIVE_DATES; the last opened in 2018),
# both contracts use Notice 2014-54, and no rule of the law changes within months on either side.
NEUTRAL_DATE = "2025-06-30"
_NEUTRAL_DAY = datetime.date.fromisoformat(NEUTRAL_DATE).toordinal()
_LAST_DAY = datetime.date(2030, 12, 31)


def cents(max_value: int = law.MAX_CENTS) -> st.SearchStrategy[int]:
    """Money, mostly of everyday size, sometimes huge (products beyond 2^64)."""
    return st.one_of(st.integers(0, min(max_value, 10_000_000)), st.integers(0, max_value)) \
        if max_value > 0 else st.just(0)


def _day(offset: int) -> str:
    return datetime.date.fromordinal(_NEUTRAL_DAY + offset).isoformat()


# any day from 2002 to 2030, drawn as days from NEUTRAL_DATE so that it shrinks to NEUTRAL_DATE (offset 0)
_OFFSETS = st.integers(law.MODELLED_FROM.first.toordinal() - _NEUTRAL_DAY, _LAST_DAY.toordinal() - _NEUTRAL_DAY)


@st.composite
def _any_day(draw) -> str:
    # a composite, not .map(_day): Hypothesis would print a failing request's date as "_day(0)"
    return _day(draw(_OFFSETS))


# the neutral date heads the list of special days too: a shrink that stays in this branch also ends there
_DATES = st.one_of(_any_day(), st.sampled_from((NEUTRAL_DATE,) + TRANSITION_DATES + EFFECTIVE_DAYS))


def dates() -> st.SearchStrategy[str]:
    """Any day from 2002 to 2030 half of the time, a transition or the first day of a route of the law the other
    half; shrinks to NEUTRAL_DATE."""
    return _DATES


_ONE_IN_FOUR = st.integers(0, 3)
_REGIME = st.sampled_from(law.REGIMES)
_RANGES: dict[tuple[int, int], st.SearchStrategy[int]] = {}


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    """st.integers(lo, hi), built once for small ranges (Hypothesis validates every new strategy object)."""
    if hi - lo > 64:
        return st.integers(lo, hi)
    if (lo, hi) not in _RANGES:
        _RANGES[lo, hi] = st.integers(lo, hi)
    return _RANGES[lo, hi]


def _count(draw, lo: int, proved: int, most: int) -> int:
    """A number of rows from lo to `most`: mostly up to `proved` (what the proofs cover), one draw in four beyond
    it when `most` allows. Shrinks to `lo`."""
    if most > proved >= lo and draw(_ONE_IN_FOUR) == 3:
        return draw(_ints(proved + 1, most))
    return draw(_ints(lo, min(proved, most)))


@st.composite
def split(draw, total: int, n: int, low: int = 0) -> list[int]:
    """n integers, each at least `low`, adding up to `total` (which must be at least n * low)."""
    if n == 0:
        return []
    rest = total - n * low
    cuts = sorted(draw(st.integers(0, rest)) for _ in range(n - 1))
    bounds = [0, *cuts, rest]
    return [b - a + low for a, b in zip(bounds, bounds[1:])]


def split_under_caps(amount: int, caps: list[int], order, pick) -> list[int]:
    """A split of `amount` with each part <= its cap (sum(caps) >= amount): parts are chosen in `order`, each
    by `pick(lo, hi)` within what still leaves the rest placeable. Hypothesis draws and `random` both use it."""
    out = [0] * len(caps)
    left = amount
    room = sum(caps)
    for i in order:
        room -= caps[i]
        lo, hi = max(0, left - room), min(caps[i], left)
        out[i] = pick(lo, hi) if hi > lo else lo
        left -= out[i]
    return out


@st.composite
def _fill_split(draw, amount: int, caps: list[int]) -> list[int]:
    """A split of `amount` with each part <= its cap (sum(caps) >= amount)."""
    order = draw(st.permutations(range(len(caps))))
    return split_under_caps(amount, caps, order, lambda lo, hi: draw(st.integers(lo, hi)))


def _feature_ok(features: set[str] | None, name: str) -> bool:
    return features is None or name in features


def _in_plan(features: set[str] | None, plan: str, date: str) -> tuple[str, ...]:
    """The in-plan Roth destination, where the feature and the date allow it (§402A(c)(4), from Sept. 28, 2010;
    a governmental 457(b) plan's from 2011)."""
    first = law.IN_PLAN_ROTH_457B_FROM.first if plan == "457b_gov" else law.IN_PLAN_ROTH_FROM.first
    return ("in_plan_roth",) if _feature_ok(features, "in_plan_roth") and date >= first.isoformat() else ()


@st.composite
def valid_requests(draw, features: set[str] | frozenset[str] | None = None, max_directs: int = 8,
                   max_sixty: int = 5, with_sixty_day: bool = False, min_directs: int = 0) -> dict[str, Any]:
    """A wire request the reference accepts; with `features`, one needing only those features.

    Up to `max_directs` direct rollovers and `max_sixty` 60-day rollovers; counts beyond the proved ones
    (`PROVED_DIRECTS`, `PROVED_SIXTY`) come one draw in four. `with_sixty_day=True` draws only requests holding
    at least one 60-day rollover (so a property about them needs no `assume`, which would filter most draws
    away); `min_directs=n` only requests with n direct rollovers or more (none is a hardship distribution)."""
    from rollsplit.reference import calculate, compute_outcome
    from rollsplit.spec.parse import parse_request

    features = set(features) if features is not None else None
    roth = _feature_ok(features, "designated_roth") and draw(st.booleans())
    contract = "designated_roth" if roth else "pretax_aftertax"
    date = draw(dates())
    if roth and date < law.DESIGNATED_ROTH_FROM.first.isoformat():   # no designated Roth accounts before 2006
        date = law.DESIGNATED_ROTH_FROM.first.isoformat()
    permitted = [g for g in law.REGIMES if law.regime_permitted(contract, g, datetime.date.fromisoformat(date))]
    if not _feature_ok(features, "regime_2009"):
        permitted = [g for g in permitted if g == law.NEW]
        if not permitted:  # a Roth contract before the Notice: only the old rule is permitted
            date = "2016-01-01"
            permitted = [law.NEW]
    # one choice whatever the date permits, so that a shrinking date does not shift every later draw
    regime = draw(_REGIME)
    regime = regime if regime in permitted else permitted[0]
    plans = [p for p in law.PLANS if not (roth and p == "457b_gov" and date < law.DESIGNATED_ROTH_457B_FROM.first.isoformat())]
    req: dict[str, Any] = {"date": date, "plan": draw(st.sampled_from(plans)), "contract": contract}
    # draws that a date could skip are drawn whatever the date (`explicit` here, and below the election, the
    # qualified plan loan offset and the RMD), so that the date shrinks to NEUTRAL_DATE without shifting the rest
    explicit = draw(st.booleans())
    if regime != law.default_regime(contract, datetime.date.fromisoformat(date)) or explicit:
        req["regime"] = regime

    recipient = _recipient(draw, features, date, with_sixty_day)
    if recipient is not None:
        req["recipient"] = recipient
    recipient = recipient or ages.PARTICIPANT

    balance = max(draw(cents().filter(lambda b: b > 0)), min_directs + 1)   # a cent or more for every row
    basis = draw(st.integers(0, balance) | st.sampled_from([0, balance]))
    req["balance"], req["basis"] = balance, basis
    if not roth and _feature_ok(features, "pre1987_basis") and draw(st.booleans()):
        req["pre1987_basis"] = draw(st.integers(0, basis))
    if roth and draw(st.booleans()):
        req["qualified_roth"] = draw(st.booleans())
    if _feature_ok(features, "form_1099r_box7") and draw(_ONE_IN_THREE) == 2:   # shrinks to 0: no facts
        req["participant"] = draw(participant_facts(date, roth))
        decided = ages.qualified_roth(recipient, _facts(req["participant"]), datetime.date.fromisoformat(date))
        if decided is not None:   # qualified_roth as the facts decide it (else inconsistent_facts)
            if decided or "qualified_roth" in req:
                req["qualified_roth"] = decided

    if with_sixty_day and not _feature_ok(features, "sixty_day"):
        raise ValueError("with_sixty_day=True needs the sixty_day feature")
    if not 0 <= min_directs <= max_directs:
        raise ValueError("min_directs must be from 0 to max_directs")
    hardship = not with_sixty_day and not min_directs and _feature_ok(features, "rmd") and draw(st.integers(0, 9)) == 0
    if min_directs:
        n_direct = draw(_ints(min_directs, max_directs))
    else:
        n_direct = 0 if hardship else _count(draw, 0, PROVED_DIRECTS, max_directs)
    paid = hardship or with_sixty_day or n_direct == 0 or draw(st.booleans())
    n_direct = min(n_direct, balance - (1 if paid else 0))   # every row holds a cent or more (zero_amount)
    n_rows = n_direct + (1 if paid else 0)
    D = draw(st.integers(n_rows, balance) | st.just(balance))
    amounts = draw(split(D, n_rows, low=1))
    dests = _ROTH_DIRECT if roth else _PRETAX_DIRECT + _in_plan(features, req["plan"], date)
    dests = _for_recipient(dests, recipient, roth)
    if not roth and date < law.ROTH_IRA_FROM_PLAN.first.isoformat():   # no plan-to-Roth-IRA rollovers before 2008
        dests = tuple(d for d in dests if d not in ("roth_ira", "inherited_roth_ira"))
    rows = []
    for i in range(n_direct):
        row = {"id": f"d{i}", "method": "direct", "to": draw(st.sampled_from(dests)), "amount": amounts[i]}
        if row["to"] in ("qualified_plan", "403b") and draw(st.booleans()):
            row["accepts_aftertax"] = draw(st.booleans())
        if row["to"] == "403b" and date < law.AFTERTAX_INTO_403B_FROM.first.isoformat():
            row["accepts_aftertax"] = False   # no after-tax money into a 403(b) before 2007
        rows.append(row)
    if paid:
        cash = {"id": "cash", "method": "paid", "amount": amounts[-1]}
        rows.insert(draw(_ints(0, len(rows))), cash)   # first, between two direct rollovers, or last
        if not hardship and _feature_ok(features, "loan_offset") and draw(st.integers(0, 4)) == 0:
            # part or all of the payment is a plan loan offset (the distribution stays the same)
            offset = cash["amount"] if draw(st.booleans()) else draw(st.integers(1, cash["amount"]))
            cash["amount"] -= offset
            cash["loan_offset"] = offset
            qualified = draw(st.booleans())
            if qualified and date >= law.QPLO_FROM.first.isoformat():   # §402(c)(3)(C) from 2018
                cash["qualified_plan_loan_offset"] = True
    req["disbursements"] = rows
    if hardship:
        req["hardship"] = True
    paid_amount = amounts[-1] if paid else 0
    rmd = 0
    rmd_possible = law.rmd_required_possible(contract, datetime.date.fromisoformat(date), recipient)
    if paid and _feature_ok(features, "rmd") and draw(st.booleans()) and rmd_possible:
        # with a 60-day rollover to come, leave at least a cent of the payment to roll over
        rmd = draw(st.integers(0, paid_amount - 1 if with_sixty_day else paid_amount))
        req["rmd"] = rmd
    if paid and not hardship and _feature_ok(features, "sixty_day") and paid_amount - rmd >= 1 \
            and recipient != ages.NONSPOUSE and (with_sixty_day or draw(st.booleans())):
        n = _count(draw, 1, PROVED_SIXTY, min(max_sixty, paid_amount - rmd))
        total = draw(st.integers(n, paid_amount - rmd))
        sixty_dests = _ROTH_SIXTY if roth else _PRETAX_SIXTY + _in_plan(features, req["plan"], date)
        sixty_dests = _for_recipient(sixty_dests, recipient, roth)
        if not roth and date < law.ROTH_IRA_FROM_PLAN.first.isoformat():
            sixty_dests = tuple(d for d in sixty_dests if d not in ("roth_ira", "inherited_roth_ira"))
        req["rollovers_60_day"] = [{"id": f"s{j}", "to": draw(st.sampled_from(sixty_dests)),
                                    "amount": a} for j, a in enumerate(draw(split(total, n, low=1)))]
    if paid and not hardship and _feature_ok(features, "withholding_de_minimis") and draw(st.integers(0, 3)) == 0:
        # the year's other eligible rollover distributions: mostly around the $200 floor
        req["other_eligible_this_year"] = draw(st.integers(0, 2 * law.WITHHOLDING_DE_MINIMIS) | cents())

    _repair_eligibility(req, calculate)
    outcome = compute_outcome(parse_request(req))  # valid now, without elections
    elections: list[tuple[str, Any]] = []
    directs = [r for r in rows if r["method"] == "direct"]
    if directs and draw(st.booleans()) and regime == law.NEW:   # the old rule takes no direct election
        if draw(st.booleans()):
            ids = [r["id"] for r in directs]
            elections.append(("direct_pretax_order", draw(st.permutations(ids))[:draw(_ints(0, len(ids)))]))
        else:
            parts = draw(_fill_split(outcome.direct_pretax, [r["amount"] for r in directs]))
            elections.append(("direct_pretax_amounts", _amounts_object(draw, directs, parts)))
    sixty = req.get("rollovers_60_day", [])
    if sixty and draw(st.booleans()):
        if draw(st.booleans()):
            ids = [r["id"] for r in sixty]
            elections.append(("sixty_day_pretax_order", draw(st.permutations(ids))[:draw(_ints(0, len(ids)))]))
        else:
            parts = draw(_fill_split(outcome.sixty_pretax, [r["amount"] for r in sixty]))
            elections.append(("sixty_day_pretax_amounts", _amounts_object(draw, sixty, parts)))
    if elections:
        # the keys of the elections object in either order (JSON objects are unordered)
        req["elections"] = dict(draw(st.permutations(elections)))
        _repair_eligibility(req, calculate)
    answer = calculate(req)
    assert "error" not in answer, (req, answer)  # valid by construction: a failure here is a bug
    if features is not None:
        assert required_features(req) <= features | {"form_1099r"}, (req, features)
    return req


def _amounts_object(draw, rows: list[dict], parts: list[int]) -> dict[str, int]:
    """An amounts election {id: cents}: its rows in any order (a calculator must bind each amount to its row by
    id, never by position), a row it gives nothing sometimes left out (the contract reads it as 0)."""
    order = draw(st.permutations(range(len(rows))))
    return {rows[i]["id"]: parts[i] for i in order if parts[i] or not draw(st.booleans())}


def safe_destination(contract: str, recipient: str = ages.PARTICIPANT) -> str:
    """A destination that takes money of both kinds from a contract of this kind, paid to `recipient` (a
    beneficiary who is not the surviving spouse: an inherited IRA; contract 1.2)."""
    if recipient == ages.NONSPOUSE:
        return "inherited_roth_ira" if contract == "designated_roth" else "inherited_traditional_ira"
    return "roth_ira" if contract == "designated_roth" else "traditional_ira"


# ---- contract 1.2: who receives the money, and the participant's facts -----------------------------------------
_ONE_IN_THREE = st.integers(0, 2)
_NEAR = st.sampled_from([-1, 0, 1])          # one day before the day of 59½, on it, one day after
_YEAR_OF_55 = st.sampled_from([0, 0, -1, 1])  # separation in the calendar year of 55, or the year before or after


def _recipient(draw, features: set[str] | None, date: str, with_sixty_day: bool) -> str | None:
    """The `recipient` field, or None to leave it out (two draws in three). A beneficiary who is not the surviving
    spouse is modelled from 2011 (spec.law.NONSPOUSE_FROM) and has no 60-day rollover: before 2011, or when a
    60-day rollover is wanted, the surviving spouse takes that draw (a beneficiary all the same)."""
    if not _feature_ok(features, "recipients") or draw(_ONE_IN_THREE) != 2:   # shrinks to 0: the field left out
        return None
    who = draw(_RECIPIENTS)
    if who == ages.NONSPOUSE and (with_sixty_day or date < law.NONSPOUSE_FROM.first.isoformat()):
        return ages.SPOUSE
    return who


def _for_recipient(dests: tuple[str, ...], recipient: str, roth: bool) -> tuple[str, ...]:
    """The destinations `recipient` may roll over to: a beneficiary who is not the surviving spouse only inherited
    IRAs, the surviving spouse the participant's and inherited IRAs, the others the participant's (§402(c)(9), (11),
    §402(e)(1)(B))."""
    inherited = _ROTH_INHERITED if roth else _PRETAX_INHERITED
    if recipient == ages.NONSPOUSE:
        return inherited
    if recipient == ages.SPOUSE:
        return dests + inherited
    return dests


def _facts(obj: dict) -> ages.Participant:
    day = datetime.date.fromisoformat
    return ages.Participant(birth_date=day(obj["birth_date"]) if "birth_date" in obj else None,
                            separation_date=day(obj["separation_date"]) if "separation_date" in obj else None,
                            disabled=obj.get("disabled"),
                            first_roth_contribution_year=obj.get("first_roth_contribution_year"))


def _born_59_half_near(on: datetime.date, offset: int) -> datetime.date:
    """A birth date whose day of 59½ is `on` + `offset` days, or the nearest such day (the clamp to a month's end
    leaves some days no one reaches 59½ on: the 31st after a 30-day month, for one)."""
    target = on + datetime.timedelta(days=offset)
    guess = ages.add_months(target, -(59 * 12 + 6))
    near = [guess + datetime.timedelta(days=d) for d in range(-3, 4)]
    return min(near, key=lambda b: (abs((ages.date_59_half(b) - target).days), abs((b - guess).days)))


@st.composite
def participant_facts(draw, date: str, roth: bool) -> dict[str, Any]:
    """The `participant` object of a request dated `date`, consistent with it (never inconsistent_facts): a birth
    date that puts `date` one day before, on or one day after the day of age 59½; or born 55 to 58 years before
    `date`'s year with a separation in the calendar year of 55 (or the year before or after); or any age from 18 to
    95; sometimes `disabled`; for a designated Roth account sometimes the first year of contributions, mostly near
    the end of the 5-taxable-year period. Any field may be left out."""
    on = datetime.date.fromisoformat(date)
    facts: dict[str, Any] = {}
    how = draw(st.sampled_from(["59.5", "55", "any", "none"]))
    if how == "59.5":
        facts["birth_date"] = _born_59_half_near(on, draw(_NEAR)).isoformat()
    elif how == "55":
        year = on.year - 55 - draw(_ints(0, 3))
        born = datetime.date(year, draw(_ints(1, 12)), draw(_ints(1, 28)))
        facts["birth_date"] = born.isoformat()
        sep_year = year + 55 + draw(_YEAR_OF_55)
        sep = draw(st.sampled_from([datetime.date(sep_year, 1, 1), datetime.date(sep_year, 12, 31),
                                    datetime.date(sep_year, 6, 30)]))
        if draw(st.booleans()):
            sep = min(sep, on)   # mostly on or before the distribution, which the exception needs
        facts["separation_date"] = sep.isoformat()
    elif how == "any":
        born = on - datetime.timedelta(days=draw(_ints(18 * 365, 95 * 365)))
        facts["birth_date"] = born.isoformat()
        if draw(st.booleans()):
            sep = born + datetime.timedelta(days=draw(st.integers(16 * 365, max(16 * 365, (on - born).days + 400))))
            facts["separation_date"] = sep.isoformat()
    if draw(_ONE_IN_THREE) == 2:   # shrinks to 0: disability not stated
        facts["disabled"] = draw(st.booleans())
    if roth and draw(st.booleans()):
        first = ages.FIRST_ROTH_YEAR
        year = draw(st.sampled_from([on.year - 5, on.year - 4, on.year - 6]) | _ints(first, max(first, on.year)))
        facts["first_roth_contribution_year"] = min(max(year, first), on.year)
    return facts


def _repair_eligibility(req: dict, calculate) -> None:
    """Send money the allocation makes ineligible to a destination that takes both kinds."""
    safe = safe_destination(req["contract"], req.get("recipient", ages.PARTICIPANT))
    for _ in range(len(req["disbursements"]) + len(req.get("rollovers_60_day", [])) + 1):
        answer = calculate(req)
        err = answer.get("error")
        if not err or err["code"] != "ineligible_destination":
            return
        kind, index = err["field"].split("[")
        row = req[kind][int(index.rstrip("]"))]
        row["to"] = safe
        row.pop("accepts_aftertax", None)
