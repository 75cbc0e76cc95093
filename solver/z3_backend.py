"""z3 execution of the reference algorithm and the invariants.

`Z3Arith` implements `spec.arith.Arith` on z3 integer terms and records every branch condition the
algorithm creates (each min, max and ite), which `solver.regions` uses to enumerate behaviour regions.
`Shape` is the structure of a request (everything the algorithm branches on in Python);
`symbolic_request(shape)` builds a `Request` of that shape whose money fields are z3 Ints, with the
wire contract's range constraints.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import z3

from rollsplit.spec import law
from rollsplit.spec.ages import FIRST_ROTH_YEAR, Participant
from rollsplit.spec.model import (Disbursement, DisbursementResult, Elections, Form1099R, Request, Result,
                        Rollover60, Rollover60Result)


# a null box 7 code as a z3 string: no code of the instructions, and not "" (which a writer could print)
NULL_TEXT = "<null>"


def _is_text(x) -> bool:
    return x is None or isinstance(x, str) or isinstance(x, z3.SeqRef)


def text(x):
    """A Python string or None as a z3 string; z3 strings as they are."""
    if isinstance(x, z3.ExprRef):
        return x
    return z3.StringVal(NULL_TEXT if x is None else x)


class Z3Arith:
    """Arith on z3 Int terms. Division by a non-constant is z3's integer division under a z3 If guard."""

    def __init__(self, record: bool = True) -> None:
        self.true = z3.BoolVal(True)
        self.false = z3.BoolVal(False)
        self.record = record
        self.conditions: list[z3.BoolRef] = []   # branch conditions, in creation order

    def _note(self, c):
        if self.record and not isinstance(c, bool):
            self.conditions.append(c)
        return c

    @staticmethod
    def _v(x):
        return z3.IntVal(x) if isinstance(x, int) else x

    def le(self, a, b):
        return self._v(a) <= self._v(b)

    def lt(self, a, b):
        return self._v(a) < self._v(b)

    def eq(self, a, b):
        if _is_text(a) or _is_text(b):   # ids, box 7 codes, the regime: z3 strings (NULL_TEXT stands for null)
            if not (isinstance(a, z3.ExprRef) or isinstance(b, z3.ExprRef)):
                return z3.BoolVal(a == b)
            return text(a) == text(b)
        return self._v(a) == self._v(b)

    def and_(self, *cs):
        return z3.And(*cs) if cs else self.true

    def or_(self, *cs):
        return z3.Or(*cs) if cs else self.false

    def not_(self, c):
        return z3.Not(c)

    def implies(self, a, b):
        return z3.Implies(a, b)

    def ite(self, c, a, b):
        if isinstance(c, bool):
            return a if c else b
        self._note(c)
        return z3.If(c, self._v(a), self._v(b))

    def min(self, a, b):
        c = self._note(self.le(a, b))
        return z3.If(c, self._v(a), self._v(b))

    def max(self, a, b):
        c = self._note(self.le(b, a))
        return z3.If(c, self._v(a), self._v(b))

    def floordiv(self, a, b):
        if isinstance(b, int):
            return self._v(a) / b if b > 0 else z3.IntVal(0)
        c = self._note(self._v(b) > 0)
        return z3.If(c, self._v(a) / self._v(b), z3.IntVal(0))

    def round_half_up(self, x, y, z):
        return self.floordiv(2 * self._v(x) * y + z, 2 * self._v(z) if not isinstance(z, int) else 2 * z)


def partial_reversed(n: int) -> tuple[int, ...]:
    """An order election listing all but the first row, last first: exercises 'listed, then the rest'."""
    return tuple(range(n - 1, 0, -1)) or tuple(range(n))


