"""The fuzz loop: Hypothesis draws requests, the calculator answers, the oracle judges, failures shrink.

`fuzz(allocate, ...)` runs a `@given` test programmatically: no example database, seeded from `seed` (so a
run is reproduced by its seed), phases generate and shrink only. The first wrong answer (a broken invariant,
a differing field, a wrong error code, or a fault of the adapter: crash, hang, garbage) stops generation;
Hypothesis then shrinks it to a minimal request, which `FuzzReport.failure` holds with the oracle's verdict.

`allocate` is any callable from a wire request to an answer: an adapter's `allocate` (returning
`conformance.adapter.Answer`), or a Python function returning the wire dict.
"""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from rollsplit.conformance.fuzzing.api import _as_wire, expected_answer, verdict_of
from rollsplit.conformance.fuzzing.strategies import ALL_FEATURES, fuzz_cases, request_size
from rollsplit.conformance.oracle import Verdict

DEFAULT_SHRINK_SECONDS = 120.0


@dataclass
class FuzzFailure:
    request: Any
    expected: dict                 # the reference's wire answer
    answer: Any                    # the calculator's wire answer (None for a fault)
    verdict: Verdict | None        # None for a fault
    detail: str = ""               # what the fault was

    @property
    def size(self) -> int:
        return request_size(self.request)

    def explain(self) -> str:
        lines = [self.detail] if self.detail else []
        if self.verdict is not None:
            lines += self.verdict.explain().splitlines()
        return "\n".join(lines)


@dataclass
class FuzzReport:
    seed: int
    examples: int                   # examples judged before the first failure (or in all, when clean)
    seconds: float                  # the whole run, shrinking included
    stopped: str                    # "examples" | "time" | "failure" | "unsatisfiable"
    failure: FuzzFailure | None = None
    first_failure_example: int | None = None
    first_failure_seconds: float | None = None
    shrink_calls: int = 0
    shrink_complete: bool = True
    features: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.stopped != "unsatisfiable"


class _Found(Exception):
    """A wrong answer (an Exception, so Hypothesis shrinks it)."""

    def __init__(self, failure: FuzzFailure) -> None:
        super().__init__(failure.explain())
        self.failure = failure


class _Stop(BaseException):
    """Out of time (a BaseException, so Hypothesis lets it through without shrinking)."""


def judge_once(allocate: Callable[[Any], Any], request: Any, forms: bool) -> FuzzFailure | None:
    """Ask the calculator once and judge its answer against the reference; None when right."""
    try:
        answer = allocate(request)
    except Exception as e:  # a Python calculator that raises is wrong, like an adapter that crashes
        expected = expected_answer(request)
        return FuzzFailure(request=request, expected=expected, answer=None, verdict=None,
                           detail=f"the calculator raised {type(e).__name__}: {e}")
    expected = expected_answer(request)
    verdict, detail = verdict_of(request, answer, expected, forms)
    if verdict is not None and verdict.ok:
        return None
    wire, _ = _as_wire(answer)
    return FuzzFailure(request=request, expected=expected, answer=wire, verdict=verdict, detail=detail)


def _without_row(request: dict, kind: str, i: int) -> dict:
    """The request without one disbursement or 60-day rollover (and without its id in the elections)."""
    req = copy.deepcopy(request)
    row_id = req[kind].pop(i).get("id")
    if kind == "rollovers_60_day" and not req[kind]:
        del req[kind]
    elections = req.get("elections")
    if isinstance(elections, dict):
        for key, v in list(elections.items()):
            if isinstance(v, list):
                elections[key] = [x for x in v if x != row_id]
            elif isinstance(v, dict):
                elections[key] = {k: x for k, x in v.items() if k != row_id}
    return req


def _same_kind(a: dict, b: dict) -> bool:
    """Both results, or both the same error code."""
    ea, eb = a.get("error"), b.get("error")
    if ea is None or eb is None:
        return ea is None and eb is None
    return ea.get("code") == eb.get("code")


