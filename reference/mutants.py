"""Seeded mutants of the reference: the classic mistakes a calculator makes, each a named variant of
`reference.algorithm.allocate`.

They exist to show that the proofs (`rollsplit prove --mutants`), the conformance vectors and the
fuzzing oracle can fail: every mutant must be caught. A mutant is built from the reference itself,
never a copy of it:
  - by patching one module-level helper of `reference.algorithm` for the length of one call
    (`basis_recovered`, the fill orders, the `law` tables);
  - by running the reference on a changed request (elections forced or dropped, another regime) and
    keeping the reference's own election checks, so the mutant accepts exactly the requests the
    reference accepts unless its mistake is about acceptance (`aftertax_into_457b`);
  - by rewriting leaf outputs of the result (withholding).
Symbolic mutants run on every `spec.arith.Arith` backend (ints, z3); `floats` runs on ints only.

`calculate_with(name, request)` is the mutant's answer in wire form (same contract as
`reference.calculate`, never raising), so a mutant can be plugged in as a calculator adapter.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import math
import types
from dataclasses import dataclass
from typing import Any, Callable

import rollsplit.reference.algorithm as alg
from rollsplit.reference import raise_first_violation
from rollsplit.spec import law, orders
from rollsplit.spec.arith import INT, Arith, IntArith, total
from rollsplit.spec.errors import RequestError
from rollsplit.spec.model import Elections, Request, Result
from rollsplit.spec.parse import parse_json, parse_request


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str          # the mistake, in one line
    symbolic: bool            # runs on z3 terms (False: concrete ints only)
    allocate: Callable[[Arith, Request], alg.Outcome]
    arith: Arith | None = None   # concrete backend to use instead of INT (the float mutant)
    witness: dict | None = None  # a request that exposes a concrete-only mutant (no symbolic refutation)
    parse: Callable[[Any], Request] | None = None   # the mutant's own parser (a mistake about what is valid)
    # where the mistake is not in the algorithm: a context that puts it in place for as long as the mutant runs
    # (the cache dispatch, the JSON writer, a table shared with the specification), or a weakened specification
    patch: Callable[[], Any] | None = None
    where: str = "algorithm"     # algorithm | parser | dispatch | writer | shared table | specification

    def active(self):
        """The mutant's patch as a context manager (a no-op for mutants of the algorithm or the parser)."""
        return self.patch() if self.patch is not None else contextlib.nullcontext()


