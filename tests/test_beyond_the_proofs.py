"""Requests beyond the proved shapes: the generic path answers them, and their answers are checked against every rule
of the law before they are given; a request the proofs cover is answered without that check."""

from __future__ import annotations

import json

import pytest

import rollsplit.reference as reference
from rollsplit.reference import calculate, compiled
from rollsplit.reference.mutants import MUTANTS
from rollsplit.spec.parse import parse_request

SEED = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
        "basis": 2_000_000, "disbursements": [
            {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
            {"id": "me", "method": "paid", "amount": 2_000_000}]}
# seven direct rollovers, alternately to a traditional and to a Roth IRA: more than any proved shape holds
SEVEN = {**SEED, "balance": 100_000_000, "basis": 20_000_000, "disbursements": [
    {"id": f"d{i}", "method": "direct", "to": ("traditional_ira", "roth_ira")[i % 2], "amount": 1_000_000}
    for i in range(7)] + [{"id": "me", "method": "paid", "amount": 1_000_000}]}


def test_which_shapes_the_proofs_cover():
    assert compiled.covered(compiled.shape_key(parse_request(SEED)))
    # a 403(b) plan that accounts for after-tax money separately is of the traditional IRA's class (both may take
    # either kind of money, and come first in the default order): its proof is the traditional IRA's
    to_403b = {**SEED, "disbursements": [{**SEED["disbursements"][0], "to": "403b", "accepts_aftertax": True},
                                         SEED["disbursements"][1]]}
    assert compiled.covered(compiled.shape_key(parse_request(to_403b)))
    # seven rows are more than any proved shape holds
    assert not compiled.covered(compiled.shape_key(parse_request(SEVEN)))
    assert not compiled.covered(None)


def test_an_answer_beyond_the_proofs_is_checked_and_withheld_when_it_breaks_a_rule(monkeypatch):
    right = calculate(SEVEN)
    assert "error" not in right
    # the algorithm with a mistake the proofs would catch only for shapes they hold: beyond four direct
    # rollovers, the default order reversed
    monkeypatch.setattr(reference, "allocate", MUTANTS["reverse_beyond_four"].allocate)
    answer = calculate(SEVEN)
    assert answer["error"]["code"] == "reference_fault", answer
    message = answer["error"]["message"]
    assert "this rule of the law: Without an election" in message and "[Notice 2014-54 §III]" in message
    assert "fault in rollsplit, not in the request" in message
    # a shape the proofs cover is answered without the check (its algorithm is the one proved)
    assert "error" not in calculate(SEED)


def test_a_covered_request_is_not_checked_at_run_time(monkeypatch):
    import rollsplit.spec.invariants as invariants

    def refuse(*args):
        raise AssertionError("a covered request was checked")
    monkeypatch.setattr(invariants, "violated", refuse)
    assert "error" not in calculate(SEED)
    with pytest.raises(AssertionError, match="was checked"):
        calculate(SEVEN)


def test_rollsplit_allocate_says_how_sure_the_answer_is(tmp_path, capsys):
    from reference_helpers import run_cli
    for request, words in ((SEED, "are proved by the z3 solver"), (SEVEN, "checked, not proved")):
        path = tmp_path / "r.json"
        path.write_text(json.dumps(request))
        code, out = run_cli(["allocate", str(path)], capsys)
        assert code == 0 and "How sure this is" in out.out and words in out.out, out


def test_rollsplit_allocate_withholds_an_answer_that_fails_its_check(tmp_path, capsys, monkeypatch):
    from reference_helpers import run_cli
    path = tmp_path / "r.json"
    path.write_text(json.dumps(SEVEN))
    monkeypatch.setattr(reference, "allocate", MUTANTS["reverse_beyond_four"].allocate)
    for argv in (["allocate", str(path)], ["allocate", "--json", str(path)],
                 ["allocate", "--json", "--explain", str(path)]):
        code, out = run_cli(argv, capsys)
        assert code == 2 and "reference_fault" in out.out and "fault in rollsplit" in out.out, (argv, out)


def test_code_proved_for_another_shape_does_not_answer_an_uncovered_one():
    """An order election naming only the traditional IRA, before a Roth IRA: the default order anyway, so its trace
    is the source proved for another shape; but no shape of the bundle has this election, so no invariant is proved
    of this one, and the generic path answers it, checked."""
    req = {**SEED, "disbursements": [{"id": "a", "method": "direct", "to": "traditional_ira", "amount": 3_000_000},
                                     {"id": "b", "method": "direct", "to": "roth_ira", "amount": 3_000_000},
                                     {"id": "me", "method": "paid", "amount": 2_000_000}],
           "elections": {"direct_pretax_order": ["a"]}}
    parsed = parse_request(req)
    assert compiled.source_digest(compiled.trace_shape(parsed)) in compiled.proved_digests()
    assert not compiled.covered(compiled.shape_key(parsed))
    assert compiled.lookup(parsed) is None
    for _ in range(compiled.HOT_UNLIKELY + 1):   # however hot the shape gets
        assert "error" not in calculate(req)
    assert compiled.function_of(compiled.shape_key(parsed)) is None
