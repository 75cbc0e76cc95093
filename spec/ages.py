"""Who receives the money, and the facts of a person's age and events the law reads (contract 1.2).

From the request's `recipient` and its optional `participant` facts (birth date, separation from service,
disability, the first year of designated Roth contributions) this module derives, once, at parse time:
- the code of Form 1099-R box 7 for the recipient's age or event (1, 2, 3, 4 or 7), or None where a fact it needs is
  not given (never guessed);
- whether a designated Roth distribution is qualified (§402A(d)(2)), or None where the facts do not settle it.
The algorithm writes the code into box 7 beside the codes of the route (B, G, H, M: `spec.law`), and the
specification (`spec.facts`, `spec.invariants`) states which codes go together on its own.

Each rule carries its source, its date and whether the text was read in the primary source or only quoted by a
secondary one (`Source.primary`). The age 59½ is reached, by the convention every payor uses because the IRS never
defined it, six calendar months after the 59th birthday (the day clamped to the month's end): the convention the IRS
wrote for 70½ in the former Treas. Reg. §1.401(a)(9)-2 Q&A-3.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from dataclasses import dataclass

PARTICIPANT = "participant"
SPOUSE = "spouse_beneficiary"
NONSPOUSE = "nonspouse_beneficiary"
ALTERNATE_PAYEE = "alternate_payee_spouse"
RECIPIENTS = (PARTICIPANT, SPOUSE, NONSPOUSE, ALTERNATE_PAYEE)
BENEFICIARIES = (SPOUSE, NONSPOUSE)

# The first taxable year a designated Roth contribution could be made (EGTRRA §617(f): taxable years beginning after
# December 31, 2005).
FIRST_ROTH_YEAR = 2006


@dataclass(frozen=True)
class Source:
    """Where a rule is written: the source, its pinpoint, a short quote, the edition's date, primary or not."""
    source: str
    pinpoint: str
    quote: str
    dated: str
    primary: bool = True

    def short(self) -> str:
        return f"{self.source} {self.pinpoint}".strip() + ("" if self.primary else " (as quoted by a secondary source)")


I1099R = "Instructions for Forms 1099-R and 5498"
CODE_1 = Source(I1099R, "Table 1, Guide to Distribution Codes, code 1",
                "Use Code 1 only if the participant has not reached age 59½, and you do not know if any of the "
                "exceptions under Code 2, 3, or 4 apply.", "2016 edition read; the same row quoted from the 2022-2025 "
                "editions", primary=True)
CODE_2 = Source(I1099R, "Table 1, code 2",
                "Use Code 2 only if the participant has not reached age 59½ and you know the distribution is ... A "
                "distribution from a qualified retirement plan after separation from service in or after the year the "
                "participant has reached age 55 ... Any other distribution subject to an exception under section 72(q), "
                "(t), (u), or (v) that is not required to be reported using Code 1, 3, or 4.",
                "current edition as quoted (Intuit community, 2025); 2016 edition read", primary=False)
CODE_3 = Source(I1099R, "Table 1, code 3", "Disability ... defined in section 72(m)(7)",
                "quoted by payors' guides (2024-2025)", primary=False)
CODE_4 = Source(I1099R, "Table 1, code 4",
                "Use Code 4 regardless of the age of the participant to indicate payment to a decedent's beneficiary, "
                "including an estate or trust.", "2022 edition as quoted", primary=False)
CODE_7 = Source(I1099R, "Table 1, code 7",
                "Use Code 7: (a) for a normal distribution from a plan, including a traditional IRA, section 401(k), or "
                "section 403(b) plan, if the employee/taxpayer is at least age 59½", "2016 edition read", primary=True)
AGE_55 = Source("IRC", "§72(t)(2)(A)(v)", "made to an employee after separation from service after attainment of "
                "age 55", "26 U.S.C., as in force 2022", primary=True)
NOTICE_87_13 = Source("Notice 87-13", "Q&A-20", "such separation from service occurred during or after the calendar "
                      "year in which the employee attained age 55", "1987, as quoted", primary=False)
QDRO = Source("IRC", "§72(t)(2)(C)", "Any distribution to an alternate payee pursuant to a qualified domestic "
              "relations order (within the meaning of section 414(p)(1)).", "26 U.S.C., as in force 2022")
DISABLED = Source("IRC", "§72(t)(2)(A)(iii), §72(m)(7)", "attributable to the employee's being disabled within the "
                  "meaning of subsection (m)(7)", "26 U.S.C., as in force 2022")
DEATH = Source("IRC", "§72(t)(2)(A)(ii)", "made to a beneficiary (or to the estate of the employee) on or after the "
               "death of the employee", "26 U.S.C., as in force 2022")
GOV_457B = Source("IRC", "§72(t)(9)", "a distribution from an eligible deferred compensation plan ... shall be "
                  "treated as a distribution from a qualified retirement plan ... to the extent that such distribution "
                  "is attributable to an amount transferred to an eligible deferred compensation plan from a qualified "
                  "retirement plan", "26 U.S.C., as in force 2022")
AT_59_HALF = Source("IRC", "§72(t)(2)(A)(i)", "made on or after the date on which the employee attains age 59½",
                    "26 U.S.C., as in force 2022")
AGE_59_HALF = Source("former Treas. Reg.", "§1.401(a)(9)-2 Q&A-3 (for 70½, applied to 59½ by payors)",
                     "six calendar months after the 70th anniversary of birth", "T.D. 8987, 2002, as quoted",
                     primary=False)
