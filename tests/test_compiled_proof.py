"""The proof that the compiled fast path equals the proved algorithm (solver/compiled_proof.py) can fail:
a tracer that writes a wrong line, and generated code the interpreter cannot read, are both caught."""

from __future__ import annotations

import ast

import pytest
import z3

from rollsplit.reference import compiled
from rollsplit.solver import compiled_proof as CP
from rollsplit.solver.shapes import default_shapes, rejecting_shapes, small_shapes
from rollsplit.solver.z3_backend import Shape

SHAPES = small_shapes()


def prove(shape):
    """The compiled obligation of `shape` through the prover's own pipeline (check, judge, replay)."""
    from rollsplit.solver import obligations as O
    from rollsplit.solver.prove import _process
    return _process(O.compiled_obligation(shape), shape, 30.0, None)
SIXTY = Shape(directs=(), sixty=("traditional_ira",), rmd=True, pre1987=True)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name() for s in SHAPES])
def test_the_compiled_code_of_each_small_shape_is_proved_equal(shape):
    r = prove(shape)
    assert r.status == "proved", r
    assert CP.compiled_formula(shape).fields >= 17   # every money field of the Result was compared


@pytest.mark.parametrize("shape", rejecting_shapes(), ids=[s.name() for s in rejecting_shapes()])
def test_a_shape_that_is_always_rejected_compiles_to_code_that_always_declines(shape):
    f = CP.compiled_formula(shape)
    assert f.fields == 0 and not f.problem
    assert prove(shape).status == "proved"


def test_every_default_shape_compiles_into_code_the_interpreter_reads():
    for shape in default_shapes()[::25]:
        assert not CP.compiled_formula(shape).problem, shape.name()


def _patch(monkeypatch, method: str, line: str):
    original = getattr(compiled.TraceArith, method)

    def wrong(self, *xs):
        tape = compiled._any_traced(*xs)
        if tape is None:
            return original(self, *xs)
        return tape.emit(line.format(*[compiled._c(x) for x in xs]))
    monkeypatch.setattr(compiled.TraceArith, method, wrong)


@pytest.mark.parametrize("method, line", [
    ("round_half_up", "({0} * {1}) // {2} if {2} > 0 else 0"),     # truncation instead of rounding half up
    ("min", "{0} if {0} < {1} - 1 else {1}"),                       # an off-by-one comparison
    ("max", "{0} if {0} <= {1} else {1}"),                          # min written for max
])
def test_a_wrong_line_written_by_the_tracer_is_refuted_and_replayed(monkeypatch, method, line):
    _patch(monkeypatch, method, line)
    r = prove(SIXTY)
    assert r.status == "refuted" and r.detail["counterexample"]["confirmed"], r


def test_an_equivalent_line_is_still_proved(monkeypatch):
    _patch(monkeypatch, "min", "{0} if {0} < {1} + 1 else {1}")   # a <= b written as a < b + 1
    assert prove(SIXTY).status == "proved"


@pytest.mark.parametrize("source", [
    "def compiled(M, I):\n    m0, = M\n    t0 = m0 ** 2\n    return {'a': t0}\n",          # an operator it lacks
    "def compiled(M, I):\n    m0, = M\n    t0 = abs(m0)\n    return {'a': t0}\n",          # a call
    "def compiled(M, I):\n    m0, = M\n    t0 = 7 // m0\n    return {'a': t0}\n",          # an unguarded division
    "def compiled(M, I):\n    m0, = M\n    t0 = 7 // m0 if m0 > -1 else 0\n    return {'a': t0}\n",  # a weak guard
    "def compiled(M, I):\n    m0, = M\n    t0 = 7 // 0\n    return {'a': t0}\n",           # by zero
    "def compiled(M, I):\n    m0, = M\n    return {'a': t1}\n",                          # an unassigned name
    "def compiled(M, I):\n    m0, = M\n    while m0:\n        pass\n    return {}\n",    # a statement it lacks
])
def test_the_interpreter_refuses_what_it_does_not_give_a_meaning_to(source):
    with pytest.raises(CP.Unsupported):
        CP._Meaning([z3.Int("x")], []).run(ast.parse(source).body[0])