_OPTIONAL_FIELDS = ("elections", "rollovers_60_day", "hardship", "rmd", "pre1987_basis", "qualified_roth", "regime")


def _simpler(request: dict):
    """Candidates one step simpler than `request`: a row less, an optional field less, a default flag less."""
    for kind in ("rollovers_60_day", "disbursements"):
        rows = request.get(kind)
        if isinstance(rows, list):
            for i in reversed(range(len(rows))):
                yield _without_row(request, kind, i)
    for key in _OPTIONAL_FIELDS:
        if key in request:
            yield {k: v for k, v in request.items() if k != key}
    for i, row in enumerate(request.get("disbursements") or []):
        if isinstance(row, dict) and "accepts_aftertax" in row:
            req = copy.deepcopy(request)
            del req["disbursements"][i]["accepts_aftertax"]
            yield req


def simplify(failure: FuzzFailure, allocate: Callable[[Any], Any], forms: bool,
             deadline: float) -> tuple[FuzzFailure, int]:
    """After Hypothesis: drop rows and optional fields one at a time while the calculator stays wrong on a
    request the reference answers the same way (a result, or the same error code).
    Returns the simpler failure and the number of calls made."""
    calls = 0
    changed = True
    while changed and isinstance(failure.request, dict) and time.monotonic() < deadline:
        changed = False
        for candidate in _simpler(failure.request):
            if not _same_kind(expected_answer(candidate), failure.expected):
                continue
            calls += 1
            smaller = judge_once(allocate, candidate, forms)
            if smaller is not None:
                failure, changed = smaller, True
                break
    return failure, calls


