"""The conformance runner as a library: vectors in, one outcome per vector, reports written as it goes.

`run(adapter, vectors, options, reporters)` sends each selected vector to the adapter and judges the
answer with `conformance.oracle` against the vector's expected answer (and any `acceptable`
alternative). Outcomes:
  passed   the answer is right;
  failed   a wrong answer: field-by-field diff and the invariants it breaks (id and citation);
  errored  the adapter faulted (crash, hang, garbage...): the detail and its stderr tail;
  skipped  the adapter does not declare a feature the vector needs, or --skip/--only left it out.
Skipped never counts as passed. A vector named in the expected-failures file may fail without
failing the run (test262 style), but if it passes that is reported as an unexpected pass, which does
fail the run, so the list is kept honest. `thin CLI on top: conformance.commands`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO
from xml.sax.saxutils import escape, quoteattr

from rollsplit.conformance.adapter import FEATURES, Answer
from rollsplit.conformance.oracle import Verdict, diff, judge
from rollsplit.conformance.suite import SUITE_VERSION, Vector

PASSED, FAILED, ERRORED, SKIPPED = "passed", "failed", "errored", "skipped"
CORE_FEATURES = frozenset({"core"})


@dataclass
class Options:
    only: set[str] | None = None               # run only vectors with one of these ids/topics/tags/flags
    skip: set[str] = field(default_factory=set)
    features: list[str] | None = None           # declare these instead of the adapter's handshake
    expected_failures: set[str] = field(default_factory=set)


@dataclass
class Outcome:
    vector: Vector
    status: str
    reason: str = ""                  # skip reason, fault detail, or what is wrong
    verdict: Verdict | None = None
    answer: dict | None = None
    stderr_tail: str = ""
    seconds: float = 0.0
    expected_failure: bool = False    # listed in the expected-failures file

    @property
    def unexpected_pass(self) -> bool:
        return self.expected_failure and self.status == PASSED

    @property
    def counts_against(self) -> bool:
        """Does this outcome make the run fail?"""
        if self.status in (FAILED, ERRORED):
            return not self.expected_failure
        return self.unexpected_pass

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.vector.id, "topic": self.vector.topic, "status": self.status,
                               "seconds": round(self.seconds, 6)}
        if self.expected_failure:
            out["expected_failure"] = True
        if self.reason:
            out["reason"] = self.reason
        if self.verdict is not None and not self.verdict.ok:
            out["diffs"] = [{"path": d.path, "expected": d.expected, "got": d.got} for d in self.verdict.diffs]
            out["broken_invariants"] = [{"id": i.id, "statement": i.statement, "citation": i.citation()}
                                        for i in self.verdict.broken]
            out["shape_problems"] = self.verdict.shape_problems
            out["expected"] = self.vector.expected
            out["got"] = self.answer
        if self.stderr_tail:
            out["stderr_tail"] = self.stderr_tail
        return out


@dataclass
class Summary:
    outcomes: list[Outcome]
    handshake: dict
    features: list[str]
    deselected: int = 0      # left out by --only

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not any(o.counts_against for o in self.outcomes)

    def level(self) -> str:
        """Gateway-API style: "extended" when every feature is declared and every vector passes; "core" when
        every core-only vector passes; otherwise "none". A level is earned by passing: a vector listed in
        --expected-failures may keep the run green, but never counts towards a level (nor does a skip)."""
        core = [o for o in self.outcomes if set(o.vector.features) <= CORE_FEATURES]
        if not core or not all(o.status == PASSED for o in core):
            return "none"
        if set(FEATURES) <= set(self.features) and all(o.status == PASSED for o in self.outcomes) \
                and self.deselected == 0:
            return "extended"
        return "core"

    def line(self) -> str:
        return (f"{self.count(PASSED)} passed, {self.count(FAILED)} failed, {self.count(ERRORED)} errored, "
                f"{self.count(SKIPPED)} skipped")

    def to_json(self) -> dict:
        return {"summary": {s: self.count(s) for s in (PASSED, FAILED, ERRORED, SKIPPED)},
                "unexpected_passes": [o.vector.id for o in self.outcomes if o.unexpected_pass],
                "expected_failures": [o.vector.id for o in self.outcomes
                                      if o.expected_failure and o.status != PASSED],
                "conformance_level": self.level(), "ok": self.ok}


def read_expected_failures(path: Path) -> set[str]:
    """One vector id per line; '#' starts a comment."""
    ids = set()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.add(line)
    return ids


DESELECTED = "not selected by --only"


def select(vectors: Iterable[Vector], options: Options) -> Iterable[tuple[Vector, str | None]]:
    """Each vector with the reason it is not run (None: run it). Vectors --only leaves out are deselected:
    not part of the run at all (unlike --skip and missing features, which are reported as skipped)."""
    for v in vectors:
        tags = v.tag_set()
        if options.only is not None and not (tags & options.only):
            yield v, DESELECTED
        elif tags & options.skip:
            yield v, f"skipped by --skip ({', '.join(sorted(tags & options.skip))})"
        else:
            yield v, None


def send(adapter, v: Vector) -> Answer:
    """One vector's request to the adapter: its raw text for vectors about malformed JSON, else its JSON."""
    return adapter.allocate_text(v.request_text) if v.request_text is not None else adapter.allocate(v.request)


