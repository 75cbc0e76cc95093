"""The fast strict reader: a valid request, read once, straight into what the compiled path takes.

`spec.parse.parse_request` is where the structural rules and their error codes and messages are written (once). It
walks a request the way an error must be explained: checks in their fixed order, JSON paths kept for messages,
hints for misspelled values. A valid request pays for all of that and gets nothing from it. This reader pays for
none of it: `read(obj)` returns what `parse_request(obj)` would lead to, or None, and then the caller asks the parser
(which gives the error, or a Request after all). It holds no error code and no message, only conditions under which
the parser accepts; where it is not sure, it declines.

`read(obj)` -> (key, money, ids, date, regime) exactly as `reference.compiled.shape_key`, `money_of` and `ids_of`
give them for `parse_request(obj)`, with the request's date and effective regime; `request(obj, date, regime)`
then builds the very `Request` the parser builds (only for an `obj` that `read` accepted). tests/test_fast.py
checks both against the parser on requests of every feature, boundary values and every way to be invalid.

Deriving from the parser: the fields read are those of the parser's own tables (`spec.parse._REQUEST_FIELDS` and
the row tables) that this reader knows how to read, with the parser's required flags; a request holding any other
field (one a later contract adds, or a typo) goes to the parser, as does anything of another Python type than
JSON gives (a dict subclass, a tuple for an array), a row limit exceeded, or a date it has not seen the parser
accept. Enumerations, the law's dates and routes, the default regime and the row limit are the parser's and the
law's own (`spec.law`, `spec.parse.MAX_ROWS`).
"""

from __future__ import annotations

import datetime as _dt

from rollsplit.spec import law
from rollsplit.spec import parse as _parse
from rollsplit.spec.model import Disbursement, Elections, Request, Rollover60

# ---- the fields, from the parser's tables ----------------------------------------------------------------------
# what this reader knows how to read; the parser's tables say which of them exist and which are required
_READS_REQUEST = ("date", "plan", "contract", "balance", "basis", "disbursements", "pre1987_basis", "qualified_roth",
                  "rmd", "hardship", "regime", "rollovers_60_day", "elections", "other_eligible_this_year",
                  "recipient")   # contract 1.2: read only when it names the participant, the default
_READS_DIRECT = ("id", "method", "amount", "to", "accepts_aftertax")
_READS_PAID = ("id", "method", "amount", "loan_offset", "qualified_plan_loan_offset")
_READS_SIXTY = ("id", "to", "amount")
_READS_ELECTIONS = ("direct_pretax_order", "direct_pretax_amounts", "sixty_day_pretax_order",
                    "sixty_day_pretax_amounts")


def _table(parser_fields, reads) -> tuple[frozenset[str], frozenset[str], bool]:
    """(fields read, fields required, usable): the parser's fields that this reader reads; usable only if every
    field the parser requires is one of them (else no request can be read here)."""
    fields = dict.fromkeys(parser_fields, False) if not isinstance(parser_fields, dict) else parser_fields
    known = frozenset(k for k in fields if k in reads)
    required = frozenset(k for k, needed in fields.items() if needed)
    return known, required, required <= known


_REQUEST_KNOWN, _REQUEST_REQUIRED, _ok1 = _table(_parse._REQUEST_FIELDS, _READS_REQUEST)
_DIRECT_KNOWN, _DIRECT_REQUIRED, _ok2 = _table(_parse._DIRECT_FIELDS, _READS_DIRECT)
_PAID_KNOWN, _PAID_REQUIRED, _ok3 = _table(_parse._PAID_FIELDS, _READS_PAID)
_SIXTY_KNOWN, _SIXTY_REQUIRED, _ok4 = _table(_parse._SIXTY_FIELDS, _READS_SIXTY)
_ELECTIONS_KNOWN, _ELECTIONS_REQUIRED, _ok5 = _table(_parse._ELECTION_FIELDS, _READS_ELECTIONS)
# the reader runs only if the parser still has every field it reads under the same name and requires nothing new
ENABLED = _ok1 and _ok2 and _ok3 and _ok4 and _ok5 and _REQUEST_KNOWN == frozenset(_READS_REQUEST) \
    and _DIRECT_KNOWN == frozenset(_READS_DIRECT) and _PAID_KNOWN == frozenset(_READS_PAID) \
    and _SIXTY_KNOWN == frozenset(_READS_SIXTY) and _ELECTIONS_KNOWN == frozenset(_READS_ELECTIONS)

_N_REQUIRED, _N_PAID_REQUIRED = len(_REQUEST_REQUIRED), len(_PAID_REQUIRED)
_PLANS, _CONTRACTS = frozenset(law.PLANS), frozenset(law.CONTRACTS)
_DESTINATIONS, _REGIMES = frozenset(law.DESTINATIONS), frozenset(law.REGIMES)
MAX = law.MAX_CENTS
MAX_ROWS = _parse.MAX_ROWS
# every route of the law is open to a distribution on or after the last of the effective dates (tests/test_fast.py
# checks `law.route_closed` for every route on that day): later dates need no look at the routes
ROUTES_ALL_OPEN = max(e.first for e in law.EFFECTIVE_DATES)

