"""The oracle: is a calculator's answer to a request right, and if not, what exactly is wrong?

`judge(request, answer, expected)` checks, in this order:
  1. the answer's shape (every contract field present, integers where money is, rows in request order);
  2. the invariants of `spec.invariants` on the answer (which rules of the law it breaks, with citations);
  3. a field-by-field comparison with the expected answer (by default the reference's).
The invariants admit exactly one result for a valid request (determinacy, proved in `solver/`), so a
correct answer has no broken invariant and no differing field. Never raises, whatever the answer holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rollsplit.spec.errors import ERROR_CODES, RequestError
from rollsplit.spec.invariants import INVARIANTS, Invariant
from rollsplit.spec.arith import INT
from rollsplit.spec.model import DisbursementResult, Form1099R, Request, Result, Rollover60Result
from rollsplit.spec.parse import parse_request


@dataclass(frozen=True)
class FieldDiff:
    path: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return self.show()

    def show(self, dollars: bool = False) -> str:
        """`path: expected X, got Y`; with `dollars`, each integer (every number of the contract is cents) has its
        dollars beside it: `expected 6000000 ($60,000.00)`."""
        return f"{self.path}: expected {_show(self.expected, dollars)}, got {_show(self.got, dollars)}"


@dataclass
class Verdict:
    ok: bool
    shape_problems: list[str] = field(default_factory=list)
    broken: list[Invariant] = field(default_factory=list)
    diffs: list[FieldDiff] = field(default_factory=list)
    expected_error: str | None = None
    got_error: str | None = None

    def explain(self, dollars: bool = False) -> str:
        """Several lines a person can read: what differs, which rules are broken and where they come from; with
        `dollars`, amounts show their dollars beside their cents."""
        lines = []
        if self.expected_error and self.got_error != self.expected_error:
            lines.append(f"expected error {self.expected_error!r}, got "
                         + (f"error {self.got_error!r}" if self.got_error else "a result"))
        elif self.got_error and not self.expected_error:
            lines.append(f"expected a result, got error {self.got_error!r}")
        lines += [f"shape: {p}" for p in self.shape_problems]
        lines += [f"  {d.show(dollars)}" for d in self.diffs]
        lines += [f"breaks {inv.id}: {inv.statement} [{inv.citation()}]" for inv in self.broken]
        return "\n".join(lines) if lines else "ok"


def _show(v: Any, dollars: bool = False) -> str:
    import json
    if dollars and isinstance(v, int) and not isinstance(v, bool):
        from rollsplit.conformance.describe import cents_and_dollars
        return cents_and_dollars(v)
    try:
        s = json.dumps(v)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= 120 else s[:117] + "..."


class _ShapeError(Exception):
    pass


def _int(obj: Any, key: str, path: str, problems: list[str]) -> int:
    if not isinstance(obj, dict) or key not in obj:
        problems.append(f"{path} is missing")
        return 0
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, int):
        problems.append(f"{path} must be an integer number of cents, got {_show(v)}")
        return 0
    return v


def parse_answer(req: Request, answer: Any, forms: bool = True) -> tuple[Result | None, list[str]]:
    """Read a wire Result into the model, listing every shape problem (rows must follow request order)."""
    problems: list[str] = []
    if not isinstance(answer, dict):
        return None, [f"the answer must be a JSON object, got {_show(answer)}"]
    dist = answer.get("distribution")
    rem = answer.get("remaining")
    for name, v in (("distribution", dist), ("remaining", rem)):
        if not isinstance(v, dict):
            problems.append(f"{name} must be an object")
    rows = answer.get("disbursements")
    sixty = answer.get("rollovers_60_day")
    if not isinstance(rows, list) or len(rows) != len(req.disbursements):
        problems.append(f"disbursements must be an array of {len(req.disbursements)} rows in request order")
        rows = None
    if not isinstance(sixty, list) or len(sixty) != len(req.rollovers_60_day):
        problems.append(f"rollovers_60_day must be an array of {len(req.rollovers_60_day)} rows in request order")
        sixty = None
    if not isinstance(answer.get("regime"), str):
        problems.append("regime must be a string")
    if problems:
        return None, problems
    out_rows = []
    for i, (d, r) in enumerate(zip(req.disbursements, rows)):
        p = f"disbursements[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{p} must be an object")
            continue
        if r.get("id") != d.id:
            problems.append(f"{p}.id must be {d.id!r} (request order), got {_show(r.get('id'))}")
        f = r.get("form_1099r") if forms else {}
        if forms and not isinstance(f, dict):
            problems.append(f"{p}.form_1099r must be an object")
            f = {}
        fp = f"{p}.form_1099r"
        form = Form1099R(box1=_int(f, "box1", fp + ".box1", problems) if forms else d.distributed,
                         box2a=_int(f, "box2a", fp + ".box2a", problems) if forms else 0,
                         box4=_int(f, "box4", fp + ".box4", problems) if forms else 0,
                         box5=_int(f, "box5", fp + ".box5", problems) if forms else 0,
                         box7=f.get("box7") if forms else None,
                         box11=f.get("box11") if forms else None)   # contract 1.2: present only when due
        if forms and ("box7" not in f or not (f["box7"] is None or isinstance(f["box7"], str))):
            problems.append(f"{fp}.box7 must be a string or null")
        if forms and "box11" in f and (isinstance(f["box11"], bool) or not isinstance(f["box11"], int)):
            problems.append(f"{fp}.box11 must be a year as an integer, got {_show(f['box11'])}")
        out_rows.append(DisbursementResult(
            id=d.id, pretax=_int(r, "pretax", p + ".pretax", problems),
            aftertax=_int(r, "aftertax", p + ".aftertax", problems),
            taxable=_int(r, "taxable", p + ".taxable", problems),
            withholding=_int(r, "withholding", p + ".withholding", problems), form_1099r=form))
    out_sixty = []
    for j, (x, r) in enumerate(zip(req.rollovers_60_day, sixty)):
        p = f"rollovers_60_day[{j}]"
        if not isinstance(r, dict):
            problems.append(f"{p} must be an object")
            continue
        if r.get("id") != x.id:
            problems.append(f"{p}.id must be {x.id!r} (request order), got {_show(r.get('id'))}")
        out_sixty.append(Rollover60Result(id=x.id, pretax=_int(r, "pretax", p + ".pretax", problems),
                                          aftertax=_int(r, "aftertax", p + ".aftertax", problems),
                                          taxable=_int(r, "taxable", p + ".taxable", problems)))
    res = Result(
        regime=answer["regime"],
        amount=_int(dist, "amount", "distribution.amount", problems),
        pretax=_int(dist, "pretax", "distribution.pretax", problems),
        aftertax=_int(dist, "aftertax", "distribution.aftertax", problems),
        basis_recovered=_int(dist, "basis_recovered", "distribution.basis_recovered", problems),
        disbursements=tuple(out_rows), rollovers_60_day=tuple(out_sixty),
        taxable_income=_int(answer, "taxable_income", "taxable_income", problems),
        withholding=_int(answer, "withholding", "withholding", problems),
        remaining_balance=_int(rem, "balance", "remaining.balance", problems),
        remaining_basis=_int(rem, "basis", "remaining.basis", problems),
        remaining_pre1987_basis=_int(rem, "pre1987_basis", "remaining.pre1987_basis", problems))
    return (None if problems else res), problems


def broken_invariants(req: Request, res: Result, forms: bool = True) -> list[Invariant]:
    out = []
    for inv in INVARIANTS:
        if not inv.applies(req) or (not forms and inv.id == "FORM-1099R"):
            continue
        try:
            if not inv.holds(INT, req, res):
                out.append(inv)
        except Exception:  # an answer absurd enough to upset a predicate breaks it
            out.append(inv)
    return out


def diff(expected: Any, got: Any, path: str = "", forms: bool = True) -> list[FieldDiff]:
    """Field-by-field differences on the fields of `expected` (extra fields in `got` are allowed)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [FieldDiff(path or "(answer)", expected, got)]
        out = []
        for k, v in expected.items():
            if k == "form_1099r" and not forms:
                continue
            sub = f"{path}.{k}" if path else k
            if k not in got:
                out.append(FieldDiff(sub, v, "(missing)"))
            else:
                out += diff(v, got[k], sub, forms)
        return out
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [FieldDiff(path, expected, got)]
        out = []
        for i, (e, g) in enumerate(zip(expected, got)):
            out += diff(e, g, f"{path}[{i}]", forms)
        return out
    if type(expected) is not type(got) or expected != got:
        return [FieldDiff(path, expected, got)]
    return []


