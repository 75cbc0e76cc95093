"""sympy execution of the reference algorithm: the same code, on symbols, for closed forms.

`SympyArith` implements `spec.arith.Arith` on sympy expressions. Each branch the algorithm makes on
money becomes a `branch` node (a two-armed Piecewise) whose conditions are exactly the ones
`solver.z3_backend.Z3Arith` records at the same place (min(a, b) chooses a when a <= b, max(a, b) chooses a when b <= a, ite(c, ...),
division guarded by divisor > 0), so that a behaviour region found by z3 (`solver.regions`: a constant
truth value for every such condition) picks one arm of every branch. `resolve(expr, point)`
substitutes those choices, with any point of the region, and leaves a branch-free formula valid in the
whole region: sums, differences and the two rounding functions below.

Rounding stays exact: `round_half_up(x, y, z)` and `floordiv(a, b)` are sympy functions that evaluate
with Python integers when their arguments are numbers (never floats), and print as what they are.

`sympy_request(shape)` builds a request of the shape whose money fields are nonnegative integer symbols
with readable names (d0, paid, s0, balance, basis, pre1987, rmd, e_d0 for an elected amount); it is
built from `solver.z3_backend.symbolic_request(shape)` by swapping each z3 variable for its symbol, so
the two requests have the same structure, row for row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import sympy
import z3
from sympy import Integer, S

from rollsplit.reference.algorithm import Outcome, allocate
from rollsplit.solver.z3_backend import Shape, symbolic_request
from rollsplit.spec.arith import INT
from rollsplit.spec.model import Result


class round_half_up(sympy.Function):   # noqa: N801 (prints as the interface's name)
    """x*y/z rounded half up, exactly: (2xy + z) // (2z) for z > 0; 0 for z = 0 (`spec.arith`)."""
    is_integer = True

    @classmethod
    def eval(cls, x, y, z):
        if x.is_zero or y.is_zero:
            return S.Zero                      # (0 + z) // 2z = 0 for z > 0, and 0 for z = 0
        if x.is_Integer and y.is_Integer and z.is_Integer:
            return Integer(INT.round_half_up(int(x), int(y), int(z)))   # the reference's own rounding
        return None

    def _eval_is_nonnegative(self):
        x, y, z = self.args
        if x.is_nonnegative and y.is_nonnegative and z.is_nonnegative:
            return True
        return None


class floordiv(sympy.Function):   # noqa: N801
    """floor(a / b) for b > 0, exactly; 0 for b <= 0 (`spec.arith`)."""
    is_integer = True

    @classmethod
    def eval(cls, a, b):
        if a.is_zero:
            return S.Zero
        if a.is_Integer and b.is_Integer:
            return Integer(INT.floordiv(int(a), int(b)))
        return None

    def _eval_is_nonnegative(self):
        a, b = self.args
        if a.is_nonnegative and b.is_nonnegative:
            return True
        return None


def _s(x):
    return sympy.sympify(x)


class branch(sympy.Function):   # noqa: N801
    """branch(l, r, a, b, strict): a if l <= r (l < r when strict is 1) else b. One branch of the algorithm.

    A sympy Piecewise would do, but sympy folds a Piecewise nested in another's condition into an ITE
    formula over all the inner conditions; a branch keeps each condition as the algorithm wrote it, which
    is what a region fixes and what the report prints.
    """

    @classmethod
    def eval(cls, l, r, a, b, strict):
        if a == b:
            return a                                   # both arms equal: no choice to make
        d = l - r
        if d.is_number:
            holds = bool(d < 0) if strict else bool(d <= 0)
            return a if holds else b
        return None

    def _eval_is_integer(self):
        a, b = self.args[2], self.args[3]
        return True if (a.is_integer and b.is_integer) else None

    def _eval_is_nonnegative(self):
        a, b = self.args[2], self.args[3]
        return True if (a.is_nonnegative and b.is_nonnegative) else None

    def condition(self):
        l, r, _, _, strict = self.args
        return sympy.Lt(l, r) if strict else sympy.Le(l, r)


