"""No adapter process outlives the runner or the fuzzer (issue: items 1 and 2).

A zoo of hostile adapters: each starts descendants that would sleep for 300 s and ignore SIGTERM, SIGHUP and
SIGINT -- a background child holding stdout (`sleep 300 & exec calculator`), one not holding it, a child that
calls setsid, a daemon (double fork: the grandchild is orphaned at once, in a session of its own) -- and some
ignore those signals themselves, hang, or write without end. Every descendant carries a marker unique to the test
in its environment, and after each run /proc is searched for it: no process may be left. The runner and the
fuzzer run in this process (`main`), or as a process of their own when a signal (SIGINT, SIGTERM, SIGHUP) is
sent to them midway.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from reference_helpers import run_cli, signal_when_ready

PY = sys.executable
LAST_LINE = re.compile(r"^\d+ passed, \d+ failed, \d+ errored, \d+ skipped")
TWO = "examples-0001,examples-0002"

ZOO = r'''
import json, os, signal, subprocess, sys, time
mode, protocol, marker = sys.argv[1], sys.argv[2], sys.argv[3]
os.environ["ROLLSPLIT_ZOO"] = marker          # inherited by every descendant: what the test looks for
HERE = os.path.abspath(__file__)
SLEEPER = [sys.executable, HERE, "sleep", protocol, marker]
modes = set(mode.split(","))


def deaf():
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)


if "sleep" in modes:                          # a descendant: sleeps 300 s, deaf to polite signals
    deaf()
    time.sleep(300)
    sys.exit(0)
if "ignore_term" in modes:
    deaf()
if "fork" in modes:                           # like `sleep 300 &` in sh: holds stdout and stderr
    subprocess.Popen(SLEEPER)
if "fork_quiet" in modes:
    subprocess.Popen(SLEEPER, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if "setsid" in modes:                         # escapes the adapter's process group, holds stdout
    subprocess.Popen(SLEEPER, start_new_session=True)
if "daemon" in modes:                         # double fork: orphaned at once, in a session of its own
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, SLEEPER)
        os._exit(0)
    os.waitpid(pid, 0)


def answer(request_text):
    from rollsplit.reference import calculate_text
    return calculate_text(request_text)


def stall():
    ready = os.environ.get("ZOO_READY")
    if ready:
        open(ready, "w").close()
    time.sleep(300)


def endless():
    chunk = b"x" * 65536
    while True:
        os.write(1, chunk)


if protocol == "oneshot":
    text = sys.stdin.buffer.read()
    if "stall2" in modes:                     # the second request (counted in a file beside ZOO_READY) hangs
        counter = os.environ["ZOO_READY"] + ".count"
        with open(counter, "a") as f:
            f.write("x")
        if os.path.getsize(counter) == 2:
            stall()
    if "hang" in modes:
        stall()
    if "endless" in modes:
        endless()
    sys.stdout.write(json.dumps(answer(text)) + "\n")
    sys.exit(0)

from rollsplit.reference.serve import reply
n = 0
for line in sys.stdin.buffer:
    msg = json.loads(line)
    if msg.get("cmd") == "allocate":
        n += 1
        if "hang" in modes or ("stall2" in modes and n == 2):
            stall()
        if "endless" in modes:
            endless()
    out = reply(line.rstrip(b"\n"))
    if out is None:
        break
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
'''


def _zoo_pids(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment or command line holds `marker`."""
    found = []
    needle = marker.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read()
        except (OSError, IndexError):
            continue
        if state != b"Z" and (needle in env or needle in cmd):
            found.append(int(name))
    return found


def _left(marker: str, within: float = 3.0) -> list[int]:
    """The zoo's processes still alive `within` seconds after the run (a SIGKILL takes a moment to land)."""
    end = time.monotonic() + within
    while True:
        pids = _zoo_pids(marker)
        if not pids or time.monotonic() > end:
            return pids
        time.sleep(0.05)


@pytest.fixture
def zoo(tmp_path):
    """zoo(mode, protocol) -> the adapter command; after the test, no process of it may be left."""
    script = tmp_path / "zoo.py"
    script.write_text(ZOO, encoding="utf-8")
    marker = f"rollsplit-zoo-{uuid.uuid4().hex}"

    def command(mode: str, protocol: str = "persistent") -> list[str]:
        return [PY, str(script), mode, protocol, marker]
    command.marker = marker
    yield command
    left = _left(marker)
    for pid in left:   # leave the machine clean even when the test failed
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"adapter processes outlived the run: {left}"


_main = run_cli   # tests/reference_helpers.py


# ---- item 1: whatever the adapter forks ------------------------------------------------------------------
def test_sleep_in_the_background_then_exec_leaves_nothing_persistent(zoo, capsys):
    """The issue's case: `sh -c 'sleep 300 & exec my-calculator'`, the child holding stdout."""
    sleeper, adapter = zoo("sleep"), zoo("plain")
    shell = f"{' '.join(sleeper)} & exec {' '.join(adapter)}"
    code, out = _main(["conformance", "run", "--only", TWO, "--", "sh", "-c", shell], capsys)
    assert code == 0, out.out + out.err


@pytest.mark.parametrize("mode", ["fork,fork_quiet", "setsid,daemon,ignore_term"])
def test_no_descendant_of_a_persistent_adapter_outlives_the_run(zoo, capsys, mode):
    code, out = _main(["conformance", "run", "--only", TWO, "--"] + zoo(mode), capsys)
    assert code == 0, out.out + out.err