class _Day:
    """What the law says about one date, for every contract (the law's own functions, asked once per date)."""
    __slots__ = ("date", "routes_open", "default", "permitted", "rmd_possible")

    def __init__(self, date: _dt.date) -> None:
        self.date = date
        self.routes_open = date >= ROUTES_ALL_OPEN
        self.default = {c: law.default_regime(c, date) for c in law.CONTRACTS}
        self.permitted = frozenset((c, g) for c in law.CONTRACTS for g in law.REGIMES
                                   if law.regime_permitted(c, g, date))
        self.rmd_possible = frozenset(c for c in law.CONTRACTS if law.rmd_required_possible(c, date))


_days: dict[str, _Day] = {}   # date texts the parser's own pattern and calendar accept
_DAYS_LIMIT = 4096


def _day(text) -> _Day | None:
    """The parser's reading of a date text (`spec.parse._DATE` and the calendar), or None."""
    if type(text) is not str or not _parse._DATE.fullmatch(text):
        return None
    try:
        day = _Day(_dt.date.fromisoformat(text))
    except ValueError:
        return None
    if len(_days) >= _DAYS_LIMIT:
        _days.clear()
    _days[text] = day
    return day


def read(obj):
    """(key, money, ids, date, regime) of a request the parser certainly accepts; None to ask the parser."""
    if type(obj) is not dict or not ENABLED:
        return None
    try:
        return _read(obj)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):   # not the common request: the parser
        return None


def _read(r: dict):
    keys = r.keys()
    if not (keys <= _REQUEST_KNOWN and _REQUEST_REQUIRED <= keys):
        return None
    day = _days.get(r["date"]) or _day(r["date"])
    if day is None:
        return None
    contract = r["contract"]
    if r["plan"] not in _PLANS or contract not in _CONTRACTS:
        return None
    balance, basis = r["balance"], r["basis"]
    if type(balance) is not int or type(basis) is not int or not (0 <= balance <= MAX and 0 <= basis <= MAX):
        return None
    pre1987 = rmd = other = 0
    qualified = hardship = False
    if len(keys) > _N_REQUIRED:   # optional fields given
        if "recipient" in r and r["recipient"] != "participant":   # another recipient: the parser's to read
            return None
        pre1987 = r.get("pre1987_basis", 0)
        rmd = r.get("rmd", 0)
        other = r.get("other_eligible_this_year", 0)
        if type(pre1987) is not int or type(rmd) is not int or type(other) is not int \
                or not (0 <= pre1987 <= MAX and 0 <= rmd <= MAX and 0 <= other <= MAX):
            return None
        qualified = r.get("qualified_roth", False)
        hardship = r.get("hardship", False)
        if (qualified is not True and qualified is not False) or (hardship is not True and hardship is not False):
            return None
        if contract == "designated_roth":
            if pre1987 != 0:
                return None
        elif qualified:
            return None
        if rmd and contract not in day.rmd_possible:
            return None

    rows = r["disbursements"]
    if type(rows) is not list or len(rows) > MAX_ROWS:
        return None
    ids = []
    money = [balance, basis, pre1987, rmd, other]
    offsets = []
    row_keys = []
    direct_ids = []
    rolled = []   # (path, to, accepts) of every rollover, for `law.route_closed` (paths only name an error)
    paid = 0
    qualified_offset = False
    for d in rows:
        if type(d) is not dict:
            return None
        row_id, amount = d["id"], d["amount"]
        if type(row_id) is not str or not row_id or type(amount) is not int or not 0 <= amount <= MAX:
            return None
        if d["method"] == "direct":
            keys = d.keys()
            if not (keys <= _DIRECT_KNOWN and _DIRECT_REQUIRED <= keys) or amount == 0:
                return None
            to = d["to"]
            accepts = d.get("accepts_aftertax", True)
            if to not in _DESTINATIONS or (accepts is not True and accepts is not False):
                return None
            direct_ids.append(row_id)
            rolled.append(("", to, accepts))
            row_keys.append(("direct", to, accepts, False, False))
        elif d["method"] == "paid":
            keys = d.keys()
            if not (keys <= _PAID_KNOWN and _PAID_REQUIRED <= keys):
                return None
            offset = qplo = False
            if len(keys) > _N_PAID_REQUIRED:   # an offset given
                offset = d.get("loan_offset", 0)
                qplo = d.get("qualified_plan_loan_offset", False)
                if type(offset) is not int or not 0 <= offset <= MAX or (qplo is not True and qplo is not False):
                    return None
                if qplo:
                    if offset == 0:   # no offset given, or one of 0 cents: an error of the parser's
                        return None
                    qualified_offset = True
                if offset:
                    offsets.append(offset)
            if amount == 0 and not offset:
                return None
            paid += 1
            row_keys.append(("paid", None, True, offset != 0, qplo))
        else:
            return None
        ids.append(row_id)
        money.append(amount)
    n_rows = len(ids)
    if offsets:
        money += offsets
    sixty_to = []
    if "rollovers_60_day" in r:
        sixty = r["rollovers_60_day"]
        if type(sixty) is not list or len(sixty) > MAX_ROWS:
            return None
        for x in sixty:
            if type(x) is not dict:
                return None
            keys = x.keys()
            if not (keys <= _SIXTY_KNOWN and _SIXTY_REQUIRED <= keys):
                return None
            row_id, to, amount = x["id"], x["to"], x["amount"]
            if type(row_id) is not str or not row_id or to not in _DESTINATIONS or type(amount) is not int \
                    or not 0 < amount <= MAX:
                return None
            ids.append(row_id)
            money.append(amount)
            sixty_to.append(to)
            rolled.append(("", to, False))
        if sixty_to and not paid:
            return None
    if paid > 1 or (len(ids) > 1 and len(set(ids)) != len(ids)):
        return None
    if hardship and (offsets or rolled):
        return None
    if not day.routes_open and law.route_closed(contract, r["plan"], day.date, rolled,
                                                "" if qualified_offset else None) is not None:
        return None
    if "regime" in r:
        regime = r["regime"]
        if (contract, regime) not in day.permitted:
            return None
    else:
        regime = day.default[contract]
    if "elections" not in r:
        return ((contract, regime, qualified, hardship, tuple(row_keys), tuple(sixty_to), _NO_ELECTIONS, _WHO),
                money, ids, day.date, regime)
    e = r["elections"]
    if type(e) is not dict or not e.keys() <= _ELECTIONS_KNOWN:
        return None
    position = {x: i for i, x in enumerate(ids)}
    direct = _election(e, "direct_pretax_order", "direct_pretax_amounts", set(direct_ids), position, 0, n_rows,
                       ids, money)
    if direct is None or (regime == law.OLD and (direct[0] is not None or direct[1] is not None)):
        return None
    sixty = _election(e, "sixty_day_pretax_order", "sixty_day_pretax_amounts", set(ids[n_rows:]), position, n_rows,
                      len(ids), ids, money)
    if sixty is None:
        return None
    return ((contract, regime, qualified, hardship, tuple(row_keys), tuple(sixty_to), direct + sixty, _WHO),
            money, ids, day.date, regime)


