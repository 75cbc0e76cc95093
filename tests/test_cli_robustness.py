"""Malformed input to every command gets one sentence and a non-zero exit, never a traceback (the cases a
walk through the docs found: each was a traceback or a wrong answer before it was fixed)."""

from __future__ import annotations

import io
import json
import shutil
import sys

import pytest

from rollsplit.conformance import suite
from rollsplit.reference.serve import serve
from rollsplit.cli import main

NOT_UTF8 = b"\xff\xfe"


def run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as e:   # argparse usage errors
        code = e.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return code, out


def test_table_output_of_an_id_that_is_not_valid_unicode(tmp_path, capsys):
    req = {"date": "2025-01-01", "plan": "401a", "contract": "pretax_aftertax", "balance": 1, "basis": 0,
           "disbursements": [{"id": "\ud800", "method": "paid", "amount": 1}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(req))   # ensure_ascii: the lone surrogate travels as \ud800
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")   # a strict UTF-8 stdout, like a terminal's
    old, sys.stdout = sys.stdout, stream
    try:
        code = main(["allocate", str(path)])
        stream.flush()
        text = stream.buffer.getvalue().decode("utf-8")
    finally:
        sys.stdout = old
    assert code == 0 and "\\ud800" in text and "$0.01" in text


def test_expected_failures_file_that_is_not_utf8(tmp_path, capsys):
    bad = tmp_path / "xfail.txt"
    bad.write_bytes(NOT_UTF8)
    code, out = run(["conformance", "run", "--expected-failures", str(bad), "--", sys.executable, "-m",
                     "rollsplit", "serve"], capsys)
    assert code == 2 and "not UTF-8" in out.err


def test_verify_reports_malformed_files_as_problems(tmp_path, capsys):
    d = tmp_path / "vectors"
    shutil.copytree(suite.VECTORS_DIR, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (d / suite.MANIFEST).write_text("[]")
    (d / "rmd.json").write_text("[]")
    (d / "zz.json").write_bytes(NOT_UTF8)
    code, out = run(["conformance", "verify", "--dir", str(d)], capsys)
    assert code == 1
    assert "the manifest must be a JSON object" in out.out
    assert 'rmd.json: a vector file must be a JSON object with a "vectors" array' in out.out
    assert "zz.json: cannot read the file" in out.out


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_verify_of_something_that_is_not_a_suite(tmp_path, capsys, kind):
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("{}")
    elif kind == "empty":
        target.mkdir()
    code, out = run(["conformance", "verify", "--dir", str(target)], capsys)
    assert code == 2 and out.err.count("\n") == 1 and str(target) in out.err


def test_run_on_malformed_vectors_names_the_problem(tmp_path, capsys):
    d = tmp_path / "v"
    d.mkdir()
    (d / "t.json").write_text(json.dumps({"topic": "x", "vectors": [1]}))
    code, out = run(["conformance", "run", "--vectors", str(d), "--", sys.executable, "-m", "rollsplit", "serve"],
                    capsys)
    assert code == 2 and "malformed" in out.err and "conformance verify --dir" in out.err


def test_recheck_of_results_that_are_not_an_object(tmp_path, capsys):
    (tmp_path / "results.json").write_text("[]")
    code, out = run(["recheck", str(tmp_path)], capsys)
    assert code == 2 and "is not the results of `rollsplit prove`" in out.err


@pytest.mark.parametrize("args", [["--examples", "0"], ["--seeds", "-1"], ["--max-seconds", "0"]])
def test_fuzz_bench_rejects_empty_settings(capsys, args):
    code, out = run(["conformance", "fuzz-bench", *args], capsys)
    assert code == 2 and "error: argument" in out.err


@pytest.mark.parametrize("command", [["conformance", "run", "--oneshot"],
                                     ["conformance", "fuzz", "--oneshot", "--examples", "5"]])
def test_a_one_shot_adapter_that_does_not_exist_is_a_usage_error(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    code, out = run([*command, "--", str(tmp_path / "no-such-adapter")], capsys)
    assert code == 2 and "cannot run" in out.err and "no such program" in out.err
    assert not (tmp_path / "fuzz-failures").exists()   # no "failure" was written for it


def test_serve_never_answers_with_a_changed_seq():
    lines = [json.dumps({"cmd": "allocate", "seq": int("9" * 45), "request": {}}),
             json.dumps({"cmd": "allocate", "seq": int("9" * 40), "request": {}})]
    out = io.BytesIO()
    serve(io.BytesIO(("\n".join(lines) + "\n").encode()), out)
    first, second = [json.loads(x) for x in out.getvalue().decode().splitlines()]
    assert first["seq"] is None and first["error"]["field"] == "seq"
    assert second["seq"] == int("9" * 40)


@pytest.mark.parametrize("digits", [4300, 5000])
def test_serve_never_echoes_the_stand_in_of_an_integer_too_long_to_read(digits):
    """Past Python's 4,300-digit limit the strict reader keeps only a stand-in of the right sign (10^40):
    that stand-in must never be answered as the message's seq."""
    out = io.BytesIO()
    serve(io.BytesIO(b'{"cmd":"allocate","seq":' + b"9" * digits + b',"request":{}}\n'), out)
    answer = json.loads(out.getvalue())
    assert answer["seq"] is None and answer["error"]["field"] == "seq", answer


def test_a_run_that_tests_nothing_is_not_green(capsys):
    code, out = run(["conformance", "run", "--only", "no-such-tag", "--", sys.executable, "-m", "rollsplit", "serve"],
                    capsys)
    assert code == 1 and "no vector ran" in out.err


def test_export_checks_its_outputs_before_exploring(tmp_path, capsys):
    code, out = run(["conformance", "export", "--dir", str(tmp_path / "v"), "--coverage", str(tmp_path)], capsys)
    assert code == 2 and "is not a file" in out.err
    (tmp_path / "f").write_text("")
    code, out = run(["conformance", "export", "--dir", str(tmp_path / "f")], capsys)
    assert code == 2 and "is not a directory" in out.err
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize("argv, usage", [
    (["conformance", "export", "--bogus"], "usage: rollsplit conformance export"),
    (["conformance", "verify", "extra"], "usage: rollsplit conformance verify"),
    (["allocate", "a.json", "b.json"], "usage: rollsplit allocate"),
    (["prove", "--bogus"], "usage: rollsplit prove"),
])
def test_an_unknown_argument_is_explained_by_the_subcommand_that_got_it(argv, usage, capsys):
    code, out = run(argv, capsys)
    assert code == 2
    assert out.err.startswith(usage) and "unrecognized arguments: " + argv[-1] in out.err
