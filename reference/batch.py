"""`rollsplit allocate --jsonl IN [--out OUT] [--jobs N]`: a file of requests in, one answer per line out, in order.

Each line of IN is one request (the wire contract's Request JSON); each line of OUT is its answer, the Result JSON or
the Error JSON, exactly as `rollsplit allocate --json` prints it for that request alone (a line that is not one JSON
value, or longer than 16 MiB, gets an invalid_json Error, as `rollsplit serve` answers it). Lines are answered in
chunks by N worker processes (forked where the platform can, so they start warm) and written in the order read;
input is read as it is needed, so memory stays bounded by a few chunks per worker whatever the file's size.

OUT is written beside itself and renamed into place at the end: it holds either its previous content or every
answer, never half of them. On a terminal a progress bar is drawn on standard error.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections import deque
from typing import BinaryIO, Iterator

from rollsplit.reference.serve import MAX_LINE, decode, encode

CHUNK = 2000          # lines per task sent to a worker
AHEAD = 3             # chunks in flight per worker


class BatchError(Exception):
    """IN cannot be read or OUT cannot be written: a sentence naming the file."""


def answer_line(line: bytes) -> bytes:
    """The answer to one line (without its line break), as one line of JSON text ending with a newline."""
    from rollsplit.reference import calculate
    from rollsplit.spec.errors import RequestError
    try:
        obj = decode(line)
    except RequestError as e:
        return encode(e.to_wire())
    return encode(calculate(obj))


def answer_chunk(lines: list[bytes]) -> tuple[bytes, int]:
    """(the answers, one per line, joined; how many are Errors)."""
    out = [answer_line(x) for x in lines]
    return b"".join(out), sum(1 for a in out if a.startswith(b'{"error":'))


_TOO_LONG = None


def _too_long() -> bytes:
    global _TOO_LONG
    if _TOO_LONG is None:
        _TOO_LONG = encode({"error": {"code": "invalid_json", "message": f"The line is longer than {MAX_LINE} bytes, "
                                      "the most rollsplit reads as one request.", "field": None}})
    return _TOO_LONG


def read_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[bytes | None]:
    """Each line of `stream` without its line break (CR LF or LF); None for a line longer than `max_line`, skipped
    in bounded pieces, never held whole."""
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        if len(line) > max_line and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(max_line + 1)
            yield None
            continue
        yield line.rstrip(b"\r\n") if line.endswith(b"\n") else line


def _chunks(lines: Iterator[bytes | None]) -> Iterator[list[bytes | None]]:
    chunk: list[bytes | None] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _answer(chunk: list[bytes | None]) -> tuple[bytes, int, int]:
    """(answers, lines, errors) of a chunk; long lines (None) answered here, the rest by `answer_chunk`."""
    if all(x is not None for x in chunk):
        text, errors = answer_chunk(chunk)   # type: ignore[arg-type]
        return text, len(chunk), errors
    parts, errors = [], 0
    for x in chunk:
        if x is None:
            parts.append(_too_long())
            errors += 1
        else:
            text, e = answer_chunk([x])
            parts.append(text)
            errors += e
    return b"".join(parts), len(chunk), errors


def _worker_init() -> None:
    # Ctrl-C goes to the whole process group: the parent ends the run and says so; a worker only stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(jobs: int):
    import multiprocessing as mp
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    return ctx.Pool(jobs, initializer=_worker_init)


class Bar:
    """A progress bar on standard error when it is a terminal (nothing otherwise): requests done, rate, time left
    (from the bytes read of a file whose size is known)."""

    def __init__(self, stream, total_bytes: int | None) -> None:
        self.stream = stream
        self.on = stream is not None and getattr(stream, "isatty", lambda: False)()
        self.total = total_bytes
        self.began = self.last = time.monotonic()
        self.drawn = False

    def update(self, done: int, read_bytes: int | None, final: bool = False) -> None:
        now = time.monotonic()
        if not self.on or (not final and now - self.last < 0.2):
            return
        self.last = now
        elapsed = max(now - self.began, 1e-9)
        rate = done / elapsed
        if self.total and read_bytes is not None:
            part = min(1.0, read_bytes / self.total) if not final else 1.0
            filled = int(part * 30)
            left = (elapsed / part - elapsed) if part > 0 else 0.0
            text = (f"[{'=' * filled}{'>' if filled < 30 else ''}{' ' * (29 - filled)}] {part:4.0%} "
                    f"{done:,} requests, {rate:,.0f}/s" + ("" if final else f", {left:,.0f} s left"))
        else:
            text = f"{done:,} requests, {rate:,.0f}/s"
        try:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
            self.stream.flush()
            self.drawn = not final
        except (OSError, ValueError):
            self.on = False

    def close(self) -> None:
        if self.on and self.drawn:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass


class _Out:
    """OUT: a temporary file beside it, renamed over it by `commit` (standard output: written as it goes)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.tmp: str | None = None
        if path is None or path == "-":
            self.file = sys.stdout.buffer
            return
        target = os.path.realpath(path)
        if os.path.isdir(target):
            raise BatchError(f"cannot write {path}: it is a directory")
        try:
            if os.path.exists(target) and not os.path.isfile(target):   # a device or a pipe: written in place
                self.file = open(target, "wb")
                return
            fd, self.tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".partial",
                                            dir=os.path.dirname(target) or ".")
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
            self.file = open(fd, "wb")
            self.target = target
        except OSError as e:
            raise BatchError(f"cannot write {path}: {e.strerror or e}") from None

    def write(self, data: bytes) -> None:
        try:
            self.file.write(data)
        except OSError as e:
            raise BatchError(f"cannot write {self.path or 'standard output'}: {e.strerror or e}") from None

    def commit(self) -> None:
        try:
            self.file.flush()
            if self.tmp is not None:
                self.file.close()
                os.replace(self.tmp, self.target)
                self.tmp = None
            elif self.file is not sys.stdout.buffer:
                self.file.close()
        except OSError as e:
            raise BatchError(f"cannot write {self.path or 'standard output'}: {e.strerror or e}") from None

    def discard(self) -> None:
        if self.tmp is not None:
            try:
                self.file.close()
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


