"""Proof that the compiled fast path (`reference.compiled`) computes what the proved algorithm computes.

Requests are answered by `reference.compiled`: for each request shape, `allocate` is traced once into
straight-line Python source, which is compiled and run. The proofs of `rollsplit prove` are about
`allocate` run on z3 terms. This module closes the gap shape by shape:

1. compile the shape with `reference.compiled.compile_shape` (the very function requests go through);
2. read the generated source with Python's `ast` and give each statement its meaning as a z3 term
   (`_Meaning`: a small interpreter of exactly the constructs the tracer writes: names, integer, string
   and None constants, `+ - *`, `//` by a positive divisor, unary minus, `not`, `and`/`or` of booleans,
   one comparison, `x if c else y`, dict and list displays, `I[k]` for the request's ids); any other
   construct is refused, so the proof cannot pass by ignoring code;
3. run `reference.algorithm.allocate` on z3 terms (`Z3Arith`) for the same symbolic request;
4. prove with z3, for every money value in the contract's range (0..2^53-1 cents): the compiled guard
   (`return None`, the caller then takes the generic path that raises the error) holds exactly when some
   value check of the algorithm is violated, and otherwise every field of the compiled Result equals the
   algorithm's (numbers by an unsat query; strings, ids and None must be identical).

Python's `a // b` for b > 0 is floor division, as is SMT-LIB `div` for a positive divisor; the tracer
writes `//` only under a `> 0` guard or with a positive literal, and `_Meaning` refuses any other `//`.
The compiled code is run with ids other than those it was compiled from, and every id of the Result must be
the run-time one: an id baked into the code as a constant is a difference. Money leaves must be integers on
both sides (z3 would quietly read a Bool as 0/1; JSON would print true/false).

The function is taken through the cache (`dispatch`): compiled from one request of the shape and run on another
request of the same key, so the key and the binding of money to rows (`money_of`) are under proof as well.
What this does not cover: see COVERAGE below (REPORT.md quotes it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import z3

import rollsplit.reference.algorithm as alg
from rollsplit.reference import compiled
from rollsplit.solver.z3_backend import Shape, Z3Arith, symbolic_request


COVERAGE = (
    "Only the compiled functions of the bundle's shapes are proved. A request whose shape differs from one of "
    "them only in the plan or in destinations of the same class runs the very same generated source (tested for "
    "every class); other shapes (more rows, other election orders, amount elections naming only some rows, "
    "election combinations the bundle lacks) get their own compiled function, compiled the same way and tested "
    "against the plain run (`tests/test_compiled.py`), not proved.")


class Unsupported(Exception):
    """The generated source holds a construct this interpreter does not give a meaning to."""


class _Meaning:
    """The z3 meaning of the compiled function's body, statement by statement."""

    def __init__(self, money: list, ids: list[str]) -> None:
        self.env: dict[str, object] = {}
        self.money, self.ids = money, ids

    def run(self, fn: ast.FunctionDef):
        guard = z3.BoolVal(False)
        for st in fn.body:
            if isinstance(st, ast.Assign) and len(st.targets) == 1:
                target = st.targets[0]
                if isinstance(target, ast.Tuple):      # m0, m1, ..., = M
                    if not (isinstance(st.value, ast.Name) and st.value.id == "M"):
                        raise Unsupported(ast.dump(st))
                    if len(target.elts) != len(self.money):
                        raise Unsupported(f"{len(target.elts)} money names for {len(self.money)} values")
                    for name, value in zip(target.elts, self.money):
                        if not isinstance(name, ast.Name) or not re.fullmatch(r"m\d+", name.id):
                            raise Unsupported(ast.dump(st)[:200])
                        self.env[name.id] = value
                elif isinstance(target, ast.Name) and re.fullmatch(r"t\d+", target.id):
                    self.env[target.id] = self.expr(st.value)
                else:
                    raise Unsupported(ast.dump(st))
            elif isinstance(st, ast.If) and not st.orelse and len(st.body) == 1 \
                    and isinstance(st.body[0], ast.Return) and _is_none(st.body[0].value):
                guard = z3.Or(guard, self.boolean(self.expr(st.test)))
            elif isinstance(st, ast.Return):
                if _is_none(st.value):
                    return z3.BoolVal(True), None
                return guard, self.expr(st.value)
            else:
                raise Unsupported(ast.dump(st)[:200])
        raise Unsupported("the function does not end with a return")

    @staticmethod
    def boolean(x):
        if isinstance(x, bool):
            return z3.BoolVal(x)
        if not z3.is_bool(x):
            raise Unsupported(f"a condition that is not boolean: {x}")
        return x

    @staticmethod
    def integer(x):
        if isinstance(x, bool) or (not isinstance(x, int) and not z3.is_int(x)):
            raise Unsupported(f"arithmetic on a value that is not an integer: {x!r}")
        return z3.IntVal(x) if isinstance(x, int) else x

    def expr(self, e: ast.expr):
        if isinstance(e, ast.Name):
            if e.id not in self.env:
                raise Unsupported(f"the name {e.id} is used before it is assigned")
            return self.env[e.id]
        if isinstance(e, ast.Constant) and (e.value is None or isinstance(e.value, (bool, int, str))):
            return e.value
        if isinstance(e, ast.BinOp):
            a, b = self.integer(self.expr(e.left)), self.integer(self.expr(e.right))
            if isinstance(e.op, ast.Add):
                return a + b
            if isinstance(e.op, ast.Sub):
                return a - b
            if isinstance(e.op, ast.Mult):
                return a * b
            if isinstance(e.op, ast.FloorDiv):
                return self.floordiv(e, a, b)
            raise Unsupported(f"operator {type(e.op).__name__}")
        if isinstance(e, ast.UnaryOp):
            if isinstance(e.op, ast.USub):
                return -self.integer(self.expr(e.operand))
            if isinstance(e.op, ast.Not):
                return z3.Not(self.boolean(self.expr(e.operand)))
            raise Unsupported(f"unary {type(e.op).__name__}")
        if isinstance(e, ast.BoolOp):
            parts = [self.boolean(self.expr(v)) for v in e.values]
            return z3.And(*parts) if isinstance(e.op, ast.And) else z3.Or(*parts)
        if isinstance(e, ast.Compare) and len(e.ops) == 1:
            a, b = self.integer(self.expr(e.left)), self.integer(self.expr(e.comparators[0]))
            op = type(e.ops[0])
            table = {ast.LtE: lambda: a <= b, ast.Lt: lambda: a < b, ast.GtE: lambda: a >= b,
                     ast.Gt: lambda: a > b, ast.Eq: lambda: a == b}
            if op not in table:
                raise Unsupported(f"comparison {op.__name__}")
            return table[op]()
        if isinstance(e, ast.IfExp):
            c = self.boolean(self.expr(e.test))
            if isinstance(e.body, ast.BinOp) and isinstance(e.body.op, ast.FloorDiv):
                # `a // b if b > 0 else 0`: the division is evaluated only where its guard holds
                a, b = self.integer(self.expr(e.body.left)), self.integer(self.expr(e.body.right))
                if not _proves(z3.Implies(c, b > 0)):
                    raise Unsupported("a floor division whose guard does not make the divisor positive")
                body = a / b
            else:
                body = self.expr(e.body)
            other = self.expr(e.orelse)
            return z3.If(c, _term(body), _term(other))
        if isinstance(e, ast.Dict):
            return {self.expr(k): self.expr(v) for k, v in zip(e.keys, e.values)}
        if isinstance(e, ast.List):
            return [self.expr(x) for x in e.elts]
        if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and e.value.id == "I" \
                and isinstance(e.slice, ast.Constant) and isinstance(e.slice.value, int):
            return self.ids[e.slice.value]
        raise Unsupported(f"expression {type(e).__name__}: {ast.unparse(e)[:120]}")

    def floordiv(self, e: ast.BinOp, a, b):
        if z3.is_int_value(b) and b.as_long() > 0:
            return a / b   # SMT-LIB div by a positive constant is floor division, as Python's //
        raise Unsupported(f"floor division by {ast.unparse(e.right)} outside a guard that makes it positive")


