"""Closed-form formulas of every output in every behaviour region, from the reference run on sympy symbols.

For a request shape, `reference.algorithm.allocate` runs once on sympy symbols (`solver.sympy_backend`);
every branch on money is kept as a `branch` node. `solver.regions.explore` (z3) enumerates the behaviour
regions of the same code (a constant truth value for every branch condition), with a witness per region
and a proof that the regions cover every valid request. In each region the witness picks the arm of
every branch, which is the arm for every point of the region, so substituting those choices leaves one
branch-free formula per output: sums and differences of the request's amounts and the exact rounding
functions `round_half_up(x, y, z)` (x·y/z rounded half up) and `floordiv(a, b)`.

The formulas are shown with named quantities: D = the distribution (sum of the disbursements),
T = the after-tax part, P = D − T the pre-tax part (for a qualified designated Roth distribution T = D,
and N = the basis recovered is named separately). Every shown formula is checked to expand back to the
formula in the request's own amounts (`show`); what is printed (`display`) also applies the region's own
equalities of the form x = 0 (an empty row, P = 0). `check_report` evaluates the formulas
on concrete points of each region and compares them with the concrete reference on the same wire request.

Names: d0, d1 … direct rollover amounts; paid the payment; s0 … 60-day rollovers; e_d0 / e_s0 elected
pre-tax amounts; balance, basis, pre1987 (pre-1987 basis), rmd.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy
import z3
from sympy import Integer

from rollsplit.solver import sympy_backend as sb
from rollsplit.solver.regions import ShapeRegions, explore, region_of, wire_request
from rollsplit.solver.z3_backend import Shape, Z3Arith
from rollsplit.spec import law

D_SYM, T_SYM, P_SYM, N_SYM = sympy.symbols("D T P N", integer=True, nonnegative=True)


# ---- outputs of a result, as (path, expression) ---------------------------------------------------------
def outputs(wire: dict) -> dict[str, Any]:
    """Flatten a Result's wire dict into 'path' -> money value (strings and None are left out)."""
    out: dict[str, Any] = {}
    d = wire["distribution"]
    for k in ("amount", "pretax", "aftertax", "basis_recovered"):
        out[f"distribution.{k}"] = d[k]
    for r in wire["disbursements"]:
        for k in ("pretax", "aftertax", "taxable", "withholding"):
            out[f"{r['id']}.{k}"] = r[k]
        for k in ("box1", "box2a", "box4", "box5"):
            out[f"{r['id']}.1099r.{k}"] = r["form_1099r"][k]
    for r in wire["rollovers_60_day"]:
        for k in ("pretax", "aftertax", "taxable"):
            out[f"{r['id']}.{k}"] = r[k]
    out["taxable_income"] = wire["taxable_income"]
    out["withholding"] = wire["withholding"]
    for k in ("balance", "basis", "pre1987_basis"):
        out[f"remaining.{k}"] = wire["remaining"][k]
    return out


def fill_wire(template: dict, values: dict[str, int]) -> dict:
    """The template's wire dict (strings kept) with the money at each path replaced by `values`."""
    w = {"regime": template["regime"],
         "distribution": {k: values[f"distribution.{k}"] for k in ("amount", "pretax", "aftertax", "basis_recovered")},
         "disbursements": [], "rollovers_60_day": []}
    for r in template["disbursements"]:
        w["disbursements"].append({
            "id": r["id"], **{k: values[f"{r['id']}.{k}"] for k in ("pretax", "aftertax", "taxable", "withholding")},
            "form_1099r": {**{k: values[f"{r['id']}.1099r.{k}"] for k in ("box1", "box2a", "box4", "box5")},
                           "box7": r["form_1099r"]["box7"]}})
    for r in template["rollovers_60_day"]:
        w["rollovers_60_day"].append({"id": r["id"], **{k: values[f"{r['id']}.{k}"]
                                                        for k in ("pretax", "aftertax", "taxable")}})
    w["taxable_income"] = values["taxable_income"]
    w["withholding"] = values["withholding"]
    w["remaining"] = {k: values[f"remaining.{k}"] for k in ("balance", "basis", "pre1987_basis")}
    return w


