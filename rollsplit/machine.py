"""One line naming the machine a figure was measured on (every benchmark prints it beside its table)."""

from __future__ import annotations

import os
import platform


def machine() -> str:
    """e.g. 'x86_64, 2 cores, Python 3.11.7 (CPython), Linux 6.18.44'."""
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}")
