"""The persistent JSON-lines adapter of the reference (wire contract v1, `rollsplit serve`).

One message per line in, one reply per line out, flushed. Every line gets an answer except `stop`;
no line, however malformed (not UTF-8, not JSON, huge, not an object), stops the server. The request
inside an `allocate` message goes through the same `reference.calculate` as every other entry point.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from rollsplit.reference import calculate
from rollsplit import __version__
from rollsplit.spec import features as spec_features
from rollsplit.spec.errors import RequestError
from rollsplit.spec.parse import LONG_INT, _no_duplicate_keys, _reject_constant, parse_json

PROTOCOL = 1
FEATURES = tuple(spec_features.FEATURES)   # every feature of the contract
MAX_LINE = 16 * 1024 * 1024  # bytes; a longer line is answered with an error and skipped, never held whole


def handshake() -> dict:
    return {"protocol": PROTOCOL,
            "implementation": {"name": "rollsplit", "version": __version__, "language": "python"},
            "features": list(FEATURES)}


def _error(seq: int | None, code: str, message: str, field: str | None = None) -> dict:
    return {"seq": seq, "error": {"code": code, "message": message, "field": field}}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _salvage_seq(line: bytes) -> int | None:
    """The seq of a line the strict parser rejected (duplicate keys, NaN, bad UTF-8 inside), if it has one."""
    try:   # a byte order mark before the message makes it invalid JSON, but must not cost the answer its seq
        obj = json.loads(line.decode("utf-8", "replace").removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return None
    seq = obj.get("seq") if isinstance(obj, dict) else None
    return seq if _is_int(seq) else None


def reply(line: bytes) -> dict | None:
    """The answer to one input line (without its newline); None for `stop`."""
    try:
        msg = decode(line)
    except RequestError as e:
        return _error(_salvage_seq(line), e.code, e.message)
    if not isinstance(msg, dict):
        return _error(None, "invalid_request", "A message must be a JSON object with a \"cmd\" field.")
    seq = msg.get("seq")
    if _is_int(seq) and abs(seq) >= LONG_INT:
        # an integer of 41 digits or more may have been read as a stand-in of its sign (spec.parse.LONG_INT:
        # when a line holds one past Python's digit limit), so such a seq is never echoed
        return _error(None, "invalid_request", f"The seq has more than {len(str(LONG_INT)) - 1} digits; use a "
                      "smaller integer (the answer echoes it exactly).", "seq")
    seq = seq if _is_int(seq) else None
    cmd = msg.get("cmd")
    if cmd == "stop":
        return None
    if cmd == "start":
        if not _is_int(msg.get("protocol")) or msg["protocol"] != PROTOCOL:
            return _error(seq, "invalid_request", f"This server speaks protocol {PROTOCOL}; the start message must "
                          f"say \"protocol\": {PROTOCOL}.", "protocol")
        return handshake()
    if cmd == "allocate":
        if "seq" not in msg or seq is None:
            return _error(None, "invalid_request", "An allocate message needs an integer \"seq\".", "seq")
        if "request" not in msg:
            return _error(seq, "invalid_request", "An allocate message needs a \"request\" object.", "request")
        answer = calculate(msg["request"])
        return {"seq": seq, **answer} if "error" in answer else {"seq": seq, "result": answer}
    if "cmd" not in msg:
        return _error(seq, "invalid_request", "The message has no \"cmd\" field; expected start, allocate or stop.",
                      "cmd")
    shown = json.dumps(cmd)[:80] if isinstance(cmd, str) else "not a string"
    return _error(seq, "invalid_request", f"Unknown command {shown}; expected start, allocate or stop.", "cmd")


# Reading and writing a line, built once (json.loads and json.dumps with options build a decoder or an encoder per
# call). The reading is the parser's own strict reading (`spec.parse`: no NaN, no duplicate key) on the text of a
# well-formed UTF-8 line; anything else, and every fault, is read again by `parse_json` itself, so the error and its
# message are the parser's, exactly.
_DECODE = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys).decode
# ensure_ascii keeps the output valid UTF-8 even when an echoed id holds a lone surrogate.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def decode(line: bytes):
    """One line's JSON value, read strictly (`spec.parse.parse_json`); raises its RequestError."""
    try:
        return _DECODE(line.decode("utf-8"))
    except (ValueError, RecursionError):   # not UTF-8, not JSON, a BOM, an integer too long: the parser says what
        return parse_json(line)


def encode(obj: dict) -> bytes:
    """One answer as a line of ASCII JSON text (with its newline)."""
    return _ENCODE(obj).encode("ascii") + b"\n"


def _write(output: BinaryIO, obj: dict) -> None:
    output.write(encode(obj))
    output.flush()


def serve(input: BinaryIO, output: BinaryIO, max_line: int = MAX_LINE) -> int:
    """Answer messages until `stop` or end of input; returns the exit code (0)."""
    while True:
        line = input.readline(max_line + 1)
        if not line:
            return 0
        if len(line) > max_line and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the overlong line in bounded chunks
                line = input.readline(max_line + 1)
            _write(output, _error(None, "invalid_json", f"The line is longer than {max_line} bytes, the most this "
                                  "server reads as one message."))
            continue
        answer = reply(line.rstrip(b"\r\n"))
        if answer is None:
            return 0
        _write(output, answer)
