"""The claim of solver/shapes.py that makes destination classes enough: two destinations of the same class
give the same z3 formulas (validity, every result field, every invariant), formula for formula, so proving
one representative proves every member. Also: the class signature really is what the code looks at."""

from __future__ import annotations

import pytest
import z3

from rollsplit.solver import obligations as O
from rollsplit.solver import shapes as S
from rollsplit.solver.z3_backend import Shape
from rollsplit.spec import law
from rollsplit.spec.invariants import INVARIANTS


def _formulas(shape: Shape) -> dict:
    """Everything a proof about `shape` is built from: validity, result fields (strings too), invariants."""
    r = O.run(shape)
    req, res, A = r.sr.request, r.outcome.result, r.A
    out = {"valid": r.valid}
    for i, x in enumerate(O.money_fields(res)):
        out[f"field{i}"] = x if isinstance(x, z3.ExprRef) else z3.IntVal(x)
    out["strings"] = (res.regime, tuple(d.form_1099r.box7 for d in res.disbursements))
    for inv in INVARIANTS:
        if inv.applies(req):
            out[inv.id] = inv.holds(A, req, res)
    return out


def _same(a: dict, b: dict) -> list[str]:
    assert a.keys() == b.keys()
    diff = []
    for k in a:
        x, y = a[k], b[k]
        equal = x == y if k == "strings" else (x if not isinstance(x, z3.ExprRef) else x).eq(y)
        if not equal:
            diff.append(k)
    return diff


def _class_cases():
    for contract in law.CONTRACTS:
        for method in ("direct", "sixty_day"):
            for sig, members in S.classes(contract, method).items():
                for member in members[1:]:
                    yield pytest.param(contract, method, members[0], member,
                                       id=f"{contract}-{method}-{member[0]}{'' if member[1] else '-noat'}")


def _shape(contract, method, dest, regime=law.NEW):
    extra = dict(rmd=True, pre1987=contract == "pretax_aftertax", regime=regime)
    if method == "direct":
        # a second direct row of another class, so ranks and order matter
        other = S.live(contract, "direct")[0]
        return Shape(contract=contract, directs=(dest, other), paid=True, **extra)
    return Shape(contract=contract, directs=(), paid=True, sixty=(dest[0], S.live(contract, "sixty_day")[0][0]), **extra)


@pytest.mark.parametrize("contract,method,rep,member", list(_class_cases()))
def test_members_of_a_class_give_the_same_formulas(contract, method, rep, member):
    regimes = (law.NEW, law.OLD) if contract == "pretax_aftertax" else (law.NEW,)
    for regime in regimes:
        a = _formulas(_shape(contract, method, rep, regime))
        b = _formulas(_shape(contract, method, member, regime))
        assert _same(a, b) == [], f"{member} differs from its representative {rep} under {regime}"


def test_the_check_can_fail_across_classes():
    """Destinations of different classes do give different formulas (the comparison above is not vacuous)."""
    live = S.live("pretax_aftertax", "direct")
    a = _formulas(_shape("pretax_aftertax", "direct", live[0]))
    b = _formulas(_shape("pretax_aftertax", "direct", live[-1]))
    assert _same(a, b)


def test_every_destination_is_in_exactly_one_class():
    for contract in law.CONTRACTS:
        for method in ("direct", "sixty_day"):
            members = [m for ms in S.classes(contract, method).values() for m in ms]
            accepts = (True, False) if method == "direct" else (True,)
            assert sorted(members) == sorted((to, a) for to in law.DESTINATIONS for a in accepts)


def test_default_bundle_reaches_the_issue_bound_with_every_live_class_in_every_position():
    shapes = S.default_shapes()
    assert max(len(s.directs) for s in shapes) == max(S.BEYOND) and max(len(s.sixty) for s in shapes) == 3
    assert any(len(s.directs) == 4 and s.paid and len(s.sixty) == 3 for s in shapes)
    pta = "pretax_aftertax"
    for rep in S.live(pta, "direct"):
        for pos in range(4):
            assert any(s.contract == pta and s.regime == law.NEW and len(s.directs) == 4 and s.directs[pos] == rep
                       for s in shapes), (rep, pos)
    assert len(set(shapes)) == len(shapes)


def test_select_rejects_unknown_names_with_a_sentence():
    with pytest.raises(KeyError) as e:
        S.select(["no-such-shape"])
    assert "unknown shape" in e.value.args[0]
    one = S.small_shapes()[0]
    assert S.select([one.name()]) == [one]


def test_default_bundle_holds_every_mix_up_to_three_and_the_payment_in_every_place():
    """Every sequence of live classes for 1-3 direct rollovers (with a payment), every sequence for 1-2 60-day
    rollovers, the payment first and in the middle, and 5 and 6 direct rollovers with every class."""
    from itertools import product
    shapes = S.default_shapes()
    pta = "pretax_aftertax"
    dr = S.live(pta, "direct")
    for n in (1, 2, 3):
        for seq in product(dr, repeat=n):
            assert any(s.contract == pta and s.regime == law.NEW and s.directs == seq and s.paid for s in shapes), seq
    for n in (1, 2):
        for seq in product([to for to, _ in S.live(pta, "sixty_day")], repeat=n):
            assert any(s.contract == pta and s.sixty == seq and not s.directs for s in shapes), seq
    assert any(s.paid_at == 0 and s.directs for s in shapes)
    assert any(s.paid_at and 0 < s.paid_at < len(s.directs) for s in shapes)
    for n in S.BEYOND:
        assert {c for s in shapes if len(s.directs) == n for c in s.directs} == set(dr)
