"""From bytes to a `Request`, with every structural fault turned into a `RequestError`.

Checks run in a fixed order so that every implementation names the same fault first:
  1. invalid_json            the text is not one JSON value
  2. invalid_request         shape, types, missing/unknown fields, enumerations, dates
  3. amount_out_of_range     money outside [0, 2^53-1]
     zero_amount             a disbursement or 60-day rollover of 0 cents (a payment of no cash that carries a plan
                             loan offset is not one), or a qualified plan loan offset of 0 cents (contract 1.1)
  4. duplicate_id, more_than_one_payment, not_eligible_rollover_distribution,
     nonspouse_sixty_day_rollover (contract 1.2), sixty_day_without_payment, before_effective_date,
     rmd_not_required (contract 1.1), inconsistent_facts (contract 1.2), regime_not_permitted,
     invalid_election (structure of elections)
The checks on money values (basis vs balance, sums, elections adding up, eligibility after allocation)
follow in `reference.algorithm`, in the order `spec.errors.VALUE_CHECK_ORDER`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any, Callable

from rollsplit.spec import ages, law
from rollsplit.spec.errors import RequestError
from rollsplit.spec.model import Disbursement, Elections, Request, Rollover60

MAX_ROWS = 1000  # reference limit on disbursements and on 60-day rollovers (not part of the contract)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REQUEST_FIELDS = {
    "date": True, "plan": True, "contract": True, "balance": True, "basis": True, "disbursements": True,
    "pre1987_basis": False, "qualified_roth": False, "rmd": False, "hardship": False, "regime": False,
    "rollovers_60_day": False, "elections": False, "other_eligible_this_year": False,
    "recipient": False, "participant": False,   # contract 1.2
}
_PARTICIPANT_FIELDS = {"birth_date": False, "separation_date": False, "disabled": False,
                       "first_roth_contribution_year": False}
_DIRECT_FIELDS = {"id": True, "method": True, "amount": True, "to": True, "accepts_aftertax": False}
_PAID_FIELDS = {"id": True, "method": True, "amount": True, "loan_offset": False, "qualified_plan_loan_offset": False}
_SIXTY_FIELDS = {"id": True, "to": True, "amount": True}
_ELECTION_FIELDS = ("direct_pretax_order", "direct_pretax_amounts", "sixty_day_pretax_order", "sixty_day_pretax_amounts")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {k!r} appears twice in one object")
        out[k] = v
    return out


LONG_INT = 10**40  # integers this long or longer are not kept exactly (any one may stand for them): out of every range


def _parse_int(text: str) -> int:
    """JSON integers of any length; past 40 digits only the sign matters (no money is that large)."""
    digits = text.lstrip("-")
    if len(digits) <= 40:
        return int(text)
    return -LONG_INT if text.startswith("-") else LONG_INT


def _cents_text(v: int) -> str:
    return f"{v} cents" if abs(v) < LONG_INT else ("a number of more than 40 digits" if v > 0 else "a negative number of more than 40 digits")


def parse_json(data: str | bytes) -> Any:
    """Strict JSON: UTF-8, one value, no NaN/Infinity, no duplicate keys, integers of any size."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RequestError("invalid_json", f"The input is not UTF-8 text (byte {e.start}).") from None
    try:
        try:   # integers in C; only text with an integer too long for Python to convert needs the hook
            return json.loads(data, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
        except ValueError as e:
            if "integer string conversion" not in str(e):
                raise
            return json.loads(data, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys,
                              parse_int=_parse_int)
    except RecursionError:
        raise RequestError("invalid_json", "The input nests too deeply to be a request.") from None
    except ValueError as e:  # JSONDecodeError, our hooks, and ints beyond the digit limit
        raise RequestError("invalid_json", f"The input is not valid JSON: {e}.") from None


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number with a fraction or exponent"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


class _Shape:
    """Pass 2: shape and types. Money values are only type-checked here; ranges come in pass 3."""

    def __init__(self) -> None:
        self.money: list[tuple[str, int]] = []  # (path, value) for the range pass

    def fail(self, path: str | None, message: str) -> RequestError:
        return RequestError("invalid_request", message, path)

    def obj(self, v: Any, path: Path, fields: dict[str, bool], what: str | Callable[[], str]) -> dict:
        if not isinstance(v, dict):
            raise self.fail(_text(path) or None, f"The {_what(what)} must be a JSON object, not {_type_name(v)}.")
        for k in v:
            if k not in fields:
                raise self.fail(_join(_text(path), k), f"The {_what(what)} has an unknown field {k!r}; "
                                f"allowed fields are {', '.join(sorted(fields))}.")
        for k, required in fields.items():
            if required and k not in v:
                raise self.fail(_join(_text(path), k), f"The {_what(what)} is missing the required field {k!r}.")
        return v

    def money_value(self, v: Any, path: Path) -> int:
        if type(v) is not int:   # bool is a subclass of int, and is not money
            path = _text(path)
            raise self.fail(path, f"{path} must be an integer number of cents, not {_type_name(v)}.")
        self.money.append((path, v))
        return v

    def enum(self, v: Any, path: Path, allowed: tuple[str, ...]) -> str:
        if not isinstance(v, str) or v not in allowed:
            path = _text(path)
            shown = json.dumps(v) if isinstance(v, (str, int, bool)) or v is None else _type_name(v)
            from rollsplit.spec.hints import with_hint   # only for an error (difflib): not on the answering path
            raise self.fail(path, with_hint(f"{path} is {shown}; it must be one of {', '.join(allowed)}.", path, v))
        return v

    def boolean(self, v: Any, path: Path) -> bool:
        if not isinstance(v, bool):
            path = _text(path)
            raise self.fail(path, f"{path} must be true or false, not {_type_name(v)}.")
        return v

    def ident(self, v: Any, path: Path) -> str:
        if not isinstance(v, str) or not v:
            path = _text(path)
            raise self.fail(path, f"{path} must be a non-empty string.")
        return v

    def array(self, v: Any, path: Path) -> list:
        if not isinstance(v, list):
            path = _text(path)
            raise self.fail(path, f"{path} must be an array, not {_type_name(v)}.")
        if len(v) > MAX_ROWS:
            path = _text(path)
            raise self.fail(path, f"{path} has {len(v)} entries; this calculator accepts at most {MAX_ROWS}.")
        return v


# A path is a JSON path string, or a tuple of its parts (a string and keys or indices) that is joined
# only when it is needed for an error: most requests are valid, and formatting paths was a third of parsing.
Path = str | tuple


def _text(path: Path) -> str:
    if isinstance(path, str):
        return path
    out = path[0]
    for key in path[1:]:
        out = _join(out, key)
    return out


def _what(what: str | Callable[[], str]) -> str:
    return what if isinstance(what, str) else what()


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def parse_request(obj: Any) -> Request:
    """Validate the structure of a request (steps 2-4 above) and build a `Request` of ints."""
    s = _Shape()
    r = s.obj(obj, "", _REQUEST_FIELDS, "request")
    date = _date(s, r["date"], "date")
    plan = s.enum(r["plan"], "plan", law.PLANS)
    contract = s.enum(r["contract"], "contract", law.CONTRACTS)
    balance = s.money_value(r["balance"], "balance")
    basis = s.money_value(r["basis"], "basis")
    pre1987 = s.money_value(r.get("pre1987_basis", 0), "pre1987_basis")
    qualified = s.boolean(r.get("qualified_roth", False), "qualified_roth")
    rmd = s.money_value(r.get("rmd", 0), "rmd")
    hardship = s.boolean(r.get("hardship", False), "hardship")
    other_eligible = s.money_value(r.get("other_eligible_this_year", 0), "other_eligible_this_year")
    regime = s.enum(r["regime"], "regime", law.REGIMES) if "regime" in r else None
    recipient = s.enum(r.get("recipient", ages.PARTICIPANT), "recipient", law.RECIPIENTS)
    facts = _participant(s, r["participant"]) if "participant" in r else ages.NO_FACTS
    if qualified and contract != "designated_roth":
        raise s.fail("qualified_roth", "qualified_roth can be true only for a designated_roth contract.")
    if contract == "designated_roth" and pre1987 != 0:
        raise s.fail("pre1987_basis", "A designated Roth account has no pre-1987 basis (Roth accounts began in 2006).")

    disbursements = []
    for i, d in enumerate(s.array(r["disbursements"], "disbursements")):
        if not isinstance(d, dict):
            p = _join("disbursements", i)
            raise s.fail(p, f"{p} must be a JSON object, not {_type_name(d)}.")
        if "method" not in d:
            p = _join("disbursements", i)
            raise s.fail(_join(p, "method"), f"{p} is missing the required field 'method'.")
        method = s.enum(d["method"], ("disbursements", i, "method"), law.METHODS)
        direct = method == "direct"
        s.obj(d, ("disbursements", i), _DIRECT_FIELDS if direct else _PAID_FIELDS,
              lambda i=i, direct=direct: f"{'direct rollover' if direct else 'payment'} disbursements[{i}]")
        row = Disbursement(
            id=s.ident(d["id"], ("disbursements", i, "id")),
            method=method,
            amount=s.money_value(d["amount"], ("disbursements", i, "amount")),
            to=s.enum(d["to"], ("disbursements", i, "to"), law.DESTINATIONS) if direct else None,
            accepts_aftertax=s.boolean(d.get("accepts_aftertax", True), ("disbursements", i, "accepts_aftertax")),
            loan_offset=0 if direct else s.money_value(d.get("loan_offset", 0), ("disbursements", i, "loan_offset")),
            qualified_plan_loan_offset=not direct and s.boolean(d.get("qualified_plan_loan_offset", False),
                                                                ("disbursements", i, "qualified_plan_loan_offset")),
        )
        if row.qualified_plan_loan_offset and "loan_offset" not in d:
            p = _join(_join("disbursements", i), "qualified_plan_loan_offset")
            raise s.fail(p, f"{p} is true, but the payment has no loan_offset.")
        disbursements.append(row)

    rollovers = []
    for i, x in enumerate(s.array(r.get("rollovers_60_day", []), "rollovers_60_day")):
        s.obj(x, ("rollovers_60_day", i), _SIXTY_FIELDS, lambda i=i: f"60-day rollover rollovers_60_day[{i}]")
        rollovers.append(Rollover60(id=s.ident(x["id"], ("rollovers_60_day", i, "id")),
                                    to=s.enum(x["to"], ("rollovers_60_day", i, "to"), law.DESTINATIONS),
                                    amount=s.money_value(x["amount"], ("rollovers_60_day", i, "amount"))))

    raw_elections = s.obj(r.get("elections", {}), "elections", {k: False for k in _ELECTION_FIELDS}, "elections object")
    elections: dict[str, Any] = {}
    for k in _ELECTION_FIELDS:
        if k not in raw_elections:
            continue
        p = _join("elections", k)
        v = raw_elections[k]
        if k.endswith("_order"):
            elections[k] = tuple(s.ident(x, _join(p, i)) for i, x in enumerate(s.array(v, p)))
        else:
            if not isinstance(v, dict):
                raise s.fail(p, f"{p} must be an object mapping ids to cents, not {_type_name(v)}.")
            elections[k] = {key: s.money_value(val, _join(p, key)) for key, val in v.items()}

    # pass 3: ranges
    for path, v in s.money:
        if not 0 <= v <= law.MAX_CENTS:
            path = _text(path)
            raise RequestError("amount_out_of_range",
                               f"{path} is {_cents_text(v)}; money must be between 0 and {law.MAX_CENTS} cents.", path)
    for kind, rows in (("disbursements", disbursements), ("rollovers_60_day", rollovers)):
        for i, row in enumerate(rows):
            # a payment of no cash may still distribute a plan loan offset (a row of 0 cents then is no row)
            if row.amount == 0 and not (kind == "disbursements" and row.loan_offset):
                p = _text((kind, i, "amount"))
                raise RequestError("zero_amount", f"{p} is 0 cents: a disbursement or rollover of $0 is no "
                                   "distribution (no Form 1099-R reports it); leave the row out.", p)
            if kind == "disbursements" and row.qualified_plan_loan_offset and row.loan_offset == 0:
                p = _text((kind, i, "loan_offset"))
                raise RequestError("zero_amount", f"{p} is 0 cents, but the offset is said to be a qualified plan "
                                   "loan offset: there is no offset.", p)

    # pass 4: structure of the distribution
    seen: dict[str, tuple] = {}
    for kind, rows in (("disbursements", disbursements), ("rollovers_60_day", rollovers)):
        for i, row in enumerate(rows):
            if row.id in seen:
                p = _text((kind, i, "id"))
                raise RequestError("duplicate_id", f"The id {row.id!r} at {p} is already used at "
                                   f"{_text(seen[row.id])}; ids must be unique across disbursements and 60-day "
                                   "rollovers.", p)
            seen[row.id] = (kind, i, "id")
    payments = [i for i, d in enumerate(disbursements) if d.method == "paid"]
    if len(payments) > 1:
        p = _join("disbursements", payments[1])
        raise RequestError("more_than_one_payment", "Only one disbursement may be paid to the participant; "
                           f"{p} is a second one.", p)
    offset = next((i for i, d in enumerate(disbursements) if d.loan_offset), None)
    if hardship and offset is not None:
        # one request is one distribution event: an offset repays a loan, it is not paid on account of hardship
        p = _join(_join("disbursements", offset), "loan_offset")
        raise RequestError("invalid_request", "A plan loan offset repays a plan loan and is no hardship distribution: "
                           "give the offset in a request without hardship.", p)
    if hardship:
        rolled = [_join("disbursements", i) for i, d in enumerate(disbursements) if d.method == "direct"]
        rolled += [_join("rollovers_60_day", i) for i in range(len(rollovers))]
        if rolled:
            raise RequestError("not_eligible_rollover_distribution", "A hardship distribution is not an eligible "
                               "rollover distribution (§402(c)(4)(C)), so it cannot be rolled over, but "
                               f"{rolled[0]} is a rollover.", rolled[0])
    if recipient == ages.NONSPOUSE and rollovers:
        raise RequestError("nonspouse_sixty_day_rollover", "A beneficiary who is not the participant's surviving "
                           "spouse may roll over only by a direct trustee-to-trustee transfer into an inherited IRA "
                           "(IRC §402(c)(11)), never within 60 days of a payment; rollovers_60_day[0] is a 60-day "
                           "rollover.", "rollovers_60_day[0]")
    if rollovers and not payments:
        raise RequestError("sixty_day_without_payment", "A 60-day rollover re-deposits money paid to the "
                           "participant, but no disbursement is paid to the participant.", "rollovers_60_day")

    rolled = [(_join("disbursements", i), d.to, d.accepts_aftertax) for i, d in enumerate(disbursements)
              if d.method == "direct"]
    rolled += [(_join("rollovers_60_day", i), x.to, False) for i, x in enumerate(rollovers)]
    qplo = next((_join("disbursements", i) for i, d in enumerate(disbursements) if d.qualified_plan_loan_offset),
                None)
    closed = law.route_closed(contract, plan, date, rolled, qplo, recipient)
    if closed is not None:
        route, p = closed
        raise RequestError("before_effective_date", f"On {date.isoformat()} the law did not yet provide for "
                           f"{route.what}, which begin with distributions on or after {route.first.isoformat()} "
                           f"({route.source} {route.pinpoint}).",
                           p)
    if rmd and not law.rmd_required_possible(contract, date, recipient):
        raise RequestError("rmd_not_required", "A designated Roth account has no required minimum distribution "
                           "during the participant's life for a taxable year beginning after December 31, 2023, and "
                           "the last RMD for 2023 was due by April 1, 2024 (IRC §402A(d)(5), SECURE 2.0 Act §325); "
                           "give rmd 0.", "rmd")

    _check_facts(facts, contract, date, qualified, recipient)
    allowed = [g for g in law.REGIMES if law.regime_permitted(contract, g, date)]
    if regime is None:
        regime = law.default_regime(contract, date)
    elif regime not in allowed:
        raise RequestError("regime_not_permitted", f"The regime {regime} may not be used for a {contract} contract "
                           f"on {date.isoformat()}; permitted: {', '.join(allowed)}.", "regime")

    direct_ids = {d.id for d in disbursements if d.method == "direct"}
    sixty_ids = {x.id for x in rollovers}
    for kind, ids, what in (("direct", direct_ids, "direct rollover"), ("sixty_day", sixty_ids, "60-day rollover")):
        order_key, amounts_key = f"{kind}_pretax_order", f"{kind}_pretax_amounts"
        if order_key in elections and amounts_key in elections:
            raise RequestError("invalid_election", f"Give either {order_key} or {amounts_key}, not both.",
                               _join("elections", amounts_key))
        if kind == "direct" and regime == law.OLD and (order_key in elections or amounts_key in elections):
            key = order_key if order_key in elections else amounts_key
            raise RequestError("invalid_election", "Under Notice 2009-68 each disbursement carries its own pro "
                               "rata share, so pre-tax money cannot be elected to a direct rollover.",
                               _join("elections", key))
        listed = list(elections.get(order_key, ())) + list(elections.get(amounts_key, {}))
        key = order_key if order_key in elections else amounts_key
        for i, x in enumerate(listed):
            p = _join(_join("elections", key), i if key == order_key else x)
            if x not in ids:
                raise RequestError("invalid_election", f"The election names {x!r}, which is not a {what} "
                                   "of this request.", p)
            if listed.index(x) != i:
                raise RequestError("invalid_election", f"The election lists {x!r} twice.", p)

    return Request(date=date, plan=plan, contract=contract, balance=balance, basis=basis,
                   disbursements=tuple(disbursements), pre1987_basis=pre1987, qualified_roth=qualified, rmd=rmd,
                   hardship=hardship, regime=regime, rollovers_60_day=tuple(rollovers),
                   elections=Elections(**elections), other_eligible_this_year=other_eligible,
                   recipient=recipient, participant=facts, event_code=ages.event_code(recipient, plan, facts, date, qualified))


def _date(s: _Shape, v: Any, path: str) -> _dt.date:
    if not isinstance(v, str) or not _DATE.fullmatch(v):
        raise s.fail(path, f"{path} must be a string of the form YYYY-MM-DD.")
    try:
        return _dt.date.fromisoformat(v)
    except ValueError:
        raise s.fail(path, f"{path} {v!r} is not a day of the calendar.") from None


def _participant(s: _Shape, v: Any) -> ages.Participant:
    """The participant's facts (contract 1.2), each optional; types only (`_check_facts` relates them)."""
    p = s.obj(v, "participant", _PARTICIPANT_FIELDS, "participant object")
    year = p.get("first_roth_contribution_year")
    if year is not None and type(year) is not int:
        raise s.fail("participant.first_roth_contribution_year", "participant.first_roth_contribution_year must be "
                     f"a year as an integer (such as 2019), not {_type_name(year)}.")
    return ages.Participant(
        birth_date=_date(s, p["birth_date"], "participant.birth_date") if "birth_date" in p else None,
        separation_date=(_date(s, p["separation_date"], "participant.separation_date")
                         if "separation_date" in p else None),
        disabled=s.boolean(p["disabled"], "participant.disabled") if "disabled" in p else None,
        first_roth_contribution_year=year)


def _check_facts(facts: ages.Participant, contract: str, date: _dt.date, qualified: bool, recipient: str) -> None:
    """The facts agree with each other and with the request (inconsistent_facts)."""
    def fail(field: str, message: str) -> RequestError:
        return RequestError("inconsistent_facts", message, field)
    b, sep, year = facts.birth_date, facts.separation_date, facts.first_roth_contribution_year
    if b is not None and b >= date:
        raise fail("participant.birth_date", f"The participant's birth date {b.isoformat()} is not before the "
                   f"distribution's date {date.isoformat()}.")
    if sep is not None and b is not None and sep <= b:
        raise fail("participant.separation_date", f"The separation from service on {sep.isoformat()} is not after "
                   f"the participant's birth on {b.isoformat()}.")
    if year is not None:
        if contract != "designated_roth":
            raise fail("participant.first_roth_contribution_year", "A first year of designated Roth contributions "
                       "is given, but the contract is not a designated Roth account.")
        if not ages.FIRST_ROTH_YEAR <= year <= date.year:
            raise fail("participant.first_roth_contribution_year", f"The first year of designated Roth "
                       f"contributions is {year}, but it must lie from {ages.FIRST_ROTH_YEAR} (the first year "
                       f"designated Roth contributions could be made) to {date.year}, the distribution's year.")
    if contract != "designated_roth":
        return
    derived = ages.qualified_roth(recipient, facts, date)
    if derived is not None and derived != qualified:
        if derived:
            why = ("after the 5-taxable-year period and " + ("to a beneficiary after the participant's death"
                                                              if recipient in ages.BENEFICIARIES else "on disability"
                                                              if facts.disabled else "at age 59½ or older"))
        elif year is not None and date.year < year + 5:
            why = f"within the 5-taxable-year period that began in {year}"
        else:
            why = "before age 59½, to the participant alive and not disabled"
        raise fail("qualified_roth", f"qualified_roth is {'true' if qualified else 'false'}, but the facts make "
                   f"the distribution {'a qualified' if derived else 'not a qualified'} distribution: it is "
                   f"made {why} (IRC §402A(d)(2)).")
