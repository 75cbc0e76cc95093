"""Records as a vendor's batch system would keep them, for trying `rollsplit conformance check`:
`python -m rollsplit.conformance.testing.make_records NAME [--count N] [--seed S] [--out FILE]` writes N lines
`{"id": ..., "request": ..., "answer": ...}` on stdout, the answers of the calculator NAME (`reference`, or a mutant
of `reference.mutants.MUTANTS` such as `truncation`) to the requests of the bundled suite's vectors, repeated with
their amounts scaled when N is larger than the suite, on stdout or into FILE. The same arguments give the same
lines.
"""

from __future__ import annotations

import json
import random
import sys


def _scaled(request: dict, factor: int) -> dict:
    """The request with every amount of money multiplied by `factor` (a different request of the same shape)."""
    money = {"balance", "basis", "pre1987_basis", "rmd", "amount", "loan_offset", "other_eligible_this_year"}

    def walk(value, key=None):
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if key in money and isinstance(value, int) and not isinstance(value, bool):
            return value * factor
        return value
    return walk(request)


def main(argv: list[str]) -> int:
    import argparse
    from rollsplit.conformance import suite
    from rollsplit.reference import calculate
    from rollsplit.reference.mutants import MUTANTS, calculate_with
    p = argparse.ArgumentParser(prog="make_records", description=__doc__.split("\n\n")[0])
    p.add_argument("name", help="reference, or one of: " + ", ".join(MUTANTS))
    p.add_argument("--count", type=int, default=1000, help="how many records (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="the order of the requests (default 0)")
    p.add_argument("--out", metavar="FILE", help="write the records to FILE (default: standard output)")
    args = p.parse_args(argv)
    if args.name != "reference" and args.name not in MUTANTS:
        p.error(f"unknown calculator {args.name!r}")
    requests = [v.request for v in suite.load() if v.request is not None]
    rng = random.Random(args.seed)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    for n in range(args.count):
        base = requests[n % len(requests)] if n < len(requests) else rng.choice(requests)
        request = base if n < len(requests) else _scaled(base, rng.choice((2, 3, 7, 10)))
        answer = calculate(request) if args.name == "reference" else calculate_with(args.name, request)
        out.write(json.dumps({"id": f"R{n + 1:06d}", "request": request, "answer": answer},
                             separators=(",", ":")) + "\n")
    if args.out:
        out.close()
        print(f"wrote {args.count} records of {args.name} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
