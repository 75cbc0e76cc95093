"""pytest plugin of rollsplit's fuzzing kit (entry point `pytest11: rollsplit`, active wherever rollsplit is
installed).

Fixtures (session-scoped, so they are safe inside Hypothesis `@given` tests):
  rollsplit_check      `conformance.fuzzing.api.check(request, answer)`: None when the answer is right,
                       raises `Mismatch` (an AssertionError naming the broken invariants, their citations and
                       the fields that differ from the reference) when it is wrong
  rollsplit_reference  `reference.calculate(request)`: the reference's wire answer
  rollsplit_strategies the module `conformance.fuzzing.strategies` (boundary_requests, near_valid_requests, ...)

Strategies go into `@given(...)` at import time, so import them directly in your test module:
    from rollsplit.conformance.fuzzing.strategies import boundary_requests

This module imports nothing but pytest at load time (everything else is imported when a fixture is used),
defines no hooks and no options, and prefixes every fixture with `rollsplit_`: it cannot slow down or
break a test run that does not use it.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def rollsplit_check():
    from rollsplit.conformance.fuzzing.api import check
    return check


@pytest.fixture(scope="session")
def rollsplit_reference():
    from rollsplit.reference import calculate
    return calculate


@pytest.fixture(scope="session")
def rollsplit_strategies():
    from rollsplit.conformance.fuzzing import strategies
    return strategies
