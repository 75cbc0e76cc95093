"""What a proof rests on: z3's unsat core of an obligation, its assertions named by their role.

The obligation is built exactly as `rollsplit prove` builds it (`solver.obligations.shape_obligations`). Each of
its assertions is matched, term for term (z3's `eq`), against the same piece built again here, which gives it a
name: the precondition is split into its conjuncts (each amount's range, each value check of the reference by its
error code, the old rule's split by its lemma), and for a determinacy obligation each invariant appears twice
(for the first and for the second answer), then the lemma instances and "the two answers differ". An assertion
that does not match (the obligations were built differently from what this module expects) keeps a plain name,
"assertion K". The parts are asserted with `assert_and_track`, so the formula solved is the obligation's own
conjunction; `unsat_core()` names the parts the proof used. z3's core is one such set, not necessarily the
smallest: a part left out was not needed for that proof, a part in it may still be replaceable.

Written to the bundle as cores.json (REPORT.html shows it): every determinacy obligation, and for each invariant a
sample of its obligations (the shapes named in `sample`).
"""

from __future__ import annotations

import time

import z3

from rollsplit.solver import obligations as O
from rollsplit.solver.z3_backend import Shape, fresh_result
from rollsplit.spec import invariants as I
from rollsplit.spec import law

CORE_TIMEOUT_S = 20.0
PRECONDITION = "the request is valid"


def _precondition_parts(r: O.Run) -> list[tuple[str, z3.BoolRef]]:
    """The conjuncts of `r.valid`, named: each money field's range, each value check, the old rule's split."""
    parts: list[tuple[str, z3.BoolRef]] = []
    for rng in r.sr.ranges:
        var = rng.arg(0).arg(0) if z3.is_and(rng) and rng.num_args() and rng.arg(0).num_args() else None
        parts.append((f"{PRECONDITION}: {var} in range" if var is not None else f"{PRECONDITION}: a range", rng))
    seen: dict[str, int] = {}
    for c in r.outcome.checks:
        seen[c.code] = seen.get(c.code, 0) + 1
        n = f" ({seen[c.code]})" if seen[c.code] > 1 else ""
        parts.append((f"{PRECONDITION}: not rejected as {c.code}{n}", z3.Not(c.violated)))
    for T, a, s in r.lr_calls:
        parts.append((f"{PRECONDITION}: the old rule's split adds up (lemma LR{len(a)}-CONTRACT)",
                      O.lr_linear(r.A, T, a, s)))
    return parts


def _split_precondition(r: O.Run, first: z3.BoolRef) -> list[tuple[str, z3.BoolRef]]:
    parts = _precondition_parts(r)
    if first.eq(r.valid) and z3.And(*[f for _, f in parts]).eq(r.valid):
        return parts
    return [(PRECONDITION if first.eq(r.valid) else "assertion 0", first)]


def determinacy_parts(r: O.Run, ob: O.Obligation) -> list[tuple[str, z3.BoolRef]]:
    req, A = r.sr.request, r.A
    (r1, _), (r2, _) = fresh_result(req, "R1"), fresh_result(req, "R2")
    expected: list[tuple[str, z3.BoolRef]] = []
    for inv in (i for i in I.INVARIANTS if i.applies(req)):
        expected += [(f"{inv.id} holds for answer 1", inv.holds(A, req, r1)),
                     (f"{inv.id} holds for answer 2", inv.holds(A, req, r2))]
    expected.append(("lemma RHU-UNIQUE: one rounded pro rata share", O._prorata_unique_instance(A, req, r1, r2)))
    if r.shape.regime == law.OLD:
        n = len(req.disbursements)
        expected.append((f"lemma LR{n}-UNIQUE: one largest-remainder split", O._lr_unique_instance(A, req, r1, r2)))
    expected.append(("the two answers differ in some field", None))
    return _match(r, ob, expected)


def invariant_parts(r: O.Run, ob: O.Obligation) -> list[tuple[str, z3.BoolRef]]:
    req, A = r.sr.request, r.A
    inv = I.BY_ID.get(ob.invariant)
    expected: list[tuple[str, z3.BoolRef]] = []
    if ob.invariant == "OLD-RULE-PRORATA":
        expected += [(f"the old rule's split obeys OLD-RULE-PRORATA (lemma LR{len(a)}-CONTRACT)",
                      O.lr_char(A, T, a, s)) for T, a, s in r.lr_calls]
    expected.append((f"{ob.invariant} is broken (the claim, negated)",
                     z3.Not(inv.holds(A, req, r.written)) if inv is not None else None))
    return _match(r, ob, expected)