class SympyArith:
    """Arith on sympy expressions; every branch on money is a `branch` node (conditions also in `conditions`)."""

    def __init__(self) -> None:
        self.true = sympy.true
        self.false = sympy.false
        self.conditions: list = []

    def _branch(self, l, r, strict: int, a, b):
        node = branch(_s(l), _s(r), _s(a), _s(b), Integer(strict))
        if isinstance(node, branch):
            self.conditions.append(node.condition())
        return node

    def le(self, a, b):
        return sympy.Le(_s(a), _s(b), evaluate=False)

    def lt(self, a, b):
        return sympy.Lt(_s(a), _s(b), evaluate=False)

    def eq(self, a, b):
        return sympy.Eq(_s(a), _s(b), evaluate=False)

    def and_(self, *cs):
        return sympy.And(*cs, evaluate=False) if cs else sympy.true

    def or_(self, *cs):
        return sympy.Or(*cs, evaluate=False) if cs else sympy.false

    def not_(self, c):
        return sympy.Not(c, evaluate=False)

    def implies(self, a, b):
        return sympy.Implies(a, b, evaluate=False)

    def ite(self, c, a, b):
        if c is True or c == sympy.true:
            return _s(a)
        if c is False or c == sympy.false:
            return _s(b)
        # a compound condition becomes nested branches on single comparisons (the only node `branch` knows)
        if isinstance(c, sympy.Not):
            return self.ite(c.args[0], b, a)
        if isinstance(c, sympy.And):
            first, *rest = c.args
            return self.ite(first, self.ite(sympy.And(*rest, evaluate=False), a, b) if rest else a, b)
        if isinstance(c, sympy.Or):
            first, *rest = c.args
            return self.ite(first, a, self.ite(sympy.Or(*rest, evaluate=False), a, b) if rest else b)
        if isinstance(c, sympy.Implies):
            return self.ite(c.args[0], self.ite(c.args[1], a, b), a)
        l, r = c.args
        if isinstance(c, sympy.Eq):   # l = r  iff  l <= r and r <= l
            return self._branch(l, r, 0, self._branch(r, l, 0, a, b), b)
        if isinstance(c, sympy.Ne):
            return self.ite(sympy.Eq(l, r, evaluate=False), b, a)
        if isinstance(c, sympy.LessThan):
            return self._branch(l, r, 0, a, b)
        if isinstance(c, sympy.StrictLessThan):
            return self._branch(l, r, 1, a, b)
        if isinstance(c, sympy.GreaterThan):
            return self._branch(r, l, 0, a, b)
        return self._branch(r, l, 1, a, b)   # StrictGreaterThan: the relations sympy has are all handled

    def min(self, a, b):
        return self._branch(a, b, 0, a, b)     # a when a <= b (as Z3Arith.min)

    def max(self, a, b):
        return self._branch(b, a, 0, a, b)     # a when b <= a (as Z3Arith.max)

    def floordiv(self, a, b):
        if isinstance(b, int):
            return floordiv(_s(a), Integer(b)) if b > 0 else S.Zero
        return self._branch(0, b, 1, floordiv(_s(a), _s(b)), 0)        # guard b > 0

    def round_half_up(self, x, y, z):
        if isinstance(z, int):
            return round_half_up(_s(x), _s(y), Integer(z)) if z > 0 else S.Zero
        return self._branch(0, z, 1, round_half_up(_s(x), _s(y), _s(z)), 0)   # guard z > 0


# ---- the request of a shape on symbols --------------------------------------------------------------
def display_name(var: str) -> str:
    """z3 variable name (solver.z3_backend.symbolic_request) -> the symbol's readable name."""
    if var.endswith(".amount"):
        return var[: -len(".amount")]
    if var == "paid.loan_offset":
        return "offset"
    if var.startswith("elect."):
        return "e_" + var[len("elect."):]
    return {"pre1987_basis": "pre1987", "other_eligible_this_year": "other"}.get(var, var)