@contextlib.contextmanager
def patched(**names: Any):
    """Replace module globals of reference.algorithm for the duration of one call (restored even on error)."""
    saved = {k: getattr(alg, k) for k in names}
    try:
        for k, v in names.items():
            setattr(alg, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(alg, k, v)


def _law_with(**overrides: Any) -> types.SimpleNamespace:
    """A stand-in for `spec.law` with some functions replaced (the rest delegate to the real tables)."""
    ns = types.SimpleNamespace(**{k: getattr(law, k) for k in dir(law) if not k.startswith("__")})
    for k, v in overrides.items():
        setattr(ns, k, v)
    return ns


def _run_on(A: Arith, req: Request, changed: Request, regime: str | None = None) -> alg.Outcome:
    """The reference's result for `changed`, judged by the reference's election checks for `req`.

    Every other check (ranges of sums, eligibility after allocation) is the one of the mutant's own
    allocation, as a calculator with this mistake would run it.
    """
    own = alg.allocate(A, req)
    mutated = alg.allocate(A, changed)
    checks = tuple(c for c in mutated.checks if c.code != "invalid_election") + \
        tuple(c for c in own.checks if c.code == "invalid_election")
    result = mutated.result
    if result.regime != req.regime:
        result = dataclasses.replace(result, regime=req.regime)
    return dataclasses.replace(mutated, checks=checks, result=result)


# ---- the mutants ---------------------------------------------------------------------------------
def old_rule_per_destination(A: Arith, req: Request) -> alg.Outcome:
    if req.regime == law.OLD:
        return alg.allocate(A, req)
    e = dataclasses.replace(req.elections, direct_pretax_order=None, direct_pretax_amounts=None)
    return _run_on(A, req, dataclasses.replace(req, regime=law.OLD, elections=e))


def aftertax_first(A: Arith, req: Request) -> alg.Outcome:
    def aftertax_fills_directs_first(A, P, T, R, caps):
        # after-tax money fills the direct rollovers first; they carry pre-tax only beyond it
        return A.max(0, total(A, caps) - T)
    with patched(direct_pretax_total=aftertax_fills_directs_first):
        return alg.allocate(A, req)


def _reversed_order(fill_order: Callable[[Request], list[int]], rows: Callable[[Request], tuple]):
    def order(req: Request) -> list[int]:
        listed, rest = [], []
        normal = fill_order(req)
        e = req.elections
        chosen = set((e.direct_pretax_order or ()) + (e.sixty_day_pretax_order or ()))
        ids = [r.id for r in rows(req)]
        for i in normal:
            (listed if ids[i] in chosen else rest).append(i)
        return listed + rest[::-1]   # the default part reversed (ties too)
    return order


def wrong_order(A: Arith, req: Request) -> alg.Outcome:
    with patched(direct_fill_order=_reversed_order(orders.direct_fill_order, lambda r: r.directs),
                  sixty_day_fill_order=_reversed_order(orders.sixty_day_fill_order, lambda r: r.rollovers_60_day)):
        return alg.allocate(A, req)


def per_destination_rounding(A: Arith, req: Request) -> alg.Outcome:
    amounts = [d.amount for d in req.disbursements]

    def per_row(A, D, balance, basis, pre1987):
        pre = A.min(D, pre1987)
        return pre + total(A, (A.round_half_up(a, basis - pre1987, balance - pre1987) for a in amounts))
    with patched(basis_recovered=per_row):
        return alg.allocate(A, req)


def ignored_election(A: Arith, req: Request) -> alg.Outcome:
    return _run_on(A, req, dataclasses.replace(req, elections=Elections()))


def untaxed_conversion(A: Arith, req: Request) -> alg.Outcome:
    with patched(law=_law_with(is_conversion=lambda contract, to: False)):
        return alg.allocate(A, req)


def sixty_day_ignored(A: Arith, req: Request) -> alg.Outcome:
    if not req.rollovers_60_day:
        return alg.allocate(A, req)
    e = dataclasses.replace(req.elections, sixty_day_pretax_order=None,
                            sixty_day_pretax_amounts={x.id: 0 for x in req.rollovers_60_day})
    return _run_on(A, req, dataclasses.replace(req, elections=e))


class FloatArith(IntArith):
    """round_half_up computed in binary floating point, the way a quick script would."""

    def round_half_up(self, x, y, z):
        return int(math.floor(float(x) * y / z + 0.5)) if z > 0 else 0


def floats(A: Arith, req: Request) -> alg.Outcome:
    return alg.allocate(A, req)


def truncation(A: Arith, req: Request) -> alg.Outcome:
    def floor_share(A, D, balance, basis, pre1987):
        pre = A.min(D, pre1987)
        return pre + A.floordiv((D - pre) * (basis - pre1987), balance - pre1987)
    with patched(basis_recovered=floor_share):
        return alg.allocate(A, req)


def _rewithhold(A: Arith, req: Request, out: alg.Outcome, base: Callable[[Any, Any], Any]) -> alg.Outcome:
    """Replace the payment's withholding by 20% of `base(request row, result row)`."""
    res: Result = out.result
    rows = []
    w_total: Any = 0
    for d, r in zip(req.disbursements, res.disbursements):
        if d.method == "paid" and not req.hardship:
            w = A.round_half_up(base(d, r), *law.WITHHOLDING_RATE)
            r = dataclasses.replace(r, withholding=w, form_1099r=dataclasses.replace(r.form_1099r, box4=w))
        w_total = w_total + r.withholding
        rows.append(r)
    return dataclasses.replace(out, result=dataclasses.replace(res, disbursements=tuple(rows), withholding=w_total))


def wrong_withholding_base(A: Arith, req: Request) -> alg.Outcome:
    return _rewithhold(A, req, alg.allocate(A, req), lambda d, r: d.amount)


def withholding_on_rmd(A: Arith, req: Request) -> alg.Outcome:
    return _rewithhold(A, req, alg.allocate(A, req), lambda d, r: r.pretax)


def in_plan_roth_untaxed(A: Arith, req: Request) -> alg.Outcome:
    with patched(law=_law_with(is_conversion=lambda contract, to: law.is_conversion(contract, to)
                               and to != "in_plan_roth")):
        return alg.allocate(A, req)


def offset_withholding_beyond_cash(A: Arith, req: Request) -> alg.Outcome:
    out = alg.allocate(A, req)
    year = {d.id: d.distributed - req.rmd + req.other_eligible_this_year for d in req.disbursements}

    def uncapped(d, r):   # 20% of the whole eligible taxable part, the floor kept, the cash cap forgotten
        return A.ite(A.lt(year[d.id], law.WITHHOLDING_DE_MINIMIS), 0, r.pretax - out.rmd_pretax)
    return _rewithhold(A, req, out, uncapped)


def no_withholding_floor(A: Arith, req: Request) -> alg.Outcome:
    out = alg.allocate(A, req)
    return _rewithhold(A, req, out, lambda d, r: r.pretax - out.rmd_pretax)


def roth_cash_box7_null(A: Arith, req: Request) -> alg.Outcome:
    out = alg.allocate(A, req)
    rows = tuple(dataclasses.replace(r, form_1099r=dataclasses.replace(r.form_1099r, box7=None))
                 if d.method == "paid" else r for d, r in zip(req.disbursements, out.result.disbursements))
    return dataclasses.replace(out, result=dataclasses.replace(out.result, disbursements=rows))


def ignored_pre1987(A: Arith, req: Request) -> alg.Outcome:
    def ordinary(A, D, balance, basis, pre1987):
        return A.round_half_up(D, basis, balance)
    with patched(basis_recovered=ordinary):
        return alg.allocate(A, req)


def _may_receive_457b_aftertax(contract, method, to, accepts_aftertax, kind, recipient="participant"):
    if contract == "pretax_aftertax" and to == "457b_gov":
        return True
    return law.may_receive(contract, method, to, accepts_aftertax, kind, recipient)


def aftertax_into_457b(A: Arith, req: Request) -> alg.Outcome:
    def receives_nothing(contract, method, to, accepts, recipient="participant"):
        return not any(_may_receive_457b_aftertax(contract, method, to, accepts, k, recipient)
                       for k in ("pretax", "aftertax"))
    with patched(law=_law_with(may_receive=_may_receive_457b_aftertax, receives_nothing=receives_nothing)):
        return alg.allocate(A, req)


# ---- contract 1.2: who receives the money -----------------------------------------------------------------------
def _any_recipient_may(contract, method, to, accepts_aftertax, kind, recipient="participant"):
    """The routes of the participant for everyone: an inherited IRA taken for the IRA of its kind."""
    return law.may_receive(contract, method, law.INHERITED.get(to, to), accepts_aftertax, kind)


def recipient_ignored(A: Arith, req: Request) -> alg.Outcome:
    def receives_nothing(contract, method, to, accepts, recipient="participant"):
        return not any(_any_recipient_may(contract, method, to, accepts, k) for k in ("pretax", "aftertax"))
    with patched(law=_law_with(may_receive=_any_recipient_may, receives_nothing=receives_nothing)):
        return alg.allocate(A, req)


def beneficiary_age_code(A: Arith, req: Request) -> alg.Outcome:
    """Box 7 gives a beneficiary's payment the participant's age code: 7 (or nothing) instead of 4."""
    if req.event_code == "4":
        req = dataclasses.replace(req, event_code="7")
    return alg.allocate(A, req)


def event_code_beside_g(A: Arith, req: Request) -> alg.Outcome:
    """The age code is written beside G on a participant's direct rollover (e.g. 7,G), which the instructions
    do not list."""
    def box7(route, event):
        return law.box7(route, event) if event is None or route is None or "," in route else f"{event},{route}"
    with patched(law=_law_with(box7=box7)):
        return alg.allocate(A, req)


def box11_left_out(A: Arith, req: Request) -> alg.Outcome:
    """Box 11 is never written, the first year of designated Roth contributions given or not."""
    out = alg.allocate(A, req)
    rows = tuple(dataclasses.replace(r, form_1099r=dataclasses.replace(r.form_1099r, box11=None))
                 for r in out.result.disbursements)
    return dataclasses.replace(out, result=dataclasses.replace(out.result, disbursements=rows))


# ---- parser mutants: a rule of contract 1.1 about which requests are valid, not known ------------------
def _parse_despite(code: str, repair: Callable[[dict], tuple[dict, Callable[[Request], Request]]]):
    """A parser that does not know the check `code`: where the real parser rejects a request with it, the request
    is repaired just enough to pass that check, parsed, and the repair is undone on the parsed request (so the
    answer is computed for the request as given, the mistake a calculator without the rule makes)."""
    def parse(obj: Any) -> Request:
        try:
            return parse_request(obj)
        except RequestError as e:
            if e.code != code or not isinstance(obj, dict):
                raise
            fixed, undo = repair(copy.deepcopy(obj))
            return undo(parse_request(fixed))
    return parse


def _zero_rows_repair(obj: dict):
    zero = {(k, i) for k in ("disbursements", "rollovers_60_day") for i, r in enumerate(obj.get(k) or [])
            if isinstance(r, dict) and r.get("amount") == 0 and not r.get("loan_offset")}
    for k, i in zero:
        obj[k][i]["amount"] = 1

    def undo(req: Request) -> Request:
        rows = tuple(dataclasses.replace(d, amount=0) if ("disbursements", i) in zero else d
                     for i, d in enumerate(req.disbursements))
        sixty = tuple(dataclasses.replace(x, amount=0) if ("rollovers_60_day", i) in zero else x
                      for i, x in enumerate(req.rollovers_60_day))
        return dataclasses.replace(req, disbursements=rows, rollovers_60_day=sixty)
    return obj, undo


def _regime_repair(obj: dict):
    regime = obj.pop("regime")
    return obj, lambda req: dataclasses.replace(req, regime=regime)


def _hardship_repair(obj: dict):
    obj["hardship"] = False
    return obj, lambda req: dataclasses.replace(req, hardship=True)


def _nonspouse_repair(obj: dict):
    """Any beneficiary taken for the surviving spouse, who may roll over within 60 days (and the answer is the
    spouse's: the 60-day rollover carries its money)."""
    obj["recipient"] = "spouse_beneficiary"
    return obj, lambda req: req


def _dated(when: str):
    def repair(obj: dict):
        date = obj.get("date")
        obj["date"] = when
        return obj, lambda req: dataclasses.replace(req, date=datetime.date.fromisoformat(date))
    return repair


# ---- mutants outside the algorithm: the dispatch, the writer, a shared table, an over-strict check, the spec ----
@contextlib.contextmanager
def _attribute(obj: Any, name: str, value: Any):
    saved = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, saved)


