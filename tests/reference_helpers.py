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
