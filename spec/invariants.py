"""Every rule of the law as a named invariant with its citation.

An invariant is a predicate over (request, result) written once over `spec.arith.Arith`:
  - on ints it judges any calculator's answer (the conformance oracle, the fuzzing oracle);
  - on z3 terms it is a proof obligation (`solver/`): valid request => invariant(reference(request)).
The invariants are declarative: they say what a correct answer is, not how to compute it, and together
they admit exactly one result for a valid request (proved per shape as "determinacy" in `solver/`).
They judge results of valid requests; which requests are valid is `spec.parse` plus the value checks.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Callable

from rollsplit.spec import facts
from rollsplit.spec.arith import Arith, Cond, Num, total
# `spec.law` is the algorithm's table module: only its effective-date records are read here, for the text of
# their citations (source, pinpoint, quote); the dates themselves are `spec.facts`' own.
from rollsplit.spec import law as dated_sources
from rollsplit.spec.model import Request, Result


@dataclass(frozen=True)
class Citation:
    source: str
    pinpoint: str
    quote: str
    confirmed: bool = True   # False: secondary source (treatise, law-firm alert), see DOMAIN.md

    def short(self) -> str:
        return f"{self.source} {self.pinpoint}".strip()


@dataclass(frozen=True)
class Invariant:
    id: str
    statement: str                 # one plain-English sentence
    citations: tuple[Citation, ...]
    applies: Callable[[Request], bool]          # structural: does the rule speak to this request?
    holds: Callable[[Arith, Request, Result], Cond]
    # The "if" parts of a rule stated as an implication: each must be satisfiable by a valid request of every
    # shape the rule applies to, or the rule is vacuous there (proved as "premise" witnesses in solver/).
    premises: Callable[[Arith, Request, Result], list] | None = None
    # "result": the rule constrains the answer, so some answer must break it ("sanity" witnesses in solver/);
    # "request": the rule says which requests get an answer at all (a validity rule): the parser's obligations
    # show a request it rejects.
    judges: str = "result"

    def citation(self) -> str:
        return "; ".join(c.short() for c in self.citations)


# ---- citations, written once -------------------------------------------------------------------
IRC_72E8 = Citation("IRC", "§72(e)(8)(A)-(B)",
                    "amounts ... shall be treated as allocable to the investment in the contract in an amount which "
                    "bears the same ratio to such amount as the investment in the contract bears to the account balance")
IRC_72E8D = Citation("IRC", "§72(e)(8)(D)",
                     "subparagraph (A) shall apply only to the extent that amounts received ... exceed the investment "
                     "in the contract as of December 31, 1986")
N2014_SINGLE = Citation("Notice 2014-54", "§III ¶1",
                        "all disbursements ... scheduled to be made at the same time ... are treated as a single distribution")
N2014_DIRECT = Citation("Notice 2014-54", "§III ¶2",
                        "if the pretax amount is less than the amount directly rolled over ... the entire pretax amount "
                        "is assigned to the direct rollovers")
N2014_CHOICE = Citation("Notice 2014-54", "§III",
                        "the employee is permitted to select how the pretax amount is allocated among [the] plans",
                        confirmed=False)
IRC_402C2 = Citation("IRC", "§402(c)(2) last sentence",
                     "such transfer ... shall be treated as consisting first of the portion of such distribution that "
                     "is includible in gross income")
IRC_402C2_AT = Citation("IRC", "§402(c)(2)(A)-(B)",
                        "not includible in gross income ... only if transferred ... in a direct trustee-to-trustee "
                        "transfer to a qualified trust ... which agrees to separately account")
IRC_402A = Citation("IRC", "§402A(c)(3)",
                    "a rollover contribution of a designated Roth contribution may be made only if ... to another "
                    "designated Roth account ... or to a Roth IRA")
IRC_408A = Citation("IRC", "§408A(d)(3)(A)",
                    "there shall be included in gross income any amount which would be includible were it not part "
                    "of a qualified rollover contribution")
IRC_3405 = Citation("IRC", "§3405(c)(1) and (e)(1)(B)(ii)",
                    "the payor ... shall withhold ... an amount equal to 20 percent of such distribution ... "
                    "[not counting] amounts ... not includible in gross income")
IRC_402C4 = Citation("IRC", "§402(c)(4)(B)-(C)",
                     "the term eligible rollover distribution shall not include any distribution to the extent such "
                     "distribution is required under section 401(a)(9) [or] any hardship distribution")
REG_RMD = Citation("Treas. Reg.", "§1.402(c)-2 Q&A-8 (distributions before 2025; T.D. 8619)",
                   "The portion of the distribution that is excludible from gross income is first allocated toward "
                   "satisfaction of section 401(a)(9) and then the remaining portion of the required minimum "
                   "distribution, if any, is satisfied from the portion of the distribution that is includible")
REG_RMD_2025 = Citation("Treas. Reg.", "§1.402(c)-2(b)(3)(iv) and (f)(1) (distributions from 2025; T.D. 10001, "
                        "89 FR 58939, July 19, 2024)",
                        "the amount rolled over is treated as consisting first of the portion of the distribution "
                        "that is not allocable to the employee's basis ... the amounts distributed during that "
                        "calendar year are treated as required minimum distributions")
IRC_402A_D4 = Citation("IRC", "§402A(d)(1)-(2), (d)(4)",
                       "any qualified distribution from a designated Roth account shall not be includible in gross income")
FORM_1099R = Citation("IRS", "Instructions for Forms 1099-R and 5498 (2023 edition, as quoted by practitioners; "
                      "no 2025 or 2026 edition in our sources)",
                      "Use Code B for a distribution from a designated Roth account. But use ... Code H for a direct "
                      "rollover to a Roth IRA. ... If the direct rollover is from one designated Roth account to "
                      "another designated Roth account, also enter Code G [G: Direct rollover of a distribution to a "
                      "qualified plan, a section 403(b) plan, a governmental section 457(b) plan, or an IRA]",
                      confirmed=False)


def _effective(e) -> Citation:
    return Citation(e.source, e.pinpoint, e.quote, confirmed=e.primary)


EFF_MODELLED_FROM = _effective(dated_sources.MODELLED_FROM)
EFF_DESIGNATED_ROTH = _effective(dated_sources.DESIGNATED_ROTH_FROM)
EFF_AFTERTAX_403B = _effective(dated_sources.AFTERTAX_INTO_403B_FROM)
EFF_ROTH_IRA = _effective(dated_sources.ROTH_IRA_FROM_PLAN)
EFF_DESIGNATED_ROTH_457B = _effective(dated_sources.DESIGNATED_ROTH_457B_FROM)
EFF_IN_PLAN_ROTH = _effective(dated_sources.IN_PLAN_ROTH_FROM)
EFF_IN_PLAN_ROTH_457B = _effective(dated_sources.IN_PLAN_ROTH_457B_FROM)
EFF_QPLO = _effective(dated_sources.QPLO_FROM)
EFF_NONSPOUSE = _effective(dated_sources.NONSPOUSE_FROM)
EFFECTIVE_CITATIONS = (EFF_MODELLED_FROM, EFF_DESIGNATED_ROTH, EFF_AFTERTAX_403B, EFF_ROTH_IRA,
                       EFF_DESIGNATED_ROTH_457B, EFF_IN_PLAN_ROTH, EFF_IN_PLAN_ROTH_457B, EFF_QPLO, EFF_NONSPOUSE)
# ---- who receives the money (contract 1.2) ----
IRC_402C11 = Citation("IRC", "§402(c)(11)(A) (26 U.S.C., as in force 2022)",
                      "a direct trustee-to-trustee transfer is made to an individual retirement plan ... established "
                      "for the purposes of receiving the distribution on behalf of an individual who is a designated "
                      "beneficiary ... and who is not the surviving spouse of the employee ... the individual "
                      "retirement plan shall be treated as an inherited individual retirement account")
IRC_402C9 = Citation("IRC", "§402(c)(9) (26 U.S.C., as in force 2022)",
                     "If any distribution attributable to an employee is paid to the spouse of the employee after the "
                     "employee's death, the preceding provisions of this subsection shall apply to such distribution "
                     "in the same manner as if the spouse were the employee.")
IRC_402E1 = Citation("IRC", "§402(e)(1)(A)-(B) (26 U.S.C., as in force 2022)",
                     "an alternate payee who is the spouse or former spouse of the participant shall be treated as the "
                     "distributee ... subsection (c) shall apply to such distribution in the same manner as if such "
                     "alternate payee were the employee")
FORM_1099R_4G = Citation("IRS", "Instructions for Forms 1099-R and 5498, Direct Rollovers (2015 and 2016 editions; "
                         "the code table of later editions still lists G with 4)",
                         "Use Code G in box 7. If the direct rollover is made on behalf of a nonspouse designated "
                         "beneficiary, also enter Code 4 in box 7.", confirmed=True)
FORM_1099R_CODES = Citation("IRS", "Instructions for Forms 1099-R and 5498, Table 1, Guide to Distribution Codes "
                            "(2016 edition read; codes 2 and 4 as quoted from the 2022-2025 editions)",
                            "1—Early distribution, no known exception ... 2—Early distribution, exception applies ... "
                            "a distribution from a qualified retirement plan after separation from service in or after "
                            "the year the participant has reached age 55 ... 3—Disability ... 4—Death: Use Code 4 "
                            "regardless of the age of the participant ... 7—Normal distribution ... if the "
                            "employee/taxpayer is at least age 59½ [and the codes each is used with]", confirmed=False)
CONTRACT_FACTS = Citation("rollsplit", "wire contract 1.2, participant",
                          "a birth date before the distribution's date; a separation from service after birth; a "
                          "first year of designated Roth contributions, for a designated Roth account only, from 2006 "
                          "to the distribution's year; qualified_roth as the facts make the distribution, else "
                          "inconsistent_facts")
IRS_ROLLOVERS_PAGE = Citation("IRS", "Rollovers of retirement plan and IRA distributions (web page, as copied by a "
                              "practitioner's knowledge base)",
                              "Jordan, age 42, received a $10,000 eligible rollover distribution from her 401(k) plan. "
                              "Her employer withheld $2,000 ... If Jordan later decides to roll over the $8,000 ... she "
                              "will report $2,000 as taxable income, $8,000 as a nontaxable rollover, and $2,000 as "
                              "taxes paid ... If Jordan decides to roll over the full $10,000, she must contribute "
                              "$2,000 from other sources", confirmed=False)
PUB_1220_BOX11 = Citation("IRS", "Publication 1220 (tax year 2019), Form 1099-R, box 11",
                          "Enter the first year a designated Roth contribution was made in YYYY format.", confirmed=True)
IRC_402A_C4 = Citation("IRC", "§402A(c)(4)(A)-(B)",
                       "there shall be included in gross income any amount which would be includible were it not part "
                       "of a qualified rollover contribution ... a distribution from such plan other than from a "
                       "designated Roth account which is contributed ... to the designated Roth account maintained "
                       "under such plan")
FORM_1099R_IRR = Citation("IRS", "Instructions for Forms 1099-R and 5498 (2016 edition; the same text quoted from the "
                          "2024 edition by practitioners)",
                          "For a direct rollover of a distribution from a section 401(k) plan, a section 403(b) plan, "
                          "or a governmental section 457(b) plan to a designated Roth account in the same plan, enter "
                          "the amount rolled over in box 1, the taxable amount in box 2a, and any basis recovery amount "
                          "in box 5. Use Code G in box 7.", confirmed=False)
CONTRACT_ZERO = Citation("rollsplit", "wire contract 1.1, Request",
                         "every disbursement and 60-day rollover is at least 1 cent, else zero_amount")
REG_3405_200 = Citation("Treas. Reg.", "§31.3405(c)-1 Q&A-14 (T.D. 8619, 1995; unchanged through T.D. 10001, 2024)",
                        "Must a payor ... withhold tax from an eligible rollover distribution for which a direct "
                        "rollover election was not made if the amount of the distribution is less than $200? A-14: "
                        "No. However, all eligible rollover distributions received within one taxable year of the "
                        "distributee under the same plan must be aggregated")
REG_3405_OFFSET = Citation("Treas. Reg.", "§31.3405(c)-1 Q&A-11 (as amended by T.D. 10001, 2024)",
                           "although employer securities and plan loan offset amounts must be included in the amount "
                           "that is multiplied by 20-percent, the total amount required to be withheld ... is limited "
                           "to the sum of the cash and the fair market value of property received by the distributee, "
                           "excluding any amount of the distribution that is a plan loan offset amount")
REG_LOAN_OFFSET = Citation("Treas. Reg.", "§1.402(c)-2(g) (T.D. 10001; before 2025 Q&A-9 and §1.402(c)-3)",
                           "A distribution of a plan loan offset amount is an actual distribution, not a deemed "
                           "distribution under section 72(p)")
IRC_402C3C = Citation("IRC", "§402(c)(3)(C)(ii)",
                      "the term qualified plan loan offset amount means a plan loan offset amount which is treated as "
                      "distributed from a qualified employer plan to a participant or beneficiary solely by reason of "
                      "(I) the termination of the qualified employer plan, or (II) the failure to meet the repayment "
                      "terms of the loan from such plan because of the severance from employment of the participant")
FORM_1099R_M = Citation("IRS", "Instructions for Forms 1099-R and 5498, Plan loan offsets (as quoted by practitioners; "
                        "edition not stated)",
                        "Report a qualified plan loan offset as you would any other actual distribution. In addition, "
                        "enter Code M in box 7.", confirmed=False)
REG_3405_RECEIVES = Citation("Treas. Reg.", "§31.3405(c)-1 Q&A-6",
                             "the 20-percent withholding requirement under section 3405(c) applies only to the portion "
                             "of the eligible rollover distribution that the distributee receives and not to the "
                             "portion that is paid in a direct rollover")
IRC_402A_D5 = Citation("IRC", "§402A(d)(5) (SECURE 2.0 Act §325), as quoted by practitioners",
                       "the following provisions shall not apply to any designated Roth account: (A) Section "
                       "401(a)(9)(A) ... [for taxable years beginning after December 31, 2023, not for distributions "
                       "required for earlier years but paid on or after that date]", confirmed=False)
FORM_1099R_10 = Citation("IRS", "Instructions for Forms 1099-R and 5498, Specific Instructions (2013 edition; "
                         "the same sentence in a current practice note)",
                         "File Form 1099-R for each person to whom you have made a designated distribution or are "
                         "treated as having made a distribution of $10 or more", confirmed=False)

N2009_68 = Citation("Notice 2009-68 / IRS FAQ", "transition rules",
                    "before January 1, 2015 (designated Roth: 2016) each disbursement may be treated as a separate "
                    "distribution with its own pro rata share")
CONTRACT = Citation("rollsplit", "wire contract v1",
                    "money is integer cents; round half up on the exact rational value")
CONTRACT_ROW = Citation("rollsplit", "wire contract v1, Result",
                        "each disbursement and 60-day rollover is split into \"pretax\" and \"aftertax\" cents, which "
                        "add up to its amount")
IRC_402A_TAX = Citation("IRC", "§402(a)",
                        "any amount actually distributed to any distributee by any employees' trust described in "
                        "section 401(a) ... shall be taxable to the distributee, in the taxable year of the distributee "
                        "in which distributed, under section 72")
# The contract's own rules behind each validation error (quoted from the wire contract v1).
CONTRACT_MONEY = Citation("rollsplit", "wire contract v1, Money",
                          "Money: JSON integers in cents, 0 <= x <= 9007199254740991 (2^53-1)")
CONTRACT_SHAPE = Citation("rollsplit", "wire contract v1, Error",
                          "invalid_json, invalid_request (shape, type, missing field, unknown enum)")
CONTRACT_BASIS = Citation("rollsplit", "wire contract v1, Error",
                          "basis_exceeds_balance (also pre1987_basis > basis)")
CONTRACT_RULE1 = Citation("rollsplit", "wire contract v1, Request and rule 1",
                          "\"disbursements\": [ non-empty ... ] ... D = sum of disbursement amounts; 0 < D <= balance")
CONTRACT_ROWS = Citation("rollsplit", "wire contract v1, Request",
                         "at most one \"paid\" ... Ids are unique across disbursements and 60-day rollovers")
CONTRACT_RULE3 = Citation("rollsplit", "wire contract v1, rule 3",
                          "The RMD part is paid to the participant and never rolled over ... rmd <= paid amount, "
                          "else rmd_exceeds_payment")
CONTRACT_ELECTIONS = Citation("rollsplit", "wire contract v1, Request",
                              "\"elections\": { optional; for each kind give an order OR amounts, not both")
CONTRACT_RULE4 = Citation("rollsplit", "wire contract v1, rules 4 and 10",
                          "amounts: exact, each <= its amount, must sum to that total, else invalid_election ... "
                          "[old regime:] no direct pre-tax election (invalid_election)")
CONTRACT_RULE6 = Citation("rollsplit", "wire contract v1, rule 6",
                          "their sum <= paid amount - rmd (else sixty_day_exceeds_payment); they need a paid "
                          "disbursement (else sixty_day_without_payment)")
CONTRACT_RULE7 = Citation("rollsplit", "wire contract v1, rule 7",
                          "after-tax money may go to IRAs (direct or 60-day) and to qualified_plan/403b only by direct "
                          "rollover with accepts_aftertax (default true); never to 457b_gov. Pre-tax money of a "
                          "pretax_aftertax contract never goes to designated_roth. Roth contract money goes only to "
                          "roth_ira or designated_roth; by 60-day rollover to designated_roth only its pre-tax "
                          "(earnings) part")
CONTRACT_HARDSHIP = Citation("rollsplit", "wire contract v1, rule 7",
                             "hardship with any rollover: not_eligible_rollover_distribution")
SAFE_HARBOR_457 = Citation("IRS", "model §402(f) safe harbor explanation (Notices 2009-68, 2014-74), as reproduced "
                           "in plan notices",
                           "only through a direct rollover (and only if the receiving plan separately accounts for "
                           "after-tax contributions and is not a governmental section 457(b) plan)", confirmed=False)
CONTRACT_RULE10 = Citation("rollsplit", "wire contract v1, rule 10",
                           "Permitted: pretax_aftertax before 2015-01-01, designated_roth before 2016-01-01. New regime "
                           "permitted: pretax_aftertax any date, designated_roth on/after 2014-09-18. ... Asking for a "
                           "regime that is not permitted: regime_not_permitted")

# The rules each error code enforces: what a vector expecting that code cites.
ERROR_CITATIONS: dict[str, tuple[str, ...]] = {
    "invalid_json": ("CONTRACT_SHAPE",),
    "invalid_request": ("CONTRACT_SHAPE",),
    "amount_out_of_range": ("CONTRACT_MONEY",),
    "basis_exceeds_balance": ("CONTRACT_BASIS",),
    "distribution_exceeds_balance": ("CONTRACT_RULE1",),
    "empty_distribution": ("CONTRACT_RULE1",),
    "duplicate_id": ("CONTRACT_ROWS",),
    "more_than_one_payment": ("CONTRACT_ROWS",),
    "sixty_day_without_payment": ("CONTRACT_RULE6",),
    "sixty_day_exceeds_payment": ("CONTRACT_RULE6", "IRC_402C4"),
    "rmd_exceeds_payment": ("CONTRACT_RULE3", "IRC_402C4"),
    "ineligible_destination": ("CONTRACT_RULE7", "IRC_402C2_AT", "SAFE_HARBOR_457", "IRC_402A"),
    "not_eligible_rollover_distribution": ("CONTRACT_HARDSHIP", "IRC_402C4"),
    "invalid_election": ("CONTRACT_ELECTIONS", "CONTRACT_RULE4", "N2014_CHOICE"),
    "regime_not_permitted": ("CONTRACT_RULE10", "N2009_68"),
    "zero_amount": ("CONTRACT_ZERO", "FORM_1099R_10"),
    "before_effective_date": ("EFF_MODELLED_FROM", "EFF_DESIGNATED_ROTH", "EFF_AFTERTAX_403B", "EFF_ROTH_IRA",
                              "EFF_DESIGNATED_ROTH_457B", "EFF_IN_PLAN_ROTH", "EFF_IN_PLAN_ROTH_457B", "EFF_QPLO",
                              "EFF_NONSPOUSE"),
    "rmd_not_required": ("IRC_402A_D5",),
    "nonspouse_sixty_day_rollover": ("IRC_402C11",),
    "inconsistent_facts": ("CONTRACT_FACTS", "IRC_402A_D4"),
}


# ---- derived quantities of (request, result) --------------------------------------------------
def _paid(req: Request, res: Result):
    for d, r in zip(req.disbursements, res.disbursements):
        if d.method == "paid":
            return d, r
    return None, None


def _direct_pairs(req: Request, res: Result):
    return [(d, r) for d, r in zip(req.disbursements, res.disbursements) if d.method == "direct"]


def _rmd_pretax(A: Arith, req: Request, res: Result) -> Num:
    _, pr = _paid(req, res)
    return A.max(0, req.rmd - (pr.aftertax if pr else 0))


def _comes_first(listed: tuple[str, ...] | None, ids: list[str], tiers: list[int], i: int, j: int) -> bool:
    """Must row i be full before row j holds any pre-tax money? Rows named in an order election come first, in
    the order named; the others after them, by the law's tiers (`spec.facts.fill_tier`), ties in request order."""
    named = {x: k for k, x in enumerate(listed or ())}
    a, b = ids[i] in named, ids[j] in named
    if a and b:
        return named[ids[i]] < named[ids[j]]
    if a != b:
        return a
    return (tiers[i], i) < (tiers[j], j)


