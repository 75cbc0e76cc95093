"""The explanation of `rollsplit allocate`, written for a tax person, and its machine-readable trace.

The text (tables and "How it was computed") must speak the law's words: legal names of plans, accounts,
destinations and rules instead of the contract's enumeration values, dollars with cents, labelled sums, no
formula that only restates its value, proper singular and plural, and nothing that means something only inside
this repository (internal rule numbers, example names, notes files, tracker numbers).

The trace (`explain.explain_trace`) is the same steps as data: rule id, citation, plain sentence, formulas and
values (integer cents beside dollars). The text is rendered from it, so every value of the trace is in the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from rollsplit.reference import calculate, compute_outcome
from rollsplit.reference import explain
from rollsplit.spec import invariants, law
from rollsplit.spec.errors import RequestError
from rollsplit.spec.parse import parse_json, parse_request

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "examples").glob("*.json"))}


def _req(**kw) -> dict:
    base = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
            "basis": 2_000_000}
    base.update(kw)
    return base


def _direct(id_: str, to: str, amount: int, **kw) -> dict:
    return {"id": id_, "method": "direct", "to": to, "amount": amount, **kw}


def _paid(id_: str, amount: int, **kw) -> dict:
    return {"id": id_, "method": "paid", "amount": amount, **kw}


REQUESTS: dict[str, dict] = {
    **EXAMPLES,
    # one payment and nothing else: the single-term sum the old text wrote as "D = $10,000.00 = $10,000.00"
    "payment_only": _req(disbursements=[_paid("cash", 1_000_000)]),
    "one_direct_only": _req(disbursements=[_direct("ira", "traditional_ira", 3_000_000)]),
    # every kind of destination of a pre-tax/after-tax account at once
    "five_destinations": _req(balance=100_000_000, basis=15_000_000, disbursements=[
        _direct("trad", "traditional_ira", 20_000_000), _direct("roth", "roth_ira", 10_000_000),
        _direct("newplan", "qualified_plan", 15_000_000, accepts_aftertax=False),
        _direct("tsa", "403b", 10_000_000), _direct("gov", "457b_gov", 5_000_000),
        _paid("me", 10_000_000)]),
    "in_plan_roth": _req(disbursements=[
        _direct("trad", "traditional_ira", 5_000_000), _direct("irr", "in_plan_roth", 2_000_000),
        _paid("me", 3_000_000)], rollovers_60_day=[{"id": "later", "to": "roth_ira", "amount": 500_000}]),
    "qualified_loan_offset": _req(date="2025-03-01", balance=1_000_000, basis=0, disbursements=[
        _paid("me", 700_000, loan_offset=300_000, qualified_plan_loan_offset=True)]),
    "offset_caps_withholding": _req(balance=1_000_000, basis=0, disbursements=[
        _paid("me", 100_000, loan_offset=900_000)]),
    "rmd_before_2025": _req(date="2023-05-01", rmd=500_000, disbursements=[
        _direct("ira", "traditional_ira", 3_000_000), _paid("me", 2_000_000)],
        rollovers_60_day=[{"id": "back", "to": "traditional_ira", "amount": 1_000_000}]),
    "rmd_covered_by_aftertax": _req(rmd=100_000, disbursements=[_paid("me", 2_000_000)]),
    "hardship": _req(hardship=True, disbursements=[_paid("me", 500_000)]),
    "under_200_dollars": _req(balance=100_000, basis=10_000, disbursements=[_paid("me", 15_000)]),
    "under_200_with_other_payments": _req(balance=100_000, basis=10_000, other_eligible_this_year=50_000,
                                          disbursements=[_paid("me", 15_000)]),
    "roth_qualified": _req(contract="designated_roth", plan="403b", qualified_roth=True, disbursements=[
        _direct("rira", "roth_ira", 2_000_000), _paid("me", 1_000_000)]),
    "roth_old_rule": _req(contract="designated_roth", plan="403b", date="2014-06-02", disbursements=[
        _direct("rira", "roth_ira", 2_000_000), _paid("me", 1_000_000)]),
    "roth_457b_sixty_day": _req(contract="designated_roth", plan="457b_gov", date="2024-02-01", disbursements=[
        _paid("me", 4_000_000)], rollovers_60_day=[{"id": "back", "to": "designated_roth", "amount": 500_000},
                                                   {"id": "rira", "to": "roth_ira", "amount": 1_000_000}]),
    "direct_amounts_elected": _req(disbursements=[
        _direct("trad", "traditional_ira", 4_000_000), _direct("roth", "roth_ira", 4_000_000),
        _paid("me", 1_000_000)], elections={"direct_pretax_amounts": {"trad": 3_200_000, "roth": 4_000_000}}),
    "sixty_day_order_elected": _req(disbursements=[_paid("me", 8_000_000)], rollovers_60_day=[
        {"id": "trad60", "to": "traditional_ira", "amount": 1_000_000},
        {"id": "roth60", "to": "roth_ira", "amount": 2_000_000}], elections={"sixty_day_pretax_order": ["roth60"]}),
    "all_pre1987": _req(balance=1_000_000, basis=1_000_000, pre1987_basis=1_000_000,
                        disbursements=[_paid("me", 400_000)]),
    "pre1987_larger_than_distribution": _req(pre1987_basis=1_500_000, disbursements=[_paid("me", 1_000_000)]),
    "old_rule_leftover_cents": _req(date="2014-06-30", regime="notice_2009_68", balance=300, basis=2, disbursements=[
        _direct("first", "traditional_ira", 100), _direct("second", "traditional_ira", 100), _paid("third", 100)]),
    "rounding_half_up": _req(balance=300, basis=100, disbursements=[_paid("me", 100)]),
}

# every value of the contract's enumerations that is not an ordinary English word
ENUM_VALUES = sorted({v for values in (law.PLANS, law.CONTRACTS, law.DESTINATIONS, law.REGIMES) for v in values})


def _ids(req: dict) -> list[str]:
    return [row["id"] for key in ("disbursements", "rollovers_60_day") for row in req.get(key, [])]


def _without_ids(text: str, req: dict) -> str:
    """The text with the request's own ids blanked out: an id is the user's word (here `roth_ira` may be one)."""
    for i in sorted(_ids(req), key=len, reverse=True):
        text = re.sub(rf"(?<![\w]){re.escape(i)}(?![\w])", "ID", text)
    return text


def _report(req: dict) -> str:
    r = parse_request(req)
    return explain.report(r, compute_outcome(r))


def _trace(req: dict) -> list[dict]:
    return explain.explain_trace(parse_request(req))


@pytest.fixture(scope="module", params=sorted(REQUESTS), ids=str)
def case(request):
    req = REQUESTS[request.param]
    assert "error" not in calculate(req), calculate(req)
    return request.param, req


# ---- the words --------------------------------------------------------------------------------------------
def test_no_raw_enum_names_or_identifiers(case):
    _, req = case
    text = _without_ids(_report(req), req)
    for value in ENUM_VALUES:
        assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text), value
    # no identifier of the contract at all (field names such as other_eligible_this_year included)
    assert re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", text) == []


@pytest.mark.parametrize("pattern", [r"\brule \d", r"\brules \d", r"seed", r"DOMAIN", r"issue", r"\(s\)",
                                     r"\.md\b", r"\.py\b", r"\bD = ", r"\bN = ", r"\bT = ", r"\bP = "])
def test_no_repository_jargon(case, pattern):
    _, req = case
    text = _without_ids(_report(req), req)
    assert not re.search(pattern, text, re.IGNORECASE), re.search(pattern, text, re.IGNORECASE)


def test_no_tautology(case):
    _, req = case
    text = _report(req)
    assert not re.search(r"= (\$[\d,.]+) = \1(?![\d,])", text)
    for step in _trace(req):
        for calc in step["calculations"]:
            # a formula with one amount and nothing else would only restate its value
            assert not (len(calc["terms"]) == 1 and calc["terms"][0]["cents"] == calc["result"]["cents"]
                        and calc["formula"].split(" = ", 1)[1] == calc["terms"][0]["name"]), calc


def test_singular_and_plural(case):
    _, req = case
    text = _report(req)
    assert not re.search(r"\b1 (rollovers|disbursements|payments|distributions)\b", text)
    assert not re.search(r"\beach of the 1\b", text, re.IGNORECASE)


def test_money_is_dollars_with_cents(case):
    _, req = case
    text = _report(req)
    assert "cents" not in text.replace("leftover cents", "").replace("the cent", "")
    for amount in re.findall(r"\$[\d,]+(?:\.\d+)?", text):
        assert re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}", amount), amount


def test_legal_names():
    seed = _report(EXAMPLES["seed_004"])
    assert "IRS Notice 2014-54" in seed and "traditional IRA" in seed and "401(a)" in seed
    assert "IRS Notice 2009-68" in _report(EXAMPLES["old_regime_2014"])
    roth = _report(EXAMPLES["designated_roth"])
    assert "designated Roth account" in roth and "Roth IRA" in roth and "403(b)" in roth
    five = _report(REQUESTS["five_destinations"])
    assert "governmental 457(b) plan" in five and "qualified plan" in five
    assert "in-plan Roth rollover" in _report(REQUESTS["in_plan_roth"])
    assert "qualified plan loan offset" in _report(REQUESTS["qualified_loan_offset"])


def test_the_seed_example_in_the_laws_words():
    """$100,000 account with $20,000 basis; $60,000 direct to a traditional IRA and $20,000 paid (the law-firm
    alert's example): §72(e)(8) gives $80,000 × $20,000 / $100,000 = $16,000 after-tax; the direct rollover takes
    $60,000 of the $64,000 pre-tax money first, the payment keeps $4,000 pre-tax, 20% of which ($800) is withheld."""
    text = _report(EXAMPLES["seed_004"])
    assert ("$80,000.00 (amount distributed) × $20,000.00 (basis) ÷ $100,000.00 (account balance) = $16,000.00"
            in text)
    assert "$60,000.00 (direct rollover 'ira' to a traditional IRA) + $20,000.00 (payment 'me'" in text
    assert "= $64,000.00" in text and "= $4,000.00" in text
    assert "20% × $4,000.00" in text and "= $800.00" in text


# ---- the trace ---------------------------------------------------------------------------------------------
def test_trace_validates_against_its_schema(case):
    _, req = case
    trace = _trace(req)
    jsonschema.Draft202012Validator.check_schema(explain.TRACE_SCHEMA)
    jsonschema.Draft202012Validator(explain.TRACE_SCHEMA).validate(trace)
    assert json.loads(json.dumps(trace)) == trace   # plain JSON, nothing lost


def _amounts(step: dict):
    yield from step["values"]
    for calc in step["calculations"]:
        yield calc["result"]
        yield from calc["terms"]


def test_trace_money_is_integer_cents(case):
    _, req = case
    for step in _trace(req):
        for amount in _amounts(step):
            assert type(amount["cents"]) is int, amount
            assert amount["dollars"] == explain.money(amount["cents"])


def _blocks(text: str) -> dict[int, str]:
    """The numbered steps of "How it was computed", by number."""
    body = text.split("How it was computed\n", 1)[1]
    parts = re.split(r"^\s*(\d+)\. ", body, flags=re.MULTILINE)
    return {int(n): block for n, block in zip(parts[1::2], parts[2::2])}


def test_trace_and_text_agree(case):
    _, req = case
    trace, blocks = _trace(req), _blocks(_report(req))
    assert [s["step"] for s in trace] == list(range(1, len(trace) + 1)) == sorted(blocks)
    for step in trace:
        block = " ".join(blocks[step["step"]].split())
        assert " ".join(step["text"].split()) in block
        assert step["citation"] in block
        for calc in step["calculations"]:
            assert " ".join(calc["computation"].split()) in block
        for amount in _amounts(step):
            assert amount["dollars"] in block, (step["rule"], amount)


def test_trace_rule_ids_are_the_invariants(case):
    _, req = case
    for step in _trace(req):
        assert step["rule"] in invariants.BY_ID, step["rule"]
        assert not re.search(r"rollsplit|wire contract|\brule \d", step["citation"]), step["citation"]


def test_calculations_add_up(case):
    """Each calculation's dollars are its cents: a sum, a difference or a pro rata share of its terms is its result."""
    _, req = case
    for step in _trace(req):
        for calc in step["calculations"]:
            rhs = calc["formula"].split(" = ", 1)[1]
            names, cents = [t["name"] for t in calc["terms"]], [t["cents"] for t in calc["terms"]]
            if rhs == " + ".join(names):
                assert sum(cents) == calc["result"]["cents"], calc
            elif len(names) == 2 and rhs == f"{names[0]} − {names[1]}":
                assert cents[0] - cents[1] == calc["result"]["cents"], calc
            elif len(names) == 3 and rhs == f"{names[0]} × {names[1]} ÷ {names[2]}":
                x, y, z = cents   # rounded half up, or the largest-remainder cent of the earlier rule
                assert abs(calc["result"]["cents"] * z - x * y) <= z, calc


def test_trace_accepts_a_wire_request_and_the_result_is_unchanged_without_it():
    req = EXAMPLES["seed_004"]
    assert explain.explain_trace(req) == _trace(req)
    r = parse_request(req)
    out = compute_outcome(r)
    with_trace = explain.explained_result(r, out)
    assert with_trace["explanation"] == _trace(req)
    del with_trace["explanation"]
    assert with_trace == out.result.to_wire() == calculate(req)


def test_the_text_report_is_rendered_from_the_trace():
    r = parse_request(REQUESTS["rmd_before_2025"])
    out = compute_outcome(r)
    rendered = explain.render_steps(explain.explain_trace(r, out))
    assert explain.report(r, out).endswith(rendered)
    assert len(explain.steps(r, out)) == len(explain.explain_trace(r, out))


# ---- figures a tax person can check by hand ------------------------------------------------------------------
def test_pre1987_basis_first_then_the_rounded_share():
    """pre1987.json: $10,000 of pre-1987 basis out first; then $40,000 × $20,000 / $90,000 = $8,888.888…, which
    rounds half up to $8,888.89."""
    text = _report(EXAMPLES["pre1987"])
    assert "the smaller of $50,000.00 (amount distributed) and $10,000.00 (pre-1987 basis) = $10,000.00" in text
    assert "× $20,000.00" in text and "÷ $90,000.00" in text and "= $8,888.89, rounded half up to the cent" in text
    assert "$10,000.00 (pre-1987 basis recovered) + $8,888.89" in text and "= $18,888.89" in text


def test_rmd_takes_after_tax_money_first():
    """rmd_and_sixty_day.json: $15,000 RMD, $10,000 after-tax: $5,000 of the RMD is pre-tax; $50,000 − $5,000 =
    $45,000 of the payment's pre-tax money may be rolled over; 20% of $45,000 = $9,000 withheld."""
    text = _report(EXAMPLES["rmd_and_sixty_day"])
    assert "required minimum distribution" in text and "RMD rule" not in text
    assert "$15,000.00 (required minimum distribution) − $10,000.00" in text and "= $5,000.00" in text
    assert "= $45,000.00" in text and "20% × $45,000.00" in text and "= $9,000.00" in text
    assert "Roth IRA" in text and "conversion" in text


def test_withholding_floor_of_200_dollars():
    text = _report(REQUESTS["under_200_dollars"])
    assert "$200.00" in text and "$150.00" in text and "nothing is withheld" in text.lower()
    text = _report(REQUESTS["under_200_with_other_payments"])
    assert "$150.00 (payment 'me')" in text and "$500.00" in text and "= $650.00" in text


def test_loan_offset_caps_withholding_at_the_cash():
    """Treas. Reg. §31.3405(c)-1 Q&A-11: 20% of $10,000 is $2,000, but only the $1,000 of cash can be withheld."""
    text = _report(REQUESTS["offset_caps_withholding"])
    assert "$1,000.00 (cash paid) + $9,000.00 (plan loan offset) = $10,000.00" in text
    assert "the smaller of 20% × $10,000.00" in text and "and $1,000.00 (cash paid) = $1,000.00" in text


def test_old_rule_each_disbursement_its_own_share():
    """old_regime_2014.json: $16,000 × $60,000 / $80,000 = $12,000 after-tax in the IRA rollover."""
    text = _report(EXAMPLES["old_regime_2014"])
    assert "$16,000.00 (after-tax part) × $60,000.00" in text
    assert "÷ $80,000.00 (amount distributed) = $12,000.00" in text


# ---- errors and hints --------------------------------------------------------------------------------------
def test_error_report_shows_dollars():
    req = dict(EXAMPLES["seed_004"], basis=10_000_001)
    with pytest.raises(RequestError) as e:
        compute_outcome(parse_request(req))
    text = explain.error_report(e.value)
    assert "$100,000.01" in text and "$100,000.00" in text and "cents" not in text
    assert "basis_exceeds_balance" in text   # the stable code stays, for whoever reads it to support


def test_error_report_of_an_out_of_range_amount():
    with pytest.raises(RequestError) as e:
        parse_request(dict(EXAMPLES["seed_004"], balance=-5))
    text = explain.error_report(e.value)
    assert "-$0.05" in text and "$90,071,992,547,409.91" in text and "cents" not in text


@pytest.mark.parametrize("field, typo, value", [
    ("plan", "401k", "401a"), ("plan", "401(k)", "401a"), ("plan", "403(b)", "403b"), ("plan", "457b", "457b_gov"),
    ("plan", "457(b)", "457b_gov"), ("contract", "roth", "designated_roth"),
    ("to", "ira", "traditional_ira"), ("to", "Roth IRA", "roth_ira"), ("to", "401k", "qualified_plan"),
    ("regime", "2014-54", "notice_2014_54"), ("method", "rollover", "direct")])
def test_hints_for_common_typos(field, typo, value):
    from rollsplit.spec.hints import enum_hint
    hint = enum_hint(field, typo)
    assert hint is not None and repr(value) in hint.replace('"', "'"), hint


def test_401k_hint_names_the_law():
    from rollsplit.spec.hints import enum_hint
    hint = enum_hint("plan", "401k")
    assert "401(k)" in hint and "401(a)" in hint and "'401a'" in hint.replace('"', "'")


def test_no_hint_for_a_valid_value_or_nonsense():
    from rollsplit.spec.hints import enum_hint
    assert enum_hint("plan", "401a") is None
    assert enum_hint("plan", "zzzzzz") is None
    assert enum_hint("plan", 401) is not None   # a number where the contract wants the string "401a"
    assert enum_hint("nowhere", "x") is None


def test_hint_for_the_path_of_a_row():
    from rollsplit.spec.hints import enum_hint
    assert "traditional_ira" in enum_hint("disbursements[2].to", "Traditional IRA")
    assert "roth_ira" in enum_hint("rollovers_60_day[0].to", "roth")
