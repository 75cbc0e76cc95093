"""`rollsplit allocate --jsonl IN [--out OUT] [--jobs N]`: one answer per line, in order, each the answer
`allocate --json` gives that request alone; the same bytes whatever N; OUT whole or untouched; a bar on a terminal."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rollsplit.cli import main
from rollsplit.conformance import suite
from rollsplit.reference import batch, calculate

PY = sys.executable
REQUEST = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
           "basis": 2_000_000, "disbursements": [
               {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
               {"id": "me", "method": "paid", "amount": 2_000_000}]}


def _lines() -> list[bytes]:
    """Every request of the suite (raw text for the malformed ones), then odd lines."""
    out = []
    for v in suite.load():
        text = v.request_text if v.request_text is not None else json.dumps(v.request)
        if "\n" not in text and "\r" not in text:
            out.append(text.encode("utf-8", "surrogatepass"))
    return out + [b"", b"   ", b"[1, 2]", b"\xff\xfe", json.dumps(REQUEST).encode() + b"\r"]


def _one_alone(line: bytes, tmp_path, capsys) -> bytes:
    path = tmp_path / "one.json"
    path.write_bytes(line)
    main(["allocate", "--json", str(path)])
    return capsys.readouterr().out.encode()


def test_each_line_is_answered_as_allocate_json_answers_it_alone_in_order(tmp_path, capsys):
    lines = _lines()
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    outs = {}
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out{jobs}.jsonl"
        assert main(["allocate", "--jsonl", str(src), "--out", str(out), "--jobs", jobs]) == 2   # some are rejected
        outs[jobs] = out.read_bytes()
    assert outs["1"] == outs["2"] == outs["3"]
    answers = outs["1"].splitlines()
    assert len(answers) == len(lines)
    for line, answer in list(zip(lines, answers))[::7]:   # a sample, each run alone through allocate --json
        assert answer + b"\n" == _one_alone(line, tmp_path, capsys)
    assert json.loads(answers[-1]) == calculate(REQUEST)


def test_all_results_exit_0_and_standard_output_is_the_default(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({**REQUEST, "balance": 10_000_000 + i}) for i in range(50)))   # no last \n
    assert main(["allocate", "--jsonl", str(src), "--jobs", "2"]) == 0
    got = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [g["remaining"]["balance"] for g in got] == [2_000_000 + i for i in range(50)]


def test_a_line_longer_than_the_limit_is_an_error_and_the_rest_go_on():
    stream = io.BytesIO(b"x" * 100 + b"\n" + b"y" * 30 + b"\n" + b"z" * 250)
    assert list(batch.read_lines(stream, max_line=40)) == [None, b"y" * 30, None]
    assert json.loads(batch._too_long())["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("argv, words", [
    (["--jsonl", "/no/such/file"], "cannot read /no/such/file"),
    (["--out", "x.jsonl"], "--out and --jobs go with --jsonl"),
    (["--jsonl", "-", "--json"], "give no FILE, --json or --explain"),
])
def test_mistakes_are_sentences(argv, words, capsys):
    assert main(["allocate"] + argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_out_is_whole_or_untouched(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    assert main(["allocate", "--jsonl", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
    assert out.read_text() == "previous\n"
    assert main(["allocate", "--jsonl", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(REQUEST) + "\n")
    assert main(["allocate", "--jsonl", str(src), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == calculate(REQUEST)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []   # no temporary file left


def test_the_progress_bar_is_drawn_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    tty = Terminal()
    bar = batch.Bar(tty, total_bytes=1000)
    bar.last = 0.0   # (redrawn at most five times a second)
    bar.update(10, 500, final=False)
    bar.last = 0.0
    bar.update(20, 1000, final=True)
    text = tty.getvalue()
    assert "\r" in text and "50%" in text and "100%" in text and "20 requests" in text and text.endswith("\n")
    plain = io.StringIO()
    bar = batch.Bar(plain, total_bytes=1000)
    bar.update(20, 1000, final=True)
    assert plain.getvalue() == ""


def test_ctrl_c_ends_a_batch_with_a_sentence_and_leaves_out_untouched(tmp_path):
    src = tmp_path / "in.jsonl"
    with open(src, "w") as f:
        for i in range(300_000):
            f.write(json.dumps({**REQUEST, "balance": 10_000_000 + i}) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    proc = subprocess.Popen([PY, "-m", "rollsplit", "allocate", "--jsonl", str(src), "--out", str(out), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 30
        while not any(p.name.startswith(".out") for p in tmp_path.iterdir()) and time.monotonic() < end:
            time.sleep(0.02)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode == 0:   # the machine answered 300,000 requests before the signal came: nothing to judge
        pytest.skip("the batch ended before Ctrl-C")
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr and "interrupted" in stderr
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert os.path.exists(src)