@contextmanager
def seed_alone():
    """Make the seed alone decide the requests drawn.

    Hypothesis (6.131 and later) also draws, now and then, constants found in the source of the local modules
    loaded so far, so the same seed gives other requests depending on what the process imported before (a
    pytest session, a notebook). While fuzzing, that pool is empty; the strategies carry the law's own
    boundaries. Without the internals this relies on (another Hypothesis version), nothing changes."""
    try:
        from hypothesis.internal.conjecture import providers
        original, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE.cache, providers.Constants
    except (ImportError, AttributeError):
        yield
        return
    cache.clear()
    providers._get_local_constants = lambda: empty()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def fuzz(allocate: Callable[[Any], Any], *, examples: int = 1000, seed: int = 0, max_seconds: float | None = None,
         features: Iterable[str] | None = None, near_valid: bool = True,
         max_shrink_seconds: float = DEFAULT_SHRINK_SECONDS,
         progress: Callable[[int, int, float, str], None] | None = None, progress_every: float = 0.5,
         passed: list | None = None) -> FuzzReport:
    """Fuzz `allocate` with up to `examples` requests needing only `features` (default: all).

    `progress(examples_done, failures_seen, elapsed_seconds, phase)` is called about every `progress_every` s.
    `passed`: the first examples of this seed, already judged right (`fuzz_parallel`): an example drawn again equal to
    the one at its place is not sent again.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky, HypothesisException, Unsatisfiable

    feats = frozenset(features) if features is not None else ALL_FEATURES
    forms = "form_1099r" in feats
    began = time.monotonic()
    st_: dict[str, Any] = {"examples": 0, "failures": 0, "first": None, "first_at": None, "last": None,
                           "shrink_calls": 0, "tick": began}

    def tick(phase: str) -> None:
        now = time.monotonic()
        if progress is not None and now - st_["tick"] >= progress_every:
            st_["tick"] = now
            progress(st_["examples"], st_["failures"], now - began, phase)

    def one(case: tuple[Any, str | None]) -> None:
        request, _code = case
        now = time.monotonic()
        if st_["first"] is None:
            if max_seconds is not None and now - began > max_seconds:
                raise _Stop("time")
            st_["examples"] += 1
            tick("generate")
            if passed is not None and st_["examples"] <= len(passed) and request == passed[st_["examples"] - 1]:
                return
        else:
            st_["shrink_calls"] += 1
            if now - st_["first_at"] > max_shrink_seconds:
                raise _Stop("shrink")
            tick("shrink")
        failure = judge_once(allocate, request, forms)
        if failure is not None:
            st_["failures"] += 1
            if st_["first"] is None:
                st_["first"] = (st_["examples"], time.monotonic() - began)
                st_["first_at"] = time.monotonic()
            st_["last"] = failure
            raise _Found(failure)

    test = settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                    phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
                    report_multiple_bugs=False, print_blob=False, verbosity=Verbosity.quiet,
                    )(hseed(seed)(given(fuzz_cases(feats, near_valid=near_valid))(one)))
    report = FuzzReport(seed=seed, examples=0, seconds=0.0, stopped="examples", features=sorted(feats))
    try:
        with seed_alone():
            test()
    except KeyboardInterrupt as e:   # Ctrl-C, SIGTERM, SIGHUP: the caller says how far the run got
        e.fuzz_examples = st_["examples"]
        e.fuzz_failure = st_["last"]
        raise
    except _Found as e:
        report.failure = e.failure
    except _Stop:
        if st_["last"] is not None:   # shrinking ran out of time: the smallest failure so far
            report.failure = st_["last"]
            report.shrink_complete = False
            report.notes.append(f"shrinking stopped after {max_shrink_seconds:g} s; the request may not be minimal")
        else:
            report.stopped = "time"
    except Flaky as e:
        report.failure = st_["last"]
        report.notes.append(f"the failure did not reproduce on replay (a flaky calculator?): {type(e).__name__}")
    except Unsatisfiable as e:
        report.stopped = "unsatisfiable"
        report.notes.append(f"Hypothesis could not draw enough requests: {e}")
    except HypothesisException as e:
        report.failure = st_["last"]
        report.notes.append(f"Hypothesis stopped: {type(e).__name__}: {e}")
    if report.failure is None and st_["last"] is not None:
        report.failure = st_["last"]
    if report.failure is not None:
        report.failure, calls = simplify(report.failure, allocate, forms, time.monotonic() + max_shrink_seconds)
        st_["shrink_calls"] += calls
        report.stopped = "failure"
        report.first_failure_example, report.first_failure_seconds = st_["first"]
    report.examples = st_["first"][0] if st_["first"] else st_["examples"]
    report.shrink_calls = st_["shrink_calls"]
    report.seconds = time.monotonic() - began
    return report


def fuzz_parallel(allocates: list[Callable[[Any], Any]], *, examples: int = 1000, seed: int = 0,
                  max_seconds: float | None = None, features: Iterable[str] | None = None, near_valid: bool = True,
                  max_shrink_seconds: float = DEFAULT_SHRINK_SECONDS,
                  progress: Callable[[int, int, float, str], None] | None = None,
                  progress_every: float = 0.5) -> FuzzReport:
    """`fuzz` with several calculators (one adapter process each) judging at once, with the results of `fuzz` on one.

    The examples are drawn as `fuzz` draws them (the same seed, settings and strategies: Hypothesis draws the same
    sequence while every example passes), in this thread, and judged as they come by one thread per calculator.
    Drawing stops once an example is wrong and every earlier one is judged; the first wrong example is then the one
    `fuzz` would have stopped at. `fuzz` is then run on the first calculator with the examples before it marked as
    already judged right (`passed`): it draws them again without sending them, finds that example wrong, and shrinks
    it exactly as a run on one calculator does. A calculator that is not deterministic may make the two differ."""
    import queue
    import threading

    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import HypothesisException

    if len(allocates) == 1:
        return fuzz(allocates[0], examples=examples, seed=seed, max_seconds=max_seconds, features=features,
                    near_valid=near_valid, max_shrink_seconds=max_shrink_seconds, progress=progress,
                    progress_every=progress_every)
    feats = frozenset(features) if features is not None else ALL_FEATURES
    forms = "form_1099r" in feats
    began = time.monotonic()
    drawn: list[Any] = []
    judged: dict[int, bool] = {}             # index -> right
    cond = threading.Condition()
    todo: queue.Queue = queue.Queue()
    state: dict[str, Any] = {"wrong": None, "tick": began, "stop": False}

    def first_wrong() -> int | None:
        """The smallest wrong index all of whose predecessors are judged, once known."""
        wrong = state["wrong"]
        if wrong is None or any(i not in judged for i in range(wrong)):
            return None
        return wrong

    def judge(allocate) -> None:
        while True:
            item = todo.get()
            if item is None:
                return
            i, request = item
            with cond:
                skip = state["stop"] or (state["wrong"] is not None and i > state["wrong"])
            try:
                right = True if skip else judge_once(allocate, request, forms) is None
            except Exception:   # the oracle itself failed: `fuzz` meets it again on this example, and says so
                right = False
            with cond:
                judged[i] = right
                if not right and (state["wrong"] is None or i < state["wrong"]):
                    state["wrong"] = i
                cond.notify_all()

    threads = [threading.Thread(target=judge, args=(a,), daemon=True, name=f"rollsplit-fuzz-{n}")
               for n, a in enumerate(allocates)]
    for t in threads:
        t.start()

    def one(case: tuple[Any, str | None]) -> None:
        now = time.monotonic()
        if max_seconds is not None and now - began > max_seconds:
            raise _Stop("time")
        with cond:
            while len(drawn) - len(judged) > 4 * len(allocates) and first_wrong() is None:
                cond.wait(0.1)
            if first_wrong() is not None:
                raise _Stop("failure")
            i = len(drawn)
            drawn.append(case[0])
        todo.put((i, case[0]))
        if progress is not None and now - state["tick"] >= progress_every:
            state["tick"] = now
            progress(len(judged), 0 if state["wrong"] is None else 1, now - began, "generate")

    test = settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                    phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
                    report_multiple_bugs=False, print_blob=False, verbosity=Verbosity.quiet,
                    )(hseed(seed)(given(fuzz_cases(feats, near_valid=near_valid))(one)))   # as `fuzz` draws
    stopped = "examples"
    wrong: int | None = None
    try:
        try:
            with seed_alone():
                test()
        except _Stop as e:
            stopped = str(e)
        except HypothesisException:   # nothing could be drawn, ...: one calculator meets the same and says so
            with cond:
                state["stop"] = True
            wrong = -1
        with cond:   # every example drawn before the first wrong one is judged
            while wrong is None and first_wrong() is None and len(judged) < len(drawn):
                cond.wait(0.1)
            wrong = first_wrong() if wrong is None else wrong
    except KeyboardInterrupt as e:
        e.fuzz_examples = len(judged)
        e.fuzz_failure = None
        raise
    finally:
        with cond:
            state["stop"] = True
        for _ in threads:
            todo.put(None)
    if wrong is None:
        report = FuzzReport(seed=seed, examples=len(drawn), seconds=time.monotonic() - began,
                            stopped="time" if stopped == "time" else "examples", features=sorted(feats))
        return report
    found_at = time.monotonic() - began
    report = fuzz(allocates[0], examples=examples, seed=seed, max_seconds=None if wrong >= 0 else max_seconds,
                  features=features, near_valid=near_valid, max_shrink_seconds=max_shrink_seconds,
                  progress=progress, progress_every=progress_every, passed=drawn[:max(wrong, 0)])
    if wrong < 0:
        return report
    if report.first_failure_example is not None and report.first_failure_example != wrong + 1:
        report.notes.append(f"example {wrong + 1} was wrong on one adapter but not when sent again (a calculator that "
                            "is not deterministic?)")
    report.seconds = time.monotonic() - began
    if report.first_failure_seconds is not None:
        report.first_failure_seconds = found_at
    return report
