"""Behaviour regions of the reference algorithm, found and covered by z3.

For a request shape (`solver.z3_backend.Shape`: everything the algorithm branches on in Python),
`reference.algorithm.allocate` runs on `Z3Arith`, which records every branch condition on money
(each min, max, ite, division guard) in `A.conditions`. Those conditions are the atoms. A region is
one feasible truth assignment to the atoms under the validity precondition (money in range, no value
check violated): inside it the algorithm is one linear-with-rounding formula. We enumerate them all
(all-SAT with blocking clauses), pick one witness per region with small round numbers, pick a
boundary witness for each atom at equality (pre-tax exactly equal to the direct total, and so on),
and prove that the regions cover every valid request of the shape: the precondition together with
the negation of the disjunction of the regions is unsat. Only unsat counts as proved.

Old rule (Notice 2009-68): the largest-remainder split computes T·aᵢ div D with T and D symbolic, and
z3 runs out of its resource limit on the last all-SAT check (the one that would show no region is
left, which is the cover proof itself). When the enumeration ends in unknown, `complete_cover`
finishes the job by abstraction, with the linearised lemmas of `solver.obligations`:

  * Every condition is taken as the reference wrote it (the atoms are z3-simplified for their keys;
    simplification is an equivalence, so a region's condition is the same set either way), and every
    nonlinear term (a product of two non-numerals, a division by a non-numeral) of
        valid ∧ facts ∧ ¬(R₁ ∨ … ∨ Rₘ)
    is replaced by a fresh integer (`obligations.purify`, one integer per distinct term, so a term
    shared by the precondition and a region condition stays shared).
  * facts are instances, at the terms of the reference's own call, of lemmas proved on unbounded
    integers (`lemma_obligations`; each is re-proved here, unsat, before its instance is used):
    PRORATA-BOUNDS at basis_recovered, and for each largest_remainder call over n rows LR-ROW per row,
    LRn-SUM, LRn-K, MUL-STEP per share and LRn-CONTRACT. Being valid, they hold at every request.
  * Soundness. Call the abstract formula G(x, y) (x the request's money, y the fresh integers) and the
    terms t(x), with G(x, t(x)) the formula above (`purify` checks this syntactically). For any valid
    request x outside every region, (x, t(x)) would satisfy G. So if G is unsat, no such x exists:
    every valid request of the shape satisfies the disjunction of the listed region conditions. The
    abstraction over-approximates the valid requests (y ranges over all integers, not only t(x));
    covering the larger set covers the real one. Only unsat counts.
  * When G is sat, its request values are checked concretely: a valid request in no region is a real
    region (added, with a witness); otherwise the truth values of the atoms in the abstract model name
    a combination that is looked up on the real (nonlinear) formula: sat gives a new region, unsat
    excludes the combination (a proof that no valid request has it), unknown stops with "not proved".
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import z3

from rollsplit.reference import algorithm
from rollsplit.reference.algorithm import allocate
from rollsplit.solver.z3_backend import Shape, SymbolicRequest, Z3Arith, model_values, symbolic_request
from rollsplit.spec import law
from rollsplit.spec.arith import total

# Witness tiers, tried in order: round numbers first (multiples of $100, at most $1,000,000), then any
# cent up to $100,000, then anything the contract allows. Regions that need odd cents (ties, remainders)
# fall through to the later tiers.
TIERS: tuple[tuple[int, int | None], ...] = ((10_000, 100_000_000), (100, 1_000_000_000), (1, 10_000_000), (1, None))
CHECK_TIMEOUT_MS = 60_000
# z3's resource limit per check: unlike a timeout it does not depend on the machine's speed, so the export
# finds the same regions and witnesses on every machine (a check that runs out says unknown, never proved).
CHECK_RLIMIT = 2_000_000


@dataclass
class Region:
    key: str                          # stable: hash of the region's literals
    literals: list[z3.BoolRef]
    witness: dict[str, int]           # variable name -> cents


@dataclass
class Boundary:
    atom_key: str                     # stable: hash of the atom set to equality
    region_key: str                   # the region the witness falls in
    witness: dict[str, int]


@dataclass
class ShapeRegions:
    shape: Shape
    atoms: list[z3.BoolRef]
    regions: list[Region] = field(default_factory=list)
    boundaries: list[Boundary] = field(default_factory=list)
    coverage: str = "not checked"     # "proved" only on unsat; otherwise what z3 said
    cover_proof: str = ""             # how coverage was proved: "direct", or the abstraction and its lemmas
    fixed_atoms: int = 0              # atoms true (or false) in every valid request of the shape
    valid: z3.BoolRef | None = None   # the precondition the regions partition
    symbolic: SymbolicRequest | None = None


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _atoms(A: Z3Arith) -> list[z3.BoolRef]:
    seen: dict[str, z3.BoolRef] = {}
    for c in A.conditions:
        c = z3.simplify(c)
        if z3.is_true(c) or z3.is_false(c):
            continue
        seen.setdefault(c.sexpr(), c)
    return list(seen.values())


def precondition(sr: SymbolicRequest, out) -> z3.BoolRef:
    """A request of the shape is valid: money in range and no value check violated."""
    return z3.And(*sr.ranges, *[z3.Not(c.violated) for c in out.checks])


def _solver(timeout_ms: int = CHECK_TIMEOUT_MS) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.set("rlimit", CHECK_RLIMIT)
    s.set("random_seed", 0)
    return s


def witness(valid: z3.BoolRef, where: z3.BoolRef, sr: SymbolicRequest,
            timeout_ms: int = CHECK_TIMEOUT_MS) -> tuple[dict[str, int] | None, str]:
    """Small round values satisfying `valid` and `where`, trying the tiers in order; (None, why) if none."""
    last = "unsat"
    for step, bound in TIERS:
        s = _solver(timeout_ms)
        s.add(valid, where)
        for v in sr.variables.values():
            if step > 1:
                s.add(v % step == 0)
            if bound is not None:
                s.add(v <= bound)
        r = s.check()
        if r == z3.sat:
            return model_values(s.model(), sr.variables), "sat"
        last = str(r)
    return None, last


def _comparison_sides(atom: z3.BoolRef) -> tuple[z3.ArithRef, z3.ArithRef] | None:
    if z3.is_not(atom):
        atom = atom.arg(0)
    if atom.num_args() == 2 and (z3.is_le(atom) or z3.is_lt(atom) or z3.is_ge(atom) or z3.is_gt(atom)):
        return atom.arg(0), atom.arg(1)
    return None


def explore(shape: Shape, boundaries: bool = True, timeout_ms: int = CHECK_TIMEOUT_MS,
            complete: bool = True) -> ShapeRegions:
    """Every region of `shape` with a witness, boundary witnesses, and the coverage proof.

    Each z3 check gets `timeout_ms`; a check that times out leaves `coverage` saying so (never "proved").
    When the direct enumeration ends in unknown, `complete_cover` (abstraction with proved lemmas) runs
    last, unless `complete` is False (`summary_json` runs it itself, after everything else).
    """
    sr = symbolic_request(shape)
    A = Z3Arith()
    out = allocate(A, sr.request)
    valid = precondition(sr, out)
    atoms = _atoms(A)
    found = ShapeRegions(shape=shape, atoms=[], valid=valid, symbolic=sr)

    # Atoms decided by validity alone split nothing: keep the live ones.
    s = _solver(timeout_ms)
    s.add(valid)
    r = s.check()
    if r != z3.sat:
        found.coverage = ("no valid request of this shape" if r == z3.unsat
                          else f"unknown whether any request of this shape is valid ({s.reason_unknown()})")
        return found
    for a in atoms:
        if s.check(a) == z3.unsat or s.check(z3.Not(a)) == z3.unsat:
            found.fixed_atoms += 1
        else:   # sat both ways, or z3 could not tell: keep it (a needless split costs a vector, not soundness)
            found.atoms.append(a)
    live = found.atoms

    # All-SAT over the live atoms: each model gives a region; block it and ask again.
    while True:
        r = s.check()
        if r != z3.sat:
            if r == z3.unknown:
                found.coverage = f"unknown while enumerating ({s.reason_unknown()})"
            break
        m = s.model()
        lits = [a if z3.is_true(m.eval(a, model_completion=True)) else z3.Not(a) for a in live]
        region = z3.And(*lits) if lits else z3.BoolVal(True)
        w, _ = witness(valid, region, sr, timeout_ms)
        found.regions.append(Region(key=_region_key(lits), literals=lits,
                                    witness=w if w is not None else model_values(m, sr.variables)))
        s.add(z3.Not(region))

    if not found.coverage.startswith("unknown"):
        found.coverage = prove_cover(valid, found.regions, timeout_ms)
        found.cover_proof = "direct"

    if boundaries:
        for a in live:
            sides = _comparison_sides(a)
            if sides is None:
                continue
            w, _ = witness(valid, sides[0] == sides[1], sr, timeout_ms)
            if w is None:
                continue
            found.boundaries.append(Boundary(atom_key=_key(a.sexpr()), region_key=region_of(found, sr, w),
                                             witness=w))
    if complete:
        complete_cover(found, timeout_ms)
    return found


def prove_cover(valid: z3.BoolRef, regions: list[Region], timeout_ms: int = CHECK_TIMEOUT_MS) -> str:
    """"proved" iff no valid request lies outside every region (valid and not any region is unsat)."""
    p = _solver(timeout_ms)
    p.add(valid, z3.Not(z3.Or(*[z3.And(*r.literals) if r.literals else z3.BoolVal(True) for r in regions])))
    r = p.check()
    return "proved" if r == z3.unsat else f"not proved: z3 says {r}"


# ---- completing the cover by abstraction (old rule) -------------------------------------------------
ABSTRACT_ROUNDS = 64   # abstract models looked at before giving up (each adds a region or excludes a combination)


def _region_key(lits: list[z3.BoolRef]) -> str:
    return _key("|".join(sorted(x.sexpr() for x in lits)))


@contextlib.contextmanager
def _recording_largest_remainder(calls: list):
    """Record (T, amounts) of every largest_remainder call; the split itself is the reference's own."""
    from rollsplit.reference.mutants import patched
    saved = algorithm.largest_remainder

    def recorded(A, T, amounts):
        calls.append((T, list(amounts)))
        return saved(A, T, amounts)
    with patched(largest_remainder=recorded):
        yield


