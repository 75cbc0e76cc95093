"""Adapter processes, and everything they start, end with the runner (issue: items 1 and 2).

An adapter is untrusted: it may fork a child that keeps running (`sh -c 'sleep 300 & exec calc'`), one that
calls setsid to leave the adapter's process group, a daemon (double fork), or ignore SIGTERM. On Linux the
runner ends all of them, in four layers:

1. Every adapter leader starts in a session and process group of its own (`start_new_session`), and the whole
   group is killed with SIGKILL when the adapter stops -- also when the leader has already exited: the leader is
   then waited for without being reaped (`waitid(WNOWAIT)` or a pidfd) until its group is killed, so the group
   id cannot have been handed to another process.
2. While an adapter runs, this process is a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): a descendant
   orphaned by its parent's exit is re-parented to the runner, not to init, so it stays in the runner's tree.
   On stop, the leader's tree is walked (`/proc/PID/task/TID/children`) and every descendant killed, and so is
   every orphan re-parented to the runner that belongs to that adapter: one in its session, or one whose
   environment holds its token (`ROLLSPLIT_ADAPTER_RUN`, a value per adapter, inherited by what it starts), with
   their own trees; a few rounds, for what forks meanwhile. Orphans are reaped.
3. The leader gets `prctl(PR_SET_PDEATHSIG, SIGKILL)`: should the runner itself be killed with SIGKILL (no
   clean-up possible), the adapter leader dies with it.
4. SIGINT, SIGTERM and SIGHUP are turned into an exception (a KeyboardInterrupt) for the duration of a run
   (`stop_on_signals`), so the run ends through one clean-up, reports what ran and exits with 128 + the
   signal's number. A signal that arrives while an adapter is being started or stopped waits until that is
   done; a second signal during the clean-up is ignored.

What is not covered: a descendant that both leaves the adapter's session and clears its environment, and whose
parent exits before the adapter is stopped; and the adapter's descendants when the runner is killed with SIGKILL
(only the leader dies then). Other systems get layers 1 and 4.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Iterator

LINUX = sys.platform.startswith("linux")
TOKEN_VAR = "ROLLSPLIT_ADAPTER_RUN"
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
REAP_SECONDS = 2.0   # how long a killed process may take to die before it is left to init

_token: str | None = None                 # this runner's; each adapter gets `_token.N` in its environment
_count = 0
_lock = threading.RLock()
_live: dict[int, tuple[subprocess.Popen, str]] = {}   # leader pid -> (its Popen, its token), until reaped
_subreaper_users = 0
_prctl = None


def _forked() -> None:   # a forked copy of the runner owns none of the adapters (and gets a token of its own)
    global _token, _subreaper_users, _lock, _live
    _token = None
    _lock = threading.RLock()   # another thread may have held it at the fork
    _live = {}
    _subreaper_users = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)

if LINUX:
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _prctl = _libc.prctl
        _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _prctl.restype = ctypes.c_int
    except (OSError, AttributeError):
        _prctl = None


# ---- signals --------------------------------------------------------------------------------------------
class Stopped(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP during a run (see `stop_on_signals`): ends it like Ctrl-C; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_of(e: BaseException) -> int:
    """The signal an interruption stands for: its own for `Stopped`, SIGINT for Ctrl-C."""
    return getattr(e, "signum", signal.SIGINT)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_critical = 0
_pending: int | None = None
_raised = False


def _on_signal(signum, frame) -> None:
    global _pending, _raised
    if _raised:            # the run is already ending: one clean-up, not two
        return
    if _critical:          # starting or stopping an adapter: raised when that is done
        _pending = _pending or signum
        return
    _raised = True
    raise Stopped(signum)


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Starting or stopping an adapter is not cut short by a signal of `stop_on_signals`: it waits until done."""
    global _critical, _pending, _raised
    main = threading.current_thread() is threading.main_thread()
    if main:
        _critical += 1
    try:
        yield
    finally:
        if main:
            _critical -= 1
            if not _critical and _pending is not None and not _raised:
                signum, _pending = _pending, None
                _raised = True
                raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals(signums=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise `Stopped` (a KeyboardInterrupt) in the main thread, so a
    run ends through its clean-up as on Ctrl-C. A second signal during that clean-up is ignored. Outside the main
    thread (signal handlers cannot be set there) nothing changes."""
    global _pending, _raised
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    _pending, _raised = None, False
    for s in signums:
        try:
            previous[s] = signal.signal(s, _on_signal)
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        for s, handler in previous.items():
            try:
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        _pending, _raised = None, False


# ---- starting ------------------------------------------------------------------------------------------
def _set_subreaper(on: bool) -> None:
    if _prctl is not None:
        _prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


def _preexec(parent: int):
    prctl = _prctl

    def run() -> None:   # in the child, between fork and exec: die with the runner, even one killed by SIGKILL
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:   # the runner died before the line above
            os._exit(1)
    return run


def spawn(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start an adapter: pipes for stdin, stdout and stderr, a session of its own, the runner's token in its
    environment, and (Linux) the parent-death signal. Raises OSError when it cannot be started."""
    global _subreaper_users, _token, _count
    with _lock:
        if _token is None:
            _token = f"{os.getpid()}-{uuid.uuid4().hex}"
        _count += 1
        token = f"{_token}.{_count}"
    environment = {**(os.environ if env is None else env), TOKEN_VAR: token}
    # the parent-death signal follows the thread that starts the child: only the main thread lives as long as
    # the runner does
    preexec = _preexec(os.getpid()) if _prctl is not None and \
        threading.current_thread() is threading.main_thread() else None
    with _uninterrupted(), _lock:
        if not _subreaper_users:
            _set_subreaper(True)
        _subreaper_users += 1
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=environment, bufsize=0, start_new_session=True, preexec_fn=preexec)
        except BaseException:
            _release_subreaper()
            raise
        _live[proc.pid] = (proc, token)
    return proc


