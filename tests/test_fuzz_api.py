"""check(request, answer): silent on the right answer, an AssertionError naming the broken rules with their
citations and the differing fields on a wrong one, for results and for error answers alike."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings

from reference_helpers import outside_ci

from rollsplit.conformance.adapter import Answer
from rollsplit.conformance.fuzzing.api import Mismatch, check
from rollsplit.conformance.fuzzing.strategies import boundary_requests
from rollsplit.reference import calculate

# DOMAIN.md seed 004: $100,000 account, $20,000 after-tax; $60,000 directly to an IRA, $20,000 kept.
SEED_004 = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
            "basis": 2_000_000, "disbursements": [
                {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
                {"id": "me", "method": "paid", "amount": 2_000_000}]}


def _old_rule_answer() -> dict:
    """What a calculator still on the pre-2015 rule answers: each disbursement 20% after-tax."""
    a = copy.deepcopy(calculate(SEED_004))
    ira, me = a["disbursements"]
    ira.update(pretax=4_800_000, aftertax=1_200_000)
    ira["form_1099r"]["box5"] = 1_200_000
    me.update(pretax=1_600_000, aftertax=400_000, taxable=1_600_000, withholding=320_000)
    me["form_1099r"].update(box2a=1_600_000, box4=320_000, box5=400_000)
    a["taxable_income"], a["withholding"] = 1_600_000, 320_000
    return a


def test_the_reference_answer_passes():
    assert check(SEED_004, calculate(SEED_004)) is None


@settings(max_examples=40, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(boundary_requests())
def test_the_reference_passes_on_boundaries(req):
    check(req, calculate(req))


def test_a_wrong_answer_names_the_broken_rule_its_citation_and_the_fields():
    with pytest.raises(AssertionError) as info:
        check(SEED_004, _old_rule_answer())
    e = info.value
    assert isinstance(e, Mismatch)
    assert "DIRECT-FIRST" in {inv.id for inv in e.broken}
    text = str(e)
    assert "Notice 2014-54 §III ¶2" in text                      # the citation of DIRECT-FIRST
    assert "disbursements[0].pretax: expected 6000000, got 4800000" in text
    assert "disbursements[1].taxable: expected 400000, got 1600000" in text
    assert json.dumps(SEED_004) in text                          # the request, to paste into a bug report


def test_an_answer_as_json_text_is_judged_too():
    assert check(SEED_004, json.dumps(calculate(SEED_004))) is None
    with pytest.raises(Mismatch, match="not JSON"):
        check(SEED_004, "{'regime': ")


def test_error_answers_are_judged_on_their_code():
    bad = dict(SEED_004, basis=SEED_004["balance"] + 1)
    right = {"error": {"code": "basis_exceeds_balance", "message": "The basis is larger than the balance.",
                       "field": "basis"}}
    assert check(bad, right) is None
    with pytest.raises(Mismatch, match="expected error 'basis_exceeds_balance', got error 'empty_distribution'"):
        check(bad, {"error": {"code": "empty_distribution", "message": "x", "field": None}})
    with pytest.raises(Mismatch, match="expected error 'basis_exceeds_balance', got a result"):
        check(bad, calculate(SEED_004))
    with pytest.raises(Mismatch, match="expected a result, got error 'basis_exceeds_balance'"):
        check(SEED_004, right)


def test_an_error_without_a_sentence_fails():
    bad = dict(SEED_004, basis=SEED_004["balance"] + 1)
    with pytest.raises(Mismatch, match="message"):
        check(bad, {"error": {"code": "basis_exceeds_balance", "message": "", "field": "basis"}})


def test_adapter_answers_and_faults():
    ok = Answer("result", calculate(SEED_004))
    assert check(SEED_004, ok) is None
    crash = Answer("fault", None, "crash: the adapter closed its output; it exited with code 3 (seq 1)",
                   stderr_tail="Traceback: boom", kind="crash")
    with pytest.raises(Mismatch, match="the calculator failed: crash.*boom"):
        check(SEED_004, crash)


def test_an_explicit_expected_answer_overrides_the_reference():
    with pytest.raises(Mismatch):
        check(SEED_004, calculate(SEED_004), expected={"error": "invalid_request"})


def test_forms_false_ignores_form_1099r():
    a = copy.deepcopy(calculate(SEED_004))
    for row in a["disbursements"]:
        del row["form_1099r"]
    with pytest.raises(Mismatch):
        check(SEED_004, a)
    assert check(SEED_004, a, forms=False) is None


def test_pytest_shows_the_mismatch_not_the_source_of_check(tmp_path):
    """check() hides its own frame (`__tracebackhide__`): a failing test shows the calling line and the Mismatch
    message, plainly, through the pytest fixture and inside a Hypothesis test alike."""
    import inspect
    import subprocess
    import sys
    test = tmp_path / "test_wrong_calculator.py"
    test.write_text(
        "from hypothesis import given, settings, strategies as st\n"
        "import rollsplit\n"
        f"REQ = {SEED_004!r}\n"
        "def wrong(req):\n"
        "    a = rollsplit.allocate(req)\n"
        "    return dict(a, taxable_income=a['taxable_income'] + 1)\n"
        "def test_plain():\n"
        "    rollsplit.check(REQ, wrong(REQ))\n"
        "def test_fixture(rollsplit_check):\n"
        "    rollsplit_check(REQ, wrong(REQ))\n"
        "@settings(max_examples=3, database=None)\n"
        "@given(st.just(REQ))\n"
        "def test_given(req):\n"
        "    rollsplit.check(req, wrong(req))\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", str(test), "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=outside_ci())
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "3 failed" in out, out
    assert out.count("breaks TAXABLE-SUM") == 3 and out.count("taxable_income: expected 400000, got 400001") == 3
    source = [line.strip() for line in inspect.getsource(check).splitlines()[1:]]
    shown = [line for line in source if len(line) > 12 and line in out]
    assert shown == [], f"the source of check() is in the traceback: {shown}"
    assert out.count(">       rollsplit.check(") == 2 and ">       rollsplit_check(REQ, wrong(REQ))" in out
