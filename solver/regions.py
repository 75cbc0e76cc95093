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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import z3

from reference.algorithm import allocate
from solver.z3_backend import Shape, SymbolicRequest, Z3Arith, symbolic_request
from spec import law

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


def _values(m: z3.ModelRef, sr: SymbolicRequest) -> dict[str, int]:
    return {name: m.eval(v, model_completion=True).as_long() for name, v in sr.variables.items()}


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
            return _values(s.model(), sr), "sat"
        last = str(r)
    return None, last


def _comparison_sides(atom: z3.BoolRef) -> tuple[z3.ArithRef, z3.ArithRef] | None:
    if z3.is_not(atom):
        atom = atom.arg(0)
    if atom.num_args() == 2 and (z3.is_le(atom) or z3.is_lt(atom) or z3.is_ge(atom) or z3.is_gt(atom)):
        return atom.arg(0), atom.arg(1)
    return None


def explore(shape: Shape, boundaries: bool = True, timeout_ms: int = CHECK_TIMEOUT_MS) -> ShapeRegions:
    """Every region of `shape` with a witness, boundary witnesses, and the coverage proof.

    Each z3 check gets `timeout_ms`; a check that times out leaves `coverage` saying so (never "proved").
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
    if s.check() != z3.sat:
        found.coverage = "no valid request of this shape"
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
        found.regions.append(Region(key=_key("|".join(sorted(x.sexpr() for x in lits))), literals=lits,
                                    witness=w if w is not None else _values(m, sr)))
        s.add(z3.Not(region))

    if not found.coverage.startswith("unknown"):
        found.coverage = prove_cover(valid, found.regions, timeout_ms)

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
    return found


def prove_cover(valid: z3.BoolRef, regions: list[Region], timeout_ms: int = CHECK_TIMEOUT_MS) -> str:
    """"proved" iff no valid request lies outside every region (valid and not any region is unsat)."""
    p = _solver(timeout_ms)
    p.add(valid, z3.Not(z3.Or(*[z3.And(*r.literals) if r.literals else z3.BoolVal(True) for r in regions])))
    r = p.check()
    return "proved" if r == z3.unsat else f"not proved: z3 says {r}"


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
    if law.default_regime(shape.contract, shape.date()) != shape.regime:
        req["regime"] = shape.regime
    rows = []
    for i, (to, accepts) in enumerate(shape.directs):
        row = {"id": f"d{i}", "method": "direct", "to": to, "amount": values[f"d{i}.amount"]}
        if not accepts:
            row["accepts_aftertax"] = False
        rows.append(row)
    if shape.paid:
        rows.append({"id": "paid", "method": "paid", "amount": values["paid.amount"]})
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
    from spec.errors import VALUE_CHECK_ORDER
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
