"""Which request shapes the proofs cover, and why covering destination classes is enough.

The reference algorithm and the invariants look at a destination (`to`, `accepts_aftertax`) only
through `spec.law` (`may_receive`, `receives_nothing`, the default ranks, `is_conversion`) and its box 7
code, and the invariants through the specification's own tables `spec.facts` (`receives`, `fill_tier`,
`taxed_when_rolled`, `box7`). Two destinations with the same `signature` therefore give
the same z3 formulas (tests/test_solver_shapes.py checks this formula for formula), so we enumerate
one representative per class instead of the cartesian product of destinations.

Classes that can receive nothing (e.g. a designated Roth account from a pre-tax contract) make every
request of the shape invalid; they get a "rejects" obligation (no request of the shape is accepted)
instead of invariant proofs.

Money fields that may be zero (rmd, pre1987_basis) are symbolic in every shape that allows them: the
shape with a symbolic RMD contains the one without (rmd = 0), because the algorithm never branches in
Python on a money value.
"""

from __future__ import annotations

from itertools import permutations, product

from rollsplit.solver.z3_backend import Shape, partial_reversed
from rollsplit.spec import law
from rollsplit.spec import facts

MAX_DIRECTS, MAX_SIXTY = 4, 3


def signature(contract: str, method: str, to: str, accepts: bool, recipient: str = "participant") -> tuple:
    ranks = (law.direct_default_rank(contract, to, accepts) if method == "direct"
             else law.sixty_day_default_rank(contract, to))
    how = "direct" if method == "direct" else "sixty_day"
    return (law.may_receive(contract, method, to, accepts, "pretax", recipient),
            law.may_receive(contract, method, to, accepts, "aftertax", recipient),
            law.receives_nothing(contract, method, to, accepts, recipient), ranks, law.is_conversion(contract, to),
            # the specification's own statement of the same facts (spec.facts): a class must agree on both
            tuple(sorted(facts.receives(contract, how, to, accepts, recipient))),
            facts.fill_tier(contract, how, to, accepts, recipient), facts.taxed_when_rolled(contract, to),
            # box 7 with every event code the route may take (G and H differ only beside 4)
            tuple(facts.box7(contract, "direct" if method == "direct" else "paid", to, event=e)
                  for e in (None, "1", "2", "3", "4", "7")))


def classes(contract: str, method: str, recipient: str = "participant") -> dict[tuple, list[tuple[str, bool]]]:
    """signature -> members (to, accepts_aftertax), in `law.DESTINATIONS` order; the first is the representative."""
    out: dict[tuple, list[tuple[str, bool]]] = {}
    accepts_values = (True, False) if method == "direct" else (True,)
    for to, acc in product(law.DESTINATIONS, accepts_values):
        out.setdefault(signature(contract, method, to, acc, recipient), []).append((to, acc))
    return out


def live(contract: str, method: str, recipient: str = "participant") -> list[tuple[str, bool]]:
    """Representatives of the classes that can receive money, in default fill order (then law order)."""
    reps = [m[0] for sig, m in classes(contract, method, recipient).items() if not sig[2]]
    return sorted(reps, key=lambda r: signature(contract, method, r[0], r[1], recipient)[3])


def dead(contract: str, method: str, recipient: str = "participant") -> list[tuple[str, bool]]:
    return [m[0] for sig, m in classes(contract, method, recipient).items() if sig[2]]


def _mix(reps: list, n: int, offset: int) -> list:
    return [reps[(offset + i) % len(reps)] for i in range(n)]


_partial_reversed = partial_reversed


def _counts():
    for nd in range(MAX_DIRECTS + 1):
        for paid in (False, True):
            for ns in range(MAX_SIXTY + 1 if paid else 1):
                if nd == 0 and not paid:
                    continue   # no disbursement: parse rejects the request
                yield nd, paid, ns