class Summary:
    def __init__(self) -> None:
        self.requests = self.errors = 0
        self.seconds = 0.0


def run(in_path: str, out_path: str | None = None, jobs: int = 1, progress=None) -> Summary:
    """Answer every line of `in_path` ('-': standard input) into `out_path` (None or '-': standard output) with
    `jobs` processes. Raises BatchError (IN unreadable, OUT unwritable) and KeyboardInterrupt (OUT left as it was)."""
    began = time.monotonic()
    try:
        stream = sys.stdin.buffer if in_path == "-" else open(in_path, "rb")
    except OSError as e:
        raise BatchError(f"cannot read {in_path}: {e.strerror or e}") from None
    try:
        size = None
        if stream is not sys.stdin.buffer:
            try:
                size = os.fstat(stream.fileno()).st_size or None
            except OSError:
                pass
        out = _Out(out_path)
        bar = Bar(progress if progress is not None else sys.stderr, size)
        summary = Summary()
        try:
            chunks = _chunks(read_lines(stream))
            if jobs <= 1:
                results = map(_answer, chunks)
                _drain(results, out, summary, bar, stream)
            else:
                with _pool(jobs) as pool:
                    _drain(_ordered(pool, chunks, jobs), out, summary, bar, stream)
            out.commit()
        except OSError as e:   # reading IN failed midway
            out.discard()
            raise BatchError(f"cannot read {in_path}: {e.strerror or e}") from None
        except BaseException:
            out.discard()
            raise
        finally:
            bar.close()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    summary.seconds = time.monotonic() - began
    return summary


def _ordered(pool, chunks: Iterator[list], jobs: int) -> Iterator[tuple[bytes, int, int]]:
    """The answers of the chunks in order, at most AHEAD chunks per worker in flight (the input read as needed)."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(_answer, (chunk,)))
        if len(pending) >= AHEAD * jobs:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _drain(results, out: _Out, summary: Summary, bar: Bar, stream) -> None:
    for text, lines, errors in results:
        out.write(text)
        summary.requests += lines
        summary.errors += errors
        try:
            position = stream.tell() if stream is not sys.stdin.buffer else None
        except OSError:
            position = None
        bar.update(summary.requests, position)
    bar.update(summary.requests, None, final=True)


def main_line(summary: Summary) -> str:
    return (f"{summary.requests:,} requests answered in {summary.seconds:.1f} s "
            f"({summary.requests / max(summary.seconds, 1e-9):,.0f}/s): {summary.requests - summary.errors:,} results, "
            f"{summary.errors:,} errors")

