"""The runner and every file it writes survive hostile adapters (issue: items 3, 4 and 8).

Item 3: what an adapter writes (stderr, the handshake's names, its answers) reaches the terminal and the
reports escaped: no control character but newline, and the JUnit XML is always well-formed.
Item 4: a lone surrogate in an answer is a clear fault, and the JSON report stays valid UTF-8 JSON.
Item 8: a report that cannot be written is a sentence and a non-zero exit, never a traceback; reports go to
a temporary file renamed at the end (a killed runner leaves no half file); Ctrl-C prints the partial summary
and writes well-formed reports for what ran.

Each hostile adapter is a small Python script written to tmp_path and run with sys.executable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from reference_helpers import RaisesAfter, run_cli

from rollsplit.conformance import runner, suite
from rollsplit.conformance.adapter import PersistentAdapter

PY = sys.executable
SERVE = [PY, "-m", "rollsplit", "serve"]
LAST_LINE = re.compile(r"^\d+ passed, \d+ failed, \d+ errored, \d+ skipped$")

# ESC, BEL, an OSC title change, a screen clear, a NUL, a form feed, a C1 CSI, a carriage return, a bidi override
EVIL = "\x1b]0;pwned\x07\x1b[2J\x00\x0c\x9b31m\rZ\u202e"

ADAPTER = r'''
import json, os, signal, sys, time
mode = sys.argv[1]
EVIL = {evil!r}
n = 0
for line in sys.stdin:
    msg = json.loads(line)
    if msg["cmd"] == "start":
        if mode == "start_stderr":
            sys.stderr.write("cannot start: " + EVIL + "\n")
            sys.exit(4)
        name, version = ("evil" + EVIL, "1" + EVIL + "\nFORGED 999 passed") if mode == "name" else ("hostile", "1")
        if mode == "name_surrogate":
            sys.stdout.write('{{"protocol": 1, "features": ["core"], '
                             '"implementation": {{"name": "x\\udc00", "version": "1", "language": "py"}}}}\n')
        else:
            sys.stdout.write(json.dumps({{"protocol": 1, "features": ["core"],
                             "implementation": {{"name": name, "version": version, "language": "py"}}}}) + "\n")
        sys.stdout.flush()
        continue
    if msg["cmd"] == "stop":
        break
    n += 1
    seq = msg["seq"]
    if mode == "stderr":
        sys.stderr.write("boom " + EVIL + " done\n")
        sys.stderr.flush()
        sys.exit(3)
    if mode == "surrogate":
        sys.stdout.write('{{"seq": %d, "result": {{"regime": "\\udc00", "\\ud800k": 1}}}}\n' % seq)
        sys.stdout.flush()
        continue
    if mode == "sigint" and n == 3:
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(0.5)
    if mode == "sigkill" and n == 3:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(5)
    sys.stdout.write(json.dumps({{"seq": seq, "result": {{"regime": EVIL if mode == "answer" else "x"}}}}) + "\n")
    sys.stdout.flush()
'''


@pytest.fixture
def adapter(tmp_path):
    script = tmp_path / "hostile_adapter.py"
    script.write_text(ADAPTER.format(evil=EVIL), encoding="utf-8")
    return lambda mode: [PY, str(script), mode]


_run = run_cli   # tests/reference_helpers.py


def _clean(text: str) -> bool:
    """No control character but newline, no lone surrogate, no bidi override."""
    return not any((unicodedata.category(c) in ("Cc", "Cs") and c != "\n") or c in "\u202e\u2028\u2029"
                   for c in text)


def _json_lines(path) -> list[dict]:
    text = path.read_bytes().decode("utf-8")          # strict: valid UTF-8
    assert _clean(text)
    rows = [json.loads(line) for line in text.split("\n")[:-1]]
    for row in rows:    # strictly valid JSON: no lone surrogate escape either ("\udc00" parses to one)
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    return rows


def _junit(path) -> ET.Element:
    assert _clean(path.read_bytes().decode("utf-8"))
    return ET.parse(path).getroot()


# ---- item 3: terminal and report injection ------------------------------------------------------
def test_adapter_stderr_is_shown_escaped_and_the_junit_stays_well_formed(adapter, tmp_path, capsys):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    code, out = _run(["conformance", "run", "--only", "examples-0001", "--report-json", str(jl), "--junit", str(xml),
                      "--"] + adapter("stderr"), capsys)
    assert code == 1
    assert _clean(out.out) and _clean(out.err)
    assert r"boom \x1b]0;pwned\x07\x1b[2J\x00\x0c\x9b31m\rZ\u202e done" in out.out
    case = _junit(xml).find("testsuite/testcase")
    assert case.find("error") is not None and r"\x1b]0;pwned\x07" in case.find("error").text
    assert _json_lines(jl)[1]["status"] == "errored"


def test_handshake_names_are_shown_escaped_on_one_line(adapter, tmp_path, capsys):
    xml, jl = tmp_path / "r.xml", tmp_path / "r.jsonl"
    code, out = _run(["conformance", "run", "--only", "examples-0001", "--junit", str(xml), "--report-json", str(jl),
                      "--"] + adapter("name"), capsys)
    assert code == 1
    assert _clean(out.out) and _clean(out.err)
    assert LAST_LINE.match(out.out.splitlines()[-1])
    assert not any(line.startswith("FORGED") for line in out.out.splitlines())   # no line forged by a newline
    impl_line = next(line for line in out.out.splitlines() if line.startswith("implementation: "))
    assert r"evil\x1b]0;pwned\x07" in impl_line and r"\nFORGED 999 passed" in impl_line
    name = _junit(xml).find("testsuite").get("name")
    assert r"evil\x1b]0;pwned\x07" in name
    assert _json_lines(jl)[0]["implementation"]["name"] == "evil" + EVIL   # the JSON keeps the value, escaped


def test_stderr_of_an_adapter_that_does_not_start_is_shown_escaped(adapter, capsys):
    code, out = _run(["conformance", "run", "--"] + adapter("start_stderr"), capsys)
    assert code == 2
    assert _clean(out.err) and r"cannot start: \x1b]0;pwned\x07" in out.err


def test_control_characters_in_an_answer_are_escaped_in_every_report(adapter, tmp_path, capsys):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    code, out = _run(["conformance", "run", "--only", "examples-0001", "--report-json", str(jl), "--junit", str(xml),
                      "--"] + adapter("answer"), capsys)
    assert code == 1
    assert _clean(out.out) and _clean(out.err)
    rows = _json_lines(jl)
    assert rows[1]["status"] == "failed" and rows[1]["got"]["regime"] == EVIL
    assert _junit(xml).find("testsuite/testcase/failure") is not None


# ---- item 4: a lone surrogate ------------------------------------------------------------------
def test_a_lone_surrogate_in_an_answer_is_a_clear_fault_and_the_json_report_stays_valid(adapter, tmp_path, capsys):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    code, out = _run(["conformance", "run", "--only", "examples-0001,examples-0002", "--report-json", str(jl),
                      "--junit", str(xml), "--"] + adapter("surrogate"), capsys)
    assert code == 1
    assert _clean(out.out) and _clean(out.err)
    rows = _json_lines(jl)
    assert [r["status"] for r in rows[1:-1]] == ["errored", "errored"]
    assert re.search(r"lone surrogate \\ud[89a-f][0-9a-f]{2} in (result\.regime|a key of result)", rows[1]["reason"])
    assert rows[-1]["summary"]["errored"] == 2
    assert len(_junit(xml).findall("testsuite/testcase/error")) == 2


def test_a_lone_surrogate_in_a_one_shot_answer_is_a_clear_fault(tmp_path, capsys):
    script = tmp_path / "oneshot.py"
    script.write_text("import sys; sys.stdin.read(); print('{\"regime\": \"\\\\udc00\"}')\n")
    jl = tmp_path / "r.jsonl"
    code, out = _run(["conformance", "run", "--oneshot", "--only", "examples-0001", "--report-json", str(jl),
                      "--", PY, str(script)], capsys)
    assert code == 1
    rows = _json_lines(jl)
    assert rows[1]["status"] == "errored" and "lone surrogate" in rows[1]["reason"]


def test_a_lone_surrogate_in_the_handshake_is_a_start_error(adapter, tmp_path, capsys):
    jl = tmp_path / "r.jsonl"
    code, out = _run(["conformance", "run", "--report-json", str(jl), "--"] + adapter("name_surrogate"), capsys)
    assert code == 2
    assert "lone surrogate" in out.err and _clean(out.err)
    # no temporary file; the report says the adapter did not start (never an empty or a stale file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile_adapter.py", "r.jsonl"]
    rows = _json_lines(jl)
    assert rows[-1]["ok"] is False and "lone surrogate" in rows[-1]["start_error"]


# ---- item 8: reports that cannot be written; no half file; Ctrl-C ----------------------------------
@pytest.mark.parametrize("option", ["--report-json", "--junit"])
def test_a_report_to_dev_full_is_a_sentence_and_a_non_zero_exit(option, capsys):
    code, out = _run(["conformance", "run", "--only", "examples-0001", option, "/dev/full", "--"] + SERVE, capsys)
    assert code not in (0, None)
    assert "/dev/full" in out.err and "No space left on device" in out.err
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")   # a device is written, never replaced


def test_a_report_that_fails_leaves_the_other_one_whole(tmp_path, capsys):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    xml.write_text("<previous/>\n")
    # the JSON report fails at its first line: nothing ran, the JUnit report is not begun and keeps its old text
    code, out = _run(["conformance", "run", "--only", "examples-0001", "--report-json", "/dev/full", "--junit",
                      str(xml), "--"] + SERVE, capsys)
    assert code == 2 and "cannot write the report /dev/full: No space left on device" in out.err
    assert xml.read_text() == "<previous/>\n"
    # the JUnit report (to a device: written once, at the end) fails after the run: the JSON report is whole
    code, out = _run(["conformance", "run", "--only", "examples-0001", "--report-json", str(jl), "--junit",
                      "/dev/full", "--"] + SERVE, capsys)
    assert code == 2 and "cannot write the report /dev/full" in out.err
    assert LAST_LINE.match(out.out.splitlines()[-1])
    assert _json_lines(jl)[-1]["summary"]["passed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl", "r.xml"]


# a regression guard: the old code gave a sentence here too; the temporary file must not change that
@pytest.mark.parametrize("where", ["missing_dir", "a_directory"])
@pytest.mark.parametrize("option", ["--report-json", "--junit"])
def test_a_report_path_that_cannot_be_written_is_a_sentence(where, option, tmp_path, capsys):
    path = tmp_path / "no" / "such" / "r.out" if where == "missing_dir" else tmp_path
    code, out = _run(["conformance", "run", "--only", "examples-0001", option, str(path), "--"] + SERVE, capsys)
    assert code == 2
    assert "cannot write the report" in out.err and str(path) in out.err
    assert list(tmp_path.iterdir()) == []   # no temporary file left behind


def test_a_report_to_a_character_device_is_written_in_place(capsys):
    code, out = _run(["conformance", "run", "--only", "examples-0001", "--junit", "/dev/null", "--report-json",
                      "/dev/null", "--"] + SERVE, capsys)
    assert code == 0
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_a_killed_runner_leaves_no_half_report(adapter, tmp_path):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    jl.write_text('{"old": "report"}\n')
    proc = subprocess.run([PY, "-m", "rollsplit", "conformance", "run", "--jobs", "1", "--only", "examples",
                           "--report-json", str(jl), "--junit", str(xml), "--"] + adapter("sigkill"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9
    assert jl.read_text() == '{"old": "report"}\n'   # the previous report, whole
    assert not xml.exists()                            # never a half file
    # what ran is in the temporary file beside it, flushed as the run went
    partial = [p for p in tmp_path.iterdir() if p.name.startswith(".r.jsonl.")]
    assert len(partial) == 1 and len(partial[0].read_text().splitlines()) == 1 + 2


def test_ctrl_c_prints_the_partial_summary_and_writes_well_formed_reports(adapter, tmp_path):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    proc = subprocess.run([PY, "-m", "rollsplit", "conformance", "run", "--jobs", "1", "--only", "examples",
                           "--report-json", str(jl), "--junit", str(xml), "--"] + adapter("sigint"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert LAST_LINE.match(lines[-1]) and lines[-1].startswith("0 passed, 2 failed")
    assert "interrupted after 2 of 8 vectors" in proc.stderr
    rows = _json_lines(jl)   # the header and a line per vector that ran; no summary line: the run was cut short
    assert [r["status"] for r in rows[1:]] == ["failed", "failed"]
    suite_el = _junit(xml).find("testsuite")
    assert suite_el.get("tests") == "2" and suite_el.get("failures") == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile_adapter.py", "r.jsonl", "r.xml"]


def test_a_runner_that_crashes_leaves_well_formed_reports_of_what_ran(tmp_path):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    reporters = [runner.JsonLinesReporter(jl), runner.JUnitReporter(xml)]
    with PersistentAdapter(SERVE) as inner:
        with pytest.raises(RuntimeError):
            runner.run(RaisesAfter(inner, 3, RuntimeError("bug")), suite.load(), runner.Options(), reporters)
    assert len(_json_lines(jl)) == 1 + 3
    assert len(_junit(xml).findall("testsuite/testcase")) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl", "r.xml"]