_NO_ELECTIONS = (None, None, None, None)
# the participant as recipient, no box 7 age code, no box 11 (`reference.compiled.who`): a request with contract 1.2's
# `recipient` or `participant` fields goes to the parser (they are not in _REQUEST_KNOWN)
_WHO = ("participant", None, False)


def _election(e: dict, order_key: str, amounts_key: str, allowed: set, position: dict, first: int, end: int,
              ids: list, money: list):
    """(order positions, rows with an amount) of one kind's election as `shape_key` has them, appending the elected
    amounts to `money` in row order; None when the parser would reject it."""
    if order_key in e:
        if amounts_key in e:
            return None
        order = e[order_key]
        if type(order) is not list or len(order) > MAX_ROWS:
            return None
        for x in order:
            if type(x) is not str or x not in allowed:
                return None
        if len(set(order)) != len(order):
            return None
        return tuple(position[x] for x in order), None
    if amounts_key in e:
        amounts = e[amounts_key]
        if type(amounts) is not dict:
            return None
        for x, v in amounts.items():
            if type(x) is not str or x not in allowed or type(v) is not int or not 0 <= v <= MAX:
                return None
        money += [amounts[ids[i]] for i in range(first, end) if ids[i] in amounts]
        return None, tuple(sorted(position[x] for x in amounts))
    return None, None


def request(obj: dict, date: _dt.date, regime: str) -> Request:
    """The `Request` `parse_request(obj)` builds, for an `obj` that `read` accepted (with the date and regime it
    gave): no check is made here."""
    r = obj
    disbursements = []
    for d in r["disbursements"]:
        if d["method"] == "direct":
            disbursements.append(Disbursement(id=d["id"], method="direct", amount=d["amount"], to=d["to"],
                                              accepts_aftertax=d.get("accepts_aftertax", True)))
        else:
            disbursements.append(Disbursement(id=d["id"], method="paid", amount=d["amount"],
                                              loan_offset=d.get("loan_offset", 0),
                                              qualified_plan_loan_offset=d.get("qualified_plan_loan_offset", False)))
    sixty = tuple(Rollover60(id=x["id"], to=x["to"], amount=x["amount"]) for x in r.get("rollovers_60_day", ()))
    e = r.get("elections")
    elections = Elections(**{k: (tuple(v) if k.endswith("_order") else dict(v)) for k, v in e.items()}) if e \
        else Elections()
    return Request(date=date, plan=r["plan"], contract=r["contract"], balance=r["balance"], basis=r["basis"],
                   disbursements=tuple(disbursements), pre1987_basis=r.get("pre1987_basis", 0),
                   qualified_roth=r.get("qualified_roth", False), rmd=r.get("rmd", 0),
                   hardship=r.get("hardship", False), regime=regime, rollovers_60_day=sixty, elections=elections,
                   other_eligible_this_year=r.get("other_eligible_this_year", 0))
