"""The public API, as a user writes it: this module imports `rollsplit` and `rollsplit.fuzzing` and nothing else
of the project. If a name here moves, users' code breaks: keep these tests passing across releases."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

import rollsplit
from rollsplit.fuzzing import (FuzzReport, Mismatch, boundary_requests, check, expected_answer, fuzz,
                               fuzz_cases, near_valid_requests)

SEED_004 = json.loads((Path(__file__).resolve().parent.parent / "examples" / "seed_004.json").read_text())


def test_allocate_answers_the_wire_contract():
    answer = rollsplit.allocate(copy.deepcopy(SEED_004))
    assert isinstance(answer, dict) and "error" not in answer
    ira, me = answer["disbursements"]
    # worked by hand (DOMAIN.md seed 004): $80,000 distributed from $100,000 with $20,000 basis carries
    # $16,000 after-tax (§72(e)(8)); the direct rollover takes pre-tax first (Notice 2014-54)
    assert answer["distribution"]["basis_recovered"] == 1_600_000
    assert (ira["id"], ira["pretax"], ira["aftertax"]) == ("ira", 6_000_000, 0)
    assert (me["id"], me["pretax"], me["aftertax"]) == ("me", 400_000, 1_600_000)


@pytest.mark.parametrize("request_obj,code", [
    (None, "invalid_request"),
    ({**SEED_004, "balance": -1}, "amount_out_of_range"),
    ({**SEED_004, "disbursements": []}, "empty_distribution"),
    ("not a request", "invalid_request"),
])
def test_allocate_never_raises_and_errors_carry_a_code(request_obj, code):
    answer = rollsplit.allocate(request_obj)
    assert set(answer) == {"error"}
    assert set(answer["error"]) == {"code", "message", "field"}
    assert re.fullmatch(r"[a-z0-9_]+", answer["error"]["code"])
    assert answer["error"]["message"].strip()
    if code is not None:
        assert answer["error"]["code"] == code


def test_check_accepts_the_right_answer_and_names_what_a_wrong_one_breaks():
    right = rollsplit.allocate(copy.deepcopy(SEED_004))
    assert rollsplit.check(SEED_004, right) is None
    wrong = copy.deepcopy(right)
    wrong["disbursements"][1]["aftertax"] -= 1     # a cent of after-tax money lost from the payment
    with pytest.raises(rollsplit.Mismatch) as info:
        rollsplit.check(SEED_004, wrong)
    assert isinstance(info.value, AssertionError)
    assert info.value.broken, "a wrong answer must name at least one broken rule"
    assert "disbursements[1].aftertax" in str(info.value)


def test_the_fuzzing_path_and_the_top_level_share_one_oracle():
    assert check is rollsplit.check and Mismatch is rollsplit.Mismatch
    assert expected_answer(SEED_004) == rollsplit.allocate(SEED_004)
    assert callable(fuzz) and isinstance(FuzzReport, type)
    for strategy in (boundary_requests(), near_valid_requests(), fuzz_cases()):
        assert hasattr(strategy, "example")


@settings(max_examples=40, deadline=None)
@given(req=boundary_requests(features={"core", "form_1099r"}))
def test_the_strategies_draw_requests_the_reference_answers_rightly(req):
    check(req, rollsplit.allocate(req))


def test_fuzz_finds_a_wrong_calculator():
    def truncating(req):
        answer = rollsplit.allocate(req)
        if "error" not in answer and answer["distribution"]["basis_recovered"] > 0:
            answer = copy.deepcopy(answer)
            answer["distribution"]["basis_recovered"] -= 1
        return answer
    report = fuzz(truncating, examples=200, seed=1)
    assert not report.ok


def test_versions_say_what_a_vendor_runs_against():
    assert re.fullmatch(r"\d+\.\d+\.\d+", rollsplit.__version__)
    assert re.fullmatch(r"\d+\.\d+", rollsplit.CONTRACT_VERSION)
    assert re.fullmatch(r"\d+\.\d+\.\d+", rollsplit.SUITE_VERSION)
    out = subprocess.run([sys.executable, "-m", "rollsplit", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == (f"rollsplit {rollsplit.__version__} (contract {rollsplit.CONTRACT_VERSION}, "
                                  f"suite {rollsplit.SUITE_VERSION})")


def test_unknown_names_are_an_attribute_error():
    with pytest.raises(AttributeError):
        rollsplit.no_such_name  # noqa: B018
