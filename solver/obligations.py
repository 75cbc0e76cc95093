"""Proof obligations: what z3 must find unsat (or sat, for witnesses), built from the code that runs.

For a shape, `reference.algorithm.allocate` runs on `Z3Arith` over a symbolic request; the request is
valid when its money is in range and no value check of the reference is violated. Obligations:
  invariant    valid ∧ ¬inv(request, reference(request))            expected unsat
  determinacy  valid ∧ inv(R1) ∧ inv(R2) ∧ R1 ≠ R2 (fresh results)  expected unsat
  witness      valid (∧ every amount > 0 when possible)             expected sat (non-vacuity)
  rejects      valid, for shapes with a row that can receive nothing expected unsat
  lemma        facts about unbounded integers used compositionally   expected unsat

Under the old rule (Notice 2009-68, rule 10) the largest-remainder split is nonlinear (T·aᵢ / D with T
and D symbolic); z3 gives up on it as a whole beyond 3 rows. It is proved once per row count n as lemmas
about the code of `reference.algorithm.largest_remainder` on unbounded integers, and each old-rule
shape uses the conclusion: the call is replaced by fresh shares satisfying `lr_linear` and `lr_char`
(OLD-RULE-PRORATA), and an `lrpre` obligation proves the lemma's precondition where the code calls it.

The chain (`lr_lemmas`), every link an obligation of kind "lemma" expected unsat:
  schemas on free integers, proved once (nonlinear but tiny):
    LR-ROW     one row exactly as the code computes it: q = floor(T·a/d), r = T·a − q·d ⇒ 0 ≤ q ≤ a,
               0 ≤ r < d, r > 0 ⇒ q < a   (given d > 0, 0 ≤ a ≤ d, 0 ≤ T ≤ d)
    MUL-STEP   y = x ⇒ d·y = x·d;  y = x + 1 ⇒ d·y = x·d + d
    MUL-EQ     x = y ⇒ x·z = y·z
    MUL-CMP    d > 0, |d·u − d·v| < 2d ⇒ u − v ∈ {−1, 0, 1} with d·u − d·v = (u − v)·d
  per n:
    LRn-SUM    on the code's terms: Σ rᵢ = D·k, k = T − Σ qᵢ
    LRn-K      on free integers: 0 ≤ rᵢ < D, Σ rᵢ = D·k ⇒ k ∈ {0..n−1} (case split, so D·k = c·D)
    LRn-CONTRACT-LIA  the counting argument, in linear arithmetic only: the formula
               "facts ⇒ contract" (facts: the precondition, LR-ROW at every row, LRn-SUM, LRn-K, MUL-STEP at
               every share; contract: shares add up to T, lie in [0, aᵢ], obey OLD-RULE-PRORATA) with each
               nonlinear term (T·aᵢ, (T·aᵢ) div D, qᵢ·D, D·k, D·sᵢ) replaced by a free integer (`purify`).
               Valid for all values of those integers, so for the terms themselves.
    LRn-CONTRACT  the contract on the code's own terms: instances of the facts plus the instance of
               LRn-CONTRACT-LIA (terms put back for the free integers; `purify` checks that this gives
               the very formula back) ⇒ contract. This step is modus ponens, checked by z3; its content is
               in the lemmas it names in `uses`. Shapes assume LRn-CONTRACT.
    LRn-UNIQUE-LIA / LRn-UNIQUE  the same for uniqueness: two splits u of T and v of T2 = T, both obeying
               OLD-RULE-PRORATA and adding up to their total, are equal (facts: MUL-EQ, MUL-CMP per row).
               Determinacy of old-rule shapes instantiates LRn-UNIQUE at the two results (each judged with
               its own after-tax total, as the invariant judges it), with RHU-UNIQUE for the rounding.
An instance of a lemma is the lemma's own formula built by the same Python function with terms for its
variables, so "valid for all integers" carries over. `lemma_obligations` checks that every lemma named
in a `uses` is itself an obligation of the list. `python -m rollsplit.solver.obligations` prints how long z3 takes
on each lemma for 1..5 rows (tests/test_solver_lemmas.py checks that each is proved and that broken splits
are refuted).
"""

from __future__ import annotations

import contextlib
import functools
import time
import types
from dataclasses import dataclass, field
from typing import Callable

import z3

import rollsplit.reference.algorithm as alg
from rollsplit.reference.mutants import patched
from rollsplit.solver.shapes import old_rule_rows
from rollsplit.solver.z3_backend import Shape, SymbolicRequest, Z3Arith, fresh_result, symbolic_request
from rollsplit.spec import law, validity
from rollsplit.spec.arith import total
from rollsplit.spec import invariants as spec_invariants
from rollsplit.spec.invariants import _old_rule, prorata_terms
from rollsplit.spec.model import Result, result_from_wire

MAX_ROWS_OLD = 5   # 4 direct + 1 paid
OK_STATUSES = ("proved", "satisfiable", "checked")   # as expected: unsat, sat for a witness, a parse check agrees