def test_the_interpreter_gives_guarded_division_python_s_floor_meaning():
    src = "def compiled(M, I):\n    m0, m1, = M\n    t0 = m0 // m1 if m1 > 0 else 0\n    t1 = -t0\n" \
          "    if t0 > 3:\n        return None\n    return {'q': t0, 'n': t1, 'id': I[0]}\n"
    x, y = z3.Ints("x y")
    guard, out = CP._Meaning([x, y], ["row"]).run(ast.parse(src).body[0])
    assert out["id"] == "row"
    ns: dict = {}
    exec(src, ns)
    for a, b in [(7, 2), (-7, 2), (9, 0), (-9, -2), (2, 3)]:
        py = ns["compiled"]([a, b], ["row"])
        sub = [(x, z3.IntVal(a)), (y, z3.IntVal(b))]
        declined = z3.is_true(z3.simplify(z3.substitute(guard, *sub)))
        assert declined == (py is None)
        if py is not None:
            assert z3.simplify(z3.substitute(out["q"], *sub)).as_long() == py["q"]
            assert z3.simplify(z3.substitute(out["n"], *sub)).as_long() == py["n"]


def test_an_id_written_into_the_code_as_a_constant_is_refuted(monkeypatch):
    """Requests of one shape share one compiled function whatever their ids: an id baked in at compile time
    (instead of read from I) would answer later requests with the first request's ids."""
    import re
    original = compiled.compile_shape

    def baking(req):
        fn = original(req)
        ids = compiled.ids_of(req)
        source = re.sub(r"I\[(\d+)\]", lambda m: repr(ids[int(m.group(1))]), fn.source)
        ns: dict = {}
        exec(source, ns)
        ns["compiled"].source = source
        return ns["compiled"]
    monkeypatch.setattr(compiled, "compile_shape", baking)
    f = CP.compiled_formula(SIXTY)
    assert "id" in f.problem and "!=" in f.problem


@pytest.mark.parametrize("compiled_value, reference_value", [
    (True, 1), (False, 0), (z3.Int("a") < z3.Int("b"), z3.If(z3.Int("a") < z3.Int("b"), 1, 0)), ("1", 1), (None, 0)])
def test_a_money_field_must_be_an_integer_on_both_sides(compiled_value, reference_value):
    pairs, problems = [], []
    CP._pairs("taxable", compiled_value, reference_value, pairs, problems)
    assert problems and not pairs


@pytest.mark.parametrize("source", [
    "def compiled(M, I):\n    return {}\ncompiled = None\n",                # more than the function
    "def compiled(M, I, extra=1):\n    return {}\n",                          # another signature
    "def other(M, I):\n    return {}\n",
    "def compiled(M, I):\n    m0, = M\n    I = ['x']\n    return {'id': I[0]}\n",   # rebinding the ids
])
def test_the_function_itself_must_be_the_one_the_tracer_writes(source):
    with pytest.raises(CP.Unsupported):
        CP._Meaning([z3.Int("x")], ["row"]).run(CP._function(source))


@pytest.mark.parametrize("contract", ["pretax_aftertax", "designated_roth"])
def test_plan_and_destinations_of_one_class_give_the_same_generated_source(contract):
    """The proved shapes take one destination per class and plan 401a; a request that differs only in plan or
    in destinations of the same class runs the very same source (so its proof is the proved shape's)."""
    import dataclasses
    from rollsplit.solver.shapes import classes
    from rollsplit.solver.z3_backend import symbolic_request

    def source(shape, plan="401a"):
        req = dataclasses.replace(symbolic_request(shape).request, plan=plan)
        return compiled.compile_shape(req).source
    checked = 0
    for members in classes(contract, "direct").values():
        assert len({source(Shape(contract=contract, directs=(m,))) for m in members}) == 1, members
        checked += len(members)
    for members in classes(contract, "sixty").values():
        assert len({source(Shape(contract=contract, directs=(), sixty=(to,))) for to, _ in members}) == 1, members
    assert checked >= 6
    assert len({source(Shape(contract=contract, directs=()), plan) for plan in ("401a", "403b", "457b_gov")}) == 1
