"""The reference algorithm compiled per request shape: the same code, traced once, run as straight-line Python.

`reference.algorithm.allocate` never branches in Python on a money value, only on the request's shape
(which rows exist, where they go, which elections name which rows). So for one shape it performs the
same sequence of `Arith` operations whatever the amounts are. This module runs `allocate` once per
shape on a *tracing* backend (`TraceArith`) whose money values are placeholders: each operation the
algorithm performs (`+ - *`, `le`, `min`, `ite`, `floordiv`, `round_half_up`, ...) is written down as
one line of Python with exactly `spec.arith.IntArith`'s meaning, and the result and value checks become
a function of the request's money. That function is compiled with `compile`/`exec` and cached by shape.

Why this cannot differ from the algorithm that is proved:
- the lines are produced by running `allocate` itself, the code z3 runs on (`solver.z3_backend`);
- each traced operation evaluates exactly as `IntArith` does (same expressions, unbounded ints);
- a placeholder refuses to be used as a Python truth value (`__bool__` raises), so if the algorithm
  ever branched on money the trace would fail and that shape would use the generic path for good;
- when any value check is violated the compiled function returns None and the caller runs the
  generic path, which raises the error with its message (errors never come from compiled code);
- solver/compiled_proof.py proves, for every shape of the proof bundle, that the compiled function the cache gives
  a second request of the key equals `allocate` on z3 terms for every money value (`rollsplit prove`,
  obligations `compiled__*`);
- tests/test_compiled.py compares the two paths on Hypothesis requests of every feature (any shape).

Only proved code answers: a compiled function answers only if the SHA-256 of its source is recorded in
reference/proved_sources.json, written by `rollsplit prove --record-proved` after the whole bundle is proved (the
compiled-path obligation of each shape proves that source equal to the algorithm, through the cache dispatch).
Any other shape (more rows than the bundle holds, a mix it lacks) is answered by the generic path: the same
algorithm run on ints, the code the proofs run on z3 terms for the bundle's shapes; for such a shape that is tested,
not proved. tests/test_compiled.py checks that the record is current.

Money of amounts elections is bound to rows by position (`money_of`), never by the order the election's keys were
written; the key records only which rows carry an elected amount.

Ids are not part of the cache key: the trace uses stand-in ids and the compiled function takes the
request's ids as an argument, so requests that differ only in ids and amounts share one function.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import rollsplit.reference.algorithm as alg
from rollsplit.spec.arith import INT
from rollsplit.spec.ages import Participant
from rollsplit.spec.model import Elections, Request

CACHE_SIZE = 1024


class _Branch(Exception):
    """The algorithm used a money value as a Python truth value: not traceable."""


class _Tape:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, expr: str) -> "_E":
        name = f"t{len(self.lines)}"
        self.lines.append(f"{name} = {expr}")
        return _E(name, self)


def _c(x: Any) -> str:
    """Source text of an operand: a traced value's name or a literal."""
    if isinstance(x, _E):
        return x.n
    if isinstance(x, (bool, int)):
        return repr(x)
    raise _Branch(f"cannot trace a {type(x).__name__}")


class _E:
    """A traced value (money or condition); arithmetic emits a line on the tape."""
    __slots__ = ("n", "tape")

    def __init__(self, n: str, tape: _Tape) -> None:
        self.n = n
        self.tape = tape

    def _op(self, op: str, a: Any, b: Any) -> "_E":
        return self.tape.emit(f"{_c(a)} {op} {_c(b)}")

    def __add__(self, o):
        return self if (type(o) is int and o == 0) else self._op("+", self, o)

    def __radd__(self, o):
        return self if (type(o) is int and o == 0) else self._op("+", o, self)

    def __sub__(self, o):
        return self if (type(o) is int and o == 0) else self._op("-", self, o)

    def __rsub__(self, o):
        return self._op("-", o, self)

    def __mul__(self, o):
        return self._op("*", self, o)

    def __rmul__(self, o):
        return self._op("*", o, self)

    def __neg__(self):
        return self.tape.emit(f"-{self.n}")

    def __bool__(self):
        raise _Branch("the algorithm branched on a money value")

    def _compare(self, o):  # comparisons of money go through A.le / A.lt / A.eq, never Python operators
        raise _Branch("the algorithm compared a money value with a Python operator")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _compare

    __hash__ = object.__hash__


def _any_traced(*xs: Any) -> _Tape | None:
    for x in xs:
        if isinstance(x, _E):
            return x.tape
    return None