@dataclass
class Obligation:
    name: str                     # unique, file-name safe
    kind: str                     # invariant | determinacy | witness | rejects | lemma | lemma-use | compiled
    invariant: str                # invariant or lemma id
    shape: str                    # Shape.name() or "-"
    expected: str                 # "unsat" or "sat"
    statement: str                # plain English
    citation: str
    assertions: list              # z3 BoolRefs; the obligation is their conjunction
    uses: tuple[str, ...] = ()    # lemmas assumed (instantiated) in the assertions
    variables: dict = field(default_factory=dict)   # request money variables, for replay
    symbolic_result: Result | None = None           # the reference's result terms (witness checks)
    preferred: list = field(default_factory=list)   # witnesses: wished for (every amount positive), dropped if
                                                    # z3 finds no such model in a short budget

    def solver(self) -> z3.Solver:
        s = z3.Solver()
        s.add(*self.assertions)
        return s


def slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-+." else "_" for c in text)
    return out.strip("_")


# ---- the largest-remainder lemmas (old rule) ------------------------------------------------------
def _lr_terms(n: int, split: Callable = None):
    A = Z3Arith(record=False)
    T = z3.Int("T")
    a = [z3.Int(f"a{i}") for i in range(n)]
    s = (split or alg.largest_remainder)(A, T, a)
    D = total(A, a)
    return A, T, a, s, D


def lr_pre(A, T, a) -> z3.BoolRef:
    D = total(A, a)
    return z3.And(*[x >= 0 for x in a], D > 0, T >= 0, T <= D)


def lr_linear(A, T, a, s) -> z3.BoolRef:
    """What the rest of the algorithm needs of the split: shares add up to T, each within its row."""
    return z3.And(total(A, s) == T, *[z3.And(0 <= x, x <= y) for x, y in zip(s, a)])


def lr_char(A, T, a, s) -> z3.BoolRef:
    """OLD-RULE-PRORATA itself, evaluated on rows of amounts `a` with after-tax shares `s` out of T."""
    req = types.SimpleNamespace(disbursements=[types.SimpleNamespace(amount=x, distributed=x) for x in a])
    res = types.SimpleNamespace(aftertax=T, disbursements=[types.SimpleNamespace(aftertax=x) for x in s])
    return _old_rule(A, req, res)


# Schemas: a lemma stated once as a Python function of its terms, returning (hypotheses, conclusion).
# The lemma obligation applies it to fresh variables; an *instance* applies it to other terms and is
# the valid formula And(hypotheses) ⇒ conclusion. Built by the same function, an instance is
# syntactically the formula the lemma proved, with terms put for its variables.
def _row(A, T, a, d):
    """One row of the split: the quotient and remainder exactly as `largest_remainder` writes them."""
    q = A.floordiv(T * a, d)
    r = T * a - q * d
    return ([d > 0, 0 <= a, a <= d, 0 <= T, T <= d],
            z3.And(0 <= q, q <= a, 0 <= r, r < d, z3.Implies(r > 0, q < a)))


def _mul_step(d, x, y):
    return [], z3.And(z3.Implies(y == x, d * y == x * d), z3.Implies(y == x + 1, d * y == x * d + d))


def _mul_cmp(d, u, v):
    return ([d > 0, d * u - d * v < 2 * d, d * v - d * u < 2 * d],
            z3.Or(z3.And(u == v, d * u == d * v), z3.And(u == v + 1, d * u == d * v + d),
                  z3.And(u == v - 1, d * u == d * v - d)))


def _mul_eq(x, y, z):
    return [x == y], x * z == y * z


def lr_unique_hyp(A, T1, T2, a, u, v) -> z3.BoolRef:
    """The hypothesis of LRn-UNIQUE: u splits T1 and v splits T2 = T1, both obeying OLD-RULE-PRORATA. Each
    split is judged with its own total, as the invariant judges each result (determinacy instantiates it)."""
    return z3.And(lr_pre(A, T1, a), lr_char(A, T1, a, u), lr_char(A, T2, a, v), total(A, u) == T1,
                  total(A, v) == T2, T1 == T2)


def _rhu(d, x, q1, q2):
    """RHU-UNIQUE: the quotient of a division is unique."""
    return [d > 0, d * q1 <= x, x < d * q1 + d, d * q2 <= x, x < d * q2 + d], q1 == q2


def _prorata_bounds(D, bal, b, p, N):
    """PRORATA-BOUNDS: 0 ≤ N ≤ min(basis, D) for N = basis_recovered(D, balance, basis, pre1987)."""
    return [0 <= p, p <= b, b <= bal, 0 <= D, D <= bal], z3.And(0 <= N, N <= b, N <= D)


def lr_parts(A, T, a):
    """largest_remainder's terms as the code writes them: (D, quotients, remainders, k leftover cents)."""
    D = total(A, a)
    qs = [A.floordiv(T * x, D) for x in a]
    rs = [T * x - q * D for x, q in zip(a, qs)]
    return D, qs, rs, T - total(A, qs)


def lr_facts(A, T, a, s) -> list[z3.BoolRef]:
    """The facts LRn-CONTRACT rests on, besides its precondition, at the split of T over `a` with shares `s`:
    the instances of LR-ROW per row, LRn-SUM, LRn-K and MUL-STEP per share. Each is valid (an implication
    from its hypotheses), so it may be assumed anywhere. The lemma and every use of it (the old-rule cover
    proof of solver.regions) take them from here."""
    D, qs, rs, k = lr_parts(A, T, a)
    return [*[instance(_row, A, T, x, D) for x in a], z3.Implies(lr_pre(A, T, a), total(A, rs) == D * k),
            instance(_k_cases, len(a), D, k, rs), *[instance(_mul_step, D, q, si) for q, si in zip(qs, s)]]