def judge_vector(v: Vector, answer: Answer, forms: bool) -> tuple[str, Verdict | None, str]:
    """(status, verdict, reason) for one answer; never raises."""
    if answer.status == "fault":
        return ERRORED, None, answer.detail
    got = answer.wire()
    if "result" in v.expected and not diff(v.expected["result"], got, forms=forms):
        # every field of the expected answer, with its exact JSON type (100.0 and true are not 100 and 1), and
        # `verify` proved that answer obeys every invariant: nothing to explain
        return PASSED, None, ""
    verdict = judge(v.request, got, v.expected, forms=forms)
    if verdict.ok:
        return PASSED, verdict, ""
    for alternative in v.acceptable:
        alt = judge(v.request, got, alternative, forms=forms)
        if alt.ok:
            return PASSED, alt, "an acceptable alternative"
    return FAILED, verdict, verdict.explain()


def run(adapter, vectors: list[Vector], options: Options, reporters: list["Reporter"] = (),
        progress: Callable[[int, int, dict], None] | None = None) -> Summary:
    """Run `vectors` through an adapter already started (its `handshake` set)."""
    handshake = adapter.handshake or adapter.start()
    features = list(options.features) if options.features is not None else list(handshake.get("features", []))
    forms = "form_1099r" in features
    for r in reporters:
        r.begin(handshake, features, sum(1 for _, why in select(vectors, options) if why != DESELECTED))
    outcomes: list[Outcome] = []
    counts = {PASSED: 0, FAILED: 0, ERRORED: 0, SKIPPED: 0}
    chosen = [(v, why) for v, why in select(vectors, options) if why != DESELECTED]
    for n, (v, why_not) in enumerate(chosen, 1):
        missing = [f for f in v.features if f not in features]
        xfail = v.id in options.expected_failures
        if why_not is not None:
            o = Outcome(v, SKIPPED, why_not, expected_failure=xfail)
        elif missing:
            o = Outcome(v, SKIPPED, f"needs feature{'s' if len(missing) > 1 else ''} {', '.join(missing)}, "
                        "not declared by the adapter", expected_failure=xfail)
        else:
            answer = send(adapter, v)
            status, verdict, reason = judge_vector(v, answer, forms)
            o = Outcome(v, status, reason, verdict, answer.wire(), answer.stderr_tail, answer.seconds, xfail)
        outcomes.append(o)
        counts[o.status] += 1
        for r in reporters:
            r.vector(o)
        if progress is not None:
            progress(n, len(chosen), counts)
    summary = Summary(outcomes, handshake, features, deselected=len(vectors) - len(chosen))
    for r in reporters:
        r.end(summary)
    return summary


# ---- reports, written as the run goes so a crash loses nothing already run ----------------------
class Reporter:
    def begin(self, handshake: dict, features: list[str], total: int) -> None: ...
    def vector(self, outcome: Outcome) -> None: ...
    def end(self, summary: Summary) -> None: ...


class JsonLinesReporter(Reporter):
    """One JSON object per line: a header, one line per vector (flushed), a summary line."""

    def __init__(self, path: Path) -> None:
        self.file: TextIO = open(path, "w", encoding="utf-8")

    def _write(self, obj: dict) -> None:
        self.file.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.file.flush()

    def begin(self, handshake, features, total):
        self._write({"suite_version": SUITE_VERSION, "implementation": handshake.get("implementation"),
                     "features": features, "vectors": total})

    def vector(self, outcome):
        self._write(outcome.to_json())

    def end(self, summary):
        self._write(summary.to_json())
        self.file.close()