def abstraction_facts(sr: SymbolicRequest, calls: list) -> tuple[list[z3.BoolRef], set[str]]:
    """Instances, at the reference's own terms, of lemmas proved on unbounded integers (`solver.obligations`),
    and the ids of those lemmas. Each instance is built by the same code as its lemma, with the reference's
    terms for the lemma's variables, so it is valid: it holds at every request."""
    from rollsplit.solver import obligations as ob
    B = Z3Arith(record=False)
    req = sr.request
    D = total(B, (d.amount for d in req.disbursements))
    p, b, bal = Z3Arith._v(req.pre1987_basis), req.basis, req.balance
    N = algorithm.basis_recovered(B, D, req.balance, req.basis, req.pre1987_basis)
    facts = [ob.instance(ob._prorata_bounds, D, bal, b, p, N)]                                      # PRORATA-BOUNDS
    used = {"PRORATA-BOUNDS"}
    for T, a in calls:
        n = len(a)
        shares = algorithm.largest_remainder(B, T, a)
        facts += ob.lr_facts(B, T, a, shares)                              # LR-ROW, LRn-SUM, LRn-K, MUL-STEP
        facts.append(z3.Implies(ob.lr_pre(B, T, a),                                                # LRn-CONTRACT
                                z3.And(ob.lr_linear(B, T, a, shares), ob.lr_char(B, T, a, shares))))
        used |= {x.format(n=n) for x in ob.LR_FACT_LEMMAS} | {f"LR{n}-CONTRACT"}
    return facts, used