@dataclass(frozen=True)
class Shape:
    """The structure of a request: what the algorithm branches on in Python. Money is left symbolic."""
    contract: str = "pretax_aftertax"
    regime: str = law.NEW
    directs: tuple[tuple[str, bool], ...] = (("traditional_ira", True),)   # (to, accepts_aftertax)
    paid: bool = True
    sixty: tuple[str, ...] = ()
    qualified_roth: bool = False
    hardship: bool = False
    rmd: bool = False
    pre1987: bool = False
    direct_election: str | None = None          # None | "order" | "amounts"
    direct_order: tuple[int, ...] = ()           # indices into directs, for "order"
    sixty_election: str | None = None
    sixty_order: tuple[int, ...] = ()
    loan_offset: str | None = None               # None | "offset" | "qualified": a plan loan offset on the payment
    paid_at: int | None = None                   # the payment's place among the disbursements (None: last)
    # contract 1.2: who receives the money, the box 7 code for the recipient's age or event (the participant's facts
    # that give it are chosen by `facts`), and whether box 11 is written (its year is a variable, like money)
    recipient: str = "participant"
    event: str | None = None
    box11: bool = False

    def name(self) -> str:
        parts = [self.contract + ("+qualified" if self.qualified_roth else ""), self.regime,
                 f"{len(self.directs)}d" + ("+paid" if self.paid else "")
                 + (f"@{self.paid_at}" if self.paid and self.paid_at is not None else ""), f"{len(self.sixty)}s"]
        for flag in ("hardship", "rmd", "pre1987"):
            if getattr(self, flag):
                parts.append(flag)
        if self.loan_offset:
            parts.append("qplo" if self.loan_offset == "qualified" else "loan-offset")
        for kind, election, order, n in (("direct", self.direct_election, self.direct_order, len(self.directs)),
                                         ("sixty", self.sixty_election, self.sixty_order, len(self.sixty))):
            if election:   # an order other than the usual one ("listed, then the rest") is named
                usual = election != "order" or order == partial_reversed(n)
                parts.append(f"{kind}-{election}" + ("" if usual else "=" + "-".join(map(str, order))))
        if self.recipient != "participant":
            parts.append(self.recipient)
        if self.event is not None:
            parts.append(f"code-{self.event}")
        if self.box11:
            parts.append("box11")
        parts.append("to=" + ",".join(t if a else t + "(no-at)" for t, a in self.directs))
        if self.sixty:
            parts.append("60=" + ",".join(self.sixty))
        return "/".join(parts)

    def facts(self) -> dict:
        """The participant's facts (wire form) that give this shape's box 7 event code on its date."""
        on = self.date()
        if self.event is None or self.event == "4":
            return {}
        if self.event == "7":
            return {"birth_date": _dt.date(on.year - 70, 1, 1).isoformat()}
        if self.event == "2" and self.recipient == "participant":   # separated in or after the year of 55
            return {"birth_date": _dt.date(on.year - 57, 1, 1).isoformat(),
                    "separation_date": _dt.date(on.year - 1, 1, 1).isoformat()}
        facts = {"birth_date": _dt.date(on.year - 40, 1, 1).isoformat()}
        if self.event == "3":
            facts["disabled"] = True
        return facts

    def box11_years(self) -> tuple[int, int]:
        """The first years of designated Roth contributions consistent with the shape's qualified_roth (§402A(d)(2):
        a qualified distribution comes after the 5-taxable-year period; one within it is not qualified)."""
        on = self.date()
        return (FIRST_ROTH_YEAR, on.year - 5) if self.qualified_roth else (on.year - 4, on.year)

    def date(self) -> _dt.date:
        """A date on which this shape's regime is permitted for its contract (and, for a designated Roth
        account with an RMD, a year that still has lifetime RMDs: before 2024, §402A(d)(5))."""
        if self.regime == law.OLD:
            return _dt.date(2014, 6, 30)
        if self.contract == "designated_roth" and self.rmd:
            return _dt.date(2023, 6, 30)
        return _dt.date(2025, 6, 30)


@dataclass
class SymbolicRequest:
    request: Request
    variables: dict[str, z3.ArithRef] = field(default_factory=dict)
    ranges: list[z3.BoolRef] = field(default_factory=list)   # 0 <= money <= 2^53-1 (rows: 1 <= amount)


def symbolic_request(shape: Shape, prefix: str = "") -> SymbolicRequest:
    """A request of `shape` whose money fields are fresh z3 Ints (named `prefix` + field path)."""
    sr = SymbolicRequest(request=None)  # type: ignore[arg-type]

    def money(name: str, low: int = 0) -> z3.ArithRef:
        v = z3.Int(prefix + name)
        sr.variables[name] = v
        sr.ranges.append(z3.And(v >= low, v <= law.MAX_CENTS))
        return v

    # contract 1.1: a row of 0 cents is rejected by the parser (zero_amount), so every row holds a cent or more
    rows = [Disbursement(id=f"d{i}", method="direct", amount=money(f"d{i}.amount", 1), to=to, accepts_aftertax=acc)
            for i, (to, acc) in enumerate(shape.directs)]
    at = len(rows) if shape.paid_at is None else shape.paid_at
    if shape.paid and shape.loan_offset:
        # a payment with a plan loan offset of a cent or more: its cash may be 0 (contract 1.1)
        rows.insert(at, Disbursement(id="paid", method="paid", amount=money("paid.amount"),
                                 loan_offset=money("paid.loan_offset", 1),
                                 qualified_plan_loan_offset=shape.loan_offset == "qualified"))
    elif shape.paid:
        rows.insert(at, Disbursement(id="paid", method="paid", amount=money("paid.amount", 1)))
    sixty = tuple(Rollover60(id=f"s{j}", to=to, amount=money(f"s{j}.amount", 1)) for j, to in enumerate(shape.sixty))
    e: dict = {}
    if shape.direct_election == "order":
        e["direct_pretax_order"] = tuple(f"d{i}" for i in shape.direct_order)
    elif shape.direct_election == "amounts":
        e["direct_pretax_amounts"] = {f"d{i}": money(f"elect.d{i}") for i in range(len(shape.directs))}
    if shape.sixty_election == "order":
        e["sixty_day_pretax_order"] = tuple(f"s{j}" for j in shape.sixty_order)
    elif shape.sixty_election == "amounts":
        e["sixty_day_pretax_amounts"] = {f"s{j}": money(f"elect.s{j}") for j in range(len(shape.sixty))}
    facts = Participant()
    if shape.box11:
        year = z3.Int(prefix + "participant.first_roth_contribution_year")
        sr.variables["participant.first_roth_contribution_year"] = year
        low, high = shape.box11_years()
        sr.ranges.append(z3.And(year >= low, year <= high))
        facts = Participant(first_roth_contribution_year=year)
    sr.request = Request(
        recipient=shape.recipient, event_code=shape.event, participant=facts,
        date=shape.date(), plan="401a", contract=shape.contract,
        balance=money("balance"), basis=money("basis"), disbursements=tuple(rows),
        pre1987_basis=money("pre1987_basis") if shape.pre1987 else 0,
        qualified_roth=shape.qualified_roth, rmd=money("rmd") if shape.rmd else 0, hardship=shape.hardship,
        regime=shape.regime, rollovers_60_day=sixty, elections=Elections(**e),
        # only a payment that is not a hardship distribution is withheld from: elsewhere the field changes nothing
        other_eligible_this_year=money("other_eligible_this_year") if shape.paid and not shape.hardship else 0)
    return sr


