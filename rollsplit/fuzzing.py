"""The fuzzing kit's public face: Hypothesis strategies, the oracle and the driver, from one path.

    from hypothesis import given
    from rollsplit.fuzzing import boundary_requests, check

    @given(boundary_requests(features={"core", "form_1099r"}))
    def test_my_calculator(request):
        check(request, my_calculator(request))     # raises Mismatch (an AssertionError) when wrong

- boundary_requests(features=None, max_snaps=3)   valid requests biased to the law's boundaries
- near_valid_requests(...)                         requests one mistake away from valid, for each error code
- fuzz_cases(features=None, near_valid=True, ...)  both mixed, as the fuzzer draws them
- fuzz(allocate, examples=..., seed=...)           run a calculator and get back the smallest wrong request
- check, Mismatch, expected_answer                 the oracle (the same as rollsplit.check)
"""

from __future__ import annotations

from rollsplit.conformance.fuzzing.api import Mismatch, check, expected_answer
from rollsplit.conformance.fuzzing.driver import FuzzReport, fuzz
from rollsplit.conformance.fuzzing.strategies import boundary_requests, fuzz_cases, near_valid_requests

__all__ = ["boundary_requests", "near_valid_requests", "fuzz_cases", "fuzz", "FuzzReport", "check", "Mismatch",
           "expected_answer"]