def _prove_lemmas(used: set[str], rows: set[int], timeout_ms: int) -> tuple[list[str], str]:
    """Prove (unsat) each lemma in `used` and every lemma it rests on; (ids proved, '' or why not)."""
    from rollsplit.solver.obligations import _lemma_obligations
    by_id = {o.invariant: o for o in _lemma_obligations(tuple(sorted(rows)))}
    todo, done = sorted(used), []
    while todo:
        lid = todo.pop(0)
        if lid in done:
            continue
        o = by_id.get(lid)
        if o is None:
            return done, f"lemma {lid} is not an obligation"
        s = _solver(timeout_ms)
        s.add(*o.assertions)
        r = s.check()
        if r != z3.unsat:
            return done, f"lemma {lid}: z3 says {r}"
        done.append(lid)
        todo += [u for u in o.uses if u not in done]
    return done, ""


def complete_cover(found: ShapeRegions, timeout_ms: int = CHECK_TIMEOUT_MS) -> None:
    """Finish an enumeration that ended in unknown, by abstraction (see the module docstring).

    Sets `coverage` to "proved" only when the abstract formula is unsat; new regions found on the way
    are appended (witness: small round values when z3 finds them, else the concrete request the
    abstraction gave, checked valid). Otherwise `coverage` keeps the direct result and says what the
    abstraction gave."""
    if not found.coverage.startswith("unknown") or found.symbolic is None or found.valid is None:
        return
    from rollsplit.solver.obligations import purify   # here: importing it must not touch the direct exploration
    sr, first = found.symbolic, found.coverage
    A = Z3Arith()
    calls: list = []
    with _recording_largest_remainder(calls):
        out = allocate(A, sr.request)
    written: dict[str, z3.BoolRef] = {}
    for c in A.conditions:
        written.setdefault(z3.simplify(c).sexpr(), c)
    atoms = [written.get(a.sexpr(), a) for a in found.atoms]   # as the reference wrote them

    def condition(lits: list[z3.BoolRef]) -> z3.BoolRef:
        return z3.And(*[x if lit.eq(a) else z3.Not(x) for lit, a, x in zip(lits, found.atoms, atoms)])

    facts, used = abstraction_facts(sr, calls)
    lemmas, why = _prove_lemmas(used, {len(a) for _, a in calls}, timeout_ms)
    if why:
        found.coverage = f"{first}; abstracted cover not tried: {why}"
        return
    valid = precondition(sr, out)
    flags = [z3.Bool(f"__region_atom{i}") for i in range(len(atoms))]
    excluded: list[z3.BoolRef] = []
    for _ in range(ABSTRACT_ROUNDS):
        covered = z3.Or(*[condition(r.literals) for r in found.regions]) if found.regions else z3.BoolVal(False)
        f = z3.And(valid, *facts, z3.Not(covered), *[z3.Not(e) for e in excluded],
                   *[b == x for b, x in zip(flags, atoms)])
        lin, _pairs = purify(f)
        s = _solver(timeout_ms)
        s.add(lin)
        r = s.check()
        if r == z3.unsat:
            found.coverage = "proved"
            found.cover_proof = ("abstracted: nonlinear terms as free integers, with instances of the lemmas "
                                 + ", ".join(sorted(lemmas)) + " (each proved here)"
                                 + (f"; {len(excluded)} combinations excluded on the real formula" if excluded else ""))
            break
        if r != z3.sat:
            found.coverage = f"{first}; abstracted cover: z3 says {r} ({s.reason_unknown()})"
            return
        m = s.model()
        x = model_values(m, sr.variables)
        if _holds(valid, sr, x) and not region_of(found, sr, x):
            lits = [a if _holds(a, sr, x) else z3.Not(a) for a in found.atoms]   # a real uncovered request
        else:
            lits = [a if z3.is_true(m.eval(b, model_completion=True)) else z3.Not(a)
                    for a, b in zip(found.atoms, flags)]
            x = None
        w, said = witness(found.valid, z3.And(*lits) if lits else z3.BoolVal(True), sr, timeout_ms)
        if w is None and x is None:
            if said != "unsat":
                found.coverage = f"{first}; abstracted cover: a combination of the abstraction is {said} on the " \
                                 "real formula"
                return
            excluded.append(condition(lits))   # no valid request has it: proved (unsat) on the real formula
            continue
        found.regions.append(Region(key=_region_key(lits), literals=lits, witness=w if w is not None else x))
    else:
        found.coverage = f"{first}; abstracted cover: still open after {ABSTRACT_ROUNDS} rounds"
        return
    for b in found.boundaries:   # a boundary witness may lie in a region found only now
        if not b.region_key:
            b.region_key = region_of(found, sr, b.witness)