LR_FACT_LEMMAS = ("LR-ROW", "LR{n}-SUM", "LR{n}-K", "MUL-STEP")   # the lemmas of lr_facts, for n rows


def _k_cases(n, d, k, r):
    return ([d > 0, *[z3.And(0 <= x, x < d) for x in r], total(None, r) == d * k],
            z3.Or(*[z3.And(k == c, d * k == c * d) for c in range(n)]))


def instance(schema, *terms) -> z3.BoolRef:
    hyps, concl = schema(*terms)
    return z3.Implies(z3.And(*hyps), concl) if hyps else concl


def _nonlinear(t: z3.ExprRef) -> bool:
    if z3.is_mul(t):
        return sum(1 for c in t.children() if not z3.is_int_value(c)) >= 2
    if z3.is_div(t) or z3.is_idiv(t) or z3.is_mod(t):
        return not z3.is_int_value(t.arg(1))
    return False


def _subterms(f: z3.ExprRef, keep: Callable, stop: bool) -> list:
    """Distinct subterms satisfying `keep`, outermost first; not entered when `stop`."""
    seen, out, todo = set(), [], [f]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_arith(t) and keep(t):
            out.append(t)
            if stop:
                continue
        todo.extend(reversed(t.children()))
    return out


def purify(f: z3.BoolRef) -> tuple[z3.BoolRef, list[tuple]]:
    """Replace each outermost nonlinear term (product of two non-numerals, division by a non-numeral) of
    `f` by a fresh integer `nl<j>`. Returns the linear formula and the pairs (atom, term). Checked: the
    result is linear, and putting the terms back for the atoms gives `f` itself (z3's structural equality)."""
    found = _subterms(f, _nonlinear, stop=True)
    atoms = [z3.Int(f"nl{j}") for j in range(len(found))]
    g = z3.substitute(f, *zip(found, atoms)) if found else f
    if _subterms(g, _nonlinear, stop=False):
        raise AssertionError("purify: a nonlinear term is left")
    if found and not z3.substitute(g, *zip(atoms, found)).eq(f):
        raise AssertionError("purify: the abstraction does not give the formula back")
    return g, list(zip(atoms, found))


def _legend(pairs, labels: list[tuple]) -> str:
    """One line (the statement goes into an SMT-LIB comment): each atom with the code term it stands for."""
    by_id = {t.get_id(): name for t, name in labels}
    return ", ".join(f"{x} = {by_id.get(t.get_id()) or ' '.join(str(t).split())}" for x, t in pairs)


def lr_lemmas(n: int, split: Callable = None, unique: bool = True) -> list[Obligation]:
    """The lemmas proving LRn-CONTRACT (and LRn-UNIQUE) for n rows, `split` being the code under proof
    (default: `reference.algorithm.largest_remainder`; tests pass broken variants)."""
    out: list[Obligation] = []

    def lemma(id_, statement, hyps, concl, uses=()):
        out.append(Obligation(name=f"lemma__{id_}", kind="lemma", invariant=id_, shape="-", expected="unsat",
                              statement=statement, citation="rollsplit proof lemma (unbounded integers)",
                              assertions=[*hyps, z3.Not(concl)], uses=tuple(uses)))

    A, T, a, s, D = _lr_terms(n, split=split)
    _, qs, rs, k = lr_parts(A, T, a)
    pre = lr_pre(A, T, a)
    lemma(f"LR{n}-SUM", f"{n} rows: the remainders rᵢ = T·aᵢ − qᵢ·D add up to D·k, k = T − Σqᵢ "
          "(qᵢ = floor(T·aᵢ/D) as the code computes it).", [pre], total(A, rs) == D * k)
    Dv, kv = z3.Ints("D k")
    rv = [z3.Int(f"r{i}") for i in range(n)]
    lemma(f"LR{n}-K", f"{n} rows: D > 0, 0 ≤ rᵢ < D, Σrᵢ = D·k ⇒ k is one of 0..{n - 1} (and D·k = k·D for it).",
          *_k_cases(n, Dv, kv, rv))
    # the contract: the code's shares add up to T, lie in [0, aᵢ] and obey OLD-RULE-PRORATA
    facts = [pre, *lr_facts(A, T, a, s)]
    concl = z3.And(lr_linear(A, T, a, s), lr_char(A, T, a, s))
    core = z3.Implies(z3.And(*facts), concl)
    lin, pairs = purify(core)
    labels = [(T * x, f"T·a{i}") for i, x in enumerate(a)] + [(q * D, f"q{i}·D") for i, q in enumerate(qs)]
    labels += [((T * x) / D, f"(T·a{i}) div D") for i, x in enumerate(a)] + [(D * k, "D·k")]
    labels += [(D * si, f"D·s{i}") for i, si in enumerate(s)]
    lemma(f"LR{n}-CONTRACT-LIA", f"{n} rows, linear arithmetic only: the counting argument of the largest "
          "remainder. Every nonlinear term of 'facts ⇒ contract' is a free integer (" + _legend(pairs, labels)
          + "; D = Σaᵢ, qᵢ = if D > 0 then (T·aᵢ) div D else 0, k = T − Σqᵢ, sᵢ the code's share), "
          "so this holds for all their values, in particular for the products and quotients themselves. "
          "Facts: the precondition, LR-ROW per row, LRn-SUM, LRn-K, MUL-STEP per share.", [], lin)
    lemma(f"LR{n}-CONTRACT", f"{n} rows: largest_remainder's shares add up to T, each in [0, aᵢ], and obey "
          "OLD-RULE-PRORATA, for 0 ≤ aᵢ, 0 < D = Σaᵢ, 0 ≤ T ≤ D (modus ponens over the instances of the "
          "lemmas it uses).", [*facts, core], concl,
          uses=(*[x.format(n=n) for x in LR_FACT_LEMMAS], f"LR{n}-CONTRACT-LIA"))
    if not unique:
        return out
    # uniqueness of a split obeying OLD-RULE-PRORATA with the same total
    u = [z3.Int(f"u{i}") for i in range(n)]
    v = [z3.Int(f"v{i}") for i in range(n)]
    T2 = z3.Int("T2")
    hyps = [lr_unique_hyp(A, T, T2, a, u, v), *[instance(_mul_eq, T, T2, x) for x in a],
            *[instance(_mul_cmp, D, x, y) for x, y in zip(u, v)]]
    same = z3.And(*[x == y for x, y in zip(u, v)])
    core = z3.Implies(z3.And(*hyps), same)
    lin, pairs = purify(core)
    labels = [(T * x, f"T·a{i}") for i, x in enumerate(a)] + [(D * x, f"D·u{i}") for i, x in enumerate(u)]
    labels += [(T2 * x, f"T2·a{i}") for i, x in enumerate(a)]
    labels += [(D * x, f"D·v{i}") for i, x in enumerate(v)]
    lemma(f"LR{n}-UNIQUE-LIA", f"{n} rows, linear arithmetic only: two splits obeying OLD-RULE-PRORATA with the "
          "same total agree. Nonlinear terms are free integers (" + _legend(pairs, labels) + "); facts: MUL-EQ "
          "and MUL-CMP per row.", [], lin)
    lemma(f"LR{n}-UNIQUE", f"{n} rows: two splits, of T and of T2 = T, that both obey OLD-RULE-PRORATA and add "
          "up to their total are equal (modus ponens over the instances of the lemmas it uses).",
          [*hyps, core], same, uses=("MUL-EQ", "MUL-CMP", f"LR{n}-UNIQUE-LIA"))
    return out


