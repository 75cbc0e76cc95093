"""Fuzz the toy calculator against the law with rollsplit's strategies and oracle.

Run it:  python -m pytest examples/fuzz_with_pytest -q
It FAILS on purpose: toy_calculator.py truncates the pro rata share, and Hypothesis shrinks the request on
which that matters to a minimal one; the failure names the broken invariant (PRORATA-ROUNDING, with its
citation, IRC §72(e)(8)) and every field that differs from the reference. Fix the bug (round half up:
`(2 * D * basis + balance) // (2 * balance)`) and the test passes.
"""

from hypothesis import given, settings

from rollsplit.fuzzing import boundary_requests
from toy_calculator import allocate

# the toy implements only these features: the strategies draw only requests that need nothing else
FEATURES = {"core", "form_1099r"}


@settings(max_examples=300, deadline=None)
@given(req=boundary_requests(features=FEATURES))
def test_toy_calculator_follows_the_law(rollsplit_check, req):
    rollsplit_check(req, allocate(req))


def test_seed_example_of_the_law(rollsplit_check):
    """DOMAIN.md, seed 004: $60,000 directly to an IRA and $20,000 kept out of a $100,000 account with
    $20,000 after-tax: the rollover is all pre-tax, the cash is $4,000 pre-tax + $16,000 after-tax."""
    req = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
           "basis": 2_000_000, "disbursements": [
               {"id": "ira", "method": "direct", "to": "traditional_ira", "amount": 6_000_000},
               {"id": "me", "method": "paid", "amount": 2_000_000}]}
    answer = allocate(req)
    rollsplit_check(req, answer)
    assert answer["disbursements"][1]["pretax"] == 400_000