# ---- one region -------------------------------------------------------------------------------------------
@dataclass
class Abbreviations:
    """The named quantities of one region and how to go back to the request's amounts."""
    definitions: list[tuple[sympy.Symbol, Any]]      # shown as 'name = formula', in order
    back: dict                                         # symbol -> formula in the request's amounts
    forward: dict                                      # round_half_up node -> expression in T (or N)
    pivot: Any = None                                  # the amount P is solved for (paid, or the last direct)
    pivot_as: Any = None                               # its expression in P, T and the other amounts
    D_expr: Any = None


@dataclass
class RegionFormulas:
    key: str
    witness: dict[str, int]
    literals: list[tuple[Any, bool]]          # (condition, holds) met while resolving, request amounts
    formulas: dict[str, Any]                  # output path -> formula in the request's amounts
    shown: dict[str, Any] = field(default_factory=dict)       # output path -> formula with D, T, P
    display: dict[str, Any] = field(default_factory=dict)     # `shown` with the region's "x = 0" applied
    conditions: list[Any] = field(default_factory=list)       # shown conditions (true in the region)
    abbreviations: Abbreviations | None = None


def _sum(xs) -> Any:
    return sympy.Add(*xs) if xs else Integer(0)


def _abbreviations(run: sb.SympyRun, N_r, T_r, qualified: bool) -> Abbreviations:
    sr = run.sr
    amounts = [sr.variables[f"d{i}.amount"] for i in range(len(run.shape.directs))]
    if run.shape.paid:
        amounts.append(sr.variables["paid.amount"])
    D_expr = _sum(amounts)
    nodes = sorted(N_r.atoms(sb.round_half_up), key=sympy.default_sort_key)
    back: dict = {D_SYM: D_expr}
    forward: dict = {}
    defs: list = [(D_SYM, D_expr)]
    if len(nodes) == 1:
        q = nodes[0]
        pre = sympy.expand(N_r - q)
        if not pre.atoms(sb.round_half_up):
            name = N_SYM if qualified else T_SYM
            forward[q] = name - pre
            back[name] = sympy.expand(N_r)
    if qualified:
        if N_SYM in back:
            defs.append((N_SYM, back[N_SYM]))
        return Abbreviations(definitions=defs, back=back, forward=forward, D_expr=D_expr)
    if T_SYM not in back:
        back[T_SYM] = sympy.expand(T_r)
    defs.append((T_SYM, back[T_SYM]))
    back[P_SYM] = D_SYM - T_SYM
    defs.append((P_SYM, D_SYM - T_SYM))
    pivot = amounts[-1]
    others = _sum(amounts[:-1])
    return Abbreviations(definitions=defs, back=back, forward=forward, pivot=pivot,
                         pivot_as=P_SYM + T_SYM - others, D_expr=D_expr)


def expand_back(expr, ab: Abbreviations):
    """A shown formula back in the request's amounts (P, T, N, D replaced by their definitions)."""
    e = expr
    for _ in range(4):   # P -> D - T -> ... ; a few rounds reach the request's amounts
        e = e.xreplace({k: v for k, v in ab.back.items()})
    return sympy.expand(e)


def _candidates(e, ab: Abbreviations) -> list:
    e1 = sympy.expand(e.xreplace(ab.forward)) if ab.forward else sympy.expand(e)
    out = []
    if ab.pivot is not None:
        e2 = sympy.expand(e1.xreplace({ab.pivot: ab.pivot_as}))
        out.append(e2)
    out.append(e1.subs(ab.D_expr, D_SYM) if ab.D_expr is not None and len(ab.D_expr.args) > 1 else e1)
    out.append(e1)
    funcs = list(e1.atoms(sb.floordiv, sb.round_half_up))
    if funcs and ab.D_expr is not None and len(ab.D_expr.args) > 1:
        out.append(sympy.collect(e1, funcs).subs(ab.D_expr, D_SYM))
    if ab.pivot is not None:
        out.append(sympy.expand(out[0]).subs(ab.pivot_as, ab.pivot))
    return out


def show(e, ab: Abbreviations):
    """The shortest form of `e` with the region's named quantities (first candidate on ties) that expands
    back to `e` exactly."""
    target = sympy.expand(e)
    best = None
    for c in _candidates(e, ab):
        if sympy.expand(expand_back(c, ab) - target) != 0:
            continue
        if best is None or sympy.count_ops(c) < sympy.count_ops(best):
            best = c
    return best if best is not None else target