def _match(r: O.Run, ob: O.Obligation, expected: list[tuple[str, z3.BoolRef | None]]) -> list[tuple[str, z3.BoolRef]]:
    """Name the obligation's assertions: the first is the precondition, the rest must be `expected` in order
    (a None formula matches whatever stands there, for the last assertion); otherwise plain names."""
    rest = ob.assertions[1:]
    named = len(rest) == len(expected) and all(f is None or f.eq(a) for (_, f), a in zip(expected, rest))
    out = _split_precondition(r, ob.assertions[0])
    if named:
        return out + [(label, a) for (label, _), a in zip(expected, rest)]
    return out + [(f"assertion {k}", a) for k, a in enumerate(rest, 1)]


def core(parts: list[tuple[str, z3.BoolRef]], timeout_s: float = CORE_TIMEOUT_S) -> dict:
    """Solve the conjunction of `parts`, each tracked by its name; the names in z3's unsat core."""
    s = z3.Solver()
    s.set("timeout", int(timeout_s * 1000))
    tracked = {}
    for k, (label, f) in enumerate(parts):
        t = z3.Bool(f"part{k}")
        tracked[str(t)] = label
        s.assert_and_track(f, t)
    t0 = time.perf_counter()
    answer = s.check()
    out = {"answer": str(answer), "parts": len(parts), "seconds": round(time.perf_counter() - t0, 4)}
    if answer == z3.unsat:
        used = {str(x) for x in s.unsat_core()}
        out["core"] = [label for k, (label, _) in enumerate(parts) if f"part{k}" in used]
        out["left_out"] = [label for k, (label, _) in enumerate(parts) if f"part{k}" not in used]
    return out


def shape_cores(args) -> dict:
    """For one shape: the core of its determinacy obligation and of the invariant obligations named in `wanted`."""
    shape, wanted, timeout_s = args
    out: dict = {"shape": shape.name(), "determinacy": None, "invariants": {}}
    try:
        obs = O.shape_obligations(shape)
        r = O.run(shape)
        for ob in obs:
            if ob.kind == "determinacy":
                out["determinacy"] = core(determinacy_parts(r, ob), timeout_s)
            elif ob.kind == "invariant" and ob.invariant in wanted:
                out["invariants"][ob.invariant] = core(invariant_parts(r, ob), timeout_s)
    except Exception as e:  # noqa: BLE001 - a shape whose cores cannot be computed says why, the rest go on
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def compute(shapes: list[Shape], sample: dict[str, list[str]], jobs: int = 2, timeout_s: float = CORE_TIMEOUT_S,
            progress=None) -> dict:
    """cores.json's data: every shape's determinacy core and, for each invariant id in `sample`, the cores of its
    obligations on the shapes listed there. `progress(done, total)` is called as shapes finish."""
    from rollsplit.solver.prove import pool
    wanted: dict[str, set[str]] = {}
    for inv, names in sample.items():
        for n in names:
            wanted.setdefault(n, set()).add(inv)
    work = [(s, wanted.get(s.name(), set()), timeout_s) for s in shapes]
    found = []
    with pool(min(max(1, jobs), max(1, len(work)))) as p:
        for rec in p.imap_unordered(shape_cores, work):
            found.append(rec)
            if progress is not None:
                progress(len(found), len(work))
    found.sort(key=lambda rec: rec["shape"])
    data = {"about": "z3's unsat core of each determinacy obligation, and of a sample of the invariant obligations: "
                     "the named assertions each proof used (one core z3 found, not necessarily the smallest).",
            "z3": z3.get_version_string(), "determinacy": {}, "invariants": {}, "errors": {}}
    for rec in found:
        if rec.get("error"):
            data["errors"][rec["shape"]] = rec["error"]
        if rec["determinacy"] is not None:
            data["determinacy"][rec["shape"]] = rec["determinacy"]
        for inv, c in rec["invariants"].items():
            data["invariants"].setdefault(inv, {})[rec["shape"]] = c
    return data
