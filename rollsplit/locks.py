"""One process at a time per directory: an exclusive `flock` on a lock file, which the kernel releases however the
holder ends, and the holder's pid written in it so that the next one can say who holds it."""

from __future__ import annotations

import os


def flock(fd: int) -> None:
    """Take an exclusive lock on `fd` without waiting; OSError when another process holds it."""
    try:
        import fcntl
    except ImportError:   # Windows: a lock on the first byte, likewise released when the process ends
        import msvcrt
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def try_lock(fd: int) -> str | None:
    """Lock `fd`; None when taken, else the text that names the holder (" (pid N)" or "") and `fd` is closed."""
    try:
        flock(fd)
        return None
    except OSError:
        try:
            holder = os.read(fd, 32).decode(errors="replace").strip()
        except OSError:
            holder = ""
        os.close(fd)
        return f" (pid {holder})" if holder.isdigit() else ""
