"""Contract 1.2 end to end, through the public API (`rollsplit.allocate`) and `rollsplit allocate FILE`: who
receives the money (§402(c)(9), (11), §402(e)(1)(B)), box 7's code for the recipient's age or event beside the
route's codes, box 11, and `inconsistent_facts`.

Every figure was worked by hand from the rule, on the DOMAIN seed: a $100,000 account with $20,000 after-tax. A
$20,000 payment alone carries $20,000 x 20,000/100,000 = $4,000 after-tax and $16,000 pre-tax, all taxable,
withheld at 20% ($3,200). $60,000 rolled over directly with $20,000 paid distributes $80,000: $16,000 after-tax and
$64,000 pre-tax; the direct rollover takes $60,000 pre-tax first (Notice 2014-54), the payment $4,000 pre-tax
(taxable, $800 withheld) and $16,000 after-tax.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import rollsplit
from rollsplit.cli import main
from reference_helpers import direct, paid, request, result, rows, sixty

M = 100_000   # $1,000 in cents
NONSPOUSE, SPOUSE, QDRO = "nonspouse_beneficiary", "spouse_beneficiary", "alternate_payee_spouse"


def seed(to: str | None = None, **extra) -> dict:
    """The seed: $60,000 rolled directly to `to` and $20,000 paid; only the $20,000 payment when `to` is None."""
    rows_ = [paid("me", 20 * M)] if to is None else [direct("ira", to, 60 * M), paid("me", 20 * M)]
    return request(rows_, balance=100 * M, basis=20 * M, **extra)


def form(answer: dict, row_id: str) -> dict:
    return rows(answer)[row_id]["form_1099r"]


def box(box1, box2a, box4, box5, box7, box11=None) -> dict:
    f = {"box1": box1, "box2a": box2a, "box4": box4, "box5": box5, "box7": box7}
    return f if box11 is None else {**f, "box11": box11}


CASH_ALONE = (20 * M, 16 * M, 3_200_00, 4 * M)          # box 1, 2a, 4, 5 of the $20,000 payment alone
CASH_BESIDE = (20 * M, 4 * M, 800_00, 16 * M)           # ... beside the $60,000 direct rollover


def error(req: dict) -> tuple[str, str | None]:
    e = rollsplit.allocate(req)["error"]
    return e["code"], e["field"]


# ---- a beneficiary who is not the surviving spouse (§402(c)(11)) ----------------------------------------------
def test_nonspouse_into_an_inherited_traditional_ira():
    a = result(seed("inherited_traditional_ira", recipient=NONSPOUSE))
    # the direct rollover: all pre-tax, not taxed, code 4 with G (the instructions: "also enter Code 4")
    assert form(a, "ira") == box(60 * M, 0, 0, 0, "4,G")
    # the payment: a death benefit, code 4 whatever the age; 20% of its $4,000 pre-tax withheld
    assert form(a, "me") == box(*CASH_BESIDE, "4")
    assert (a["taxable_income"], a["withholding"]) == (4 * M, 800_00)


def test_nonspouse_into_an_inherited_roth_ira_is_taxed_as_a_conversion():
    a = result(seed("inherited_roth_ira", recipient=NONSPOUSE))
    assert (rows(a)["ira"]["pretax"], rows(a)["ira"]["taxable"]) == (60 * M, 60 * M)
    assert form(a, "ira") == box(60 * M, 60 * M, 0, 0, "4,G")
    assert form(a, "me") == box(*CASH_BESIDE, "4")
    assert a["taxable_income"] == 64 * M


@pytest.mark.parametrize("to", ["traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "in_plan_roth"])
def test_nonspouse_only_into_inherited_iras(to):
    assert error(seed(to, recipient=NONSPOUSE)) == ("ineligible_destination", "disbursements[0]")


@pytest.mark.parametrize("to", ["inherited_traditional_ira", "traditional_ira"])
def test_nonspouse_never_within_60_days(to):
    req = seed("inherited_traditional_ira", recipient=NONSPOUSE, rollovers_60_day=[sixty("s0", to, 10 * M)])
    assert error(req) == ("nonspouse_sixty_day_rollover", "rollovers_60_day[0]")


def test_nonspouse_modelled_from_2011():
    assert error(seed("inherited_traditional_ira", recipient=NONSPOUSE, date="2010-12-31")) == \
        ("before_effective_date", "recipient")
    a = result(seed("inherited_traditional_ira", recipient=NONSPOUSE, date="2011-01-01"))
    assert form(a, "ira")["box7"] == "4,G" and a["withholding"] == 800_00


def test_nonspouse_designated_roth_into_an_inherited_roth_ira():
    # $60,000 of earnings rolled over, not taxed: H with 4; the payment's $4,000 of earnings taxable: B with 4
    req = seed("inherited_roth_ira", recipient=NONSPOUSE, contract="designated_roth",
               participant={"first_roth_contribution_year": 2022})
    a = result(req)
    assert form(a, "ira") == box(60 * M, 0, 0, 0, "4,H", 2022)
    assert form(a, "me") == box(*CASH_BESIDE, "4,B", 2022)
    assert error(seed("inherited_traditional_ira", recipient=NONSPOUSE, contract="designated_roth")) == \
        ("ineligible_destination", "disbursements[0]")


def test_a_beneficiary_may_take_an_rmd_from_a_designated_roth_account_after_2023():
    # §402A(d)(5): no lifetime RMD "before death"; the $5,000 RMD takes the $4,000 of contributions first, so
    # $15,000 of earnings is eligible and withheld at 20%
    for who in (NONSPOUSE, SPOUSE):
        a = result(seed(contract="designated_roth", recipient=who, rmd=5 * M))
        assert form(a, "me") == box(20 * M, 16 * M, 3_000_00, 4 * M, "4,B")
    assert error(seed(contract="designated_roth", rmd=5 * M)) == ("rmd_not_required", "rmd")


# ---- the surviving spouse (§402(c)(9)) and an alternate payee spouse (§402(e)(1)(B)) ---------------------------
def test_the_surviving_spouse_may_roll_over_within_60_days():
    a = result(seed(recipient=SPOUSE, rollovers_60_day=[sixty("s0", "traditional_ira", 16 * M)]))
    assert (rows(a)["s0"]["pretax"], rows(a)["s0"]["aftertax"], rows(a)["me"]["taxable"]) == (16 * M, 0, 0)
    assert form(a, "me") == box(*CASH_ALONE, "4")
    assert (a["taxable_income"], a["withholding"]) == (0, 3_200_00)


@pytest.mark.parametrize("to", ["traditional_ira", "inherited_traditional_ira"])
def test_the_surviving_spouse_into_her_own_or_an_inherited_ira(to):
    a = result(seed(to, recipient=SPOUSE))
    assert form(a, "ira") == box(60 * M, 0, 0, 0, "4,G")
    a = result(seed(recipient=SPOUSE, rollovers_60_day=[sixty("s0", to, 16 * M)]))
    assert a["taxable_income"] == 0


@pytest.mark.parametrize("who", ["participant", QDRO])
@pytest.mark.parametrize("to", ["inherited_traditional_ira", "inherited_roth_ira"])
def test_no_inherited_ira_for_the_living(who, to):
    assert error(seed(to, recipient=who)) == ("ineligible_destination", "disbursements[0]")
    assert error(seed(recipient=who, rollovers_60_day=[sixty("s0", to, 1 * M)])) == \
        ("ineligible_destination", "rollovers_60_day[0]")


def test_a_qdro_alternate_payee_under_59_half():
    # §72(t)(2)(C): 2 on the payment; G stands alone on the direct rollover (G is used with 4 only)
    a = result(seed("traditional_ira", recipient=QDRO, participant={"birth_date": "1980-01-01"}))
    assert form(a, "ira") == box(60 * M, 0, 0, 0, "G")
    assert form(a, "me") == box(*CASH_BESIDE, "2")


# ---- box 7 for the participant's age or event -----------------------------------------------------------------
def test_separation_in_the_year_of_55():
    # born March 1, 1970; separated May 1, 2025 (the calendar year of 55); paid June 30, 2025, under 59½
    a = result(seed(participant={"birth_date": "1970-03-01", "separation_date": "2025-05-01"}))
    assert form(a, "me") == box(*CASH_ALONE, "2")
    a = result(seed(participant={"birth_date": "1970-03-01", "separation_date": "2024-12-31"}))
    assert form(a, "me")["box7"] == "1"
    a = result(seed(plan="457b_gov", participant={"birth_date": "1970-03-01", "separation_date": "2025-05-01"}))
    assert form(a, "me")["box7"] is None


@pytest.mark.parametrize("date, code", [("2026-02-27", "1"), ("2026-02-28", "7")])
def test_the_day_of_59_half_clamped_to_february(date, code):
    # born August 31, 1966: 59 on August 31, 2025; six months later is "February 31", clamped to February 28
    a = result(seed(date=date, participant={"birth_date": "1966-08-31"}))
    assert form(a, "me") == box(*CASH_ALONE, code)


def test_disability_and_no_birth_date():
    assert form(result(seed(participant={"birth_date": "1980-01-01", "disabled": True})), "me")["box7"] == "3"
    assert form(result(seed(participant={"disabled": True})), "me")["box7"] is None   # the age is unknown


def test_the_code_stands_beside_m_and_b_but_not_g():
    offset = {"id": "me", "method": "paid", "amount": 10 * M, "loan_offset": 10 * M,
              "qualified_plan_loan_offset": True}
    under = {"birth_date": "1980-01-01"}
    a = result(request([direct("ira", "traditional_ira", 60 * M), offset], balance=100 * M, basis=20 * M,
                       participant=under))
    assert (form(a, "ira")["box7"], form(a, "me")["box7"]) == ("G", "1,M")
    a = result(request([direct("r", "roth_ira", 60 * M), direct("d", "designated_roth", 10 * M), paid("me", 10 * M)],
                       balance=100 * M, basis=20 * M, contract="designated_roth", participant=under))
    assert [form(a, i)["box7"] for i in ("r", "d", "me")] == ["H", "B,G", "1,B"]


# ---- designated Roth: box 11 and the qualified distribution the facts decide -----------------------------------
ROTH_2021 = {"birth_date": "1960-01-01", "first_roth_contribution_year": 2021}


def test_within_the_five_year_period_not_qualified():
    a = result(seed(contract="designated_roth", date="2025-12-31", participant=ROTH_2021))
    assert form(a, "me") == box(*CASH_ALONE, "7,B", 2021)
    assert error(seed(contract="designated_roth", date="2025-12-31", participant=ROTH_2021, qualified_roth=True)) \
        == ("inconsistent_facts", "qualified_roth")


def test_after_the_five_year_period_qualified():
    a = result(seed(contract="designated_roth", date="2026-01-02", participant=ROTH_2021, qualified_roth=True))
    assert form(a, "me") == box(20 * M, 0, 0, 20 * M, "7,B", 2021)
    assert (a["taxable_income"], a["withholding"]) == (0, 0)
    assert error(seed(contract="designated_roth", date="2026-01-02", participant=ROTH_2021)) == \
        ("inconsistent_facts", "qualified_roth")


def test_box11_on_every_form_of_a_designated_roth_account_and_nowhere_else():
    a = result(seed("roth_ira", contract="designated_roth", participant={"first_roth_contribution_year": 2010}))
    assert form(a, "ira")["box11"] == form(a, "me")["box11"] == 2010
    a = result(seed("roth_ira", contract="designated_roth", participant={"birth_date": "1980-01-01"}))
    assert "box11" not in form(a, "ira") and "box11" not in form(a, "me")
    assert error(seed(participant={"first_roth_contribution_year": 2010})) == \
        ("inconsistent_facts", "participant.first_roth_contribution_year")


@pytest.mark.parametrize("facts, field", [
    ({"birth_date": "2025-06-30"}, "participant.birth_date"),
    ({"birth_date": "1970-03-01", "separation_date": "1970-03-01"}, "participant.separation_date"),
])
def test_facts_that_contradict_each_other(facts, field):
    assert error(seed(participant=facts)) == ("inconsistent_facts", field)


# ---- the command line: rollsplit allocate FILE -----------------------------------------------------------------
DONE_WHEN = seed(participant={"birth_date": "1970-03-01", "separation_date": "2025-05-01"})


def test_rollsplit_allocate_explains_the_age_55_exception(tmp_path, capsys):
    path = tmp_path / "separated.json"
    path.write_text(json.dumps(DONE_WHEN))
    assert main(["allocate", str(path)]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Form 1099-R per disbursement"):out.index("Taxes and withholding")]
    assert [line.split("│")[-2].strip() for line in table.splitlines() if line.startswith("│ me ")] == ["2"]
    step = next(line for line in out.splitlines() if "Box 7:" in line)
    assert "2, an early distribution with an exception" in step and "separated from service on May 1, 2025" in step
    source = out.splitlines()[out.splitlines().index(step) + 1]
    assert "IRC §72(t)(2)(A)(v)" in source
    assert main(["allocate", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["disbursements"][0]["form_1099r"]["box7"] == "2"


def test_rollsplit_allocate_file_in_a_process(tmp_path):
    path = tmp_path / "separated.json"
    path.write_text(json.dumps(DONE_WHEN))
    p = subprocess.run([sys.executable, "-m", "rollsplit", "allocate", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert "separated from service" in p.stdout and "IRC §72(t)(2)(A)(v)" in p.stdout
    p = subprocess.run([sys.executable, "-m", "rollsplit", "allocate", "--json", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert json.loads(p.stdout)["disbursements"][0]["form_1099r"]["box7"] == "2"


# ---- found in review: either half of §402A(d)(2) settles qualification alone; far dates; QDRO before disability ----
ROTH_CASH = {"date": "2026-01-02", "plan": "401a", "contract": "designated_roth", "balance": 30 * M,
             "basis": 24 * M, "disbursements": [{"id": "cash", "method": "paid", "amount": 30 * M}]}


def test_under_59_half_alive_and_not_disabled_is_never_qualified_whenever_contributions_began():
    # Reg. §1.402A-1 Q&A-2(b): qualified only if "both" after the 5-year period and at 59½, death or disability
    req = {**ROTH_CASH, "qualified_roth": True, "participant": {"birth_date": "1980-01-01", "disabled": False}}
    assert error(req) == ("inconsistent_facts", "qualified_roth")
    # the same, not qualified: $6,000 of earnings taxable, 20% withheld, code 1 beside B
    a = result({**req, "qualified_roth": False})
    assert form(a, "cash") == box(30 * M, 6 * M, 1_200_00, 24 * M, "1,B")


def test_a_qualified_distribution_under_59_half_to_the_participant_is_one_on_disability():
    # no first year and disability not stated: the request's word stands, and under 59½ only disability can make a
    # distribution to a living participant qualified: code 3, which Table 1 pairs with no B, so box 7 keeps "B"
    req = {**ROTH_CASH, "qualified_roth": True, "participant": {"birth_date": "1980-01-01"}}
    assert form(result(req), "cash") == box(30 * M, 0, 0, 30 * M, "B")


def test_a_qdro_alternate_payee_takes_code_2_even_when_the_participant_is_disabled():
    req = {**seed(), "recipient": QDRO, "participant": {"birth_date": "1980-01-01", "disabled": True}}
    assert form(result(req), "me")["box7"] == "2"


def test_a_birth_in_the_last_years_of_the_calendar_is_an_answer_not_a_traceback(tmp_path, capsys):
    # someone born in 9950 reaches 59½ after the year 9999, the last a date can name: under 59½, code 1
    req = {**seed(), "date": "9999-12-31", "participant": {"birth_date": "9950-12-31"}}
    assert form(result(req), "me")["box7"] == "1"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(req))
    for argv in (["allocate", str(path)], ["allocate", "--json", str(path)],
                 ["allocate", "--json", "--explain", str(path)]):
        assert main(argv) == 0
    assert "Traceback" not in capsys.readouterr().err
