"""JSON reports read back: compared (`rollsplit conformance diff`), turned into a known-failure file
(`run --write-expectations`) and into a badge (the JSON that shields.io's endpoint badge reads).

A JSON report is what `rollsplit conformance run --report-json` (or `conformance check`) writes: a header line
(`suite_version`, `implementation`, `features`, `vectors`, `metadata`), one line per vector (`id`, `topic`,
`status`, ...), and a summary line (`summary`, `conformance_level`, `ok`, `metadata`) unless the run was cut short.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollsplit.conformance.runner import ERRORED, FAILED, NOT_RUN, PASSED, SKIPPED, STATUSES, ReportFile, visible

BAD = (FAILED, ERRORED)
MAX_REPORT_BYTES = 512 * 1024 * 1024


class ReportReadError(ValueError):
    """A file that is not a JSON report of the runner: a sentence naming it."""


@dataclass
class Report:
    path: str
    header: dict
    rows: list[dict]
    summary: dict | None = None
    by_id: dict[str, dict] = field(default_factory=dict)

    @property
    def metadata(self) -> dict:
        meta = dict(self.header.get("metadata") or {})
        if self.summary and isinstance(self.summary.get("metadata"), dict):
            meta.update(self.summary["metadata"])
        return meta

    @property
    def implementation(self) -> dict:
        impl = self.header.get("implementation")
        return impl if isinstance(impl, dict) else {}

    def name(self) -> str:
        impl = self.implementation
        text = f"{impl.get('name', '?')} {impl.get('version', '')}".strip()
        return visible(text, newlines=False)

    def level(self) -> str | None:
        return self.summary.get("conformance_level") if self.summary else None

    def scope(self) -> str | None:
        if self.summary and self.summary.get("scope"):
            return self.summary["scope"]
        return self.metadata.get("scope")

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.rows:
            if r.get("status") in out:
                out[r["status"]] += 1
        return out

    def line(self) -> str:
        c = self.counts()
        return (f"{c[PASSED]} passed, {c[FAILED]} failed, {c[ERRORED]} errored, {c[SKIPPED]} skipped"
                + (f", {c[NOT_RUN]} not run" if c[NOT_RUN] else ""))


def read_report(path: Path | str) -> Report:
    """A JSON report, read whole. Raises ReportReadError (a sentence) when it is not one."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise ReportReadError(f"{path} is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB, larger than any "
                                  "report of the runner")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ReportReadError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ReportReadError(f"{path} is not UTF-8 text, so not a JSON report of the runner") from None
    header: dict | None = None
    rows: list[dict] = []
    summary: dict | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise ReportReadError(f"{path}, line {n}, is not JSON: the file is not a JSON report of the runner "
                                  "(written by --report-json)") from None
        if not isinstance(obj, dict):
            raise ReportReadError(f"{path}, line {n}, is not a JSON object: not a JSON report of the runner")
        if header is None:
            if "suite_version" not in obj:
                raise ReportReadError(f"{path} does not begin with the header line of a JSON report of the runner "
                                      "(written by --report-json)")
            header = obj
        elif "summary" in obj:
            summary = obj
        elif isinstance(obj.get("id"), str) and obj.get("status") in STATUSES:
            rows.append(obj)
        else:
            raise ReportReadError(f"{path}, line {n}, is neither a vector's line nor the summary of a JSON report")
    if header is None:
        raise ReportReadError(f"{path} is empty: not a JSON report of the runner")
    report = Report(str(path), header, rows, summary)
    report.by_id = {r["id"]: r for r in rows}
    return report


# ---- diff ---------------------------------------------------------------------------------------------------
@dataclass
class Diff:
    before: Report
    after: Report
    regressed: list[tuple[str, str, str]] = field(default_factory=list)   # (id, status before, status after)
    fixed: list[tuple[str, str, str]] = field(default_factory=list)
    still_failing: list[str] = field(default_factory=list)
    no_longer_run: list[tuple[str, str, str]] = field(default_factory=list)   # passed, now skipped or not run
    now_run: list[tuple[str, str, str]] = field(default_factory=list)         # skipped or not run, now run
    new: list[tuple[str, str]] = field(default_factory=list)                  # (id, status)
    removed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def regression(self) -> bool:
        return bool(self.regressed)

    def to_json(self) -> dict:
        def triples(xs):
            return [{"id": i, "before": a, "after": b} for i, a, b in xs]
        return {"before": self.before.path, "after": self.after.path, "regressed": triples(self.regressed),
                "fixed": triples(self.fixed), "still_failing": self.still_failing,
                "no_longer_run": triples(self.no_longer_run), "now_run": triples(self.now_run),
                "new_vectors": [{"id": i, "status": s} for i, s in self.new],
                "removed_vectors": [{"id": i, "status": s} for i, s in self.removed],
                "changes": changes(self.before, self.after), "regression": self.regression}