def _filled_in_turn(A: Arith, xs: list[Num], caps: list[Num], first) -> Cond:
    """No pre-tax cent sits in a row while a row that comes first has room: x_j > 0 ⇒ x_i = cap_i."""
    conds = [A.implies(A.lt(0, xs[j]), A.eq(xs[i], caps[i]))
             for i in range(len(xs)) for j in range(len(xs)) if i != j and first(i, j)]
    return A.and_(*conds) if conds else A.true


def _new(req: Request) -> bool:
    return req.regime == facts.NEW_RULE


def _always(req: Request) -> bool:
    return True


# ---- the invariants ------------------------------------------------------------------------------
def _nonnegative(A, req, res):
    vals = [res.amount, res.pretax, res.aftertax, res.basis_recovered, res.taxable_income, res.withholding,
            res.remaining_balance, res.remaining_basis, res.remaining_pre1987_basis]
    for r in res.disbursements:
        vals += [r.pretax, r.aftertax, r.taxable, r.withholding, r.form_1099r.box2a, r.form_1099r.box4, r.form_1099r.box5]
    for r in res.rollovers_60_day:
        vals += [r.pretax, r.aftertax, r.taxable]
    return A.and_(*(A.le(0, v) for v in vals))


def _conserve_row(A, req, res):
    c = [A.and_(A.eq(r.id, d.id), A.eq(r.pretax + r.aftertax, d.distributed))
         for d, r in zip(req.disbursements, res.disbursements)]
    c += [A.and_(A.eq(r.id, x.id), A.eq(r.pretax + r.aftertax, x.amount))
          for x, r in zip(req.rollovers_60_day, res.rollovers_60_day)]
    return A.and_(*c)


