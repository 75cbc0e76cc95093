"""Closed-form formulas (solver/sympy_backend.py, solver/formulas.py): the reference run on sympy symbols,
resolved per behaviour region, evaluated on concrete points and compared with the concrete reference."""

from __future__ import annotations

import random

import pytest
import sympy

from rollsplit.reference.mutants import calculate_with
from rollsplit.solver import sympy_backend as sb
from rollsplit.solver.formulas import (D_SYM, P_SYM, T_SYM, check_report, derive, expand_back, report_section,
                             representative_shapes, shape_markdown)
from rollsplit.solver.regions import explore, region_of
from rollsplit.solver.z3_backend import Shape
from rollsplit.spec import law
from rollsplit.spec.arith import INT

TRAD = ("traditional_ira", True)
# 1 direct + paid + 1 sixty-day, new rule, no elections
MAIN = Shape(contract="pretax_aftertax", directs=(TRAD,), paid=True, sixty=("traditional_ira",))


@pytest.fixture(scope="module")
def main_formulas():
    return derive(MAIN, explore(MAIN, boundaries=True))


# ---- the sympy backend ---------------------------------------------------------------------------------
def test_rounding_functions_are_exact_integers_beyond_float_precision():
    rng = random.Random(7)
    for _ in range(300):
        z = rng.choice((1, 2, 3, 100, rng.randint(1, 2**53), rng.randint(1, 2**60)))
        x, y = rng.randint(0, 2**53), rng.randint(0, 2**53)
        got = sb.round_half_up(sympy.Integer(x), sympy.Integer(y), sympy.Integer(z))
        assert got.is_Integer and int(got) == INT.round_half_up(x, y, z)
        q = sb.floordiv(sympy.Integer(x * y), sympy.Integer(z))
        assert int(q) == INT.floordiv(x * y, z)
    assert sb.round_half_up(sympy.Integer(5), sympy.Integer(1), sympy.Integer(0)) == 0   # z = 0 -> 0, as spec.arith


def test_min_and_max_choose_the_arm_z3_chooses():
    A = sb.SympyArith()
    x, y = sympy.symbols("x y", integer=True, nonnegative=True)
    m, M = A.min(x, y), A.max(x, y)
    for a, b in ((1, 2), (2, 1), (3, 3)):
        point = {x: sympy.Integer(a), y: sympy.Integer(b)}
        assert sb.resolve(m, point) == (x if a <= b else y)
        assert sb.resolve(M, point) == (x if b <= a else y)
    assert len(A.conditions) == 2


def test_ite_on_compound_conditions_agrees_with_the_int_backend():
    """ite on and/or/not/implies/eq (nested into single-comparison branches) picks the arm INT picks."""
    A = sb.SympyArith()
    x, y, z = sympy.symbols("x y z", integer=True, nonnegative=True)
    conds = {
        "and": (lambda B, a, b, c: B.and_(B.le(a, b), B.lt(b, c))),
        "or": (lambda B, a, b, c: B.or_(B.lt(a, b), B.eq(b, c))),
        "not": (lambda B, a, b, c: B.not_(B.le(a, c))),
        "implies": (lambda B, a, b, c: B.implies(B.lt(a, b), B.le(c, b))),
        "eq": (lambda B, a, b, c: B.eq(a, c)),
        "not-eq": (lambda B, a, b, c: B.not_(B.eq(a, b))),
    }
    for name, cond in conds.items():
        term = A.ite(cond(A, x, y, z), x + 1, y + 2)
        for a, b, c in ((0, 0, 0), (1, 2, 3), (3, 2, 1), (2, 2, 5), (5, 2, 5), (4, 4, 4), (0, 7, 7)):
            want = INT.ite(cond(INT, a, b, c), a + 1, b + 2)
            got = term.xreplace({x: sympy.Integer(a), y: sympy.Integer(b), z: sympy.Integer(c)})
            assert got == want, (name, a, b, c)


def test_sympy_request_mirrors_the_z3_request():
    shape = representative_shapes()[1]          # RMD and pre-1987 basis
    sr = sb.sympy_request(shape)
    assert set(sr.variables) == set(sr.z3_variables)
    req = sr.request
    assert [d.id for d in req.disbursements] == ["d0", "paid"]
    assert str(req.disbursements[1].amount) == "paid" and str(req.pre1987_basis) == "pre1987"
    assert all(s.is_integer and s.is_nonnegative for s in sr.variables.values())