def fill_induction() -> list[Obligation]:
    """The fill of `reference.algorithm.fill` for ANY number of rows, by induction over the rows in fill order.

    `fill` is a loop whose only state is `before`, the sum of the caps of the rows already filled, and whose body is
    `fill_step(A, amount, before, cap)` (tests/test_solver_lemmas.py checks by its syntax tree that `fill` is exactly
    that loop). With S the money the rows before hold, FILL-STEP proves on `fill_step` itself, for all integers
    amount ≥ 0, B ≥ 0, c ≥ 0: if S = min(amount, B) (the induction hypothesis), the new row takes x with
    S + x = min(amount, B + c) (the hypothesis for one row more), 0 ≤ x ≤ c, x > 0 ⇒ S = B (a row holds money only
    if the rows before hold all they can, and with each row at most its cap that means each is full), and
    S + x < amount ⇒ x = c (money is left over only when the row is full). FILL-BASE: before any row, S = 0 =
    min(amount, 0). So for every n, the fill puts min(amount, Σcaps) into the rows, each within its cap, each in
    full before the next holds a cent: DIRECT-FIRST's total and the greedy half of DEFAULT-ORDER and ELECTION-HONORED
    (order) hold for any number of rows, given the order the code fills in (which tests check against the
    specification's tiers)."""
    A = Z3Arith(record=False)
    amount, B, c, S = z3.Ints("amount B c S")
    x = alg.fill_step(A, amount, B, c)
    hyps = [amount >= 0, B >= 0, c >= 0, S == z3.If(amount <= B, amount, B)]
    step = z3.And(S + x == z3.If(amount <= B + c, amount, B + c), 0 <= x, x <= c,
                  z3.Implies(x > 0, S == B), z3.Implies(S + x < amount, x == c))
    cite = "rollsplit proof lemma (induction over the number of rows)"
    return [Obligation(name="lemma__FILL-BASE", kind="lemma", invariant="FILL-BASE", shape="-", expected="unsat",
                       statement="Base of the induction: before any row is filled (before = 0), the rows hold "
                       "min(amount, 0) = 0 for amount ≥ 0.", citation=cite,
                       assertions=[amount >= 0, z3.Not(z3.If(amount <= 0, amount, 0) == 0)]),
            Obligation(name="lemma__FILL-STEP", kind="lemma", invariant="FILL-STEP", shape="-", expected="unsat",
                       statement="Step of the induction, on the code of reference.algorithm.fill_step: if the rows "
                       "filled so far (caps adding up to B) hold S = min(amount, B), one more row of cap c takes x "
                       "with 0 ≤ x ≤ c, the rows then hold min(amount, B + c), x > 0 only if the rows before are full, "
                       "and money is left only if the row is full. Hence the fill is right for any number of rows.",
                       citation=cite, assertions=[*hyps, z3.Not(step)])]


def lemma_obligations(shapes: list[Shape] | None = None) -> list[Obligation]:
    """The lemmas the given shapes use (all lemmas up to MAX_ROWS_OLD rows when `shapes` is None)."""
    rows = {old_rule_rows(s) for s in shapes} - {0} if shapes is not None else set(range(1, MAX_ROWS_OLD + 1))
    return list(_lemma_obligations(tuple(sorted(rows))))


