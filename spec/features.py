"""Features of the wire contract (the persistent protocol's handshake lists those an implementation supports).

`core` is required of every implementation; a request needing an undeclared feature is skipped by the
conformance runner (never counted as passed). `form_1099r` is about the answer: an implementation that
does not declare it is not judged on its `form_1099r` objects.

Contract 1.2 adds two request features, so that a calculator of contract 1.1 skips every request that uses them:
`recipients` (the `recipient` field, given at all, or a rollover into an inherited IRA) and `form_1099r_box7` (the
`participant` object, given at all: the facts box 7's code for the age or event, box 11 and `inconsistent_facts` are
read from). A beneficiary's code 4 in box 7 comes from the recipient alone and belongs to `recipients`.
"""

from __future__ import annotations

from typing import Any

from rollsplit.spec import law

FEATURES: dict[str, str] = {
    "core": "one pretax_aftertax contract, direct rollovers and one payment, new regime, elections",
    "sixty_day": "60-day rollovers out of the payment (rollovers_60_day, sixty_day_pretax_* elections)",
    "designated_roth": "designated Roth contracts, qualified_roth",
    "pre1987_basis": "pre-1987 basis recovered first (§72(e)(8)(D))",
    "rmd": "a required minimum distribution inside the payment, and hardship distributions",
    "regime_2009": "the old rule of Notice 2009-68 (explicit or by date)",
    "form_1099r": "Form 1099-R boxes in each disbursement's result",
    # contract 1.1
    "in_plan_roth": "the in_plan_roth destination: a rollover into the same plan's designated Roth account "
                    "(§402A(c)(4))",
    "loan_offset": "a plan loan offset on the payment (loan_offset, qualified_plan_loan_offset; §402(c)(3)(C))",
    "withholding_de_minimis": "other_eligible_this_year: the year's other eligible rollover distributions, for the "
                              "$200 floor of mandatory withholding (Reg. §31.3405(c)-1 Q&A-14)",
    # contract 1.2
    "recipients": "who receives the money (recipient: participant, spouse_beneficiary, nonspouse_beneficiary, "
                  "alternate_payee_spouse) and the inherited_traditional_ira and inherited_roth_ira destinations "
                  "(§402(c)(9), (11); §402(e)(1)(B)); a beneficiary's code 4 in box 7",
    "form_1099r_box7": "the participant's facts (participant: birth_date, separation_date, disabled, "
                       "first_roth_contribution_year): box 7's code for the age or event (1, 2, 3, 7), box 11, "
                       "inconsistent_facts and the qualified_roth they decide",
}
CORE = "core"


def required_features(request: Any) -> set[str]:
    """The features a wire request needs (best effort on malformed input: never raises)."""
    need = {CORE}
    if not isinstance(request, dict):
        return need
    if request.get("rollovers_60_day") or any(k.startswith("sixty_day") for k in (request.get("elections") or {})
                                               if isinstance(k, str)):
        need.add("sixty_day")
    if request.get("contract") == "designated_roth" or request.get("qualified_roth"):
        need.add("designated_roth")
    if request.get("pre1987_basis"):
        need.add("pre1987_basis")
    if request.get("rmd") or request.get("hardship"):
        need.add("rmd")
    rows = [r for key in ("disbursements", "rollovers_60_day") for r in (request.get(key) or [])
            if isinstance(r, dict)]
    if any(r.get("to") == "in_plan_roth" for r in rows):
        need.add("in_plan_roth")
    # a field a calculator must read is needed wherever it is given, even as 0 or false (it is unknown to one
    # that does not declare its feature)
    if any("loan_offset" in r or "qualified_plan_loan_offset" in r for r in rows):
        need.add("loan_offset")
    if "other_eligible_this_year" in request:
        need.add("withholding_de_minimis")
    if "recipient" in request or any(r.get("to") in law.INHERITED for r in rows):
        need.add("recipients")
    if "participant" in request:
        need.add("form_1099r_box7")
    if request.get("regime") == "notice_2009_68":
        need.add("regime_2009")
    else:
        # the default regime is the old rule for a designated Roth contract before 2014-09-18
        date = request.get("date")
        if request.get("contract") == "designated_roth" and isinstance(date, str) and date < "2014-09-18" \
                and "regime" not in request:
            need.add("regime_2009")
    return need