# ---- formulas against the reference ------------------------------------------------------------------------
def test_main_shape_formulas_agree_with_the_reference(main_formulas):
    rep = check_report(MAIN, n=40, seed=1, sf=main_formulas)
    assert rep.mismatches == []
    assert rep.regions == len(main_formulas.regions) >= 8   # every region z3 found was reached by a point
    assert all(n >= 1 for n in rep.per_region.values()), rep.per_region   # every region's formulas were evaluated
    assert rep.points >= 40


@pytest.mark.parametrize("shape", [
    Shape(contract="designated_roth", qualified_roth=True, directs=(("roth_ira", True),), paid=True),
    Shape(contract="pretax_aftertax", directs=(TRAD, ("roth_ira", True)), paid=True, direct_election="amounts"),
    Shape(contract="pretax_aftertax", directs=(), paid=True, sixty=("traditional_ira", "roth_ira"),
          sixty_election="order", sixty_order=(1,)),
    Shape(contract="pretax_aftertax", regime=law.OLD, directs=(TRAD,), paid=True),
], ids=lambda s: s.name())
def test_formulas_agree_with_the_reference(shape):
    # the old rule's remainders are nonlinear: z3's boundary witnesses would cost most of the time
    rep = check_report(shape, n=30, seed=3, boundaries=shape.regime != law.OLD)
    assert rep.mismatches == []
    assert rep.points >= len(rep.per_region) and all(n >= 1 for n in rep.per_region.values())


def test_the_check_can_fail_on_a_mutant(main_formulas):
    """The same formulas and points against a calculator that ignores 60-day rollovers: mismatches."""
    rep = check_report(MAIN, n=20, seed=1, sf=main_formulas,
                       calculate=lambda req: calculate_with("sixty_day_ignored", req))
    assert any(m["kind"] == "differs" and "s0.pretax" in m["why"] for m in rep.mismatches)


def test_shown_formulas_expand_back_to_the_request_amounts(main_formulas):
    for rf in main_formulas.regions:
        for path, shown in rf.shown.items():
            assert sympy.expand(expand_back(shown, rf.abbreviations) - rf.formulas[path]) == 0, path


def _holds(cond, rf, point) -> bool:
    lhs = expand_back(cond.lhs, rf.abbreviations).xreplace(point)
    rhs = expand_back(cond.rhs, rf.abbreviations).xreplace(point)
    return bool(cond.func(lhs, rhs))


@pytest.mark.parametrize("index", [0, 1])
def test_shown_conditions_hold_at_every_witness_of_their_region(index, main_formulas):
    """The printed conditions (merged into equalities, implied ones dropped) are true where the region is."""
    sf = main_formulas if index == 0 else derive(representative_shapes()[1])   # with RMD and pre-1987 basis
    for rf in sf.regions:
        point = sf.run.sr.point(rf.witness)
        for cond in list(rf.conditions) + list(sf.everywhere):
            assert _holds(cond, rf, point), (rf.key, cond, rf.witness)
        for path, f in rf.display.items():     # what is printed, with the region's x = 0, is still right here
            assert expand_back(f, rf.abbreviations).xreplace(point) == rf.formulas[path].xreplace(point), path


# ---- the law's formula for taxable cash ------------------------------------------------------------------
def test_taxable_cash_is_the_laws_max_in_every_region(main_formulas):
    """Notice 2014-54 with §402(c)(2): cash kept is taxable for max(0, P − ΣDR − Σ60). In each region the
    formula is either 0 or exactly P − d0 − s0 (with the region's own x = 0 applied), and it is the one that
    max picks at the region's witness."""
    d0, s0 = main_formulas.run.sr.variables["d0.amount"], main_formulas.run.sr.variables["s0.amount"]
    seen = set()
    for rf in main_formulas.regions:
        zeros = {c.lhs: 0 for c in rf.conditions if isinstance(c, sympy.Eq) and c.rhs == 0 and c.lhs.is_Symbol}
        law_formula = (P_SYM - d0 - s0).xreplace(zeros)
        taxable = rf.display["paid.taxable"]
        assert sympy.expand(rf.shown["paid.taxable"].xreplace(zeros) - taxable) == 0
        assert taxable == 0 or sympy.expand(taxable - law_formula) == 0, (taxable, rf.conditions)
        point = main_formulas.run.sr.point(rf.witness)
        P = int(rf.formulas["distribution.pretax"].xreplace(point))
        at = int(rf.formulas["paid.taxable"].xreplace(point))
        assert at == max(0, P - rf.witness["d0.amount"] - rf.witness["s0.amount"])
        seen.add("zero" if taxable == 0 else "P - d0 - s0")
    assert seen == {"zero", "P - d0 - s0"}
    assert any(rf.display["paid.taxable"] == P_SYM - d0 - s0 for rf in main_formulas.regions)


