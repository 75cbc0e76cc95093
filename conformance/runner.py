"""The conformance runner as a library: vectors in, one outcome per vector, reports written as it goes.

`run(adapter, vectors, options, reporters)` sends each selected vector to the adapter and judges the
answer with `conformance.oracle` against the vector's expected answer (and any `acceptable`
alternative). Outcomes:
  passed   the answer is right;
  failed   a wrong answer: field-by-field diff and the invariants it breaks (id and citation);
  errored  the adapter faulted (crash, hang, garbage...): the detail and its stderr tail;
  skipped  the adapter does not declare a feature the vector needs, or --skip/--only left it out;
  not_run  the run stopped before the vector: K vectors in a row hung (`Options.max_hangs`) or the run's
           deadline passed (`Options.deadline`).
Skipped and not run never count as passed, and a run that stopped early fails. A vector named in the expected-failures file may fail without
failing the run (test262 style), but if it passes that is reported as an unexpected pass, which does
fail the run, so the list is kept honest. `thin CLI on top: conformance.commands`.

Everything an adapter writes is untrusted: the human report shows it through `visible` (no control character
but newline reaches a terminal), the JSON report escapes control characters and lone surrogates, and the
JUnit XML escapes them too, so it is always well-formed. Reports are written to a temporary file beside the
target and renamed into place at the end (`ReportFile`): a runner killed midway leaves no half report. A run
interrupted (Ctrl-C, SIGTERM, SIGHUP) or cut short by an exception still ends every report with what ran.

Memory is bounded by what the reports need, not by the answers: once the reports have an outcome, it keeps only
its status, the reason (at most `REASON_LIMIT` characters) and the stderr tail (`Outcome.slim`).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO
from xml.sax.saxutils import escape, quoteattr

from rollsplit.conformance import describe, metadata
from rollsplit.conformance.adapter import FEATURES, Answer
from rollsplit.conformance.processes import signal_name, signal_of
from rollsplit.conformance.oracle import Verdict, diff, judge
from rollsplit.conformance.suite import SUITE_VERSION, Vector

PASSED, FAILED, ERRORED, SKIPPED, NOT_RUN = "passed", "failed", "errored", "skipped", "not_run"
STATUSES = (PASSED, FAILED, ERRORED, SKIPPED, NOT_RUN)
MAX_HANGS = 3                # a run stops after this many vectors in a row hung (0: never)
REASON_LIMIT = 20_000        # characters of a failure's explanation kept for the human report
CORE_FEATURES = frozenset({"core"})

# what must never reach a terminal or a report raw: C0 and C1 controls (but newline, kept where lines are
# allowed), DEL, lone surrogates, bidi and other invisible format controls, line and paragraph separators,
# and the two noncharacters XML 1.0 forbids
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                     "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match) -> str:
    c = m.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def visible(text: Any, newlines: bool = True) -> str:
    """`text` safe for a terminal or a report: every control character (ESC, BEL, CR, NUL, C1...), lone
    surrogate and invisible format character shown as a visible escape (`\\x1b`, `\\u202e`, `\\udc00`).
    Newlines are kept when `newlines`, escaped (`\\n`) otherwise, for a field that must stay on one line."""
    text = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_escape_char, text if newlines else text.replace("\n", "\\n"))


def _no_lone_surrogates(obj: Any) -> Any:
    """`obj` (JSON data) with every lone surrogate in a string or key replaced by its visible escape, so it
    can be written as UTF-8: a report is about the answer, and must be valid UTF-8 JSON whatever it held."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
            return obj
        except UnicodeEncodeError:
            return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", obj)
    if isinstance(obj, dict):
        return {_no_lone_surrogates(k): _no_lone_surrogates(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_lone_surrogates(v) for v in obj]
    return obj


def json_line(obj: Any) -> str:
    """One line of the JSON report: UTF-8 text, no raw control or format character (JSON escapes such as `\\u001b`
    keep their value), no lone surrogate."""
    text = json.dumps(_no_lone_surrogates(obj), ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass
class Options:
    only: set[str] | None = None               # run only vectors with one of these ids/topics/tags/flags
    skip: set[str] = field(default_factory=set)
    features: list[str] | None = None           # declare these instead of the adapter's handshake
    expected_failures: set[str] = field(default_factory=set)
    max_hangs: int = MAX_HANGS                  # stop after this many vectors in a row hung (0: never)
    deadline: float | None = None               # seconds for the whole run (None: no limit)
    scope: str | None = None                    # what the run is when not the whole bundled suite (no level then)
    metadata: dict = field(default_factory=dict)   # the run's metadata for the reports (`conformance.metadata`)


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

    def slim(self) -> None:
        """Forget what only the reports needed (they have it): the answer, the verdict; the reason bounded."""
        self.answer = None
        self.verdict = None
        if len(self.reason) > REASON_LIMIT:
            self.reason = (self.reason[:REASON_LIMIT] + f"\n... ({len(self.reason) - REASON_LIMIT} more characters; "
                           "the JSON report has the whole answer)")

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.vector.id, "topic": self.vector.topic, "status": self.status,
                               "seconds": round(self.seconds, 6)}
        if self.expected_failure:
            out["expected_failure"] = True
        if self.reason:
            out["reason"] = self.reason
        out.update(describe.outcome_extra(self))
        if self.verdict is not None and not self.verdict.ok:
            out["diffs"] = [describe.dollars_of_diff({"path": d.path, "expected": d.expected, "got": d.got})
                            for d in self.verdict.diffs]
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
    total: int | None = None     # vectors selected; more than len(outcomes) when the run was cut short
    interrupted: bool = False    # Ctrl-C, SIGTERM, SIGHUP: the outcomes are those of the vectors that ran
    signal: int | None = None    # the signal that interrupted the run
    stopped: str = ""            # why the run stopped early (hangs, deadline): the rest are not run
    scope: str | None = None     # what the run is when it is not the whole bundled suite: no level is claimed
    metadata: dict = field(default_factory=dict)   # the run's metadata (`conformance.metadata`)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.stopped and not any(o.counts_against for o in self.outcomes)

    def interruption(self) -> str:
        """How the run was cut short, in a few words: "interrupted" (Ctrl-C) or "stopped by SIGTERM"."""
        if self.signal is None or self.signal == 2:
            return "interrupted"
        return f"stopped by {signal_name(self.signal)}"

    def level(self) -> str:
        """Gateway-API style: "extended" when every feature is declared and every vector passes; "core" when
        every core-only vector passes; otherwise "none". A level is earned by passing: a vector listed in
        --expected-failures may keep the run green, but never counts towards a level (nor does a skip)."""
        core = [o for o in self.outcomes if set(o.vector.features) <= CORE_FEATURES]
        if self.interrupted or self.stopped or not core or not all(o.status == PASSED for o in core):
            return "none"
        if set(FEATURES) <= set(self.features) and all(o.status == PASSED for o in self.outcomes) \
                and self.deselected == 0:
            return "extended"
        return "core"

    def claimed_level(self) -> str | None:
        """The level, for a run of the whole bundled suite; None for any other run (`scope` says what it is)."""
        return None if self.scope else self.level()

    def level_text(self) -> str:
        if self.scope:
            return f"no conformance level (this run is {self.scope}; a level is given only for the whole bundled suite)"
        return f"conformance level: {self.level()}"

    def line(self) -> str:
        not_run = self.count(NOT_RUN)
        return (f"{self.count(PASSED)} passed, {self.count(FAILED)} failed, {self.count(ERRORED)} errored, "
                f"{self.count(SKIPPED)} skipped" + (f", {not_run} not run" if not_run else ""))

    def to_json(self) -> dict:
        extra = {"stopped": self.stopped} if self.stopped else {}
        if self.scope:
            extra["scope"] = self.scope
        level = self.claimed_level()
        out = {"summary": {s: self.count(s) for s in STATUSES}, **extra,
               "unexpected_passes": [o.vector.id for o in self.outcomes if o.unexpected_pass],
               "expected_failures": [o.vector.id for o in self.outcomes
                                     if o.expected_failure and o.status != PASSED],
               "conformance_level": level, "ok": self.ok}
        if self.metadata:
            out["metadata"] = metadata.with_level(self.metadata, level)
        return out


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
    return FAILED, verdict, describe.failure_reason(v, verdict)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, SIGHUP: `processes.stop_on_signals`) during `run`: the reports were ended with what
    ran; `summary` holds it, `signum` the signal."""

    def __init__(self, summary: Summary, signum: int = 2) -> None:
        super().__init__()
        self.summary = summary
        self.signum = signum


class ReportError(Exception):
    """A report cannot be written: a sentence naming the file. `summary` (set by `run`) holds what ran."""
    summary: Summary | None = None


def run(adapter, vectors: list[Vector], options: Options, reporters: list["Reporter"] = (),
        progress: Callable[[int, int, dict], None] | None = None) -> Summary:
    """Run `vectors` through an adapter already started (its `handshake` set).

    Ctrl-C raises `Interrupted` (a KeyboardInterrupt) holding the partial summary, a report that cannot be
    written raises `ReportError`; either way, and on any other exception, every report is first ended with the
    vectors that ran (`Reporter.abort`), so none is left half written."""
    handshake = adapter.handshake or adapter.start()
    features = list(options.features) if options.features is not None else list(handshake.get("features", []))
    forms = "form_1099r" in features
    outcomes: list[Outcome] = []
    chosen = [(v, why) for v, why in select(vectors, options) if why != DESELECTED]
    summary = Summary(outcomes, handshake, features, deselected=len(vectors) - len(chosen), total=len(chosen),
                      scope=options.scope if options.scope is not None else _scope(len(chosen), len(vectors)),
                      metadata=options.metadata)
    metadata.with_handshake(summary.metadata, handshake, features)
    begun: list[Reporter] = []
    try:
        for r in reporters:
            r.metadata = summary.metadata
            r.begin(handshake, features, len(chosen))
            begun.append(r)
        _run_vectors(adapter, chosen, options, features, forms, outcomes, reporters, progress, summary)
    except BaseException as e:
        summary.interrupted = isinstance(e, KeyboardInterrupt)
        if summary.interrupted:
            summary.signal = signal_of(e)
        for r in reporters:   # a report begun is ended with what ran; one never begun is left as it was
            if any(r is b for b in begun):
                r.abort(summary)
            else:
                r.close()
        if isinstance(e, ReportError):
            e.summary = summary
        if isinstance(e, KeyboardInterrupt) and not isinstance(e, Interrupted):
            raise Interrupted(summary, summary.signal) from None
        raise
    return end_reports(reporters, summary)


def open_reporters(report_json: str | None, junit: str | None) -> list:
    """The reports a run writes (JSON lines, JUnit), each checked writable before any work; a ReportError closes
    the ones already opened."""
    reporters: list = []
    try:
        if report_json:
            reporters.append(JsonLinesReporter(report_json))
        if junit:
            reporters.append(JUnitReporter(junit))
    except ReportError:
        for r in reporters:
            r.close()
        raise
    return reporters


def end_reports(reporters, summary: "Summary") -> "Summary":
    """End every report with the summary; the first that cannot be written is raised (with the summary) once all
    were tried."""
    failure: ReportError | None = None
    for r in reporters:
        try:
            r.end(summary)
        except ReportError as e:
            failure = failure or e
    if failure is not None:
        failure.summary = summary
        raise failure
    return summary


def _scope(selected: int, total: int) -> str | None:
    return None if selected == total else f"{selected} of the {total} vectors, selected by --only"


def _run_vectors(adapter, chosen, options, features, forms, outcomes, reporters, progress, summary) -> None:
    counts = {s: 0 for s in STATUSES}
    deadline = None if options.deadline is None else time.monotonic() + options.deadline
    prefetch = None
    if hasattr(adapter, "prefetch"):   # several adapters (conformance.parallel): answers taken in vector order
        prefetch = adapter.prefetch(lambda a, v: _send_within(a, v, deadline),
                                    [v for v, why in chosen if why is None and set(v.features) <= set(features)])
    try:
        _judge_vectors(adapter, chosen, options, features, forms, outcomes, reporters, progress, summary, counts,
                       deadline, prefetch)
    finally:
        if prefetch is not None:
            prefetch.stop()


def _judge_vectors(adapter, chosen, options, features, forms, outcomes, reporters, progress, summary, counts,
                   deadline, prefetch) -> None:
    hangs = sent = 0
    for n, (v, why_not) in enumerate(chosen, 1):
        missing = [f for f in v.features if f not in features]
        xfail = v.id in options.expected_failures
        if not summary.stopped and deadline is not None and time.monotonic() >= deadline:
            summary.stopped = f"the run's deadline of {options.deadline:g} s passed"
        if summary.stopped:
            o = Outcome(v, NOT_RUN, f"not run: {summary.stopped}", expected_failure=xfail)
        elif why_not is not None:
            o = Outcome(v, SKIPPED, why_not, expected_failure=xfail)
        elif missing:
            o = Outcome(v, SKIPPED, f"needs feature{'s' if len(missing) > 1 else ''} {', '.join(missing)}, "
                        "not declared by the adapter", expected_failure=xfail)
        else:
            answer = prefetch.get(sent) if prefetch is not None else _send_within(adapter, v, deadline)
            sent += 1
            if answer.kind == "hang" and deadline is not None and time.monotonic() >= deadline:
                summary.stopped = f"the run's deadline of {options.deadline:g} s passed"
                o = Outcome(v, NOT_RUN, f"not run: {summary.stopped} while it ran", expected_failure=xfail)
            else:
                status, verdict, reason = judge_vector(v, answer, forms)
                o = Outcome(v, status, reason, verdict, answer.wire(), answer.stderr_tail, answer.seconds, xfail)
                hangs = hangs + 1 if answer.kind == "hang" else 0
                if options.max_hangs and hangs >= options.max_hangs:
                    summary.stopped = (f"{hangs} vectors in a row hung (the run stops after {options.max_hangs}: "
                                       "--max-hangs)")
        outcomes.append(o)
        counts[o.status] += 1
        for r in reporters:
            r.vector(o)
        o.slim()   # the reports have it: keep what the summary needs, not the answer
        if progress is not None:
            progress(n, len(chosen), counts)


def _send_within(adapter, v: Vector, deadline: float | None) -> Answer:
    """`send`, with the adapter's timeout cut to what is left of the run's deadline."""
    timeout = getattr(adapter, "timeout", None)
    if deadline is None or not isinstance(timeout, (int, float)):
        return send(adapter, v)
    adapter.timeout = max(0.001, min(timeout, deadline - time.monotonic()))
    try:
        return send(adapter, v)
    finally:
        adapter.timeout = timeout


# ---- reports, written as the run goes so a crash loses nothing already run ----------------------
class ReportFile:
    """A report's file, written to a temporary file beside `path` (flushed as it goes) and renamed over `path`
    by `commit`, so `path` holds either the previous file or the whole new report, never half of one. A target
    that exists and is not a regular file (/dev/stdout, a FIFO, /dev/full) is written in place: it cannot be
    renamed over. Every failure is a `ReportError` naming the file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.target = Path(os.path.realpath(self.path))      # a symlink keeps pointing at the report
        self.tmp: Path | None = None
        self.file: TextIO | None = None
        self.failed = False
        if self.target.is_dir():
            raise ReportError(f"cannot write the report {self.path}: it is a directory")
        self.in_place = self.target.exists() and not self.target.is_file()
        try:
            if self.in_place:
                self.file = open(self.target, "w", encoding="utf-8", errors="backslashreplace")
            else:
                fd, tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".partial",
                                           dir=self.target.parent)
                self.tmp = Path(tmp)
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fd, 0o666 & ~umask)      # the mode an ordinary open would give, not mkstemp's 0600
                self.file = open(fd, "w", encoding="utf-8", errors="backslashreplace")
        except OSError as e:
            self.discard()
            raise ReportError(f"cannot write the report {self.path}: {e.strerror or e}") from None

    def _fail(self, e: OSError) -> ReportError:
        self.failed = True
        self.discard()
        return ReportError(f"cannot write the report {self.path}: {e.strerror or e}")

    def write(self, text: str, flush: bool = True) -> None:
        if self.file is None or self.failed:
            return
        try:
            self.file.write(text)
            if flush:
                self.file.flush()
        except OSError as e:
            raise self._fail(e) from None

    def commit(self, whole: str | None = None) -> None:
        """Finish the report (with `whole` as its entire text, if given) and move it into place."""
        if self.file is None or self.failed:
            return
        try:
            if whole is not None:
                if not self.in_place:
                    self.file.seek(0)
                    self.file.truncate()
                self.file.write(whole)
            self.file.flush()
            if not self.in_place:
                os.fsync(self.file.fileno())
            self.file.close()
            self.file = None
            if self.tmp is not None:
                os.replace(self.tmp, self.target)
                self.tmp = None
        except OSError as e:
            raise self._fail(e) from None

    def discard(self) -> None:
        """Close without committing: the temporary file is removed, the target left as it was."""
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None
        if self.tmp is not None:
            try:
                self.tmp.unlink()
            except OSError:
                pass
            self.tmp = None