def _holds(f: z3.BoolRef, sr: SymbolicRequest, values: dict[str, int]) -> bool:
    sub = [(sr.variables[k], z3.IntVal(v)) for k, v in values.items()]
    return z3.is_true(z3.simplify(z3.substitute(f, *sub)))


def region_of(found: ShapeRegions, sr: SymbolicRequest, values: dict[str, int]) -> str:
    """The key of the region that concrete `values` fall in ('' if none: the coverage proof says never)."""
    sub = [(sr.variables[k], z3.IntVal(v)) for k, v in values.items()]
    for r in found.regions:
        if all(z3.is_true(z3.simplify(z3.substitute(x, *sub))) for x in r.literals):
            return r.key
    return ""


def wire_request(shape: Shape, values: dict[str, int]) -> dict:
    """The wire-contract JSON request of `shape` with money `values` (names as in `symbolic_request`)."""
    req: dict = {"date": shape.date().isoformat(), "plan": "401a", "contract": shape.contract,
                 "balance": values["balance"], "basis": values["basis"]}
    if shape.pre1987:
        req["pre1987_basis"] = values["pre1987_basis"]
    if shape.qualified_roth:
        req["qualified_roth"] = True
    if shape.rmd:
        req["rmd"] = values["rmd"]
    if shape.hardship:
        req["hardship"] = True
    if values.get("other_eligible_this_year"):
        req["other_eligible_this_year"] = values["other_eligible_this_year"]
    if law.default_regime(shape.contract, shape.date()) != shape.regime:
        req["regime"] = shape.regime
    if shape.recipient != "participant":
        req["recipient"] = shape.recipient
    facts = shape.facts()
    if shape.box11:
        facts["first_roth_contribution_year"] = values["participant.first_roth_contribution_year"]
    if facts:
        req["participant"] = facts
    rows = []
    for i, (to, accepts) in enumerate(shape.directs):
        row = {"id": f"d{i}", "method": "direct", "to": to, "amount": values[f"d{i}.amount"]}
        if not accepts:
            row["accepts_aftertax"] = False
        rows.append(row)
    if shape.paid:
        row = {"id": "paid", "method": "paid", "amount": values["paid.amount"]}
        if shape.loan_offset:
            row["loan_offset"] = values["paid.loan_offset"]
            if shape.loan_offset == "qualified":
                row["qualified_plan_loan_offset"] = True
        rows.insert(len(rows) if shape.paid_at is None else shape.paid_at, row)
    req["disbursements"] = rows
    if shape.sixty:
        req["rollovers_60_day"] = [{"id": f"s{j}", "to": to, "amount": values[f"s{j}.amount"]}
                                   for j, to in enumerate(shape.sixty)]
    e: dict = {}
    if shape.direct_election == "order":
        e["direct_pretax_order"] = [f"d{i}" for i in shape.direct_order]
    elif shape.direct_election == "amounts":
        e["direct_pretax_amounts"] = {f"d{i}": values[f"elect.d{i}"] for i in range(len(shape.directs))}
    if shape.sixty_election == "order":
        e["sixty_day_pretax_order"] = [f"s{j}" for j in shape.sixty_order]
    elif shape.sixty_election == "amounts":
        e["sixty_day_pretax_amounts"] = {f"s{j}": values[f"elect.s{j}"] for j in range(len(shape.sixty))}
    if e:
        req["elections"] = e
    return req