def _dict_order_money():
    """The compiled path takes elected amounts in the order the election's keys were written, while the cache key
    records only which rows have one: two requests that differ in that order share one compiled function."""
    from rollsplit.reference import compiled

    def in_written_order(amounts, rows):
        named = {r.id for r in rows}
        return [v for k, v in amounts.items() if k in named]
    return _attribute(compiled, "_elected", in_written_order)


def _swapped_writer():
    """The JSON writer puts a disbursement's pre-tax amount under "aftertax" and the after-tax under "pretax"."""
    from rollsplit.spec import model

    def to_wire(self) -> dict:
        return {"id": self.id, "pretax": self.aftertax, "aftertax": self.pretax, "taxable": self.taxable,
                "withholding": self.withholding, "form_1099r": self.form_1099r.to_wire()}
    return _attribute(model.DisbursementResult, "to_wire", to_wire)


def _swapped_default_order():
    """The shared table of default ranks gives a Roth IRA's rank to traditional vehicles and back: the algorithm
    fills Roth IRAs with pre-tax money first."""
    real = law.direct_default_rank

    def rank(contract, to, accepts_aftertax):
        r = real(contract, to, accepts_aftertax)
        return {1: 2, 2: 1}.get(r, r) if contract == "pretax_aftertax" else r
    return _attribute(law, "direct_default_rank", rank)