def fresh_result(req: Request, tag: str = "X") -> tuple[Result, list[z3.ExprRef]]:
    """A Result of `req`'s structure whose every field is a fresh z3 constant (named by position, so any row id
    is safe): money fields are Ints, and the row ids, the box 7 codes and the regime are Strings (null is NULL_TEXT).
    Also returns the fresh constants in creation order. Used for the determinacy obligations (two such results
    must agree in every field, the texts included) and by z3 as an independent executor."""
    names: list[z3.ExprRef] = []

    def v(path: str) -> z3.ArithRef:
        x = z3.Int(f"{tag}.{path}")
        names.append(x)
        return x

    def t(path: str) -> z3.SeqRef:
        x = z3.String(f"{tag}.{path}")
        names.append(x)
        return x

    rows = []
    box11 = req.contract == "designated_roth" and req.participant.first_roth_contribution_year is not None
    for i, d in enumerate(req.disbursements):
        p = f"disbursements[{i}]"
        rows.append(DisbursementResult(
            id=t(f"{p}.id"), pretax=v(f"{p}.pretax"), aftertax=v(f"{p}.aftertax"), taxable=v(f"{p}.taxable"),
            withholding=v(f"{p}.withholding"),
            form_1099r=Form1099R(box1=v(f"{p}.box1"), box2a=v(f"{p}.box2a"), box4=v(f"{p}.box4"),
                                 box5=v(f"{p}.box5"), box7=t(f"{p}.box7"),
                                 box11=v(f"{p}.box11") if box11 else None)))
    sixty = []
    for j, x in enumerate(req.rollovers_60_day):
        p = f"rollovers_60_day[{j}]"
        sixty.append(Rollover60Result(id=t(f"{p}.id"), pretax=v(f"{p}.pretax"), aftertax=v(f"{p}.aftertax"),
                                      taxable=v(f"{p}.taxable")))
    res = Result(regime=t("regime"), amount=v("amount"), pretax=v("pretax"), aftertax=v("aftertax"),
                 basis_recovered=v("basis_recovered"), disbursements=tuple(rows), rollovers_60_day=tuple(sixty),
                 taxable_income=v("taxable_income"), withholding=v("withholding"),
                 remaining_balance=v("remaining.balance"), remaining_basis=v("remaining.basis"),
                 remaining_pre1987_basis=v("remaining.pre1987_basis"))
    return res, names


def model_values(model: z3.ModelRef, variables: dict[str, z3.ArithRef]) -> dict[str, int]:
    """The integers a model gives named variables (a request's money, for instance)."""
    return {k: model.eval(v, model_completion=True).as_long() for k, v in variables.items()}


def model_wire(model: z3.ModelRef, res: Result) -> dict:
    """The wire JSON of a Result whose money fields are z3 terms, each evaluated in `model` (ids, box 7 codes
    and the regime are kept as they are)."""
    def value(x):
        if isinstance(x, dict):
            return {k: value(v) for k, v in x.items()}
        if isinstance(x, list):
            return [value(v) for v in x]
        if x is None or isinstance(x, (bool, int, str)):
            return x
        v = model.eval(x, model_completion=True)
        if isinstance(v, z3.SeqRef):
            s = v.as_string()
            return None if s == NULL_TEXT else s
        return v.as_long()
    return value(res.to_wire())