def default_shapes() -> list[Shape]:
    """The default bundle: for every count up to 4 direct + 1 paid + 3 sixty-day, representative mixes of
    every contract kind, regime, qualified Roth, election kind (none / order / amounts), and hardship."""
    shapes: list[Shape] = []
    pta, roth = "pretax_aftertax", "designated_roth"
    for nd, paid, ns in _counts():
        dr, sr = live(pta, "direct"), [to for to, _ in live(pta, "sixty_day")]
        # pre-tax/after-tax contract, new rule, default order: every class in every position over the offsets
        offsets = range(len(dr)) if (nd or ns) else range(1)
        for o in offsets:
            shapes.append(Shape(contract=pta, directs=tuple(_mix(dr, nd, o)), paid=paid,
                                sixty=tuple(_mix(sr, ns, o)), rmd=True, pre1987=True))
        if nd or ns:
            # elections: order for one kind with amounts for the other, and the reverse
            for de, se in (("order", "amounts"), ("amounts", "order")):
                shapes.append(Shape(contract=pta, directs=tuple(_mix(dr, nd, 1)), paid=paid,
                                    sixty=tuple(_mix(sr, ns, 1)), rmd=True, pre1987=True,
                                    direct_election=de if nd else None, direct_order=_partial_reversed(nd),
                                    sixty_election=se if ns else None, sixty_order=_partial_reversed(ns)))
        # Notice 2009-68 (old rule): no direct election; 60-day elections still apply
        shapes.append(Shape(contract=pta, regime=law.OLD, directs=tuple(_mix(dr, nd, 0)), paid=paid,
                            sixty=tuple(_mix(sr, ns, 0)), rmd=True, pre1987=True))
        if ns:
            shapes.append(Shape(contract=pta, regime=law.OLD, directs=tuple(_mix(dr, nd, 2)), paid=paid,
                                sixty=tuple(_mix(sr, ns, 2)), rmd=True, pre1987=True,
                                sixty_election="order", sixty_order=_partial_reversed(ns)))
        # designated Roth contract: new rule (qualified or not) and the old rule
        rdr, rsr = live(roth, "direct"), [to for to, _ in live(roth, "sixty_day")]
        # a qualified distribution is all after-tax, and a 60-day rollover into a designated Roth account may take
        # only the part that would be includible (§402A(c)(3)): with every row a cent or more (contract 1.1), no
        # valid request has such a row, so the qualified shapes roll over within 60 days to Roth IRAs only
        rsr_qualified = [to for to in rsr if to != "designated_roth"]
        for regime, qualified, o in ((law.NEW, False, 0), (law.NEW, True, 1), (law.OLD, False, 1)):
            shapes.append(Shape(contract=roth, regime=regime, qualified_roth=qualified,
                                directs=tuple(_mix(rdr, nd, o)), paid=paid,
                                sixty=tuple(_mix(rsr_qualified if qualified else rsr, ns, o)), rmd=True))
        if nd > 1 or ns > 1:
            shapes.append(Shape(contract=roth, directs=tuple(_mix(rdr, nd, 0)), paid=paid,
                                sixty=tuple(_mix(rsr, ns, 0)), rmd=True,
                                direct_election="amounts" if nd else None,
                                sixty_election="order" if ns else None, sixty_order=_partial_reversed(ns)))
    # hardship: nothing may be rolled over, so only a payment
    shapes.append(Shape(contract=pta, directs=(), paid=True, hardship=True, rmd=True, pre1987=True))
    shapes.append(Shape(contract=roth, directs=(), paid=True, hardship=True, rmd=True))
    shapes.append(Shape(contract=roth, directs=(), paid=True, hardship=True, rmd=True, qualified_roth=True))
    shapes += loan_offset_shapes()
    shapes += mix_shapes()
    shapes += flag_shapes()
    shapes += recipient_shapes()
    return _unique(shapes)


BEYOND = (5, 6)   # direct rollovers beyond MAX_DIRECTS proved in rotations only (see mix_shapes)