class Reporter:
    metadata: dict = {}   # the run's metadata, set by `run` before `begin` (read only)

    def begin(self, handshake: dict, features: list[str], total: int) -> None: ...
    def vector(self, outcome: Outcome) -> None: ...
    def end(self, summary: Summary) -> None: ...

    def abort(self, summary: Summary) -> None:
        """The run stopped early (Ctrl-C, an exception): end the report with what ran. Never raises."""

    def start_failed(self, message: str) -> None:
        """The adapter did not start: write a whole report that says so (never an empty or a stale file)."""

    def close(self) -> None:
        """Give up a report never ended: no file is left behind."""


class JsonLinesReporter(Reporter):
    """One JSON object per line: a header, one line per vector (flushed), a summary line. A run cut short
    ends after the last vector that ran, without the summary line."""

    def __init__(self, path: Path) -> None:
        self.out = ReportFile(path)

    def _write(self, obj: dict) -> None:
        self.out.write(json_line(obj) + "\n")

    def begin(self, handshake, features, total):
        self._write({"suite_version": SUITE_VERSION, "implementation": handshake.get("implementation"),
                     "features": features, "vectors": total, **({"metadata": self.metadata} if self.metadata else {})})

    def vector(self, outcome):
        self._write(outcome.to_json())

    def end(self, summary):
        self._write(summary.to_json())
        self.out.commit()

    def start_failed(self, message):
        self._write({"suite_version": SUITE_VERSION, "implementation": None, "features": [], "vectors": 0,
                     **({"metadata": self.metadata} if self.metadata else {})})
        self._write({"summary": {s: 0 for s in STATUSES}, "start_error": message, "conformance_level": "none",
                     "ok": False})
        self.out.commit()

    def abort(self, summary):
        try:
            self.out.commit()
        except ReportError:
            pass

    def close(self):
        self.out.discard()