def _function(source: str) -> ast.FunctionDef:
    """The one function `compiled(M, I)` the source defines (nothing else may be in it)."""
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise Unsupported("the source must define exactly one function")
    fn = tree.body[0]
    a = fn.args
    if fn.name != "compiled" or fn.decorator_list or [x.arg for x in a.args] != ["M", "I"] or a.posonlyargs \
            or a.kwonlyargs or a.vararg or a.kwarg or a.defaults:
        raise Unsupported("the function must be `def compiled(M, I)`")
    return fn


def _term(x):
    if isinstance(x, bool):
        return z3.BoolVal(x)
    if isinstance(x, int):
        return z3.IntVal(x)
    return x


def _is_none(e) -> bool:
    return e is None or (isinstance(e, ast.Constant) and e.value is None)


def _proves(claim, timeout_ms: int = 10_000) -> bool:
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.add(z3.Not(claim))
    return s.check() == z3.unsat


def _is_money(x) -> bool:
    """An integer, as a Python int (not a bool) or a z3 Int term (not a Bool, which z3 would coerce to 0/1)."""
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, z3.ExprRef) and z3.is_int(x))


def _pairs(path: str, compiled_value, reference_value, out: list, problems: list, ids: dict | None = None) -> None:
    """Walk the two Result JSONs together: money leaves become (path, compiled, reference) pairs; other
    leaves must be identical, except that a reference id is expected as `ids[id]` (the id the compiled code
    was given at run time, not the one it was compiled with)."""
    ids = ids or {}
    if isinstance(reference_value, dict):
        if not isinstance(compiled_value, dict) or list(compiled_value) != list(reference_value):
            problems.append(f"{path}: keys differ")
            return
        for k in reference_value:
            _pairs(f"{path}.{k}" if path else k, compiled_value[k], reference_value[k], out, problems, ids)
    elif isinstance(reference_value, list):
        if not isinstance(compiled_value, list) or len(compiled_value) != len(reference_value):
            problems.append(f"{path}: lengths differ")
            return
        for i, (c, r) in enumerate(zip(compiled_value, reference_value)):
            _pairs(f"{path}[{i}]", c, r, out, problems, ids)
    elif reference_value is None or isinstance(reference_value, str):
        want = ids.get(reference_value, reference_value) if path.endswith(".id") else reference_value
        if compiled_value != want or type(compiled_value) is not type(want):
            problems.append(f"{path}: {compiled_value!r} != {want!r}")
    elif not _is_money(reference_value) or not _is_money(compiled_value):
        problems.append(f"{path}: {compiled_value!r} and {reference_value!r} must both be integers")
    else:
        out.append((path, _term(compiled_value), _term(reference_value)))