def compare_two(before: Report, after: Report) -> Diff:
    d = Diff(before, after)
    for r in after.rows:
        vid, now = r["id"], r["status"]
        old_row = before.by_id.get(vid)
        if old_row is None:
            d.new.append((vid, now))
            continue
        was = old_row["status"]
        if was == PASSED and now in BAD:
            d.regressed.append((vid, was, now))
        elif was in BAD and now == PASSED:
            d.fixed.append((vid, was, now))
        elif was in BAD and now in BAD:
            d.still_failing.append(vid)
        elif was == PASSED and now in (SKIPPED, NOT_RUN):
            d.no_longer_run.append((vid, was, now))
        elif was in (SKIPPED, NOT_RUN) and now not in (SKIPPED, NOT_RUN):
            d.now_run.append((vid, was, now))
    d.removed = [(r["id"], r["status"]) for r in before.rows if r["id"] not in after.by_id]
    return d


def changes(before: Report, after: Report) -> list[str]:
    """What differs between the two runs besides their vectors: implementation, suite, features, level."""
    a, b = before.metadata, after.metadata
    out = []
    if before.name() != after.name():
        out.append(f"implementation: {before.name()} -> {after.name()}")
    sa, sb = a.get("suite") or {}, b.get("suite") or {}
    va, vb = sa.get("version", before.header.get("suite_version")), sb.get("version", after.header.get("suite_version"))
    if va != vb:
        out.append(f"suite version: {va} -> {vb}")
    elif sa.get("manifest_sha256") != sb.get("manifest_sha256") and sa and sb:
        out.append("suite manifest SHA-256 differs (the same version with other vector files)")
    fa, fb = before.header.get("features") or [], after.header.get("features") or []
    if fa != fb:
        gone, added = [f for f in fa if f not in fb], [f for f in fb if f not in fa]
        out.append("features: " + "; ".join(x for x in (f"no longer {', '.join(gone)}" if gone else "",
                                                          f"now also {', '.join(added)}" if added else "") if x))
    if before.level() != after.level():
        out.append(f"conformance level: {before.level() or 'none claimed'} -> {after.level() or 'none claimed'}")
    return [visible(x, newlines=False) for x in out]


def render_diff(d: Diff, limit: int = 50) -> str:
    lines = [f"before: {visible(d.before.path, False)}: {d.before.name()}: {d.before.line()}",
             f"after:  {visible(d.after.path, False)}: {d.after.name()}: {d.after.line()}"]
    lines += [f"changed: {c}" for c in changes(d.before, d.after)]

    def section(title: str, items: list[str]) -> None:
        lines.append(f"{title}: {len(items)}")
        for item in items[:limit]:
            lines.append(f"  {item}")
        if len(items) > limit:
            lines.append(f"  ... and {len(items) - limit} more (--json lists all)")

    section("regressed (passed before, now failed or errored)", [f"{i}: {a} -> {b}" for i, a, b in d.regressed])
    section("fixed (failed or errored before, now passed)", [f"{i}: {a} -> {b}" for i, a, b in d.fixed])
    section("new vectors (not in the first report)", [f"{i}: {s}" for i, s in d.new])
    section("removed vectors (not in the second report)", [f"{i}: was {s}" for i, s in d.removed])
    if d.no_longer_run:
        section("passed before, now not run", [f"{i}: {a} -> {b}" for i, a, b in d.no_longer_run])
    if d.now_run:
        section("skipped or not run before, now run", [f"{i}: {a} -> {b}" for i, a, b in d.now_run])
    lines.append(f"still failing: {len(d.still_failing)}")
    lines.append(f"{len(d.regressed)} regressed, {len(d.fixed)} fixed, {len(d.new)} new, {len(d.removed)} removed")
    return visible("\n".join(lines))


