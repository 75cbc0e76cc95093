"""Re-check an audit bundle without trusting this project's Python.

Every `obligations/*.smt2` (expected unsat), `witnesses/*.smt2` and `mutants/*.smt2` (expected sat) is first
checked against the sha256 recorded in `results.json` (a changed, missing or unlisted file is a failure), then
given to a solver in a fresh process that reads nothing but the file:
  - z3: the `z3` binary (`z3 -T:S FILE`) when it is on PATH or next to this Python (z3-solver ships it),
    else a worker process that only imports z3's own Python API;
  - cvc5: the `cvc5` binary when on PATH, else a worker that only imports cvc5's Python API (`pip install
    cvc5`, the `audit` extra).
The workers are the short script `WORKER` below: no import of rollsplit, so they cannot inherit our formulas.
A file agrees when the solver answers what the file's header expects. `sat` where `unsat` was expected (or
the reverse) is a mismatch: a disagreement. `unknown` and `timeout` are no answer, never a disagreement: z3 proved
every claim of the bundle, so a z3 `unknown` or `timeout` is a failure; cvc5 lacks some of z3's nonlinear integer
reasoning, so its `unknown` is listed and fails only with --strict.

The command (`rollsplit recheck`) writes what it found into the bundle as recheck.json (each file's latest answer
per solver: a later run replaces the answers of the files it solved) and writes REPORT.md and REPORT.html again with
the solver agreement, unless the bundle is stale (its proofs are about other code than the installed code).
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rollsplit.progress import Progress, eta

EXPECTED_BY_DIR = {"obligations": "unsat", "witnesses": "sat", "mutants": "sat"}
NO_ANSWER = ("unknown", "timeout")   # the solver gave no answer: never a disagreement

WORKER = r'''
import json, sys, time
solver, timeout_ms = sys.argv[1], int(sys.argv[2])

def run_z3(path):
    import z3
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.from_file(path)
    return str(s.check())

def run_cvc5(path):
    import cvc5
    tm = cvc5.TermManager() if hasattr(cvc5, "TermManager") else None
    s = cvc5.Solver(tm) if tm is not None else cvc5.Solver()
    s.setOption("tlimit-per", str(timeout_ms))
    sm = cvc5.SymbolManager(tm if tm is not None else s)
    p = cvc5.InputParser(s, sm)
    p.setFileInput(cvc5.InputLanguage.SMT_LIB_2_6, path)
    answers = []
    while True:
        cmd = p.nextCommand()
        if cmd.isNull():
            break
        out = cmd.invoke(s, sm).strip()
        if out:
            answers.append(out)
    return answers[-1] if answers else "no answer"

for line in sys.stdin:
    path = line.rstrip("\n")
    t = time.perf_counter()
    try:
        answer = (run_z3 if solver == "z3" else run_cvc5)(path)
    except Exception as e:
        answer = "error: %s: %s" % (type(e).__name__, e)
    print(json.dumps({"file": path, "answer": answer, "seconds": round(time.perf_counter() - t, 3)}), flush=True)
'''


class BundleError(Exception):
    """The bundle cannot be re-checked at all (no results.json, solver missing): a usage error."""


@dataclass
class Check:
    file: str
    solver: str
    expected: str
    answer: str
    seconds: float

    @property
    def verdict(self) -> str:
        """agrees | MISMATCH (the opposite answer) | unknown | timeout (no answer: not a disagreement) | error."""
        a = self.answer
        if a == self.expected:
            return "agrees"
        if a in ("sat", "unsat"):
            return "MISMATCH"
        if a == "timeout":
            return "timeout"
        if a.startswith("unknown"):
            return "unknown"
        return "error"


@dataclass
class Report:
    directory: Path
    files: int
    integrity: list[tuple[str, str]] = field(default_factory=list)   # (file, problem)
    checks: list[Check] = field(default_factory=list)
    solvers: dict[str, str] = field(default_factory=dict)            # name -> how it was run
    notes: list[str] = field(default_factory=list)
    strict: bool = False
    seconds: float = 0.0
    stale: list[tuple[str, str]] = field(default_factory=list)       # (source or solver, how it differs)
    allow_stale: bool = False
    timeout: float | None = None
    selection: str = ""                                              # --only / --sample, when given

    def failures(self) -> list[Check]:
        return [c for c in self.checks
                if c.verdict in ("MISMATCH", "error")
                or (c.verdict in NO_ANSWER and (self.strict or c.solver == "z3"))]

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.failures() and (self.allow_stale or not self.stale)


def staleness(data: dict) -> list[tuple[str, str]]:
    """How the code a bundle was proved against differs from the code installed here: each source file the
    prover hashes (`solver.prove.SOURCES`) whose sha256 differs from results.json's `sources_sha256`, is new or
    is gone, and a z3 of another version. Empty when the bundle's proofs are about the installed code."""
    import z3

    from rollsplit.solver.prove import source_hashes
    recorded = data.get("sources_sha256")
    if not isinstance(recorded, dict):
        return [("sources_sha256", "missing from results.json: the bundle does not say which code it proves")]
    now = source_hashes()
    out = []
    for f in sorted(set(recorded) | set(now)):
        if f not in now:
            out.append((f, "recorded in the bundle, not among the sources hashed now"))
        elif f not in recorded:
            out.append((f, "not recorded in the bundle (a source added since it was proved)"))
        elif recorded[f] != now[f]:
            out.append((f, "changed since the bundle was proved (sha256 differs)"))
    version = (data.get("solver") or {}).get("version")
    if version != z3.get_version_string():
        out.append(("z3", f"the bundle was proved with z3 {version}, this is z3 {z3.get_version_string()}"))
    return out