def rejects_full_distribution(A: Arith, req: Request) -> alg.Outcome:
    out = alg.allocate(A, req)
    D = total(A, (d.distributed for d in req.disbursements))
    extra = alg.Check("distribution_exceeds_balance", A.le(req.balance, D), "disbursements",
                      lambda: "The disbursements add up to the whole balance, which this calculator refuses.")
    return dataclasses.replace(out, checks=out.checks + (extra,))


def reverse_beyond_four(A: Arith, req: Request) -> alg.Outcome:
    def order(req: Request) -> list[int]:
        normal = orders.direct_fill_order(req)
        return normal[::-1] if len(req.directs) > 4 else normal
    with patched(direct_fill_order=order):
        return alg.allocate(A, req)


def _form_without_box7():
    """FORM-1099R loses its box-7 conjunct: the specification no longer says which code goes in box 7."""
    from rollsplit.spec import invariants

    def weaker(A, req, res):
        conds = []
        for d, r in zip(req.disbursements, res.disbursements):
            f = r.form_1099r
            conds += [A.eq(f.box1, d.distributed), A.eq(f.box4, r.withholding), A.eq(f.box5, r.aftertax)]
        return A.and_(*conds)
    return invariants.weakened("FORM-1099R", weaker)


def negative_remaining(A: Arith, req: Request) -> alg.Outcome:
    out = alg.allocate(A, req)
    D = total(A, (d.distributed for d in req.disbursements))
    return dataclasses.replace(out, result=dataclasses.replace(out.result, remaining_balance=D - req.balance))


