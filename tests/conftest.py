"""Project-wide test guard: the code under test is imported only under its installed names, rollsplit.*."""

from __future__ import annotations

import sys

BARE = ("spec", "reference", "solver", "conformance")


def pytest_sessionfinish(session, exitstatus):
    bare = sorted(m for m in sys.modules if m.split(".")[0] in BARE)
    if bare:   # the checkout's folders are importable from its root; only rollsplit.* may be used
        print(f"\nconftest: modules imported under a bare name instead of rollsplit.*: {', '.join(bare[:10])}",
              file=sys.stderr)
        session.exitstatus = 1
