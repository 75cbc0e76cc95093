"""Money for people: integer cents written as dollars, with integer arithmetic only (no floats anywhere)."""

from __future__ import annotations


def money(cents: int) -> str:
    """$1,234.56 from integer cents: 123456 -> '$1,234.56', -5 -> '-$0.05'."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
