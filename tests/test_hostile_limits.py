"""Bounded memory and time (issue: item 10), and the smaller items about `allocate`, the fuzzer's reproduce line
and a byte order mark.

- The runner keeps what the reports need, not the answers: a passing vector's answer is forgotten once reported,
  a failure's explanation is bounded.
- A run stops after K vectors in a row hung (--max-hangs, default 3) or when its --deadline passes; the rest are
  reported as not run (never as passed) in every report, and the run fails.
- `allocate` reads at most 16 MiB (the limit of `serve`), answering a longer input with the coded error
  invalid_json; a FILE it cannot read is an Error JSON with --json.
- The fuzzer's "reproduce:" line keeps --timeout.
- A line that starts with a byte order mark keeps its seq in the answer of `serve`, and the runner reads an answer
  that starts with one.
"""

from __future__ import annotations

import io
import json
import sys
import xml.etree.ElementTree as ET

import pytest

from reference_helpers import run_cli
from rollsplit.conformance import runner, suite
from rollsplit.conformance.adapter import FEATURES, Answer, PersistentAdapter
from rollsplit.reference.serve import MAX_LINE, serve

PY = sys.executable
SERVE = [PY, "-m", "rollsplit", "serve"]
EXAMPLES = [v for v in suite.load() if v.topic == "examples"]

HANG = r'''
import json, sys, time
for line in sys.stdin:
    msg = json.loads(line)
    if msg["cmd"] == "start":
        print(json.dumps({"protocol": 1, "features": ["core"],
                          "implementation": {"name": "hangs", "version": "1", "language": "py"}}), flush=True)
    elif msg["cmd"] == "stop":
        break
    else:
        time.sleep(300)
'''


_run = run_cli   # tests/reference_helpers.py


