"""The runner: the reference passes in both protocols, each classic mistake fails, faults are survived,
skips are never passes, expected failures flag unexpected passes, and reports survive a crash."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

import pytest
from reference_helpers import RaisesAfter

from rollsplit.conformance import runner, suite
from rollsplit.conformance.adapter import OneShotAdapter, PersistentAdapter
from rollsplit.conformance.suite import Vector
from rollsplit.cli import main

PY = sys.executable
SERVE = [PY, "-m", "rollsplit", "serve"]
FAKE = [PY, "-m", "rollsplit.conformance.testing.fake_adapter"]
MUTANT = [PY, "-m", "rollsplit.conformance.testing.mutant_adapter"]
CLASSIC_MISTAKES = ["old_rule_per_destination", "aftertax_first", "sixty_day_ignored", "floats", "truncation",
                    "wrong_withholding_base", "untaxed_conversion", "ignored_election", "ignored_pre1987",
                    "aftertax_into_457b"]
VECTORS = suite.load()


def _run(command, oneshot=False, **options):
    adapter = OneShotAdapter(command, timeout=20) if oneshot else PersistentAdapter(command, timeout=20)
    with adapter:
        return runner.run(adapter, VECTORS, runner.Options(**options))


def test_reference_passes_every_vector_persistent():
    summary = _run(SERVE)
    assert summary.line() == f"{len(VECTORS)} passed, 0 failed, 0 errored, 0 skipped"
    assert summary.ok and summary.level() == "extended"


def test_reference_passes_one_shot():
    # one process per vector costs ~0.1 s, so CI runs the topics that exercise the one-shot path hardest
    # (malformed JSON, every error code, big numbers); the full one-shot run is in the vendor guide.
    summary = _run([PY, "-m", "rollsplit", "allocate", "--json"], oneshot=True,
                   only={"examples", "validation"})
    ran = [o for o in summary.outcomes if o.status != runner.SKIPPED]
    assert len(ran) > 40 and all(o.status == runner.PASSED for o in ran), \
        [(o.vector.id, o.reason) for o in ran if o.status != runner.PASSED]


def test_python_example_adapter_passes_every_vector():
    summary = _run([PY, str(suite.HERE / "examples" / "adapter.py")])
    assert summary.ok and summary.count(runner.PASSED) == len(VECTORS)


@pytest.mark.parametrize("mutant", CLASSIC_MISTAKES)
def test_each_classic_mistake_fails_the_suite(mutant):
    summary = _run(MUTANT + [mutant])
    assert not summary.ok and summary.count(runner.FAILED) > 0
    assert summary.count(runner.ERRORED) == 0   # wrong answers, not faults
    assert summary.level() != "extended"


def test_mutant_one_shot_fails_too():
    summary = _run(MUTANT + ["floats", "--oneshot"], oneshot=True, only={"large_values"})
    assert summary.count(runner.FAILED) > 0


def test_failure_report_has_diff_and_broken_invariants_with_citations():
    summary = _run(MUTANT + ["aftertax_first"], only={"examples"})
    text = runner.render(summary)
    assert "FAILED examples-0002" in text
    assert "disbursements[0].pretax: expected 6000000 ($60,000.00), got 4400000 ($44,000.00)" in text
    assert '    request: {"date":"2025-06-30","plan":"401a","contract":"pretax_aftertax","balance":10000000,' in text
    assert "breaks DIRECT-FIRST" in text and "Notice 2014-54 §III ¶2" in text
    assert text.splitlines()[-1].endswith("0 errored, 0 skipped")


def test_undeclared_features_are_skipped_never_passed():
    summary = _run(FAKE + ["--features=core"])
    skipped = [o for o in summary.outcomes if o.status == runner.SKIPPED]
    assert skipped and all("not declared by the adapter" in o.reason for o in skipped)
    assert all(set(o.vector.features) - {"core"} for o in skipped)
    assert summary.ok and summary.level() == "core"
    assert summary.count(runner.PASSED) == len(VECTORS) - len(skipped)


def _vector(id, request, expected=None):
    from rollsplit.reference import calculate
    answer = calculate({k: v for k, v in request.items() if k != "fault"})
    return Vector(id=id, topic="t", description=id, features=("core",), tags=(), flags=(), request=request,
                  request_text=None, expected=expected or ({"error": answer["error"]["code"]} if "error" in answer
                                                          else {"result": answer}),
                  acceptable=(), citations=(), origin=id)


GOOD = VECTORS[0].request


def test_adapter_faults_during_a_run_are_errored_and_the_run_goes_on():
    faults = ["crash", "garbage", "wrong_seq", "huge", "partial_exit", "array"]
    vectors = []
    for f in faults:
        vectors += [_vector(f"t-{f}", {**GOOD, "fault": f}), _vector(f"t-after-{f}", GOOD)]
    with PersistentAdapter(FAKE, timeout=5) as adapter:
        summary = runner.run(adapter, vectors, runner.Options())
    status = {o.vector.id: o for o in summary.outcomes}
    for f in faults:
        assert status[f"t-{f}"].status == runner.ERRORED, f
        assert status[f"t-after-{f}"].status == runner.PASSED, f
    assert "crashing on purpose" in status["t-crash"].stderr_tail
    assert summary.line() == f"{len(faults)} passed, 0 failed, {len(faults)} errored, 0 skipped"
    assert not summary.ok


def test_expected_failures_and_unexpected_passes(tmp_path):
    summary = _run(MUTANT + ["ignored_pre1987"])
    failing = {o.vector.id for o in summary.outcomes if o.status == runner.FAILED}
    listed = tmp_path / "xfail.txt"
    listed.write_text("# known bugs\n" + "\n".join(sorted(failing)) + "\n")
    assert runner.read_expected_failures(listed) == failing
    summary = _run(MUTANT + ["ignored_pre1987"], expected_failures=failing)
    assert summary.ok
    # a level is earned by passing: listed failures keep the run green but never count towards a level
    assert summary.level() != "extended"
    assert summary.level() == ("none" if any(set(o.vector.features) <= {"core"} for o in summary.outcomes
                                             if o.vector.id in failing) else "core")
    summary = _run(MUTANT + ["ignored_pre1987"], expected_failures=failing | {"examples-0001"})
    assert not summary.ok and any(o.unexpected_pass for o in summary.outcomes)
    assert "UNEXPECTED PASS examples-0001" in runner.render(summary)


def test_reports_are_written_as_the_run_goes(tmp_path):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    reporters = [runner.JsonLinesReporter(jl), runner.JUnitReporter(xml)]
    with PersistentAdapter(SERVE) as inner:
        with pytest.raises(KeyboardInterrupt):
            runner.run(RaisesAfter(inner, 7, KeyboardInterrupt), VECTORS, runner.Options(), reporters)
    lines = jl.read_text().splitlines()
    assert len(lines) == 1 + 7 and all(json.loads(l)["status"] == "passed" for l in lines[1:])
    assert xml.read_text().count("<testcase") == 7


def test_cli_run_writes_json_lines_and_junit(tmp_path, capsys):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    code = main(["conformance", "run", "--only", "examples,rounding", "--skip", "rounding-0001",
                 "--report-json", str(jl), "--junit", str(xml), "--"] + MUTANT + ["truncation"])
    out = capsys.readouterr().out
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert last.endswith("skipped") and " failed" in last
    rows = [json.loads(l) for l in jl.read_text().splitlines()]
    assert rows[0]["implementation"]["name"] == "mutant:truncation"
    assert rows[-1]["summary"]["failed"] >= 1 and rows[-1]["ok"] is False
    failed = [r for r in rows[1:-1] if r["status"] == "failed"]
    assert failed and failed[0]["broken_invariants"][0]["citation"]
    suite_el = ET.parse(xml).getroot().find("testsuite")
    assert int(suite_el.get("failures")) == len(failed)
    assert int(suite_el.get("tests")) == len(rows) - 2


def test_cli_exit_codes_and_clear_messages(capsys, tmp_path):
    assert main(["conformance", "run"]) == 2
    assert "give the adapter command after --" in capsys.readouterr().err
    assert main(["conformance", "run", "--", "/nonexistent/adapter"]) == 2
    assert "cannot run" in capsys.readouterr().err
    assert main(["conformance", "run", "--features", "core,turbo", "--", "x"]) == 2
    assert "unknown feature turbo" in capsys.readouterr().err
    assert main(["conformance", "run", "--expected-failures", str(tmp_path / "none"), "--", "x"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["conformance", "run", "--only", "examples", "--"] + SERVE) == 0
    n = sum(v.topic == "examples" for v in VECTORS)
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"{n} passed, 0 failed, 0 errored, 0 skipped"


def test_cli_verify(capsys):
    assert main(["conformance", "verify"]) == 0
    assert "verifies" in capsys.readouterr().out


def test_cli_skip_is_listed_and_never_passes(tmp_path, capsys):
    jl = tmp_path / "r.jsonl"
    assert main(["conformance", "run", "--skip", "rounding", "--report-json", str(jl), "--"] + SERVE) == 0
    out = capsys.readouterr().out
    rounding = sum(1 for v in VECTORS if v.topic == "rounding")
    assert out.strip().splitlines()[-1] == \
        f"{len(VECTORS) - rounding} passed, 0 failed, 0 errored, {rounding} skipped"
    assert "skipped (skipped by --skip (rounding)): rounding-0001," in out
    rows = [json.loads(l) for l in jl.read_text().splitlines()]
    skipped = [r for r in rows[1:-1] if r["status"] == "skipped"]
    assert len(skipped) == rounding and all(r["reason"].startswith("skipped by --skip") for r in skipped)
    assert rows[-1]["summary"]["passed"] == len(VECTORS) - rounding
    assert rows[-1]["conformance_level"] != "extended"   # a skip keeps the run from the extended level


def test_cli_one_shot_and_an_unexpected_pass_in_junit(tmp_path, capsys):
    listed, xml = tmp_path / "xfail.txt", tmp_path / "r.xml"
    listed.write_text("examples-0001   # wrongly listed: the reference passes it\n")
    code = main(["conformance", "run", "--oneshot", "--only", "examples", "--expected-failures", str(listed),
                 "--junit", str(xml), "--", PY, "-m", "rollsplit", "allocate", "--json"])
    out = capsys.readouterr().out
    assert code == 1
    n = sum(v.topic == "examples" for v in VECTORS)
    assert "UNEXPECTED PASS examples-0001" in out and out.strip().endswith(f"{n} passed, 0 failed, 0 errored, 0 skipped")
    suite_el = ET.parse(xml).getroot().find("testsuite")
    assert suite_el.get("failures") == "1" and suite_el.get("tests") == str(n)
    case = suite_el.find("testcase[@name='examples-0001']/failure")
    assert case is not None and "unexpected pass" in case.get("message")


def _json_numbers(obj, cast):
    if isinstance(obj, dict):
        return {k: _json_numbers(v, cast) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_numbers(v, cast) for v in obj]
    return cast(obj) if isinstance(obj, int) and not isinstance(obj, bool) else obj


@pytest.mark.parametrize("cast", [float, lambda x: bool(x) if x in (0, 1) else x],
                         ids=["cents as floats", "0 and 1 as false and true"])
def test_an_answer_equal_in_value_but_not_in_json_type_fails(cast):
    """100.0 == 100 and True == 1 in Python; the contract requires JSON integers."""
    from rollsplit.conformance.adapter import Answer
    v = next(x for x in VECTORS if "result" in x.expected and x.id == "examples-0002")
    got = _json_numbers(v.expected["result"], cast)
    assert got == v.expected["result"]   # equal to Python, so only a type-strict check can tell
    status, _, reason = runner.judge_vector(v, Answer("result", got), forms=True)
    assert status == runner.FAILED, reason
    status, _, _ = runner.judge_vector(v, Answer("result", v.expected["result"]), forms=True)
    assert status == runner.PASSED
