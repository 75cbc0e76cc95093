"""A calculator with one classic mistake, served as an adapter: `python -m rollsplit.conformance.testing.mutant_adapter NAME`.

NAME is a key of `reference.mutants.MUTANTS` (old_rule_per_destination, aftertax_first, floats, ...).
Persistent protocol by default (the example adapter's loop, so one implementation serves both);
`--oneshot` reads one request on stdin and writes one answer. Used to show the suite catches each mistake.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    from rollsplit.reference.mutants import MUTANTS, calculate_with
    names = [a for a in argv if not a.startswith("--")]
    if len(names) != 1 or names[0] not in MUTANTS:
        print(f"usage: mutant_adapter NAME [--oneshot]; NAME is one of {', '.join(MUTANTS)}", file=sys.stderr)
        return 2
    name = names[0]
    if "--oneshot" in argv:
        print(json.dumps(calculate_with(name, sys.stdin.buffer.read())))
        return 0
    from rollsplit.conformance.examples.adapter import serve
    serve(lambda request: calculate_with(name, request), name=f"mutant:{name}", version="0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