def normalize_expected(expected: Any) -> tuple[str, Any]:
    """('error', code) or ('result', wire result) from the forms vectors and the reference use."""
    if isinstance(expected, dict) and "error" in expected:
        e = expected["error"]
        return "error", e.get("code") if isinstance(e, dict) else e
    if isinstance(expected, dict) and "result" in expected:
        return "result", expected["result"]
    return "result", expected


def _answer_error(answer: Any) -> tuple[str | None, list[str]]:
    """The error code of an error answer and problems with its shape."""
    e = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(e, dict):
        return None, ["error must be an object with code, message and field"]
    problems = []
    code = e.get("code")
    if code not in ERROR_CODES:
        problems.append(f"error.code {_show(code)} is not a code of the contract")
    if not isinstance(e.get("message"), str) or not e.get("message"):
        problems.append("error.message must be a non-empty sentence")
    if "field" not in e or not (e["field"] is None or isinstance(e["field"], str)):
        problems.append("error.field must be a JSON path string or null")
    return (code if isinstance(code, str) else repr(code)), problems


def judge(request: Any, answer: Any, expected: Any = None, forms: bool = True) -> Verdict:
    """Judge `answer` (a wire Result, or {"error": {...}}) to the wire `request`.

    `expected`: {"result": R} | {"error": code} | a wire Result | an Error JSON | None (ask the reference).
    `forms=False` ignores form_1099r (for implementations that do not declare the feature).
    """
    if expected is None:
        from rollsplit.reference import calculate
        expected = calculate(request)
    kind, want = normalize_expected(expected)
    is_error = isinstance(answer, dict) and "error" in answer
    if kind == "error":
        if not is_error:
            return Verdict(ok=False, expected_error=want, diffs=[FieldDiff("error", want, "(a result)")])
        code, problems = _answer_error(answer)
        return Verdict(ok=(code == want and not problems), shape_problems=problems, expected_error=want, got_error=code)
    if is_error:
        code, problems = _answer_error(answer)
        return Verdict(ok=False, shape_problems=problems, got_error=code)
    try:
        req = parse_request(request)
    except RequestError as e:  # the expected answer is a result, so this cannot happen with a sound vector
        return Verdict(ok=False, shape_problems=[f"the request itself is invalid: {e}"])
    res, problems = parse_answer(req, answer, forms)
    broken = broken_invariants(req, res, forms) if res is not None else []
    diffs = diff(want, answer, forms=forms)
    return Verdict(ok=not problems and not broken and not diffs, shape_problems=problems, broken=broken, diffs=diffs)