def _conserve_total(A, req, res):
    D = total(A, (d.distributed for d in req.disbursements))
    return A.and_(A.eq(res.amount, D), A.eq(res.pretax + res.aftertax, D),
                  A.eq(total(A, (r.pretax for r in res.disbursements)), res.pretax),
                  A.eq(total(A, (r.aftertax for r in res.disbursements)), res.aftertax))


def prorata_terms(A, D, balance, basis, pre1987):
    """Rule 2's terms: (pre, den, num) — the pre-1987 basis recovered first, and the exact share of the rest
    is num / den. Written once: the invariant, the lemmas and their instances all use it."""
    pre = A.min(D, pre1987)
    return pre, balance - pre1987, (D - pre) * (basis - pre1987)


def _prorata(A, req, res):
    D = total(A, (d.distributed for d in req.disbursements))
    pre, den, num = prorata_terms(A, D, req.balance, req.basis, req.pre1987_basis)
    q = res.basis_recovered - pre
    # round half up: q = floor((2*num + den) / (2*den)), i.e. 2*den*q <= 2*num + den < 2*den*(q+1)
    return A.ite(A.eq(den, 0), A.eq(q, 0),
                 A.and_(A.le(2 * den * q, 2 * num + den), A.lt(2 * num + den, 2 * den * q + 2 * den)))


