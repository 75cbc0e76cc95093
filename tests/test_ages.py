"""spec/ages.py, unit by unit: the day of age 59½, box 7's code for the recipient's age or event, and whether a
designated Roth distribution is qualified (contract 1.2). Every expected value is written here from the rule (the
dates counted on a calendar), not computed with the module under test."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from rollsplit.spec import ages, facts, law
from rollsplit.spec.ages import Participant, add_months, attained_59_half, date_59_half, event_code, qualified_roth

D = dt.date.fromisoformat
P, SPOUSE, NONSPOUSE, QDRO = "participant", "spouse_beneficiary", "nonspouse_beneficiary", "alternate_payee_spouse"


# ---- the day of age 59½: six calendar months after the 59th birthday, the day clamped to the month's end --------
@pytest.mark.parametrize("birth, half", [
    ("1960-01-01", "2019-07-01"),    # ordinary: 59 on 2019-01-01, six months later
    ("1970-03-01", "2029-09-01"),
    ("1965-07-15", "2025-01-15"),    # the half year crosses into the next calendar year
    ("1966-03-31", "2025-09-30"),    # March 31 + 6 months: September has 30 days
    ("1966-08-31", "2026-02-28"),    # August 31 + 6 months: February 28 in a common year
    ("1968-08-31", "2028-02-29"),    # ... and February 29 in a leap year
    ("1967-08-30", "2027-02-28"),
    ("1964-02-29", "2023-08-28"),    # born on February 29: 59 on February 28, 2023 (a common year), then August 28
    ("1960-02-29", "2019-08-28"),    # (the 59th birthday of a February 29 birthday is never in a leap year)
    ("1966-12-31", "2026-06-30"),    # December 31 + 6 months: June 30, the same day as for December 30
    ("1966-12-30", "2026-06-30"),
])
def test_date_59_half(birth, half):
    assert date_59_half(D(birth)) == D(half)


def test_add_months_clamps_to_the_end_of_a_shorter_month():
    assert add_months(D("2025-01-31"), 1) == D("2025-02-28")
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2025-08-31"), 6) == D("2026-02-28")
    assert add_months(D("2025-11-30"), 3) == D("2026-02-28")
    assert add_months(D("2025-06-15"), 18) == D("2026-12-15")


def test_attained_on_the_day_not_the_day_before():
    # §72(t)(2)(A)(i): "made on or after the date on which the employee attains age 59½"
    born = D("1966-08-31")
    assert not attained_59_half(born, D("2026-02-27"))
    assert attained_59_half(born, D("2026-02-28"))
    assert attained_59_half(born, D("2026-03-01"))


def _facts(birth=None, sep=None, disabled=None, year=None) -> Participant:
    return Participant(birth_date=D(birth) if birth else None, separation_date=D(sep) if sep else None,
                       disabled=disabled, first_roth_contribution_year=year)


# ---- box 7's code for the recipient's age or event ------------------------------------------------------------
ON = "2025-06-30"
EVENT_CODES = [
    # (what, recipient, plan, facts, date, code)
    ("a beneficiary: 4 whatever the age", SPOUSE, "401a", _facts("1990-01-01"), ON, "4"),
    ("a nonspouse beneficiary, no birth date: still 4", NONSPOUSE, "457b_gov", _facts(), ON, "4"),
    ("a beneficiary over 59½, disabled: 4, not 7 or 3", NONSPOUSE, "401a", _facts("1950-01-01", disabled=True),
     ON, "4"),
    ("no birth date: no code (the age is unknown)", P, "401a", _facts(sep="2025-01-01", disabled=True), ON, None),
    ("59½ or older: 7", P, "401a", _facts("1960-01-01"), ON, "7"),
    ("59½ on the day: 7", P, "401a", _facts("1965-12-30"), ON, "7"),
    ("59½ on the day, by the clamp (Dec 31 + 6 months = June 30): 7", P, "401a", _facts("1965-12-31"), ON, "7"),
    ("59½ tomorrow: 1", P, "401a", _facts("1966-01-01"), ON, "1"),
    ("59½ wins over disability", P, "401a", _facts("1960-01-01", disabled=True), ON, "7"),
    ("59½ wins over an alternate payee's 2", QDRO, "401a", _facts("1960-01-01"), ON, "7"),
    ("disabled under 59½: 3", P, "401a", _facts("1980-01-01", disabled=True), ON, "3"),
    ("disability wins over the age-55 exception", P, "401a", _facts("1970-03-01", "2025-05-01", True), ON, "3"),
    ("disabled false: as if not said", P, "401a", _facts("1980-01-01", disabled=False), ON, "1"),
    ("an alternate payee under 59½: 2", QDRO, "401a", _facts("1980-01-01"), ON, "2"),
    ("an alternate payee, governmental 457(b): 2 (§72(t)(2)(C) whatever the plan)", QDRO, "457b_gov",
     _facts("1980-01-01"), ON, "2"),
    ("separated in the year of 55 from a 401(a) plan: 2", P, "401a", _facts("1970-03-01", "2025-05-01"), ON, "2"),
    ("... from a 403(b) contract: 2", P, "403b", _facts("1970-03-01", "2025-05-01"), ON, "2"),
    ("... the calendar year counts: born Dec 31, separated Jan 1 of the year of 55 (aged 54): 2", P, "401a",
     _facts("1970-12-31", "2025-01-01"), ON, "2"),
    ("... separated later, in the year of 56: 2", P, "401a", _facts("1969-03-01", "2025-05-01"), ON, "2"),
    ("separated in the year of 54: 1", P, "401a", _facts("1970-03-01", "2024-12-31"), ON, "1"),
    ("separated after the distribution: 1", P, "401a", _facts("1970-03-01", "2025-07-01"), ON, "1"),
    ("separated on the distribution's day: 2", P, "401a", _facts("1970-03-01", "2025-06-30"), ON, "2"),
    ("a governmental 457(b) plan under 59½: no code, separation or not", P, "457b_gov",
     _facts("1970-03-01", "2025-05-01"), ON, None),
    ("a governmental 457(b) plan under 59½, no separation: no code", P, "457b_gov", _facts("1980-01-01"), ON, None),
    ("a governmental 457(b) plan at 59½: 7", P, "457b_gov", _facts("1960-01-01"), ON, "7"),
    ("under 59½, no exception known: 1", P, "401a", _facts("1980-01-01"), ON, "1"),
]


@pytest.mark.parametrize("what, recipient, plan, f, on, code", EVENT_CODES, ids=[c[0] for c in EVENT_CODES])
def test_event_code(what, recipient, plan, f, on, code):
    assert event_code(recipient, plan, f, D(on)) == code


def test_every_code_has_its_sources():
    for what, recipient, plan, f, on, code in EVENT_CODES:
        sources = ages.event_sources(code, recipient, plan, f, D(on))
        assert sources or (code is None and f.birth_date is None), what
        assert all(isinstance(s, ages.Source) and s.quote for s in sources)


# ---- which codes go together: the algorithm's table (spec.law) and the specification's (spec.facts) ----------
COMBINED = [
    # (route, event, box 7): Table 1's "used with" column; two codes at most; the digit first
    (None, None, None), (None, "1", "1"), (None, "2", "2"), (None, "3", "3"), (None, "4", "4"), (None, "7", "7"),
    ("B", None, "B"), ("B", "1", "1,B"), ("B", "2", "2,B"), ("B", "3", "B"), ("B", "4", "4,B"), ("B", "7", "7,B"),
    ("M", "1", "1,M"), ("M", "2", "2,M"), ("M", "3", "M"), ("M", "4", "4,M"), ("M", "7", "7,M"),
    ("G", None, "G"), ("G", "1", "G"), ("G", "2", "G"), ("G", "3", "G"), ("G", "4", "4,G"), ("G", "7", "G"),
    ("H", "1", "H"), ("H", "4", "4,H"), ("H", "7", "H"),
    ("B,G", "4", "B,G"), ("B,G", "7", "B,G"), ("B,M", "4", "B,M"), ("B,M", "1", "B,M"),
]


@pytest.mark.parametrize("route, event, box7", COMBINED)
def test_law_box7(route, event, box7):
    assert law.box7(route, event) == box7


def test_the_two_statements_of_box7_agree_on_every_route_and_code():
    """spec.facts states box 7 apart from spec.law (the algorithm's table); on every contract, route and code the
    two must give the same box."""
    routes = [(c, "direct", to, False) for c in law.CONTRACTS for to in law.DESTINATIONS
              if (c, to) in facts.BOX7_DIRECT]
    routes += [(c, "paid", None, q) for c in law.CONTRACTS for q in (False, True)]
    for (contract, method, to, qplo), event in itertools.product(routes, [None, "1", "2", "3", "4", "7"]):
        route = law.direct_box7(contract, to) if method == "direct" else law.payment_box7(contract, qplo)
        assert facts.box7(contract, method, to, qplo, event) == law.box7(route, event), (contract, method, to, event)


# ---- a qualified designated Roth distribution (§402A(d)(2)) ---------------------------------------------------
QUALIFIED = [
    # (what, recipient, facts, date, qualified)
    ("no first year given: the facts do not settle it", P, _facts("1950-01-01"), "2025-06-30", None),
    ("within the 5-taxable-year period (2021-2025): not qualified at 65", P, _facts("1960-01-01", year=2021),
     "2025-12-31", False),
    ("within the period: not qualified to a beneficiary either", NONSPOUSE, _facts(year=2021), "2025-12-31", False),
    ("within the period: not qualified on disability either", P, _facts(disabled=True, year=2021), "2025-12-31",
     False),
    ("the first day after the period, past 59½: qualified", P, _facts("1960-01-01", year=2021), "2026-01-01", True),
    ("after the period, to a beneficiary: qualified whatever the age", SPOUSE, _facts("1990-01-01", year=2015),
     "2025-06-30", True),
    ("after the period, to a beneficiary, no birth date: qualified", NONSPOUSE, _facts(year=2015), "2025-06-30",
     True),
    ("after the period, disabled: qualified", P, _facts("1990-01-01", disabled=True, year=2015), "2025-06-30",
     True),
    ("after the period, 59½ on the day: qualified", P, _facts("1965-12-30", year=2015), "2025-06-30", True),
    ("after the period, 59½ tomorrow, disabled false: not qualified", P,
     _facts("1966-01-01", disabled=False, year=2015), "2025-06-30", False),
    ("after the period, under 59½, disability not said: not settled", P, _facts("1980-01-01", year=2015),
     "2025-06-30", None),
    ("after the period, no birth date, not disabled: not settled (the age is unknown)", P,
     _facts(disabled=False, year=2015), "2025-06-30", None),
    ("an alternate payee after the period, under 59½, not disabled: not qualified (no death)", QDRO,
     _facts("1980-01-01", disabled=False, year=2015), "2025-06-30", False),
]


@pytest.mark.parametrize("what, recipient, f, on, qualified", QUALIFIED, ids=[c[0] for c in QUALIFIED])
def test_qualified_roth(what, recipient, f, on, qualified):
    assert qualified_roth(recipient, f, D(on)) is qualified