class JUnitReporter(Reporter):
    """JUnit XML: test cases appended and flushed as they finish; the file is rewritten whole at the end
    with the counts (a run cut short leaves every finished test case, without the closing tags)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cases: list[str] = []
        self.file: TextIO = open(path, "w", encoding="utf-8")
        self.name = "rollsplit-conformance"

    def begin(self, handshake, features, total):
        impl = handshake.get("implementation") or {}
        self.name = f"rollsplit-conformance {SUITE_VERSION}: {impl.get('name', '?')} {impl.get('version', '')}"
        self.file.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name={quoteattr(self.name)}>\n')
        self.file.flush()

    def vector(self, o: Outcome):
        v = o.vector
        body = ""
        if o.status == FAILED:
            tag = "skipped" if o.expected_failure else "failure"
            body = f"<{tag} message={quoteattr(v.description[:200])}>{escape(o.reason)}</{tag}>"
        elif o.status == ERRORED:
            tag = "skipped" if o.expected_failure else "error"
            body = f"<{tag} message={quoteattr(o.reason[:200])}>{escape(o.stderr_tail)}</{tag}>"
        elif o.status == SKIPPED:
            body = f"<skipped message={quoteattr(o.reason)}/>"
        elif o.unexpected_pass:
            body = "<failure message=\"unexpected pass: listed in the expected-failures file\"/>"
        case = (f'<testcase classname={quoteattr(v.topic)} name={quoteattr(v.id)} time="{o.seconds:.6f}">'
                f"{body}</testcase>\n")
        self.cases.append(case)
        self.file.write(case)
        self.file.flush()

    def end(self, summary):
        self.file.close()
        failures = sum(1 for o in summary.outcomes if (o.status == FAILED and not o.expected_failure)
                       or o.unexpected_pass)
        errors = sum(1 for o in summary.outcomes if o.status == ERRORED and not o.expected_failure)
        skipped = sum(1 for o in summary.outcomes if o.status == SKIPPED or
                      (o.expected_failure and o.status != PASSED))
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name={quoteattr(self.name)} '
                f'tests="{len(summary.outcomes)}" failures="{failures}" errors="{errors}" skipped="{skipped}">\n')
        self.path.write_text(head + "".join(self.cases) + "</testsuite>\n</testsuites>\n", encoding="utf-8")


class ProgressLine:
    """A progress line on stderr, redrawn at most a few times a second (a new line each 10% when not a TTY)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr   # looked up now, not at import
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.decile = -1

    def __call__(self, n: int, total: int, counts: dict) -> None:
        now = time.monotonic()
        text = (f"[{n}/{total}] " + ", ".join(f"{counts[k]} {k}" for k in (PASSED, FAILED, ERRORED, SKIPPED)))
        if self.tty:
            if now - self.last > 0.2 or n == total:
                self.stream.write("\r\033[K" + text + ("\n" if n == total else ""))
                self.stream.flush()
                self.last = now
        elif n * 10 // max(total, 1) != self.decile:
            self.decile = n * 10 // max(total, 1)
            self.stream.write(text + "\n")
            self.stream.flush()


def render(summary: Summary, verbose_limit: int = 50) -> str:
    """The human report: every failure and error (up to a limit), skips by reason, a table, the final line."""
    from tabulate import tabulate
    lines: list[str] = []
    bad = [o for o in summary.outcomes if o.status in (FAILED, ERRORED) or o.unexpected_pass]
    for o in bad[:verbose_limit]:
        v = o.vector
        mark = " (expected failure)" if o.expected_failure and not o.unexpected_pass else ""
        if o.unexpected_pass:
            lines.append(f"UNEXPECTED PASS {v.id}: listed in the expected-failures file but passes; remove it.")
            continue
        lines.append(f"{o.status.upper()} {v.id}{mark}: {v.description}")
        for text in o.reason.splitlines():
            lines.append(f"    {text}")
        if o.stderr_tail.strip():
            lines.append("    adapter stderr (end):")
            lines += [f"      {t}" for t in o.stderr_tail.strip().splitlines()[-8:]]
    if len(bad) > verbose_limit:
        lines.append(f"... and {len(bad) - verbose_limit} more (see --report-json for all)")
    reasons: dict[str, list[str]] = {}
    for o in summary.outcomes:
        if o.status == SKIPPED:
            reasons.setdefault(o.reason, []).append(o.vector.id)
    for reason, ids in sorted(reasons.items()):
        shown = ", ".join(ids[:10]) + (f", ... ({len(ids)} in all)" if len(ids) > 10 else "")
        lines.append(f"skipped ({reason}): {shown}")
    topics: dict[str, dict[str, int]] = {}
    for o in summary.outcomes:
        row = topics.setdefault(o.vector.topic, {PASSED: 0, FAILED: 0, ERRORED: 0, SKIPPED: 0})
        row[o.status] += 1
    table = [[t, c[PASSED], c[FAILED], c[ERRORED], c[SKIPPED]] for t, c in sorted(topics.items())]
    lines.append("")
    lines.append(tabulate(table, headers=["topic", PASSED, FAILED, ERRORED, SKIPPED], tablefmt="simple"))
    impl = summary.handshake.get("implementation") or {}
    lines.append("")
    lines.append(f"implementation: {impl.get('name', '?')} {impl.get('version', '')} ({impl.get('language', '?')}); "
                 f"features: {', '.join(summary.features)}; conformance level: {summary.level()}")
    if summary.deselected:
        lines.append(f"{summary.deselected} vectors not selected by --only")
    xfail = sum(1 for o in summary.outcomes if o.expected_failure and o.status != PASSED)
    if xfail:
        lines.append(f"{xfail} of the failures were expected (--expected-failures)")
    lines.append(summary.line())
    return "\n".join(lines)