def _whole_balance(A, req, res):
    return [A.eq(total(A, (d.distributed for d in req.disbursements)), req.balance)]


def _full_distribution(A, req, res):
    return A.implies(*_whole_balance(A, req, res), A.eq(res.basis_recovered, req.basis))


def _aftertax_total(A, req, res):
    D = total(A, (d.distributed for d in req.disbursements))
    if req.contract == "designated_roth" and req.qualified_roth:
        return A.eq(res.aftertax, D)
    return A.eq(res.aftertax, res.basis_recovered)


def _remaining(A, req, res):
    D = total(A, (d.distributed for d in req.disbursements))
    return A.and_(A.eq(res.remaining_balance, req.balance - D),
                  A.eq(res.remaining_basis, req.basis - res.basis_recovered),
                  A.eq(res.remaining_pre1987_basis, req.pre1987_basis - A.min(D, req.pre1987_basis)))


def _direct_first(A, req, res):
    pairs = _direct_pairs(req, res)
    cap = total(A, (d.amount for d, _ in pairs))
    rmd_reserve = A.max(0, req.rmd - res.aftertax)
    return A.eq(total(A, (r.pretax for _, r in pairs)), A.min(res.pretax - rmd_reserve, cap))


def _rmd_aftertax_first(A, req, res):
    d, r = _paid(req, res)
    if d is None:
        return A.true
    return A.le(A.min(req.rmd, res.aftertax), r.aftertax)