@functools.lru_cache(maxsize=8)
def _lemma_obligations(rows: tuple[int, ...]) -> tuple[Obligation, ...]:
    """Built once per process and row set (prove.py asks for the list once per lemma job)."""
    out: list[Obligation] = []

    def lemma(id_, statement, hyps, concl, citation="rollsplit proof lemma (unbounded integers)"):
        out.append(Obligation(name=f"lemma__{id_}", kind="lemma", invariant=id_, shape="-", expected="unsat",
                              statement=statement, citation=citation, assertions=[*hyps, z3.Not(concl)]))

    # pro-rata rounding (rule 2) on the code of basis_recovered, unbounded integers
    A = Z3Arith(record=False)
    D, bal, b, p = z3.Ints("D balance basis pre1987")
    N = alg.basis_recovered(A, D, bal, b, p)
    pre, den, num = prorata_terms(A, D, bal, b, p)
    q = N - pre
    H, bounds = _prorata_bounds(D, bal, b, p, N)
    lemma("PRORATA-HALF-CENT", "basis_recovered is within half a cent of the exact pro rata share: "
          "|2·q·den − 2·num| ≤ den.", H, z3.Or(den == 0, z3.And(2 * q * den - 2 * num <= den,
                                                                 2 * num - 2 * q * den <= den)))
    lemma("PRORATA-BOUNDS", "0 ≤ basis_recovered ≤ min(basis, D).", H, bounds)
    lemma("PRORATA-FULL", "basis_recovered(D = balance) = basis, for unbounded integers.", H + [D == bal], N == b)
    T, B, Dd, bb = z3.Ints("T B Dd bal")
    lemma("PRORATA-ROUNDING-LEMMA", "|2·T·balance − 2·D·B| ≤ balance, T ≤ B, T ≤ D, D = balance ⇒ T = B "
          "(any half-cent-accurate share of a full distribution is the whole basis).",
          [bb > 0, z3.Abs(2 * T * bb - 2 * Dd * B) <= bb, T <= B, T <= Dd, Dd == bb], T == B)
    d, x, q1, q2 = z3.Ints("d x q1 q2")
    lemma("RHU-UNIQUE", "The quotient of a division is unique: d > 0, d·q ≤ x < d·q + d for q1 and q2 ⇒ q1 = q2.",
          *_rhu(d, x, q1, q2))
    out += fill_induction()
    if not rows:
        return tuple(out)
    # largest remainder (rule 10): schemas on free variables, then per number of rows
    Tv, av, dv, xv, yv = z3.Ints("T a d x y")
    lemma("LR-ROW", "One row of largest_remainder: d > 0, 0 ≤ a ≤ d, 0 ≤ T ≤ d, q = floor(T·a/d), r = T·a − q·d "
          "⇒ 0 ≤ q ≤ a, 0 ≤ r < d, and r > 0 ⇒ q < a.", *_row(Z3Arith(record=False), Tv, av, dv))
    lemma("MUL-STEP", "d·y = x·d when y = x, and d·y = x·d + d when y = x + 1.", *_mul_step(dv, xv, yv))
    lemma("MUL-EQ", "x = y ⇒ x·z = y·z.", *_mul_eq(xv, yv, z3.Int("z")))
    uv, vv = z3.Ints("u v")
    lemma("MUL-CMP", "d > 0, |d·u − d·v| < 2·d ⇒ u − v is −1, 0 or 1, with d·u − d·v = (u − v)·d.",
          *_mul_cmp(dv, uv, vv))
    for n in sorted(rows):
        out += lr_lemmas(n)
    known = {o.invariant for o in out}
    for o in out:
        missing = set(o.uses) - known
        if missing:
            raise AssertionError(f"{o.name} uses lemmas that are not obligations: {sorted(missing)}")
    return tuple(out)


# ---- running the reference on a shape --------------------------------------------------------------
@dataclass
class Run:
    shape: Shape
    sr: SymbolicRequest
    A: Z3Arith
    outcome: alg.Outcome
    valid: z3.BoolRef
    lr_calls: list = field(default_factory=list)   # (T, amounts, shares) of old-rule splits replaced by lemmas

    @property
    def written(self) -> Result:
        """The result as the writer puts it on the wire, read back: what the invariants judge."""
        return result_from_wire(self.outcome.result.to_wire())


@contextlib.contextmanager
def _lr_by_contract(calls: list):
    """Replace largest_remainder by fresh shares; `calls` records (T, amounts, shares) for the contract."""
    def fresh(A, T, amounts):
        s = [z3.Int(f"lr{len(calls)}.share{i}") for i in range(len(amounts))]
        calls.append((T, list(amounts), s))
        return s
    with patched(largest_remainder=fresh):
        yield


def run(shape: Shape, allocate: Callable = None) -> Run:
    """Execute `allocate` (default: the reference) on a symbolic request of `shape`."""
    allocate = allocate or alg.allocate
    sr = symbolic_request(shape)
    A = Z3Arith(record=False)
    calls: list = []
    if allocate is alg.allocate and shape.regime == law.OLD:
        with _lr_by_contract(calls):
            out = allocate(A, sr.request)
    else:
        out = allocate(A, sr.request)
    valid = z3.And(*sr.ranges, *[z3.Not(c.violated) for c in out.checks],
                   *[lr_linear(A, T, a, s) for T, a, s in calls])
    return Run(shape, sr, A, out, valid, calls)


