"""`rollsplit conformance fuzz` end to end: clean on the reference, a mutant's failure shrunk, printed and
written as a vector that `rollsplit conformance run` loads and fails the mutant on, faults shrunk too,
clear messages for bad command lines."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from rollsplit.cli import main

SERVE = [sys.executable, "-m", "rollsplit", "serve"]

# A calculator adapter for the tests: the reference, or one of its mutants, or one that crashes on any
# request with two or more disbursements.
ADAPTER = textwrap.dedent('''
    import json, sys
    from rollsplit.reference import calculate
    from rollsplit.reference.mutants import calculate_with
    mode = sys.argv[1]
    for line in sys.stdin:
        m = json.loads(line)
        if m["cmd"] == "start":
            print(json.dumps({"protocol": 1, "implementation": {"name": "test-" + mode, "version": "1",
                              "language": "python"}, "features": ["core", "sixty_day", "designated_roth",
                              "pre1987_basis", "rmd", "regime_2009", "form_1099r"]}), flush=True)
            continue
        if m["cmd"] == "stop":
            break
        req = m["request"]
        if mode == "crash" and len(req.get("disbursements", [])) >= 2:
            print("crashing on purpose", file=sys.stderr, flush=True)
            sys.exit(3)
        a = calculate(req) if mode == "crash" else calculate_with(mode, req)
        print(json.dumps({"seq": m["seq"], **({"error": a["error"]} if "error" in a else {"result": a})}), flush=True)
''')


@pytest.fixture
def adapter(tmp_path):
    path = tmp_path / "adapter.py"
    path.write_text(ADAPTER)
    return lambda mode: [sys.executable, str(path), mode]


def test_clean_against_the_reference(tmp_path, capsys):
    code = main(["conformance", "fuzz", "--examples", "100", "--seed", "1", "--out", str(tmp_path / "f"), "--",
                 *SERVE])
    out = capsys.readouterr()
    assert code == 0, out
    assert "clean: 100 examples" in out.out and "seed 1" in out.out
    assert "with seed 1, up to 100 examples" in out.err
    assert not (tmp_path / "f").exists()


def test_a_mutant_is_found_shrunk_written_and_the_vector_fails_it_in_the_runner(tmp_path, capsys, adapter):
    out_dir = tmp_path / "failures"
    code = main(["conformance", "fuzz", "--examples", "2000", "--seed", "1", "--out", str(out_dir), "--",
                 *adapter("truncation")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FAILURE found after" in out and "breaks PRORATA-ROUNDING" in out and "IRC §72(e)(8)" in out
    assert "distribution.basis_recovered: expected" in out
    assert "reproduce: rollsplit conformance fuzz --seed 1 --examples 2000 --" in out
    files = list(out_dir.glob("fuzz-*.json"))
    assert len(files) == 1 and f"written: {files[0]}" in out
    data = json.loads(files[0].read_text())

    from rollsplit.conformance.verify import _schema_problems, validators
    assert _schema_problems(validators()[0], data, files[0].name) == []
    (vector,) = data["vectors"]
    assert vector["id"] == files[0].stem
    assert len(vector["request"]["disbursements"]) <= 3

    # the written vector is a ready regression test: the runner fails the mutant and passes the reference
    assert main(["conformance", "run", "--vectors", str(out_dir), "--", *adapter("truncation")]) == 1
    assert "0 passed, 1 failed" in capsys.readouterr().out
    assert main(["conformance", "run", "--vectors", str(out_dir), "--", *SERVE]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_an_adapter_crash_is_a_failure_and_is_shrunk(tmp_path, capsys, adapter):
    code = main(["conformance", "fuzz", "--examples", "500", "--seed", "2", "--out", str(tmp_path), "--",
                 *adapter("crash")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "crash" in out and "crashing on purpose" in out
    (path,) = tmp_path.glob("fuzz-*.json")
    request = json.loads(path.read_text())["vectors"][0]["request"]
    assert len(request["disbursements"]) == 2 and not request.get("rollovers_60_day")


def test_usage_errors_are_sentences(capsys):
    assert main(["conformance", "fuzz"]) == 2
    assert "give the calculator's command after --" in capsys.readouterr().err
    assert main(["conformance", "fuzz", "--examples", "3", "--", "/nonexistent/calculator"]) == 2
    assert "cannot run '/nonexistent/calculator'" in capsys.readouterr().err
    assert main(["conformance", "fuzz", "--examples", "0", "--", *SERVE]) == 2
    with pytest.raises(SystemExit) as e:
        main(["conformance", "fuzz", "--features", "core,bogus", "--", *SERVE])
    assert e.value.code == 2 and "unknown feature(s) bogus" in capsys.readouterr().err


def test_fuzz_bench_prints_its_table(capsys):
    code = main(["conformance", "fuzz-bench", "--in-process", "--seeds", "1", "--mutants", "wrong_withholding_base"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "| wrong_withholding_base" in out and "1/1" in out and "target: " in out and "machine:" in out