def _xml_text(text: Any) -> str:
    return escape(visible(text))


def _xml_attr(text: Any) -> str:
    return quoteattr(visible(text, newlines=False))


class JUnitReporter(Reporter):
    """JUnit XML: test cases appended and flushed as they finish (to the temporary file); the file is rewritten
    whole at the end with the counts. Every text an adapter wrote is escaped (`visible`): always well-formed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cases: list[str] = []
        self.out = ReportFile(path)
        self.name = "rollsplit-conformance"

    def begin(self, handshake, features, total):
        impl = handshake.get("implementation") or {}
        self.name = f"rollsplit-conformance {SUITE_VERSION}: {impl.get('name', '?')} {impl.get('version', '')}"
        if not self.out.in_place:   # a device or a pipe gets the whole document once, at the end
            self.out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
                           f'<testsuite name={_xml_attr(self.name)}>\n')

    def vector(self, o: Outcome):
        v = o.vector
        body = ""
        if o.status == FAILED:
            tag = "skipped" if o.expected_failure else "failure"
            body = (f"<{tag} message={_xml_attr(describe.plain_description(v)[:200])}>"
                    f"{_xml_text(describe.request_line(v) + chr(10) + o.reason)}</{tag}>")
        elif o.status == ERRORED:
            tag = "skipped" if o.expected_failure else "error"
            body = (f"<{tag} message={_xml_attr(o.reason[:200])}>"
                    f"{_xml_text(describe.request_line(v) + chr(10) + o.stderr_tail)}</{tag}>")
        elif o.status in (SKIPPED, NOT_RUN):
            body = f"<skipped message={_xml_attr(o.reason)}/>"
        elif o.unexpected_pass:
            body = "<failure message=\"unexpected pass: listed in the expected-failures file\"/>"
        case = (f'<testcase classname={_xml_attr(v.topic)} name={_xml_attr(v.id)} time="{o.seconds:.6f}">'
                f"{body}</testcase>\n")
        self.cases.append(case)
        if not self.out.in_place:
            self.out.write(case)

    def _document(self, summary: Summary) -> str:
        failures = sum(1 for o in summary.outcomes if (o.status == FAILED and not o.expected_failure)
                       or o.unexpected_pass)
        errors = sum(1 for o in summary.outcomes if o.status == ERRORED and not o.expected_failure)
        skipped = sum(1 for o in summary.outcomes if o.status in (SKIPPED, NOT_RUN) or
                      (o.expected_failure and o.status != PASSED))
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name={_xml_attr(self.name)} '
                f'tests="{len(summary.outcomes)}" failures="{failures}" errors="{errors}" skipped="{skipped}">\n')
        props = [f'<property name={_xml_attr(k)} value={_xml_attr(v)}/>'
                 for k, v in metadata.flat(metadata.with_level(summary.metadata, summary.claimed_level()))]
        if summary.interrupted:
            ran = f"{summary.interruption()} after {len(summary.outcomes)} of {summary.total} vectors"
            props.append(f'<property name="interrupted" value={_xml_attr(ran)}/>')
        if summary.stopped:
            props.append(f'<property name="stopped" value={_xml_attr(summary.stopped)}/>'
                         f'<property name="not_run" value="{summary.count(NOT_RUN)}"/>')
        if props:
            head += "<properties>" + "".join(props) + "</properties>\n"
        return head + "".join(self.cases) + "</testsuite>\n</testsuites>\n"

    def end(self, summary):
        self.out.commit(self._document(summary))

    def start_failed(self, message):
        case = (f'<testcase classname="adapter" name="start" time="0">'
                f'<error message="the adapter did not start">{_xml_text(message)}</error></testcase>\n')
        props = "".join(f'<property name={_xml_attr(k)} value={_xml_attr(v)}/>' for k, v in metadata.flat(self.metadata))
        self.out.commit(f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name='
                        f'{_xml_attr(f"rollsplit-conformance {SUITE_VERSION}")} tests="1" failures="0" errors="1" '
                        f'skipped="0">\n' + (f"<properties>{props}</properties>\n" if props else "")
                        + f'{case}</testsuite>\n</testsuites>\n')

    def abort(self, summary):
        try:
            self.out.commit(self._document(summary))
        except ReportError:
            pass

    def close(self):
        self.out.discard()


class ProgressLine:
    """A progress line on stderr, redrawn at most a few times a second (a new line each 10% when not a TTY).
    A stream that can no longer be written (the terminal hung up) ends the progress line, never the run."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr   # looked up now, not at import
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.decile = -1
        self.open_line = False   # a TTY line drawn without its newline
        self.broken = False

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.broken = True

    def finish(self) -> None:
        """End a line left open (the run was cut short), so what follows starts on its own line."""
        if self.open_line:
            self._write("\n")
            self.open_line = False

    def __call__(self, n: int, total: int, counts: dict) -> None:
        text = (f"[{n}/{total}] " + ", ".join(f"{counts[k]} {k}" for k in (PASSED, FAILED, ERRORED, SKIPPED))
                + (f", {counts[NOT_RUN]} not run" if counts.get(NOT_RUN) else ""))
        self.show(n, total, text)

    def show(self, n: int, total: int, text: str) -> None:
        """Draw `text` for item n of total: redrawn in place on a terminal, else a line at each tenth."""
        now = time.monotonic()
        if self.tty:
            if now - self.last > 0.2 or n == total:
                self._write("\r\033[K" + text + ("\n" if n == total else ""))
                self.last = now
                self.open_line = n != total
        elif n * 10 // max(total, 1) != self.decile:
            self.decile = n * 10 // max(total, 1)
            self._write(text + "\n")


