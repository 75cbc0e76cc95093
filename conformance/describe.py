"""What a vector is about, for a person: its description in the law's words and dollars, its request as compact
JSON, the reason and citations of an expected error, and what it pins down.

The vectors generated from the behaviour regions of the reference (flags Region, Boundary, ValueCheck) carry a
description written for the suite's maintainers (the region's key and the request shape's internal name). Their
description for a person is written here, at report time, from the data of the vector itself: its request and its
expected answer. It names the situation (the account, the disbursements, the date and the rule that governs it) and
what sets the region apart: which amount is larger than which (the pre-tax money and what the direct rollovers can
hold, the RMD and the after-tax money of the payment, the 60-day rollovers and the payment's pre-tax money, the
year's eligible payments and the $200 floor of withholding), and for a boundary vector the amounts that are exactly
equal. Nothing here changes a vector or its expected answer. Money is formatted from integer cents, never floats.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from rollsplit.spec import law
from rollsplit.spec.money import money
from rollsplit.spec.words import (DESTINATION_NAMES, DESTINATION_SHORT, PLAN_NAMES, RECIPIENT_NAMES, REGIME_NAMES,
                                  destination_words, long_date)

LONG_REQUEST = 2_000   # characters of compact request JSON shown in a failure block; the JSON report has it all




def is_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def cents_and_dollars(value: Any) -> str:
    """A JSON value of an answer as the report shows it: integers (every number of the contract is cents) with their
    dollars beside them, `6000000 ($60,000.00)`; anything else as compact JSON."""
    if is_cents(value):
        return f"{value} ({money(value)})"
    return shown(value)


def shown(value: Any, limit: int = 120) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def compact(vector) -> str:
    """The vector's request as one line of compact JSON (a malformed-JSON vector: its raw text)."""
    if vector.request_text is not None:
        return vector.request_text
    return json.dumps(vector.request, ensure_ascii=False, separators=(",", ":"))


# ---- the law's names ------------------------------------------------------------------------------------------
DESTINATIONS, SHORT, PLANS, REGIMES = DESTINATION_NAMES, DESTINATION_SHORT, PLAN_NAMES, REGIME_NAMES
_date = long_date


def _row(d, recipient: str = "participant") -> str:
    if d.method == "paid":
        return f"a payment of {money(d.amount)} to {RECIPIENT_NAMES[recipient]} ({d.id})"
    return f"a direct rollover of {money(d.amount)} to {destination_words(d)} ({d.id})"