def _show_condition(c, ab: Abbreviations):
    """`a op b` with the terms of a − b of positive coefficient on the left, the others on the right."""
    if c in (sympy.true, sympy.false):
        return c
    diff = sympy.expand(c.lhs - c.rhs)
    whole = show(diff, ab)
    if whole.is_Symbol:                       # e.g. P = 0 rather than D = T
        return c.func(whole, 0, evaluate=False)
    if (-whole).is_Symbol:
        return c.reversed.func(-whole, 0, evaluate=False)
    terms = sympy.Add.make_args(diff)
    left = _sum([t for t in terms if not t.could_extract_minus_sign()])
    right = _sum([-t for t in terms if t.could_extract_minus_sign()])
    # as written (P > d0), or positive terms against negative ones (rmd = T rather than rmd - T = 0)
    options = [(show(c.lhs, ab), show(c.rhs, ab)), (show(left, ab), show(right, ab))]
    lhs, rhs = min(options, key=lambda o: sympy.count_ops(o[0]) + sympy.count_ops(o[1]) + 2 * (o[1] == 0))
    return c.func(lhs, rhs, evaluate=False)


# ---- readable region conditions: equalities merged, implied ones dropped (z3) ---------------------------
class _ToZ3:
    """Sympy terms of the region formulas to z3 over the shape's own z3 variables (`variables`), with the
    exact meaning of the rounding functions (`spec.arith`: guarded integer division). Without `variables`
    each symbol is a fresh nonnegative z3 Int and each rounding node an opaque integer."""

    def __init__(self, variables: dict | None = None) -> None:
        self.variables = variables
        self.cache: dict = {}
        self.nonneg: list = []

    def __call__(self, e):
        if e.is_Integer:
            return z3.IntVal(int(e))
        if e.is_Symbol:
            if self.variables is not None and e in self.variables:
                return self.variables[e]
            if e not in self.cache:
                self.cache[e] = z3.Int(str(e))
                self.nonneg.append(self.cache[e] >= 0)
            return self.cache[e]
        if e.is_Add:
            return z3.Sum([self(a) for a in e.args])
        if e.is_Mul:
            out = self(e.args[0])
            for a in e.args[1:]:
                out = out * self(a)
            return out
        if isinstance(e, sympy.Rel):
            lhs, rhs = self(e.lhs), self(e.rhs)
            return {"<=": lhs <= rhs, "<": lhs < rhs, ">=": lhs >= rhs, ">": lhs > rhs, "==": lhs == rhs,
                    "!=": lhs != rhs}[e.rel_op]
        if self.variables is not None and isinstance(e, sb.round_half_up):   # the z3 backend's own meaning
            return _Z3.round_half_up(*(self(a) for a in e.args))
        if self.variables is not None and isinstance(e, sb.floordiv):
            return _Z3.floordiv(*(self(a) for a in e.args))
        if e not in self.cache:
            self.cache[e] = z3.Int(f"opaque{len(self.cache)}")
        return self.cache[e]


_Z3 = Z3Arith(record=False)   # rounding and division with the z3 backend's meaning

SIMPLIFY_TIMEOUT_MS = 300   # per exact z3 check; unknown keeps the condition as it is (never unsound)


def _unsat(fs: list, timeout_ms: int = SIMPLIFY_TIMEOUT_MS) -> bool:
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.add(*fs)
    return s.check() == z3.unsat


class _Prover:
    """'Do these sympy conditions imply that one?' First with rounding terms opaque (linear, fast), then with
    their exact meaning and the shape's precondition (`valid`)."""

    def __init__(self, valid=None, exact: _ToZ3 | None = None) -> None:
        self.valid = valid
        self.exact = exact
        self.opaque = _ToZ3()

    def unsat(self, facts: list, goal_negated, exact: bool = True) -> bool:
        o = self.opaque
        if _unsat([*[o(f) for f in facts], goal_negated(o), *o.nonneg], 2000):
            return True
        if self.exact is None or not exact:
            return False
        e = self.exact
        base = [self.valid] if self.valid is not None else []
        return _unsat([*base, *[e(f) for f in facts], goal_negated(e), *e.nonneg])