def z3_binary() -> str | None:
    found = shutil.which("z3")
    if found:
        return found
    sibling = Path(sys.executable).parent / "z3"
    return str(sibling) if sibling.is_file() else None


def _normalize(text: str) -> str:
    first = (text.strip().splitlines() or [""])[0].strip()
    if first.startswith("unknown"):
        return "unknown"
    return first or "no answer"


def _timed(answer: str, seconds: float, timeout: float) -> str:
    """An `unknown` given when the time was up is a timeout (cvc5 and z3's API say unknown when out of time)."""
    return "timeout" if answer == "unknown" and seconds >= 0.95 * timeout else answer


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listed_files(data: dict) -> dict[str, tuple[str, str]]:
    """file -> (expected, sha256) from results.json (obligations, witnesses and mutants)."""
    out = {}
    for ob in data.get("obligations", []):
        if ob.get("file"):
            out[ob["file"]] = (ob.get("expected", ""), ob.get("sha256", ""))
    for m in data.get("mutants") or []:
        if m.get("file"):
            out[m["file"]] = ("sat", m.get("sha256", ""))
    return out


def integrity(directory: Path, data: dict) -> tuple[list[str], list[tuple[str, str]]]:
    """The files that may be solved, and every integrity problem (missing, tampered, unlisted, wrong expectation)."""
    listed = listed_files(data)
    on_disk = {str(p.relative_to(directory)) for sub in EXPECTED_BY_DIR for p in (directory / sub).glob("*.smt2")}
    problems, good = [], []
    for f, (expected, digest) in sorted(listed.items()):
        sub = f.split("/", 1)[0]
        if f not in on_disk:
            problems.append((f, "missing: listed in results.json but not in the bundle"))
        elif not digest:
            problems.append((f, "no sha256 in results.json"))
        elif _sha256(directory / f) != digest:
            problems.append((f, "tampered: sha256 differs from results.json"))
        elif EXPECTED_BY_DIR.get(sub) != expected:
            problems.append((f, f"results.json expects {expected} of a file under {sub}/"))
        else:
            good.append(f)
    for f in sorted(on_disk - set(listed)):
        problems.append((f, "unlisted: in the bundle but not in results.json"))
    return good, problems


def _binary_check(cmd: list[str], directory: Path, f: str, timeout: float) -> tuple[str, float]:
    t = time.perf_counter()
    try:
        p = subprocess.run([*cmd, str(directory / f)], capture_output=True, text=True, timeout=timeout + 10)
        answer = _normalize(p.stdout) if p.stdout.strip() else f"error: exit {p.returncode}: {p.stderr.strip()[:200]}"
    except subprocess.TimeoutExpired:
        answer = "timeout"
    return answer, time.perf_counter() - t