def _sixty_day_second(A, req, res):
    if not req.rollovers_60_day:
        return A.true
    _, pr = _paid(req, res)
    rollable = pr.pretax - _rmd_pretax(A, req, res)
    S = total(A, (x.amount for x in req.rollovers_60_day))
    return A.eq(total(A, (r.pretax for r in res.rollovers_60_day)), A.min(rollable, S))


def _covered(A, req, res):
    if req.paid is None:
        return []
    return [A.le(res.pretax - A.max(0, req.rmd - res.aftertax),
                 total(A, (x.amount for x in req.directs)) + total(A, (x.amount for x in req.rollovers_60_day)))]


def _no_taxable_cash(A, req, res):
    d, r = _paid(req, res)
    if d is None:
        return A.true
    return A.implies(*_covered(A, req, res), A.eq(r.taxable, _rmd_pretax(A, req, res)))


def _direct_split(A, req, res, elected: bool):
    pairs = _direct_pairs(req, res)
    xs, caps = [r.pretax for _, r in pairs], [d.amount for d, _ in pairs]
    amounts = req.elections.direct_pretax_amounts
    if amounts is not None:
        return A.and_(*(A.eq(r.pretax, amounts.get(d.id, 0)) for d, r in pairs)) if elected else A.true
    if (req.elections.direct_pretax_order is not None) != elected:
        return A.true
    ids = [d.id for d, _ in pairs]
    tiers = [facts.fill_tier(req.contract, "direct", d.to, d.accepts_aftertax, req.recipient) for d, _ in pairs]
    listed = req.elections.direct_pretax_order
    return _filled_in_turn(A, xs, caps, lambda i, j: _comes_first(listed, ids, tiers, i, j))