def _and(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _compare(a: int, b: int, less: str, equal: str, more: str) -> tuple[str, bool]:
    """The phrase for a <, = or > b, and whether it is an equality (a boundary's edge)."""
    return (less, False) if a < b else ((equal, True) if a == b else (more, False))


# ---- the situation and what sets a region apart -------------------------------------------------------------------
def situation(req) -> str:
    """One sentence: the account, the date and rule, and every disbursement and 60-day rollover, in dollars."""
    kind = "Roth contributions" if req.contract == "designated_roth" else "after-tax money"
    account = ("a designated Roth account" if req.contract == "designated_roth" else "an account") + \
        f" in {PLANS[req.plan]} of {money(req.balance)}, " + \
        (f"{money(req.basis)} of it {kind} (basis)" if req.basis else f"with no {kind}")
    if req.pre1987_basis:
        account += f", {money(req.pre1987_basis)} of that from before 1987"
    extras = []
    if req.qualified_roth:
        extras.append("a qualified distribution")
    if req.hardship:
        extras.append("a hardship distribution")
    if req.rmd:
        extras.append(f"a required minimum distribution of {money(req.rmd)}")
    rows = [_row(d, req.recipient) for d in req.disbursements]
    for d in req.disbursements:
        if d.loan_offset:
            rows.append(f"a {'qualified ' if d.qualified_plan_loan_offset else ''}plan loan offset of "
                        f"{money(d.loan_offset)} with the payment")
    rows += [f"a 60-day rollover of {money(x.amount)} to {DESTINATIONS[x.to]} ({x.id})" for x in req.rollovers_60_day]
    if req.other_eligible_this_year:
        rows.append(f"{money(req.other_eligible_this_year)} of other eligible payments from the plan this year")
    elections = req.elections
    if elections.direct_pretax_order or elections.sixty_day_pretax_order:
        rows.append("the participant's election of the order in which pre-tax money fills the rollovers")
    if elections.direct_pretax_amounts is not None or elections.sixty_day_pretax_amounts is not None:
        rows.append("the participant's election of the pre-tax amount of each rollover")
    head = f"From {account}, on {_date(req.date)} under {REGIMES.get(req.regime, req.regime)}"
    if extras:
        head += f" ({_and(extras)})"
    return f"{head}: {_and(rows)}."


def region_facts(req, result: dict) -> list[tuple[str, bool]]:
    """What sets the request's region apart, in words, each with whether it is an equality (a boundary's edge).
    Read from the request and the expected answer (and the reference's own intermediate amounts)."""
    from rollsplit.reference import compute_outcome
    out = compute_outcome(req)
    res = out.result
    facts: list[tuple[str, bool]] = []
    D, P, T = res.amount, res.pretax, res.aftertax
    if req.basis == 0:
        facts.append(("there is no after-tax money in the account", False))
    elif req.basis == req.balance:
        facts.append(("the whole account is after-tax money (the basis equals the balance)", True))
    if D == req.balance:
        facts.append(("the whole balance is distributed, so the whole basis is recovered", True))
    den = req.balance - req.pre1987_basis
    pre = min(D, req.pre1987_basis)
    if req.pre1987_basis:
        facts.append(_compare(D, req.pre1987_basis,
                              f"the distribution ({money(D)}) is less than the pre-1987 basis: all of it is basis",
                              f"the distribution equals the pre-1987 basis ({money(D)}): all of it is basis",
                              "the distribution is more than the pre-1987 basis, which comes out first; the rest is "
                              "shared pro rata"))
    if den and (D - pre) * (req.basis - req.pre1987_basis) % den and not (req.qualified_roth):
        facts.append(("the pro rata share of after-tax money is not a whole number of cents and is rounded half up",
                      False))
    rows = list(zip(req.disbursements, res.disbursements))
    directs = [(d, r) for d, r in rows if d.method == "direct"]
    paid = next(((d, r) for d, r in rows if d.method == "paid"), None)
    reserve = max(0, req.rmd - T)
    if res.regime == law.NEW and directs:
        cap = sum(d.amount for d, _ in directs)
        if P == 0:
            facts.append(("with no pre-tax money the direct rollovers carry after-tax money only", False))
        else:
            room = P - reserve
            what = "the pre-tax money" + (" not kept for the RMD" if reserve else "")
            facts.append(_compare(room, cap,
                                  f"{what} ({money(room)}) is less than the direct rollovers ({money(cap)}): they "
                                  "take all of it and some after-tax money",
                                  f"{what} exactly fills the direct rollovers ({money(cap)})",
                                  f"{what} ({money(room)}) is more than the direct rollovers hold ({money(cap)}): "
                                  "the rest stays in the payment"))
        for d, r in directs:
            where = f"the {SHORT[d.to]} ({d.id})"
            if r.pretax == d.amount and r.aftertax == 0:
                kind = "takes only pre-tax money"
            elif r.pretax == 0:
                kind = "takes only after-tax money"
            else:
                kind = f"takes {money(r.pretax)} of pre-tax and {money(r.aftertax)} of after-tax money"
            if r.taxable:
                kind += f", taxable as a conversion ({money(r.taxable)})"
            facts.append((f"{where} {kind}", False))
    elif res.regime == law.OLD and len(rows) > 1:
        exact = all((T * d.distributed) % D == 0 for d, _ in rows) if D else True
        facts.append(("each disbursement carries its own pro rata share of the after-tax money"
                      + ("" if exact else ", the leftover cents going to the largest remainders"), False))
    if req.rmd and paid:
        d, r = paid
        facts.append(_compare(r.aftertax, req.rmd,
                              f"the after-tax money in the payment ({money(r.aftertax)}) does not cover the RMD "
                              f"({money(req.rmd)}): {money(out.rmd_pretax)} of the RMD is pre-tax money that may not "
                              "be rolled over",
                              f"the after-tax money in the payment exactly covers the RMD ({money(req.rmd)})",
                              f"the after-tax money in the payment ({money(r.aftertax)}) covers the RMD "
                              f"({money(req.rmd)})"))
    if req.rollovers_60_day and paid:
        d, r = paid
        total = sum(x.amount for x in req.rollovers_60_day)
        rollable = r.pretax - out.rmd_pretax
        facts.append(_compare(total, rollable,
                              f"the 60-day rollovers ({money(total)}) are less than the payment's pre-tax money that "
                              f"may be rolled over ({money(rollable)}): they are all pre-tax",
                              f"the 60-day rollovers take exactly the payment's pre-tax money that may be rolled over "
                              f"({money(total)})",
                              f"the 60-day rollovers ({money(total)}) are more than the payment's pre-tax money that "
                              f"may be rolled over ({money(rollable)}): they carry after-tax money too"))
    if paid and not req.hardship:
        d, r = paid
        year = d.distributed - req.rmd + req.other_eligible_this_year
        floor = law.WITHHOLDING_DE_MINIMIS
        facts.append(_compare(year, floor,
                              f"the eligible payments of the year ({money(year)}) are under {money(floor)}: nothing "
                              "is withheld",
                              f"the eligible payments of the year are exactly {money(floor)}, the least that is "
                              "withheld from",
                              f"the eligible payments of the year ({money(year)}) reach {money(floor)}, so 20% of the "
                              f"taxable part is withheld ({money(r.withholding)})" if r.withholding else
                              f"the eligible payments of the year ({money(year)}) reach {money(floor)}, but the "
                              "payment has no taxable part that may be rolled over to withhold from"))
        if d.loan_offset and r.withholding:
            facts.append(("no more than the cash paid is withheld", False))
    elif req.hardship:
        facts.append(("a hardship distribution may not be rolled over and is not withheld from", False))
    facts.append((f"taxable income {money(res.taxable_income)}", False))
    return facts


def _error_sentence(code: str) -> str:
    from rollsplit.spec.errors import ERROR_CODES
    return ERROR_CODES.get(code, "")


def plain_description(vector) -> str:
    """The description a person reads. Vectors generated from a behaviour region, a boundary or a value check get
    one written from their request and expected answer; the others keep their own (wording for the suite's
    maintainers removed). Never raises."""
    origin = vector.origin.split(":", 1)[0]
    try:
        if origin in ("region", "boundary", "value-check") and isinstance(vector.request, dict):
            return _generated(vector, origin)
    except Exception:   # a request this description does not know how to read: the vector's own text
        pass
    return re.sub(r" \(seed \d+\)", "", vector.description)


def _generated(vector, origin: str) -> str:
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_request
    req = parse_request(vector.request)
    where = situation(req)
    if "error" in vector.expected:
        code = vector.expected["error"]
        message = _reference_message(vector)
        text = (f"{where} It is rejected with {code} ({_error_sentence(code)}), every earlier check passing"
                + (f": {message}" if message else "."))
        return text if text.endswith(".") else text + "."
    try:
        facts = region_facts(req, vector.expected["result"])
    except RequestError:
        return where
    edges = [f for f, edge in facts if edge]
    if origin == "boundary" and edges:
        rest = [f for f, edge in facts if not edge]
        return (f"{where} At the edge between two behaviours: {'; '.join(edges)}. Besides: {'; '.join(rest)}.")
    return f"{where} What sets this case apart: {'; '.join(f for f, _ in facts)}."


def _reference_message(vector) -> str:
    from rollsplit.reference import calculate, calculate_text
    answer = calculate_text(vector.request_text) if vector.request_text is not None else calculate(vector.request)
    error = answer.get("error") if isinstance(answer, dict) else None
    return error.get("message", "") if isinstance(error, dict) else ""


# ---- expected errors: the reason and the law ----------------------------------------------------------------------
def error_citations(code: str) -> list[dict]:
    """The rules of the contract and of the law behind an error code (`spec.invariants.ERROR_CITATIONS`)."""
    from rollsplit.spec import invariants
    out = []
    for name in invariants.ERROR_CITATIONS.get(code, ()):
        c = getattr(invariants, name)
        out.append({"source": c.source, "pinpoint": c.pinpoint, "quote": c.quote})
    return out


def expected_error(vector) -> dict | None:
    """For a vector that expects an error: its code, what the code means, the reference's message for this very
    request (the reason), and the citations of the rule behind it. None for a vector that expects a result."""
    code = vector.expected.get("error") if isinstance(vector.expected, dict) else None
    if not isinstance(code, str):
        return None
    try:
        message = _reference_message(vector)
    except Exception:
        message = ""
    return {"code": code, "meaning": _error_sentence(code), "reason": message, "citations": error_citations(code)}


def citation_line(c: dict) -> str:
    return f"{c.get('source', '')} {c.get('pinpoint', '')}".strip()


# ---- what a vector pins down ----------------------------------------------------------------------------------
def _cents_fields(obj: Any, keys: tuple = ()) -> Iterator[tuple]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if is_cents(v):
                yield keys + (k,)
            else:
                yield from _cents_fields(v, keys + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _cents_fields(v, keys + (i,))


def _path_text(keys: tuple) -> str:
    out = ""
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else k)
    return out


def pinned_rules(vector) -> list[tuple[str, str, str, list[str]]]:
    """What the vector pins down: each rule of the law (id, statement, citation) that an answer a cent off in one of
    its fields would break, with those fields. Empty for a vector that expects an error."""
    if not isinstance(vector.request, dict) or "result" not in vector.expected:
        return []
    import copy
    from rollsplit.conformance.oracle import broken_invariants, parse_answer
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_request
    try:
        req = parse_request(vector.request)
    except RequestError:
        return []
    expected = vector.expected["result"]
    found: dict[str, tuple[Any, list[str]]] = {}
    for keys in _cents_fields(expected):
        for delta in (1, -1):
            answer = copy.deepcopy(expected)
            holder = answer
            for k in keys[:-1]:
                holder = holder[k]
            if holder[keys[-1]] + delta < 0:
                continue
            holder[keys[-1]] += delta
            res, problems = parse_answer(req, answer)
            if res is None:
                continue
            for inv in broken_invariants(req, res):
                fields = found.setdefault(inv.id, (inv, []))[1]
                text = _path_text(keys)
                if text not in fields:
                    fields.append(text)
    return [(inv.id, inv.statement, inv.citation(), fields) for inv, fields in found.values()]


# ---- a failure, as the reports show it ----------------------------------------------------------------------
def failure_reason(vector, verdict) -> str:
    """What is wrong with an answer: the oracle's explanation with dollars beside cents, and for a vector that
    expects an error, why the request is rejected and the rule behind it."""
    text = verdict.explain(dollars=True)
    wanted = expected_error(vector)
    if wanted is not None:
        lines = [text]
        if wanted["reason"]:
            lines.append(f"why it is rejected: {wanted['reason']}")
        lines.append(f"{wanted['code']} means: {wanted['meaning']}")
        lines += [f"the rule: {citation_line(c)}: \"{c['quote']}\"" for c in wanted["citations"]]
        text = "\n".join(lines)
    return text


def request_line(vector) -> str:
    """`request: {...}` (compact JSON, cut at `LONG_REQUEST` characters) for a failure block."""
    text = compact(vector)
    label = "request (raw text)" if vector.request_text is not None else "request"
    if len(text) > LONG_REQUEST:
        text = text[:LONG_REQUEST] + f"... ({len(text) - LONG_REQUEST} more characters; see the JSON report)"
    return f"{label}: {text}"


def outcome_extra(outcome) -> dict:
    """What a JSON report line adds about its vector: the description for a person and the features; for a failed
    or errored vector the request, the citations, and for an expected error its reason and rule."""
    v = outcome.vector
    out: dict[str, Any] = {"description": plain_description(v), "features": list(v.features)}
    if outcome.status in ("failed", "errored"):
        if v.request_text is not None:
            out["request_text"] = v.request_text
        else:
            out["request"] = v.request
        out["citations"] = list(v.citations)
        wanted = expected_error(v)
        if wanted is not None:
            out["expected_error"] = wanted
    return out


def dollars_of_diff(entry: dict) -> dict:
    """A diff of the JSON report with `expected_dollars` and `got_dollars` beside integer (cents) values."""
    for key in ("expected", "got"):
        if is_cents(entry.get(key)):
            entry[f"{key}_dollars"] = money(entry[key])
    return entry