def simplify_conditions(lits: list, background: list, valid=None, tz: _ToZ3 | None = None,
                        point: dict | None = None) -> list:
    """Region conditions (sympy relations over the request's amounts) made readable: a ≤ b that can only hold
    with equality (given all of them, `background` and the shape's precondition `valid`) becomes a = b, and a
    condition implied by the others and `background` (rounding terms opaque) is dropped. Only what z3 proves
    (unsat) changes anything, so the result describes the same set of valid requests. `point`, a point of
    the region, spares the exact check where it already shows a < b."""
    prover = _Prover(valid, tz)
    out = []
    for c in lits:
        tight = point is None or sympy.Eq(c.lhs.xreplace(point), c.rhs.xreplace(point)) == sympy.true \
            if isinstance(c, (sympy.LessThan, sympy.GreaterThan)) else False
        # (z3 may turn a <= b into 0 >= b - a, so the strict form is built from sympy's own sides)
        if isinstance(c, sympy.LessThan) and prover.unsat(background + lits, lambda t, c=c: t(c.lhs) < t(c.rhs),
                                                          exact=tight):
            c = sympy.Eq(c.lhs, c.rhs)
        elif isinstance(c, sympy.GreaterThan) and prover.unsat(background + lits, lambda t, c=c: t(c.lhs) > t(c.rhs),
                                                               exact=tight):
            c = sympy.Eq(c.lhs, c.rhs)
        if c not in (sympy.true,) and c not in out:
            out.append(c)
    i = len(out) - 1
    while i >= 0:
        others = [c for j, c in enumerate(out) if j != i]
        if prover.unsat(background + others, lambda t, c=out[i]: z3.Not(t(c)), exact=False):
            out.pop(i)
        i -= 1
    return out


# ---- a shape ---------------------------------------------------------------------------------------------
@dataclass
class ShapeFormulas:
    shape: Shape
    found: ShapeRegions
    run: sb.SympyRun
    regions: list[RegionFormulas]
    template: dict                                   # the sympy run's wire dict (strings are the structure)
    everywhere: list[Any] = field(default_factory=list)        # conditions shown true in every region
    same: dict[str, Any] = field(default_factory=dict)          # outputs with one formula in every region

    def by_key(self) -> dict[str, RegionFormulas]:
        return {r.key: r for r in self.regions}

    def formulas_at(self, values: dict[str, int]) -> dict[str, Any]:
        """The formulas of the region `values` lie in, resolved from the sympy run at that point itself (for a
        point outside every region z3 enumerated, when its enumeration was cut short)."""
        R = sb.Resolver(self.run.sr.point(values))
        return {path: sympy.expand(R(sympy.sympify(e))) for path, e in outputs(self.template).items()}

    def evaluate(self, key: str | None, values: dict[str, int]) -> dict:
        """The wire Result the region's formulas give at concrete `values` (z3 variable names, cents);
        key None: the formulas resolved at the point itself (`formulas_at`)."""
        formulas = self.by_key()[key].formulas if key is not None else self.formulas_at(values)
        point = self.run.sr.point(values)
        ints = {}
        for path, f in formulas.items():
            v = sympy.sympify(f).xreplace(point)
            if not v.is_Integer:
                raise ValueError(f"{path} = {f} does not evaluate to an integer at {values}")
            ints[path] = int(v)
        return fill_wire(self.template, ints)