# ---- known failures ---------------------------------------------------------------------------------------------
def expectations_text(summary, name: str) -> str:
    """The known-failure file of a run (for `--expected-failures`): every vector that failed or errored, one per
    line, with what it is about as a comment."""
    from rollsplit.conformance.describe import plain_description
    meta = summary.metadata or {}
    suite = meta.get("suite") or {}
    bad = [o for o in summary.outcomes if o.status in BAD]
    lines = [f"# Known failures of {visible(name, False)}: the vectors that failed or errored in the run of "
             f"{meta.get('date', 'this run')}.",
             f"# Suite {suite.get('name', '')} {suite.get('version', '')}, manifest SHA-256 "
             f"{suite.get('manifest_sha256') or 'none'}; written by rollsplit conformance run --write-expectations.",
             "# Give it to rollsplit conformance run --expected-failures: these may fail without failing the run, "
             "and one that passes",
             "# is an unexpected pass, which fails the run until its line is removed.",
             f"# {len(bad)} vector{'s' if len(bad) != 1 else ''}."]
    for o in bad:
        about = visible(plain_description(o.vector), False)
        about = about if len(about) <= 110 else about[:107] + "..."
        lines.append(f"{o.vector.id}   # {o.status}: {about}")
    return "\n".join(lines) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write a whole file atomically (`runner.ReportFile`); raises runner.ReportError naming the file."""
    out = ReportFile(path)
    out.commit(text)


# ---- badge ----------------------------------------------------------------------------------------------------
COLORS = {"extended": "brightgreen", "core": "green", "none": "red"}


def badge(level: str | None, passed: int, total: int, ok: bool, scope: str | None = None) -> dict:
    """The JSON shields.io's endpoint badge reads (https://shields.io/badges/endpoint-badge): schemaVersion 1,
    label, message, color. A level is shown only for a run of the whole bundled suite."""
    if level is None:
        return {"schemaVersion": 1, "label": "rollsplit conformance",
                "message": f"{passed}/{total} passed (not the whole suite)", "color": "lightgrey"}
    return {"schemaVersion": 1, "label": "rollsplit conformance", "message": f"{level}, {passed}/{total} passed",
            "color": COLORS.get(level, "red")}


def badge_of_report(report: Report) -> dict:
    c = report.counts()
    ok = bool(report.summary and report.summary.get("ok"))
    return badge(report.level(), c[PASSED], sum(c.values()), ok, report.scope())


def badge_of_summary(summary) -> dict:
    return badge(summary.claimed_level(), summary.count(PASSED), len(summary.outcomes), summary.ok, summary.scope)


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


# ---- inspect: what a submitted report says, and whether it holds together -------------------------------------------
def inspect(report: Report) -> tuple[list[str], list[str]]:
    """(what the report says, its problems): the run's metadata in words, then every check a receiver can make
    without the vendor's calculator: the suite is the bundled suite of this installation (manifest SHA-256), every
    vector of it has exactly one line, the summary's counts are the lines', and the level claimed is the level the
    lines earn. A consistent report is not a proof by itself: re-running its adapter command is."""
    from rollsplit.conformance import metadata as meta_module
    from rollsplit.conformance import suite as suite_module
    from rollsplit.spec.features import FEATURES
    meta = report.metadata
    said = [f"implementation: {report.name()}; {report.line()}"]
    said += meta_module.text_lines(meta) if meta else []
    impl = report.implementation
    said.append(f"handshake: {impl.get('name', '?')} {impl.get('version', '')} ({impl.get('language', '?')}); features: "
                f"{', '.join(report.header.get('features') or []) or 'none'}; conformance level: "
                f"{report.level() or 'none claimed'}")
    problems: list[str] = []
    if not meta:
        problems.append("the report has no run metadata (written by a runner before rollsplit 0.4.0's report format 2)")
    if report.summary is None:
        problems.append("the report has no summary line: the run was cut short")
    counts = report.counts()
    if report.summary is not None:
        stated = report.summary.get("summary") or {}
        for status, n in counts.items():
            if stated.get(status, 0) != n:
                problems.append(f"the summary says {stated.get(status, 0)} {status}, the lines {n}")
    seen: dict[str, int] = {}
    for r in report.rows:
        seen[r["id"]] = seen.get(r["id"], 0) + 1
    twice = sorted(i for i, n in seen.items() if n > 1)
    if twice:
        problems.append(f"{len(twice)} vector{'s' if len(twice) != 1 else ''} with more than one line: "
                        f"{', '.join(twice[:5])}")
    suite_meta = meta.get("suite") if meta else None
    if isinstance(suite_meta, dict):
        bundled = meta_module.bundled_sha256()
        if suite_meta.get("manifest_sha256") == bundled:
            said.append(f"the suite is the bundled suite of the rollsplit installed here (manifest SHA-256 {bundled})")
            ids = [v.id for v in suite_module.load()]
            missing = [i for i in ids if i not in seen]
            extra = sorted(set(seen) - set(ids))
            if missing and not report.scope():
                problems.append(f"{len(missing)} vector{'s' if len(missing) != 1 else ''} of the suite "
                                f"{'have' if len(missing) != 1 else 'has'} no line: {', '.join(missing[:5])}")
            if extra:
                problems.append(f"{len(extra)} line{'s' if len(extra) != 1 else ''} for vectors not in the suite: "
                                f"{', '.join(extra[:5])}")
            claimed = report.level()
            if claimed is not None and not missing and not extra:
                features = {v.id: set(v.features) for v in suite_module.load()}
                earned = _earned_level(report, features, set(report.header.get("features") or []), set(FEATURES))
                if claimed != earned:
                    problems.append(f"the report claims the level {claimed}, its lines earn {earned}")
                else:
                    said.append(f"the level {claimed} is the level its lines earn")
        else:
            problems.append(f"the suite's manifest SHA-256 {suite_meta.get('manifest_sha256')} is not that of the "
                            f"bundled suite installed here ({bundled}, suite {suite_module.SUITE_VERSION}): compare "
                            "it with the suite release it names")
    if report.scope():
        said.append(f"this run is {report.scope()}: no conformance level")
    return [visible(s, newlines=False) for s in said], [visible(p, newlines=False) for p in problems]


def _earned_level(report: Report, features: dict[str, set[str]], declared: set[str], every: set[str]) -> str:
    """The level the lines earn, by `runner.Summary.level`'s rule: core when every core-only vector passed, extended
    when moreover every feature is declared and every vector passed."""
    core = [r for r in report.rows if features.get(r["id"], {"core"}) <= {"core"}]
    if not core or not all(r["status"] == PASSED for r in core):
        return "none"
    if every <= declared and all(r["status"] == PASSED for r in report.rows):
        return "extended"
    return "core"
