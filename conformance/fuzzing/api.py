"""The plain API for Python users: `check(request, answer)` inside your own tests.

    from rollsplit.conformance.fuzzing.api import check, Mismatch

    answer = my_calculator(request)        # a wire Result dict, or {"error": {"code": ..., ...}}
    check(request, answer)                 # None when right; raises Mismatch (an AssertionError) when wrong

A `Mismatch` says what is wrong the way `rollsplit conformance run` does (it is `conformance.oracle.judge`):
the invariants of the law the answer breaks, each with its citation, and the fields that differ from the
reference's answer; for a request the reference rejects, the error code it expected. Because it is an
AssertionError, pytest and Hypothesis treat it as an ordinary test failure (and Hypothesis shrinks it).
`check` hides its own frame from pytest's tracebacks (`__tracebackhide__`): a failing test shows the line of
the test that called it and the Mismatch message, not the source of `check`.
"""

from __future__ import annotations

import json
from typing import Any

from rollsplit.conformance.oracle import Verdict, judge

__all__ = ["check", "Mismatch", "expected_answer", "verdict_of"]


def _json(v: Any, limit: int = 4000) -> str:
    try:
        s = json.dumps(v, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= limit else s[:limit - 3] + "..."


class Mismatch(AssertionError):
    """The calculator's answer is wrong. Attributes: request, answer, expected (the reference's wire answer),
    verdict (`conformance.oracle.Verdict`: .broken invariants, .diffs, .shape_problems), detail (for faults)."""

    def __init__(self, request: Any, answer: Any, expected: Any, verdict: Verdict | None, detail: str = "") -> None:
        self.request = request
        self.answer = answer
        self.expected = expected
        self.verdict = verdict
        self.detail = detail
        super().__init__(self.describe())

    @property
    def broken(self) -> list:
        return list(self.verdict.broken) if self.verdict else []

    @property
    def diffs(self) -> list:
        return list(self.verdict.diffs) if self.verdict else []

    def describe(self) -> str:
        lines = ["the calculator's answer is wrong for this request:"]
        if self.detail:
            lines.append(f"  {self.detail}")
        if self.verdict is not None:
            lines += [f"  {line.strip()}" for line in self.verdict.explain().splitlines()]
        lines.append(f"request:  {_json(self.request)}")
        lines.append(f"answer:   {_json(self.answer)}")
        lines.append(f"expected: {_json(self.expected)}")
        return "\n".join(lines)


def expected_answer(request: Any) -> dict:
    """The reference's wire answer: a Result dict or {"error": {...}} (raw text is parsed as JSON first)."""
    from rollsplit.reference import calculate, calculate_text
    if isinstance(request, (str, bytes)):
        return calculate_text(request)
    return calculate(request)


def _as_wire(answer: Any) -> tuple[Any, str]:
    """(wire answer, fault detail): accepts a dict, JSON text, or an `conformance.adapter.Answer`."""
    status = getattr(answer, "status", None)
    if status is not None and hasattr(answer, "payload"):
        if status == "fault":
            tail = getattr(answer, "stderr_tail", "")
            return None, f"the calculator failed: {answer.detail}" + (f"; its stderr ends with: {tail.strip()[-500:]}"
                                                                      if tail and tail.strip() else "")
        return answer.wire(), ""
    if isinstance(answer, (str, bytes)):
        try:
            return json.loads(answer), ""
        except ValueError:
            return None, f"the answer is not JSON: {_json(answer if isinstance(answer, str) else repr(answer), 200)}"
    return answer, ""


def verdict_of(request: Any, answer: Any, expected: Any = None, forms: bool = True) -> tuple[Verdict | None, str]:
    """The oracle's verdict on `answer` (None with a detail sentence when the answer is a fault or not JSON)."""
    wire, detail = _as_wire(answer)
    if detail:
        return None, detail
    if isinstance(request, (str, bytes)):
        # raw text: only its error code can be judged
        expected = expected if expected is not None else expected_answer(request)
        return judge({}, wire, expected, forms=forms), ""
    return judge(request, wire, expected, forms=forms), ""


def check(request: Any, answer: Any, *, expected: Any = None, forms: bool = True) -> None:
    """Raise `Mismatch` unless `answer` is the right answer to the wire `request`.

    request:  a wire request dict (or raw request text, judged on its error code only).
    answer:   the calculator's wire answer: a Result dict, an Error dict {"error": {"code", "message", "field"}},
              JSON text of either, or a `conformance.adapter.Answer` (a fault always fails).
    expected: the expected answer ({"result": R} | {"error": code} | a wire answer); default: the reference's.
    forms:    False to ignore form_1099r (a calculator that does not declare the feature).
    """
    __tracebackhide__ = True   # pytest shows the Mismatch, not this function's source
    want = expected if expected is not None else expected_answer(request)
    verdict, detail = verdict_of(request, answer, want, forms)
    if verdict is None or not verdict.ok:
        wire, _ = _as_wire(answer)
        raise Mismatch(request, wire if not detail else getattr(answer, "detail", answer), want, verdict, detail)