def result_fields(res: Result) -> list:
    """Every field of the Result JSON, in the writer's order: money, row ids, box 7 codes and the regime."""
    out: list = []

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        else:
            out.append(x)
    walk(res.to_wire())
    return out


def money_fields(res: Result) -> list:
    out = [res.amount, res.pretax, res.aftertax, res.basis_recovered, res.taxable_income, res.withholding,
           res.remaining_balance, res.remaining_basis, res.remaining_pre1987_basis]
    for r in res.disbursements:
        f = r.form_1099r
        out += [r.pretax, r.aftertax, r.taxable, r.withholding, f.box1, f.box2a, f.box4, f.box5]
    for r in res.rollovers_60_day:
        out += [r.pretax, r.aftertax, r.taxable]
    return out


def _prorata_unique_instance(A, req, r1: Result, r2: Result) -> z3.BoolRef:
    """RHU-UNIQUE instantiated at PRORATA-ROUNDING's division (d = 2·den, x = 2·num + den)."""
    D = total(A, (d.amount for d in req.disbursements))
    pre, den, num = prorata_terms(A, D, req.balance, req.basis, req.pre1987_basis)
    return instance(_rhu, 2 * den, 2 * num + den, r1.basis_recovered - pre, r2.basis_recovered - pre)


def _lr_unique_instance(A, req, r1: Result, r2: Result) -> z3.BoolRef:
    """LRn-UNIQUE instantiated at the result's after-tax shares (precondition included)."""
    a = [d.amount for d in req.disbursements]
    s1 = [r.aftertax for r in r1.disbursements]
    s2 = [r.aftertax for r in r2.disbursements]
    return z3.Implies(lr_unique_hyp(A, r1.aftertax, r2.aftertax, a, s1, s2), z3.And(*[x == y for x, y in zip(s1, s2)]))


def shape_obligations(shape: Shape, rejecting: bool = False) -> list[Obligation]:
    r = run(shape)
    req, res, A = r.sr.request, r.written, r.A
    name = shape.name()
    key = slug(name)
    common = dict(shape=name, variables=r.sr.variables)
    if rejecting:
        return [Obligation(name=f"rejects__{key}", kind="rejects", invariant="ELIGIBILITY", expected="unsat",
                           statement="Every request of this shape is rejected (a row goes where no money may go).",
                           citation=spec_invariants.BY_ID["ELIGIBILITY"].citation(), assertions=[r.valid], **common),
                compiled_obligation(shape)]
    obs: list[Obligation] = []
    lr_uses = tuple(f"LR{len(a)}-CONTRACT" for _, a, _ in r.lr_calls)
    nondegenerate = z3.And(*[v > 0 for k, v in r.sr.variables.items() if k.endswith(".amount") or k == "basis"])
    obs.append(Obligation(name=f"witness__{key}", kind="witness", invariant="-", expected="sat",
                          statement="The precondition (a valid request of this shape) is satisfiable; "
                          "amounts and basis positive where possible.", citation="non-vacuity",
                          assertions=[r.valid, *[lr_char(A, T, a, s) for T, a, s in r.lr_calls]],
                          preferred=[nondegenerate], uses=lr_uses, symbolic_result=res, **common))
    applicable = [inv for inv in spec_invariants.INVARIANTS if inv.applies(req)]   # read now: a mutant may weaken one
    for inv in applicable:
        hyps = [r.valid]
        uses = lr_uses
        if inv.id == "OLD-RULE-PRORATA":
            hyps += [lr_char(A, T, a, s) for T, a, s in r.lr_calls]
        obs.append(Obligation(name=f"inv__{inv.id}__{key}", kind="invariant", invariant=inv.id, expected="unsat",
                              statement=inv.statement, citation=inv.citation(),
                              assertions=[*hyps, z3.Not(inv.holds(A, req, res))], uses=uses, **common))
    # strength: each "if" part of a rule can happen (the rule is not vacuous on this shape), and each rule about
    # the answer can be broken by some answer (it is not implied by the precondition alone)
    (other, _) = fresh_result(req, "F")
    for inv in applicable:
        for k, premise in enumerate(inv.premises(A, req, res) if inv.premises else ()):
            obs.append(Obligation(name=f"premise{k}__{inv.id}__{key}", kind="premise", invariant=inv.id,
                                  expected="sat", statement=f"The 'if' part of {inv.id} holds for some valid "
                                  "request of this shape: the rule is not vacuous here.", citation=inv.citation(),
                                  assertions=[r.valid, premise], uses=lr_uses, **common))
        if inv.judges == "result" and not _silent(inv.holds(A, req, other)):
            obs.append(Obligation(name=f"sanity__{inv.id}__{key}", kind="sanity", invariant=inv.id,
                                  expected="sat", statement=f"Some answer to a valid request of this shape breaks "
                                  f"{inv.id}: the rule says something the precondition does not.",
                                  citation=inv.citation(), assertions=[r.valid, z3.Not(inv.holds(A, req, other))],
                                  uses=lr_uses, **common))
    obs += validity_obligations(r, key, common)
    for i, (T, a, s) in enumerate(r.lr_calls):
        obs.append(Obligation(name=f"lrpre{i}__{key}", kind="lemma-use", invariant=f"LR{len(a)}-CONTRACT",
                              expected="unsat", statement="The precondition of the largest-remainder lemma holds "
                              "where the reference calls it (amounts ≥ 0, D > 0, 0 ≤ T ≤ D).",
                              citation="rollsplit proof lemma", uses=lr_uses,
                              assertions=[r.valid, z3.Not(lr_pre(A, T, a))], **common))
    # determinacy: two results satisfying every applicable invariant are equal
    (r1, _), (r2, _) = fresh_result(req, "R1"), fresh_result(req, "R2")
    hyps = [r.valid]
    for inv in applicable:
        hyps += [inv.holds(A, req, r1), inv.holds(A, req, r2)]
    hyps.append(_prorata_unique_instance(A, req, r1, r2))
    uses = lr_uses + ("RHU-UNIQUE",)
    if shape.regime == law.OLD:
        hyps.append(_lr_unique_instance(A, req, r1, r2))
        uses += (f"LR{len(req.disbursements)}-UNIQUE",)
    pair = (r1, r2)
    obs.append(Obligation(name=f"determinacy__{key}", kind="determinacy", invariant="DETERMINACY", expected="unsat",
                          statement="The invariants admit exactly one result: two results satisfying all of them "
                          "are equal in every field (money, row ids, box 7 codes, the regime).",
                          citation="rollsplit determinacy",
                          assertions=[*hyps, z3.Or(*[z3.Not(A.eq(x, y))
                                                     for x, y in zip(result_fields(r1), result_fields(r2))])],
                          uses=uses, **common))
    obs[-1].pair = pair   # the two results, for replaying a refutation of a weakened specification
    return obs + [compiled_obligation(shape)]


