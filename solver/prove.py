"""Run the obligations (in parallel, one z3 context per process) and write the audit bundle.

Bundle layout (DIR, default ./audit):
  obligations/*.smt2      each self-contained, (check-sat) expected unsat, header: id, citation, shape, expected
  witnesses/*.smt2        preconditions, expected sat, with the replayed request in the header
  counterexamples/*.json  only when something is refuted: the request, replayed on the concrete code
  mutants/                with --mutants: each mutant's refuting obligation (*.smt2, expected sat) and its
                          counterexample (*.json), replayed on the concrete mutant
  results.json            solver and version, times, statuses, sha256 of every written file and of the
                          spec and reference sources; for each obligation expected unsat, `trivial`: whether
                          z3's `simplify` alone reduces its formula to `false` (see `closes_by_simplify`)
  REPORT.md               for auditors (written by solver.report)
  .rollsplit-bundle       marker, short JSON (written by rollsplit prove, when), written last
  .rollsplit-lock         flock'ed while a prove writes the directory (see `claim_bundle`, `publish`)
Only `unsat` counts as proved; `unknown` (timeout) and `sat` are failures, reported as such.

An obligation that z3's rewriter (`simplify`) already reduces to `false` is proved, but it is not evidence of
anything beyond the code restating itself: the claim is the algorithm's own expression (or a check decided in
Python while the formula was built). Such obligations are marked `"trivial": true` in results.json and counted
apart in REPORT.md; the status (proved or not) is decided by the solver exactly as for any other obligation.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import z3

from rollsplit.locks import try_lock

from rollsplit.machine import machine
from rollsplit.progress import Progress, eta
from rollsplit.solver import obligations as O
from rollsplit.solver import shapes as S
from rollsplit.solver.replay import (replay_counterexample, replay_determinacy, replay_dispatch, replay_validity,
                                     replay_witness)
from rollsplit.solver.z3_backend import Shape, model_values
from rollsplit.spec import law

SOURCES = ("spec/arith.py", "spec/law.py", "spec/model.py", "spec/orders.py", "spec/invariants.py",
           "spec/parse.py", "spec/errors.py", "reference/algorithm.py", "reference/__init__.py",
           "solver/z3_backend.py", "solver/obligations.py", "solver/shapes.py", "reference/mutants.py",
           "reference/compiled.py", "solver/compiled_proof.py", "spec/facts.py", "spec/validity.py",
           "solver/parse_proof.py")
ROOT = Path(__file__).resolve().parent.parent
WITNESS_NICE_S = 1.0       # budget for a witness with positive amounts before settling for any valid request
INCREMENTAL_BUDGET_S = 1.0   # incremental checks that take longer are redone from scratch (usually faster)


def pool(processes: int):
    """Worker processes for proofs: forked where the platform can (z3 and the lemma cache come along), at
    least one."""
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    return ctx.Pool(max(1, processes))


def source_hashes() -> dict[str, str]:
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in SOURCES}


def smt2(ob: O.Obligation, extra_header: str = "") -> str:
    lines = [f"; rollsplit proof obligation {ob.name}",
             f"; kind: {ob.kind}", f"; invariant: {ob.invariant}", f"; citation: {ob.citation}",
             f"; statement: {ob.statement}", f"; shape: {ob.shape}", f"; expected: {ob.expected}"]
    if ob.uses:
        lines.append(f"; assumes (instances of) the proved lemmas: {', '.join(sorted(set(ob.uses)))}")
    lines += [f"; {x}" for x in extra_header.splitlines()]
    lines.append("(set-logic ALL)")
    return "\n".join(lines) + "\n" + ob.solver().to_smt2()


@dataclass
class Outcome:
    name: str
    kind: str
    invariant: str
    shape: str
    size: int
    expected: str
    status: str            # proved | refuted | unknown | sat (witness found) | unsat (witness missing) | error
    seconds: float
    file: str = ""
    sha256: str = ""
    uses: tuple = ()
    detail: dict = field(default_factory=dict)
    statement: str = ""    # kept for lemmas only (REPORT.md lists them); invariants have theirs in spec/
    trivial: bool | None = None   # expected unsat: z3's simplify alone reduces the formula to false (None: sat)

    @property
    def ok(self) -> bool:
        return self.status in O.OK_STATUSES


def check(ob: O.Obligation, timeout_s: float, shared: z3.Solver | None = None) -> tuple[str, float, z3.ModelRef | None]:
    """Check one obligation. With `shared` (a solver holding the shape's precondition, ob.assertions[0]),
    check incrementally; an incremental `unknown` is retried from scratch, so only the standalone
    formula (the one written to the .smt2 file) decides a failure."""
    t = time.perf_counter()
    if shared is not None:
        shared.push()
        shared.add(*ob.assertions[1:])
        shared.set("timeout", int(min(timeout_s, INCREMENTAL_BUDGET_S) * 1000))
        r = shared.check()
        model = shared.model() if r == z3.sat else None
        shared.pop()
        if r != z3.unknown:
            return str(r), time.perf_counter() - t, model
    if ob.expected == "unsat":
        # from scratch in a fresh z3 context, as `z3 FILE` and `recheck` see it: z3's search depends on the terms a
        # context already holds (measured: a validity obligation took 1.2 s alone and timed out at 20 s after the
        # other obligations of its worker); a model, when there is one, is found again in the main context
        ctx = z3.Context()
        s = z3.Solver(ctx=ctx)
        s.add(*[a.translate(ctx) for a in ob.assertions])
        s.set("timeout", int(timeout_s * 1000))
        r = s.check()
        if r != z3.sat:
            return str(r), time.perf_counter() - t, None
    s = ob.solver()
    s.set("timeout", int(timeout_s * 1000))
    r = s.check()
    dt = time.perf_counter() - t
    return str(r), dt, (s.model() if r == z3.sat else None)


def closes_by_simplify(ob: O.Obligation) -> bool:
    """Whether z3's `simplify` alone reduces the obligation's formula (the conjunction of its assertions, the
    formula `ob.solver()` checks and the .smt2 file holds) to `false`. Such an obligation needs no search: its
    claim restates the code's own expression, or was decided in Python while the formula was built."""
    return z3.is_false(z3.simplify(z3.And(*ob.assertions)))


def _judge(ob: O.Obligation, r: str) -> str:
    if r == "unknown":
        return "unknown"
    if ob.expected == "unsat":
        return "proved" if r == "unsat" else "refuted"
    return "satisfiable" if r == "sat" else "vacuous"


def _process(ob: O.Obligation, shape: Shape | None, timeout: float, out_dir: Path | None,
             shared: z3.Solver | None = None) -> Outcome:
    # before the check: for a witness `_process` adds the preferred constraints to ob.assertions for a while
    trivial = closes_by_simplify(ob) if ob.expected == "unsat" else None
    if ob.preferred:
        # a witness with the preferred constraints (every amount positive) gets a short budget; if z3 finds
        # none there (unknown, or none exists), any model of the obligation itself will do
        hard = ob.assertions
        ob.assertions = [*hard, *ob.preferred]
        r, dt, model = check(ob, min(timeout, WITNESS_NICE_S))
        if r != "sat":
            ob.assertions = hard
            r, dt2, model = check(ob, timeout)
            dt += dt2
    else:
        r, dt, model = check(ob, timeout, shared)
    status = _judge(ob, r)
    res = Outcome(ob.name, ob.kind, ob.invariant, ob.shape, S.size(shape) if shape else 0, ob.expected, status,
                  round(dt, 4), uses=tuple(sorted(set(ob.uses))),
                  statement=ob.statement if ob.kind == "lemma" else "", trivial=trivial)
    if getattr(ob, "source_sha256", ""):
        res.detail["source_sha256"] = ob.source_sha256
    header = ""
    if model is not None and shape is not None:
        values = model_values(model, ob.variables)
        res.values = values   # (not written out) the witness request's money, for the sanity witnesses
        if ob.kind == "witness":
            sym = ob.symbolic_result if shape.regime == "notice_2014_54" else None
            rep = replay_witness(shape, values, sym, model)
            res.detail = {"replay": rep}
            if not rep["ok"]:
                res.status = "witness-not-replayed"
            header = "witness request (replayed on the concrete reference):\n" + json.dumps(rep["request"])
        elif ob.kind in ("premise", "sanity"):
            res.detail = {"example": values}
        elif ob.kind == "compiled":
            res.detail = {"counterexample": replay_dispatch(shape, values)}
        else:
            rep = replay_counterexample(shape, values, ob.invariant)
            res.detail = {"counterexample": rep}
    if out_dir is not None:
        sub = "witnesses" if ob.expected == "sat" else "obligations"
        path = out_dir / sub / f"{ob.name}.smt2"
        text = smt2(ob, header).encode()
        with _writing(path):
            path.write_bytes(text)
            if "counterexample" in res.detail:
                (out_dir / "counterexamples").mkdir(exist_ok=True)
                (out_dir / "counterexamples" / f"{ob.name}.json").write_text(json.dumps(res.detail, indent=1))
        res.file = f"{sub}/{ob.name}.smt2"
        res.sha256 = hashlib.sha256(text).hexdigest()
    return res


@contextmanager
def _writing(path: Path):
    """An OSError while writing the bundle fails the whole run with its reason (see `BundleWriteError`)."""
    try:
        yield
    except OSError as e:
        raise BundleWriteError(f"cannot write {e.filename or path}: {e.strerror or e}") from None


def _shape_job(args) -> list[Outcome]:
    shape, rejecting, timeout, out_dir = args
    obs = O.shape_obligations(shape, rejecting=rejecting)
    shared = z3.Solver()
    shared.add(obs[0].assertions[0])   # every obligation of a shape starts with the same precondition
    # Invariants and determinacy are checked incrementally on the shared precondition (measured: 2.5x faster
    # than from scratch); witnesses from scratch (measured: 2.6x faster than incrementally, where z3 skips
    # its preprocessing). Either way only the standalone formula decides a failure (see `check`).
    out = []
    witness_values = None
    for ob in obs:
        use_shared = shared if ob.kind != "witness" and ob.assertions[0].eq(obs[0].assertions[0]) else None
        if ob.kind == "sanity" and witness_values is not None:
            # first: some answer to the witness request breaks the rule. The request is fixed (a valid one, replayed
            # on the reference), so z3 solves only for an answer (measured: the sanity witnesses took a quarter of
            # all solver time when z3 searched for a request too). A rule whose 'if' part the witness request does
            # not meet needs another request: then the search is over requests as well.
            general = ob.assertions
            ob.assertions = [*general, *[ob.variables[k] == v for k, v in witness_values.items()]]
            res = _process(ob, shape, timeout, out_dir, use_shared)
            if not res.ok:   # (its file is written again below)
                ob.assertions = general
                res = _process(ob, shape, timeout, out_dir, use_shared)
            out.append(res)
            continue
        out.append(_process(ob, shape, timeout, out_dir, use_shared))
        if ob.kind == "witness" and out[-1].ok:
            witness_values = getattr(out[-1], "values", None)
    return out + parse_outcomes(shape, out_dir)


def parse_outcomes(shape: Shape, out_dir: Path | None, parse=None) -> list[Outcome]:
    """The parser against the contract's structural rules on this shape (solver.parse_proof): checked, not proved."""
    from rollsplit.solver import parse_proof
    t = time.perf_counter()
    checks = parse_proof.check_shape(shape) if parse is None else parse_proof.check_shape(shape, parse)
    dt = (time.perf_counter() - t) / max(1, len(checks))
    out = []
    for i, c in enumerate(checks):
        o = Outcome(f"parse{i}__{O.slug(shape.name())}", "parse", "PARSE", shape.name(), S.size(shape),
                    c.expected or "accepted", "checked" if c.ok else "refuted", round(dt, 4),
                    statement=c.what)
        if not c.ok:
            o.detail = {"counterexample": {"request": c.request, "what": c.what, "contract": c.expected or "accepted",
                                           "parser": c.got or "accepted", "confirmed": True}}
            if out_dir is not None:
                with _writing(out_dir):
                    (out_dir / "counterexamples").mkdir(exist_ok=True)
                    (out_dir / "counterexamples" / f"{o.name}.json").write_text(json.dumps(o.detail, indent=1))
        out.append(o)
    return out


def _lemma_job(args) -> list[Outcome]:
    index, timeout, out_dir, shapes = args
    ob = O.lemma_obligations(shapes)[index]
    return [_process(ob, None, timeout, out_dir)]


BUNDLE_SUBDIRS = ("obligations", "witnesses", "counterexamples", "mutants")
# the bundle's top-level files (recheck.json is written by `rollsplit recheck`; the reports ignore one that is about
# another run's results)
OWN_NAMES = ("results.json", "REPORT.md", "REPORT.html", "FORMULAS.md", "cores.json", "recheck.json")
MARKER = ".rollsplit-bundle"    # short JSON: written by rollsplit prove, when; written last, on success
LOCK = ".rollsplit-lock"        # flock'ed for the whole run; holds the pid of the holder; never removed
STAGING = ".rollsplit-staging-"  # + pid: the run writes here, then the files are moved into the bundle
_STAGING_RE = re.compile(r"^\.rollsplit-staging-\d+$")


class BundleError(Exception):
    """A sentence for the user. `code`: 2 when nothing was done yet (usage), 1 when the run's work is lost."""

    def __init__(self, text: str, code: int = 2):
        super().__init__(text)
        self.code = code


class BundleWriteError(Exception):
    """A worker could not write a file of the bundle: the whole run fails (never an `error` obligation)."""


def _strerror(e: OSError) -> str:
    return e.strerror or str(e)


def _read_results(out_dir: Path) -> dict | None:
    """results.json of `out_dir` when it is one that rollsplit prove wrote, else None."""
    try:
        data = json.loads((out_dir / "results.json").read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if (isinstance(data, dict) and isinstance(data.get("obligations"), list) and isinstance(data.get("solver"), dict)
            and "summary" in data):
        return data
    return None


def _read_marker(out_dir: Path) -> dict | None:
    try:
        data = json.loads((out_dir / MARKER).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "rollsplit prove" else None


def _bundle_path(rel) -> bool:
    """A path a bundle may hold below its folders: `SUBDIR/NAME`, nothing else (a doctored results.json can
    never make prove remove a file elsewhere)."""
    if not isinstance(rel, str) or not rel or "\\" in rel:
        return False
    parts = PurePosixPath(rel).parts
    return len(parts) == 2 and parts[0] in BUNDLE_SUBDIRS and parts[1] not in (".", "..")


def written_files(data: dict) -> set[str]:
    """The files below the bundle's folders that the run which wrote results.json `data` wrote: every
    obligation's and witness's file, the counterexample beside a refuted one, every mutant's files."""
    files: set[str] = set()
    for o in data.get("obligations") or ():
        if not isinstance(o, dict) or not isinstance(o.get("file"), str) or not o["file"]:
            continue
        files.add(o["file"])
        if isinstance(o.get("detail"), dict) and "counterexample" in o["detail"]:
            files.add(f"counterexamples/{PurePosixPath(o['file']).stem}.json")
    for m in data.get("mutants") or ():
        if isinstance(m, dict):
            files.update(m.get(k) for k in ("file", "counterexample"))
    return {f for f in files if _bundle_path(f)}


def _present(out_dir: Path) -> set[str]:
    """Everything in `out_dir` except our own lock, marker and staging folders: files (and symlinks) by
    relative path, an empty folder other than the bundle's own as `NAME/`."""
    found: set[str] = set()
    for root, dirs, files in os.walk(out_dir):
        rel = Path(root).relative_to(out_dir)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if not _STAGING_RE.match(d)]
            files = [f for f in files if f not in (LOCK, MARKER)]
        for d in list(dirs):
            if (Path(root) / d).is_symlink():
                found.add((rel / d).as_posix())
                dirs.remove(d)
        found.update((rel / f).as_posix() for f in files)
        if not dirs and not files and rel != Path(".") and rel.as_posix() not in BUNDLE_SUBDIRS:
            found.add(rel.as_posix() + "/")
    return found


def _exists(p: Path) -> bool:
    return p.exists() or p.is_symlink()


def _few(names) -> str:
    names = sorted(names)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


@dataclass
class Claim:
    """A bundle directory held by this run: its lock, its staging folder, what an earlier run wrote."""
    out: Path
    staging: Path
    lock_fd: int
    own: bool                 # the directory holds a bundle of ours (marker, or a results.json of prove)
    previous: set[str]        # files an earlier prove wrote below the bundle's folders: replaced or removed
    kept: list[str]           # files it did not write: never removed, never overwritten


def _survey(out: Path, force: bool) -> tuple[bool, set[str], list[str]]:
    """(own, previous, kept); raises BundleError when prove must not write there."""
    data = _read_results(out)
    marker = _read_marker(out)
    own = data is not None or marker is not None
    previous = written_files(data) if data is not None else set()
    if marker is not None and marker.get("state") == "publishing":   # a run stopped while moving its files in
        previous |= {f for f in marker.get("files") or () if _bundle_path(f)}
    for sub in BUNDLE_SUBDIRS:
        if _exists(out / sub) and not (out / sub).is_dir():
            raise BundleError(f"{out / sub} is not a directory, and the bundle keeps its files there; nothing "
                              f"was changed. Move it away or choose another --out")
    foreign = sorted(_present(out) - previous - (set(OWN_NAMES) if own else set()))
    if foreign and not own and not force:
        raise BundleError(f"{out} is not empty and is not a bundle written by rollsplit prove (it holds "
                          f"{_few(foreign)}); nothing was changed. Choose another --out, or give --force to write "
                          f"the bundle beside those files (none of them is removed or overwritten)")
    for name in OWN_NAMES:
        p = out / name
        if p.is_dir():
            raise BundleError(f"{p} is a directory where the bundle writes a file; nothing was changed. Move it "
                              f"away or choose another --out")
        if not own and _exists(p):
            raise BundleError(f"{p} was not written by rollsplit prove and the bundle would overwrite it; nothing "
                              f"was changed, even with --force. Choose another --out")
    return own, previous, foreign


def lock_bundle(out: Path) -> int:
    """Take the directory's lock (an exclusive `flock` on DIR/.rollsplit-lock, released by the kernel when
    the holder exits, however it exits) and write our pid in it. Raises BundleError when another process
    holds it."""
    path = out / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise BundleError(f"cannot write to {out}: {_strerror(e)}") from None
    who = try_lock(fd)
    if who is not None:
        raise BundleError(f"another rollsplit prove{who} is writing {out}; nothing was changed. Wait for it to "
                          f"finish, or choose another --out") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError as e:
        os.close(fd)
        raise BundleError(f"cannot write to {out}: {_strerror(e)}") from None
    return fd




def claim_bundle(out: Path, force: bool = False) -> Claim:
    """Check, before any long work, that `out` may receive the bundle; lock it; make the staging folder.

    Refused (BundleError, nothing changed): `out` is a file; it is not empty and holds no bundle of ours
    (unless `force`); a file of the bundle (results.json, REPORT.md) exists and is not ours (even with
    `force`); a folder of the bundle is a file; another prove holds the lock."""
    if _exists(out) and not out.is_dir():
        raise BundleError(f"{out} exists and is not a directory")
    if out.is_dir():
        try:
            _survey(out, force)   # read only: a directory we refuse is left without even a lock file
        except OSError as e:
            raise BundleError(f"cannot read {out}: {_strerror(e)}") from None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BundleError(f"cannot create {out}: {_strerror(e)}") from None
    fd = lock_bundle(out)
    try:
        own, previous, kept = _survey(out, force)   # again, under the lock
        for d in out.iterdir():   # what a killed run left: with the lock held, no other run is writing there
            if _STAGING_RE.match(d.name) and d.is_dir() and not d.is_symlink():
                shutil.rmtree(d)
        staging = out / f"{STAGING}{os.getpid()}"
        staging.mkdir()
        for sub in ("obligations", "witnesses"):
            (staging / sub).mkdir()
    except OSError as e:
        os.close(fd)
        raise BundleError(f"cannot write to {out}: {_strerror(e)}") from None
    except BaseException:
        os.close(fd)
        raise
    return Claim(out, staging, fd, own, previous, kept)


def _marker_text(**extra) -> str:
    from rollsplit import __version__
    return json.dumps({"written_by": "rollsplit prove", "rollsplit": __version__,
                       "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       "pid": os.getpid(), **extra}, indent=1)


def publish(claim: Claim) -> None:
    """Move the finished bundle from the staging folder into `claim.out`: remove the files the previous run
    listed, move every new file in (results.json last), write the marker. A file that neither run wrote is
    never removed or overwritten. The move takes milliseconds under the lock; should it be cut short, the
    marker lists the files of both runs, and the next prove removes them."""
    out, st = claim.out, claim.staging
    new = sorted(_present(st))
    ours = claim.previous | (set(OWN_NAMES) if claim.own else set())
    clash = [r for r in new if r not in ours and _exists(out / r)]
    if clash:
        raise BundleError(f"{out / clash[0]} was not written by rollsplit prove and the new bundle would "
                          f"overwrite it; nothing in {out} was changed. Choose another --out", code=1)
    try:
        (out / MARKER).write_text(_marker_text(state="publishing",
                                               files=sorted(claim.previous | {r for r in new if _bundle_path(r)})))
        for rel in sorted(claim.previous):
            p = out / rel
            if p.is_file() or p.is_symlink():
                p.unlink()
        for rel in sorted(new, key=lambda r: (r in OWN_NAMES, r == "results.json", r)):
            dst = out / rel
            dst.parent.mkdir(exist_ok=True)
            os.replace(st / rel, dst)
        (st / MARKER).write_text(_marker_text(state="complete"))
        os.replace(st / MARKER, out / MARKER)
    except OSError as e:
        raise BundleError(f"moving the new bundle into {out} failed: {_strerror(e)}; {out} may now mix two "
                          f"runs (its recheck will say so): run prove again", code=1) from None


def release(claim: Claim) -> None:
    """Remove the staging folder (ours alone) and release the lock; safe to call after a failure."""
    shutil.rmtree(claim.staging, ignore_errors=True)
    try:
        os.close(claim.lock_fd)
    except OSError:
        pass


def prepare_bundle(out_dir: Path, subdirs=("obligations", "witnesses", "counterexamples"),
                   keep_results: bool = False) -> None:
    """Create the bundle folders in `out_dir` and remove the files that the results.json already there lists
    (written by an earlier prove): never a file prove did not write. `rollsplit prove` itself writes into a
    staging folder and `publish`es it (see `claim_bundle`); this is for callers that write in place.
    Raises OSError when the directory cannot be written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = _read_results(out_dir)
    for rel in written_files(data) if data is not None else ():
        if PurePosixPath(rel).parts[0] in subdirs and (out_dir / rel).is_file():
            (out_dir / rel).unlink()
    for sub in subdirs:
        if sub in ("obligations", "witnesses"):
            (out_dir / sub).mkdir(exist_ok=True)
    if data is not None and not keep_results:
        for name in OWN_NAMES:
            if (out_dir / name).is_file():
                (out_dir / name).unlink()


def run_all(shapes: list[Shape], jobs: int = 2, timeout: float = 20.0, out_dir: Path | None = None,
            progress="stderr") -> list[Outcome]:
    progress = sys.stderr if progress == "stderr" else progress   # the stream of the call, not of the import
    if out_dir is not None:
        for sub in ("obligations", "witnesses"):
            (out_dir / sub).mkdir(parents=True, exist_ok=True)
    rejecting = set(S.rejecting_shapes())
    n_lemmas = len(O.lemma_obligations(shapes))
    work = [(_lemma_job, (i, timeout, out_dir, shapes)) for i in range(n_lemmas)]
    # largest shapes first so the pool does not end on a long tail
    for s in sorted(shapes, key=S.size, reverse=True):
        work.append((_shape_job, (s, s in rejecting, timeout, out_dir)))
    results: list[Outcome] = []
    t0 = time.perf_counter()
    done = 0
    line = Progress(progress)
    # the time left is estimated by weight: a shape's cost grows with its rows (a lemma counts as a small shape)
    weights = [(1 + S.size(args[0])) ** 2 if f is _shape_job else 4 for f, args in work]
    total_weight, done_weight = sum(weights), 0
    with pool(jobs) as pool_:
        for i, batch in pool_.imap_unordered(_indexed_call, list(enumerate(work))):
            results += batch
            done += 1
            done_weight += weights[i]
            bad = sum(1 for r in results if not r.ok)
            line.update(f"[prove] {eta(done, len(work), time.perf_counter() - t0, done_weight / total_weight)}; "
                        f"{len(results)} obligations, {bad} not proved")
    line.close()
    results.sort(key=lambda r: (r.kind != "lemma", r.size, r.shape, r.name))
    return results


def _indexed_call(pair):
    i, item = pair
    return i, _call(item)


def _call(item):
    """Run one job; an exception becomes an `error` outcome (a failure), never a crash of the whole run."""
    f, args = item
    try:
        return f(args)
    except BundleWriteError:
        raise
    except Exception as e:  # noqa: BLE001 - reported as a failed obligation with the reason
        if f is _shape_job:
            shape = args[0]
            name, sname, size = f"error__{O.slug(shape.name())}", shape.name(), S.size(shape)
        else:   # _lemma_job
            name, sname, size = f"error__lemma{args[0]}", "-", 0
        return [Outcome(name, "error", "-", sname, size, "unsat", "error", 0.0,
                        detail={"error": f"{type(e).__name__}: {e}"})]


def spec_hash(hashes: dict[str, str]) -> str:
    """One hash of the law as encoded: sha256 over the sorted (path, sha256) pairs of spec/*.py."""
    text = "".join(f"{p} {h}\n" for p, h in sorted(hashes.items()) if p.startswith("spec/"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_results(out_dir: Path, results: list[Outcome], wall: float, jobs: int, shapes: list[Shape],
                  mutants: list[dict] | None = None, timeout: float | None = None) -> dict:
    hashes = source_hashes()
    smt = [r for r in results if r.kind != "parse"]
    parse = [r for r in results if r.kind == "parse"]
    data = {
        "solver": {"name": "z3", "version": z3.get_version_string()},
        "python": sys.version.split()[0],
        "machine": machine(),
        "jobs": jobs,
        "wall_seconds": round(wall, 2),
        "shapes": len(shapes),
        "timeout_seconds": timeout,
        "sources_sha256": hashes,
        "spec_sha256": spec_hash(hashes),
        "summary": _summary(smt),
        "trivial": trivial_summary(smt),
        "growth": {"headers": GROWTH_HEADERS, "rows": growth_table(smt)},
        "obligations": [{"name": r.name, "kind": r.kind, "invariant": r.invariant, "shape": r.shape,
                         "destinations": r.size, "expected": r.expected, "status": r.status,
                         "seconds": r.seconds, "file": r.file, "sha256": r.sha256, "assumes": list(r.uses),
                         **({"trivial": r.trivial} if r.trivial is not None else {}),
                         **({"statement": r.statement} if r.statement else {}),
                         **({"detail": r.detail} if r.detail else {})} for r in smt],
        # the parser against the contract's structural rules: checked in Python, one request per case, not proved
        "parse_checks": [{"shape": r.shape, "case": r.statement, "contract": r.expected, "status": r.status,
                          **({"detail": r.detail} if r.detail else {})} for r in parse],
    }
    if mutants is not None:
        data["mutants"] = mutants
    (out_dir / "results.json").write_text(json.dumps(data, indent=1))
    return data


def record_proved(results: list[Outcome], shapes: list[Shape]) -> tuple[Path, int]:
    """Write the digests of the compiled sources whose `compiled` obligation this run proved (each obligation carries
    the digest of the source it was about, taken where it was proved) to reference/proved_sources.json, the list
    `reference.compiled` answers from."""
    from rollsplit.reference import compiled
    digests = sorted({r.detail["source_sha256"] for r in results
                      if r.kind == "compiled" and r.status == "proved" and r.detail.get("source_sha256")})
    hashes = source_hashes()
    data = {"about": "SHA-256 of the compiled sources proved equal to the algorithm by `rollsplit prove` on the whole "
                     "bundle; only these answer requests (reference/compiled.py). Refresh with "
                     "`rollsplit prove --record-proved` after any change to the algorithm.",
            "z3": z3.get_version_string(), "shapes": len(shapes), "spec_sha256": spec_hash(hashes),
            "sources": digests}
    # which shapes the proofs cover: the bundle's keys, and the class of every destination (reference.compiled.covered)
    from rollsplit.solver.shapes import classes
    from rollsplit.solver.z3_backend import symbolic_request
    from rollsplit.spec import law as spec_law
    members = {}
    for recipient in spec_law.RECIPIENTS:
        for contract in spec_law.CONTRACTS:
            for method in ("direct", "sixty_day"):
                for group in classes(contract, method, recipient).values():
                    for to, acc in group:
                        members[(recipient, contract, method, to, acc)] = group[0]
    requests = [symbolic_request(s).request for s in shapes]
    data.update(compiled.coverage_record(requests, members))
    head = json.dumps({k: v for k, v in data.items() if k not in ("classes", "keys")}, indent=1)[:-2]
    lists = ",\n".join(f' "{name}": [\n' + ",\n".join("  " + json.dumps(x, separators=(",", ":")) for x in data[name])
                       + "\n ]" for name in ("classes", "keys"))
    compiled.PROVED_FILE.write_text(f"{head},\n{lists}\n}}\n")
    # the hint of which structures are proved (reference/proved_structures.json, for the tiers of reference.compiled):
    # read from the record just written; a hint for speed only, so tracing the shapes again here is harmless
    compiled._proved = compiled._covered = None
    compiled.record_structures(requests)
    return compiled.PROVED_FILE, len(digests)


def silent_rules(results: list[Outcome]) -> list[str]:
    """Rules about the answer that no shape of the run shows breakable by some answer (no sanity witness), and
    rules stated as an implication whose 'if' part no shape satisfies: each says nothing in this run."""
    from rollsplit.spec.invariants import INVARIANTS
    proved = {r.invariant for r in results if r.kind == "invariant" and r.ok}
    sane = {r.invariant for r in results if r.kind == "sanity" and r.ok}
    met = {r.invariant for r in results if r.kind == "premise" and r.ok}
    out = []
    for inv in INVARIANTS:
        if inv.id not in proved:
            continue
        if inv.judges == "result" and inv.id not in sane:
            out.append(f"{inv.id} (no answer breaks it on any shape)")
        if inv.premises is not None and inv.id not in met:
            out.append(f"{inv.id} (its 'if' part holds on no shape)")
    return out


def _summary(results: list[Outcome]) -> dict:
    out: dict = {}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def trivial_summary(results: list[Outcome]) -> dict:
    """Proved obligations, and how many of them z3's `simplify` alone closes (not evidence beyond the code
    restating itself); per invariant id (lemmas and lemma uses by theirs; rejecting shapes, whose obligations
    carry the id ELIGIBILITY, under "rejects")."""
    proved = [r for r in results if r.expected == "unsat" and r.status == "proved"]
    by: dict[str, list[int]] = {}
    for r in proved:
        row = by.setdefault("rejects" if r.kind == "rejects" else r.invariant, [0, 0])
        row[0] += 1
        row[1] += bool(r.trivial)
    return {"proved": len(proved), "closed_by_simplify": sum(bool(r.trivial) for r in proved),
            "unsat_expected": sum(r.expected == "unsat" for r in results),
            "by_invariant": {k: {"proved": v[0], "closed_by_simplify": v[1]} for k, v in sorted(by.items())}}


def growth_table(results: list[Outcome]) -> list[list]:
    """Per number of destinations: shapes, obligations, total and largest solver seconds."""
    by: dict[int, list[Outcome]] = {}
    for r in results:
        if r.kind != "lemma":
            by.setdefault(r.size, []).append(r)
    rows = []
    for n in sorted(by):
        rs = by[n]
        shapes = len({r.shape for r in rs})
        tot = sum(r.seconds for r in rs)
        rows.append([n, shapes, len(rs), round(tot, 2), round(tot / shapes, 3), round(max(r.seconds for r in rs), 3)])
    return rows


GROWTH_HEADERS = ["destinations", "shapes", "obligations", "solver s (sum)", "s per shape", "slowest obligation s"]


# ---- mutants: evidence that the proofs can fail ------------------------------------------------------
def mutant_shapes() -> list[Shape]:
    """Where the mutants are tried, in order: the small shapes, then a direct rollover to a governmental
    457(b) plan (a class member that is not its class's representative: the mistake of `aftertax_into_457b`
    is to move 457(b) out of its class, so only a shape naming 457(b) itself can show it), and a traditional
    and a Roth IRA without an election (since every row holds a cent or more, the small shapes' plans that
    refuse after-tax money must be filled first, which leaves a reversed default order no room to differ)."""
    # smallest first (short counterexamples); old-rule shapes last (their splits are nonlinear, so slow)
    extra = [Shape(directs=(("457b_gov", True),), paid=True),
             # beyond four, traditional and Roth IRAs only (both take after-tax money, so a wrong order is valid)
             Shape(directs=tuple(S._mix(S.live("pretax_aftertax", "direct")[1:], 5, 0)), paid=True),
             Shape(directs=(("traditional_ira", True), ("roth_ira", True)), paid=True),
             Shape(directs=(("in_plan_roth", True),), paid=True),   # in the Roth IRA's class, like 457(b) above
             Shape(directs=(), paid=True, loan_offset="offset"),
             # the old rule with rows that all take after-tax money (the small shapes' old-rule plan refuses it)
             Shape(regime=law.OLD, directs=(("traditional_ira", True), ("roth_ira", True)), paid=True),
             # contract 1.2: who receives the money, box 7's code for the age or event, box 11
             Shape(recipient="nonspouse_beneficiary", event="4", directs=(("traditional_ira", True),), paid=True),
             Shape(directs=(("inherited_traditional_ira", True),), paid=True),
             Shape(recipient="spouse_beneficiary", event="4", directs=(("traditional_ira", True),), paid=True),
             Shape(event="7", directs=(("traditional_ira", True),), paid=True),
             Shape(contract="designated_roth", box11=True, directs=(("roth_ira", True),), paid=True)]
    return sorted(S.small_shapes() + extra, key=lambda s: (s.regime == law.OLD, S.size(s)))


MUTANT_QUICK_S = 1.0   # first pass per check; the full --timeout only when the quick pass refutes nothing


def _refute_on(m, shape: Shape, timeout: float) -> tuple[list, int]:
    """Every obligation of `shape` that the mutant breaks, each confirmed by replaying z3's model on the
    concrete mutant; and how many checks were unknown."""
    obs = O.mutant_obligations(shape, m)
    if not obs:
        return [], 0
    shared = z3.Solver()
    shared.add(obs[0].assertions[0])
    found, unknown = [], 0
    for ob in obs:
        same = ob.assertions[0].eq(obs[0].assertions[0]) and len(ob.assertions) > 1
        r, _, model = check(ob, timeout, shared if same else None)
        unknown += r == "unknown"
        if r != "sat":
            continue
        values = model_values(model, ob.variables)
        if ob.kind == "mutant-validity":
            rep = replay_validity(shape, values, m.name)
        elif ob.kind == "mutant-compiled":
            rep = replay_dispatch(shape, values, m.name)
        elif ob.kind == "mutant-determinacy":
            rep = replay_determinacy(shape, values, model, ob.pair, m.name)
        else:
            rep = replay_counterexample(shape, values, ob.invariant, mutant=m.name)
        if rep["confirmed"]:
            found.append((ob, rep))
    return found, unknown


def _refute_parser(m) -> tuple[list, int]:
    """A parser mutant against the contract's structural rules, on every shape it is tried on (solver.parse_proof):
    a request the contract rejects that the mutant answers (or the reverse) refutes it, replayed as a calculator."""
    from rollsplit.reference.mutants import calculate_with, parse_with
    from rollsplit.solver import parse_proof
    for shape in S.default_shapes():
        for c in parse_proof.check_shape(shape, lambda obj: parse_with(m.name, obj)):
            if c.ok:
                continue
            answer = calculate_with(m.name, c.request)
            got = answer["error"]["code"] if "error" in answer else None
            if got != c.expected:
                ob = types.SimpleNamespace(name=f"mutant__{m.name}__parse__{O.slug(shape.name())}", invariant="PARSE",
                                           shape=shape.name())
                broken = ["PARSE"]
                if "error" not in answer:   # the answer it gave, judged by the rules (a rule about validity breaks)
                    from rollsplit.spec.invariants import violated
                    from rollsplit.spec.model import result_from_wire
                    broken += [inv.id for inv in violated(parse_with(m.name, c.request), result_from_wire(answer))]
                return [(ob, {"request": c.request, "what": c.what, "answer": answer,
                              "contract": c.expected or "accepted", "confirmed": True, "broken": broken})], 0
    return [], 0


def _mutant_job(args) -> dict:
    name, timeout, out_dir = args
    from rollsplit.reference.mutants import MUTANTS
    m = MUTANTS[name]
    rec = {"mutant": name, "description": m.description, "symbolic": m.symbolic, "refuted": False,
           "refuted_by": [], "shape": "", "file": "", "counterexample": "", "seconds": 0.0, "how": ""}
    t0 = time.perf_counter()
    unknown, found = 0, []
    if m.parse is not None:
        found, unknown = _refute_parser(m)
        if found:
            ob, rep = found[0]
            rec.update(refuted=True, refuted_by=rep["broken"], shape=ob.shape, request=rep["request"],
                       how=f"parse check: {rep['what']}: the contract says {rep['contract']}, the mutant answers")
            if out_dir is not None:
                d = out_dir / "mutants"
                with _writing(d):
                    d.mkdir(exist_ok=True)
                    (d / f"{ob.name}.json").write_text(json.dumps({"mutant": name, **rep}, indent=1))
                rec["counterexample"] = f"mutants/{ob.name}.json"
            rec["seconds"] = round(time.perf_counter() - t0, 3)
            return rec
    if not m.symbolic:
        rec.update(_concrete_mutant(m, out_dir))
        rec["seconds"] = round(time.perf_counter() - t0, 3)
        return rec
    # a quick pass with a short budget per check, then (only if nothing was refuted) the full timeout;
    # an unknown never refutes
    also: list[str] = []   # rules broken on later shapes, when the first refutation is by validity alone
    for budget in sorted({min(MUTANT_QUICK_S, timeout), timeout}):
        shapes = mutant_shapes()
        for k, shape in enumerate(shapes):
            found, u = _refute_on(m, shape, budget)
            unknown += u
            if found:
                if all(o.kind == "mutant-validity" for o, _ in found):
                    # a mistake in the split shows first as a rejected request; which rule its answers break, on the
                    # shapes where it answers, is what the rule x mutant table needs (quick pass only)
                    for later in shapes[k + 1:]:
                        more, _ = _refute_on(m, later, min(MUTANT_QUICK_S, budget))
                        also = [o.invariant for o, _ in more if o.kind != "mutant-validity"]
                        if also:
                            break
                break
        if found:
            break
    if found:
        ob, rep = found[0]
        rec.update(refuted=True, refuted_by=[o.invariant for o, _ in found] + [r for r in also if r not in
                                                                            {o.invariant for o, _ in found}],
                   shape=ob.shape, how="z3: sat, model replayed on the concrete mutant")
        if out_dir is not None:
            d = out_dir / "mutants"
            text = smt2(ob, "counterexample request (replayed on the concrete mutant):\n"
                        + json.dumps(rep["request"])).encode()
            with _writing(d):
                d.mkdir(exist_ok=True)
                (d / f"{ob.name}.smt2").write_bytes(text)
                (d / f"{ob.name}.json").write_text(json.dumps({"mutant": name, "invariant": ob.invariant,
                                                               "shape": ob.shape, **rep}, indent=1))
            rec.update(file=f"mutants/{ob.name}.smt2", sha256=hashlib.sha256(text).hexdigest(),
                       counterexample=f"mutants/{ob.name}.json")
        rec["request"] = rep["request"]
    if not rec["refuted"] and unknown:
        rec["how"] = f"survived; {unknown} checks were unknown (timeout), which never counts as refuted"
    rec["seconds"] = round(time.perf_counter() - t0, 3)
    return rec


def unbroken_rules(mutants: list[dict]) -> list[str]:
    """The rules (invariants, and the claims VALIDITY, PARSE, COMPILED-EQUALS-ALGORITHM, DETERMINACY) that no
    refuted mutant of the run breaks: a rule no seeded mistake can break has not shown it can fail."""
    from rollsplit.spec.invariants import INVARIANTS
    broken = {b for m in mutants if m["refuted"] for b in m["refuted_by"]}
    rules = [inv.id for inv in INVARIANTS] + ["VALIDITY", "PARSE", "COMPILED-EQUALS-ALGORITHM", "DETERMINACY"]
    return [r for r in rules if r not in broken]


def _concrete_mutant(m, out_dir: Path | None) -> dict:
    """A mutant that does not run on z3 terms (floats) is refuted by its recorded witness request, replayed
    on the concrete mutant and judged by the invariants."""
    from rollsplit.reference.mutants import compute_with, parse_with
    from rollsplit.spec.invariants import violated
    from rollsplit.reference import calculate
    if m.witness is None:
        return {"how": "concrete-only mutant without a recorded witness: not refuted"}
    req = parse_with(m.name, m.witness)   # a parser mutant reads the witness its own way
    res = compute_with(m.name, req)
    broken = [inv.id for inv in violated(req, res)]
    out = {"refuted": bool(broken), "refuted_by": broken, "shape": "(concrete witness)", "request": m.witness,
           "how": "concrete only: its recorded witness request replayed on the concrete mutant"}
    if out_dir is not None and broken:
        d = out_dir / "mutants"
        with _writing(d):
            d.mkdir(exist_ok=True)
            (d / f"mutant__{m.name}.json").write_text(json.dumps(
                {"mutant": m.name, "invariant": broken[0], "request": m.witness, "answer": res.to_wire(),
                 "reference_answer": calculate(m.witness), "broken": broken, "confirmed": True}, indent=1))
        out["counterexample"] = f"mutants/mutant__{m.name}.json"
    return out


def run_mutants(jobs: int = 2, timeout: float = 20.0, out_dir: Path | None = None, progress="stderr",
                names: list[str] | None = None) -> list[dict]:
    """Try every mutant on `mutant_shapes()` until one obligation is sat and its model replays concretely."""
    progress = sys.stderr if progress == "stderr" else progress
    from rollsplit.reference.mutants import MUTANTS
    names = list(MUTANTS) if names is None else names
    if out_dir is not None:
        prepare_bundle(out_dir, subdirs=("mutants",), keep_results=True)   # prove gives a fresh staging folder
    out: list[dict] = []
    t0 = time.perf_counter()
    line = Progress(progress)
    with pool(min(jobs, len(names))) as pool_:
        for rec in pool_.imap_unordered(_call_mutant, [(n, timeout, out_dir) for n in names]):
            out.append(rec)
            line.update(f"[mutants] {eta(len(out), len(names), time.perf_counter() - t0)}; "
                        f"{sum(not r['refuted'] for r in out)} survived")
    line.close()
    order = {n: i for i, n in enumerate(names)}
    return sorted(out, key=lambda r: order[r["mutant"]])


def _call_mutant(args) -> dict:
    try:
        return _mutant_job(args)
    except BundleWriteError:
        raise
    except Exception as e:  # noqa: BLE001 - a crash is a survival with its reason, never a refutation
        return {"mutant": args[0], "refuted": False, "refuted_by": [], "shape": "", "file": "",
                "counterexample": "", "seconds": 0.0, "how": f"error: {type(e).__name__}: {e}"}
