"""The bundle says exactly what is proved: obligations closed by z3's `simplify` alone are marked and counted
apart, and the READMEs no longer claim proofs for inputs the bundle does not cover.

- an obligation that `simplify` reduces to false is marked trivial (and still proved by the solver); one that
  needs the solver is not; a witness (expected sat) has no mark;
- the mark of every obligation of a real shape agrees with `simplify` of the very file written for it;
- results.json counts them, REPORT.md counts them apart, marks an invariant trivial on every shape and has
  the sections "What is proved, what is tested, what is neither" and "Trusted base";
- README.md and solver/README.md do not claim proofs "for all inputs of every request shape" or "each live
  class in every position", and both name the trusted base and the unchecked `sources_sha256`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import z3

import rollsplit.solver.prove as P
import rollsplit.solver.report as report_module
from rollsplit.solver import obligations as O
from rollsplit.solver import shapes as S

ROOT = Path(__file__).resolve().parent.parent


def _ob(name: str, assertions: list, expected: str = "unsat", invariant: str = "CONSERVE-ROW",
        kind: str = "invariant") -> O.Obligation:
    return O.Obligation(name=name, kind=kind, invariant=invariant, shape="toy", expected=expected,
                        statement="toy", citation="-", assertions=assertions)


def _toys() -> tuple[O.Obligation, O.Obligation]:
    x = z3.Int("x")
    # x + 1 and 1 + x are the same term after rewriting: the claim restates itself
    restated = _ob("restated", [x >= 0, z3.Not(x + 1 == 1 + x)])
    # unsat, but only a solver sees that the two bounds contradict each other
    searched = _ob("searched", [x >= 0, x > 5, x < 3], invariant="NONNEGATIVE")
    return restated, searched


def test_simplify_marks_only_what_it_closes():
    restated, searched = _toys()
    assert P.closes_by_simplify(restated) is True
    assert P.closes_by_simplify(searched) is False
    a = P._process(restated, None, 5.0, None)
    b = P._process(searched, None, 5.0, None)
    # the mark does not change the status: both are proved by the solver
    assert (a.status, a.trivial) == ("proved", True)
    assert (b.status, b.trivial) == ("proved", False)
    x = z3.Int("x")
    wit = P._process(_ob("wit", [x >= 0], expected="sat", kind="witness"), None, 5.0, None)
    assert wit.status == "satisfiable" and wit.trivial is None


def test_a_refuted_obligation_is_not_trivial():
    x = z3.Int("x")
    r = P._process(_ob("wrong", [x >= 0, x < 3]), None, 5.0, None)
    assert (r.status, r.trivial) == ("refuted", False)


def test_mark_agrees_with_the_written_file(tmp_path):
    shape = S.small_shapes()[6]      # a hardship payment: small and quick
    P.prepare_bundle(tmp_path)
    outs = P._shape_job((shape, False, 20.0, tmp_path))
    unsat = [o for o in outs if o.expected == "unsat"]
    assert unsat and all(o.trivial in (True, False) for o in unsat)
    assert {o.trivial for o in unsat} == {True, False}    # this shape has both kinds
    for o in unsat:
        formula = z3.And(*z3.parse_smt2_file(str(tmp_path / o.file)))
        assert o.trivial == z3.is_false(z3.simplify(formula)), o.name
    assert all(o.trivial is None for o in outs if o.expected == "sat")


@pytest.fixture()
def toy_data(tmp_path, monkeypatch) -> dict:
    monkeypatch.setattr(report_module, "_formulas_section", lambda: "")
    restated, searched = _toys()
    outs = [P._process(restated, None, 5.0, None), P._process(searched, None, 5.0, None)]
    for o in outs:
        o.size = 1
    return P.write_results(tmp_path, outs, 0.1, 1, [], timeout=5.0)


def test_results_json_records_and_counts(toy_data, tmp_path):
    data = json.loads((tmp_path / "results.json").read_text())
    marks = {o["name"]: o.get("trivial") for o in data["obligations"]}
    assert marks == {"restated": True, "searched": False}
    assert data["trivial"]["proved"] == 2 and data["trivial"]["closed_by_simplify"] == 1
    assert data["trivial"]["by_invariant"]["CONSERVE-ROW"] == {"proved": 1, "closed_by_simplify": 1}
    assert data["summary"] == {"proved": 2}    # the statuses are unchanged


def test_report_counts_trivial_apart(toy_data):
    text = report_module.render(toy_data)
    assert "Proved: 2, of which 1 close by simplification alone" in text
    assert "## What is proved, what is tested, what is neither" in text
    assert "## Trusted base" in text
    for part in ("z3", "int backend", "tracing backend", "cache dispatch", "parser", "JSON writers",
                 "law tables", "spec/facts.py", "spec/orders.py", "spec/validity.py", "Checked, not proved",
                 "premise", "sanity", "no induction carries it further"):
        assert part in text, part
    # CONSERVE-ROW is closed by simplification on every shape of this run: marked; NONNEGATIVE is not
    assert "### CONSERVE-ROW " + report_module.TRIVIAL_MARK in text
    assert "### NONNEGATIVE " + report_module.TRIVIAL_MARK not in text
    assert "1/1 proved (1 by simplification alone)" in text
    assert "sources_sha256" in text and "fails a stale bundle" in text


def test_report_of_a_run_without_marks_says_so(toy_data):
    for o in toy_data["obligations"]:
        o.pop("trivial", None)
    text = report_module.render(toy_data)
    assert "did not record which close by simplification alone" in text
    assert report_module.TRIVIAL_MARK + " closed by simplification alone on every shape" not in text


def test_structural_statement_is_not_printed_as_a_formula():
    assert report_module._structural("true")
    assert report_module._structural("(and true true)")
    assert not report_module._structural("(= 0 |R.rollovers_60_day[0].aftertax|)")
    assert not report_module._structural("false")


FALSE_CLAIMS = ("for all inputs of every request shape", "for all\ninputs of every request shape",
                "each live class in every position", "each live class in\nevery position")


@pytest.mark.parametrize("doc", ["README.md", "solver/README.md"])
def test_readmes_claim_no_more_than_is_proved(doc):
    text = (ROOT / doc).read_text()
    flat = " ".join(text.split())
    for claim in FALSE_CLAIMS:
        assert " ".join(claim.split()) not in flat, claim
    assert "tested, not proved" in flat
    assert "simplification alone" in flat
    assert "Trusted base" in text or "trusted base" in text
    assert "sources_sha256" in flat and "fails a stale bundle" in flat
