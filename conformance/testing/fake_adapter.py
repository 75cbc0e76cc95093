"""An adapter that misbehaves on purpose, to test that the runner survives every fault.

It answers like the reference, except when the request holds a field "fault" naming what to do:
  crash        exit with code 3 after writing to stderr, before answering
  hang         never answer (sleep)
  garbage      write a line that is not JSON
  partial      write half a JSON line, then hang
  partial_exit write half a JSON line, then exit
  wrong_seq    answer with seq + 100
  huge         write an answer of 20 MB
  array        answer with a JSON array
  both         answer with both "result" and "error"
  no_seq       answer without seq
  bad_error    answer with an error that has no code
  stderr_flood write 1 MB to stderr, then answer normally
  extra_line   write a stray line before the answer
Options: --oneshot (read one request on stdin, answer on stdout), --handshake=bad|exit|hang|garbage,
--features=a,b (features to declare), --echo (answer every request with a fixed result: the runner's
overhead benchmark).
"""

from __future__ import annotations

import json
import sys
import time

ECHO = {"regime": "notice_2014_54"}


def answer(request):
    if isinstance(request, dict) and "fault" in request:
        return None
    from rollsplit.reference import calculate
    return calculate(request)


def misbehave(fault: str, seq, out) -> bool:
    """Act out `fault`; True when the normal answer should still follow."""
    if fault == "crash":
        sys.stderr.write("fake adapter: crashing on purpose\n")
        sys.stderr.flush()
        sys.exit(3)
    if fault == "hang":
        time.sleep(3600)
    if fault == "garbage":
        out.write("this is not json\n")
    elif fault == "partial":
        out.write('{"seq": ')
        out.flush()
        time.sleep(3600)
    elif fault == "partial_exit":
        out.write('{"seq": ')
        out.flush()
        sys.exit(0)
    elif fault == "wrong_seq":
        out.write(json.dumps({"seq": (seq or 0) + 100, "result": ECHO}) + "\n")
    elif fault == "huge":
        out.write('{"seq": %s, "result": {"pad": "%s"}}\n' % (json.dumps(seq), "x" * 20_000_000))
    elif fault == "array":
        out.write("[1, 2, 3]\n")
    elif fault == "both":
        out.write(json.dumps({"seq": seq, "result": ECHO, "error": {"code": "invalid_json"}}) + "\n")
    elif fault == "no_seq":
        out.write(json.dumps({"result": ECHO}) + "\n")
    elif fault == "bad_error":
        out.write(json.dumps({"seq": seq, "error": {"message": "no code"}}) + "\n")
    elif fault == "stderr_flood":
        sys.stderr.write("e" * 1_000_000 + "\nflood done\n")
        sys.stderr.flush()
        return True
    elif fault == "extra_line":
        out.write(json.dumps({"seq": seq, "result": ECHO}) + "\n")
        return True
    out.flush()
    return False


def main(argv: list[str]) -> int:
    opts = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "1") for a in argv if a.startswith("--"))
    echo = "echo" in opts
    if "oneshot" in opts:
        request = json.loads(sys.stdin.read())
        if isinstance(request, dict) and "fault" in request:
            if not misbehave(request["fault"], None, sys.stdout):
                return 0
            request = {k: v for k, v in request.items() if k != "fault"}
        sys.stdout.write(json.dumps(ECHO if echo else answer(request)) + "\n")
        return 0
    out = sys.stdout
    features = opts.get("features", "core,sixty_day,designated_roth,pre1987_basis,rmd,regime_2009,form_1099r")
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_json
    for line in sys.stdin:
        try:
            msg = parse_json(line)
        except RequestError as e:
            out.write(json.dumps({"seq": None, **e.to_wire()}) + "\n")
            out.flush()
            continue
        if msg.get("cmd") == "start":
            mode = opts.get("handshake")
            if mode == "exit":
                sys.stderr.write("fake adapter: refusing to start\n")
                return 4
            if mode == "hang":
                time.sleep(3600)
            if mode == "garbage":
                out.write("hello\n")
            elif mode == "bad":
                out.write(json.dumps({"protocol": 2, "features": "core"}) + "\n")
            else:
                out.write(json.dumps({"protocol": 1, "features": features.split(","),
                                      "implementation": {"name": "fake", "version": "0", "language": "python"}})
                          + "\n")
            out.flush()
            continue
        if msg.get("cmd") == "stop":
            return 0
        seq, request = msg.get("seq"), msg.get("request")
        if isinstance(request, dict) and "fault" in request:
            if not misbehave(request["fault"], seq, out):
                continue
            request = {k: v for k, v in request.items() if k != "fault"}
        if echo:
            reply = {"seq": seq, "result": ECHO}
        else:
            a = answer(request)
            reply = {"seq": seq, **a} if "error" in a else {"seq": seq, "result": a}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