def test_taxable_cash_on_the_seed_004_example():
    """DOMAIN.md §3, seed 004: $100,000 account, $20,000 after-tax; $60,000 directly to an IRA, $20,000 kept.
    P = $64,000; the cash kept is taxable for $64,000 − $60,000 = $4,000 = max(0, P − ΣDR − Σ60)."""
    shape = Shape(contract="pretax_aftertax", directs=(TRAD,), paid=True)
    sf = derive(shape)
    values = {"d0.amount": 6_000_000, "paid.amount": 2_000_000, "balance": 10_000_000, "basis": 2_000_000,
              "other_eligible_this_year": 0}
    key = region_of(sf.found, sf.found.symbolic, values)
    rf = sf.by_key()[key]
    d0 = sf.run.sr.variables["d0.amount"]
    assert sympy.expand(rf.display["paid.taxable"] - (P_SYM - d0)) == 0        # Σ60 = 0 in this shape
    assert rf.display["d0.pretax"] == d0                                           # the rollover is all pre-tax
    answer = sf.evaluate(key, values)
    assert answer["distribution"]["pretax"] == 6_400_000
    assert answer["disbursements"][1]["taxable"] == 400_000 == max(0, 6_400_000 - 6_000_000 - 0)
    assert answer["withholding"] == 80_000                                       # 20% of $4,000 (§3405(c))


def test_named_quantities_are_the_distribution_split(main_formulas):
    for rf in main_formulas.regions:
        assert rf.shown["distribution.amount"] == D_SYM
        assert rf.shown["distribution.aftertax"] == T_SYM
        assert rf.shown["distribution.pretax"] == P_SYM


# ---- the report -------------------------------------------------------------------------------------------
def test_markdown_names_the_regions_and_formulas(main_formulas):
    md = shape_markdown(main_formulas)
    assert md.startswith(f"### {MAIN.name()}")
    assert "z3 coverage: proved" in md
    assert "`P - d0 - s0`" in md and "round_half_up(P - d0, 20, 100)" in md
    assert md.count("**Region ") == len(main_formulas.regions)


def test_report_section_on_a_small_shape():
    shape = Shape(contract="designated_roth", qualified_roth=True, directs=(("roth_ira", True),), paid=True)
    md = report_section([shape])
    assert md.startswith("## Closed-form formulas (sympy)")
    assert f"### {shape.name()}" in md
    assert "(z3 coverage: proved)" in md and ": no mismatch." in md and "MISMATCH" not in md
    assert md.count("**Region ") == 2   # the direct rollover empty or not
    # a qualified designated Roth distribution is all after-tax and nothing of it is taxable (§402A(d)(1))
    for row in ("| distribution.pretax | `0` |", "| distribution.aftertax | `D` |", "| taxable_income | `0` |"):
        assert row in md


@pytest.mark.parametrize("argv", [["formulas", "--check", "many"], ["formulas", "--nonsense"],
                                  ["execute", "examples/seed_004.json", "--bench"]])
def test_command_usage_errors_are_sentences(argv, capsys):
    from rollsplit.cli import main
    try:
        code = main(argv)
    except SystemExit as e:   # argparse
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert ("usage: rollsplit " + argv[0]) in err or "not both" in err, err


def test_a_missing_region_is_caught_or_checked_honestly(main_formulas):
    """Drop one region from z3's list: if coverage still claims 'proved', the points of the dropped region are
    reported as uncovered; if the enumeration is marked incomplete, they are checked with the formulas resolved
    at each point and counted apart."""
    import dataclasses
    from rollsplit.solver.regions import Boundary
    dropped = main_formulas.regions[0]
    rest = [r for r in main_formulas.found.regions if r.key != dropped.key]
    # the dropped region's witness stays among the sampled points (as a boundary witness)
    keep = [Boundary(atom_key="test", region_key=dropped.key, witness=dropped.witness)]
    lying = derive(MAIN, dataclasses.replace(main_formulas.found, regions=rest, boundaries=keep, coverage="proved"),
                   readable=False)
    rep = check_report(MAIN, n=40, seed=1, sf=lying)
    assert rep.mismatches and {m["kind"] for m in rep.mismatches} == {"uncovered"}
    honest = derive(MAIN, dataclasses.replace(main_formulas.found, regions=rest, boundaries=keep,
                                              coverage="unknown (test)"), readable=False)
    rep = check_report(MAIN, n=40, seed=1, sf=honest)
    assert rep.mismatches == [] and rep.unenumerated >= 1