def _release_subreaper() -> None:
    global _subreaper_users
    _subreaper_users = max(0, _subreaper_users - 1)
    if not _subreaper_users:
        _set_subreaper(False)


# ---- waiting without reaping ------------------------------------------------------------------------------
def exit_status(proc: subprocess.Popen) -> int | None:
    """The leader's exit code (negative: killed by that signal) once it has exited, else None. The leader is
    not reaped, so its pid and process group id stay its own until `end`."""
    if proc.returncode is not None:
        return proc.returncode
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll()
    except (OSError, AttributeError):   # no waitid (not POSIX): reap; `end` then kills the group only while any
        return proc.poll()              # member lives
    if info is None or info.si_pid == 0:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def exit_fd(proc: subprocess.Popen) -> int | None:
    """A file descriptor that becomes readable when the leader exits (a pidfd), or None where there is none."""
    try:
        return os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return None


def wait_exit(proc: subprocess.Popen, timeout: float) -> int | None:
    """Wait up to `timeout` seconds for the leader to exit, without reaping it; its code, or None."""
    deadline = time.monotonic() + timeout
    fd = exit_fd(proc)
    try:
        while True:
            code = exit_status(proc)
            remaining = deadline - time.monotonic()
            if code is not None or remaining <= 0:
                return code
            if fd is not None:
                select.select([fd], [], [], remaining)
            else:
                time.sleep(min(0.02, remaining))
    finally:
        if fd is not None:
            os.close(fd)


