"""The order in which pre-tax money fills rollovers (rules 4 and 6), written once.

Notice 2014-54 §III: the participant may choose how pre-tax money is allocated among direct
rollovers (and among 60-day rollovers); the ids listed in an order election come first, in the
order given, and the rest follow in the default order of `spec.law` (ties in request order).
"""

from __future__ import annotations

from rollsplit.spec import law
from rollsplit.spec.model import Request


def _order(listed: tuple[str, ...] | None, ids: list[str], ranks: list[int]) -> list[int]:
    # sorted() is stable, so equal ranks keep request order
    if not listed:
        return sorted(range(len(ids)), key=ranks.__getitem__)
    position = {x: i for i, x in enumerate(listed)}
    first = sorted((i for i, x in enumerate(ids) if x in position), key=lambda i: position[ids[i]])
    rest = sorted((i for i, x in enumerate(ids) if x not in position), key=ranks.__getitem__)
    return first + rest


def direct_fill_order(req: Request) -> list[int]:
    """Indices into `req.directs`, in the order they are filled with pre-tax money."""
    directs = req.directs
    return _order(req.elections.direct_pretax_order, [d.id for d in directs],
                  [law.direct_default_rank(req.contract, d.to, d.accepts_aftertax) for d in directs])


def sixty_day_fill_order(req: Request) -> list[int]:
    """Indices into `req.rollovers_60_day`, in the order they are filled with pre-tax money."""
    rows = req.rollovers_60_day
    return _order(req.elections.sixty_day_pretax_order, [x.id for x in rows],
                  [law.sixty_day_default_rank(req.contract, x.to) for x in rows])