def qualified_roth_ignored(A: Arith, req: Request) -> alg.Outcome:
    return _run_on(A, req, dataclasses.replace(req, qualified_roth=False))


def sixty_day_taxable_left_out(A: Arith, req: Request) -> alg.Outcome:
    out = alg.allocate(A, req)
    res = out.result
    return dataclasses.replace(out, result=dataclasses.replace(
        res, taxable_income=total(A, (r.taxable for r in res.disbursements))))


def leftover_cents_in_order(A: Arith, req: Request) -> alg.Outcome:
    def in_order(A, T, amounts):
        D = total(A, amounts)
        q = [A.floordiv(T * a, D) for a in amounts]
        k = T - total(A, q)
        # the leftover cents to the first rows, whatever their remainders
        return [qi + A.ite(A.lt(i, k), 1, 0) for i, qi in enumerate(q)]
    with patched(largest_remainder=in_order):
        return alg.allocate(A, req)


def _swapped_ids():
    """The writer gives the first two disbursements each other's id."""
    from rollsplit.spec import model
    real = model.Result.to_wire

    def to_wire(self) -> dict:
        w = real(self)
        rows = w["disbursements"]
        if len(rows) > 1:
            rows[0]["id"], rows[1]["id"] = rows[1]["id"], rows[0]["id"]
        return w
    return _attribute(model.Result, "to_wire", to_wire)


