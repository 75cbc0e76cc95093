"""The one progress line of the long-running commands (prove, recheck, conformance fuzz)."""

from __future__ import annotations

import time


class Progress:
    """One progress line: rewritten in place on a terminal; elsewhere (logs, CI) a plain line every
    `every` seconds and at the end, so a log is not one huge line."""

    def __init__(self, stream, every: float = 5.0) -> None:
        self.stream, self.every = stream, every
        self.tty = stream is not None and getattr(stream, "isatty", lambda: False)()
        self.last = 0.0
        self.text = ""

    def update(self, text: str) -> None:
        if self.stream is None:
            return
        shown, self.text = self.text, text
        if self.tty:   # padded over the previous line's text, which may have been longer
            self.stream.write("\r" + text.ljust(len(shown)) + " ")
            self.stream.flush()
        elif time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is None:
            return
        self.stream.write("\n" if self.tty else (self.text + "\n" if self.text else ""))
        self.stream.flush()


def duration(seconds: float) -> str:
    """A span of time as a person reads it: '8 s', '2 min 05 s', '1 h 03 min'."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def eta(done: int, total: int, elapsed: float, fraction: float | None = None) -> str:
    """How far along and how long still: '12/357 (3%), 41 s, about 2 min 10 s left'. `fraction`: the share of
    the work done when the items differ in cost (estimated, e.g. by size), else done/total. The time left assumes
    the rest goes at the pace so far, so it is an estimate ('about')."""
    if fraction is None:
        fraction = 1.0 if total <= 0 else done / total
    frac = min(1.0, max(0.0, fraction))
    head = f"{done}/{total} ({frac:.0%}), {duration(elapsed)}"
    if done >= total:
        return head + ", done"
    if frac <= 0 or elapsed < 0.5:
        return head + ", time left not known yet"
    return head + f", about {duration(elapsed * (1 - frac) / frac)} left"
