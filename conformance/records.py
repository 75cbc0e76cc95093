"""`rollsplit conformance check RECORDS.jsonl`: a vendor's own production records judged offline by the oracle.

A calculator that is a batch system cannot run an adapter; it has its records. Each line of RECORDS.jsonl is one
JSON object `{"request": {...}, "answer": {...}}`: a request of wire contract v1 and the answer the vendor's system
gave (a Result, or `{"error": {"code", "message", "field"}}`); an optional `"id"` (the vendor's own key) is shown
beside the line number. Each record is judged as `conformance run` judges a vector: against the reference's answer
to the same request, field by field, and against the invariants of the law (`conformance.oracle`). A record is
named by its line (`line-17`), so two checks of the same file compare with `conformance diff`.

The records are judged in worker processes (all cores by default) and reported in file order, with the same
failure blocks and the same reports (text, JSON lines, JUnit, HTML, badge) as `run`. A line that is not a record
is errored, with the reason. Records are not vectors of the suite: a check claims no conformance level.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

from rollsplit.conformance import describe, runner
from rollsplit.conformance.runner import (end_reports, ERRORED, FAILED, PASSED, SKIPPED, Outcome, Summary,
                                          visible)
from rollsplit.conformance.suite import Vector

MAX_LINE = 16 * 1024 * 1024   # a record longer than this is not judged (the limit of `rollsplit serve`)
CHUNK = 32                    # records per task sent to a worker


def _topic(request: Any, expected: dict, features: list[str]) -> str:
    if "error" in expected:
        return "rejected requests"
    extra = [f for f in features if f != "core"]
    return extra[0] if extra else "core"   # the first feature beyond core, in the contract's order


def judge_line(item: tuple[int, str], declared: tuple[str, ...]) -> dict:
    """One record judged: a plain dict (what crosses the process boundary). Never raises."""
    n, text = item
    try:
        return _judge(n, text, declared)
    except Exception as e:   # the oracle never raises; this is a guard, said plainly if it ever happens
        return {"n": n, "status": ERRORED, "reason": f"line {n} could not be judged: {type(e).__name__}: {e}",
                "topic": "records that are not records", "features": ["core"], "description": f"line {n}"}


def _not_a_record(n: int, why: str) -> dict:
    return {"n": n, "status": ERRORED, "reason": f"line {n} is not a record: {why}",
            "topic": "records that are not records", "features": ["core"],
            "description": f"Line {n} of the records file, which is not a record {{\"request\", \"answer\"}}."}


def _judge(n: int, text: str, declared: tuple[str, ...]) -> dict:
    from rollsplit.conformance.oracle import diff, judge
    from rollsplit.conformance.suite import features_of
    from rollsplit.reference import calculate
    if len(text) > MAX_LINE:
        return _not_a_record(n, f"it is longer than {MAX_LINE // (1024 * 1024)} MiB")
    try:
        record = json.loads(text)
    except ValueError as e:
        return _not_a_record(n, f"it is not JSON ({e})")
    if not isinstance(record, dict) or "request" not in record or "answer" not in record:
        return _not_a_record(n, "it must be a JSON object with the keys \"request\" and \"answer\"")
    request, answer = record["request"], record["answer"]
    own = record.get("id")
    features = features_of(request)
    reference = calculate(request)
    expected = {"error": reference["error"]["code"]} if "error" in reference else {"result": reference}
    out: dict[str, Any] = {"n": n, "request": request, "expected": expected, "features": features,
                           "topic": _topic(request, expected, features), "answer": answer,
                           "own_id": own if isinstance(own, (str, int)) and not isinstance(own, bool) else None}
    out["description"] = _description(n, out["own_id"], request, reference)
    missing = [f for f in features if f not in declared]
    if missing:
        out.update(status=SKIPPED, reason=f"needs feature{'s' if len(missing) > 1 else ''} {', '.join(missing)}, "
                                          "not declared by --features")
        return out
    forms = "form_1099r" in declared
    if "result" in expected and not diff(expected["result"], answer, forms=forms):
        out["status"] = PASSED
        return out
    verdict = judge(request, answer, expected, forms=forms)
    if verdict.ok:
        out["status"] = PASSED
        return out
    out.update(status=FAILED, shape=verdict.shape_problems, broken=[i.id for i in verdict.broken],
               diffs=[(d.path, d.expected, d.got) for d in verdict.diffs], expected_error=verdict.expected_error,
               got_error=verdict.got_error)
    return out


def _description(n: int, own: Any, request: Any, reference: dict) -> str:
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_request
    label = f"Record {own} (line {n})" if own is not None else f"Line {n}"
    if "error" in reference:
        e = reference["error"]
        return f"{label}: a request the contract rejects with {e['code']}: {e['message']}"
    try:
        return f"{label}: {describe.situation(parse_request(request))}"
    except (RequestError, KeyError, TypeError, ValueError):
        return f"{label}."


def outcome_of(result: dict) -> Outcome:
    """The runner's Outcome for a judged record, so every report of `run` can show it."""
    from rollsplit.conformance.oracle import FieldDiff, Verdict
    from rollsplit.spec.invariants import INVARIANTS
    n = result["n"]
    vector = Vector(id=f"line-{n}", topic=result["topic"], description=result["description"],
                    features=tuple(result["features"]), tags=(), flags=(), request=result.get("request"),
                    request_text=None, expected=result.get("expected") or {}, acceptable=(), citations=(),
                    origin=f"record:{n}")
    status = result["status"]
    if status != FAILED:
        return Outcome(vector, status, result.get("reason", ""))
    by_id = {i.id: i for i in INVARIANTS}
    verdict = Verdict(ok=False, shape_problems=list(result.get("shape") or []),
                      broken=[by_id[i] for i in result.get("broken") or [] if i in by_id],
                      diffs=[FieldDiff(p, e, g) for p, e, g in result.get("diffs") or []],
                      expected_error=result.get("expected_error"), got_error=result.get("got_error"))
    answer = result.get("answer")
    return Outcome(vector, FAILED, describe.failure_reason(vector, verdict), verdict,
                   answer if isinstance(answer, dict) else None)