def _worker_checks(solver: str, directory: Path, files: list[str], timeout: float, jobs: int,
                   progress) -> dict[str, tuple[str, float]]:
    """Run files through `jobs` fresh worker processes; a worker that dies marks its current file as an
    error and a new worker takes the rest."""
    results: dict[str, tuple[str, float]] = {}
    lock = threading.Lock()
    queue = list(files)

    def take() -> str | None:
        with lock:
            return queue.pop(0) if queue else None

    def lane():
        while True:
            f = take()
            if f is None:
                return
            proc = subprocess.Popen([sys.executable, "-c", WORKER, solver, str(int(timeout * 1000))],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True, cwd=str(directory))
            while f is not None:
                try:
                    proc.stdin.write(f + "\n")
                    proc.stdin.flush()
                    line = proc.stdout.readline()
                except (BrokenPipeError, OSError):
                    line = ""
                if not line:
                    with lock:
                        results[f] = (f"error: the {solver} worker died on this file", 0.0)
                    proc.kill()
                    break
                rec = json.loads(line)
                with lock:
                    results[f] = (_normalize(rec["answer"]) if not rec["answer"].startswith("error")
                                  else rec["answer"], rec["seconds"])
                    progress(len(results))
                f = take()
            else:
                proc.stdin.close()
                proc.wait()

    threads = [threading.Thread(target=lane) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def select(files: list[str], only: list[str] | None = None, sample: int | None = None) -> list[str]:
    """The files to solve: those matching any `only` glob, then `sample` of them spread evenly (deterministic)."""
    if only:
        files = [f for f in files if any(fnmatch.fnmatchcase(f, pattern) for pattern in only)]
    if sample is not None and sample < len(files):
        files = [files[i * len(files) // sample] for i in range(sample)]
    return files


def recheck(directory: Path, solvers: str = "z3", timeout: float = 60.0, jobs: int = 2, strict: bool = False,
            progress="stderr", only: list[str] | None = None, sample: int | None = None,
            allow_stale: bool = False) -> Report:
    progress = sys.stderr if progress == "stderr" else progress   # the stream of the call, not of the import
    if not directory.is_dir():
        raise BundleError(f"{directory} is not a directory; write a bundle with `rollsplit prove --out {directory}`.")
    try:
        data = json.loads((directory / "results.json").read_text())
    except OSError:
        raise BundleError(f"{directory} has no readable results.json; write a bundle with "
                          f"`rollsplit prove --out {directory}`.") from None
    except ValueError:
        raise BundleError(f"{directory}/results.json is not valid JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("obligations", []), list) \
            or not all(isinstance(o, dict) for o in data.get("obligations", [])):
        raise BundleError(f"{directory}/results.json is not the results of `rollsplit prove` (it must be an object "
                          "with a list of obligations).")
    t0 = time.perf_counter()
    good, problems = integrity(directory, data)
    report = Report(directory, files=len(good) + len(problems), integrity=problems, strict=strict,
                    stale=staleness(data), allow_stale=allow_stale)
    if only or sample is not None:
        chosen = select(good, only, sample)
        if not chosen:
            raise BundleError(f"no file of {directory} matches --only {' '.join(only or [])}: file paths look like "
                              "'obligations/NAME.smt2' or 'witnesses/NAME.smt2'.")
        how = ", ".join(x for x in (f"--only {' '.join(only)}" if only else "",
                                    f"--sample {sample}" if sample is not None else "") if x)
        report.notes.append(f"{how}: solved {len(chosen)} of the {len(good)} intact files (the sha256 of every "
                            "file was checked).")
        report.selection = f"{how}: {len(chosen)} of {len(good)} files"
        good = chosen
    wanted = ["z3", "cvc5"] if solvers == "all" else [solvers]
    for solver in wanted:
        if solver == "cvc5" and not shutil.which("cvc5") and importlib.util.find_spec("cvc5") is None:
            if solvers == "cvc5":
                raise BundleError("cvc5 is not installed: `pip install cvc5` (or the audit extra, "
                                  "`pip install 'rollsplit[audit]'`).")
            report.notes.append("cvc5 is not installed (pip install cvc5): only z3 re-checked the bundle.")
            continue
        if solver == "z3" and z3_binary() is None and importlib.util.find_spec("z3") is None:
            raise BundleError("z3 is not installed: `pip install z3-solver` or put the z3 binary on PATH.")
        _run_solver(report, solver, good, directory, timeout, jobs, progress)
    report.seconds = time.perf_counter() - t0
    return report


def _run_solver(report: Report, solver: str, files: list[str], directory: Path, timeout: float, jobs: int,
                progress) -> None:
    expected = {f: EXPECTED_BY_DIR[f.split("/", 1)[0]] for f in files}
    t0 = time.perf_counter()
    line = Progress(progress)

    def show(done: int) -> None:
        line.update(f"[recheck {solver}] {eta(done, len(files), time.perf_counter() - t0)} (files)")

    binary = z3_binary() if solver == "z3" else shutil.which("cvc5")
    if binary:
        cmd = ([binary, f"-T:{math.ceil(timeout)}"] if solver == "z3"
               else [binary, f"--tlimit={int(timeout * 1000)}"])
        report.solvers[solver] = f"{' '.join([Path(binary).name, *cmd[1:]])} FILE (one process per file)"
        done = [0]
        lock = threading.Lock()

        def one(f):
            r = _binary_check(cmd, directory, f, timeout)
            with lock:
                done[0] += 1
                show(done[0])
            return f, r
        with ThreadPoolExecutor(max(1, jobs)) as ex:
            answers = dict(ex.map(one, files))
    else:
        report.solvers[solver] = f"{solver} Python API in fresh worker processes (solver.recheck.WORKER)"
        answers = _worker_checks(solver, directory, files, timeout, jobs, show)
    line.close()
    for f in files:
        answer, secs = answers[f]
        report.checks.append(Check(f, solver, expected[f], _timed(answer, secs, timeout), round(secs, 3)))
    report.timeout = timeout


VERDICT_COLUMNS = (("agrees", "as expected"), ("unknown", "unknown"), ("timeout", "timeout"),
                   ("MISMATCH", "mismatch"), ("error", "error"))
LISTED = 20   # files listed per kind of odd answer (recheck.json and REPORT.html hold them all)


def print_report(report: Report) -> int:
    from rollsplit.tables import fit
    rows = []
    for solver, how in report.solvers.items():
        cs = [c for c in report.checks if c.solver == solver]
        rows.append([solver, how, len(cs), *(sum(c.verdict == v for c in cs) for v, _ in VERDICT_COLUMNS),
                     round(sum(c.seconds for c in cs), 1)])
    print(fit(rows, ["solver", "run as", "files", *(name for _, name in VERDICT_COLUMNS), "solver s"]))
    if report.integrity:
        print()
        print("Integrity (sha256 against results.json):")
        for f, problem in report.integrity:
            print(f"  {f}: {problem}")
    if report.stale:
        print()
        print("Stale (the bundle was proved against other code than the installed code; its proofs say nothing "
              "about the code installed here" + (", accepted with --allow-stale):" if report.allow_stale else "):"))
        print(fit(report.stale, ["source", "difference"]))
    failures = set(id(c) for c in report.failures())
    mismatch = [c for c in report.checks if c.verdict == "MISMATCH"]
    errors = [c for c in report.checks if c.verdict == "error"]
    silent = [c for c in report.checks if c.verdict in NO_ANSWER]
    if mismatch:
        print()
        print("MISMATCH: the solver answered the opposite of what the file expects (a disagreement):")
        _list(mismatch, lambda c: f"{c.solver} answered {c.answer}, expected {c.expected}")
    if errors:
        print()
        print("Errors (the solver could not run the file):")
        _list(errors, lambda c: f"{c.solver}: {c.answer}")
    for solver in report.solvers:
        cs = [c for c in silent if c.solver == solver]
        if not cs:
            continue
        counted = any(id(c) in failures for c in cs)
        print()
        print(f"No answer from {solver} on {len(cs)} file(s) (unknown or timeout, not a disagreement; "
              + (("each a failure with --strict" if solver != "z3" else "each a failure: z3 proved them all")
                 if counted else "listed only; --strict fails them") + "):")
        _list(cs, lambda c: f"{c.answer} after {c.seconds} s")
    for n in report.notes:
        print(n)
    n_fail = len(report.failures()) + len(report.integrity) + (0 if report.allow_stale else len(report.stale))
    solved = len({c.file for c in report.checks})
    unsolved = report.files - len(report.integrity) - solved
    listed = [c for c in silent if id(c) not in failures]
    if not listed:
        done = ("every file re-checked as expected." if not unsolved else
                f"every file solved answered as expected; {unsolved} intact files were not solved (--only/--sample).")
    else:
        quiet = {c.solver for c in listed}
        done = (f"every file was answered as expected except {len(listed)} without an answer from "
                f"{' and '.join(sorted(quiet))} (listed above; not a disagreement)"
                + (f"; {unsolved} intact files were not solved (--only/--sample)." if unsolved else "."))
    if report.stale and report.allow_stale:
        done += f" The bundle is STALE ({len(report.stale)} differences, accepted with --allow-stale)."
    elif not report.stale:
        done += " It proves the installed code (every source's sha256 and the z3 version match)."
    print(f"{report.files} files in {report.directory}/, {len(report.checks)} solver runs in {report.seconds:.1f} s: "
          + (done if report.ok else f"{n_fail} FAILED" + (" (the bundle is STALE)." if report.stale
                                                           and not report.allow_stale else ".")))
    return 0 if report.ok else 1


def _list(checks: list[Check], what) -> None:
    """Files one a line, whole (a path is what one copies), at most LISTED; the rest are counted."""
    for c in checks[:LISTED]:
        print(f"  {c.file}: {what(c)}")
    if len(checks) > LISTED:
        print(f"  ... and {len(checks) - LISTED} more (recheck.json and REPORT.html list them all)")


RESULTS_FILE = "recheck.json"


def save(report: Report) -> list[str]:
    """Write what this re-check found into the bundle as recheck.json (its answers replace those an earlier re-check
    of the same results gave for the same files and solvers; the others stay) and write REPORT.md and REPORT.html
    again with it. Returns sentences for the user: what was written, or why not. Never raises."""
    from rollsplit.solver import report as report_module
    from rollsplit.solver.prove import BundleError as ProveBusy, lock_bundle
    d = report.directory
    try:
        data = json.loads((d / "results.json").read_text())
        digest = report_module.results_digest(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        return [f"recheck.json not written: results.json cannot be read again ({e})."]
    try:
        fd = lock_bundle(d)
    except ProveBusy as e:
        return [f"recheck.json not written: {e}."]
    try:
        previous = _previous(d / RESULTS_FILE, digest)
        ran = set(report.solvers)
        from datetime import datetime, timezone
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        solvers = {k: v for k, v in (previous.get("solvers") or {}).items() if k not in ran}
        for solver, how in report.solvers.items():
            solvers[solver] = {"how": how, "written": when, "timeout_seconds": report.timeout,
                               "strict": report.strict, **({"selection": report.selection} if report.selection else {})}
        redone = {(c.solver, c.file) for c in report.checks}
        checks = [c for c in previous.get("checks") or []
                  if isinstance(c, dict) and (c.get("solver"), c.get("file")) not in redone]
        checks += [{"file": c.file, "solver": c.solver, "expected": c.expected, "answer": c.answer,
                    "verdict": c.verdict, "seconds": c.seconds, "written": when} for c in report.checks]
        out = {"written_by": "rollsplit recheck", "written": when, "results_sha256": digest, "solvers": solvers,
               "files": report.files, "integrity": [list(x) for x in report.integrity],
               "stale": [list(x) for x in report.stale], "ok": report.ok, "checks": checks}
        (d / RESULTS_FILE).write_text(json.dumps(out, indent=1))
    except OSError as e:
        return [f"recheck.json not written: {e.strerror or e}."]
    finally:
        os.close(fd)
    notes = [f"Wrote {d / RESULTS_FILE}."]
    if report.stale:
        notes.append("REPORT.md and REPORT.html were not written again: the bundle is stale (its proofs are about "
                     "other code than the installed code, whose rules the reports would quote).")
        return notes
    try:
        report_module.refresh(d)
        notes[0] = f"Wrote {d / RESULTS_FILE}; REPORT.md and REPORT.html now show the solver agreement."
    except Exception as e:  # noqa: BLE001 - the re-check's result stands; the reports are a convenience
        notes.append(f"REPORT.md and REPORT.html were not written again: {type(e).__name__}: {e}.")
    return notes


def _previous(path: Path, digest: str) -> dict:
    """An earlier recheck.json of the same results, or an empty one."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return old if isinstance(old, dict) and old.get("results_sha256") == digest else {}