@pytest.mark.parametrize("mode", ["fork", "setsid,daemon,ignore_term"])
def test_a_one_shot_answer_is_judged_though_a_child_holds_the_pipe_and_no_child_survives(zoo, capsys, mode):
    code, out = _main(["conformance", "run", "--oneshot", "--timeout", "5", "--only", TWO, "--"]
                      + zoo(mode, "oneshot"), capsys)
    assert code == 0, out.out + out.err   # passed, not a hang: the leader answered and exited
    assert out.out.splitlines()[-1].startswith("2 passed")


@pytest.mark.parametrize("protocol, mode, kind", [
    ("persistent", "fork,setsid,daemon,ignore_term,hang", "hang"),
    ("oneshot", "fork,setsid,daemon,ignore_term,hang", "hang"),
    ("persistent", "fork,setsid,endless", "oversize"),
    ("oneshot", "fork,setsid,endless", "oversize"),
])
def test_a_faulting_adapter_is_killed_with_all_it_started(zoo, capsys, protocol, mode, kind):
    argv = ["conformance", "run", "--timeout", "1", "--only", "examples-0001", "--"]
    if protocol == "oneshot":
        argv.insert(2, "--oneshot")
    code, out = _main(argv + zoo(mode, protocol), capsys)
    assert code == 1 and f"{kind}:" in out.out, out.out + out.err


# ---- item 2: whatever signal ends the runner -------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["persistent", "oneshot"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_runner_ends_every_adapter_process_and_reports_what_ran(zoo, tmp_path, protocol, signum):
    ready = tmp_path / "ready"
    # one adapter at a time: the adapter stalls on the second request it is sent (with --jobs 2, which one that
    # is would depend on which process asks first)
    argv = [PY, "-m", "rollsplit", "conformance", "run", "--timeout", "120", "--only", "examples", "--junit",
            str(tmp_path / "r.xml"), "--jobs", "1", "--"] + zoo("fork,setsid,daemon,ignore_term,stall2", protocol)
    if protocol == "oneshot":
        argv[5:5] = ["--oneshot"]
    code, out, err = signal_when_ready(argv, ready, signum, {**os.environ, "ZOO_READY": str(ready)})
    assert code == 128 + signum, out + err
    assert "Traceback" not in out + err
    assert LAST_LINE.match(out.splitlines()[-1]) and out.splitlines()[-1].startswith("1 passed"), out
    assert f"stopped by {signal.Signals(signum).name}" in err or signum == signal.SIGINT, err
    assert "interrupted after 1 of" in err or "after 1 of" in err, err
    assert (tmp_path / "r.xml").read_text().rstrip().endswith("</testsuites>")


# ---- the fuzzer ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["persistent", "oneshot"])
def test_no_descendant_of_a_fuzzed_adapter_outlives_the_fuzzer(zoo, tmp_path, capsys, protocol):
    argv = ["conformance", "fuzz", "--examples", "3", "--seed", "1", "--out", str(tmp_path / "f"), "--"]
    if protocol == "oneshot":
        argv.insert(2, "--oneshot")
    code, out = _main(argv + zoo("fork,setsid,daemon,ignore_term", protocol), capsys)
    assert code == 0, out.out + out.err


def test_a_hung_fuzzed_adapter_is_killed_with_all_it_started(zoo, tmp_path, capsys):
    code, out = _main(["conformance", "fuzz", "--oneshot", "--examples", "3", "--seed", "1", "--timeout", "0.5",
                       "--max-shrink-seconds", "1", "--out", str(tmp_path / "f"), "--"]
                      + zoo("fork,setsid,daemon,hang", "oneshot"), capsys)
    assert code == 1, out.out + out.err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_fuzzer_ends_every_adapter_process(zoo, tmp_path, signum):
    ready = tmp_path / "ready"
    code, out, err = signal_when_ready([PY, "-m", "rollsplit", "conformance", "fuzz", "--examples", "50", "--seed",
                                        "1", "--timeout", "120", "--out", str(tmp_path / "f"), "--"]
                                       + zoo("fork,setsid,daemon,ignore_term,stall2"), ready, signum,
                                       {**os.environ, "ZOO_READY": str(ready)})
    assert code == 128 + signum, out + err
    assert "Traceback" not in out + err
    assert f"stopped by {signal.Signals(signum).name}" in err and "seed 1" in err, err


def test_a_terminal_that_hangs_up_ends_the_run_cleanly(zoo, tmp_path):
    """The real SIGHUP: the runner's terminal goes away. Writing to it fails from then on (EIO); the runner still
    ends every adapter process, writes its report and exits 129, without a traceback."""
    import fcntl
    import pty
    import termios
    ready = tmp_path / "ready"
    master, slave = pty.openpty()

    def controlling_terminal():   # in the runner, before exec: the pty is its controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    try:
        proc = subprocess.Popen([PY, "-m", "rollsplit", "conformance", "run", "--timeout", "120", "--only", "examples",
                                 "--junit", str(tmp_path / "r.xml"), "--jobs", "1", "--"]   # stall2: see above
                                + zoo("fork,setsid,daemon,stall2"),
                                stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                preexec_fn=controlling_terminal, env={**os.environ, "ZOO_READY": str(ready)})
    finally:
        os.close(slave)
    try:
        end = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        assert ready.exists()
        os.close(master)   # the terminal hangs up: SIGHUP to the runner, EIO on every write
        master = None
        proc.wait(timeout=60)
    finally:
        if master is not None:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGHUP
    suite_el = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite_el.get("tests") == "1" and suite_el.find("properties/property[@name='interrupted']") is not None
