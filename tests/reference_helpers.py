"""Small builders of wire requests for the reference tests (cents everywhere)."""

from __future__ import annotations

from rollsplit.reference import calculate, compute
from rollsplit.spec.invariants import violated
from rollsplit.spec.parse import parse_request


def direct(id: str, to: str, amount: int, **kw) -> dict:
    return {"id": id, "method": "direct", "to": to, "amount": amount, **kw}


def paid(id: str, amount: int) -> dict:
    return {"id": id, "method": "paid", "amount": amount}


def sixty(id: str, to: str, amount: int) -> dict:
    return {"id": id, "to": to, "amount": amount}


def request(disbursements: list[dict], balance: int = 10_000_000, basis: int = 2_000_000, **kw) -> dict:
    req = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": balance, "basis": basis,
           "disbursements": disbursements}
    req.update(kw)
    return req


def result(req: dict) -> dict:
    """The Result JSON of an accepted request, after checking that it breaks no invariant of spec.invariants."""
    answer = calculate(req)
    assert "error" not in answer, answer
    parsed = parse_request(req)
    broken = violated(parsed, compute(parsed))
    assert not broken, [inv.id for inv in broken]
    return answer


def error(req) -> dict:
    answer = calculate(req)
    assert "error" in answer, answer
    return answer["error"]


def rows(answer: dict) -> dict[str, dict]:
    """Disbursement and 60-day rows of a Result JSON by id."""
    return {r["id"]: r for r in answer["disbursements"] + answer["rollovers_60_day"]}


def split(answer: dict, row_id: str) -> tuple[int, int]:
    r = rows(answer)[row_id]
    return r["pretax"], r["aftertax"]


class RaisesAfter:
    """An adapter wrapper whose (n+1)-th request raises `exc` inside the runner: a Ctrl-C (KeyboardInterrupt) or
    a bug in the runner's caller."""

    def __init__(self, inner, n, exc):
        self.inner, self.n, self.exc, self.handshake = inner, n, exc, None

    def start(self):
        self.handshake = self.inner.start()
        return self.handshake

    def allocate(self, request):
        self.n -= 1
        if self.n < 0:
            raise self.exc
        return self.inner.allocate(request)

    allocate_text = allocate


def run_cli(argv, capsys):
    """`rollsplit ARGV` in this process: (exit code, captured output); no traceback may reach the user."""
    from rollsplit.cli import main
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out


def signal_when_ready(argv: list[str], ready, signum: int, env: dict, count: int = 1) -> tuple[int, str, str]:
    """Start `argv`, wait (at most 60 s) until `count` files matching the path `ready` (a glob) exist, that is until
    the adapters under test say they are busy, send `signum`, and return (exit code, stdout, stderr). The process is
    killed if it outlives the test."""
    import subprocess
    import time
    from pathlib import Path
    ready = Path(ready)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        end = time.monotonic() + 60
        while len(list(ready.parent.glob(ready.name))) < count and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        assert len(list(ready.parent.glob(ready.name))) >= count, proc.communicate(timeout=10)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def guide_workspace(root, links: tuple[str, ...] = ()) -> dict:
    """A directory in which a guide's console commands run as a reader would type them: `rollsplit` and `python` on
    PATH as this interpreter, COLUMNS=80, the checkout's folders `links` linked in. Returns {root, env, ran}."""
    import os
    import sys
    from pathlib import Path
    checkout = Path(__file__).resolve().parent.parent
    for name in links:
        (root / name).symlink_to(checkout / name, target_is_directory=True)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name, line in (("python", f'exec "{sys.executable}" "$@"'),
                       ("rollsplit", f'exec "{sys.executable}" -m rollsplit "$@"')):
        (bin_dir / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_dir / name).chmod(0o755)
    env = outside_ci(dict(os.environ, COLUMNS="80", PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"))
    env.pop("PYTEST_ADDOPTS", None)
    return {"root": root, "env": env, "ran": set()}


# The variables by which pytest (CI, BUILD_NUMBER) and Hypothesis (its "ci" settings profile: derandomized runs, so
# other shrunk examples) tell that they run in a CI service. Under them pytest prints each failure's whole message a
# second time in its short summary. The guides show what a developer sees at a terminal.
CI_VARIABLES = ("CI", "BUILD_NUMBER", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "TF_BUILD", "bamboo.buildKey",
                "BUILDKITE", "CIRCLECI", "CIRRUS_CI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS", "GITLAB_CI",
                "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION")


def outside_ci(env: dict | None = None) -> dict:
    """A copy of `env` (default: this process's) without the variables that tell pytest and Hypothesis they run in
    CI, for a child pytest whose printed output a test compares with a guide."""
    import os
    env = dict(os.environ if env is None else env)
    for name in CI_VARIABLES:
        env.pop(name, None)
    return env
