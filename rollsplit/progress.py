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
        self.text = text
        if self.tty:
            self.stream.write("\r" + text + " ")
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
