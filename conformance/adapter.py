"""The client side of the two adapter protocols of wire contract v1 (issue 2).

A vendor's calculator is a command. `PersistentAdapter` speaks JSON lines to one long-lived process
(`{"cmd":"start"}` handshake, then `{"cmd":"allocate","seq":N,"request":...}` per vector);
`OneShotAdapter` spawns the command once per request (request JSON on stdin, one JSON on stdout).

Whatever the calculator does -- crash, hang, print garbage, half a line, the wrong seq, megabytes of
output, JSON of the wrong shape -- `allocate` returns an `Answer` with status "fault" and a sentence
saying what went wrong; it never raises. After a fault the persistent process is killed and started
again on the next request, so one bad vector cannot desynchronise the rest. Reads go through
`selectors` with a deadline, so a hang costs one timeout, not the run. Commands run without a shell.
"""

from __future__ import annotations

import json
import os
import shutil
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from rollsplit.conformance import processes
from rollsplit.reference.serve import FEATURES, PROTOCOL  # the server side of the same protocol: one source of truth

MAX_ANSWER_BYTES = 8 * 1024 * 1024   # one answer larger than this is a fault (huge output), not a result
STDERR_TAIL_BYTES = 2000
MAX_FAILED_RESTARTS = 3              # after this many failed restarts in a row, stop trying
EXIT_GRACE = 0.25                    # one-shot: once the leader has exited, seconds to wait for the rest of its output


@dataclass
class Answer:
    """What a calculator answered to one request."""
    status: str                # "result" | "error" | "fault"
    payload: dict | None       # the Result dict, the error dict ({"code", "message", "field"}), or None
    detail: str = ""           # for faults: what went wrong, with context
    stderr_tail: str = ""      # for faults: the end of what the adapter wrote on stderr
    seconds: float = 0.0
    kind: str = ""             # for faults: crash | hang | garbage | oversize | bad_shape | wrong_seq | start

    def wire(self) -> dict | None:
        """The answer as the contract's JSON (a Result, or {"error": {...}}); None for a fault."""
        if self.status == "result":
            return self.payload
        if self.status == "error":
            return {"error": self.payload}
        return None


class AdapterStartError(Exception):
    """The adapter could not be started or its handshake is not valid: the run cannot begin."""