# ---- the process tree ----------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
    return out


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, process group, session, start time) of `pid`, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[2]), int(fields[3]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _token_of(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
    except OSError:
        return None
    for item in env.split(b"\0"):
        if item.startswith(TOKEN_VAR.encode() + b"="):
            return item.split(b"=", 1)[1].decode("utf-8", "replace")
    return None


def _tree(root: int) -> list[int]:
    """`root`'s descendants, breadth first (not `root`)."""
    out, todo, seen = [], [root], {root}
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.add(child)
                out.append(child)
                todo.append(child)
    return out


def _kill(pid: int, start: int) -> None:
    """SIGKILL `pid` if it is still the process that started at `start` (never one that took over its pid)."""
    if pid == os.getpid():
        return
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        now = _stat(pid)
        if now is None or now[3] != start:
            return
        if fd is not None:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    finally:
        if fd is not None:
            os.close(fd)


def _killpg(pgid: int) -> None:
    if not hasattr(os, "killpg") or pgid <= 1 or pgid == os.getpgrp():
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _reap(pids: list[int], deadline: float) -> None:
    """Reap orphans the runner adopted and killed: none may stay a zombie."""
    left = set(pids)
    while left:
        for pid in list(left):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except OSError:
                done = pid
            if done:
                left.discard(pid)
        if not left or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def _sweep(leaders: list[subprocess.Popen], owns) -> None:
    """Kill every process in the trees of `leaders` and every orphan the runner adopted for which
    `owns(pid, session, token)` holds (with their own trees); reap those orphans. A few rounds, for processes
    forked while a round ran. Never a leader of a live adapter: its Popen reaps it."""
    me = os.getpid()
    seen: dict[int, int] = {}            # pid -> start time: found in an adapter's tree in an earlier round
    for _ in range(5):
        victims: dict[int, int] = {}
        for proc in leaders:
            if proc.returncode is None:
                _killpg(proc.pid)
                for pid in _tree(proc.pid):
                    st = _stat(pid)
                    if st is not None:
                        victims[pid] = seen[pid] = st[3]
        orphans = []
        for pid in _children(me):
            st = _stat(pid)
            if st is None or pid in _live:
                continue
            if not (seen.get(pid) == st[3] or owns(pid, st[2], None if st[0] == "Z" else _token_of(pid))):
                continue
            orphans.append(pid)
            victims[pid] = seen[pid] = st[3]
            for sub in _tree(pid):
                s2 = _stat(sub)
                if s2 is not None:
                    victims[sub] = seen[sub] = s2[3]
        live = {pid: start for pid, start in victims.items() if (_stat(pid) or ("Z",))[0] != "Z"}
        for pid, start in live.items():
            _kill(pid, start)
        _reap(orphans, time.monotonic() + REAP_SECONDS)
        if not live:
            return


def end(proc: subprocess.Popen) -> None:
    """Stop an adapter for good: kill its process group and every process it started (however it left the
    group), reap the leader, close its pipes. Safe to call twice. Raises nothing of its own; a signal of
    `stop_on_signals` that arrived meanwhile is raised once this is done."""
    with _uninterrupted(), _lock:
        token = _live.get(proc.pid, (None, None))[1]

        def owns(pid: int, session: int, tok: str | None) -> bool:
            return session == proc.pid or (token is not None and tok == token)
        try:
            if proc.returncode is None:
                _killpg(proc.pid)          # the leader is not reaped yet: its group id is still its own
                if not hasattr(os, "killpg"):
                    try:
                        proc.kill()
                    except OSError:
                        pass
            if LINUX:
                _sweep([proc], owns)
            try:
                proc.wait(timeout=REAP_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            if LINUX:                      # what the leader's death orphaned at the last moment
                _sweep([], owns)
        finally:
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
            if _live.pop(proc.pid, None) is not None:
                _release_subreaper()


def end_all() -> None:
    """Stop every adapter still running (the runner is ending, however it ends) and every orphan of any
    adapter this runner started."""
    with _lock:
        procs = [p for p, _ in _live.values()]
    for proc in procs:
        end(proc)
    if LINUX and _token is not None:
        prefix = f"{_token}."
        with _uninterrupted(), _lock:
            _sweep([], lambda pid, session, tok: tok is not None and tok.startswith(prefix))


atexit.register(end_all)
