"""The adapter client survives every fault of a misbehaving calculator and says what went wrong."""

from __future__ import annotations

import sys

import pytest

from rollsplit.conformance.adapter import (AdapterStartError, OneShotAdapter, PersistentAdapter, open_adapter,
                                 validate_handshake)

FAKE = [sys.executable, "-m", "rollsplit.conformance.testing.fake_adapter"]
GOOD = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10000000, "basis": 2000000,
        "disbursements": [{"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6000000},
                          {"id": "me", "method": "paid", "amount": 2000000}]}

# fault -> (kind reported by the persistent client, a phrase of the detail)
PERSISTENT_FAULTS = {
    "crash": ("crash", "exited with code 3"),
    "hang": ("hang", "no answer within the timeout"),
    "garbage": ("garbage", "not JSON: 'this is not json'"),
    "partial": ("hang", "without ending the line"),
    "partial_exit": ("crash", "partial line"),
    "wrong_seq": ("wrong_seq", "expected"),
    "huge": ("oversize", "exceeds"),
    "array": ("bad_shape", "not an object"),
    "both": ("bad_shape", "exactly one of 'result' and 'error'"),
    "no_seq": ("bad_shape", "no seq"),
    "bad_error": ("bad_shape", "no string 'code'"),
}
ONESHOT_FAULTS = {
    "crash": ("crash", "wrote nothing on stdout; it exited with code 3"),
    "hang": ("hang", "no complete answer within the timeout"),
    "garbage": ("garbage", "not one JSON value"),
    "partial": ("hang", "it had written"),
    "partial_exit": ("garbage", "not one JSON value"),
    "huge": ("oversize", "exceeds"),
    "array": ("bad_shape", "not an object"),
    "bad_error": ("bad_shape", "no string 'code'"),
    "extra_line": ("garbage", "not one JSON value"),
}


@pytest.fixture(scope="module")
def persistent():
    with PersistentAdapter(FAKE, timeout=1.0) as a:
        yield a


@pytest.fixture(scope="module")
def oneshot():
    with OneShotAdapter(FAKE + ["--oneshot"], timeout=1.0) as a:
        yield a


def test_persistent_answers_result_and_error(persistent):
    ok = persistent.allocate(GOOD)
    assert ok.status == "result" and ok.payload["distribution"]["aftertax"] == 1600000
    bad = persistent.allocate({**GOOD, "basis": 20000000})
    assert bad.status == "error" and bad.payload["code"] == "basis_exceeds_balance"
    assert bad.wire() == {"error": bad.payload}


@pytest.mark.parametrize("fault", sorted(PERSISTENT_FAULTS))
def test_persistent_fault_is_a_value_and_the_next_vector_runs(persistent, fault):
    kind, phrase = PERSISTENT_FAULTS[fault]
    restarts = persistent.restarts
    answer = persistent.allocate({**GOOD, "fault": fault})
    assert answer.status == "fault" and answer.payload is None and answer.wire() is None
    assert answer.kind == kind
    assert phrase in answer.detail
    after = persistent.allocate(GOOD)
    assert after.status == "result", after.detail
    assert persistent.restarts == restarts + 1


def test_persistent_crash_carries_stderr_tail(persistent):
    answer = persistent.allocate({**GOOD, "fault": "crash"})
    assert "crashing on purpose" in answer.stderr_tail


def test_persistent_stderr_flood_does_not_block(persistent):
    assert persistent.allocate({**GOOD, "fault": "stderr_flood"}).status == "result"


def test_persistent_second_line_for_one_request_is_caught_on_the_next(persistent):
    assert persistent.allocate({**GOOD, "fault": "extra_line"}).status == "result"
    stale = persistent.allocate(GOOD)
    assert stale.kind == "wrong_seq" and "earlier request" in stale.detail
    assert persistent.allocate(GOOD).status == "result"


