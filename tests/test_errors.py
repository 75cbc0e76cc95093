"""Every error code of wire contract v1 on a minimal request, its field path and its sentence; malformed input of
every kind gives an error with a known code, never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollsplit.reference import calculate, calculate_text, compute
from reference_helpers import direct, paid, request, sixty
from rollsplit.spec.errors import ERROR_CODES
from rollsplit.spec.invariants import violated
from rollsplit.spec.parse import parse_request


def check_error(answer: dict, code: str, field: str | None) -> None:
    assert set(answer) == {"error"}, answer
    e = answer["error"]
    assert set(e) == {"code", "message", "field"}
    assert (e["code"], e["field"]) == (code, field), e
    assert_sentence(e["message"])


def assert_sentence(message: str) -> None:
    """A sentence a person reads: several words, one line, a final full stop, no Python internals."""
    assert isinstance(message, str) and "\n" not in message
    assert len(message.split()) >= 4, message
    assert message.rstrip().endswith("."), message
    for leak in ("Traceback", "Error(", "NoneType", "object at 0x", "KeyError", "<class"):
        assert leak not in message, message


BASE = request([direct("ira", "traditional_ira", 6_000_000), paid("me", 2_000_000)])


def with_(**changes) -> dict:
    req = json.loads(json.dumps(BASE))
    req.update(changes)
    return req


CASES = [
    # code, request, field
    ("invalid_request", [1, 2], None),
    ("invalid_request", "a string", None),
    ("invalid_request", {k: v for k, v in BASE.items() if k != "balance"}, "balance"),
    ("invalid_request", with_(colour="blue"), "colour"),
    ("invalid_request", with_(plan="401k"), "plan"),
    ("invalid_request", with_(contract="roth"), "contract"),
    ("invalid_request", with_(date="2025-02-30"), "date"),
    ("invalid_request", with_(date="30/06/2025"), "date"),
    ("invalid_request", with_(balance=10_000_000.0), "balance"),
    ("invalid_request", with_(balance=True), "balance"),
    ("invalid_request", with_(balance="10000000"), "balance"),
    ("invalid_request", with_(balance=None), "balance"),
    ("invalid_request", with_(hardship="no"), "hardship"),
    ("invalid_request", with_(disbursements={}), "disbursements"),
    ("invalid_request", with_(disbursements=[7]), "disbursements[0]"),
    ("invalid_request", with_(disbursements=[{"id": "x", "method": "cheque", "amount": 1}]), "disbursements[0].method"),
    ("invalid_request", with_(disbursements=[{"id": "x", "method": "direct", "amount": 1}]), "disbursements[0].to"),
    ("invalid_request", with_(disbursements=[direct("x", "hsa", 1)]), "disbursements[0].to"),
    ("invalid_request", with_(disbursements=[{"id": "", "method": "paid", "amount": 1}]), "disbursements[0].id"),
    ("invalid_request", with_(disbursements=[{"id": "x", "method": "paid", "amount": 1, "to": "roth_ira"}]),
     "disbursements[0].to"),
    ("invalid_request", with_(qualified_roth=True), "qualified_roth"),
    ("invalid_request", with_(regime="notice_2020"), "regime"),
    ("invalid_request", with_(elections={"direct_pretax_order": "ira"}), "elections.direct_pretax_order"),
    ("invalid_request", with_(elections={"sixty_day_pretax_amounts": []}), "elections.sixty_day_pretax_amounts"),
    ("amount_out_of_range", with_(balance=-1), "balance"),
    ("amount_out_of_range", with_(basis=2**53), "basis"),
    ("amount_out_of_range", with_(rmd=10**30), "rmd"),
    ("amount_out_of_range", with_(disbursements=[paid("me", -5)]), "disbursements[0].amount"),
    ("basis_exceeds_balance", with_(basis=10_000_001), "basis"),
    ("basis_exceeds_balance", with_(pre1987_basis=2_000_001), "pre1987_basis"),
    ("zero_amount", with_(disbursements=[paid("me", 0)]), "disbursements[0].amount"),
    ("zero_amount", with_(rollovers_60_day=[sixty("r", "traditional_ira", 0)]), "rollovers_60_day[0].amount"),
    ("empty_distribution", with_(disbursements=[]), "disbursements"),
    ("before_effective_date", with_(date="2001-12-31"), "date"),
    ("before_effective_date", with_(date="2007-12-31", disbursements=[direct("r", "roth_ira", 1), paid("me", 1)]),
     "disbursements[0].to"),
    ("rmd_not_required", with_(contract="designated_roth", rmd=1,
                               disbursements=[direct("r", "roth_ira", 1), paid("me", 1)]), "rmd"),
    ("distribution_exceeds_balance", with_(disbursements=[paid("me", 10_000_001)]), "disbursements"),
    ("duplicate_id", with_(disbursements=[direct("x", "traditional_ira", 1), paid("x", 1)]), "disbursements[1].id"),
    ("duplicate_id", with_(rollovers_60_day=[sixty("me", "traditional_ira", 1)]), "rollovers_60_day[0].id"),
    ("more_than_one_payment", with_(disbursements=[paid("a", 1), paid("b", 1)]), "disbursements[1]"),
    ("sixty_day_without_payment", with_(disbursements=[direct("ira", "traditional_ira", 1)],
                                        rollovers_60_day=[sixty("r", "traditional_ira", 1)]), "rollovers_60_day"),
    ("sixty_day_exceeds_payment", with_(rollovers_60_day=[sixty("r", "traditional_ira", 2_000_001)]),
     "rollovers_60_day"),
    ("rmd_exceeds_payment", with_(rmd=2_000_001), "rmd"),
    ("ineligible_destination", with_(disbursements=[direct("gov", "457b_gov", 9_000_000)]), "disbursements[0]"),
    ("not_eligible_rollover_distribution", with_(hardship=True), "disbursements[0]"),
    ("invalid_election", with_(elections={"direct_pretax_order": ["ira"], "direct_pretax_amounts": {"ira": 1}}),
     "elections.direct_pretax_amounts"),
    ("invalid_election", with_(elections={"direct_pretax_order": ["me"]}), "elections.direct_pretax_order[0]"),
    ("invalid_election", with_(elections={"direct_pretax_order": ["ira", "ira"]}), "elections.direct_pretax_order[1]"),
    ("invalid_election", with_(elections={"sixty_day_pretax_amounts": {"nobody": 0}}),
     "elections.sixty_day_pretax_amounts.nobody"),
    ("invalid_election", with_(elections={"direct_pretax_amounts": {"ira": 5_000_000}}),
     "elections.direct_pretax_amounts"),
    ("regime_not_permitted", with_(regime="notice_2009_68"), "regime"),
    # contract 1.2: who receives the money, and the participant's facts
    ("invalid_request", with_(recipient="estate"), "recipient"),
    ("invalid_request", with_(participant=[]), "participant"),
    ("invalid_request", with_(participant={"age": 60}), "participant.age"),
    ("invalid_request", with_(participant={"birth_date": "1970-13-01"}), "participant.birth_date"),
    ("invalid_request", with_(participant={"disabled": "yes"}), "participant.disabled"),
    ("invalid_request", with_(participant={"first_roth_contribution_year": 2021.0}),
     "participant.first_roth_contribution_year"),
    ("nonspouse_sixty_day_rollover", with_(recipient="nonspouse_beneficiary",
                                           disbursements=[direct("ira", "inherited_traditional_ira", 6_000_000),
                                                          paid("me", 2_000_000)],
                                           rollovers_60_day=[sixty("r", "inherited_traditional_ira", 1)]),
     "rollovers_60_day[0]"),
    ("nonspouse_sixty_day_rollover", with_(recipient="nonspouse_beneficiary", disbursements=[paid("me", 2_000_000)],
                                           rollovers_60_day=[sixty("r", "traditional_ira", 1)]),
     "rollovers_60_day[0]"),
    ("ineligible_destination", with_(recipient="nonspouse_beneficiary"), "disbursements[0]"),
    ("ineligible_destination", with_(disbursements=[direct("ira", "inherited_traditional_ira", 6_000_000),
                                                    paid("me", 2_000_000)]), "disbursements[0]"),
    ("ineligible_destination", with_(recipient="alternate_payee_spouse",
                                     disbursements=[direct("r", "inherited_roth_ira", 1), paid("me", 1)]),
     "disbursements[0]"),
    ("ineligible_destination", with_(disbursements=[paid("me", 2_000_000)],
                                     rollovers_60_day=[sixty("r", "inherited_roth_ira", 1)]), "rollovers_60_day[0]"),
    ("before_effective_date", with_(recipient="nonspouse_beneficiary", date="2010-12-31",
                                    disbursements=[direct("ira", "inherited_traditional_ira", 1), paid("me", 1)]),
     "recipient"),
    ("inconsistent_facts", with_(participant={"birth_date": "2025-06-30"}), "participant.birth_date"),
    ("inconsistent_facts", with_(participant={"birth_date": "2030-01-01"}), "participant.birth_date"),
    ("inconsistent_facts", with_(participant={"birth_date": "1970-03-01", "separation_date": "1970-03-01"}),
     "participant.separation_date"),
    ("inconsistent_facts", with_(participant={"first_roth_contribution_year": 2020}),
     "participant.first_roth_contribution_year"),
    ("inconsistent_facts", with_(contract="designated_roth", disbursements=[direct("r", "roth_ira", 1), paid("me", 1)],
                                 participant={"first_roth_contribution_year": 2005}),
     "participant.first_roth_contribution_year"),
    ("inconsistent_facts", with_(contract="designated_roth", disbursements=[direct("r", "roth_ira", 1), paid("me", 1)],
                                 participant={"first_roth_contribution_year": 2026}),
     "participant.first_roth_contribution_year"),
    ("inconsistent_facts", with_(contract="designated_roth", date="2025-12-31", qualified_roth=True,
                                 disbursements=[direct("r", "roth_ira", 1), paid("me", 1)],
                                 participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2021}),
     "qualified_roth"),
    ("inconsistent_facts", with_(contract="designated_roth", date="2026-01-02",
                                 disbursements=[direct("r", "roth_ira", 1), paid("me", 1)],
                                 participant={"birth_date": "1960-01-01", "first_roth_contribution_year": 2021}),
     "qualified_roth"),
    ("inconsistent_facts", with_(contract="designated_roth", qualified_roth=True, recipient="nonspouse_beneficiary",
                                 disbursements=[paid("me", 1)], participant={"first_roth_contribution_year": 2021}),
     "qualified_roth"),
    ("inconsistent_facts", with_(contract="designated_roth", disbursements=[paid("me", 1)],
                                 participant={"first_roth_contribution_year": 2015, "disabled": True}),
     "qualified_roth"),
    ("inconsistent_facts", with_(contract="designated_roth", qualified_roth=True, disbursements=[paid("me", 1)],
                                 participant={"birth_date": "1980-01-01", "disabled": False,
                                              "first_roth_contribution_year": 2015}),
     "qualified_roth"),
]


@pytest.mark.parametrize("code, req, field", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_error_code_field_and_sentence(code, req, field):
    check_error(calculate(req), code, field)


def test_every_error_code_is_covered():
    covered = {c[0] for c in CASES} | {"invalid_json"}
    assert covered == set(ERROR_CODES)


@pytest.mark.parametrize("text", [
    b"", b"   ", b"{", b"}", b"[1,]", b'{"a":1,}', b"1 2", b"{} {}", b"nul", b"'single'",
    b"\xff\xfe{}", b'{"date": "\xe9"}', b"NaN", b"Infinity", b"-Infinity",
    b'{"balance": NaN}', b'{"a": 1, "a": 1}', b'{"disbursements": [{"id": "x", "id": "y"}]}',
    b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
])
def test_invalid_json(text):
    check_error(calculate_text(text), "invalid_json", None)


def test_text_and_bytes_agree():
    text = json.dumps(BASE)
    assert calculate_text(text) == calculate_text(text.encode()) == calculate(BASE)


def test_ten_to_the_fifth_digit_integer_is_out_of_range_not_a_crash():
    text = json.dumps(BASE).replace("6000000", "9" * 100_000, 1)
    check_error(calculate_text(text), "amount_out_of_range", "disbursements[0].amount")
    text = json.dumps(BASE).replace("6000000", "-" + "9" * 100_000, 1)
    check_error(calculate_text(text), "amount_out_of_range", "disbursements[0].amount")


@pytest.mark.parametrize("literal, code", [("1.0", "invalid_request"), ("1e2", "invalid_request"),
                                           ("true", "invalid_request"), ("null", "invalid_request"),
                                           ("-0", "zero_amount"), ("NaN", "invalid_json")])
def test_money_literals(literal, code):
    text = json.dumps(with_(disbursements=[paid("me", 123456789)])).replace("123456789", literal)
    assert calculate_text(text)["error"]["code"] == code


def test_deep_nesting_inside_a_field_is_a_shape_error():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    check_error(calculate(with_(balance=deep)), "invalid_request", "balance")


def test_unicode_ids_are_fine():
    req = with_(disbursements=[direct("IRA \u00e9\u4e2d\U0001f600", "traditional_ira", 6_000_000), paid("me", 1)])
    assert "error" not in calculate(req)
    assert "error" not in calculate_text(json.dumps(req, ensure_ascii=False).encode())


def test_too_many_rows_is_a_shape_error_not_a_slowdown():
    req = with_(disbursements=[paid(f"p{i}", 1) for i in range(100_000)])
    assert calculate(req)["error"]["code"] == "invalid_request"


# ---- nothing raises, every answer is a result that obeys the invariants or an error with a known code -----------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)

FIELDS = ("date", "plan", "contract", "balance", "basis", "pre1987_basis", "qualified_roth", "rmd", "hardship",
          "regime", "disbursements", "rollovers_60_day", "elections", "recipient", "participant")


def assert_answer_is_sound(obj, answer: dict) -> None:
    if "error" in answer:
        assert answer["error"]["code"] in ERROR_CODES
        assert_sentence(answer["error"]["message"])
        return
    req = parse_request(obj)
    res = compute(req)
    assert res.to_wire() == answer
    assert not violated(req, res), [inv.id for inv in violated(req, res)]


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_values(obj):
    assert_answer_is_sound(obj, calculate(obj))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIELDS), json_values)
def test_a_valid_request_with_one_field_replaced(field, value):
    req = with_(**{field: value})
    assert_answer_is_sound(req, calculate(req))


@st.composite
def near_valid(draw):
    """A request of the right shape with small, adversarial values: exercises the value checks and rule 7."""
    small = st.integers(0, 40)
    money = small
    dests = st.sampled_from(["traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "designated_roth",
                             "inherited_traditional_ira", "inherited_roth_ira"])
    rows = draw(st.lists(st.builds(lambda to, a, acc: direct("", to, a, accepts_aftertax=acc), dests, money,
                                   st.booleans()), max_size=3))
    rows += [paid("", draw(money)) for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2])))]
    rows = rows or [paid("", draw(money))]
    rollovers = draw(st.lists(st.builds(lambda to, a: sixty("", to, a), dests, money), max_size=3))
    for n, row in enumerate(rows + rollovers):
        row["id"] = f"r{n}"
    ids = st.sampled_from([row["id"] for row in rows + rollovers] + ["zz"])
    contract = draw(st.sampled_from(["pretax_aftertax", "designated_roth"]))
    req = {"date": draw(st.sampled_from(["2014-09-17", "2014-12-31", "2015-06-30", "2025-01-01"])),
           "plan": "401a", "contract": contract, "disbursements": rows}
    # mostly a balance and basis that fit the distribution, so the allocation and rule 7 are reached
    req["balance"] = sum(r["amount"] for r in rows) + draw(small)
    req["basis"] = draw(st.integers(0, req["balance"]) | money)
    if rollovers:
        req["rollovers_60_day"] = rollovers
    optional = [("rmd", money), ("hardship", st.sampled_from([False, False, False, True])),
                ("regime", st.sampled_from(["notice_2014_54", "notice_2009_68"])),
                ("elections", st.fixed_dictionaries({}, optional={
                    "direct_pretax_order": st.lists(ids, max_size=3),
                    "direct_pretax_amounts": st.dictionaries(ids, money, max_size=3),
                    "sixty_day_pretax_order": st.lists(ids, max_size=3),
                    "sixty_day_pretax_amounts": st.dictionaries(ids, money, max_size=3)}))]
    optional.append(("qualified_roth", st.booleans()) if contract == "designated_roth" else ("pre1987_basis", money))
    # contract 1.2: who receives the money, and facts near the dates the law reads (59½, the year of 55, 5 years)
    optional.append(("recipient", st.sampled_from(["participant", "spouse_beneficiary", "nonspouse_beneficiary",
                                                   "alternate_payee_spouse"])))
    optional.append(("participant", st.fixed_dictionaries({}, optional={
        "birth_date": st.sampled_from(["1955-03-17", "1960-01-01", "1964-12-31", "1966-08-31", "2030-01-01"]),
        "separation_date": st.sampled_from(["2014-12-31", "2019-06-30", "2025-01-01"]),
        "disabled": st.booleans(),
        "first_roth_contribution_year": st.sampled_from([2005, 2006, 2010, 2020, 2025, 2026])})))
    for key, strategy in optional:
        if draw(st.booleans()):
            req[key] = draw(strategy)
    if len(rows) > 1 and draw(st.integers(0, 7)) == 7:  # now and then a duplicate id
        rows[-1]["id"] = rows[0]["id"]
    if draw(st.integers(0, 5)) == 5:  # now and then one extreme amount
        target = draw(st.sampled_from([req, *rows, *rollovers]))
        key = "balance" if target is req else "amount"
        target[key] = draw(st.sampled_from([-1, 2**53 - 1, 2**53]))
    return req


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_near_valid_requests(req):
    assert_answer_is_sound(req, calculate(req))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data):
    answer = calculate_text(data)
    if "error" in answer:
        assert answer["error"]["code"] in ERROR_CODES
        assert_sentence(answer["error"]["message"])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_valid_text(data):
    text = bytearray(json.dumps(BASE).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text) - 1))
        text[i] = data.draw(st.integers(0, 255))
    answer = calculate_text(bytes(text))
    if "error" in answer:
        assert answer["error"]["code"] in ERROR_CODES
        assert_sentence(answer["error"]["message"])
    else:
        assert_answer_is_sound(json.loads(bytes(text)), answer)