def mix_shapes() -> list[Shape]:
    """Beyond the rotations: every sequence of destination classes for up to 3 direct rollovers (two traditional
    IRAs, a Roth IRA first, ...; up to 2 under the old rule and without a payment) and up to 2 60-day rollovers,
    the payment first and in the middle, and 5 and 6 direct rollovers in every rotation of the classes (with and
    without an order election)."""
    pta = "pretax_aftertax"
    dr = live(pta, "direct")
    out = []
    sr = [to for to, _ in live(pta, "sixty_day")]
    for n in (1, 2, 3):
        for seq in product(dr, repeat=n):
            out.append(Shape(contract=pta, directs=tuple(seq), paid=True, rmd=True, pre1987=n == 2))
            if n < 3:
                out.append(Shape(contract=pta, regime=law.OLD, directs=tuple(seq), paid=True, pre1987=True))
            if n == 2:
                out.append(Shape(contract=pta, directs=tuple(seq), paid=False, pre1987=True))
    roth = "designated_roth"
    for n in (1, 2):
        for seq in product(live(roth, "direct"), repeat=n):
            for regime, qualified in ((law.NEW, False), (law.NEW, True), (law.OLD, False)):
                out.append(Shape(contract=roth, regime=regime, qualified_roth=qualified, directs=tuple(seq),
                                 paid=True, rmd=True))
    for n in (1, 2):
        for seq in product(sr, repeat=n):
            out.append(Shape(contract=pta, directs=(), paid=True, sixty=tuple(seq), rmd=True, pre1987=True))
            if n == 1:
                out.append(Shape(contract=pta, regime=law.OLD, directs=(), paid=True, sixty=tuple(seq), rmd=True,
                                 pre1987=True))
    for n in (1, 2, 3):
        for at in sorted({0, n // 2}):
            out.append(Shape(contract=pta, directs=tuple(_mix(dr, n, 1)), paid=True, paid_at=at, rmd=True,
                             sixty=(live(pta, "sixty_day")[1][0],) if n < 3 else ()))
    out.append(Shape(contract=pta, regime=law.OLD, directs=tuple(_mix(dr, 2, 1)), paid=True, paid_at=0))
    # eight destinations: five direct rollovers (as `rollsplit bench` times them, and in every rotation of the
    # classes), the payment and a 60-day rollover to a traditional and to a Roth IRA
    trad, qp_no, roth = dr[1], dr[0], dr[2]
    for directs in [(trad, qp_no, trad, roth, trad)] + [tuple(_mix(dr, 5, o)) for o in range(len(dr))]:
        out.append(Shape(contract=pta, directs=directs, paid=True, sixty=(sr[1], sr[2]), rmd=True, pre1987=True))
    for n in BEYOND:
        for o in range(len(dr)):
            out.append(Shape(contract=pta, directs=tuple(_mix(dr, n, o)), paid=True, paid_at=o % 2 or None))
        out.append(Shape(contract=pta, directs=tuple(_mix(dr, n, 2)), paid=True, direct_election="order",
                         direct_order=_partial_reversed(n)))
    return out


def flag_shapes() -> list[Shape]:
    """Every combination of the request's flags that a valid request can have (contract kind, rule, qualified Roth,
    hardship, an ordinary or qualified plan loan offset) with the few rows most requests have: the payment alone,
    each direct rollover class alone and with the payment, two direct rollovers without a payment, and each 60-day
    class after the payment; and every sequence of 4 direct rollovers before the payment (3 under the old rule and
    for a designated Roth account)."""
    out = []
    for contract in law.CONTRACTS:
        pta = contract == "pretax_aftertax"
        dr, sr = live(contract, "direct"), [to for to, _ in live(contract, "sixty_day")]
        for regime in (law.NEW, law.OLD):
            for qualified in ((False,) if pta else (False, True)):
                base = dict(contract=contract, regime=regime, qualified_roth=qualified, rmd=True, pre1987=pta)
                # a qualified distribution is all after-tax: no 60-day rollover into a designated Roth account
                sixty = [to for to in sr if not (qualified and to == "designated_roth")]
                out.append(Shape(directs=(), paid=True, hardship=True, **base))
                # a qualified plan loan offset exists only from 2018 (§402(c)(3)(C)), long after the old rule
                for kind in ("offset", "qualified") if regime == law.NEW else ("offset",):
                    out.append(Shape(directs=(), paid=True, loan_offset=kind, **base))
                for c in dr:
                    out.append(Shape(directs=(c,), paid=True, **base))
                    out.append(Shape(directs=(c,), paid=False, **base))
                    out.append(Shape(directs=(c,), paid=True, loan_offset="offset", **base))
                for seq in product(dr, repeat=2):
                    out.append(Shape(directs=seq, paid=False, **base))
                for to in sixty:
                    out.append(Shape(directs=(), paid=True, sixty=(to,), **base))
                n = 4 if pta and regime == law.NEW else 3
                for seq in product(dr, repeat=n):
                    out.append(Shape(directs=seq, paid=True, **dict(base, pre1987=False)))
                for seq in product(dr, repeat=2):   # two direct rollovers before the payment, and around it
                    out.append(Shape(directs=seq, paid=True, **base))
                    out.append(Shape(directs=seq, paid=True, paid_at=1, **base))
    # an order election in every order, over 2 and 3 rows of each kind
    pta = "pretax_aftertax"
    dr, sr = live(pta, "direct"), [to for to, _ in live(pta, "sixty_day")]
    for n in (2, 3):
        for order in permutations(range(n)):
            out.append(Shape(contract=pta, directs=tuple(_mix(dr, n, 1)), paid=True, rmd=True,
                             direct_election="order", direct_order=order))
            out.append(Shape(contract=pta, directs=(), paid=True, sixty=tuple(_mix(sr, n, 1)), rmd=True,
                             sixty_election="order", sixty_order=order))
    # a plan loan offset with a direct and a 60-day rollover
    for kind in ("offset", "qualified"):
        out.append(Shape(contract=pta, directs=(dr[1],), paid=True, sixty=(sr[1],), rmd=True, loan_offset=kind))
    return out


EVENTS = {   # the box 7 codes for the recipient's age or event each recipient can have (spec.ages.event_code)
    "participant": (None, "1", "2", "3", "7"),
    "alternate_payee_spouse": (None, "2", "7"),   # §72(t)(2)(C) comes before disability for an alternate payee
    "spouse_beneficiary": ("4",),
    "nonspouse_beneficiary": ("4",),
}


def recipient_shapes() -> list[Shape]:
    """Contract 1.2: every recipient with every box 7 code for an age or event it can have, for both contract kinds
    (a designated Roth account qualified or not, with and without box 11): the payment alone and with a qualified plan
    loan offset, each direct-rollover class the recipient may use with the payment, two direct rollovers and the
    payment, each 60-day class after the payment; and the old rule with one direct rollover."""
    out = []
    for recipient, events in EVENTS.items():
        for contract in law.CONTRACTS:
            pta = contract == "pretax_aftertax"
            dr = live(contract, "direct", recipient)
            sr = [to for to, _ in live(contract, "sixty_day", recipient)]
            for event in events:
                kinds = [(False, False)] if pta else [(False, False), (False, True)]
                # a qualified distribution under 59½ to a living participant is one on disability (code 3), so a
                # participant's codes 1 and 2 go with a distribution that is not qualified (spec.ages.event_code)
                if not pta and (event in (None, "3", "4", "7") or recipient == "alternate_payee_spouse"):
                    kinds.append((True, True))
                if not pta and event in ("4", "3", "7"):
                    kinds.append((True, False))
                for qualified, box11 in kinds:
                    base = dict(contract=contract, recipient=recipient, event=event, qualified_roth=qualified,
                                box11=box11, rmd=True, pre1987=pta)
                    out.append(Shape(directs=(), paid=True, **base))
                    out.append(Shape(directs=(), paid=True, loan_offset="qualified", **base))
                    for c in dr:
                        out.append(Shape(directs=(c,), paid=True, **base))
                    if len(dr) > 1:
                        out.append(Shape(directs=tuple(dr[:2]), paid=True, **base))
                        out.append(Shape(directs=tuple(reversed(dr[:2])), paid=False, **base))
                    for to in sr:
                        if not (qualified and to == "designated_roth"):
                            out.append(Shape(directs=(), paid=True, sixty=(to,), **base))
                if pta and dr:
                    out.append(Shape(contract=contract, regime=law.OLD, recipient=recipient, event=event,
                                     directs=(dr[0],), paid=True, pre1987=True))
    return out


def loan_offset_shapes() -> list[Shape]:
    """Plan loan offsets on the payment (contract 1.1): ordinary and qualified, with no, one and two direct
    rollovers and a 60-day rollover, both contract kinds and the old rule."""
    pta, roth = "pretax_aftertax", "designated_roth"
    dr, sr = live(pta, "direct"), [to for to, _ in live(pta, "sixty_day")]
    out = []
    # (one direct rollover without pre-1987 basis: with it, the determinacy formula took z3 more than 60 s from
    # scratch, though 1.1 s incrementally, so the bundle's file could not be re-checked; pre-1987 basis with an
    # offset is in the shapes with none and with two direct rollovers)
    for nd, ns in ((0, 0), (1, 0), (0, 1), (2, 1)):
        for kind in ("offset", "qualified"):
            out.append(Shape(contract=pta, directs=tuple(_mix(dr, nd, 1)), paid=True, sixty=tuple(_mix(sr, ns, 1)),
                             rmd=True, pre1987=nd != 1, loan_offset=kind))
    out.append(Shape(contract=pta, regime=law.OLD, directs=tuple(_mix(dr, 1, 1)), paid=True, loan_offset="offset"))
    out.append(Shape(contract=roth, directs=(live(roth, "direct")[0],), paid=True, rmd=True, loan_offset="qualified"))
    out.append(Shape(contract=roth, qualified_roth=True, directs=(), paid=True, loan_offset="qualified"))
    return out


# Every old-rule shape of the bound (up to 4 direct + 1 paid = 5 rows) is in the bundle: the largest-remainder
# lemmas (LRn-CONTRACT, LRn-UNIQUE) are proved for every n up to solver.obligations.MAX_ROWS_OLD.


def old_rule_rows(shape: Shape) -> int:
    return len(shape.directs) + int(shape.paid) if shape.regime == law.OLD else 0


def old_many_row_shapes() -> list[Shape]:
    """The old-rule shapes of the default bundle with 4-5 disbursements (`--shapes old-large`): the ones
    whose lemmas z3 could not prove before the lemmas were linearised."""
    return [s for s in default_shapes() if old_rule_rows(s) > 3]


def rejecting_shapes() -> list[Shape]:
    """One row to a class that can receive nothing, next to a payment: every such request is rejected."""
    out = []
    for contract in law.CONTRACTS:
        for to, acc in dead(contract, "direct"):
            out.append(Shape(contract=contract, directs=((to, acc),), paid=True))
        for to, _ in dead(contract, "sixty_day"):
            out.append(Shape(contract=contract, directs=(), paid=True, sixty=(to,)))
    return out


def small_shapes() -> list[Shape]:
    """A quick set for tests: a few shapes of each contract and regime, with elections."""
    pta, roth = "pretax_aftertax", "designated_roth"
    dr, sr = live(pta, "direct"), [to for to, _ in live(pta, "sixty_day")]
    return [
        Shape(contract=pta, directs=tuple(dr), paid=True, sixty=tuple(sr[:2]), rmd=True, pre1987=True),
        Shape(contract=pta, directs=tuple(dr[:2]), paid=True, sixty=tuple(sr[1:]), rmd=True,
              direct_election="amounts", sixty_election="order", sixty_order=(1,)),
        Shape(contract=pta, directs=tuple(dr[1:]), paid=True, sixty=(sr[2],), direct_election="order",
              direct_order=(1,), sixty_election="amounts", pre1987=True),
        Shape(contract=pta, regime=law.OLD, directs=tuple(dr[:2]), paid=True, sixty=(sr[1],), rmd=True),
        Shape(contract=roth, directs=tuple(live(roth, "direct")), paid=True, sixty=("designated_roth",), rmd=True),
        Shape(contract=roth, qualified_roth=True, directs=(("roth_ira", True),), paid=True),
        Shape(contract=pta, directs=(), paid=True, hardship=True, rmd=True),
    ]


def _unique(shapes: list[Shape]) -> list[Shape]:
    seen, out = set(), []
    for s in shapes:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def select(spec: list[str] | None) -> list[Shape]:
    """`all` (default bundle plus rejecting shapes), `small`, or shape names as printed by `Shape.name()`."""
    if not spec or spec == ["all"]:
        return default_shapes() + rejecting_shapes()
    if spec == ["small"]:
        return small_shapes()
    if spec == ["old-large"]:
        return old_many_row_shapes()
    pool = {s.name(): s for s in default_shapes() + rejecting_shapes() + small_shapes()}
    missing = [n for n in spec if n not in pool]
    if missing:
        raise KeyError(f"unknown shape {missing[0]!r}; use 'all', 'small' or a name listed by --list-shapes")
    return [pool[n] for n in spec]


def size(shape: Shape) -> int:
    """Number of destinations (direct + paid + 60-day): the x-axis of the growth table."""
    return len(shape.directs) + int(shape.paid) + len(shape.sixty)
