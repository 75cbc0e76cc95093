"""rollsplit: the formally checked reference for splitting a retirement-plan distribution into pre-tax and
after-tax money across rollover destinations (IRC §72(e)(8), IRS Notice 2014-54).

The public API — stable, and the only names other code should import:

    import rollsplit
    answer = rollsplit.allocate(request)     # the wire contract's Result JSON, or its Error JSON, as a dict
    rollsplit.check(request, answer)         # the oracle: None when right, raises rollsplit.Mismatch when wrong
    from rollsplit.fuzzing import boundary_requests, near_valid_requests, fuzz   # Hypothesis strategies

`rollsplit.__version__`, `rollsplit.CONTRACT_VERSION` (the wire contract) and `rollsplit.SUITE_VERSION` (the
bundled conformance suite) say what you run against. Everything else under `rollsplit.*` (`rollsplit.spec`,
`rollsplit.reference`, `rollsplit.solver`, `rollsplit.conformance`) is internal and may change in any release.
Names are imported on first use, so `import rollsplit` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.5.0"

__all__ = ["allocate", "check", "Mismatch", "CONTRACT_VERSION", "SUITE_VERSION", "__version__"]

_LAZY = {
    "check": ("rollsplit.conformance.fuzzing.api", "check"),
    "Mismatch": ("rollsplit.conformance.fuzzing.api", "Mismatch"),
    "CONTRACT_VERSION": ("rollsplit.spec.model", "CONTRACT_VERSION"),
    "SUITE_VERSION": ("rollsplit.conformance.suite", "SUITE_VERSION"),
}


def allocate(request: Any) -> dict:
    """A request (the wire contract's Request JSON, already parsed: a dict) in; the Result JSON or the Error
    JSON (`{"error": {"code": ..., "message": ..., "field": ...}}`) out, as a dict. Never raises for any
    input: a malformed request gets an Error with a stable code."""
    from rollsplit.reference import calculate
    return calculate(request)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'rollsplit' has no attribute {name!r}")


def version_line() -> str:
    """What `rollsplit --version` prints: the package, the wire contract and the bundled suite."""
    from rollsplit.conformance.suite import SUITE_VERSION
    from rollsplit.spec.model import CONTRACT_VERSION
    return f"rollsplit {__version__} (contract {CONTRACT_VERSION}, suite {SUITE_VERSION})"
