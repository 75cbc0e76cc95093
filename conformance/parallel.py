"""Several adapter processes at once (`conformance run --jobs N`): one command, N adapters, one run.

`AdapterPool` holds N adapters of the same command and stands for one adapter in `runner.run`: its handshake is
the first adapter's (started first, so a command that cannot start stops the run as it would with one), the
others start on their first vector, each in a thread of its own. Threads only send and wait (an adapter is
another process, so N of them answer on N cores); judging, reports and the progress line stay in the runner's
thread, which takes the answers in the order of the vectors. So the reports, the summary and the exit code are
those of `--jobs 1`, line for line: only the seconds differ.

When a run stops early (K vectors in a row hung, the deadline, Ctrl-C), vectors other threads had already sent are
reported as not run, as they would have been with one adapter; their adapters are stopped at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from rollsplit.conformance import processes

LOOKAHEAD = 4   # vectors sent ahead of the one the runner judges, per adapter (bounds the answers held)


class AdapterPool:
    """N adapters of one command used as one: `start`, `close`, `handshake`, and `prefetch` for the runner."""

    def __init__(self, adapters: list) -> None:
        if not adapters:
            raise ValueError("a pool needs at least one adapter")
        self.adapters = list(adapters)
        self.handshake: dict | None = None
        self._prefetches: list[Prefetch] = []

    @property
    def jobs(self) -> int:
        return len(self.adapters)

    @property
    def timeout(self) -> Any:
        return getattr(self.adapters[0], "timeout", None)

    def start(self) -> dict:
        """Start every adapter at once, each in a thread; the first one's handshake is the run's, and its failure to
        start stops the run as it would with one adapter. Another that does not start is left out of the run (the
        run is then that of fewer adapters, with the same results)."""
        if self.handshake is not None:
            return self.handshake
        failed: list = []

        def start_other(adapter) -> None:
            try:
                adapter.start()
            except Exception:   # AdapterStartError and anything else: this adapter takes no part
                failed.append(adapter)
        threads = [threading.Thread(target=start_other, args=(a,), daemon=True) for a in self.adapters[1:]]
        for t in threads:
            t.start()
        try:
            self.handshake = self.adapters[0].start()
        finally:
            for t in threads:
                t.join()
        for a in failed:
            a.close()
            self.adapters.remove(a)
        return self.handshake

    def prefetch(self, send: Callable[[Any, Any], Any], vectors: list) -> "Prefetch":
        """Send `vectors` in order over the adapters; `Prefetch.get(i)` waits for the answer to the i-th."""
        p = Prefetch(self.adapters, send, vectors)
        self._prefetches.append(p)
        return p

    def close(self) -> None:
        for p in self._prefetches:
            p.stop()
        self._prefetches.clear()
        for a in self.adapters:
            try:
                a.close()
            except OSError:
                pass

    def __enter__(self) -> "AdapterPool":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Prefetch:
    """Threads that send vectors ahead of the runner, one per adapter, and keep the answers until taken."""

    def __init__(self, adapters: list, send: Callable[[Any, Any], Any], vectors: list) -> None:
        self.vectors = vectors
        self.send = send
        self.answers: dict[int, Any] = {}
        self.next_to_send = 0
        self.taken = 0                      # answers the runner has taken (it waits for answer `taken` next)
        self.stopping = False
        self.cond = threading.Condition()
        self.busy: dict[int, Any] = {}      # thread number -> the adapter it is sending on
        self.threads = [threading.Thread(target=self._work, args=(n, a), daemon=True,
                                         name=f"rollsplit-adapter-{n}") for n, a in enumerate(adapters)]
        self.window = LOOKAHEAD * len(adapters)
        for t in self.threads:
            t.start()

    def _claim(self) -> int | None:
        with self.cond:
            while not self.stopping and self.next_to_send < len(self.vectors) \
                    and self.next_to_send >= self.taken + self.window:
                self.cond.wait()
            if self.stopping or self.next_to_send >= len(self.vectors):
                return None
            i = self.next_to_send
            self.next_to_send += 1
            return i

    def _work(self, n: int, adapter) -> None:
        while True:
            i = self._claim()
            if i is None:
                return
            with self.cond:
                self.busy[n] = adapter
            if isinstance(getattr(adapter, "_seq", None), int):
                adapter._seq = i   # the i-th vector sent goes with seq i + 1, as with one adapter (faults name it)
            try:
                answer = self.send(adapter, self.vectors[i])
            except BaseException as e:   # an adapter stopped under it while the run ends: nothing to report
                answer = e
            with self.cond:
                self.busy.pop(n, None)
                self.answers[i] = answer
                self.cond.notify_all()
                if self.stopping:
                    return

    def get(self, i: int):
        """The answer to the i-th vector (waiting for it); the next call is for i + 1."""
        with self.cond:
            while i not in self.answers:
                self.cond.wait(0.1)   # a timeout keeps Ctrl-C prompt
            answer = self.answers.pop(i)
            self.taken = i + 1
            self.cond.notify_all()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def stop(self) -> None:
        """Send nothing more; adapters still busy with a vector are stopped at once (their answer is not wanted)."""
        with self.cond:
            if self.stopping:
                return
            self.stopping = True
            busy = list(self.busy.values())
            self.cond.notify_all()
        for adapter in busy:
            proc = getattr(adapter, "_proc", None)
            if proc is not None:
                processes.end(proc)   # its thread then reads the end of the output and returns
        deadline = time.monotonic() + 2.0
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