class TraceArith:
    """`spec.arith.Arith` that records IntArith's expression for each operation on traced values."""

    true = True
    false = False

    # Operations on plain ints (nothing traced) are IntArith's own; traced ones emit IntArith's expression.
    def _cmp(self, op: str, a, b, concrete):
        tape = _any_traced(a, b)
        return concrete(a, b) if tape is None else tape.emit(f"{_c(a)} {op} {_c(b)}")

    def le(self, a, b):
        return self._cmp("<=", a, b, INT.le)

    def lt(self, a, b):
        return self._cmp("<", a, b, INT.lt)

    def eq(self, a, b):
        return self._cmp("==", a, b, INT.eq)

    @staticmethod
    def _junction(word: str, absorbing: bool, cs):
        """`and` (absorbing False) or `or` (absorbing True) of conditions, folding Python bools."""
        if any(c is absorbing for c in cs):
            return absorbing
        rest = [c for c in cs if c is not (not absorbing)]
        if not rest:
            return not absorbing
        return rest[0] if len(rest) == 1 else rest[0].tape.emit("(" + f" {word} ".join(_c(c) for c in rest) + ")")

    def and_(self, *cs):
        return self._junction("and", False, cs)

    def or_(self, *cs):
        return self._junction("or", True, cs)

    def not_(self, c):
        return (not c) if isinstance(c, bool) else c.tape.emit(f"not {c.n}")

    def implies(self, a, b):
        return self.or_(self.not_(a), b)

    def ite(self, c, a, b):
        if isinstance(c, bool):
            return a if c else b
        return c.tape.emit(f"{_c(a)} if {c.n} else {_c(b)}")

    def min(self, a, b):
        tape = _any_traced(a, b)
        if tape is None:
            return INT.min(a, b)
        return tape.emit(f"{_c(a)} if {_c(a)} <= {_c(b)} else {_c(b)}")

    def max(self, a, b):
        tape = _any_traced(a, b)
        if tape is None:
            return INT.max(a, b)
        return tape.emit(f"{_c(a)} if {_c(a)} >= {_c(b)} else {_c(b)}")

    def floordiv(self, a, b):
        tape = _any_traced(a, b)
        if tape is None:
            return INT.floordiv(a, b)
        if type(b) is int:
            return tape.emit(f"{_c(a)} // {b}") if b > 0 else 0
        return tape.emit(f"{_c(a)} // {_c(b)} if {_c(b)} > 0 else 0")

    def round_half_up(self, x, y, z):
        tape = _any_traced(x, y, z)
        if tape is None:
            return INT.round_half_up(x, y, z)
        if type(z) is int:
            return tape.emit(f"(2 * {_c(x)} * {_c(y)} + {z}) // {2 * z}") if z > 0 else 0
        return tape.emit(f"(2 * {_c(x)} * {_c(y)} + {_c(z)}) // (2 * {_c(z)}) if {_c(z)} > 0 else 0")


TRACE = TraceArith()


# ---- shapes ---------------------------------------------------------------------------------------
def _positions(ids, pos: dict[str, int]) -> tuple[int, ...] | None:
    return None if ids is None else tuple(pos[x] for x in ids)


def _rows_with(amounts, pos: dict[str, int]) -> tuple[int, ...] | None:
    """The positions of the rows an amounts election names, in row order."""
    return None if amounts is None else tuple(sorted(pos[x] for x in amounts))


def _elected(amounts: dict, rows) -> list:
    """The elected amounts of the rows that have one, in the rows' order (never the dict's)."""
    return [amounts[r.id] for r in rows if r.id in amounts]


def ids_of(req: Request) -> list[str]:
    """The request's row ids in the order the compiled function takes them: disbursements, then 60-day."""
    return [d.id for d in req.disbursements] + [x.id for x in req.rollovers_60_day]


