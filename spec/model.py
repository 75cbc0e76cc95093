"""Request and Result of wire contract v1, as dataclasses.

Structural fields (ids, methods, destinations, flags, election orders) are plain Python values; money
fields are `Num`: an int when the reference runs, a z3 or sympy term when it is proved or solved in
closed form. `spec.parse` builds these from JSON; `to_wire` writes the exact field names of the contract.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from rollsplit.spec.ages import NO_FACTS, Participant
from rollsplit.spec.arith import Num

CONTRACT_VERSION = "1.2"


def frozen(cls):
    """`@dataclass(frozen=True)` whose `__init__` stores the fields straight into the instance `__dict__`.

    The `__init__` a frozen dataclass generates calls `object.__setattr__` once per field; building the ~20
    small objects of one allocation that way was a quarter of its time (py-spy, `rollsplit bench`). This
    `__init__` takes the same parameters with the same defaults, and everything else (immutability, eq, hash,
    repr, `dataclasses.replace`) is still the dataclass's own.
    """
    cls = dataclass(frozen=True)(cls)
    assert not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__")
    assert all(f.init for f in fields(cls)), "init=False fields are not supported by this __init__"
    namespace: dict[str, Any] = {"MISSING": MISSING}
    params, body = [], []
    for f in fields(cls):
        if f.default is not MISSING:
            namespace[f"default_{f.name}"] = f.default
            params.append(f"{f.name}=default_{f.name}")
        elif f.default_factory is not MISSING:
            namespace[f"factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=MISSING")
            body.append(f"if {f.name} is MISSING: {f.name} = factory_{f.name}()")
        else:
            params.append(f.name)
    body.append("d = self.__dict__")
    body += [f"d[{f.name!r}] = {f.name}" for f in fields(cls)]
    exec(f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body), namespace)
    namespace["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = namespace["__init__"]
    return cls


@frozen
class Disbursement:
    id: str
    method: str               # "direct" | "paid"
    amount: Num               # cash (or property) paid out; for a direct rollover, the amount rolled over
    to: str | None = None     # destination of a direct rollover
    accepts_aftertax: bool = True
    loan_offset: Num = 0      # contract 1.1, the payment only: the plan loan offset distributed with it
    qualified_plan_loan_offset: bool = False   # §402(c)(3)(C): the offset is a qualified plan loan offset

    @property
    def distributed(self) -> Num:
        """What the row distributes: its amount and (a payment's) plan loan offset, an actual distribution
        (Treas. Reg. §1.402(c)-2(g)). A literal 0 offset adds no term, so rows without one keep their formulas."""
        o = self.loan_offset
        return self.amount if (type(o) is int and o == 0) else self.amount + o


@frozen
class Rollover60:
    id: str
    to: str
    amount: Num


@frozen
class Elections:
    direct_pretax_order: tuple[str, ...] | None = None
    direct_pretax_amounts: dict[str, Num] | None = None
    sixty_day_pretax_order: tuple[str, ...] | None = None
    sixty_day_pretax_amounts: dict[str, Num] | None = None


@frozen
class Request:
    date: _dt.date
    plan: str
    contract: str
    balance: Num
    basis: Num
    disbursements: tuple[Disbursement, ...]
    pre1987_basis: Num = 0
    qualified_roth: bool = False
    rmd: Num = 0
    hardship: bool = False
    regime: str = "notice_2014_54"   # the effective regime (parse fills in the default by date)
    rollovers_60_day: tuple[Rollover60, ...] = ()
    elections: Elections = field(default_factory=Elections)
    other_eligible_this_year: Num = 0   # contract 1.1: the year's other eligible rollover distributions
    # contract 1.2: who receives the money, the participant's facts, and (derived from them by `spec.parse` with
    # `spec.ages.event_code`, like the regime by date) the Form 1099-R box 7 code for the recipient's age or event
    recipient: str = "participant"
    participant: Participant = NO_FACTS
    event_code: str | None = None

    @property
    def directs(self) -> tuple[Disbursement, ...]:
        return tuple(d for d in self.disbursements if d.method == "direct")

    @property
    def paid(self) -> Disbursement | None:
        return next((d for d in self.disbursements if d.method == "paid"), None)


@frozen
class Form1099R:
    box1: Num
    box2a: Num
    box4: Num
    box5: Num
    box7: str | None
    box11: Num | None = None   # contract 1.2: the first year of designated Roth contributions, when given

    def to_wire(self) -> dict:
        w = {"box1": self.box1, "box2a": self.box2a, "box4": self.box4, "box5": self.box5, "box7": self.box7}
        if self.box11 is not None:
            w["box11"] = self.box11
        return w


@frozen
class DisbursementResult:
    id: str
    pretax: Num
    aftertax: Num
    taxable: Num
    withholding: Num
    form_1099r: Form1099R

    def to_wire(self) -> dict:
        return {"id": self.id, "pretax": self.pretax, "aftertax": self.aftertax, "taxable": self.taxable,
                "withholding": self.withholding, "form_1099r": self.form_1099r.to_wire()}


@frozen
class Rollover60Result:
    id: str
    pretax: Num
    aftertax: Num
    taxable: Num

    def to_wire(self) -> dict:
        return {"id": self.id, "pretax": self.pretax, "aftertax": self.aftertax, "taxable": self.taxable}


@frozen
class Result:
    regime: str
    amount: Num            # distribution.amount, D
    pretax: Num            # distribution.pretax, P
    aftertax: Num          # distribution.aftertax, T
    basis_recovered: Num   # distribution.basis_recovered, N
    disbursements: tuple[DisbursementResult, ...]
    rollovers_60_day: tuple[Rollover60Result, ...]
    taxable_income: Num
    withholding: Num
    remaining_balance: Num
    remaining_basis: Num
    remaining_pre1987_basis: Num

    def to_wire(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "distribution": {"amount": self.amount, "pretax": self.pretax, "aftertax": self.aftertax,
                             "basis_recovered": self.basis_recovered},
            "disbursements": [r.to_wire() for r in self.disbursements],
            "rollovers_60_day": [r.to_wire() for r in self.rollovers_60_day],
            "taxable_income": self.taxable_income,
            "withholding": self.withholding,
            "remaining": {"balance": self.remaining_balance, "basis": self.remaining_basis,
                          "pre1987_basis": self.remaining_pre1987_basis},
        }


def result_from_wire(w: dict) -> Result:
    """Read a Result JSON back (no checks: money may be any `Num`, a z3 term included). The proofs judge the
    answer as written (`Result.to_wire`), not the object before it: a writer that put a value under the wrong
    name would otherwise go unseen. Unlike the oracle's reader (`conformance.oracle.parse_answer`), this one
    does not validate: it is the exact inverse of `to_wire` on every well-formed Result."""
    def row(r: dict) -> DisbursementResult:
        f = r["form_1099r"]
        return DisbursementResult(id=r["id"], pretax=r["pretax"], aftertax=r["aftertax"], taxable=r["taxable"],
                                  withholding=r["withholding"],
                                  form_1099r=Form1099R(box1=f["box1"], box2a=f["box2a"], box4=f["box4"],
                                                       box5=f["box5"], box7=f["box7"], box11=f.get("box11")))
    d, rem = w["distribution"], w["remaining"]
    return Result(regime=w["regime"], amount=d["amount"], pretax=d["pretax"], aftertax=d["aftertax"],
                  basis_recovered=d["basis_recovered"], disbursements=tuple(row(r) for r in w["disbursements"]),
                  rollovers_60_day=tuple(Rollover60Result(id=r["id"], pretax=r["pretax"], aftertax=r["aftertax"],
                                                          taxable=r["taxable"]) for r in w["rollovers_60_day"]),
                  taxable_income=w["taxable_income"], withholding=w["withholding"],
                  remaining_balance=rem["balance"], remaining_basis=rem["basis"],
                  remaining_pre1987_basis=rem["pre1987_basis"])