def derive(shape: Shape, found: ShapeRegions | None = None, readable: bool = True) -> ShapeFormulas:
    """Formulas of every output of `shape` in every region (regions from `solver.regions.explore`).
    `readable=False` skips the z3 work that makes the printed conditions short (formulas are the same)."""
    found = found if found is not None else explore(shape, boundaries=False)
    run = sb.run(shape)
    template = run.result.to_wire()
    outs = outputs(template)
    qualified = shape.contract == "designated_roth" and shape.qualified_roth
    regions: list[RegionFormulas] = []
    for r in sorted(found.regions, key=lambda r: r.key):   # z3's enumeration order varies; keys do not
        R = sb.Resolver(run.sr.point(r.witness))
        formulas = {path: sympy.expand(R(sympy.sympify(e))) for path, e in outs.items()}
        N_r, T_r = formulas["distribution.basis_recovered"], formulas["distribution.aftertax"]
        ab = _abbreviations(run, N_r, T_r, qualified)
        rf = RegionFormulas(key=r.key, witness=r.witness, literals=list(R.literals), formulas=formulas,
                            abbreviations=ab)
        rf.shown = {path: show(f, ab) for path, f in formulas.items()}
        regions.append(rf)
    sf = ShapeFormulas(shape=shape, found=found, run=run, regions=regions, template=template)
    if regions and not readable:
        for rf in regions:
            rf.display = dict(rf.shown)
    elif regions:
        lits = [[c if h else sympy.Not(c) for c, h in rf.literals] for rf in regions]
        common = set(lits[0])
        for ls in lits[1:]:
            common &= set(ls)
        everywhere = [c for c in lits[0] if c in common]
        tz = _ToZ3({run.sr.variables[name]: var for name, var in found.symbolic.variables.items()})
        sf.everywhere = [_show_condition(c, regions[0].abbreviations)
                         for c in simplify_conditions(everywhere, [], found.valid, tz)]
        for rf, ls in zip(regions, lits):
            rest = simplify_conditions([c for c in ls if c not in common], everywhere, found.valid, tz,
                                       run.sr.point(rf.witness))
            rf.conditions = [_show_condition(c, rf.abbreviations) for c in rest]
            zeros = {c.lhs: 0 for c in rf.conditions
                     if isinstance(c, sympy.Eq) and c.rhs == 0 and c.lhs.is_Symbol}
            rf.display = {p: (sympy.expand(f.xreplace(zeros)) if zeros else f) for p, f in rf.shown.items()}
        for path in outs:
            firsts = {str(rf.display[path]) for rf in regions}
            if len(firsts) == 1:
                sf.same[path] = regions[0].display[path]
    return sf


# ---- checking against the reference ----------------------------------------------------------------------
@dataclass
class CheckReport:
    shape: str
    regions: int
    points: int = 0                                 # points compared with the reference
    invalid: int = 0                                # sampled points the reference rejects (outside every region)
    per_region: dict[str, int] = field(default_factory=dict)
    unenumerated: int = 0                           # valid points outside the regions z3 listed (its enumeration
    #                                                 was cut short): checked with formulas resolved at the point
    mismatches: list[dict] = field(default_factory=list)


def _variables(shape: Shape) -> list[str]:
    from rollsplit.solver.z3_backend import symbolic_request
    return list(symbolic_request(shape).variables)


def _repair_elections(shape: Shape, values: dict[str, int], rng: random.Random) -> None:
    """Elected amounts that add up to what the law leaves to the participant (drawn from the reference's
    direct and 60-day pre-tax totals, which do not depend on how they are split)."""
    if shape.direct_election != "amounts" and shape.sixty_election != "amounts":
        return
    from rollsplit.conformance.strategies import split_under_caps
    from rollsplit.reference.algorithm import allocate
    from rollsplit.spec.arith import INT
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_request
    plain = wire_request(Shape(**{**shape.__dict__, "direct_election": None, "sixty_election": None}), values)
    try:
        out = allocate(INT, parse_request(plain))
    except RequestError:   # a malformed sample stays invalid and is counted as such
        return
    for kind, total_, n in (("d", out.direct_pretax, len(shape.directs)), ("s", out.sixty_pretax, len(shape.sixty))):
        if (kind == "d" and shape.direct_election != "amounts") or (kind == "s" and shape.sixty_election != "amounts"):
            continue
        caps = [values[f"{kind}{i}.amount"] for i in range(n)]
        order = list(range(n))
        rng.shuffle(order)
        for i, part in enumerate(split_under_caps(max(0, total_), caps, order, rng.randint)):
            values[f"elect.{kind}{i}"] = part


