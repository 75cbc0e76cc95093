"""The parser against the contract's structural rules (`spec.validity.structure_problem`), shape by shape.

The z3 obligations are about requests the parser has accepted; whether it accepts the right ones is a question
about structure, not money (which rows exist, their methods and destinations, the elections, the flags, the date).
For every shape of a run this module builds one wire request of the shape and, from it, each structurally
invalid variant the contract names (two payments, a repeated id, 60-day rollovers without a payment, a hardship
distribution with a direct or a 60-day rollover, a direct election under the old rule, a route that did not exist
yet on the date, a lifetime RMD from a designated Roth account after April 1, 2024). The parser must give exactly
the code `structure_problem` gives, and accept the shape's own request.

This is a check of one request per case, not a proof: the parser is Python that z3 does not read (it is in the
trusted base, REPORT.md). It runs with `rollsplit prove` so that a parser that accepts what the contract rejects
fails the run with the request that shows it ("parse" results, counted apart from the proofs).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from rollsplit.solver.regions import wire_request
from rollsplit.solver.z3_backend import Shape
from rollsplit.spec.errors import RequestError
from rollsplit.spec.parse import parse_request
from rollsplit.spec.validity import structure_problem


def sample_values(shape: Shape) -> dict[str, int]:
    """Money that passes every range rule (structure is what is under test): $1,000.00 rows, a large balance."""
    from rollsplit.solver.z3_backend import symbolic_request
    names = symbolic_request(shape).variables
    values = {k: 100_000 for k in names}
    values.update({k: v for k, v in (("balance", 10**10), ("basis", 0), ("pre1987_basis", 0), ("rmd", 0),
                                     ("other_eligible_this_year", 0)) if k in names})
    if "participant.first_roth_contribution_year" in names:   # a year that agrees with qualified_roth
        low, high = shape.box11_years()
        values["participant.first_roth_contribution_year"] = low if shape.qualified_roth else high
    return values


def _redated(o: dict, **change) -> None:
    """A variant on another date or qualification: without the participant's facts, which were chosen to agree
    with the shape's own date (a variant is about the structure it changes, not about the facts)."""
    o.update(change)
    o.pop("participant", None)


def variants(shape: Shape) -> list[tuple[str, dict]]:
    """(what was changed, wire request): the shape's own request, then each structurally invalid variant of it."""
    base = wire_request(shape, sample_values(shape))
    out = [("as the shape", base)]

    def variant(what: str, change: Callable[[dict], Any]) -> None:
        obj = copy.deepcopy(base)
        if change(obj) is not False:
            out.append((what, obj))

    rows = base["disbursements"]
    paid = [r for r in rows if r["method"] == "paid"]
    direct = [r for r in rows if r["method"] == "direct"]
    if paid:
        variant("a second payment", lambda o: o["disbursements"].append(
            {"id": "paid2", "method": "paid", "amount": 100_000}))
        if base.get("rollovers_60_day"):
            variant("the payment removed, the 60-day rollovers kept", lambda o: o.update(
                disbursements=[r for r in o["disbursements"] if r["method"] != "paid"]) if direct else False)
            variant("a hardship distribution with a 60-day rollover", lambda o: o.update(
                hardship=True, disbursements=[r for r in o["disbursements"] if r["method"] == "paid"]))
    if len(rows) + len(base.get("rollovers_60_day") or []) > 1:
        def repeat_id(o):
            everything = o["disbursements"] + (o.get("rollovers_60_day") or [])
            everything[-1]["id"] = everything[0]["id"]
            o.pop("elections", None)   # the elections name ids: keep the variant about the repeated id only
        variant("one id used twice", repeat_id)
    if direct:
        variant("a hardship distribution with a direct rollover", lambda o: o.update(hardship=True))
        if shape.regime == "notice_2009_68":
            variant("a direct election under the old rule", lambda o: o.setdefault("elections", {}).update(
                direct_pretax_order=[direct[0]["id"]]))
        if shape.contract == "pretax_aftertax":
            variant("a direct rollover to a Roth IRA dated 2007", lambda o: _redated(
                o, date="2007-06-30", regime="notice_2014_54") or next(
                    r for r in o["disbursements"] if r["method"] == "direct").update(to="roth_ira"))
    variant("the earlier rule asked for in 2025", lambda o: _redated(o, date="2025-06-30", regime="notice_2009_68"))
    if direct and shape.regime == "notice_2014_54":
        ids = [r["id"] for r in direct]
        variant("an order and amounts for the same direct rollovers", lambda o: o.update(elections={
            "direct_pretax_order": ids, "direct_pretax_amounts": {ids[0]: 0}}))
        variant("an order naming one direct rollover twice", lambda o: o.update(elections={
            "direct_pretax_order": [ids[0], ids[0]]}))
        if paid:
            variant("an order naming the payment", lambda o: o.update(elections={
                "direct_pretax_order": [paid[0]["id"]]}))
    if shape.contract == "designated_roth" and paid:
        variant("a lifetime RMD from a designated Roth account in 2025", lambda o: _redated(
            o, date="2025-06-30", rmd=1, regime="notice_2014_54", qualified_roth=False))
    if paid and shape.recipient == "nonspouse_beneficiary":
        variant("a nonspouse beneficiary's 60-day rollover", lambda o: o.update(rollovers_60_day=[
            {"id": "s9", "to": "traditional_ira", "amount": 1}]))
        variant("a nonspouse beneficiary's distribution in 2010", lambda o: _redated(
            o, date="2010-06-30", regime="notice_2009_68" if o["contract"] == "designated_roth" else "notice_2014_54",
            qualified_roth=False))
    return out


@dataclass
class ParseCheck:
    shape: str
    what: str
    request: dict
    expected: str | None          # the contract's code, None: accepted
    got: str | None               # the parser's code, None: accepted
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        self.ok = self.expected == self.got


def check_shape(shape: Shape, parse: Callable[[Any], Any] = parse_request) -> list[ParseCheck]:
    out = []
    for what, obj in variants(shape):
        expected = structure_problem(obj)
        try:
            parse(obj)
            got = None
        except RequestError as e:
            got = e.code
        out.append(ParseCheck(shape.name(), what, obj, expected, got))
    return out