def shape_key(req: Request) -> tuple | None:
    """Everything `allocate` may branch on, with ids replaced by positions; None if not compilable. (Not the
    plan or the date: `allocate` reads neither.)"""
    rows, sixty, e = req.disbursements, req.rollovers_60_day, req.elections
    ids = ids_of(req)
    pos = {x: i for i, x in enumerate(ids)}
    if len(pos) != len(ids):
        return None
    try:
        # an order election is a sequence (its order is the election); amounts are bound to rows by position
        # (`money_of`), so only which rows carry one is part of the key, never the order the keys were written in
        elections = (_positions(e.direct_pretax_order, pos), _rows_with(e.direct_pretax_amounts, pos),
                     _positions(e.sixty_day_pretax_order, pos), _rows_with(e.sixty_day_pretax_amounts, pos))
    except KeyError:
        return None
    return (req.contract, req.regime, req.qualified_roth, req.hardship,
            tuple((d.method, d.to, d.accepts_aftertax, has_offset(d), d.qualified_plan_loan_offset) for d in rows),
            tuple(x.to for x in sixty), elections, who(req))


def who(req: Request) -> tuple:
    """The part of the key contract 1.2 adds: the recipient, the box 7 code for the recipient's age or event, and
    whether box 11 is written (its year is an argument of the compiled function, like money)."""
    return (req.recipient, req.event_code, box11_year(req) is not None)


def box11_year(req: Request):
    """The year box 11 copies, or None: a designated Roth account's first year of contributions, when given."""
    return req.participant.first_roth_contribution_year if req.contract == "designated_roth" else None


def has_offset(d) -> bool:
    """Does the row carry a plan loan offset (a term, or a nonzero amount)? A literal 0 is no offset: the row's
    formulas then have no offset term (`Disbursement.distributed`)."""
    return not (type(d.loan_offset) is int and d.loan_offset == 0)


def money_of(req: Request) -> list:
    """The request's money in the order the compiled function takes it."""
    e = req.elections
    m = [req.balance, req.basis, req.pre1987_basis, req.rmd, req.other_eligible_this_year]
    m += [d.amount for d in req.disbursements]
    m += [d.loan_offset for d in req.disbursements if has_offset(d)]   # a traced offset only where one is given
    m += [x.amount for x in req.rollovers_60_day]
    if e.direct_pretax_amounts is not None:
        m += _elected(e.direct_pretax_amounts, req.disbursements)
    if e.sixty_day_pretax_amounts is not None:
        m += _elected(e.sixty_day_pretax_amounts, req.rollovers_60_day)
    year = box11_year(req)
    if year is not None:
        m.append(year)
    return m


_ID = "\x00rollsplit-id-{}\x00"   # stand-in ids of the trace (cannot collide with the stand-ins' text)


def _literal(obj: Any, id_index: dict[str, int]) -> str:
    if isinstance(obj, _E):
        return obj.n
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v, id_index)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(_literal(v, id_index) for v in obj) + "]"
    if isinstance(obj, str) and obj in id_index:
        return f"I[{id_index[obj]}]"
    if obj is None or isinstance(obj, (bool, int, str)):
        return repr(obj)
    raise _Branch(f"cannot write a {type(obj).__name__} into the result")


def compile_shape(req: Request) -> Callable[[list, list], dict | None]:
    """Trace `allocate` on a request of `req`'s shape and compile it: f(money, ids) -> wire Result, or None
    when a value check is violated. Raises `_Branch` (or anything `allocate` raises) if not traceable."""
    return compile_source(trace_shape(req))


def trace_shape(req: Request) -> str:
    """The source of `req`'s shape's compiled function (see `compile_shape`), not yet compiled."""
    tape = _Tape()
    n = len(money_of(req))
    names = [f"m{i}" for i in range(n)]
    var = iter(_E(x, tape) for x in names)
    rows, sixty, e = req.disbursements, req.rollovers_60_day, req.elections
    stand_in = {x: _ID.format(i) for i, x in enumerate(ids_of(req))}
    balance, basis, pre1987, rmd, other = next(var), next(var), next(var), next(var), next(var)
    t_rows = tuple(dataclasses.replace(d, id=stand_in[d.id], amount=next(var)) for d in rows)
    t_rows = tuple(dataclasses.replace(d, loan_offset=next(var)) if has_offset(d) else d for d in t_rows)
    t_sixty = tuple(dataclasses.replace(x, id=stand_in[x.id], amount=next(var)) for x in sixty)

    def ids(xs):
        return None if xs is None else tuple(stand_in[x] for x in xs)

    def amounts(d, rows):   # one variable per row that has an elected amount, in row order, as `money_of`
        return None if d is None else {stand_in[r.id]: next(var) for r in rows if r.id in d}
    t_elections = Elections(direct_pretax_order=ids(e.direct_pretax_order),
                            direct_pretax_amounts=amounts(e.direct_pretax_amounts, rows),
                            sixty_day_pretax_order=ids(e.sixty_day_pretax_order),
                            sixty_day_pretax_amounts=amounts(e.sixty_day_pretax_amounts, sixty))
    # the participant's dates are not the algorithm's to read (the box 7 code derived from them is in the key);
    # box 11's year is an argument, like money
    t_facts = Participant(first_roth_contribution_year=next(var) if box11_year(req) is not None else None)
    t_req = dataclasses.replace(req, date=None, balance=balance, basis=basis, pre1987_basis=pre1987, rmd=rmd,
                                other_eligible_this_year=other, participant=t_facts,
                                disbursements=t_rows, rollovers_60_day=t_sixty, elections=t_elections)
    outcome = alg.allocate(TRACE, t_req)
    violated = TRACE.or_(*[c.violated for c in outcome.checks])
    index = {s: i for i, s in enumerate(stand_in.values())}
    result = _literal(outcome.result.to_wire(), index)
    unpack = f"    {', '.join(names)}, = M\n" if names else ""
    guard = ("    return None\n" if violated is True else "" if violated is False
             else f"    if {_c(violated)}:\n        return None\n")
    return ("def compiled(M, I):\n" + unpack + "".join(f"    {line}\n" for line in tape.lines) + guard
            + f"    return {result}\n")


