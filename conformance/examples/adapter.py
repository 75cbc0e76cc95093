"""A conformance adapter in about 20 lines: the persistent protocol around any calculator function.

Run the suite against it:  rollsplit conformance run -- python conformance/examples/adapter.py
Put your own calculator in place of `calculate`: a request dict in, a Result dict or {"error": {...}} out.
"""
import json
import sys


def strict_loads(line):
    """JSON with no duplicate keys and no NaN/Infinity (the contract calls those invalid_json)."""
    def pairs(kv):
        if len({k for k, _ in kv}) != len(kv):
            raise ValueError("duplicate key")
        return dict(kv)
    return json.loads(line, object_pairs_hook=pairs, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def serve(calculate, name="rollsplit-reference", version="1", features=("core", "sixty_day", "designated_roth",
          "pre1987_basis", "rmd", "regime_2009", "form_1099r", "in_plan_roth",
          "loan_offset", "withholding_de_minimis", "recipients", "form_1099r_box7")):
    for line in sys.stdin:
        try:
            msg = strict_loads(line)
        except ValueError as e:   # not JSON: answer invalid_json, keep serving
            print(json.dumps({"seq": None, "error": {"code": "invalid_json", "message": str(e), "field": None}}),
                  flush=True)
            continue
        if msg["cmd"] == "start":
            reply = {"protocol": 1, "implementation": {"name": name, "version": version, "language": "python"},
                     "features": list(features)}
        elif msg["cmd"] == "allocate":
            answer = calculate(msg["request"])   # a Result dict, or {"error": {"code", "message", "field"}}
            reply = {"seq": msg["seq"], **answer} if "error" in answer else {"seq": msg["seq"], "result": answer}
        else:   # "stop"
            return
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    from rollsplit.reference import calculate   # rollsplit's reference; any function of the same shape will do
    serve(calculate)