def _validity_terms(r: Run):
    """(reference accepts, the contract accepts the reference's written answer, the contract accepts some answer F
    that obeys every invariant, hypotheses). The last is what makes the claim not circular: an algorithm whose own
    split breaks a value rule (after-tax money into a plan that takes none, from a wrong fill order) rejects a request
    that the contract accepts, because a right answer F exists."""
    req, A = r.sr.request, r.A
    reference_accepts = z3.And(*r.sr.ranges, *[z3.Not(c.violated) for c in r.outcome.checks])
    accepts_written = z3.And(validity.money_in_range(A, req), validity.value_rules(A, req, r.written))
    F, _ = fresh_result(req, "V")
    right = [inv.holds(A, req, F) for inv in spec_invariants.INVARIANTS if inv.applies(req)]
    accepts_some = z3.And(validity.money_in_range(A, req), validity.value_rules(A, req, F), *right)
    # the old rule's split, by its lemma (LRn-CONTRACT: the shares add up, lie in their rows and obey the rule); and
    # RHU-UNIQUE at the pro rata division of F and of the reference, as determinacy uses it
    hyps = [z3.And(lr_linear(A, T, a, s), lr_char(A, T, a, s)) for T, a, s in r.lr_calls]
    hyps.append(_prorata_unique_instance(A, req, F, r.written))
    if r.shape.regime == law.OLD:   # and LRn-UNIQUE at the old rule's split of F and of the reference
        hyps.append(_lr_unique_instance(A, req, F, r.written))
    return reference_accepts, accepts_written, accepts_some, hyps


def validity_obligations(r: Run, key: str, common: dict) -> list[Obligation]:
    """What the reference accepts (the parser's money ranges, then no value check violated), the contract's own
    validity rules (`spec.validity`) accept, judged on the reference's answer (the invariants, proved of that answer,
    make it the only one)."""
    reference_accepts, accepts_written, accepts_some, hyps = _validity_terms(r)
    uses = tuple(f"LR{len(a)}-CONTRACT" for _, a, _ in r.lr_calls) + ("RHU-UNIQUE",)
    if r.shape.regime == law.OLD:
        uses += (f"LR{len(r.sr.request.disbursements)}-UNIQUE",)
    base = dict(kind="validity", expected="unsat", citation="wire contract 1.1, Request and Error", uses=uses, **common)
    out = [Obligation(name=f"validity__{key}", invariant="VALIDITY",
                      statement="What the reference accepts, the contract's rules of validity (money ranges, the "
                      "value rules, elections adding up, no money where none may go) accept.",
                      assertions=[*hyps, reference_accepts, z3.Not(accepts_written)], **base)]
    # The complete direction (what the contract accepts, the reference accepts), stated with a fresh answer F that
    # obeys every invariant and the value rules, is not an obligation: z3 settled it in 1-2 s on some shapes and ran
    # out of 20 s on 7 of 31 sampled ones (2026-11-29), depending on what it had solved before. The mutants that
    # reject too much are refuted by a search for it (expected sat, `validity_obligation`), and a wrong table of the
    # algorithm is caught by tests/test_independent_spec.py.
    return out


def validity_obligation(r: Run, key: str, common: dict, name: str = "validity") -> Obligation:
    """For a mutant (expected sat): its acceptance differs from the contract's in either direction."""
    reference_accepts, accepts_written, accepts_some, hyps = _validity_terms(r)
    return Obligation(name=f"{name}__{key}", kind="validity", invariant="VALIDITY", expected="unsat",
                      statement="The calculator accepts a request of this shape exactly when the contract's rules of "
                      "validity say it is valid.", citation="wire contract 1.1, Request and Error",
                      assertions=[*hyps, z3.Or(z3.And(reference_accepts, z3.Not(accepts_written)),
                                               z3.And(accepts_some, z3.Not(reference_accepts)))],
                      uses=tuple(f"LR{len(a)}-CONTRACT" for _, a, _ in r.lr_calls), **common)


