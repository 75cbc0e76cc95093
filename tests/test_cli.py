"""`rollsplit allocate` (tables, --json one-shot adapter) and `rollsplit serve` (JSON-lines adapter)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rollsplit.reference import calculate
from rollsplit.reference.explain import money
from rollsplit.reference.serve import FEATURES, serve
from rollsplit import __version__
from rollsplit.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
SEED = ROOT / "examples" / "seed_004.json"


class FakeStdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def run_cli(argv: list[str], capsys, monkeypatch, stdin: bytes = b"") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", FakeStdin(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# ---- money formatting ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cents, text", [(0, "$0.00"), (5, "$0.05"), (100, "$1.00"), (123456, "$1,234.56"),
                                         (-5, "-$0.05"), (2**53 - 1, "$90,071,992,547,409.91"),
                                         (10**22 + 1, "$100,000,000,000,000,000,000.01")])
def test_money(cents, text):
    assert money(cents) == text


# ---- allocate -------------------------------------------------------------------------------------------------
def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"seed_004.json", "irs_faq_example1.json", "designated_roth.json", "rmd_and_sixty_day.json",
            "pre1987.json", "old_regime_2014.json"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_allocate_json_is_the_result(path, capsys, monkeypatch):
    code, out, err = run_cli(["allocate", "--json", str(path)], capsys, monkeypatch)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == calculate(json.loads(path.read_text()))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_allocate_tables_and_explanation(path, capsys, monkeypatch):
    code, out, err = run_cli(["allocate", str(path)], capsys, monkeypatch)
    assert code == 0 and err == ""
    answer = calculate(json.loads(path.read_text()))
    for title in ("Distribution", "Disbursements", "Form 1099-R", "Taxes and withholding", "Remaining",
                  "How it was computed"):
        assert title in out
    assert money(answer["distribution"]["amount"]) in out
    assert money(answer["taxable_income"]) in out
    for row in answer["disbursements"]:
        assert row["id"] in out
    assert "1. " in out and "§72(e)(8)" in out
    if answer["rollovers_60_day"]:
        assert "60-day rollovers" in out and "§402(c)(2)" in out


def test_allocate_explains_seed_004_with_its_numbers(capsys, monkeypatch):
    # §72(e)(8): $80,000 distributed x $20,000 basis / $100,000 balance = $16,000 after-tax, $64,000 pre-tax; the
    # $60,000 direct rollover takes pre-tax first (Notice 2014-54), the payment keeps $4,000 pre-tax, 20% is $800
    code, out, _ = run_cli(["allocate", str(SEED)], capsys, monkeypatch)
    assert code == 0
    assert ("basis recovered = $80,000.00 (amount distributed) × $20,000.00 (basis) ÷ $100,000.00 (account balance) "
            "= $16,000.00") in out and "IRC §72(e)(8)(B)" in out
    assert "Notice 2014-54 §III ¶2" in out and "and $60,000.00 (amount rolled over directly) = $60,000.00" in out
    assert "§3405(c)" in out and "20% × $4,000.00 (pre-tax money in the payment 'me') = $800.00" in out


@pytest.mark.parametrize("name, cite", [("pre1987.json", "§72(e)(8)(D)"), ("old_regime_2014.json", "Notice 2009-68"),
                                        ("rmd_and_sixty_day.json", "§402(c)(4)(B)"),
                                        ("rmd_and_sixty_day.json", "§408A(d)(3)"),
                                        ("designated_roth.json", "§402A(c)(3)")])
def test_allocate_cites_the_rule(name, cite, capsys, monkeypatch):
    _, out, _ = run_cli(["allocate", str(ROOT / "examples" / name)], capsys, monkeypatch)
    assert cite in out


def test_allocate_reads_stdin(capsys, monkeypatch):
    code, out, _ = run_cli(["allocate", "--json"], capsys, monkeypatch, stdin=SEED.read_bytes())
    assert code == 0 and json.loads(out) == calculate(json.loads(SEED.read_text()))
    code, out, _ = run_cli(["allocate", "-"], capsys, monkeypatch, stdin=SEED.read_bytes())
    assert code == 0 and "How it was computed" in out


@pytest.mark.parametrize("data, code", [(b"{", "invalid_json"), (b"\xff", "invalid_json"), (b"[]", "invalid_request"),
                                        (b"", "invalid_json")])
def test_allocate_json_rejected_request(data, code, capsys, monkeypatch):
    rc, out, _ = run_cli(["allocate", "--json"], capsys, monkeypatch, stdin=data)
    assert rc == 2
    lines = out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["error"]["code"] == code


def test_allocate_text_rejected_request_names_code_message_and_field(capsys, monkeypatch):
    req = json.loads(SEED.read_text())
    req["basis"] = req["balance"] + 1
    rc, out, _ = run_cli(["allocate"], capsys, monkeypatch, stdin=json.dumps(req).encode())
    assert rc == 2
    assert "basis_exceeds_balance" in out and "cannot be larger than the balance" in out and "basis" in out


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_allocate_missing_file(tmp_path, json_flag, capsys, monkeypatch):
    rc, out, err = run_cli(["allocate", *json_flag, str(tmp_path / "nope.json")], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in err
    if json_flag:   # a program reads a coded Error JSON, as for a rejected request
        error = json.loads(out)["error"]
        assert error["code"] == "unreadable_input" and "nope.json" in error["message"]
    else:
        assert out == "" and "cannot read" in err and "nope.json" in err


def test_allocate_directory_is_unreadable(tmp_path, capsys, monkeypatch):
    rc, _, err = run_cli(["allocate", str(tmp_path)], capsys, monkeypatch)
    assert rc == 2 and "cannot read" in err


def test_bench_rejects_bad_seconds(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--seconds", "soon"])
    assert e.value.code == 2
    assert "not a number of seconds" in capsys.readouterr().err


def test_bench_runs_and_prints_a_table(capsys):
    assert main(["bench", "--seconds", "0.01", "--only", "requests"]) == 0
    out = capsys.readouterr().out
    assert "3 destinations" in out and "Machine:" in out and "rollsplit.allocate /s" in out and "before /s" in out
    assert "after / before" in out and ">= 3x" in out


# ---- serve (in-process) --------------------------------------------------------------------------------------
def talk(*lines: bytes | str | dict) -> list[dict]:
    raw = b"".join((json.dumps(x).encode() if isinstance(x, dict) else x.encode() if isinstance(x, str) else x)
                   + b"\n" for x in lines)
    out = io.BytesIO()
    assert serve(io.BytesIO(raw), out) == 0
    text = out.getvalue()
    assert text == b"" or text.endswith(b"\n")
    return [json.loads(line) for line in text.splitlines()]


SEED_REQ = json.loads(SEED.read_text())


def test_serve_handshake():
    assert talk({"cmd": "start", "protocol": 1}) == [{
        "protocol": 1, "implementation": {"name": "rollsplit", "version": __version__, "language": "python"},
        "features": ["core", "sixty_day", "designated_roth", "pre1987_basis", "rmd", "regime_2009", "form_1099r",
                     "in_plan_roth", "loan_offset", "withholding_de_minimis", "recipients", "form_1099r_box7"]}]
    assert set(FEATURES) == {"core", "sixty_day", "designated_roth", "pre1987_basis", "rmd", "regime_2009",
                             "form_1099r", "in_plan_roth", "loan_offset", "withholding_de_minimis", "recipients",
                             "form_1099r_box7"}


def test_serve_allocate_result_and_error():
    bad = dict(SEED_REQ, basis=SEED_REQ["balance"] + 1)
    replies = talk({"cmd": "start", "protocol": 1}, {"cmd": "allocate", "seq": 1, "request": SEED_REQ},
                   {"cmd": "allocate", "seq": 2, "request": bad})
    assert replies[1] == {"seq": 1, "result": calculate(SEED_REQ)}
    assert replies[2] == {"seq": 2, **calculate(bad)} and replies[2]["error"]["code"] == "basis_exceeds_balance"


def test_serve_result_field_holds_the_result_json():
    (reply,) = talk({"cmd": "allocate", "seq": 7, "request": SEED_REQ})
    assert set(reply) == {"seq", "result"} and reply["seq"] == 7
    assert reply["result"] == calculate(SEED_REQ)


@pytest.mark.parametrize("line, seq, code", [
    (b"not json", None, "invalid_json"),
    (b"\xff\xfe\x00garbage", None, "invalid_json"),
    (b"[1, 2]", None, "invalid_request"),
    (b"42", None, "invalid_request"),
    (b'"allocate"', None, "invalid_request"),
    (b"{}", None, "invalid_request"),
    (b'{"seq": 3}', 3, "invalid_request"),
    (b'{"cmd": "dance", "seq": 4}', 4, "invalid_request"),
    (b'{"cmd": 5, "seq": 5}', 5, "invalid_request"),
    (b'{"cmd": "allocate", "seq": "6", "request": {}}', None, "invalid_request"),
    (b'{"cmd": "allocate", "seq": true, "request": {}}', None, "invalid_request"),
    (b'{"cmd": "allocate", "seq": 1.5, "request": {}}', None, "invalid_request"),
    (b'{"cmd": "allocate", "request": {}}', None, "invalid_request"),
    (b'{"cmd": "allocate", "seq": 8}', 8, "invalid_request"),
    (b'{"cmd": "allocate", "seq": 9, "request": {"balance": NaN}}', 9, "invalid_json"),
    (b'{"cmd": "allocate", "seq": 10, "seq": 10, "request": {}}', 10, "invalid_json"),
    (b'{"cmd": "start", "protocol": 2}', None, "invalid_request"),
    (b"", None, "invalid_json"),
    (b"[" * 100_000, None, "invalid_json"),
])
def test_serve_invalid_line_gets_an_error_and_the_server_keeps_serving(line, seq, code):
    replies = talk(line, {"cmd": "allocate", "seq": 99, "request": SEED_REQ})
    assert len(replies) == 2
    assert replies[0]["seq"] == seq and replies[0]["error"]["code"] == code
    assert set(replies[0]["error"]) == {"code", "message", "field"}
    assert replies[1] == {"seq": 99, "result": calculate(SEED_REQ)}


def test_serve_request_errors_keep_their_seq():
    replies = talk({"cmd": "allocate", "seq": 11, "request": [1]}, {"cmd": "allocate", "seq": -3, "request": "x"})
    assert [r["seq"] for r in replies] == [11, -3]
    assert [r["error"]["code"] for r in replies] == ["invalid_request", "invalid_request"]


def test_serve_stop_ends_without_reply():
    assert talk({"cmd": "stop"}, {"cmd": "start", "protocol": 1}) == []
    replies = talk({"cmd": "start", "protocol": 1}, {"cmd": "stop"}, {"cmd": "allocate", "seq": 1, "request": SEED_REQ})
    assert len(replies) == 1


def test_serve_eof_without_final_newline():
    out = io.BytesIO()
    assert serve(io.BytesIO(json.dumps({"cmd": "allocate", "seq": 1, "request": SEED_REQ}).encode()), out) == 0
    assert json.loads(out.getvalue()) == {"seq": 1, "result": calculate(SEED_REQ)}
    out = io.BytesIO()
    assert serve(io.BytesIO(b""), out) == 0 and out.getvalue() == b""


def test_serve_crlf_lines():
    out = io.BytesIO()
    serve(io.BytesIO(b'{"cmd":"start","protocol":1}\r\n'), out)
    assert json.loads(out.getvalue())["protocol"] == 1


def test_serve_overlong_line_is_skipped_in_bounded_reads():
    out = io.BytesIO()
    long_line = b'{"cmd":"allocate","seq":1,"request":"' + b"x" * 5000 + b'"}\n'
    serve(io.BytesIO(long_line + b'{"cmd":"start","protocol":1}\n'), out, max_line=1000)
    first, second = [json.loads(x) for x in out.getvalue().splitlines()]
    assert first["seq"] is None and first["error"]["code"] == "invalid_json"
    assert second["protocol"] == 1


def test_serve_output_is_ascii_even_for_odd_ids():
    req = json.loads(SEED.read_text())
    req["disbursements"][0]["id"] = "\ud800 lone surrogate \u00e9"
    out = io.BytesIO()
    line = json.dumps({"cmd": "allocate", "seq": 1, "request": req}).encode()
    serve(io.BytesIO(line + b"\n"), out)
    out.getvalue().decode("ascii")
    assert json.loads(out.getvalue())["result"]["disbursements"][0]["id"] == req["disbursements"][0]["id"]


# ---- end to end in a subprocess ------------------------------------------------------------------------------
def test_subprocess_allocate_json_one_shot():
    p = subprocess.run([sys.executable, "-m", "rollsplit", "allocate", "--json"], input=SEED.read_bytes(),
                       capture_output=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == calculate(SEED_REQ)
    p = subprocess.run([sys.executable, "-m", "rollsplit", "allocate", "--json"], input=b"{oops",
                       capture_output=True, timeout=60, cwd=ROOT)
    assert p.returncode == 2 and json.loads(p.stdout)["error"]["code"] == "invalid_json"
    assert p.stderr == b""


def test_subprocess_serve_session():
    lines = [{"cmd": "start", "protocol": 1}, {"cmd": "allocate", "seq": 1, "request": SEED_REQ}]
    stdin = b"".join(json.dumps(x).encode() + b"\n" for x in lines) + b"garbage\n" + b'{"cmd":"stop"}\n'
    p = subprocess.run([sys.executable, "-m", "rollsplit", "serve"], input=stdin, capture_output=True, timeout=60,
                       cwd=ROOT)
    assert p.returncode == 0 and p.stderr == b""
    replies = [json.loads(x) for x in p.stdout.splitlines()]
    assert replies[0]["implementation"]["name"] == "rollsplit"
    assert replies[1] == {"seq": 1, "result": calculate(SEED_REQ)}
    assert replies[2]["error"]["code"] == "invalid_json" and len(replies) == 3


def test_subprocess_serve_answers_each_line_before_the_next_arrives():
    p = subprocess.Popen([sys.executable, "-m", "rollsplit", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=ROOT)
    try:
        p.stdin.write(b'{"cmd":"start","protocol":1}\n')
        p.stdin.flush()
        assert json.loads(p.stdout.readline())["protocol"] == 1   # flushed while stdin stays open
        p.stdin.write(json.dumps({"cmd": "allocate", "seq": 5, "request": SEED_REQ}).encode() + b"\n")
        p.stdin.flush()
        assert json.loads(p.stdout.readline())["seq"] == 5
        p.stdin.close()   # end of input ends the server cleanly
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_allocate_json_explain_adds_the_steps_and_nothing_else(path, capsys):
    """--json --explain: the contract's Result plus "explanation", each step naming the rule it applies (an
    invariant id) with its citation and integer cents; without --explain, no explanation key."""
    from rollsplit.spec.invariants import BY_ID
    want = calculate(json.loads(path.read_text()))
    if "error" in want:
        return
    assert main(["allocate", "--json", "--explain", str(path)]) == 0
    got = json.loads(capsys.readouterr().out)
    steps = got.pop("explanation")
    assert got == want
    assert steps and all(s["rule"] in BY_ID and s["citation"] for s in steps)
    assert main(["allocate", "--json", str(path)]) == 0
    assert "explanation" not in json.loads(capsys.readouterr().out)