STATEMENT = ("The compiled fast path that answers requests (reference.compiled), as the cache dispatches it to "
             "another request of the same key (other ids, elections written in another order), computes what the "
             "proved algorithm computes for that request: for every money value in range, it declines (and the "
             "generic path reports the error) exactly when a value check fails, and otherwise every field of its "
             "Result is equal.")


@dataclass
class Formula:
    assertions: list            # their conjunction is satisfiable iff the compiled code differs somewhere
    variables: dict             # the request's money variables (for counterexamples)
    fields: int                 # money fields compared
    problem: str = ""           # a structural difference or an unsupported construct: the claim fails as is
    source_sha256: str = ""     # the digest of the compiled source this formula is about (what --record-proved records)


def variant_of(req, run_ids: list[str]):
    """Another request of the same cache key: every id renamed, and the amounts elections written with their keys
    in the reverse order. The compiled function that answers it is the one compiled from `req`."""
    import dataclasses
    rename = dict(zip(compiled.ids_of(req), run_ids))

    def order(xs):
        return None if xs is None else tuple(rename[x] for x in xs)

    def amounts(d):
        return None if d is None else {rename[k]: v for k, v in reversed(list(d.items()))}
    e = req.elections
    return dataclasses.replace(
        req, disbursements=tuple(dataclasses.replace(d, id=rename[d.id]) for d in req.disbursements),
        rollovers_60_day=tuple(dataclasses.replace(x, id=rename[x.id]) for x in req.rollovers_60_day),
        elections=dataclasses.replace(e, direct_pretax_order=order(e.direct_pretax_order),
                                      direct_pretax_amounts=amounts(e.direct_pretax_amounts),
                                      sixty_day_pretax_order=order(e.sixty_day_pretax_order),
                                      sixty_day_pretax_amounts=amounts(e.sixty_day_pretax_amounts)))