def _silent(claim) -> bool:
    """A rule that says nothing about a shape (no row it speaks of: no rollover to order, no 60-day rollover):
    its formula on an arbitrary answer simplifies to true. No sanity witness is asked of it there; every rule
    about the answer must still have one on some shape of the bundle (`solver.prove.silent_rules`)."""
    return isinstance(claim, bool) and claim or z3.is_true(z3.simplify(claim))


def compiled_obligation(shape: Shape) -> Obligation:
    """The code that answers requests (reference.compiled) equals the algorithm proved here, on this shape."""
    from rollsplit.solver import compiled_proof
    f = compiled_proof.compiled_formula(shape)
    statement = compiled_proof.STATEMENT + (f" NOT INTERPRETABLE AS IS: {f.problem}" if f.problem else "")
    ob = Obligation(name=f"compiled__{slug(shape.name())}", kind="compiled", invariant="COMPILED-EQUALS-ALGORITHM",
                    shape=shape.name(), expected="unsat", statement=statement,
                    citation="rollsplit: what runs is what is proved", assertions=f.assertions,
                    variables=f.variables)
    ob.source_sha256 = f.source_sha256   # the source this obligation is about: what a proof of it lets answer
    return ob


def mutant_obligations(shape: Shape, mutant) -> list[Obligation]:
    """What refutes a mutant on a shape (sat, then replayed on the concrete mutant), by where its mistake is:
      algorithm, shared table, writer: valid_mutant ∧ ¬inv(written answer), per invariant; and the mutant's
                 acceptance ≠ the contract's validity rules (an over-strict or lax check);
      dispatch:  the compiled function the (mutated) cache gives another request of the key ≠ the algorithm;
      specification: two different answers both obeying the (weakened) invariants (determinacy).
    Built while the mutant's patch is in place. Parser mutants are refuted by the parse checks instead."""
    key = slug(shape.name())
    with mutant.active():
        if mutant.where == "dispatch":
            ob = compiled_obligation(shape)
            ob.name, ob.kind, ob.expected = f"mutant__{mutant.name}__compiled__{key}", "mutant-compiled", "sat"
            return [ob]
        if mutant.where == "specification":
            obs = [o for o in shape_obligations(shape) if o.kind == "determinacy"]
            for ob in obs:
                ob.name, ob.kind, ob.expected = f"mutant__{mutant.name}__determinacy__{key}", "mutant-determinacy", "sat"
            return obs
        r = run(shape, allocate=mutant.allocate)
        req, res, A = r.sr.request, r.written, r.A
        obs = [Obligation(name=f"mutant__{mutant.name}__{inv.id}__{key}", kind="mutant", invariant=inv.id,
                          shape=shape.name(), expected="sat", statement=inv.statement, citation=inv.citation(),
                          assertions=[r.valid, z3.Not(inv.holds(A, req, res))], variables=r.sr.variables)
               for inv in spec_invariants.INVARIANTS if inv.applies(req)]
        ob = validity_obligation(r, key, dict(shape=shape.name(), variables=r.sr.variables),
                                 name=f"mutant__{mutant.name}__validity")
        ob.kind, ob.expected = "mutant-validity", "sat"
        return obs + [ob]


def lemma_timings(rows=range(1, MAX_ROWS_OLD + 1), repeat: int = 3, timeout_s: float = 20.0) -> list[list]:
    """Seconds z3 takes on each largest-remainder lemma, per number of rows (best of `repeat` runs);
    each cell is the time or the status when it is not unsat."""
    parts = ("SUM", "K", "CONTRACT-LIA", "CONTRACT", "UNIQUE-LIA", "UNIQUE")
    table = []
    for n in rows:
        by_id = {o.invariant: o for o in lr_lemmas(n)}
        cells = []
        for part in parts:
            best, status = None, "unsat"
            for _ in range(repeat):
                s = by_id[f"LR{n}-{part}"].solver()
                s.set("timeout", int(timeout_s * 1000))
                t = time.perf_counter()
                r = str(s.check())
                dt = time.perf_counter() - t
                status = r if r != "unsat" else status
                best = dt if best is None else min(best, dt)
            cells.append(f"{best:.3f}" if status == "unsat" else status)
        table.append([n, *cells])
    return [["rows", *parts], *table]


if __name__ == "__main__":   # python -m rollsplit.solver.obligations: the lemma timing table
    from tabulate import tabulate

    from rollsplit.machine import machine
    head, *body = lemma_timings()
    print(f"z3 {z3.get_version_string()}, {machine()}; "
          "seconds per largest-remainder lemma (best of 3)")
    print(tabulate(body, head, tablefmt="github"))
    schemas = [o for o in lemma_obligations([]) + list(_lemma_obligations((1,)))
               if o.invariant in ("LR-ROW", "MUL-STEP", "MUL-EQ", "MUL-CMP")]
    rows_ = []
    for o in schemas:
        s = o.solver()
        s.set("timeout", 20000)
        t = time.perf_counter()
        r = str(s.check())
        rows_.append([o.invariant, r, f"{time.perf_counter() - t:.3f}"])
    print()
    print(tabulate(rows_, ["schema (all n)", "result", "seconds"], tablefmt="github"))
