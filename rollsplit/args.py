"""Argument types shared by the subcommands of every package (argparse turns their errors into usage errors)."""

from __future__ import annotations

import argparse
import os


def seconds(text: str) -> float:
    """A duration in seconds, more than 0 and at most an hour (a duration, never money)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("the seconds must be more than 0 and at most 3600")
    return value


def _whole(text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{what}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"the number{what} must be between {low:,} and {high:,}")
    return value


def count(text: str) -> int:
    """A whole number of things (points, examples), from 1 to a million."""
    return _whole(text, 1, 1_000_000, "")


def jobs(text: str) -> int:
    """A number of worker processes, from 1 to 256."""
    return _whole(text, 1, 256, " of processes")


def default_jobs() -> int:
    """The default number of worker processes: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