QUALIFIED_ROTH = Source("IRC", "§402A(d)(2)(A)-(B); §408A(d)(2)(A)(i)-(iii)",
                        "shall not be treated as a qualified distribution if such payment or distribution is made "
                        "within the 5-taxable-year period beginning with ... the first taxable year for which the "
                        "individual made a designated Roth contribution", "26 U.S.C., as in force 2022")
QUALIFIED_ROTH_REG = Source("Treas. Reg.", "§1.402A-1 Q&A-2(b)",
                            "a qualified distribution is a distribution that is both — (1) Made after the "
                            "5-taxable-year period of participation ... and (2) Made on or after the date the employee "
                            "attains age 59 1/2, made to a beneficiary or the estate of the employee on or after the "
                            "employee's death, or attributable to the employee's being disabled", "T.D. 9324, 2007")


@dataclass(frozen=True)
class Participant:
    """The optional facts of the participant (contract 1.2). None: not given."""
    birth_date: _dt.date | None = None
    separation_date: _dt.date | None = None
    disabled: bool | None = None
    first_roth_contribution_year: int | None = None


NO_FACTS = Participant()


def add_months(day: _dt.date, months: int) -> _dt.date:
    """The same day `months` calendar months later, clamped to the last day of a shorter month."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return _dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def date_59_half(birth: _dt.date) -> _dt.date | None:
    """The day a person born on `birth` attains age 59½: six calendar months after the 59th birthday (a February 29
    birthday falls on February 28 in a common year). None past the last year a date can have (9999)."""
    if birth.year + 60 > _dt.MAXYEAR:
        return None
    return add_months(add_months(birth, 59 * 12), 6)


def attained_59_half(birth: _dt.date, on: _dt.date) -> bool:
    """§72(t)(2)(A)(i): "made on or after the date on which the employee attains age 59½". (Someone born in 9940 or
    later attains it after the last day a date of the contract can name: never, here.)"""
    if birth.year + 60 > _dt.MAXYEAR:
        return False
    return on >= date_59_half(birth)


def separated_in_or_after_year_of_55(plan: str, facts: Participant, on: _dt.date) -> bool:
    """§72(t)(2)(A)(v), as Notice 87-13 Q&A-20 and the instructions read it: a distribution from a qualified plan (a
    401(a) plan or 403(b) contract) after a separation from service in or after the calendar year of age 55."""
    s, b = facts.separation_date, facts.birth_date
    return plan in ("401a", "403b") and s is not None and b is not None and s <= on and s.year >= b.year + 55


def event_code(recipient: str, plan: str, facts: Participant, on: _dt.date,
               qualified_roth: bool = False) -> str | None:
    """Box 7's code for the recipient's age or event, for money paid out (a payment, or a beneficiary's rollover):
    4 for a beneficiary, whatever the age; else 7 from age 59½; else 2 for a QDRO alternate payee (§72(t)(2)(C),
    whatever else holds); else 3 for disability (a qualified designated Roth distribution under 59½ to a living
    participant is one on disability: §402A(d)(2)(A) leaves no other way, so it counts as said); else 2 after a
    separation in or after the year of 55 from a 401(a) or 403(b) plan; else 1 ("you do not know if any of the
    exceptions ... apply"). None when the birth date is not given (the age is unknown), and for a governmental 457(b)
    plan under 59½ without another known code: whether its money is attributable to a rollover into the plan
    (§72(t)(9)) decides between 1 and 2, and a request does not say."""
    if recipient in BENEFICIARIES:
        return "4"
    if facts.birth_date is None:
        return None
    if attained_59_half(facts.birth_date, on):
        return "7"
    if recipient == ALTERNATE_PAYEE:
        return "2"
    if facts.disabled or (qualified_roth and facts.disabled is None):
        return "3"
    if separated_in_or_after_year_of_55(plan, facts, on):
        return "2"
    if plan == "457b_gov":
        return None
    return "1"


def event_sources(code: str | None, recipient: str, plan: str, facts: Participant, on: _dt.date) -> tuple:
    """The sources of `event_code`'s answer, for the explanation."""
    if code == "4":
        return (CODE_4, DEATH)
    if code == "7":
        return (CODE_7, AT_59_HALF, AGE_59_HALF)
    if code == "3":   # disability said, or a qualified distribution under 59½ to a living participant
        return (CODE_3, DISABLED) if facts.disabled else (CODE_3, DISABLED, QUALIFIED_ROTH)
    if code == "2":
        return (CODE_2, QDRO) if recipient == ALTERNATE_PAYEE else (CODE_2, AGE_55, NOTICE_87_13)
    if code == "1":
        return (CODE_1, AT_59_HALF, AGE_59_HALF)
    return (GOV_457B,) if plan == "457b_gov" and facts.birth_date is not None else ()


def qualified_roth(recipient: str, facts: Participant, on: _dt.date) -> bool | None:
    """§402A(d)(2): is a designated Roth distribution on `on` qualified? It is when made after the 5-taxable-year
    period that begins with the first year of designated Roth contributions (calendar taxable years assumed) and at
    59½ or later, after death (to a beneficiary) or on disability (Treas. Reg. §1.402A-1 Q&A-2(b): "both"). Either
    half can settle it alone: under 59½, alive and not disabled it is never qualified, whenever contributions began.
    None when the facts given do not settle it."""
    first = facts.first_roth_contribution_year
    event = (recipient in BENEFICIARIES or facts.disabled is True
             or (facts.birth_date is not None and attained_59_half(facts.birth_date, on)))
    no_event = (recipient not in BENEFICIARIES and facts.disabled is False and facts.birth_date is not None
                and not attained_59_half(facts.birth_date, on))
    if no_event or (first is not None and on.year < first + 5):
        return False          # one half fails: not qualified, whatever else holds
    if event and first is not None:
        return True           # both halves hold
    return None