def _sixty_split(A, req, res, elected: bool):
    rows = list(zip(req.rollovers_60_day, res.rollovers_60_day))
    amounts = req.elections.sixty_day_pretax_amounts
    if amounts is not None:
        return A.and_(*(A.eq(r.pretax, amounts.get(x.id, 0)) for x, r in rows)) if elected else A.true
    if (req.elections.sixty_day_pretax_order is not None) != elected:
        return A.true
    ids = [x.id for x, _ in rows]
    tiers = [facts.fill_tier(req.contract, "sixty_day", x.to, True, req.recipient) for x, _ in rows]
    listed = req.elections.sixty_day_pretax_order
    return _filled_in_turn(A, [r.pretax for _, r in rows], [x.amount for x, _ in rows],
                           lambda i, j: _comes_first(listed, ids, tiers, i, j))


def _default_order(A, req, res):
    parts = [_sixty_split(A, req, res, elected=False)]
    if req.regime == facts.NEW_RULE:
        parts.append(_direct_split(A, req, res, elected=False))
    return A.and_(*parts)


def _election_honored(A, req, res):
    parts = [_sixty_split(A, req, res, elected=True)]
    if req.regime == facts.NEW_RULE:
        parts.append(_direct_split(A, req, res, elected=True))
    return A.and_(*parts)


def _has_election(req: Request) -> bool:
    e = req.elections
    return any(v is not None for v in (e.direct_pretax_order, e.direct_pretax_amounts,
                                       e.sixty_day_pretax_order, e.sixty_day_pretax_amounts))


def _eligibility(A, req, res):
    conds = []
    rows = [(d.to, "direct", d.accepts_aftertax, r) for d, r in _direct_pairs(req, res)]
    rows += [(x.to, "sixty_day", True, r) for x, r in zip(req.rollovers_60_day, res.rollovers_60_day)]
    for to, method, accepts, r in rows:
        kinds = facts.receives(req.contract, method, to, accepts, req.recipient)
        if not kinds:
            conds.append(A.false)
        for kind, v in (("pretax", r.pretax), ("aftertax", r.aftertax)):
            if kind not in kinds:
                conds.append(A.eq(v, 0))
    return A.and_(*conds) if conds else A.true


def _year_total(A, req: Request, d) -> Num:
    """Reg. §31.3405(c)-1 Q&A-14 and Q&A-6: the eligible rollover distributions the recipient receives from the
    plan in the taxable year: this payment less its RMD part (not eligible, §402(c)(4)(B)), plus the others."""
    return d.distributed - req.rmd + req.other_eligible_this_year


def _withholding(A, req, res):
    conds = []
    for d, r in zip(req.disbursements, res.disbursements):
        if d.method == "paid" and not req.hardship:
            # 20% of the taxable, non-RMD part rounded half up to the cent, stated as bounds and not computed:
            # w is that amount when 200*w <= 2*20*t + 100 < 200*(w + 1)
            w, twice = r.withholding, 2 * facts.WITHHOLDING_PERCENT * (r.pretax - _rmd_pretax(A, req, res)) + 100
            rounded = A.and_(A.le(200 * w, twice), A.lt(twice, 200 * w + 200))
            if d.distributed is not d.amount:
                # Reg. §31.3405(c)-1 Q&A-11: the offset counts in the 20% but the withholding "is limited to the
                # sum of the cash and the fair market value of property received", the offset excluded
                rounded = A.or_(A.and_(rounded, A.le(w, d.amount)),
                                A.and_(A.eq(w, d.amount), A.le(200 * d.amount + 200, twice)))
            conds.append(A.implies(A.le(facts.WITHHOLDING_FLOOR_CENTS, _year_total(A, req, d)), rounded))
        else:
            conds.append(A.eq(r.withholding, 0))
    conds.append(A.eq(res.withholding, total(A, (r.withholding for r in res.disbursements))))
    return A.and_(*conds)


def _withheld_payment(req):
    return next((d for d in req.disbursements if d.method == "paid" and not req.hardship), None)


def _at_floor(A, req, res):
    d = _withheld_payment(req)
    return [] if d is None else [A.le(facts.WITHHOLDING_FLOOR_CENTS, _year_total(A, req, d))]


def _under_floor(A, req, res):
    d = req.paid
    return [] if d is None else [A.lt(_year_total(A, req, d), facts.WITHHOLDING_FLOOR_CENTS)]


def _withholding_de_minimis(A, req, res):
    d, r = _paid(req, res)
    if d is None:
        return A.true
    return A.implies(A.lt(_year_total(A, req, d), facts.WITHHOLDING_FLOOR_CENTS), A.eq(r.withholding, 0))


def _rows_nonzero(A, req, res):
    return A.and_(*(A.lt(0, x.distributed) for x in req.disbursements),
                  *(A.lt(0, x.amount) for x in req.rollovers_60_day))


def _route_open(A, req, res):
    rows = [(d.to, d.accepts_aftertax) for d in req.disbursements if d.method == "direct"]
    rows += [(x.to, False) for x in req.rollovers_60_day]
    qplo = any(d.qualified_plan_loan_offset for d in req.disbursements)
    return A.true if facts.routes_open(req.contract, req.plan, req.date, rows, qplo, req.recipient) else A.false


def _roth_no_lifetime_rmd(A, req, res):
    return A.true if facts.lifetime_rmd_possible(req.contract, req.date, req.recipient) else A.eq(req.rmd, 0)