def error_witnesses(shape: Shape, timeout_ms: int = CHECK_TIMEOUT_MS) -> dict[str, dict[str, int]]:
    """For each value check that can fire first on this shape (in `VALUE_CHECK_ORDER`), a request of the
    shape it rejects with that code: money in range, every earlier check passed, this one violated."""
    from rollsplit.spec.errors import VALUE_CHECK_ORDER
    sr = symbolic_request(shape)
    out = allocate(Z3Arith(record=False), sr.request)
    found: dict[str, dict[str, int]] = {}
    passed: list[z3.BoolRef] = []
    for code in VALUE_CHECK_ORDER:
        fired = [c.violated for c in out.checks if c.code == code]
        if fired:
            w, _ = witness(z3.And(*sr.ranges, *passed), z3.Or(*fired), sr, timeout_ms)
            if w is not None:
                found[code] = w
            passed += [z3.Not(f) for f in fired]
    return found


# ---- isolated exploration --------------------------------------------------------------------
# z3's choices depend on everything the process created before (term ids), so the same shape explored
# after other work can get other, equally valid, witnesses. Each shape is explored in a fresh process
# that does nothing else: the export is then the same byte for byte however it is started.

def shape_to_json(shape: Shape) -> dict:
    return dataclasses.asdict(shape)


def shape_from_json(data: dict) -> Shape:
    data = dict(data)
    data["directs"] = tuple((to, bool(acc)) for to, acc in data["directs"])
    for k in ("sixty", "direct_order", "sixty_order"):
        data[k] = tuple(data[k])
    return Shape(**data)


def summary_json(shape: Shape) -> dict:
    # The abstract cover proof runs last: whatever it builds cannot change the witnesses found before it.
    found = explore(shape, complete=False)
    errors = error_witnesses(shape)
    complete_cover(found)
    return {"shape": shape.name(), "atoms": len(found.atoms), "coverage": found.coverage,
            "regions": [{"key": r.key, "witness": r.witness} for r in found.regions],
            "boundaries": [{"atom_key": b.atom_key, "region_key": b.region_key, "witness": b.witness}
                           for b in found.boundaries],
            "errors": errors}


def explore_isolated(shapes: list[Shape], jobs: int = 2, progress=None) -> list[dict]:
    """`summary_json` of each shape, each computed in its own fresh Python process (`jobs` at a time)."""
    import os
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    def one(shape: Shape) -> dict:
        # a fixed hash seed too: set iteration order reaches z3 through the order terms are built in
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run([sys.executable, "-m", "rollsplit.solver.regions"], input=json.dumps(shape_to_json(shape)),
                              capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"exploring {shape.name()} failed:\n{proc.stderr[-2000:]}")
        if progress is not None:
            progress(shape)
        return json.loads(proc.stdout)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, shapes))


if __name__ == "__main__":
    import sys
    print(json.dumps(summary_json(shape_from_json(json.loads(sys.stdin.read())))))
