"""The tiny arithmetic interface the reference algorithm and the invariants are written over.

One algorithm, three executions: on Python ints (what runs), on z3 terms (what is proved, see
`solver.z3_backend`) and on sympy symbols (closed forms, see `solver.sympy_backend`). Everything the
algorithm does with money goes through `+`, `-`, `*` by operators and the methods below, so the three
executions cannot differ in what they compute.

Comparisons are methods (`le`, `lt`, `eq`) because `==` on sympy expressions is structural, not
arithmetic. Conditions are values of the backend (`bool` here, `z3.BoolRef` there), combined with
`and_`/`or_`/`not_` and consumed by `ite`; the algorithm never branches in Python on a money value.
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol

Num = Any   # an int, a z3 ArithRef, a sympy Expr
Cond = Any  # a bool, a z3 BoolRef, a sympy Boolean


class Arith(Protocol):
    """What a backend must supply. Money values support `+ - *` with each other and with ints."""

    true: Cond
    false: Cond

    def le(self, a: Num, b: Num) -> Cond: ...
    def lt(self, a: Num, b: Num) -> Cond: ...
    def eq(self, a: Num, b: Num) -> Cond: ...
    def and_(self, *cs: Cond) -> Cond: ...
    def or_(self, *cs: Cond) -> Cond: ...
    def not_(self, c: Cond) -> Cond: ...
    def implies(self, a: Cond, b: Cond) -> Cond: ...
    def ite(self, c: Cond, a: Num, b: Num) -> Num: ...
    def min(self, a: Num, b: Num) -> Num: ...
    def max(self, a: Num, b: Num) -> Num: ...
    def floordiv(self, a: Num, b: Num) -> Num:
        """floor(a / b) for b > 0; 0 when b == 0 (total, so `ite` may evaluate both arms)."""
    def round_half_up(self, x: Num, y: Num, z: Num) -> Num:
        """round_half_up(x*y/z) = (2*x*y + z) // (2*z) for z > 0, 0 for z == 0, in exact integers."""


def total(A: Arith, xs: Iterable[Num]) -> Num:
    """Sum that stays a plain int on an empty list (so it works for every backend)."""
    s: Num = 0
    for x in xs:
        s = s + x
    return s


class IntArith:
    """Concrete execution on Python integers (unbounded: x*y may exceed 2**64, and that is fine)."""

    true = True
    false = False

    def le(self, a, b):
        return a <= b

    def lt(self, a, b):
        return a < b

    def eq(self, a, b):
        return a == b

    def and_(self, *cs):
        return all(cs)

    def or_(self, *cs):
        return any(cs)

    def not_(self, c):
        return not c

    def implies(self, a, b):
        return (not a) or b

    def ite(self, c, a, b):
        return a if c else b

    def min(self, a, b):
        return a if a <= b else b

    def max(self, a, b):
        return a if a >= b else b

    def floordiv(self, a, b):
        return a // b if b > 0 else 0

    def round_half_up(self, x, y, z):
        return (2 * x * y + z) // (2 * z) if z > 0 else 0


INT = IntArith()