def lines_of(stream: TextIO) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line; a line that is not UTF-8 is passed on as its escaped text."""
    for n, line in enumerate(stream, 1):
        if line.strip():
            yield n, line


def judged(lines: Iterable[tuple[int, str]], declared: tuple[str, ...], jobs: int) -> Iterator[dict]:
    """Each record judged, in file order: in `jobs` worker processes, or here when `jobs` is 1."""
    import functools
    work = functools.partial(judge_line, declared=declared)
    if jobs <= 1:
        for item in lines:
            yield work(item)
        return
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    pool = ctx.Pool(jobs, initializer=_worker_signals)
    try:
        yield from pool.imap(work, lines, chunksize=CHUNK)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _worker_signals() -> None:
    """A worker leaves signals to the parent: Ctrl-C (sent to the whole foreground group) is ignored, and the
    SIGTERM with which the parent's pool ends it ends it quietly."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


class Bar(runner.ProgressLine):
    """A progress bar on a terminal (`[#######.............] 35%  3,500/10,000 records, 12 failed`), redrawn at most
    five times a second; elsewhere a line at each tenth. A stream that can no longer be written stops the bar."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.total = total

    def __call__(self, n: int, counts: dict[str, int]) -> None:
        total = max(self.total, 1)
        done = self.WIDTH * n // total
        text = (f"[{'#' * done}{'.' * (self.WIDTH - done)}] {100 * n // total:3d}%  {n:,}/{self.total:,} records, "
                f"{counts.get(FAILED, 0):,} failed, {counts.get(ERRORED, 0):,} errored")
        self.show(n, self.total, text)


def count_records(path: Path) -> int:
    """How many records `check` will judge: the non-blank lines, read as `lines_of` reads them."""
    with open(path, encoding="utf-8", errors="backslashreplace") as f:
        return sum(1 for _ in lines_of(f))


def check(path: Path, declared: list[str], reporters: list, name: str, metadata: dict, jobs: int | None = None,
          progress: Bar | None = None, version: str = "") -> Summary:
    """Judge every record of `path` and feed the reporters as `runner.run` does. Ctrl-C raises
    `runner.Interrupted` holding what was judged, after every report was ended with it."""
    from rollsplit.conformance import metadata as meta_module
    from rollsplit.conformance.runner import Interrupted
    jobs = jobs or os.cpu_count() or 1
    total = count_records(path)
    handshake = {"protocol": None, "implementation": {"name": name, "version": version or "(version not given)",
                                                      "language": "records of your own system"},
                 "features": list(declared)}
    summary = Summary([], handshake, list(declared), total=total,
                      scope=f"{total:,} record{'s' if total != 1 else ''} of your own system from {path.name}, "
                            "judged offline by the oracle, not the suite's vectors",
                      metadata=metadata)
    meta_module.with_handshake(metadata, handshake, list(declared))
    counts = {s: 0 for s in (PASSED, FAILED, ERRORED, SKIPPED)}
    begun: list = []
    try:
        for r in reporters:
            r.metadata = metadata
            r.begin(handshake, list(declared), total)
            begun.append(r)
        with open(path, encoding="utf-8", errors="backslashreplace") as stream:
            for n, result in enumerate(judged(lines_of(stream), tuple(declared), jobs), 1):
                o = outcome_of(result)
                summary.outcomes.append(o)
                counts[o.status] = counts.get(o.status, 0) + 1
                for r in reporters:
                    r.vector(o)
                o.slim()
                if o.status not in (FAILED, ERRORED):
                    o.vector = _light(o.vector)   # a failure keeps its request for the failure block
                if progress is not None:
                    progress(n, counts)
    except BaseException as e:
        summary.interrupted = isinstance(e, KeyboardInterrupt)
        for r in reporters:
            if any(r is b for b in begun):
                r.abort(summary)
            else:
                r.close()
        if isinstance(e, KeyboardInterrupt):
            raise Interrupted(summary) from None
        raise
    return end_reports(reporters, summary)


def _light(v: Vector) -> Vector:
    """A record's vector without its request and expected answer: the reports have them; the summary needs the id,
    topic, features and description (kept short)."""
    import dataclasses
    return dataclasses.replace(v, request=None, expected={}, description=visible(v.description, False)[:300])