def compile_source(source: str) -> Callable[[list, list], dict | None]:
    """The function a traced source defines (with the source as its `source` attribute)."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<rollsplit compiled shape>", "exec"), namespace)
    fn = namespace["compiled"]
    fn.source = source
    return fn


# ---- only proved code answers -----------------------------------------------------------------------
PROVED_FILE = Path(__file__).with_name("proved_sources.json")
_proved: frozenset[str] | None = None


def source_digest(source: str) -> str:
    import hashlib   # only when a shape is compiled: `rollsplit allocate --json` answers without it
    return hashlib.sha256(source.encode()).hexdigest()


def proved_digests() -> frozenset[str]:
    """The SHA-256 of every compiled source that `rollsplit prove` proved equal to the algorithm (through the
    dispatch) on the whole bundle, as recorded by `rollsplit prove --record-proved`. A compiled function whose
    source is not among them never answers: its shape goes through the generic path. (A missing or unreadable
    record proves nothing: then every request takes the generic path.)"""
    global _proved
    if _proved is None:
        try:
            _proved = frozenset(json.loads(PROVED_FILE.read_text())["sources"])
        except (OSError, ValueError, KeyError, TypeError):
            _proved = frozenset()
    return _proved


# ---- which shapes the proofs cover ---------------------------------------------------------------------------
# The proofs cover a shape of the bundle and, with it, every shape whose destinations are of the same classes (two
# destinations of one class give the same formulas: solver/shapes.py, tests/test_solver_shapes.py). `rollsplit prove
# --record-proved` records, beside the proved sources, each destination's class representative and the key of every
# shape of the bundle written with representatives. A request whose key, so written, is not among them (more rows than
# the bundle holds, a mix or an election order it lacks) is beyond the proofs: the generic path answers it and its
# answer is checked against every rule of the law before it is given (`reference.calculate`).
_covered: tuple[dict, frozenset] | None = None


def _record() -> dict:
    try:
        data = json.loads(PROVED_FILE.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _coverage() -> tuple[dict, frozenset]:
    global _covered
    if _covered is None:
        data = _record()
        try:
            classes = {(c["recipient"], c["contract"], c["method"], c["to"], c["accepts"]): tuple(c["as"])
                       for c in data["classes"]}
            keys = frozenset(_tuples(k) for k in data["keys"])
        except (KeyError, TypeError):
            classes, keys = {}, frozenset()
        _covered = classes, keys
    return _covered


def class_key(key: tuple, classes: dict) -> tuple | None:
    """`key` with each destination replaced by its class representative; None if a destination has no recorded
    class."""
    contract, regime, qualified, hardship, rows, sixty, elections, whom = key
    recipient = whom[0]
    try:
        rows = tuple(r if r[0] == "paid" else (r[0], *classes[(recipient, contract, "direct", r[1], r[2])], *r[3:])
                     for r in rows)
        sixty = tuple(classes[(recipient, contract, "sixty_day", to, True)][0] for to in sixty)
    except KeyError:
        return None
    return (contract, regime, qualified, hardship, rows, sixty, elections, whom)


def covered(key: tuple | None) -> bool:
    """Do the recorded proofs cover requests of this shape key (the generic path's answer included)?"""
    if key is None:
        return False
    classes, keys = _coverage()
    return class_key(key, classes) in keys


def coverage_record(requests, classes: dict) -> dict:
    """The fields `rollsplit prove --record-proved` adds to the record: `classes` maps (recipient, contract, method,
    to, accepts) to its representative, `keys` the bundle's shape keys (its requests use representatives)."""
    rows = [{"recipient": r, "contract": c, "method": m, "to": to, "accepts": acc, "as": list(rep)}
            for (r, c, m, to, acc), rep in sorted(classes.items(), key=repr)]
    keys = sorted({shape_key(r) for r in requests} - {None}, key=repr)
    return {"classes": rows, "keys": [json.loads(json.dumps(k)) for k in keys]}


# ---- which shapes are likely proved ------------------------------------------------------------------------
# A hint, not a proof: the structure of a key (its rows' methods and loan offsets, the number of 60-day rollovers,
# which elections are given: not the destinations) for every shape of the proof bundle whose source is recorded as
# proved. A key of another structure may still turn out proved (an order election over one row writes the same code
# as none); it is only traced later (`HOT_UNLIKELY`), so that the many shapes of a mixed stream that no proof covers
# do not each cost a trace. Which code answers is decided by the record of proved sources alone, whatever this says.
STRUCTURES_FILE = Path(__file__).with_name("proved_structures.json")
_structures: frozenset | None = None


def structure(key: tuple) -> tuple:
    contract, regime, qualified, hardship, rows, sixty, elections, whom = key
    return (contract, regime, qualified, hardship, tuple((r[0], r[3], r[4]) for r in rows), len(sixty),
            tuple(e is not None for e in elections), whom)


def _tuples(x):
    return tuple(_tuples(y) for y in x) if isinstance(x, list) else x


def likely_proved(key: tuple) -> bool:
    global _structures
    if _structures is None:
        try:
            _structures = frozenset(_tuples(x) for x in json.loads(STRUCTURES_FILE.read_text())["structures"])
        except (OSError, ValueError, KeyError, TypeError):
            _structures = frozenset()
    return structure(key) in _structures


def proved_structures(requests) -> list:
    """The structures of those of `requests` (one per shape of the bundle) whose compiled source is recorded."""
    out = {structure(shape_key(r)) for r in requests if source_digest(trace_shape(r)) in proved_digests()}
    return sorted(out, key=repr)


def record_structures(requests) -> Path:
    """Write `proved_structures` of the bundle's requests (`rollsplit prove --record-proved` does, after the record of
    proved sources) to reference/proved_structures.json."""
    data = {"about": "Structures (rows' methods and loan offsets, number of 60-day rollovers, elections given) of the "
                     "bundle's shapes whose compiled source is recorded in proved_sources.json: shapes of another "
                     "structure are compiled later (reference/compiled.py, HOT_UNLIKELY). A hint for speed; which code "
                     "answers is decided by proved_sources.json alone.",
            "structures": proved_structures(requests)}
    lines = ",\n".join("  " + json.dumps(x, separators=(",", ":")) for x in data["structures"])
    path = PROVED_FILE.with_name(STRUCTURES_FILE.name)   # beside the record (wherever a test puts it)
    path.write_text(f'{{"about": {json.dumps(data["about"])},\n "structures": [\n{lines}\n]}}\n')
    return path


# ---- the cache, and when a shape is compiled --------------------------------------------------------------
# Tiered answering: a shape is answered by the generic path until `HOT` requests of it have been seen; the next one
# compiles it (or finds that no proof covers its code). Compiling a shape costs as much as answering hundreds of its
# requests, and most shapes of a mixed stream (a vendor's data, a fuzz run, the suite) come a few times or once:
# compiling each at first sight made the first pass over such a stream several times slower than the generic path
# alone. `rollsplit bench` measures the first pass against the warm one and against the generic path. Whatever the
# tier, only proved code answers: a compiled function is kept only when the digest of its source is recorded.
HOT = 12                  # generic answers of a shape before it is compiled (measured: `rollsplit bench`)
HOT_UNLIKELY = 96         # the same, for a shape whose structure no proved shape has (`likely_proved`)
CACHE_SIZE = 1024         # compiled functions kept (least recently used dropped first)
KEYS_LIMIT = 1 << 16      # shapes remembered as generic for good, and shapes being counted (then forgotten)
_cache: OrderedDict[tuple, Callable] = OrderedDict()   # key -> the proved compiled function that answers it
_generic: set[tuple] = set()     # keys no proof covers (or whose trace failed): the generic path answers them
_seen: dict[tuple, int] = {}     # key -> requests of it answered by the generic path so far, below HOT
_lock = threading.Lock()
_GENERIC = None   # a shape that cannot be compiled: use the generic path


def _reference_unpatched() -> bool:
    """`reference.mutants` swaps helpers of `reference.algorithm` for one call: never compile a mutant."""
    return all(getattr(alg, k) is v for k, v in _ORIGINALS.items())


_ORIGINALS = {k: getattr(alg, k) for k in ("allocate", "fill", "basis_recovered", "direct_pretax_total",
                                         "largest_remainder", "law", "direct_fill_order", "sixty_day_fill_order")}


def function_of(key: tuple) -> Callable | None:
    """The compiled function answering requests of `key` now, or None; never compiles (the hot path's lookup)."""
    fn = _cache.get(key)
    if fn is not None:
        try:
            _cache.move_to_end(key)
        except KeyError:   # dropped by another thread meanwhile
            pass
    return fn


def warm(req: Request, key: tuple | None = None) -> Callable | None:
    """The tiered lookup: the compiled function of `req`'s shape if it is compiled, or once this request makes the
    shape hot (`HOT`); None while the generic path answers it."""
    key = shape_key(req) if key is None else key
    if key is None:
        return None
    fn = function_of(key)
    if fn is not None or key in _generic:
        return fn
    with _lock:
        n = _seen.get(key, 0) + 1
        if n < (HOT if n < HOT or likely_proved(key) else HOT_UNLIKELY):
            if len(_seen) >= KEYS_LIMIT:
                _seen.clear()
            _seen[key] = n
            return None
        _seen.pop(key, None)
    return lookup(req)


def lookup(req: Request, require_proof: bool = True) -> Callable | None:
    """The compiled function that answers `req`, compiled now if it is not yet, or None for the generic path.
    `require_proof=False` is for the proof itself (solver.compiled_proof), which must see the function whether or
    not it is recorded as proved; it is then used on a cache of its own."""
    key = shape_key(req)
    if key is None:
        return None
    with _lock:
        fn = _cache.get(key)
        if fn is not None:
            _cache.move_to_end(key)
            return fn
        if require_proof and key in _generic:
            return None
    if not _reference_unpatched():
        return None
    try:
        if not require_proof:   # the proof's dispatch: the function as `compile_shape` makes it
            fn = compile_shape(req)
        else:   # the digest first: code no proof covers is never even compiled
            source = trace_shape(req)
            digest = source_digest(source)
            # proved code, and for a shape the proofs cover: code proved for another shape that the trace of an
            # uncovered one happens to reproduce computes the algorithm's answer, but no invariant is proved of it
            # there, so such a shape stays with the generic path and its check (`reference.generic_answer`)
            fn = ((_by_digest.get(digest) or _compiled(digest, source))
                  if digest in proved_digests() and covered(key) else _GENERIC)
    except Exception:  # not traceable: this shape answers through the generic path
        fn = _GENERIC
    with _lock:
        if fn is None:
            if require_proof:
                if len(_generic) >= KEYS_LIMIT:
                    _generic.clear()
                _generic.add(key)
        else:
            _cache[key] = fn
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return fn


_by_digest: dict[str, Callable] = {}   # proved sources compiled so far: shapes of one class share their source


def _compiled(digest: str, source: str) -> Callable:
    fn = compile_source(source)
    if len(_by_digest) >= CACHE_SIZE:
        _by_digest.clear()
    _by_digest[digest] = fn
    return fn


def disown(key: tuple) -> None:
    """Answer `key` by the generic path for good (its compiled function is dropped)."""
    with _lock:
        _cache.pop(key, None)
        _seen.pop(key, None)
        _generic.add(key)


def forget() -> None:
    """Empty the cache and the counts (a cold start, for benchmarks and tests)."""
    with _lock:
        _cache.clear()
        _generic.clear()
        _seen.clear()
        _by_digest.clear()


def allocate_wire(req: Request) -> dict | None:
    """The Result JSON of a valid request by the compiled path; None when the generic path must answer
    (a value check is violated, or the shape is not compilable)."""
    fn = lookup(req)
    if fn is None:
        return None
    return fn(money_of(req), ids_of(req))