def render(summary: Summary, verbose_limit: int = 50) -> str:
    """The human report: every failure and error (up to a limit), skips by reason, a table, the final line.
    Whatever the adapter or the vector files wrote is shown through `visible`: no control character but newline,
    and the one-line fields (description, the handshake's names) cannot start a line of their own."""
    from tabulate import tabulate
    lines: list[str] = []
    bad = [o for o in summary.outcomes if o.status in (FAILED, ERRORED) or o.unexpected_pass]
    for o in bad[:verbose_limit]:
        v = o.vector
        mark = " (expected failure)" if o.expected_failure and not o.unexpected_pass else ""
        if o.unexpected_pass:
            lines.append(f"UNEXPECTED PASS {visible(v.id, False)}: listed in the expected-failures file but passes; "
                         "remove it.")
            continue
        lines.append(f"{o.status.upper()} {visible(v.id, False)}{mark}: {visible(describe.plain_description(v), False)}")
        lines.append(f"    {visible(describe.request_line(v), False)}")
        # split at newlines only (splitlines would also split at, and so hide, CR, FF, U+2028...)
        for text in o.reason.split("\n"):
            lines.append(f"    {text}")
        tail = o.stderr_tail.strip(" \t\r\n")
        if tail:
            lines.append("    adapter stderr (end):")
            lines += [f"      {t.removesuffix(chr(13))}" for t in tail.split("\n")[-8:]]
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
        row = topics.setdefault(o.vector.topic, {s: 0 for s in STATUSES})
        row[o.status] += 1
    columns = [PASSED, FAILED, ERRORED, SKIPPED] + ([NOT_RUN] if summary.count(NOT_RUN) else [])
    table = [[t] + [c[k] for k in columns] for t, c in sorted(topics.items())]
    lines.append("")
    lines.append(tabulate(table, headers=["topic"] + [k.replace("_", " ") for k in columns], tablefmt="simple"))
    impl = summary.handshake.get("implementation") or {}
    lines.append("")
    name, version, language = (visible(impl.get(k, d), newlines=False)
                               for k, d in (("name", "?"), ("version", ""), ("language", "?")))
    lines += [visible(line, False) for line in metadata.text_lines(summary.metadata)]
    lines.append(f"implementation: {name} {version} ({language}); "
                 f"features: {visible(', '.join(summary.features), False)}; {visible(summary.level_text(), False)}")
    if summary.deselected:
        lines.append(f"{summary.deselected} vectors not selected by --only")
    xfail = sum(1 for o in summary.outcomes if o.expected_failure and o.status != PASSED)
    if xfail:
        lines.append(f"{xfail} of the failures were expected (--expected-failures)")
    if summary.stopped:
        lines.append(f"the run stopped early: {summary.stopped}; {summary.count(NOT_RUN)} of {summary.total} vectors "
                     "were not run (not run is never passed)")
    if summary.interrupted:
        lines.append(f"{summary.interruption()} after {len(summary.outcomes)} of {summary.total} vectors: the counts "
                     "below are of those")
    lines.append(summary.line())
    return visible("\n".join(lines))