def _fixed_regime():
    """The writer names Notice 2014-54 as the rule applied, whatever rule was applied."""
    from rollsplit.spec import model
    real = model.Result.to_wire

    def to_wire(self) -> dict:
        return {**real(self), "regime": law.NEW}
    return _attribute(model.Result, "to_wire", to_wire)


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("old_rule_per_destination", "Each disbursement carries its own pro rata share of basis even under "
           "Notice 2014-54 (the pre-2015 rule applied to new distributions).", True, old_rule_per_destination),
    Mutant("aftertax_first", "After-tax money fills the direct rollovers first; they carry pre-tax only beyond "
           "the whole after-tax amount.", True, aftertax_first),
    Mutant("wrong_order", "The default fill order is reversed: Roth IRA before traditional IRA and before plans "
           "that refuse after-tax money (60-day: Roth IRA first).", True, wrong_order),
    Mutant("per_destination_rounding", "Each disbursement's after-tax share is rounded separately and the "
           "rounded shares are added up.", True, per_destination_rounding),
    Mutant("ignored_election", "The participant's elections are ignored; pre-tax always fills in the default "
           "order.", True, ignored_election),
    Mutant("untaxed_conversion", "Pre-tax money rolled over to a Roth IRA is not counted as taxable "
           "(the §408A(d)(3) conversion is missed).", True, untaxed_conversion),
    Mutant("sixty_day_ignored", "60-day rollovers carry no pre-tax money; all of the payment's pre-tax stays "
           "taxable.", True, sixty_day_ignored),
    Mutant("floats", "The pro rata share and the withholding are computed in binary floating point "
           "(float(D) * basis / balance).", False, floats, arith=FloatArith(),
           # products beyond 2^53 lose bits: the share is off by one cent (found by random search)
           witness={"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax",
                    "balance": 6576629587018058, "basis": 3888008861043222,
                    "disbursements": [{"id": "me", "method": "paid", "amount": 2029986317096425}]}),
    Mutant("truncation", "The pro rata share is truncated (floor) instead of rounded half up.", True, truncation),
    Mutant("wrong_withholding_base", "20% is withheld from the whole payment, after-tax money included.",
           True, wrong_withholding_base),
    Mutant("withholding_on_rmd", "20% is withheld from all of the payment's pre-tax money, the RMD's pre-tax "
           "part included.", True, withholding_on_rmd),
    Mutant("ignored_pre1987", "Pre-1987 basis is treated as ordinary basis: no tax-free recovery first under "
           "§72(e)(8)(D).", True, ignored_pre1987),
    Mutant("aftertax_into_457b", "After-tax money is accepted into a governmental 457(b) plan without an "
           "ineligible_destination error.", True, aftertax_into_457b),
    Mutant("no_withholding_floor", "20% is withheld even when the year's eligible rollover distributions "
           "received total less than $200 (Reg. §31.3405(c)-1 Q&A-14 missed).", True, no_withholding_floor),
    Mutant("offset_withholding_beyond_cash", "20% of a payment with a plan loan offset is withheld in full, more "
           "than the cash paid (Reg. §31.3405(c)-1 Q&A-11 missed).", True, offset_withholding_beyond_cash),
    Mutant("in_plan_roth_untaxed", "Pre-tax money rolled into the plan's own designated Roth account is not counted "
           "as taxable (§402A(c)(4)(A) missed).", True, in_plan_roth_untaxed),
    Mutant("zero_rows_accepted", "A disbursement or rollover of $0 is answered as if it were a distribution, with "
           "its own Form 1099-R (contract 1.0's answer).", False, alg.allocate, parse=_parse_despite(
               "zero_amount", _zero_rows_repair),
           witness={"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
                    "basis": 2_000_000, "disbursements": [
                        {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 0},
                        {"id": "me", "method": "paid", "amount": 2_000_000}]}),
    Mutant("dates_ignored", "A request dated before a route of the law existed is computed as if today's law "
           "applied (no before_effective_date).", False, alg.allocate,
           parse=_parse_despite("before_effective_date", _dated("2025-06-30")),
           witness={"date": "2007-12-31", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
                    "basis": 2_000_000, "disbursements": [
                        {"id": "roth", "method": "direct", "to": "roth_ira", "amount": 6_000_000},
                        {"id": "me", "method": "paid", "amount": 2_000_000}]}),
    Mutant("roth_rmd_after_2023", "A designated Roth account still pays a lifetime RMD after April 1, 2024 "
           "(§402A(d)(5) missed).", False, alg.allocate,
           parse=_parse_despite("rmd_not_required", _dated("2023-06-30")),
           witness={"date": "2025-06-30", "plan": "401a", "contract": "designated_roth", "balance": 10_000_000,
                    "basis": 2_000_000, "rmd": 100_000, "disbursements": [
                        {"id": "me", "method": "paid", "amount": 2_000_000}]}),
    Mutant("roth_cash_box7_null", "Cash paid from a designated Roth account is reported without code B in box 7.",
           True, roth_cash_box7_null),
    Mutant("election_money_by_key_order", "The compiled path binds elected amounts to rows in the order the "
           "election's keys are written, under a cache key that ignores that order: one row's pre-tax election "
           "lands in another row.", True, alg.allocate, patch=_dict_order_money, where="dispatch",
           # $45,000 each to a traditional and a Roth IRA, $80,000 pre-tax, elected $45,000 and $35,000 with the
           # election's keys written Roth IRA first
           witness={"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
                    "basis": 2_000_000, "disbursements": [
                        {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 4_500_000},
                        {"id": "roth", "method": "direct", "to": "roth_ira", "amount": 4_500_000},
                        {"id": "me", "method": "paid", "amount": 1_000_000}],
                    "elections": {"direct_pretax_amounts": {"roth": 3_500_000, "ira": 4_500_000}}}),
    Mutant("writer_swaps_pretax_aftertax", "The JSON writer puts each disbursement's pre-tax amount under "
           "\"aftertax\" and its after-tax amount under \"pretax\".", True, alg.allocate, patch=_swapped_writer,
           where="writer"),
    Mutant("default_order_table_swapped", "The law table of default ranks, shared by everything that reads it, "
           "puts Roth IRAs before traditional IRAs and plans.", True, alg.allocate, patch=_swapped_default_order,
           where="shared table"),
    Mutant("hardship_rollover_accepted", "A hardship distribution with a 60-day or direct rollover is answered "
           "instead of rejected (§402(c)(4)(C) missed by the parser).", False, alg.allocate,
           parse=_parse_despite("not_eligible_rollover_distribution", _hardship_repair), where="parser"),
    Mutant("nonspouse_sixty_day_accepted", "A nonspouse beneficiary's 60-day rollover is answered instead of "
           "rejected (§402(c)(11): a direct trustee-to-trustee transfer only).", False, alg.allocate,
           parse=_parse_despite("nonspouse_sixty_day_rollover", _nonspouse_repair), where="parser",
           witness={"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax",
                    "recipient": "nonspouse_beneficiary", "balance": 10_000_000, "basis": 2_000_000,
                    "disbursements": [{"id": "me", "method": "paid", "amount": 8_000_000}],
                    "rollovers_60_day": [{"id": "s", "to": "inherited_traditional_ira", "amount": 6_000_000}]}),
    Mutant("recipient_ignored", "Who receives the money is ignored: a beneficiary who is not the spouse may roll "
           "over anywhere the participant may, and the participant into an inherited IRA.", True, recipient_ignored),
    Mutant("beneficiary_age_code", "A beneficiary's forms carry the participant's age code (7) instead of the death "
           "code 4.", True, beneficiary_age_code),
    Mutant("event_code_beside_g", "A participant's direct rollover carries the age code beside G (7,G), which the "
           "instructions do not list.", True, event_code_beside_g),
    Mutant("box11_left_out", "Box 11 (the first year of designated Roth contributions) is never written.", True,
           box11_left_out),
    Mutant("any_rule_any_date", "The earlier rule (Notice 2009-68) is applied whenever it is asked for, also after "
           "it stopped being permitted (2015; 2016 for a designated Roth account).", False, alg.allocate,
           parse=_parse_despite("regime_not_permitted", _regime_repair), where="parser",
           witness={"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "regime": "notice_2009_68",
                    "balance": 10_000_000, "basis": 2_000_000, "disbursements": [
                        {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
                        {"id": "me", "method": "paid", "amount": 2_000_000}]}),
    Mutant("rejects_full_distribution", "Every distribution of the whole balance is rejected (an over-strict "
           "check: the whole-balance rule is then never exercised).", True, rejects_full_distribution),
    Mutant("reverse_beyond_four", "Five or more direct rollovers are filled in reverse default order.", True,
           reverse_beyond_four,
           witness={"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
                    "basis": 2_000_000, "disbursements": [
                        {"id": f"d{i}", "method": "direct", "to": ("traditional_ira", "roth_ira")[i % 2],
                         "amount": 1_000_000} for i in range(5)] + [{"id": "me", "method": "paid",
                                                                      "amount": 1_000_000}]}),
    Mutant("negative_remaining", "The balance remaining is computed the wrong way round (distribution less "
           "balance), a negative number.", True, negative_remaining),
    Mutant("qualified_roth_ignored", "A qualified distribution from a designated Roth account is split as if it "
           "were not qualified: only the basis is after-tax (§402A(d)(1) missed).", True, qualified_roth_ignored),
    Mutant("sixty_day_taxable_left_out", "Taxable income leaves out what 60-day rollovers to a Roth IRA convert.",
           True, sixty_day_taxable_left_out),
    Mutant("leftover_cents_in_order", "Under the old rule the leftover cents of the pro rata split go to the first "
           "disbursements instead of the largest remainders.", True, leftover_cents_in_order),
    Mutant("writer_swaps_row_ids", "The JSON writer gives the first two disbursements each other's id.", True,
           alg.allocate, patch=_swapped_ids, where="writer"),
    Mutant("writer_fixed_regime", "The JSON writer always names Notice 2014-54 as the rule applied.", True,
           alg.allocate, patch=_fixed_regime, where="writer"),
    Mutant("form_1099r_box7_unchecked", "The specification's Form 1099-R rule loses its box 7 conjunct (a "
           "weakened invariant: it no longer pins the distribution code).", True, alg.allocate,
           patch=_form_without_box7, where="specification"),
)}


