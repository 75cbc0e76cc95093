"""Reading and adjusting wire requests (plain dicts of contract v1): the shared helpers of the snaps,
the faults and the strategies. The reference is the judge of validity everywhere (`reference.calculate`)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rollsplit.conformance.strategies import safe_destination
from rollsplit.spec import law
from rollsplit.spec.features import required_features

MAX = law.MAX_CENTS

# strategies built once (Hypothesis validates every new strategy object, which costs more than the draw)
_BOOL = st.booleans()
_PLUS_MINUS_ONE = st.sampled_from([1, -1])
_OFFSET = st.sampled_from([0, 0, 1, -1])   # exactly on the boundary, or one cent either side

# ---- reading a request ---------------------------------------------------------------------------
def _calc(req: Any) -> dict:
    from rollsplit.reference import calculate
    return calculate(req)


def _D(req: dict) -> int:
    """The distribution: every disbursement's amount, and a payment's plan loan offset."""
    return sum(d["amount"] + d.get("loan_offset", 0) for d in req["disbursements"])


def _paid(req: dict) -> dict | None:
    return next((d for d in req["disbursements"] if d["method"] == "paid"), None)


def _directs(req: dict) -> list[dict]:
    return [d for d in req["disbursements"] if d["method"] == "direct"]


def _paid_row(req: dict, res: dict) -> dict | None:
    for d, r in zip(req["disbursements"], res["disbursements"]):
        if d["method"] == "paid":
            return r
    return None


def _safe(req: dict) -> str:
    """A destination that takes money of both kinds from this request's contract."""
    return safe_destination(req["contract"])


def request_size(request: Any) -> int:
    """Rows of a request: disbursements plus 60-day rollovers (how big a shrunk failure is)."""
    if not isinstance(request, dict):
        return 0
    rows = request.get("disbursements")
    sixty = request.get("rollovers_60_day")
    return (len(rows) if isinstance(rows, list) else 0) + (len(sixty) if isinstance(sixty, list) else 0)


def requires(request: Any) -> set[str]:
    """The features a request needs (`spec.features.required_features`; one source of truth)."""
    return required_features(request)


def _set_basis_parts(req: dict, basis: int, pre1987: int | None = None) -> None:
    req["basis"] = basis
    p = req.get("pre1987_basis", 0) if pre1987 is None else pre1987
    if p:
        req["pre1987_basis"] = min(p, basis)
    else:
        req.pop("pre1987_basis", None)


def _basis_recovered(req: dict, basis: int) -> int:
    from rollsplit.spec.arith import INT
    from rollsplit.reference.algorithm import basis_recovered
    return basis_recovered(INT, _D(req), req["balance"], basis, req.get("pre1987_basis", 0))