@dataclass
class SympyRequest:
    request: Any                                            # spec.model.Request with sympy money
    variables: dict[str, sympy.Symbol] = field(default_factory=dict)   # z3 variable name -> symbol
    z3_variables: dict[str, z3.ArithRef] = field(default_factory=dict)

    def point(self, values: dict[str, int]) -> dict[sympy.Symbol, Integer]:
        """z3-named cents -> a substitution for `xreplace`."""
        return {self.variables[k]: Integer(v) for k, v in values.items() if k in self.variables}


def _swap(obj, table: dict[str, sympy.Symbol]):
    if isinstance(obj, z3.ArithRef):
        return table[str(obj)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _swap(getattr(obj, f.name), table)
                                           for f in dataclasses.fields(obj) if f.init})
    if isinstance(obj, tuple):
        return tuple(_swap(x, table) for x in obj)
    if isinstance(obj, list):
        return [_swap(x, table) for x in obj]
    if isinstance(obj, dict):
        return {k: _swap(v, table) for k, v in obj.items()}
    return obj


def sympy_request(shape: Shape) -> SympyRequest:
    """A request of `shape` with nonnegative integer sympy symbols for money (same structure as z3's)."""
    zr = symbolic_request(shape)
    table = {name: sympy.Symbol(display_name(name), integer=True, nonnegative=True)
             for name in zr.variables}
    return SympyRequest(request=_swap(zr.request, table), variables=table, z3_variables=dict(zr.variables))


@dataclass
class SympyRun:
    shape: Shape
    sr: SympyRequest
    A: SympyArith
    outcome: Outcome

    @property
    def result(self) -> Result:
        return self.outcome.result


def run(shape: Shape) -> SympyRun:
    """The reference algorithm (`reference.algorithm.allocate`, unchanged) executed on sympy symbols."""
    sr = sympy_request(shape)
    A = SympyArith()
    return SympyRun(shape=shape, sr=sr, A=A, outcome=allocate(A, sr.request))


# ---- choosing the arms of a region ---------------------------------------------------------------------
class Resolver:
    """Resolve every `branch` of expressions at one point: the arm whose condition holds there.

    Records each condition met on the way (resolved itself) with its truth value at the point: the
    region's conditions. Memoized per node, so shared subterms are resolved once.
    """

    def __init__(self, point: dict[sympy.Symbol, Integer]) -> None:
        self.point = point
        self.memo: dict = {}
        self.literals: list[tuple[Any, bool]] = []   # (condition, holds at the point)
        self._seen: set = set()

    def value(self, e) -> Integer:
        v = _s(e).xreplace(self.point)
        if not v.is_Integer:
            raise ValueError(f"{e} does not evaluate to an integer at the point (got {v})")
        return v

    def __call__(self, e):
        if not isinstance(e, sympy.Basic) or e.is_Atom:
            return e
        hit = self.memo.get(e)
        if hit is not None:
            return hit
        if isinstance(e, branch):
            l, r, a, b, strict = e.args
            l, r = self(l), self(r)
            d = self.value(l - r)
            holds = bool(d < 0) if strict else bool(d <= 0)
            cond = branch(l, r, sympy.Symbol("a"), sympy.Symbol("b"), strict)
            if isinstance(cond, branch) and cond.condition() not in (sympy.true, sympy.false):
                key = (cond.args[0], cond.args[1], strict, holds)
                if key not in self._seen:
                    self._seen.add(key)
                    self.literals.append((cond.condition(), holds))
            out = self(a) if holds else self(b)
        else:
            out = e.func(*[self(x) for x in e.args])
        self.memo[e] = out
        return out


def resolve(expr, point: dict[sympy.Symbol, Integer]):
    """`expr` with every `branch` replaced by its arm at `point` (see `Resolver`)."""
    return Resolver(point)(expr)