def test_persistent_killed_from_outside_is_restarted(persistent):
    persistent._proc.kill()
    persistent._proc.wait()
    answer = persistent.allocate(GOOD)
    assert answer.status == "fault" and answer.kind == "crash"
    assert persistent.allocate(GOOD).status == "result"


def test_request_that_is_not_json_is_a_fault_not_an_exception(persistent, oneshot):
    for adapter in (persistent, oneshot):
        assert adapter.allocate({"x": object()}).kind == "bad_shape"


@pytest.mark.parametrize("fault", sorted(ONESHOT_FAULTS))
def test_oneshot_fault_is_a_value(oneshot, fault):
    kind, phrase = ONESHOT_FAULTS[fault]
    answer = oneshot.allocate({**GOOD, "fault": fault})
    assert (answer.status, answer.kind) == ("fault", kind)
    assert phrase in answer.detail
    assert oneshot.allocate(GOOD).status == "result"


def test_oneshot_crash_carries_stderr_tail(oneshot):
    assert "crashing on purpose" in oneshot.allocate({**GOOD, "fault": "crash"}).stderr_tail


def test_oneshot_handshake_is_synthetic():
    a = open_adapter(FAKE, oneshot=True, features=["core", "rmd"])
    assert isinstance(a, OneShotAdapter)
    assert a.start()["features"] == ["core", "rmd"]
    assert isinstance(open_adapter(FAKE), PersistentAdapter)


@pytest.mark.parametrize("mode, phrase", [("exit", "refusing to start"), ("bad", "protocol must be 1"),
                                          ("garbage", "not JSON"), ("hang", "no answer within")])
def test_bad_handshake_is_a_clear_start_error(mode, phrase):
    with pytest.raises(AdapterStartError, match=phrase):
        PersistentAdapter(FAKE + [f"--handshake={mode}"], timeout=1.0).start()


def test_missing_command_is_a_clear_start_error():
    with pytest.raises(AdapterStartError, match="cannot run"):
        PersistentAdapter(["/nonexistent/calculator"]).start()
    answer = OneShotAdapter(["/nonexistent/calculator"]).allocate(GOOD)
    assert answer.status == "fault" and "cannot run" in answer.detail


def test_adapter_that_cannot_restart_stops_being_retried():
    a = PersistentAdapter(["/nonexistent/calculator"], timeout=1.0)
    answers = [a.allocate(GOOD) for _ in range(5)]
    assert all(x.status == "fault" for x in answers)
    assert "could not be restarted" in answers[-1].detail


@pytest.mark.parametrize("reply", [
    [], {"protocol": 1, "implementation": {"name": "x", "version": "1"}, "features": ["core"]},
    {"protocol": 1, "implementation": {"name": "x", "version": "1", "language": "c"}, "features": ["rmd"]},
])
def test_handshake_validation_rejects(reply):
    with pytest.raises(AdapterStartError):
        validate_handshake(reply)


def test_a_one_shot_program_is_found_on_the_path_it_will_run_with(tmp_path):
    import os
    script = tmp_path / "my-calculator-only-here"
    script.write_text("#!/bin/sh\necho '{}'\n")
    script.chmod(0o755)
    with pytest.raises(AdapterStartError):
        OneShotAdapter([script.name]).start()   # not on this process's PATH
    env = {"PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert OneShotAdapter([script.name], env=env).start()["features"]


def test_an_adapter_whose_pipes_another_thread_closed_gives_a_fault_not_an_exception():
    """Under load, a pool's worker may stop an adapter (after a hang) while another thread still writes to it or
    reads from it, or closes the run: the closed pipes are a crash of that adapter, never a ValueError."""
    for pipe in ("stdin", "stdout"):
        a = PersistentAdapter(FAKE, timeout=1.0)
        a.start()
        try:
            assert a.allocate(GOOD).status == "result"
            getattr(a._proc, pipe).close()     # what stopping the adapter in another thread leaves behind
            answer = a.allocate(GOOD)
            assert answer.status == "fault", (pipe, answer)
        finally:
            a.close()                          # and closing it then raises nothing either