def dispatch(first, then):
    """The compiled function the cache gives `then` after `first` was answered: the dispatch under proof.
    (Outside the cache when the reference is patched by a mutant of the algorithm, which is never compiled.)"""
    with compiled._lock:
        saved = compiled._cache.copy()
        compiled._cache.clear()
    try:
        if compiled.lookup(first, require_proof=False) is None and not compiled._reference_unpatched():
            return compiled.compile_shape(then)
        return compiled.lookup(then, require_proof=False)
    finally:   # the proof leaves the cache as it found it (a broken compile under test must not stay in it)
        with compiled._lock:
            compiled._cache.clear()
            compiled._cache.update(saved)


def compiled_formula(shape: Shape) -> Formula:
    """ranges ∧ (guard ≠ violated ∨ (¬violated ∧ some field differs)): unsat proves the compiled code equal.

    The compiled function is taken from the cache as requests get it: compiled from the shape's request, then
    looked up for another request of the same key (ids renamed, amounts elections written in another key order),
    run on that request's money as `money_of` binds it, and compared with the algorithm run on that request. So
    the proof covers the dispatch too: a key that let two requests share code they should not, or money bound to
    rows by anything but position, is a difference."""
    sr = symbolic_request(shape)
    first = sr.request
    # Requests of one shape share one compiled function whatever their ids: run it with ids other than the
    # ones it was compiled from, so an id written into the code as a constant shows up as a difference.
    run_ids = [f"\x01run-id-{i}" for i in range(len(compiled.ids_of(first)))]
    req = variant_of(first, run_ids)
    ids = compiled.ids_of(req)
    try:
        fn = dispatch(first, req)
        if fn is None:
            return Formula([z3.BoolVal(True)], sr.variables, 0, "not compiled: the generic path answers this shape")
        guard, result = _Meaning(compiled.money_of(req), ids).run(_function(fn.source))
    except (Unsupported, compiled._Branch, SyntaxError) as e:
        return Formula([z3.BoolVal(True)], sr.variables, 0, f"not interpretable: {str(e)[:200]}")
    outcome = alg.allocate(Z3Arith(record=False), req)
    violated = z3.Or(*[_term(c.violated) for c in outcome.checks]) if outcome.checks else z3.BoolVal(False)
    digest = compiled.source_digest(fn.source)
    if result is None:   # the compiled code always declines: right iff every request of the shape is rejected
        return Formula([*sr.ranges, z3.Not(violated)], sr.variables, 0, source_sha256=digest)
    pairs: list = []
    problems: list[str] = []
    _pairs("", result, outcome.result.to_wire(), pairs, problems, dict(zip(ids, ids)))
    if problems:
        return Formula([z3.BoolVal(True)], sr.variables, len(pairs), "; ".join(problems)[:300])
    differs = z3.Or(guard != violated,
                    z3.And(z3.Not(violated), z3.Or(*[c != r for _, c, r in pairs]) if pairs else z3.BoolVal(False)))
    return Formula([*sr.ranges, differs], sr.variables, len(pairs), source_sha256=digest)