def compute_with(name: str, req: Request) -> Result:
    """The mutant's concrete answer; raises the first violated value check like `reference.compute`."""
    m = MUTANTS[name]
    with m.active():
        return raise_first_violation(m.allocate(m.arith or INT, req)).result


def written_with(name: str, req: Request) -> dict:
    """The mutant's answer as its writer puts it on the wire (a mutant of the writer writes it wrong)."""
    m = MUTANTS[name]
    with m.active():
        return raise_first_violation(m.allocate(m.arith or INT, req)).result.to_wire()


def parse_with(name: str, obj: Any) -> Request:
    """The request as the mutant reads it: its own parser where its mistake is about validity, else the real one."""
    return (MUTANTS[name].parse or parse_request)(obj)


def calculate_with(name: str, request: Any) -> dict:
    """The mutant as a calculator: request (parsed JSON value, or raw text/bytes) in, wire dict out; never raises."""
    if name not in MUTANTS:
        raise KeyError(f"unknown mutant {name!r}; known: {', '.join(MUTANTS)}")
    try:
        obj = parse_json(request) if isinstance(request, (str, bytes)) else request
        req = parse_with(name, obj)
        if MUTANTS[name].where == "dispatch":   # the mistake is in the compiled path: answer through it
            from rollsplit.reference import compiled   # (compiled afresh: a mutant never reaches the cache)
            with MUTANTS[name].active():
                fast = compiled.compile_shape(req)(compiled.money_of(req), compiled.ids_of(req))
            if fast is not None:
                return fast
        return written_with(name, req)
    except RequestError as e:
        return e.to_wire()
    except Exception as e:  # a mutant is allowed to be wrong, not to crash its caller
        return RequestError("invalid_request", f"The mutant {name} failed: {type(e).__name__}: {e}.").to_wire()