class Scripted:
    """An adapter in this process: answers from a list of `Answer`s (the last one repeated)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.handshake = {"protocol": 1, "features": list(FEATURES),
                          "implementation": {"name": "scripted", "version": "1", "language": "py"}}
        self.timeout = 10.0

    def start(self):
        return self.handshake

    def allocate(self, request):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    allocate_text = allocate


# ---- memory: only what a report needs ----------------------------------------------------------------------
def test_the_runner_keeps_no_answer_of_a_passing_vector():
    with PersistentAdapter(SERVE) as adapter:
        summary = runner.run(adapter, EXAMPLES, runner.Options())
    assert summary.ok and summary.count(runner.PASSED) == len(EXAMPLES)
    assert all(o.answer is None and o.verdict is None for o in summary.outcomes)


def test_a_huge_wrong_answer_is_reported_whole_but_not_kept(tmp_path):
    huge = {"regime": "x" * 3_000_000}
    jl = tmp_path / "r.jsonl"
    summary = runner.run(Scripted([Answer("result", huge)]), EXAMPLES[:3], runner.Options(),
                         [runner.JsonLinesReporter(jl)])
    assert summary.count(runner.FAILED) == 3
    assert all(o.answer is None and len(o.reason) <= runner.REASON_LIMIT + 200 for o in summary.outcomes)
    rows = [json.loads(line) for line in jl.read_text().splitlines()]
    assert rows[1]["got"] == huge     # the report has the whole answer


# ---- time: K hangs in a row, a deadline ----------------------------------------------------------------------
def _hang():
    return Answer("fault", None, "hang: no answer within the timeout of 1 s", kind="hang")


def test_a_run_stops_after_k_hangs_in_a_row_and_the_rest_is_not_run():
    answers = [Answer("fault", None, "crash: it exited", kind="crash"), _hang(), _hang(), _hang()]
    summary = runner.run(Scripted(answers), EXAMPLES, runner.Options(max_hangs=3))
    statuses = [o.status for o in summary.outcomes]
    assert statuses == ["errored"] * 4 + ["not_run"] * (len(EXAMPLES) - 4)
    assert not summary.ok and summary.level() == "none" and "3 vectors in a row hung" in summary.stopped
    assert summary.line().endswith(f", {len(EXAMPLES) - 4} not run")
    assert summary.to_json()["summary"]["not_run"] == len(EXAMPLES) - 4


def test_hangs_that_are_not_in_a_row_do_not_stop_the_run():
    good = Answer("fault", None, "crash: it exited", kind="crash")
    summary = runner.run(Scripted([_hang(), _hang(), good] * 3), EXAMPLES, runner.Options(max_hangs=3))
    assert not summary.stopped and summary.count(runner.NOT_RUN) == 0


def test_the_cli_stops_a_hanging_calculator_and_reports_the_rest_as_not_run(tmp_path, capsys):
    script = tmp_path / "hangs.py"
    script.write_text(HANG)
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    code, out = _run(["conformance", "run", "--timeout", "0.3", "--max-hangs", "2", "--only", "examples",
                      "--report-json", str(jl), "--junit", str(xml), "--", PY, str(script)], capsys)
    assert code == 1
    n = len(EXAMPLES)
    assert out.out.splitlines()[-1] == f"0 passed, 0 failed, 2 errored, 0 skipped, {n - 2} not run"
    assert "2 vectors in a row hung" in out.err and "not run" in out.err
    rows = [json.loads(line) for line in jl.read_text().splitlines()]
    assert [r["status"] for r in rows[1:-1]] == ["errored"] * 2 + ["not_run"] * (n - 2)
    assert rows[-1]["ok"] is False and rows[-1]["summary"]["not_run"] == n - 2 and "stopped" in rows[-1]
    suite_el = ET.parse(xml).getroot().find("testsuite")
    assert suite_el.get("skipped") == str(n - 2) and suite_el.get("errors") == "2"
    assert suite_el.find("properties/property[@name='stopped']") is not None


def test_a_deadline_ends_the_run_and_nothing_after_it_is_passed(tmp_path, capsys):
    script = tmp_path / "hangs.py"
    script.write_text(HANG)
    code, out = _run(["conformance", "run", "--timeout", "30", "--deadline", "0.5", "--max-hangs", "0",
                      "--only", "examples", "--", PY, str(script)], capsys)
    assert code == 1
    assert out.out.splitlines()[-1] == f"0 passed, 0 failed, 0 errored, 0 skipped, {len(EXAMPLES)} not run"
    assert "deadline of 0.5 s passed" in out.err


@pytest.mark.parametrize("option, value", [("--max-hangs", "-1"), ("--deadline", "0"), ("--deadline", "x")])
def test_the_limits_are_checked(capsys, option, value):
    code, out = _run(["conformance", "run", option, value, "--"] + SERVE, capsys)
    assert code == 2 and option in out.err


# ---- allocate: a cap on its input, an Error JSON for a file it cannot read ------------------------------
def test_allocate_reads_at_most_16_mib(monkeypatch, capsys):
    request = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 100, "basis": 0,
               "disbursements": [{"id": "x" * (MAX_LINE + 10), "method": "paid", "amount": 100}]}

    class Stdin:   # records how much was asked for: the input is never held whole
        buffer = io.BytesIO(json.dumps(request).encode())
        asked = []
        _read = buffer.read

        def read(self, n=-1):
            Stdin.asked.append(n)
            return Stdin._read(n)
    stdin = Stdin()
    stdin.buffer = stdin
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out = _run(["allocate", "--json"], capsys)
    assert code == 2
    error = json.loads(out.out)["error"]
    assert error["code"] == "invalid_json" and "16 MiB" in error["message"]
    assert Stdin.asked and all(0 <= n <= MAX_LINE + 1 for n in Stdin.asked)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_allocate_json_on_a_file_it_cannot_read_is_an_error_json(tmp_path, capsys, kind):
    path = tmp_path / "missing.json" if kind == "missing" else tmp_path
    code, out = _run(["allocate", "--json", str(path)], capsys)
    assert code == 2
    error = json.loads(out.out)["error"]
    from rollsplit.spec.errors import INPUT_ERROR_CODES
    assert error["code"] == "unreadable_input" and error["code"] in INPUT_ERROR_CODES
    assert str(path) in error["message"] and error["field"] is None


# ---- fuzz: the reproduce line keeps --timeout ------------------------------------------------------------------
def test_the_reproduce_line_keeps_the_timeout(tmp_path, capsys, monkeypatch):
    from rollsplit.conformance.fuzzing import driver
    from rollsplit.reference import calculate

    request = EXAMPLES[0].request
    failure = driver.FuzzFailure(request=request, expected=calculate(request), answer=None, verdict=None,
                                 detail="crash: on purpose")

    def found(allocate, **kw):
        return driver.FuzzReport(seed=kw["seed"], examples=1, seconds=0.1, stopped="failure", failure=failure,
                                 first_failure_example=1, first_failure_seconds=0.1)
    monkeypatch.setattr(driver, "fuzz", found)
    monkeypatch.setattr(driver, "fuzz_parallel", lambda allocates, **kw: found(allocates[0], **kw))   # --jobs N
    code, out = _run(["conformance", "fuzz", "--seed", "7", "--examples", "5", "--timeout", "2.5",
                      "--out", str(tmp_path / "f"), "--"] + SERVE, capsys)
    assert code == 1
    line = next(x for x in out.out.splitlines() if x.startswith("reproduce: "))
    assert "--seed 7" in line and "--examples 5" in line and "--timeout 2.5" in line


# ---- a byte order mark ---------------------------------------------------------------------------------------
def test_a_line_that_starts_with_a_byte_order_mark_keeps_its_seq():
    out = io.BytesIO()
    serve(io.BytesIO(b'\xef\xbb\xbf{"cmd":"allocate","seq":5,"request":{}}\n'), out)
    answer = json.loads(out.getvalue())
    assert answer["seq"] == 5 and answer["error"]["code"] == "invalid_json"


def test_the_runner_reads_answers_that_start_with_a_byte_order_mark(tmp_path):
    script = tmp_path / "bom.py"
    script.write_text("import sys, json\n"
                      "from rollsplit.reference.serve import reply\n"
                      "for line in sys.stdin.buffer:\n"
                      "    out = reply(line.rstrip(b'\\n'))\n"
                      "    if out is None: break\n"
                      "    sys.stdout.buffer.write(b'\\xef\\xbb\\xbf' + json.dumps(out).encode() + b'\\n')\n"
                      "    sys.stdout.flush()\n")
    with PersistentAdapter([PY, str(script)]) as adapter:
        summary = runner.run(adapter, EXAMPLES[:2], runner.Options())
    assert summary.count(runner.PASSED) == 2, runner.render(summary)
