"""The vendor's commands beside `conformance run`: several implementations in one run, the known-failure file, the
HTML report and the badge (`run -i CMD ... --html F --badge F --write-expectations F`), and the subcommands
`show ID`, `diff A B`, `compare R...` and `check RECORDS.jsonl`. Arguments and printing only; the work is in
`conformance.reports`, `conformance.report_html`, `conformance.records` and `conformance.describe`.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import shlex
import sys
from pathlib import Path
from typing import Callable

from rollsplit.args import count, jobs as jobs_type

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# ---- conformance run: options and the loop over implementations -------------------------------------------------
def add_run_options(r: argparse.ArgumentParser) -> None:
    r.add_argument("-i", "--implementation", action="append", default=[], metavar="CMD",
                   help="an adapter command as one string (split like a shell would, run without one); repeat it "
                        "to run several implementations one after the other and compare them (--html)")
    r.add_argument("--write-expectations", type=Path, metavar="FILE",
                   help="write the vectors that failed or errored to FILE, the known-failure file that "
                        "--expected-failures reads")
    r.add_argument("--html", type=Path, metavar="F",
                   help="write a self-contained HTML report: topics and vectors x implementations, with filters, "
                        "each failing cell opening its diff and citations")
    r.add_argument("--badge", type=Path, metavar="F",
                   help="write the JSON of a shields.io endpoint badge (with several implementations, one file "
                        "each: F-1.json, F-2.json...)")


def numbered(path: Path | None, n: int, count_: int) -> Path | None:
    """`path` for the n-th (1-based) of `count_` implementations: itself for one, `stem-n.suffix` for several."""
    if path is None or count_ == 1:
        return path
    return path.with_name(f"{path.stem}-{n}{path.suffix}")


def _say(text: str, stream=None) -> None:
    try:
        print(text, file=stream or sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


class Collector:
    """A reporter that keeps what the HTML report, the badge and the known-failure file need: every vector's JSON
    line and the summary. (Reporter's interface; never fails.)"""

    metadata: dict = {}

    def __init__(self) -> None:
        self.header: dict = {}
        self.rows: list[dict] = []
        self.summary = None
        self.summary_json: dict | None = None

    def begin(self, handshake, features, total):
        from rollsplit.conformance.suite import SUITE_VERSION
        self.header = {"suite_version": SUITE_VERSION, "implementation": handshake.get("implementation"),
                       "features": features, "vectors": total, "metadata": self.metadata}

    def vector(self, outcome):
        self.rows.append(outcome.to_json())

    def end(self, summary):
        self.summary = summary
        self.summary_json = summary.to_json()

    def abort(self, summary):
        self.summary = summary

    def start_failed(self, message):
        pass

    def close(self):
        pass

    def report(self, label: str):
        from rollsplit.conformance.reports import Report
        r = Report(label, self.header, self.rows, self.summary_json)
        r.by_id = {row["id"]: row for row in self.rows}
        return r


def run(args: argparse.Namespace, run_one: Callable[[argparse.Namespace], int]) -> int:
    """`conformance run`: one implementation straight through `run_one`; several (or --html, --badge,
    --write-expectations) one after the other, each with its own reports, then the comparison."""
    prog = "rollsplit conformance run"
    command = args.adapter[1:] if args.adapter[:1] == ["--"] else args.adapter
    implementations = [command] if command else []
    for text in args.implementation:
        try:
            words = shlex.split(text)
        except ValueError as e:
            _say(f"{prog}: cannot read the implementation command {text!r}: {e}.")
            return EXIT_USAGE
        if not words:
            _say(f"{prog}: an empty implementation command (-i '').")
            return EXIT_USAGE
        implementations.append(words)
    if not implementations:
        _say(f"{prog}: give the adapter command after --, e.g. `{prog} -- rollsplit serve`, or with -i "
             f"(`{prog} -i 'rollsplit serve' -i 'node adapter.js'`).")
        return EXIT_USAGE
    if args.write_expectations is not None and len(implementations) > 1:
        _say(f"{prog}: --write-expectations writes the known failures of one implementation; run it with one.")
        return EXIT_USAGE
    args.collectors = None
    if len(implementations) == 1 and args.html is None and args.badge is None and args.write_expectations is None:
        args.adapter = implementations[0]
        return run_one(args)
    results: list[tuple[list[str], Collector, int]] = []
    worst = EXIT_OK
    for n, words in enumerate(implementations, 1):
        one = copy.copy(args)
        one.adapter = words
        one.report_json = numbered(args.report_json, n, len(implementations))
        one.junit = numbered(args.junit, n, len(implementations))
        one.oneshot_warned = n > 1
        collector = Collector()
        one.collectors = [collector]
        if len(implementations) > 1:
            _say(f"== implementation {n} of {len(implementations)}: {shlex.join(words)}", sys.stdout)
        code = run_one(one)
        written = [p for p in (one.report_json, one.junit) if p is not None]
        if len(implementations) > 1 and written:
            _say(f"{prog}: the reports of implementation {n}: {', '.join(str(p) for p in written)}")
        if code >= 128:   # a signal: stop here, as a single run does
            return code
        results.append((words, collector, code))
        worst = max(worst, code)
    reports = [c.report(shlex.join(w)) for w, c, _ in results if c.summary_json is not None]
    failed_to_write = False
    if args.write_expectations is not None:
        failed_to_write |= not _write_expectations(prog, args.write_expectations, results[0][1])
    if args.badge is not None:
        from rollsplit.conformance import reports as reports_module
        for n, (words, c, _) in enumerate(results, 1):
            if c.summary is None or c.summary_json is None:
                continue
            target = numbered(args.badge, n, len(results))
            failed_to_write |= not _write(prog, target, reports_module.dumps(reports_module.badge_of_summary(c.summary)),
                                          "the badge")
    if args.html is not None:
        from rollsplit.conformance.report_html import render_html
        if reports:
            failed_to_write |= not _write(prog, args.html, render_html(reports), "the HTML report")
        else:
            _say(f"{prog}: no implementation ran, so no HTML report was written.")
    if len(results) > 1 and reports:
        _say(matrix_text(reports), sys.stdout)
    return max(worst, EXIT_USAGE if failed_to_write else EXIT_OK)


def _write(prog: str, path: Path, text: str, what: str) -> bool:
    from rollsplit.conformance import reports, runner
    try:
        reports.write_text(path, text)
    except runner.ReportError as e:
        _say(f"{prog}: {runner.visible(e)}.")
        return False
    _say(f"{prog}: wrote {what} to {path}.")
    return True


def _write_expectations(prog: str, path: Path, collector: Collector) -> bool:
    from rollsplit.conformance import reports
    summary = collector.summary
    if summary is None or collector.summary_json is None:
        _say(f"{prog}: the run did not complete, so {path} was not written.")
        return True
    if summary.interrupted or summary.stopped:
        _say(f"{prog}: the run stopped early, so {path} was not written (it would miss the vectors not run).")
        return True
    impl = summary.handshake.get("implementation") or {}
    name = f"{impl.get('name', '?')} {impl.get('version', '')}".strip()
    bad = sum(1 for o in summary.outcomes if o.status in ("failed", "errored"))
    ok = _write(prog, path, reports.expectations_text(summary, name), f"the {bad} known failure{'s' if bad != 1 else ''}")
    if ok:
        _say(f"{prog}: next time run with --expected-failures {path}: they may fail without failing the run.")
    return ok


def run_context(prog: str, args: argparse.Namespace, command: list[str], features: list[str] | None, vectors,
                expected_failures: set[str]) -> tuple[dict, str | None]:
    """The run's metadata and what the run is (None: the whole bundled suite); warns, before anything runs, when a
    one-shot run assumes every feature."""
    from rollsplit.conformance import metadata, runner
    from rollsplit.conformance.adapter import FEATURES
    from rollsplit.conformance.commands import _tags
    if args.oneshot and features is None and not getattr(args, "oneshot_warned", False):
        _say(f"{prog}: warning: a one-shot adapter has no handshake, so this run assumes it implements every feature: "
             f"{', '.join(FEATURES)}. A vector needing a feature your calculator lacks then fails instead of being "
             f"skipped; say what it implements with --features (for example --features core,form_1099r).")
    only = sorted(_tags(args.only))
    options = runner.Options(only=set(only) or None)
    selected = sum(1 for _, why in runner.select(vectors, options) if why != runner.DESELECTED)
    bundled = metadata.is_bundled(args.vectors)
    scope = metadata.scope_of_run(selected, len(vectors), bundled, args.vectors, only)
    features_from = ("--features" if features is not None else
                     "an assumption: every feature (one-shot, no handshake)" if args.oneshot else "the handshake")
    meta = metadata.run_metadata(command="rollsplit conformance run", adapter=command,
                                 protocol="one-shot" if args.oneshot else "persistent", features=features,
                                 features_from=features_from, suite_dir=args.vectors, suite_count=len(vectors),
                                 scope=scope, only=only, skip=sorted(_tags(args.skip)),
                                 expected_failures=sorted(expected_failures))
    return meta, scope


def matrix_text(reports) -> str:
    """Topics x implementations, as text: vectors passed of those run, then each implementation's counts."""
    from tabulate import tabulate
    from rollsplit.conformance.runner import visible
    topics: dict[str, None] = {}
    for r in reports:
        for row in r.rows:
            topics.setdefault(str(row.get("topic", "")), None)
    table = []
    for t in topics:
        line = [t]
        for r in reports:
            rows = [row for row in r.rows if row.get("topic") == t]
            ran = [row for row in rows if row["status"] in ("passed", "failed", "errored")]
            passed = sum(1 for row in ran if row["status"] == "passed")
            line.append(f"{passed}/{len(ran)}" if rows else "-")
        table.append(line)
    heads = [f"({i}) {r.name()}" for i, r in enumerate(reports, 1)]
    lines = ["", f"{len(reports)} implementations side by side (vectors passed of those run):",
             tabulate(table, headers=["topic"] + [f"({i})" for i in range(1, len(reports) + 1)], tablefmt="simple"),
             ""]
    for i, (head, r) in enumerate(zip(heads, reports), 1):
        level = r.level()
        lines.append(f"{head}: {r.line()}; " + (f"conformance level: {level}" if level else "no conformance level"))
    return visible("\n".join(lines))


# ---- the subcommands -----------------------------------------------------------------------------------------
def register(sub) -> None:
    s = sub.add_parser("show", help="print one vector: its request, expected answer, citations and what it pins",
                       description="Print one vector of the suite for a person: what it is about, its request "
                                   "(compact JSON), the expected answer in dollars and as JSON, the citations, and "
                                   "what it pins down (the mistakes it catches, the rules of the law that judge it).")
    s.add_argument("id", metavar="ID", help="a vector id, e.g. examples-0002")
    s.add_argument("--vectors", type=Path, metavar="DIR", help="vector directory (default: the bundled suite)")
    s.add_argument("--json", action="store_true", help="print the vector as JSON, with its description for a person")
    s.set_defaults(func=show_command)

    d = sub.add_parser("diff", help="compare two JSON reports: regressed, fixed, new and removed vectors",
                       description="Compare two JSON reports of `conformance run --report-json` (or `check`): the "
                                   "vectors that regressed (passed, now failed or errored), were fixed, are new or "
                                   "were removed, and what else changed (implementation, suite, features, level). "
                                   "Exit 1 when any vector regressed, 0 otherwise, 2 when a report cannot be read.")
    d.add_argument("before", type=Path, metavar="A", help="the earlier report")
    d.add_argument("after", type=Path, metavar="B", help="the later report")
    d.add_argument("--json", action="store_true", help="print the comparison as JSON")
    d.add_argument("--show", type=count, default=50, metavar="N", help="list at most N vectors per section (default 50)")
    d.set_defaults(func=diff_command)

    c = sub.add_parser("compare", help="several JSON reports side by side: a text matrix, an HTML report, badges",
                       description="Put the JSON reports of several implementations (or several runs of one) side by "
                                   "side: topics x implementations as text, and with --html a self-contained HTML "
                                   "report of topics and vectors x implementations.")
    c.add_argument("reports", type=Path, nargs="+", metavar="REPORT", help="JSON reports (--report-json)")
    c.add_argument("--html", type=Path, metavar="F", help="write the HTML report to F")
    c.add_argument("--badge", type=Path, metavar="F",
                   help="write a shields.io endpoint badge JSON per report (F for one, F-1.json, F-2.json... for "
                        "several)")
    c.add_argument("--title", default="rollsplit conformance", help="the HTML report's title")
    c.set_defaults(func=compare_command)

    i = sub.add_parser("inspect", help="what a JSON report says about its run, and whether it holds together",
                       description="Print the run metadata of a JSON report (date, versions, suite and manifest "
                                   "SHA-256, contract, adapter command and handshake, features, level) and check it "
                                   "as its receiver would: the suite is the bundled suite installed here, every "
                                   "vector has one line, the summary's counts and the level are those of the lines. "
                                   "Exit 0 when it holds together, 1 otherwise, 2 when it cannot be read.")
    i.add_argument("report", type=Path, metavar="REPORT")
    i.set_defaults(func=inspect_command)

    k = sub.add_parser("check", help="judge a file of your own system's {request, answer} records offline",
                       description="Judge RECORDS.jsonl, one JSON object {\"request\": ..., \"answer\": ...} per line "
                                   "(an optional \"id\" is shown), as `run` judges vectors: against the reference's "
                                   "answer and the invariants of the law, with the same failure blocks and reports. "
                                   "Uses every core; a progress bar on a terminal. Exit 0 when every record passes, "
                                   "1 otherwise, 2 when the file cannot be read.")
    k.add_argument("records", type=Path, metavar="RECORDS.jsonl")
    k.add_argument("--features", metavar="LIST",
                   help="comma-separated features your system implements (default: all); records needing others "
                        "are skipped, and form_1099r is compared only when declared")
    k.add_argument("--name", metavar="NAME", help="the implementation's name in the reports (default: the file's name)")
    k.add_argument("--version", dest="impl_version", default="", metavar="V",
                   help="the version of your system that wrote the records, for the reports")
    k.add_argument("--jobs", type=jobs_type, metavar="N", help="worker processes (default: every core)")
    k.add_argument("--report-json", type=Path, metavar="F", help="write a JSON-lines report, one line per record")
    k.add_argument("--junit", type=Path, metavar="F", help="write a JUnit XML report")
    k.add_argument("--html", type=Path, metavar="F", help="write the HTML report")
    k.add_argument("--badge", type=Path, metavar="F", help="write a shields.io endpoint badge JSON")
    k.add_argument("--show", type=count, default=50, metavar="N", help="show at most N failures in full (default 50)")
    k.set_defaults(func=check_command)


# ---- show ---------------------------------------------------------------------------------------------------
def show_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import suite
    from rollsplit.conformance.commands import _load_vectors
    prog = "rollsplit conformance show"
    vectors = _load_vectors(args.vectors, prog)
    if vectors is None:
        return EXIT_USAGE
    found = next((v for v in vectors if v.id == args.id), None)
    if found is None:
        _say(f"{prog}: {_unknown(args.id, vectors, args.vectors or suite.VECTORS_DIR)}")
        return EXIT_USAGE
    if args.json:
        from rollsplit.conformance.describe import plain_description
        data = {"id": found.id, "topic": found.topic, "description": found.description,
                "description_for_people": plain_description(found), "features": list(found.features),
                "tags": list(found.tags), "flags": list(found.flags)}
        data["request_text" if found.request_text is not None else "request"] = (
            found.request_text if found.request_text is not None else found.request)
        data.update(expected=found.expected, citations=list(found.citations))
        _say(json.dumps(data, indent=1, ensure_ascii=False), sys.stdout)
        return EXIT_OK
    _say(show_text(found, args.vectors), sys.stdout)
    return EXIT_OK


def _unknown(vid: str, vectors, directory: Path) -> str:
    from rollsplit.conformance import suite
    try:
        retired = suite.load_file(directory / suite.MANIFEST).get("retired_ids", [])
    except (OSError, ValueError, AttributeError):
        retired = []
    if vid in retired:
        return (f"{vid} was retired from the suite (its expected answer changed or its request is no longer "
                "generated); ids are never reused.")
    close = difflib.get_close_matches(vid, [v.id for v in vectors], n=3)
    return (f"no vector {vid!r} in {directory}" + (f"; did you mean {', '.join(close)}?" if close else
                                                    "; ids look like examples-0001."))


def _notes(vector, directory: Path | None) -> dict:
    from rollsplit.conformance import suite
    try:
        data = suite.load_file((directory or suite.VECTORS_DIR) / f"{vector.topic}.json")
        return data.get("notes") or {}
    except (OSError, ValueError, AttributeError):
        return {}


def show_text(v, directory: Path | None = None) -> str:
    from tabulate import tabulate
    from rollsplit.conformance import describe
    from rollsplit.conformance.runner import visible
    lines = [f"{v.id} (topic {v.topic}; flags {', '.join(v.flags) or 'none'}; features {', '.join(v.features)})",
             "", describe.plain_description(v), "", describe.request_line(v), ""]
    if "error" in v.expected:
        wanted = describe.expected_error(v) or {}
        lines.append(f"expected answer: the error {wanted.get('code')} ({wanted.get('meaning')})")
        if wanted.get("reason"):
            lines.append(f"  why: {wanted['reason']}")
        for c in wanted.get("citations", []):
            lines.append(f"  the rule: {describe.citation_line(c)}: \"{c['quote']}\"")
        lines.append("  (only the code is compared; the message is yours to word)")
    else:
        res = v.expected["result"]
        lines.append(f"expected answer: a result under {describe.REGIMES.get(res['regime'], res['regime'])}")
        dist = res["distribution"]
        lines.append(f"  distribution {describe.money(dist['amount'])}: pre-tax {describe.money(dist['pretax'])}, "
                     f"after-tax {describe.money(dist['aftertax'])} (basis recovered "
                     f"{describe.money(dist['basis_recovered'])})")
        table = [[r["id"], describe.money(r["pretax"]), describe.money(r["aftertax"]), describe.money(r["taxable"]),
                  describe.money(r["withholding"]), (r.get("form_1099r") or {}).get("box7") or ""]
                 for r in res["disbursements"]]
        table += [[f"{r['id']} (60-day)", describe.money(r["pretax"]), describe.money(r["aftertax"]),
                   describe.money(r["taxable"]), "", ""] for r in res["rollovers_60_day"]]
        lines += ["  " + t for t in tabulate(table, headers=["row", "pre-tax", "after-tax", "taxable", "withheld",
                                                               "box 7"], tablefmt="simple",
                                              colalign=("left", "right", "right", "right", "right", "left"))
                  .splitlines()]
        rem = res["remaining"]
        lines.append(f"  taxable income {describe.money(res['taxable_income'])}; withholding "
                     f"{describe.money(res['withholding'])}; remaining balance {describe.money(rem['balance'])}, "
                     f"basis {describe.money(rem['basis'])}")
        lines.append("  as JSON: " + json.dumps(res, ensure_ascii=False, separators=(",", ":")))
    lines += ["", "citations:"]
    lines += [f"  {describe.citation_line(c)}: \"{c.get('quote', '')}\"" + (" (secondary source)"
                                                                           if c.get("secondary") else "")
              for c in v.citations] or ["  none"]
    lines += ["", "what it pins:"]
    notes = _notes(v, directory)
    for flag in v.flags:
        note = notes.get(flag) or {}
        if note:
            lines.append(f"  {flag}: {note.get('description', '')} It catches: {note.get('bug', '')}")
    rules = describe.pinned_rules(v)
    if rules:
        lines.append("  the rules of the law an answer breaks when one of its amounts is a cent off (and where):")
        for rid, statement, cite, fields in rules:
            shown = ", ".join(fields[:6]) + (f" and {len(fields) - 6} more" if len(fields) > 6 else "")
            lines.append(f"    {rid}: {statement} [{cite}] ({shown})")
    if v.features != ("core",):
        lines.append(f"  a calculator that does not declare {', '.join(f for f in v.features if f != 'core')} skips it")
    lines += ["", f"run it: rollsplit conformance run --only {v.id} -- YOUR-ADAPTER"]
    return visible("\n".join(lines))


# ---- diff ---------------------------------------------------------------------------------------------------
def diff_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import reports
    prog = "rollsplit conformance diff"
    try:
        before, after = reports.read_report(args.before), reports.read_report(args.after)
    except reports.ReportReadError as e:
        _say(f"{prog}: {e}.")
        return EXIT_USAGE
    d = reports.compare_two(before, after)
    if args.json:
        _say(json.dumps(d.to_json(), indent=1, ensure_ascii=False), sys.stdout)
    else:
        _say(reports.render_diff(d, limit=args.show), sys.stdout)
    if d.regression:
        _say(f"{prog}: {len(d.regressed)} vector{'s' if len(d.regressed) != 1 else ''} regressed.")
        return EXIT_FAILED
    return EXIT_OK


# ---- compare ------------------------------------------------------------------------------------------------
def compare_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import reports
    prog = "rollsplit conformance compare"
    loaded = []
    for path in args.reports:
        try:
            loaded.append(reports.read_report(path))
        except reports.ReportReadError as e:
            _say(f"{prog}: {e}.")
            return EXIT_USAGE
    _say(matrix_text(loaded), sys.stdout)
    problem = False
    if args.html is not None:
        from rollsplit.conformance.report_html import render_html
        problem |= not _write(prog, args.html, render_html(loaded, title=args.title), "the HTML report")
    if args.badge is not None:
        for n, r in enumerate(loaded, 1):
            problem |= not _write(prog, numbered(args.badge, n, len(loaded)),
                                  reports.dumps(reports.badge_of_report(r)), f"the badge of {r.name()}")
    return EXIT_USAGE if problem else EXIT_OK


# ---- inspect ------------------------------------------------------------------------------------------------
def inspect_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import reports
    prog = "rollsplit conformance inspect"
    try:
        report = reports.read_report(args.report)
    except reports.ReportReadError as e:
        _say(f"{prog}: {e}.")
        return EXIT_USAGE
    said, problems = reports.inspect(report)
    lines = said + [f"problem: {p}" for p in problems]
    lines.append("the report holds together" if not problems else
                 f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")
    _say("\n".join(lines), sys.stdout)
    return EXIT_FAILED if problems else EXIT_OK


# ---- check --------------------------------------------------------------------------------------------------
def check_command(args: argparse.Namespace) -> int:
    from rollsplit.conformance import metadata, processes, records, reports, runner
    from rollsplit.conformance.adapter import FEATURES
    prog = "rollsplit conformance check"
    path: Path = args.records
    if not path.is_file():
        _say(f"{prog}: {path} is not a file of records." if path.exists() else f"{prog}: {path} does not exist.")
        return EXIT_USAGE
    declared = list(FEATURES)
    if args.features is not None:
        declared = [f.strip() for f in args.features.split(",") if f.strip()]
        unknown = [f for f in declared if f not in FEATURES]
        if unknown:
            _say(f"{prog}: unknown feature {', '.join(unknown)}; known: {', '.join(FEATURES)}.")
            return EXIT_USAGE
        if "core" not in declared:
            declared.insert(0, "core")
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        total = records.count_records(path)
    except OSError as e:
        _say(f"{prog}: cannot read {path}: {e.strerror or e}.")
        return EXIT_USAGE
    name = args.name or path.name
    meta = metadata.run_metadata(command="rollsplit conformance check", adapter=None, protocol=None,
                                 features=declared, features_from="--features" if args.features else
                                 "an assumption: every feature (records carry no handshake)", suite_dir=None,
                                 suite_count=0, scope=None)
    meta["records"] = {"file": str(path), "sha256": digest.hexdigest(), "count": total}
    meta["suite"] = None   # records are judged by the oracle, not against the suite's vectors
    collector = Collector() if (args.html or args.badge) else None
    try:
        reporters = runner.open_reporters(args.report_json, args.junit)
    except runner.ReportError as e:
        _say(f"{prog}: {runner.visible(e)}.")
        return EXIT_USAGE
    if collector is not None:
        reporters.append(collector)
    if args.features is None:
        _say(f"{prog}: note: judging with every feature ({', '.join(FEATURES)}), form_1099r included; give "
             "--features to declare fewer.")
    bar = records.Bar(total)
    try:
        with processes.stop_on_signals():
            summary = records.check(path, declared, reporters, name, meta, jobs=args.jobs, progress=bar,
                                    version=args.impl_version)
    except runner.Interrupted as e:
        bar.finish()
        _say(runner.render(e.summary, verbose_limit=args.show), sys.stdout)
        _say(f"{prog}: interrupted after {len(e.summary.outcomes)} of {e.summary.total} records"
             + ("; the reports hold the records judged." if args.report_json or args.junit else "."))
        return 128 + e.signum
    except runner.ReportError as e:
        bar.finish()
        _say(f"{prog}: {runner.visible(e)}.")
        return EXIT_USAGE
    except OSError as e:
        bar.finish()
        _say(f"{prog}: cannot read {path}: {e.strerror or e}.")
        return EXIT_USAGE
    finally:
        for r in reporters:
            r.close()
    bar.finish()
    _say(runner.render(summary, verbose_limit=args.show), sys.stdout)
    problem = False
    if collector is not None and collector.summary_json is not None:
        if args.html:
            from rollsplit.conformance.report_html import render_html
            problem |= not _write(prog, args.html, render_html([collector.report(name)],
                                                               title=f"rollsplit check: {name}"), "the HTML report")
        if args.badge:
            problem |= not _write(prog, args.badge, reports.dumps(reports.badge_of_summary(summary)), "the badge")
    if problem:
        return EXIT_USAGE
    if total == 0:
        _say(f"{prog}: {path} holds no records; nothing was checked.")
        return EXIT_FAILED
    return EXIT_OK if summary.ok else EXIT_FAILED