def sample_points(sf: ShapeFormulas, n: int, seed: int) -> list[dict[str, int]]:
    """Region witnesses and boundary witnesses, then `n` random points: witnesses scaled and jittered
    (rounding ties and remainders move), and requests drawn from scratch."""
    rng = random.Random(seed)
    names = _variables(sf.shape)
    pts = [dict(r.witness) for r in sf.found.regions] + [dict(b.witness) for b in sf.found.boundaries]
    bases = [r.witness for r in sf.found.regions] or [{k: 0 for k in names}]
    for i in range(n):
        if i % 4 != 3:
            base = rng.choice(bases)
            k = rng.choice((1, 1, 2, 3, 7, 10, 99, 1000, 10**6))
            v = {}
            for name in names:
                x = base.get(name, 0) * k
                j = rng.choice((0, 0, 1, 2, 50, max(1, x // 10)))
                low = 1 if name.endswith(".amount") else 0   # every row is a cent or more (zero_amount)
                v[name] = min(law.MAX_CENTS, max(low, x + rng.randint(-j, j)))
        else:
            v = {}
            amounts = [name for name in names if name.endswith(".amount") and not name.startswith("s")]
            for name in amounts:
                v[name] = rng.choice((1, rng.randint(1, 10**4), rng.randint(1, 10**7), rng.randint(1, 10**15)))
            D = sum(v.values())
            v["balance"] = D + rng.choice((0, rng.randint(0, 10**7), rng.randint(0, 10**15)))
            v["basis"] = rng.choice((0, v["balance"], rng.randint(0, v["balance"])))
            if "pre1987_basis" in names:
                v["pre1987_basis"] = rng.choice((0, v["basis"], rng.randint(0, v["basis"])))
            paid = v.get("paid.amount", 0)
            if "rmd" in names:
                v["rmd"] = rng.choice((0, paid, rng.randint(0, paid)))
            room = paid - v.get("rmd", 0)
            sixty = [name for name in names if name.startswith("s") and name.endswith(".amount")]
            for name in sixty:
                v[name] = rng.randint(1, max(1, room))
                room -= v[name]
            for name in names:
                v.setdefault(name, 0)
        _repair_elections(sf.shape, v, rng)
        pts.append(v)
    return pts


def _diff(a: dict, b: dict) -> list[str]:
    fa, fb = outputs(a), outputs(b)
    return [f"{k}: formula {fa[k]} != reference {fb.get(k)}" for k in fa if fa[k] != fb.get(k)]


def _valid_at(found: ShapeRegions, values: dict[str, int]) -> bool:
    """z3's precondition of the shape (money in range, no value check violated) at concrete values."""
    sub = [(found.symbolic.variables[k], z3.IntVal(v)) for k, v in values.items() if k in found.symbolic.variables]
    return z3.is_true(z3.simplify(z3.substitute(found.valid, *sub)))


def check_report(shape: Shape, n: int = 50, seed: int = 0, sf: ShapeFormulas | None = None,
                 calculate: Callable[[dict], dict] | None = None, boundaries: bool = True) -> CheckReport:
    """Formulas against `reference.calculate` on the region witnesses, the boundary witnesses and `n` random
    points. Each point is classified by z3 (`solver.regions.region_of`) and evaluated with that region's
    formulas. z3's precondition of the shape must call a point valid exactly when the reference accepts it,
    and every valid point must lie in a region. `calculate` (default `reference.calculate`) may be another
    calculator, e.g. a mutant, to show that the check can fail; `boundaries=False` skips z3's boundary
    witnesses (fewer points, less z3 time)."""
    if calculate is None:
        from rollsplit.reference import calculate
    if sf is None:
        sf = derive(shape, explore(shape, boundaries=boundaries), readable=False)
    rep = CheckReport(shape=shape.name(), regions=len(sf.regions), per_region={r.key: 0 for r in sf.regions})
    for values in sample_points(sf, n, seed):
        request = wire_request(shape, values)
        answer = calculate(request)
        valid = _valid_at(sf.found, values)
        if valid != ("error" not in answer):
            said = f"rejects it: {answer['error']['code']}" if "error" in answer else "accepts it"
            rep.mismatches.append({"kind": "precondition", "request": request,
                                   "why": f"z3's precondition of the shape says {'valid' if valid else 'invalid'}, "
                                   f"the reference {said}"})
            continue
        if not valid:
            rep.invalid += 1
            continue
        key = region_of(sf.found, sf.found.symbolic, values)
        if not key and sf.found.coverage == "proved":
            rep.mismatches.append({"kind": "uncovered", "request": request,
                                   "why": "the reference accepts a request that lies in no region, yet z3 proved "
                                   "that the regions cover every valid request"})
            continue
        try:
            predicted = sf.evaluate(key or None, values)
        except ValueError as e:
            rep.mismatches.append({"kind": "unevaluable", "request": request, "region": key, "why": str(e)})
            continue
        rep.points += 1
        if key:
            rep.per_region[key] += 1
        else:
            rep.unenumerated += 1
        if predicted != answer:
            rep.mismatches.append({"kind": "differs", "request": request, "region": key,
                                   "why": "; ".join(_diff(predicted, answer))})
    return rep


# ---- the report -----------------------------------------------------------------------------------------
def representative_shapes() -> list[Shape]:
    """The shapes REPORT.md shows: 1 direct + payment + 1 sixty-day (new rule, no elections), the same with an
    RMD and pre-1987 basis, a designated Roth one, and an old-rule one."""
    return [
        Shape(contract="pretax_aftertax", directs=(("traditional_ira", True),), paid=True, sixty=("traditional_ira",)),
        Shape(contract="pretax_aftertax", directs=(("traditional_ira", True),), paid=True, sixty=("traditional_ira",),
              rmd=True, pre1987=True),
        Shape(contract="designated_roth", directs=(("roth_ira", True),), paid=True, sixty=("roth_ira",)),
        Shape(contract="pretax_aftertax", regime=law.OLD, directs=(("traditional_ira", True),), paid=True),
    ]


_OPS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "=", "!=": "≠"}


def _text(e) -> str:
    """sympy's str, with a sum's positive terms first (balance - D rather than -D + balance)."""
    if isinstance(e, sympy.Rel):
        return f"{_text(e.lhs)} {_OPS[e.rel_op]} {_text(e.rhs)}"
    if isinstance(e, sympy.Add):
        terms = sorted(sympy.Add.make_args(e), key=lambda t: t.could_extract_minus_sign())
        out = sympy.sstr(terms[0])
        for t in terms[1:]:
            out += f" - {sympy.sstr(-t)}" if t.could_extract_minus_sign() else f" + {sympy.sstr(t)}"
        return out
    return sympy.sstr(e)


def _fmt(e) -> str:
    return "`" + _text(e).replace("`", "'").replace("|", "\\|") + "`"


def _defs(rf: RegionFormulas) -> str:
    return ", ".join(f"{s} = {sympy.sstr(v)}" for s, v in rf.abbreviations.definitions)


def _legend(shape: Shape) -> str:
    names = ["d0 … the direct rollover amounts"] if shape.directs else []
    if shape.paid:
        names.append("paid the payment to the participant")
    if shape.sixty:
        names.append("s0 … the 60-day rollover amounts")
    names += ["balance, basis the account before the distribution"]
    if shape.pre1987:
        names.append("pre1987 the pre-1987 basis")
    if shape.rmd:
        names.append("rmd the required minimum distribution")
    if shape.direct_election == "amounts" or shape.sixty_election == "amounts":
        names.append("e_d0, e_s0 … the elected pre-tax amounts")
    return "; ".join(names)


def shape_markdown(sf: ShapeFormulas, check: CheckReport | None = None) -> str:
    shape = sf.shape
    lines = [f"### {shape.name()}", "",
             f"Amounts: {_legend(shape)}. Regions: {len(sf.regions)} (z3 coverage: {sf.found.coverage}); "
             f"{sum(len(r.formulas) for r in sf.regions)} formulas.", ""]
    if check is not None:
        verdict = "no mismatch" if not check.mismatches else f"**{len(check.mismatches)} MISMATCHES**"
        outside = (f"; {check.unenumerated} of them outside the regions z3 listed before its enumeration stopped, "
                   "checked with the formulas resolved at the point" if check.unenumerated else "")
        lines += [f"Checked against the concrete reference on {check.points} valid points "
                  f"(every region's witness and random points{outside}; {check.invalid} sampled points rejected by "
                  f"both z3's precondition and the reference): {verdict}.", ""]
    defs = {_defs(rf) for rf in sf.regions}
    if len(defs) == 1:
        lines += [f"Named quantities (every region): {defs.pop()}.", ""]
    if sf.everywhere:
        lines.append("True in every region: " + ", ".join(_fmt(c) for c in sf.everywhere) + ".")
        lines.append("")
    if sf.same:
        lines += ["Same formula in every region:", "", "| output | formula |", "|---|---|"]
        lines += [f"| {path} | {_fmt(f)} |" for path, f in sf.same.items()]
        lines.append("")
    groups: dict[tuple, list[RegionFormulas]] = {}
    for rf in sf.regions:   # regions z3 tells apart by a condition that changes no output and no shown condition
        sig = (tuple(map(str, rf.conditions)), tuple(str(rf.display[p]) for p in rf.display), _defs(rf))
        groups.setdefault(sig, []).append(rf)
    if len(groups) < len(sf.regions):
        lines += [f"{len(sf.regions)} z3 regions give {len(groups)} distinct sets of conditions and formulas "
                  "(z3 also splits on conditions that change neither).", ""]
    for i, members in enumerate(groups.values(), 1):
        rf = members[0]
        conds = " ∧ ".join(_fmt(c) for c in rf.conditions) or "(no further condition)"
        keys = ", ".join(f"`{m.key}`" for m in members)
        lines += [f"**Region {i}** ({keys}): {conds}", ""]
        if len({_defs(r) for r in sf.regions}) > 1:
            lines += [f"where {_defs(rf)}.", ""]
        lines += ["| output | formula |", "|---|---|"]
        lines += [f"| {path} | {_fmt(f)} |" for path, f in rf.display.items() if path not in sf.same]
        lines.append("")
    return "\n".join(lines)


def report_section(shapes: list[Shape] | None = None, check_points: int = 30, seed: int = 0, progress=None) -> str:
    """Markdown for the bundle's FORMULAS.md: the closed-form formulas of the representative shapes, region by
    region, each shape checked against the reference on its witnesses and `check_points` random points (0: no
    check). `progress(done, total, what)` is called after each step (a shape derived, a shape checked)."""
    shapes = shapes if shapes is not None else representative_shapes()
    steps = len(shapes) * (2 if check_points > 0 else 1)
    step = _stepper(progress, steps)
    parts = ["## Closed-form formulas (sympy)", "",
             "The reference algorithm, unchanged, run on sympy symbols (`solver/sympy_backend.py`); in each "
             "behaviour region found by z3 (`solver/regions.py`) every branch has one arm, which leaves one formula "
             "per output. D is the distribution, T its after-tax part (the basis recovered), P = D − T its pre-tax "
             "part; `round_half_up(x, y, z)` is x·y/z rounded half up to the cent, `floordiv(a, b)` is ⌊a/b⌋, "
             "both in exact integers. Each formula is checked against the concrete reference on random points of its "
             "region (`solver.formulas.check_report`, tests/test_sympy_formulas.py).", ""]
    for shape in shapes:
        sf = derive(shape)
        step(f"derived {shape.name()}")
        check = check_report(shape, check_points, seed, sf=sf) if check_points > 0 else None
        if check is not None:
            step(f"checked {shape.name()}")
        parts.append(shape_markdown(sf, check))
    return "\n".join(parts)


def _stepper(progress, total: int):
    """A callback that counts the steps done and tells `progress(done, total, what)`, if given."""
    done = [0]

    def step(what: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total, what)
    if progress is not None:
        progress(0, total, "starting")
    return step


def check_table(shapes: list[Shape] | None = None, n: int = 50, seed: int = 0, progress=None) -> tuple[str, bool]:
    """A table of the formulas checked against the reference, per shape, at most 120 columns wide; True when all
    agree. `progress` as for `report_section`."""
    import time

    from rollsplit.tables import fit
    shapes = shapes if shapes is not None else representative_shapes()
    step = _stepper(progress, 2 * len(shapes))
    rows, ok = [], True
    for shape in shapes:
        t0 = time.perf_counter()
        sf = derive(shape)
        step(f"derived {shape.name()}")
        t1 = time.perf_counter()
        rep = check_report(shape, n, seed, sf=sf)
        step(f"checked {shape.name()}")
        t2 = time.perf_counter()
        ok = ok and not rep.mismatches
        rows.append([shape.name(), len(sf.regions), sum(len(r.formulas) for r in sf.regions), sf.found.coverage,
                     rep.points, rep.unenumerated, rep.invalid, len(rep.mismatches), f"{t1 - t0:.1f}",
                     f"{t2 - t1:.1f}"])
    return fit(rows, ["shape", "regions", "formulas", "z3 coverage", "points", "outside listed regions", "invalid",
                      "mismatches", "derive s", "check s"]), ok
