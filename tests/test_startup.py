"""What answering imports: `rollsplit allocate --json`, `rollsplit serve` and `rollsplit.allocate` load none of the
prover's, the fuzzer's or the reports' libraries (z3, sympy, hypothesis, jsonschema, tabulate): a one-shot adapter
starts once per request. Not a timing test (`rollsplit bench` measures the start-up against bare Python)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("z3", "sympy", "hypothesis", "jsonschema", "tabulate")
REQUEST = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
           "basis": 2_000_000, "disbursements": [
               {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
               {"id": "me", "method": "paid", "amount": 2_000_000}]}


def _modules_after(code: str, stdin: str = "") -> tuple[list[str], str]:
    """Run `code` in a fresh interpreter; the top-level names of the modules it imported, and what it printed."""
    program = code + textwrap.dedent("""
        import sys as _sys
        _sys.stderr.write("\\nMODULES " + " ".join(sorted({m.split(".")[0] for m in _sys.modules})) + "\\n")
    """)
    proc = subprocess.run([sys.executable, "-c", program], input=stdin, capture_output=True, text=True, timeout=60)
    assert "MODULES " in proc.stderr, proc.stderr
    return proc.stderr.rsplit("MODULES ", 1)[1].split(), proc.stdout


@pytest.mark.parametrize("request_obj", [REQUEST, {**REQUEST, "plan": "401k"}, "not json"],
                         ids=["result", "error", "invalid_json"])
def test_allocate_json_imports_none_of_the_heavy_modules(tmp_path, request_obj):
    path = tmp_path / "r.json"
    path.write_text(request_obj if isinstance(request_obj, str) else json.dumps(request_obj))
    modules, out = _modules_after(f"from rollsplit.cli import main\ncode = main(['allocate', '--json', {str(path)!r}])")
    answer = json.loads(out)
    assert ("error" in answer) == (request_obj is not REQUEST)
    assert not set(modules) & set(HEAVY), sorted(set(modules) & set(HEAVY))


def test_serve_imports_none_of_the_heavy_modules_even_once_a_shape_is_compiled():
    lines = [json.dumps({"cmd": "start", "protocol": 1})]
    lines += [json.dumps({"cmd": "allocate", "seq": i, "request": REQUEST}) for i in range(1, 21)]   # hot: compiled
    lines += [json.dumps({"cmd": "allocate", "seq": 99, "request": {**REQUEST, "balance": -1}}), '{"cmd":"stop"}']
    modules, out = _modules_after("from rollsplit.cli import main\ncode = main(['serve'])", "\n".join(lines) + "\n")
    answers = [json.loads(x) for x in out.splitlines()]
    assert len(answers) == 22 and all("result" in a for a in answers[1:21]) and "error" in answers[21]
    assert len({json.dumps(a["result"]) for a in answers[1:21]}) == 1
    assert not set(modules) & set(HEAVY), sorted(set(modules) & set(HEAVY))


def test_the_library_call_imports_none_of_the_heavy_modules():
    modules, out = _modules_after(f"import rollsplit, json\nprint(json.dumps(rollsplit.allocate({REQUEST!r})))")
    assert json.loads(out)["distribution"]["aftertax"] == 1_600_000
    assert not set(modules) & set(HEAVY), sorted(set(modules) & set(HEAVY))


def test_other_commands_still_load_every_package():
    """The answering commands parse with their own parser; the others (and --help) see every command."""
    from rollsplit.cli import build_parser
    parser = build_parser()
    choices = next(a for a in parser._actions if hasattr(a, "choices") and a.choices).choices
    assert {"allocate", "serve", "bench", "prove", "conformance"} <= set(choices)