def _taxable_row(A, req, res):
    conds = []
    sixty_pretax = total(A, (r.pretax for r in res.rollovers_60_day))
    for d, r in zip(req.disbursements, res.disbursements):
        if d.method == "paid":
            conds.append(A.eq(r.taxable, r.pretax - sixty_pretax))
        else:
            conds.append(A.eq(r.taxable, r.pretax if facts.taxed_when_rolled(req.contract, d.to) else 0))
    for x, r in zip(req.rollovers_60_day, res.rollovers_60_day):
        conds.append(A.eq(r.taxable, r.pretax if facts.taxed_when_rolled(req.contract, x.to) else 0))
    return A.and_(*conds)


def _taxable_sum(A, req, res):
    return A.eq(res.taxable_income, total(A, (r.taxable for r in res.disbursements))
                + total(A, (r.taxable for r in res.rollovers_60_day)))


def box7_for(contract: str, method: str, to: str | None, qualified_offset: bool = False,
             event: str | None = None) -> str | None:
    """Form 1099-R box 7 distribution code; None where it depends on facts a request lacks (`spec.facts.box7`).

    Cash paid from a designated Roth account carries B, and a qualified plan loan offset M; the instructions pair
    them with the code for the recipient's age or event (1, 2, 3, 4 or 7), which contract 1.2 derives from the
    recipient and the participant's facts (`event`, None when a fact it needs is not given): without it the answer
    gives "B", "M" or "B,M" and the payor adds that code. Other cash: the event code alone, or null."""
    return facts.box7(contract, method, to, qualified_offset, event)


def _form_1099r(A, req, res):
    conds = []
    for d, r in zip(req.disbursements, res.disbursements):
        f = r.form_1099r
        if d.method == "paid":
            box2a = r.pretax
        else:
            box2a = r.pretax if facts.taxed_when_rolled(req.contract, d.to) else 0
        conds += [A.eq(f.box1, d.distributed), A.eq(f.box2a, box2a), A.eq(f.box4, r.withholding),
                  A.eq(f.box5, r.aftertax),
                  A.eq(f.box7, box7_for(req.contract, d.method, d.to, d.qualified_plan_loan_offset, req.event_code))]
        # box 11: a designated Roth account's first year of contributions, when the request gives it; else no box 11
        year = req.participant.first_roth_contribution_year
        if req.contract == facts.DESIGNATED_ROTH and year is not None:
            conds.append(A.false if f.box11 is None else A.eq(f.box11, year))
        elif f.box11 is not None:
            conds.append(A.false)
    return A.and_(*conds)


def _regime(A, req, res):
    return A.eq(res.regime, req.regime)


def _old_rule(A, req, res):
    """Each disbursement's after-tax share is T*amount/D rounded by largest remainder, ties in request order."""
    D = total(A, (d.distributed for d in req.disbursements))
    T = res.aftertax
    t = [r.aftertax for r in res.disbursements]
    a = [d.distributed for d in req.disbursements]
    conds = []
    up = []
    rem = []
    for ti, ai in zip(t, a):
        # ti is floor(T*ai/D) or that plus one: D*ti - D < T*ai < D*ti + D, and not above when exact
        conds.append(A.and_(A.lt(D * ti - D, T * ai), A.lt(T * ai, D * ti + D)))
        is_up = A.lt(T * ai, D * ti)
        up.append(is_up)
        rem.append(T * ai - D * ti + A.ite(is_up, D, 0))   # T*ai mod D
    for i in range(len(t)):
        for j in range(len(t)):
            if i != j:
                beats = A.lt(rem[j], rem[i]) if j < i else A.le(rem[j], rem[i])
                conds.append(A.implies(A.and_(up[i], A.not_(up[j])), beats))
    return A.and_(*conds)