class _Fault(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _snippet(data: bytes | bytearray | str, limit: int = 200) -> str:
    text = bytes(data).decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _environment(env: dict[str, str] | None) -> dict[str, str] | None:
    return None if env is None else {**os.environ, **env}


def _exit_text(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def lone_surrogate(value: Any) -> str | None:
    """Where `value` (parsed JSON) holds a lone surrogate (the JSON text "\\udc00" parses to one, but it is not
    Unicode and cannot be written as UTF-8): a sentence naming it and its place, or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str):
            texts = [(v, path)]
        elif isinstance(v, dict):
            texts = [(k, f"a key of {path or 'the top level'}") for k in v]
            stack += [(x, f"{path}.{k}" if path else str(k)) for k, x in v.items()]
        elif isinstance(v, list):
            texts = []
            stack += [(x, f"{path}[{i}]") for i, x in enumerate(v)]
        else:
            texts = []
        for text, where in texts:
            if text.isascii():
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                where = (where or "the top level").encode("utf-8", "backslashreplace").decode("utf-8")
                return (f"a lone surrogate \\u{ord(text[e.start]):04x} in {where}: "
                        "JSON text must be Unicode (RFC 8259 §8.2)")
    return None


def classify(message: Any, seq: int | None, null_seq_ok: bool = False) -> tuple[str, dict]:
    """('result'|'error', payload) for a well-formed answer; raises _Fault on a wrong shape or seq.

    `seq` None means a one-shot answer (no envelope): a Result object or {"error": {...}}.
    `null_seq_ok`: the line sent was not valid JSON on purpose, so the server may not know its seq.
    """
    if not isinstance(message, dict):
        raise _Fault("bad_shape", f"the answer is JSON but not an object: {_snippet(json.dumps(message))}")
    surrogate = lone_surrogate(message)
    if surrogate:
        raise _Fault("garbage", f"the answer holds {surrogate}")
    if seq is not None:
        if "seq" not in message:
            raise _Fault("bad_shape", f"the answer has no seq (expected {seq}): {_snippet(json.dumps(message))}")
        got = message["seq"]
        if (got != seq or isinstance(got, bool)) and not (null_seq_ok and got is None):
            stale = isinstance(got, int) and not isinstance(got, bool) and got < seq
            raise _Fault("wrong_seq", f"the answer has seq {json.dumps(got)}, expected {seq}"
                         + ("; it answers an earlier request (did the adapter write two lines for one?)"
                            if stale else ""))
        keys = [k for k in ("result", "error") if k in message]
        if len(keys) != 1:
            raise _Fault("bad_shape", "the answer must hold exactly one of 'result' and 'error', "
                         f"it holds {keys or 'neither'}")
        payload = message[keys[0]]
        kind = keys[0]
    elif "error" in message:
        kind, payload = "error", message["error"]
    else:
        kind, payload = "result", message
    if not isinstance(payload, dict):
        raise _Fault("bad_shape", f"'{kind}' must be an object, got {_snippet(json.dumps(payload))}")
    if kind == "error" and not isinstance(payload.get("code"), str):
        raise _Fault("bad_shape", f"the error has no string 'code': {_snippet(json.dumps(payload))}")
    return kind, payload


def validate_handshake(reply: Any) -> dict:
    """The start reply, checked against the adapter message schema; raises AdapterStartError."""
    problems = []
    if not isinstance(reply, dict):
        raise AdapterStartError(f"the start reply must be a JSON object, got {_snippet(json.dumps(reply))}")
    surrogate = lone_surrogate(reply)
    if surrogate:
        problems.append(f"it holds {surrogate}")
    if reply.get("protocol") != PROTOCOL:
        problems.append(f"protocol must be {PROTOCOL}, got {json.dumps(reply.get('protocol'))}")
    impl = reply.get("implementation")
    if not isinstance(impl, dict) or not all(isinstance(impl.get(k), str) for k in ("name", "version", "language")):
        problems.append("implementation must be an object with string name, version and language")
    features = reply.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        problems.append("features must be an array of strings")
    elif "core" not in features:
        problems.append("features must include 'core'")
    if problems:
        raise AdapterStartError("the start reply is not valid: " + "; ".join(problems))
    return reply


class _StderrTail:
    """Drains a pipe on a thread (so the adapter never blocks on a full stderr) and keeps its end."""

    def __init__(self, pipe) -> None:
        self._pipe = pipe
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fd = self._pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._buf += chunk
                if len(self._buf) > 4 * STDERR_TAIL_BYTES:
                    del self._buf[:-STDERR_TAIL_BYTES]

    def tail(self, wait: float = 0.0) -> str:
        if wait:
            self._thread.join(wait)
        with self._lock:
            return bytes(self._buf[-STDERR_TAIL_BYTES:]).decode("utf-8", "replace")


class PersistentAdapter:
    """One long-lived adapter process speaking JSON lines; restarted after any fault."""

    def __init__(self, command: list[str], timeout: float = 10.0, env: dict[str, str] | None = None,
                 max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        if not command:
            raise ValueError("the adapter command is empty")
        self.command = list(command)
        self.timeout = timeout
        self.env = env
        self.max_answer_bytes = max_answer_bytes
        self.handshake: dict | None = None
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._stderr: _StderrTail | None = None
        self._sel: selectors.BaseSelector | None = None
        self._buf = bytearray()
        self._seq = 0
        self._failed_restarts = 0
        self._last_start_error = ""
        self._busy = False   # a request was sent and its answer not read (the run was interrupted meanwhile)

    # -- process management --------------------------------------------------------------------
    def _spawn(self) -> None:
        try:
            self._proc = processes.spawn(self.command, _environment(self.env))
        except OSError as e:
            raise AdapterStartError(f"cannot run {self.command[0]!r}: {e.strerror or e}") from None
        os.set_blocking(self._proc.stdin.fileno(), False)
        self._stderr = _StderrTail(self._proc.stderr)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout, selectors.EVENT_READ)
        self._buf = bytearray()

    def _stop_process(self) -> None:
        if self._proc is None:
            return
        processes.end(self._proc)   # the leader, its group, and whatever it started, however it left the group
        if self._sel is not None:
            self._sel.close()
        self._proc = None
        self._sel = None

    def start(self) -> dict:
        """Start the adapter and return its validated handshake; raises AdapterStartError."""
        if self._proc is not None and self.handshake is not None:
            return self.handshake
        self._spawn()
        try:
            self._send({"cmd": "start", "protocol": PROTOCOL}, time.monotonic() + self.timeout)
            line = self._read_line(time.monotonic() + self.timeout)
            try:
                reply = json.loads(line)
            except ValueError:
                raise _Fault("garbage", f"the start reply is not JSON: {_snippet(line)}") from None
            self.handshake = validate_handshake(reply)
        except (_Fault, AdapterStartError) as e:
            tail = self._stderr.tail(0.2) if self._stderr else ""
            self._stop_process()
            detail = e.detail if isinstance(e, _Fault) else str(e)
            # the stderr lines indented, so none can pass for a line of the runner's
            shown = "\n".join("  " + t for t in tail.strip("\n").split("\n")) if tail.strip() else ""
            raise AdapterStartError(f"the adapter {' '.join(self.command)!r} did not start: {detail}"
                                    + (f"\nits stderr ends with:\n{shown}" if shown else "")) from None
        return self.handshake

    def _restart(self) -> None:
        self._stop_process()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        """Send stop, give the adapter a moment to exit cleanly, then make sure it is gone. An adapter still busy
        with a request (the run was interrupted) would read stop only after answering: it is stopped at once."""
        if self._proc is None:
            return
        if self._busy:
            self._stop_process()
            return
        try:
            self._send({"cmd": "stop"}, time.monotonic() + 1.0)
            self._proc.stdin.close()
            processes.wait_exit(self._proc, 2)   # not reaped: its process group is killed next
        except (_Fault, OSError):
            pass
        self._stop_process()

    def __enter__(self) -> "PersistentAdapter":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the wire ------------------------------------------------------------------------------
    def _send(self, message: dict, deadline: float) -> None:
        self._send_raw((json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8"),
                       deadline)

    def _send_raw(self, data: bytes, deadline: float) -> None:
        try:
            fd = self._proc.stdin.fileno()
        except (ValueError, AttributeError):   # closed meanwhile (another thread stopped the adapter after a hang)
            raise _Fault("crash", "the adapter's input is closed (the adapter was stopped)") from None
        view = memoryview(data)
        while view:
            try:
                n = os.write(fd, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                raise _Fault("crash", "the adapter closed its input (it has exited or stopped reading)") from None
            except (ValueError, OSError) as e:   # the descriptor was closed by another thread between two writes
                raise _Fault("crash", f"the adapter's input is closed ({e})") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Fault("hang", f"the adapter did not read its input within {self.timeout:g} s")
            try:
                with selectors.DefaultSelector() as sel:
                    sel.register(fd, selectors.EVENT_WRITE)
                    sel.select(remaining)
            except (ValueError, OSError) as e:
                raise _Fault("crash", f"the adapter's input is closed ({e})") from None

    def _read_line(self, deadline: float) -> bytes:
        try:
            fd = self._proc.stdout.fileno()
        except (ValueError, AttributeError):   # closed meanwhile (another thread stopped the adapter after a hang)
            raise _Fault("crash", "the adapter's output is closed (the adapter was stopped)") from None
        scanned = 0
        while True:
            i = self._buf.find(b"\n", scanned)
            if i >= 0:
                if i > self.max_answer_bytes:
                    raise _Fault("oversize", f"the answer is {i} bytes, more than the limit of "
                                 f"{self.max_answer_bytes} bytes")
                line = bytes(self._buf[:i])
                del self._buf[:i + 1]
                return line
            scanned = len(self._buf)
            if scanned > self.max_answer_bytes:
                raise _Fault("oversize", f"the answer exceeds {self.max_answer_bytes} bytes without ending its line")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                got = f"; it had written {_snippet(self._buf)} without ending the line" if self._buf else ""
                raise _Fault("hang", f"no answer within the timeout of {self.timeout:g} s{got}")
            try:
                if not self._sel.select(remaining):
                    continue
                chunk = os.read(fd, 1 << 20)
            except (ValueError, OSError) as e:   # closed by another thread that stopped the adapter
                raise _Fault("crash", f"the adapter's output is closed ({e})") from None
            if not chunk:
                code = processes.wait_exit(self._proc, 1)
                partial = f" after a partial line {_snippet(self._buf)}" if self._buf else ""
                raise _Fault("crash", f"the adapter closed its output{partial}; it {_exit_text(code)}")
            self._buf += chunk

    def allocate(self, request: Any) -> Answer:
        """Send one request; the answer, or a fault saying what went wrong. Never raises."""
        return self._allocate(request, None)

    def allocate_text(self, request_text: str) -> Answer:
        """Send raw request text (for vectors about malformed JSON) in place of the request object.

        The line is then not valid JSON itself, so an answer with seq null is accepted too.
        """
        if "\n" in request_text or "\r" in request_text:
            return Answer("fault", None, "a raw request for the persistent protocol cannot hold a line break",
                          kind="bad_shape")
        return self._allocate(None, request_text)

    def _allocate(self, request: Any, request_text: str | None) -> Answer:
        began = time.monotonic()
        if self._proc is None or self.handshake is None:
            if self._failed_restarts >= MAX_FAILED_RESTARTS:
                return Answer("fault", None, f"the adapter could not be restarted: {self._last_start_error}",
                              seconds=0.0, kind="start")
            try:
                if self.handshake is None:
                    self.start()
                else:
                    self._restart()
                self._failed_restarts = 0
            except AdapterStartError as e:
                self._failed_restarts += 1
                self._last_start_error = str(e)
                return Answer("fault", None, f"the adapter could not be (re)started: {e}",
                              seconds=time.monotonic() - began, kind="start")
        self._seq += 1
        seq = self._seq
        deadline = time.monotonic() + self.timeout
        try:
            self._busy = True
            try:
                if request_text is None:
                    self._send({"cmd": "allocate", "seq": seq, "request": request}, deadline)
                else:
                    self._send_raw(f'{{"cmd":"allocate","seq":{seq},"request":{request_text}}}\n'.encode(),
                                   deadline)
            except (TypeError, ValueError) as e:  # the caller's request is not JSON-serialisable
                self._busy = False
                return Answer("fault", None, f"the request cannot be written as JSON: {e}", kind="bad_shape",
                              seconds=time.monotonic() - began)
            line = self._read_line(deadline)
            self._busy = False
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                raise _Fault("garbage", f"the answer to seq {seq} is not JSON: {_snippet(line)}") from None
            kind, payload = classify(message, seq, null_seq_ok=request_text is not None)
            return Answer(kind, payload, seconds=time.monotonic() - began)
        except _Fault as f:
            self._busy = False
            tail = self._stderr.tail(0.5 if f.kind == "crash" else 0.05) if self._stderr else ""
            self._stop_process()
            return Answer("fault", None, f"{f.kind}: {f.detail} (seq {seq})", stderr_tail=tail,
                          seconds=time.monotonic() - began, kind=f.kind)


class OneShotAdapter:
    """Spawns the command once per request: request JSON on stdin, one Result or Error JSON on stdout."""

    def __init__(self, command: list[str], timeout: float = 10.0, env: dict[str, str] | None = None,
                 features: list[str] | None = None, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        if not command:
            raise ValueError("the adapter command is empty")
        self.command = list(command)
        self.timeout = timeout
        self.env = env
        self.features = list(features) if features is not None else list(FEATURES)
        self.max_answer_bytes = max_answer_bytes
        self.handshake: dict | None = None

    def start(self) -> dict:
        """A synthetic handshake: one-shot adapters declare no features, so the caller says which.
        A command that cannot be started at all stops the run here, as a persistent adapter's would."""
        program = self.command[0]
        # looked up on the PATH the command will run with (the adapter's env may change it)
        path = os.pathsep.join(os.get_exec_path(_environment(self.env)))
        found = shutil.which(program, path=path) if os.sep not in program else \
            (program if os.path.exists(program) else None)
        if found is None:
            raise AdapterStartError(f"cannot run {program!r}: no such program")
        if os.path.isdir(found) or not os.access(found, os.X_OK):
            raise AdapterStartError(f"cannot run {program!r}: it is not an executable file")
        self.handshake = {"protocol": PROTOCOL, "features": self.features,
                          "implementation": {"name": os.path.basename(self.command[0]), "version": "unknown",
                                             "language": "unknown"}}
        return self.handshake

    def close(self) -> None:
        pass

    def __enter__(self) -> "OneShotAdapter":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def allocate(self, request: Any) -> Answer:
        try:
            data = json.dumps(request, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as e:
            return Answer("fault", None, f"the request cannot be written as JSON: {e}", kind="bad_shape")
        return self._allocate(data)

    def allocate_text(self, request_text: str) -> Answer:
        """Write raw request text (for vectors about malformed JSON) on the adapter's stdin."""
        return self._allocate(request_text.encode("utf-8"))

    def _allocate(self, data: bytes) -> Answer:
        began = time.monotonic()
        err = b""
        try:
            out, err, code = self._run(data)
            text = out.strip()
            if not text:
                raise _Fault("crash", f"the adapter wrote nothing on stdout; it {_exit_text(code)}")
            try:
                message = json.loads(text)
            except (ValueError, RecursionError):
                raise _Fault("garbage", f"the output is not one JSON value: {_snippet(text)}; "
                             f"the adapter {_exit_text(code)}") from None
            kind, payload = classify(message, None)
            return Answer(kind, payload, seconds=time.monotonic() - began)
        except _Fault as f:
            tail = getattr(f, "stderr", None) or err[-STDERR_TAIL_BYTES:].decode("utf-8", "replace")
            return Answer("fault", None, f"{f.kind}: {f.detail}", stderr_tail=tail,
                          seconds=time.monotonic() - began, kind=f.kind)

    def _run(self, data: bytes) -> tuple[bytes, bytes, int | None]:
        """Run the command once. Its answer is complete when it has closed its output and exited, or once the
        leader has exited: a child it left behind may hold the pipe open, and what the leader wrote is judged
        (after `EXIT_GRACE` at most for more output). Whatever it started is killed before this returns."""
        try:
            proc = processes.spawn(self.command, _environment(self.env))
        except OSError as e:
            raise _Fault("start", f"cannot run {self.command[0]!r}: {e.strerror or e}") from None
        deadline = time.monotonic() + self.timeout
        out, err = bytearray(), bytearray()
        view = memoryview(data)
        sel = selectors.DefaultSelector()
        exited_fd = processes.exit_fd(proc)   # readable once the leader exits (None: polled instead)
        code: int | None = None
        exited_at = 0.0
        drained = False
        fault: _Fault | None = None
        try:
            os.set_blocking(proc.stdin.fileno(), False)
            if view:
                sel.register(proc.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
            sel.register(proc.stdout, selectors.EVENT_READ)
            sel.register(proc.stderr, selectors.EVENT_READ)
            if exited_fd is not None:
                sel.register(exited_fd, selectors.EVENT_READ)
            reading = 2
            while reading:
                if code is None:
                    code = processes.exit_status(proc)
                    if code is not None:
                        exited_at = time.monotonic()
                        if exited_fd is not None:
                            sel.unregister(exited_fd)
                now = time.monotonic()
                if code is None:
                    wait = deadline - now
                    if wait <= 0:
                        fault = _Fault("hang", f"no complete answer within the timeout of {self.timeout:g} s"
                                       + (f"; it had written {_snippet(out)}" if out else ""))
                        break
                    if exited_fd is None:
                        wait = min(wait, 0.02)
                else:   # the leader has exited: read what is in the pipe, then stop even if a child holds it
                    left = min(deadline, exited_at + EXIT_GRACE) - now
                    if drained and (out.strip() or left <= 0):
                        break
                    wait = max(0.0, left) if drained else 0.0
                events = sel.select(wait)
                if code is not None:
                    drained = not events
                for key, _ in events:
                    f = key.fileobj
                    if f is exited_fd:
                        continue
                    if f is proc.stdin:
                        try:
                            n = os.write(f.fileno(), view)
                            view = view[n:]
                        except BlockingIOError:
                            continue
                        except (BrokenPipeError, ConnectionResetError):
                            view = view[:0]
                        if not view:
                            sel.unregister(f)
                            f.close()
                        continue
                    chunk = os.read(f.fileno(), 1 << 20)
                    if not chunk:
                        sel.unregister(f)
                        reading -= 1
                        continue
                    if f is proc.stdout:
                        out += chunk
                        if len(out) > self.max_answer_bytes:
                            fault = _Fault("oversize", f"the answer exceeds {self.max_answer_bytes} bytes")
                            break
                    else:
                        err += chunk
                        if len(err) > 4 * STDERR_TAIL_BYTES:
                            del err[:-STDERR_TAIL_BYTES]
                if fault:
                    break
            if fault is None and code is None:
                code = processes.wait_exit(proc, max(0.0, deadline - time.monotonic()))
                if code is None:
                    fault = _Fault("hang", f"the adapter closed its output but did not exit within "
                                   f"{self.timeout:g} s")
        finally:
            sel.close()
            if exited_fd is not None:
                os.close(exited_fd)
            processes.end(proc)   # its process group and whatever it started, however it left the group
        if fault is not None:
            fault.stderr = bytes(err[-STDERR_TAIL_BYTES:]).decode("utf-8", "replace")
            raise fault
        return bytes(out), bytes(err), code


def open_adapter(command: list[str], oneshot: bool = False, timeout: float = 10.0,
                 env: dict[str, str] | None = None, features: list[str] | None = None):
    """The adapter for `command`: persistent JSON lines by default, one process per request with `oneshot`."""
    if oneshot:
        return OneShotAdapter(command, timeout=timeout, env=env, features=features)
    return PersistentAdapter(command, timeout=timeout, env=env)
