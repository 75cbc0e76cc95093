"""Errors are values with stable codes: a program reads `code`, a person reads `message`.

The codes are part of the wire contract (1.0; contract 1.1 added zero_amount, before_effective_date and
rmd_not_required) and never change meaning. `field` is a JSON path into the
request (for example `disbursements[1].amount`) or None.
"""

from __future__ import annotations

from dataclasses import dataclass

# code -> when it is used (the sentence is also the vendor guide's table)
ERROR_CODES: dict[str, str] = {
    "invalid_json": "the input is not a single well-formed JSON value (UTF-8, no NaN/Infinity, no duplicate keys)",
    "invalid_request": "wrong shape or type, a missing or unknown field, or a value outside its enumeration",
    "amount_out_of_range": "a money value is not an integer number of cents between 0 and 9007199254740991",
    "basis_exceeds_balance": "basis is larger than the balance, or pre1987_basis is larger than basis",
    "distribution_exceeds_balance": "the disbursements add up to more than the balance",
    "empty_distribution": "there are no disbursements (contract 1.0 also used it for rows adding up to zero; those are zero_amount now)",
    "duplicate_id": "two disbursements or 60-day rollovers share an id",
    "more_than_one_payment": "more than one disbursement has method 'paid'",
    "sixty_day_without_payment": "a 60-day rollover is given but nothing is paid to the participant",
    "sixty_day_exceeds_payment": "60-day rollovers add up to more than the paid amount less the RMD",
    "rmd_exceeds_payment": "the RMD is larger than the amount paid to the participant",
    "ineligible_destination": "money of a kind would go where the law does not let it go",
    "not_eligible_rollover_distribution": "a hardship distribution is rolled over",
    "invalid_election": "an election names unknown ids, gives both order and amounts, or its amounts do not add up",
    "regime_not_permitted": "the requested regime may not be used for this contract on this date",
    # contract 1.1
    "zero_amount": "a disbursement or 60-day rollover of 0 cents (a $0 payment is no distribution and gets no form)",
    "before_effective_date": "the date is before the law allowed this route: rollsplit models distributions after "
                             "2001; after-tax money into a 403(b) from 2007; plan-to-Roth-IRA rollovers after 2007; "
                             "in-plan Roth rollovers after September 27, 2010 (governmental 457(b) from 2011); "
                             "designated Roth accounts from 2006 (governmental 457(b) from 2011); qualified plan "
                             "loan offsets from 2018",
    "rmd_not_required": "a required minimum distribution is given for a designated Roth account after April 1, "
                        "2024 (the last day a 2023 RMD could be due), when the law requires none during the "
                        "participant's life",
    # contract 1.2
    "nonspouse_sixty_day_rollover": "a beneficiary who is not the surviving spouse gives a 60-day rollover: such a "
                                    "beneficiary may roll over only by direct rollover into an inherited IRA "
                                    "(§402(c)(11))",
    "inconsistent_facts": "the participant's facts contradict each other or the request (a birth date on or after "
                          "the distribution's date, a separation on or before birth, a first year of designated Roth "
                          "contributions outside 2006 to the distribution's year or for a contract without one, "
                          "or qualified_roth contrary to what the facts make the distribution)",
}

# Codes of the command line, outside the wire contract: `rollsplit allocate --json FILE` answers them in the same
# Error JSON when there is no request to judge at all. A calculator never receives such a request, so no vector
# of the conformance suite expects them.
INPUT_ERROR_CODES: dict[str, str] = {
    "unreadable_input": "the request file cannot be read (it does not exist, is a directory, or may not be read)",
}

# A code of the reference itself, outside the wire contract: a request of a shape beyond the proofs is answered by the
# generic path and its answer checked against every rule before it is given (`reference.calculate`). Should that
# check ever fail, the answer is withheld and this error is given instead. It speaks of rollsplit, never of the
# request, so no calculator gives it and no vector expects it.
FAULT_CODES: dict[str, str] = {
    "reference_fault": "the reference's answer to a request beyond the proved shapes broke a rule of the law when it "
                       "was checked, so it was withheld: a fault in rollsplit, not in the request",
}

# The order in which checks run, so every implementation reports the same code for a request with
# several faults: structural checks while parsing, then value checks in this order.
VALUE_CHECK_ORDER: tuple[str, ...] = (
    "basis_exceeds_balance",
    "empty_distribution",
    "distribution_exceeds_balance",
    "rmd_exceeds_payment",
    "sixty_day_exceeds_payment",
    "invalid_election",
    "ineligible_destination",
)


@dataclass(eq=False)   # not frozen: Python sets __traceback__ and __context__ on an exception as it travels
class RequestError(Exception):
    code: str
    message: str
    field: str | None = None

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"unknown error code {self.code!r}")

    def to_wire(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}

    def __str__(self) -> str:
        where = f" (at {self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"