def _old(req: Request) -> bool:
    return req.regime == facts.OLD_RULE


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("NONNEGATIVE", "No amount in the result is negative.", (CONTRACT_MONEY,), _always, _nonnegative),
    Invariant("CONSERVE-ROW", "Each disbursement (a payment with its plan loan offset) and each 60-day rollover is "
              "answered in its own place, under its own id, and is exactly its pre-tax plus its after-tax part.", (CONTRACT_ROW, REG_LOAN_OFFSET), _always, _conserve_row),
    Invariant("CONSERVE-TOTAL", "The distribution is the sum of its disbursements, and their pre-tax and after-tax "
              "parts add up to the distribution's.", (N2014_SINGLE, IRC_72E8), _always, _conserve_total),
    Invariant("PRORATA-ROUNDING", "Basis recovered is the pre-1987 basis first, then the pro rata share of the rest, "
              "rounded half up to the cent.", (IRC_72E8, IRC_72E8D, CONTRACT), _always, _prorata),
    Invariant("FULL-DISTRIBUTION-BASIS", "Distributing the whole balance recovers exactly the whole basis.",
              (IRC_72E8,), _always, _full_distribution, premises=_whole_balance),
    Invariant("AFTERTAX-TOTAL", "The after-tax part of the distribution is the basis recovered, or all of it for a "
              "qualified designated Roth distribution.", (IRC_72E8, IRC_402A_D4), _always, _aftertax_total),
    Invariant("REMAINING", "What remains is the balance less the distribution and the basis less the basis recovered, "
              "pre-1987 basis used first.", (IRC_72E8D,), _always, _remaining),
    Invariant("DIRECT-FIRST", "Direct rollovers carry as much of the pre-tax money as they can hold, except the pre-tax "
              "part of the RMD.", (N2014_DIRECT, REG_RMD, REG_RMD_2025), _new, _direct_first),
    Invariant("RMD-AFTERTAX-FIRST", "The payment keeps enough after-tax money to cover the RMD, up to all the "
              "after-tax money.", (REG_RMD, REG_RMD_2025, IRC_402C4), _new, _rmd_aftertax_first),
    Invariant("SIXTY-DAY-SECOND", "60-day rollovers carry as much of the payment's rollable pre-tax money as they can "
              "hold.", (IRC_402C2,), _always, _sixty_day_second),
    Invariant("NO-TAXABLE-CASH-WHEN-COVERED", "When the rollovers can hold all the rollable pre-tax money, the cash "
              "kept is taxable only for the RMD's pre-tax part.", (N2014_DIRECT, IRC_402C2), _new, _no_taxable_cash, premises=_covered),
    Invariant("DEFAULT-ORDER", "Without an election, pre-tax money fills rollovers in the default order, each in full "
              "before the next.", (N2014_CHOICE,), lambda req: True, _default_order),
    Invariant("ELECTION-HONORED", "With an election, pre-tax money goes exactly where the participant chose.",
              (N2014_CHOICE,), _has_election, _election_honored),
    Invariant("ELIGIBILITY", "No money goes where the law does not let money of its kind go, nor anywhere the "
              "recipient may not roll over to: a beneficiary who is not the surviving spouse only into an inherited "
              "IRA by direct rollover, the surviving spouse also there, the participant and an alternate payee "
              "spouse never there.",
              (IRC_402C2_AT, IRC_402A, IRC_402C11, IRC_402C9, IRC_402E1), _always, _eligibility),
    Invariant("WITHHOLDING", "20% is withheld from the payment's taxable, non-RMD part once the year's eligible "
              "rollover distributions received reach $200, never more than the cash paid when a plan loan offset is "
              "part of it, and nothing from direct rollovers or hardship distributions.",
              (IRC_3405, REG_3405_RECEIVES, REG_3405_OFFSET, IRC_402C4), _always, _withholding, premises=_at_floor),
    Invariant("WITHHOLDING-DE-MINIMIS", "Nothing is withheld when the eligible rollover distributions the recipient "
              "receives from the plan in the year, this payment's included, total less than $200.",
              (REG_3405_200, REG_3405_RECEIVES), _always, _withholding_de_minimis, premises=_under_floor),
    Invariant("ROWS-NONZERO", "Every disbursement and 60-day rollover answered is at least one cent: a $0 row is no "
              "distribution and gets no Form 1099-R.", (FORM_1099R_10, CONTRACT_ROW), _always, _rows_nonzero, judges="request"),
    Invariant("ROUTE-IN-FORCE", "A result is given only for a distribution whose routes the law provided on its date: "
              "after 2001; after-tax money into a 403(b) from 2007; to a Roth IRA from a plan after 2007; in-plan "
              "Roth rollovers after September 27, 2010 (a governmental 457(b) plan's from 2011); from a designated "
              "Roth account from 2006 (a governmental 457(b) plan's from 2011); qualified plan loan offsets from "
              "2018; a nonspouse beneficiary's rollover as rollsplit models it from 2011.", EFFECTIVE_CITATIONS,
              _always, _route_open, judges="request"),
    Invariant("ROTH-NO-LIFETIME-RMD", "A designated Roth account pays no lifetime required minimum distribution after "
              "the 2023 RMD's last due date (April 1, 2024); a beneficiary's may still be due.", (IRC_402A_D5,), _always, _roth_no_lifetime_rmd, judges="request"),
    Invariant("TAXABLE-ROW", "A row is taxable for pre-tax money kept, converted to a Roth IRA or rolled into the "
              "plan's designated Roth account, and not for money rolled over to a traditional vehicle.",
              (IRC_408A, IRC_402A_C4, IRC_402C2), _always, _taxable_row),
    Invariant("TAXABLE-SUM", "Taxable income is the sum of every row's taxable amount.", (IRC_402A_TAX,), _always,
              _taxable_sum),
    Invariant("FORM-1099R", "Each disbursement's Form 1099-R reports its amount (a payment's plan loan offset "
              "included), taxable amount, withholding, after-tax part, distribution code (the route's codes with the "
              "code for the recipient's age or event where the two may stand together) and, for a designated Roth "
              "account, the first year of designated Roth contributions when it is given.",
              (FORM_1099R, FORM_1099R_IRR, FORM_1099R_M, REG_LOAN_OFFSET, FORM_1099R_CODES, FORM_1099R_4G,
               PUB_1220_BOX11), _always, _form_1099r),
    Invariant("REGIME", "The result names the regime the request asked for, or the default for its contract and date.",
              (N2009_68,), _always, _regime),
    Invariant("OLD-RULE-PRORATA", "Under Notice 2009-68 each disbursement carries its own pro rata share of the basis, "
              "leftover cents going to the largest remainders.", (N2009_68, IRC_72E8), _old, _old_rule),
)

BY_ID: dict[str, Invariant] = {inv.id: inv for inv in INVARIANTS}


def violated(req: Request, res: Result) -> list[Invariant]:
    """The invariants a concrete result breaks (empty for a correct answer)."""
    from rollsplit.spec.arith import INT
    return [inv for inv in INVARIANTS if inv.applies(req) and not inv.holds(INT, req, res)]


@contextlib.contextmanager
def weakened(invariant_id: str, holds: Callable):
    """For mutation testing of the specification itself (`reference.mutants`): the invariant `invariant_id` judged by
    `holds` instead, everywhere the invariants are read, for the length of a `with` block."""
    global INVARIANTS, BY_ID
    saved = INVARIANTS, BY_ID
    INVARIANTS = tuple(dataclasses.replace(inv, holds=holds) if inv.id == invariant_id else inv for inv in INVARIANTS)
    BY_ID = {inv.id: inv for inv in INVARIANTS}
    try:
        yield
    finally:
        INVARIANTS, BY_ID = saved
