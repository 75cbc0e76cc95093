"""The fuzzing kit: throw thousands of valid and near-valid requests at a calculator, in any language, and
get back the smallest request on which it is wrong, as a ready conformance vector.

- `conformance.fuzzing.strategies`  Hypothesis strategies (boundary_requests, near_valid_requests, fuzz_cases)
- `conformance.fuzzing.api`         check(request, answer) -> None or raises Mismatch (an AssertionError)
- `conformance.fuzzing.driver`      fuzz(allocate, examples=..., seed=...) -> FuzzReport (shrunk failure)
- `conformance.fuzzing.commands`    `rollsplit conformance fuzz` and `rollsplit conformance fuzz-bench`
- `conformance.fuzzing.pytest_plugin`  the `rollsplit_check` fixture for pytest users

Names are imported lazily so that importing the package (the pytest plugin does) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check": "rollsplit.conformance.fuzzing.api", "Mismatch": "rollsplit.conformance.fuzzing.api",
    "expected_answer": "rollsplit.conformance.fuzzing.api",
    "boundary_requests": "rollsplit.conformance.fuzzing.strategies", "near_valid_requests": "rollsplit.conformance.fuzzing.strategies",
    "fuzz_cases": "rollsplit.conformance.fuzzing.strategies",
    "fuzz": "rollsplit.conformance.fuzzing.driver", "FuzzReport": "rollsplit.conformance.fuzzing.driver",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rollsplit.conformance.fuzzing' has no attribute {name!r}")
